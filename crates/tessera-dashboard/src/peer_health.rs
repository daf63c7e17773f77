//! The "Peer instance" row of a connection's page (issue #17, item 8): when the partner is an
//! organization of a peer instance, the tenant sees which instance it lives on and how the
//! exchange with that instance is going (last contact, failures, clock skew), so a share that is
//! slow to arrive can be told from a peer that is down. Read-only: peers are the operator's.

use tessera_core::id::OrganizationId;
use tessera_core::{Error, Timestamp};
use tessera_store::Store;
use tessera_store::units::peers;

use crate::view::{When, when_opt};

/// The partner's instance, and its health when it is registered.
pub struct PeerRow {
    pub instance_id: String,
    /// `None` once the operator removed the peer.
    pub health: Option<PeerHealthView>,
}

pub struct PeerHealthView {
    pub url: String,
    pub last_contact: When,
    pub failures: i64,
    /// `+3 s` (its clock ahead of ours), `-2 s`, or empty when no message came from it yet.
    pub clock_skew: String,
}

/// The row for a connection whose other side is `partner`; `None` for a local partner.
pub async fn peer_row(
    store: &Store,
    partner: OrganizationId,
    now: Timestamp,
) -> Result<Option<PeerRow>, Error> {
    let found = store.read(peers::peer_of_organization(partner)).await?;
    Ok(found.map(|(instance_id, peer)| PeerRow {
        instance_id,
        health: peer.map(|p| PeerHealthView {
            url: p.base_url,
            last_contact: when_opt(p.last_contact_at, now),
            failures: p.failures,
            clock_skew: p
                .clock_skew_seconds
                .map(|s| format!("{s:+} s"))
                .unwrap_or_default(),
        }),
    }))
}
