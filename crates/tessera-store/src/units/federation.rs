//! Units of work of federation (issue #17): connections to organizations of peer instances,
//! messages received from peers and answers to the messages sent, the federation events.

pub use crate::ops::federation::{PeerEvent, Signed};

use serde_json::Value;
use tessera_core::connection::Connection;
use tessera_core::federation::{Message, RemoteOrganization};
use tessera_core::id::JobId;
use tessera_core::tenancy::{Actor, Scope};

use crate::ops::federation as op;
use crate::ops::redemption::Outcome;
use crate::ops::{connections, peer_messages, peers};
use crate::paging::{Page, PageRequest};

crate::work::units! { op;
    /// Receives a message whose signature the caller checked: its answer (the same one again
    /// for a message received before), its effect in the same unit.
    Write receive(signed: Signed, message: Message) -> Value = receive(&signed, message);
    /// The peer answered `message`, sent by job `job`: completes the job (and lands a
    /// redemption's copy) in one unit.
    Write answered(job: JobId, message: Message, answer: Value) -> Option<Outcome> = answered(&job, &message, answer);
    /// Records a federation event; `failure` counts it as a failed contact of the peer.
    Write record_peer_event(name: String, instance_id: Option<String>, payload: Value, failure: bool) -> PeerEvent = record_event(&name, instance_id.as_deref(), payload, failure);
    /// Forgets the nonces of signatures past their window.
    Write purge_nonces() -> u64 = purge_nonces();
    /// The federation events, newest first.
    Read list_peer_events(page: PageRequest) -> Page<PeerEvent> = list_events(&page);
}

/// Opens a `pending` connection from the caller to `remote`, an organization of a registered
/// peer (422 `peer_unknown` otherwise); the peer is told by message.
pub fn create_to_peer(
    scope: Scope,
    remote: RemoteOrganization,
    name: Option<String>,
    creator: Actor,
) -> crate::Write<Connection> {
    crate::Write::new(move |tx| {
        Box::pin(async move {
            const AT: &str = "destination-organization-id";
            peer_messages::check_peer(tx, &remote.instance, AT).await?;
            let label = remote.to_string();
            peer_messages::stand_in(tx, &remote, &label, scope.kind)
                .await
                .map_err(|e| e.at(AT))?;
            connections::create(tx, &scope, &remote.organization, name, creator).await
        })
    })
}

/// Where to send a message to instance `instance_id`: the base URL of its active registration.
pub fn peer_url(instance_id: String) -> crate::Read<Option<String>> {
    crate::Read::new(move |tx| {
        Box::pin(async move {
            Ok(peers::active_by_instance(tx, &instance_id)
                .await?
                .map(|p| p.base_url))
        })
    })
}

/// The preview message to send before showing the peek or manifest of token `id` to its
/// destination (`scope`), when its source is an organization of a peer instance and it can still
/// be redeemed: the peer's base URL and the message (with the destination's template for the
/// dry run: `request`'s, else the hydrated inquiry's). `None` for any other token.
pub fn peek_message(
    scope: Scope,
    id: tessera_core::id::ShareTokenId,
    request: crate::units::share_tokens::ManifestRequest,
) -> crate::Read<Option<(String, Message)>> {
    crate::Read::new(move |tx| {
        Box::pin(async move {
            let token = crate::ops::share_tokens::get(tx, &scope, &id).await?;
            let Some(home) = peer_messages::home_of(tx, &token.source_org).await? else {
                return Ok(None);
            };
            if !crate::ops::source_data::peekable(tx, &scope, &token) {
                return Ok(None);
            }
            let Some(peer) = peers::active_by_instance(tx, &home).await? else {
                return Ok(None);
            };
            let template_id = match (&request.inquiry_template_id, &request.destination_id) {
                (Some(t), _) => Some(t.clone()),
                (None, Some(d)) => {
                    crate::ops::inquiries::get(tx, &scope, d)
                        .await
                        .map_err(|e| e.at("destination-id"))?
                        .template_id
                }
                (None, None) => None,
            };
            let template = crate::ops::manifest::template(tx, &scope, template_id.as_ref()).await?;
            let message = Message {
                id: tessera_core::id::MessageId::generate(),
                from: crate::ops::signing_keys::read_instance_id(tx)
                    .await?
                    .ok_or_else(|| {
                        tessera_core::Error::internal(std::io::Error::other("no instance id"))
                    })?,
                to: home,
                body: tessera_core::federation::Body::ShareTokenPeek(
                    tessera_core::federation::ShareTokenPeek {
                        share_token_id: token.id.clone(),
                        destination_organization_id: token.destination_org.clone(),
                        field_mappings: request.field_mappings.clone(),
                        template,
                    },
                ),
            };
            Ok(Some((peer.base_url, message)))
        })
    })
}
