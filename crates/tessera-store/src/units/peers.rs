//! Units of work on peers (issue #17, item 2): registering one (its documents fetched and checked
//! by the caller), reading, forgetting, recording contacts, and the question every message from a
//! peer will ask: is this key trusted for this instance?

pub use crate::ops::peers::{NewPeer, Peer, PeerHealth};

use tessera_core::id::{OrganizationId, PeerId};
use tessera_core::keys::Jwk;

use crate::ops::federation::record_peer_change;
use crate::ops::peer_messages::home_of;
use crate::ops::peers as op;
use crate::paging::{Page, PageRequest};

crate::work::units! { op;
    /// A peer by id.
    Read get_peer(id: PeerId) -> Peer = get(&id);
    /// The peers, newest first.
    Read list_peers(page: PageRequest) -> Page<Peer> = list(&page);
    /// Records a successful contact with the JWKS fetched (already accepted under the pin).
    Write record_peer_contact(id: PeerId, jwks: Vec<Jwk>) -> Peer = record_contact(&id, jwks);
    /// Records a failed contact; the accepted JWKS stays.
    Write record_peer_failure(id: PeerId, error: String) -> Peer = record_failure(&id, error);
    /// The active peer registered with this instance id, if any.
    Read peer_by_instance(instance_id: String) -> Option<Peer> = active_by_instance(&instance_id);
    /// The key `kid` if trusted for the active peer with this instance id, else `None`.
    Read trusted_peer_key(instance_id: String, kid: String) -> Option<Jwk> = trusted_key(&instance_id, &kid);
    /// Every registered peer's health (for the metrics).
    Read peer_health() -> Vec<PeerHealth> = health();
}

/// Registers a peer (contacted now) and records `peer.registered`, in one unit; 422
/// `peer_exists` when its instance is registered.
pub fn create_peer(new: NewPeer) -> crate::Write<Peer> {
    crate::Write::new(move |tx| {
        Box::pin(async move {
            let peer = op::create(tx, new).await?;
            record_peer_change(tx, "peer.registered", &peer).await?;
            Ok(peer)
        })
    })
}

/// Forgets a peer and records `peer.removed`, in one unit; answers the peer as it was.
pub fn delete_peer(id: PeerId) -> crate::Write<Peer> {
    crate::Write::new(move |tx| {
        Box::pin(async move {
            let peer = op::get(tx, &id).await?;
            op::delete(tx, &id).await?;
            record_peer_change(tx, "peer.removed", &peer).await?;
            Ok(peer)
        })
    })
}

/// Disables a peer (`disabled: true`) or enables it again, and records `peer.disabled` /
/// `peer.enabled`, in one unit. A disabled peer keeps its registration and history, but nothing
/// is trusted of it or sent to it: its messages are refused (`peer_unknown`), messages to it wait
/// in the outbox (retried until it is enabled), and no new connection to its organizations can be
/// made. Setting the status it has already changes nothing and records nothing.
pub fn set_peer_disabled(id: PeerId, disabled: bool) -> crate::Write<Peer> {
    crate::Write::new(move |tx| {
        Box::pin(async move {
            let peer = op::get(tx, &id).await?;
            let (status, name) = if disabled {
                ("disabled", "peer.disabled")
            } else {
                ("active", "peer.enabled")
            };
            if peer.status == status {
                return Ok(peer);
            }
            let peer = op::set_status(tx, &id, status).await?;
            record_peer_change(tx, name, &peer).await?;
            Ok(peer)
        })
    })
}

/// Where organization `org` lives, when it is an organization of a peer instance: that instance's
/// id and its registration (`None` once the operator removed it); `None` for an organization of
/// this instance. For showing a peer's health beside a connection to one of its organizations.
pub fn peer_of_organization(org: OrganizationId) -> crate::Read<Option<(String, Option<Peer>)>> {
    crate::Read::new(move |tx| {
        Box::pin(async move {
            let Some(instance) = home_of(tx, &org).await? else {
                return Ok(None);
            };
            let peer = op::by_instance(tx, &instance).await?;
            Ok(Some((instance, peer)))
        })
    })
}
