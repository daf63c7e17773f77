//! Messages from peer instances (issue #17, items 3–5 and 8), once the HTTP layer has checked
//! their signature with a key trusted for the sender: the nonce (a replay is refused), the
//! addressing, the inbox (a message seen before gets the answer it got, and changes nothing),
//! and what each message does here. Also the sender's side of an answered message, and the
//! federation events (`peer.*`) the operator reads.

use serde_json::{Value, json};
use tessera_core::connection::ConnectionAction;
use tessera_core::federation::{Body, Message, Redeemed, RemoteOrganization};
use tessera_core::id::{EventId, JobId, PeerId};
use tessera_core::{Error, Timestamp, codes};

use crate::args;
use crate::ops::federated_redemption::{self, land};
use crate::ops::redemption::Outcome;
use crate::ops::source_notices::{self, Notice};
use crate::ops::{
    connections, jobs, peer_messages, peer_tokens, peers, share_tokens, signing_keys, tenancy,
};
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::tx::{Row, Tx};
use tessera_core::job::NotifySourceChange;
use tessera_core::share_token::ShareTokenStatus;

/// What the HTTP layer verified of a message's signature.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The instance whose trusted key signed it.
    pub instance_id: String,
    pub nonce: String,
    /// Until when the signature could be accepted (its nonce is kept until then).
    pub expires_at: Timestamp,
    /// The sender's clock minus this instance's, in seconds.
    pub skew_seconds: i64,
}

fn misaddressed(detail: &str) -> Error {
    Error::forbidden(codes::MESSAGE_MISADDRESSED, detail.to_owned())
}

/// Receives `message`, signed as `signed` says: answers it (from the inbox when it was received
/// before), in one unit with its effect.
pub(crate) async fn receive(
    tx: &mut Tx,
    signed: &Signed,
    message: Message,
) -> Result<Value, Error> {
    let from = signed.instance_id.as_str();
    if message.from != from {
        return Err(misaddressed(
            "the message's sender is not the instance that signed it",
        ));
    }
    if message.to != signing_keys::instance_id(tx).await? {
        return Err(misaddressed("the message is addressed to another instance"));
    }
    let now = tx.now();
    let fresh = tx
        .execute(
            "insert into peer_nonces (instance_id, nonce, expires_at) values ($1, $2, $3) on conflict do nothing",
            args![from, &signed.nonce, signed.expires_at],
        )
        .await?;
    if fresh == 0 {
        return Err(Error::new(
            tessera_core::error::Status::Unauthorized,
            codes::SIGNATURE_REPLAYED,
            "this signature's nonce was used before",
        ));
    }
    peers::record_message(tx, from, true, Some(signed.skew_seconds)).await?;
    let seen = tx
        .fetch_optional(
            "select response from peer_inbox where instance_id = $1 and message_id = $2",
            args![from, &message.id],
        )
        .await?;
    if let Some(r) = seen {
        return r.json("response");
    }
    let kind = message.body.kind();
    let answer = act(tx, from, message.body).await?;
    tx.execute(
        "insert into peer_inbox (instance_id, message_id, kind, response, received_at) values ($1, $2, $3, $4, $5)",
        args![from, &message.id, kind, answer.to_string(), now],
    )
    .await?;
    Ok(answer)
}

/// Forgets the nonces whose signatures can no longer be accepted (past their window: a replay
/// of one is refused as expired before its nonce is looked at). Housekeeping, off the path of a
/// message.
pub(crate) async fn purge_nonces(tx: &mut Tx) -> Result<u64, Error> {
    let now = tx.now();
    tx.execute("delete from peer_nonces where expires_at < $1", args![now])
        .await
}

/// The scope of `org` (a stand-in of an organization of peer `from`) for connections of `kind`;
/// refused when `org` is not one of `from`'s.
async fn peer_scope(
    tx: &mut Tx,
    from: &str,
    org: &tessera_core::id::OrganizationId,
    kind: tessera_core::tenancy::EnvKind,
) -> Result<tessera_core::tenancy::Scope, Error> {
    if peer_messages::home_of(tx, org).await?.as_deref() != Some(from) {
        return Err(Error::not_found("connection"));
    }
    tenancy::scope_of(tx, org, kind).await
}

async fn act(tx: &mut Tx, from: &str, body: Body) -> Result<Value, Error> {
    Ok(match body {
        Body::ConnectionOffered(o) => {
            let remote = RemoteOrganization {
                organization: o.source_organization_id.clone(),
                instance: from.to_owned(),
            };
            let name = o.source_organization_name.clone();
            let source = peer_messages::stand_in(tx, &remote, &name, o.kind).await?;
            let c = connections::offered(tx, &source, o).await?;
            json!({"connection-id": c.id})
        }
        Body::ConnectionChanged(ch) => {
            let action = ConnectionAction::parse(&ch.action).ok_or_else(|| {
                Error::invalid(codes::MESSAGE_REFUSED, "unknown connection action")
            })?;
            let c = connections::get_unscoped(tx, &ch.connection_id).await?;
            let scope = peer_scope(tx, from, &ch.by, c.kind).await?;
            let c = connections::act(tx, &scope, &c.id, action).await?;
            json!({"connection-id": c.id, "status": c.status.as_str()})
        }
        Body::ShareTokenOffered(o) => {
            let c = connections::get_unscoped(tx, &o.connection_id).await?;
            let source = peer_scope(tx, from, &c.source_org, c.kind).await?;
            let t = peer_tokens::offered(tx, &source, o).await?;
            json!({"share-token-id": t.id})
        }
        Body::ShareTokenRedeem(r) => to_value(federated_redemption::serve(tx, from, r).await?),
        Body::ShareTokenPeek(p) => to_value(federated_redemption::peek(tx, from, p).await?),
        Body::ShareTokenExpired(ex) => {
            let t = share_tokens::get_unscoped_for_update(tx, &ex.share_token_id).await?;
            if ex.by != t.source_org && ex.by != t.destination_org {
                return Err(Error::not_found("share token"));
            }
            let scope = peer_scope(tx, from, &ex.by, t.kind).await?;
            // A token no longer `created` here (being redeemed, or expired already) stays as it
            // is: the source's answer to a redemption decides.
            let expired = if t.status_at(tx.now()) == ShareTokenStatus::Created {
                share_tokens::expire(tx, &scope, &t.id).await?;
                true
            } else {
                false
            };
            json!({"expired": expired})
        }
        Body::ShareTokenSourceChanged(ch) => {
            let t = share_tokens::get_unscoped_for_update(tx, &ch.share_token_id).await?;
            if peer_messages::home_of(tx, &t.source_org).await?.as_deref() != Some(from) {
                return Err(Error::not_found("share token"));
            }
            let notice = NotifySourceChange {
                share_token_id: t.id,
                change: ch.change,
                changed_at: ch.changed_at,
                cause: None,
            };
            let told = !matches!(source_notices::tell(tx, &notice).await?, Notice::NoCopy);
            json!({"told": told})
        }
    })
}

fn to_value(v: impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The sender's side: peer `message.to` answered `message` (sent by job `job`) with `answer`.
/// Completes the job in the same unit; a redemption's answer lands the copy.
pub(crate) async fn answered(
    tx: &mut Tx,
    job: &JobId,
    message: &Message,
    answer: Value,
) -> Result<Option<Outcome>, Error> {
    peers::record_message(tx, &message.to, false, None).await?;
    match &message.body {
        Body::ShareTokenRedeem(r) => {
            let answer: Redeemed = serde_json::from_value(answer).map_err(|e| {
                Error::invalid(
                    codes::MESSAGE_REFUSED,
                    format!("the source's answer to a redemption is not one: {e}"),
                )
            })?;
            let outcome = land(tx, job, &message.to, &r.share_token_id, answer).await?;
            Ok(Some(outcome))
        }
        _ => {
            jobs::complete(tx, job).await?;
            Ok(None)
        }
    }
}

/// A federation event, for the operator.
#[derive(Debug, Clone)]
pub struct PeerEvent {
    pub id: EventId,
    /// `peer.registered`, `peer.removed`, `peer.message-refused`.
    pub name: String,
    /// The other instance, when known.
    pub instance_id: Option<String>,
    pub payload: Value,
    pub created_at: Timestamp,
}

/// Records a federation event `name` about instance `instance_id`; with `failure`, it counts as
/// a failed contact of that peer, when it is one.
pub(crate) async fn record_event(
    tx: &mut Tx,
    name: &str,
    instance_id: Option<&str>,
    payload: Value,
    failure: bool,
) -> Result<PeerEvent, Error> {
    let e = PeerEvent {
        id: EventId::generate(),
        name: name.to_owned(),
        instance_id: instance_id.map(str::to_owned),
        payload,
        created_at: tx.now(),
    };
    if let (Some(i), true) = (instance_id, failure) {
        let detail = (e.payload["code"].as_str())
            .or(e.payload["error"].as_str())
            .unwrap_or(name)
            .to_owned();
        peers::record_message_failure(tx, i, &detail).await?;
    }
    insert_event(tx, &e, None).await?;
    Ok(e)
}

/// Records that the operator registered (`peer.registered`) or removed (`peer.removed`) `peer`:
/// a change of the peers, not a contact (the peer's health is left as it is).
pub(crate) async fn record_peer_change(
    tx: &mut Tx,
    name: &str,
    peer: &peers::Peer,
) -> Result<PeerEvent, Error> {
    let e = PeerEvent {
        id: EventId::generate(),
        name: name.to_owned(),
        instance_id: Some(peer.instance_id.clone()),
        payload: json!({"peer-id": peer.id, "url": peer.base_url, "pin": peer.pin}),
        created_at: tx.now(),
    };
    insert_event(tx, &e, Some(&peer.id)).await?;
    Ok(e)
}

async fn insert_event(tx: &mut Tx, e: &PeerEvent, peer: Option<&PeerId>) -> Result<(), Error> {
    tx.execute(
        "insert into peer_events (id, name, instance_id, peer_id, payload, created_at) values ($1, $2, $3, $4, $5, $6)",
        args![&e.id, &e.name, e.instance_id.as_ref(), peer, e.payload.to_string(), e.created_at],
    )
    .await?;
    Ok(())
}

fn event_from_row(r: &Row) -> Result<PeerEvent, Error> {
    Ok(PeerEvent {
        id: EventId::from_db(r.text("id")?),
        name: r.text("name")?,
        instance_id: r.opt_text("instance_id")?,
        payload: r.json("payload")?,
        created_at: r.time("created_at")?,
    })
}

/// The federation events, newest first.
pub(crate) async fn list_events(tx: &mut Tx, page: &PageRequest) -> Result<Page<PeerEvent>, Error> {
    fetch_page(
        tx,
        "peer_events",
        "id, name, instance_id, payload, created_at",
        Filter::new(),
        page,
    )
    .await?
    .try_map(|r| event_from_row(&r))
}
