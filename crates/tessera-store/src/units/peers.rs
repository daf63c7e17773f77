//! Units of work on peers (issue #17, item 2): registering one (its documents fetched and checked
//! by the caller), reading, forgetting, recording contacts, and the question every message from a
//! peer will ask: is this key trusted for this instance?

pub use crate::ops::peers::{NewPeer, Peer};

use tessera_core::id::PeerId;
use tessera_core::keys::Jwk;

use crate::ops::peers as op;
use crate::paging::{Page, PageRequest};

crate::work::units! { op;
    /// Registers a peer (contacted now); 422 `peer_exists` when its instance is registered.
    Write create_peer(new: NewPeer) -> Peer = create(new);
    /// A peer by id.
    Read get_peer(id: PeerId) -> Peer = get(&id);
    /// The peers, newest first.
    Read list_peers(page: PageRequest) -> Page<Peer> = list(&page);
    /// Forgets a peer.
    Write delete_peer(id: PeerId) -> () = delete(&id);
    /// Records a successful contact with the JWKS fetched (already accepted under the pin).
    Write record_peer_contact(id: PeerId, jwks: Vec<Jwk>) -> Peer = record_contact(&id, jwks);
    /// Records a failed contact; the accepted JWKS stays.
    Write record_peer_failure(id: PeerId, error: String) -> Peer = record_failure(&id, error);
    /// The key `kid` if trusted for the active peer with this instance id, else `None`.
    /// The active peer registered with this instance id, if any.
    Read peer_by_instance(instance_id: String) -> Option<Peer> = active_by_instance(&instance_id);
    Read trusted_peer_key(instance_id: String, kid: String) -> Option<Jwk> = trusted_key(&instance_id, &kid);
}
