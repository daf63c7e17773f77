//! Peers (issue #17, item 2): the other instances the operator registered, each pinned to one of
//! its keys by RFC 7638 thumbprint, with the JWKS last fetched from it and accepted under the pin
//! (`tessera_core::keys::peer` holds the rule). Uses nothing of `ops` but this crate's plumbing.

use tessera_core::id::PeerId;
use tessera_core::keys::Jwk;
use tessera_core::keys::peer::trusted_key as trusted;
use tessera_core::{Error, Timestamp, codes};

use crate::args;
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::sql::json;
use crate::tx::{Row, Tx};

/// A registered peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub id: PeerId,
    pub base_url: String,
    pub instance_id: String,
    /// The pinned key's RFC 7638 thumbprint.
    pub pin: String,
    /// The peer's JWKS as last fetched and accepted (it listed the pinned key).
    pub jwks: Vec<Jwk>,
    /// `active` or `disabled`.
    pub status: String,
    pub created_at: Timestamp,
    pub last_contact_at: Option<Timestamp>,
    pub failures: i64,
    pub last_error: Option<String>,
    /// The clock skew of the last message received from the peer: its clock minus ours, seconds.
    pub clock_skew_seconds: Option<i64>,
    pub messages_sent: i64,
    pub messages_received: i64,
}

/// A peer to register: its documents already fetched and checked against the pin.
#[derive(Debug, Clone)]
pub struct NewPeer {
    pub base_url: String,
    pub instance_id: String,
    pub pin: String,
    pub jwks: Vec<Jwk>,
}

const COLUMNS: &str = "id, base_url, instance_id, pin, jwks, status, created_at, last_contact_at, failures, last_error, clock_skew_seconds, messages_sent, messages_received";

fn from_row(r: &Row) -> Result<Peer, Error> {
    Ok(Peer {
        id: PeerId::from_db(r.text("id")?),
        base_url: r.text("base_url")?,
        instance_id: r.text("instance_id")?,
        pin: r.text("pin")?,
        jwks: r.json("jwks")?,
        status: r.text("status")?,
        created_at: r.time("created_at")?,
        last_contact_at: r.opt_time("last_contact_at")?,
        failures: r.i64("failures")?,
        last_error: r.opt_text("last_error")?,
        clock_skew_seconds: r.opt_i64("clock_skew_seconds")?,
        messages_sent: r.i64("messages_sent")?,
        messages_received: r.i64("messages_received")?,
    })
}

/// Registers a peer, contacted now. Refused (422 `peer_exists`, nothing written) when a peer
/// with the same instance id is registered.
pub(crate) async fn create(tx: &mut Tx, new: NewPeer) -> Result<Peer, Error> {
    let existing = tx
        .fetch_optional(
            "select id from peers where instance_id = $1",
            args![&new.instance_id],
        )
        .await?;
    if let Some(r) = existing {
        return Err(Error::invalid(
            codes::PEER_EXISTS,
            format!(
                "instance {} is already registered as peer {}",
                new.instance_id,
                r.text("id")?
            ),
        )
        .at("url"));
    }
    let id = PeerId::generate();
    let now = tx.now();
    tx.execute(
        "insert into peers (id, base_url, instance_id, pin, jwks, status, created_at, last_contact_at, failures) values ($1, $2, $3, $4, $5, 'active', $6, $7, 0)",
        args![&id, &new.base_url, &new.instance_id, &new.pin, json(&new.jwks), now, now],
    )
    .await?;
    get(tx, &id).await
}

/// A peer by id.
pub(crate) async fn get(tx: &mut Tx, id: &PeerId) -> Result<Peer, Error> {
    let row = tx
        .fetch_optional(
            &format!("select {COLUMNS} from peers where id = $1"),
            args![id],
        )
        .await?;
    match row {
        Some(r) => from_row(&r),
        None => Err(Error::not_found("peer")),
    }
}

/// The peers, newest first.
pub(crate) async fn list(tx: &mut Tx, page: &PageRequest) -> Result<Page<Peer>, Error> {
    fetch_page(tx, "peers", COLUMNS, Filter::new(), page)
        .await?
        .try_map(|r| from_row(&r))
}

/// Forgets a peer.
pub(crate) async fn delete(tx: &mut Tx, id: &PeerId) -> Result<(), Error> {
    match tx
        .execute("delete from peers where id = $1", args![id])
        .await?
    {
        0 => Err(Error::not_found("peer")),
        _ => Ok(()),
    }
}

/// Records a successful contact: the peer's JWKS, fetched now and accepted under its pin.
pub(crate) async fn record_contact(
    tx: &mut Tx,
    id: &PeerId,
    jwks: Vec<Jwk>,
) -> Result<Peer, Error> {
    let n = tx
        .execute(
            "update peers set jwks = $1, last_contact_at = $2, failures = 0, last_error = null where id = $3",
            args![json(&jwks), tx.now(), id],
        )
        .await?;
    if n == 0 {
        return Err(Error::not_found("peer"));
    }
    get(tx, id).await
}

/// Records a failed contact (unreachable, or documents refused): the JWKS stays as it was.
pub(crate) async fn record_failure(tx: &mut Tx, id: &PeerId, error: String) -> Result<Peer, Error> {
    let n = tx
        .execute(
            "update peers set failures = failures + 1, last_error = $1 where id = $2",
            args![error, id],
        )
        .await?;
    if n == 0 {
        return Err(Error::not_found("peer"));
    }
    get(tx, id).await
}

/// The key `kid` if it is trusted for the peer registered with `instance_id`
/// (`tessera_core::keys::peer::trusted_key`): `None` for an unregistered or disabled peer, or a
/// key the peer's accepted JWKS does not list alongside its pinned key.
pub(crate) async fn trusted_key(
    tx: &mut Tx,
    instance_id: &str,
    kid: &str,
) -> Result<Option<Jwk>, Error> {
    let row = tx
        .fetch_optional(
            &format!("select {COLUMNS} from peers where instance_id = $1 and status = 'active'"),
            args![instance_id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let peer = from_row(&row)?;
    Ok(trusted(&peer.pin, &peer.jwks, kid).cloned())
}

/// The active peer registered with `instance_id`, if there is one.
pub(crate) async fn active_by_instance(
    tx: &mut Tx,
    instance_id: &str,
) -> Result<Option<Peer>, Error> {
    tx.fetch_optional(
        &format!("select {COLUMNS} from peers where instance_id = $1 and status = 'active'"),
        args![instance_id],
    )
    .await?
    .map(|r| from_row(&r))
    .transpose()
}

/// The peer registered with `instance_id` (active or not), if there is one.
pub(crate) async fn by_instance(tx: &mut Tx, instance_id: &str) -> Result<Option<Peer>, Error> {
    tx.fetch_optional(
        &format!("select {COLUMNS} from peers where instance_id = $1"),
        args![instance_id],
    )
    .await?
    .map(|r| from_row(&r))
    .transpose()
}

/// The keys trusted for the active peer `instance_id` (its accepted JWKS, which lists its pinned
/// key): what a receipt it signed is verified against. Empty for an unknown peer.
pub(crate) async fn trusted_jwks(tx: &mut Tx, instance_id: &str) -> Result<Vec<Jwk>, Error> {
    Ok(match active_by_instance(tx, instance_id).await? {
        Some(p) if p.jwks.iter().any(|k| k.kid == p.pin) => p.jwks,
        _ => Vec::new(),
    })
}

/// Records a message exchanged with peer `instance_id`: a good contact now, counted as sent or
/// received, with the clock skew seen (received messages only). Nothing for an unknown peer.
pub(crate) async fn record_message(
    tx: &mut Tx,
    instance_id: &str,
    received: bool,
    skew_seconds: Option<i64>,
) -> Result<(), Error> {
    let column = if received {
        "messages_received"
    } else {
        "messages_sent"
    };
    tx.execute(
        &format!(
            "update peers set last_contact_at = $1, failures = 0, last_error = null, {column} = {column} + 1, clock_skew_seconds = coalesce($2, clock_skew_seconds) where instance_id = $3"
        ),
        args![tx.now(), skew_seconds, instance_id],
    )
    .await?;
    Ok(())
}

/// Records a failed exchange with peer `instance_id` (unreachable, or it refused a message).
pub(crate) async fn record_message_failure(
    tx: &mut Tx,
    instance_id: &str,
    error: &str,
) -> Result<(), Error> {
    tx.execute(
        "update peers set failures = failures + 1, last_error = $1 where instance_id = $2",
        args![error, instance_id],
    )
    .await?;
    Ok(())
}

/// A peer's health, as the metrics publish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerHealth {
    pub instance_id: String,
    pub last_contact_at: Option<Timestamp>,
    pub failures: i64,
    pub clock_skew_seconds: Option<i64>,
    pub messages_sent: i64,
    pub messages_received: i64,
}

/// The health of every registered peer (a few rows, no JWKS read: the worker asks every second).
pub(crate) async fn health(tx: &mut Tx) -> Result<Vec<PeerHealth>, Error> {
    tx.fetch_all(
        "select instance_id, last_contact_at, failures, clock_skew_seconds, messages_sent, messages_received from peers order by seq",
        args![],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(PeerHealth {
            instance_id: r.text("instance_id")?,
            last_contact_at: r.opt_time("last_contact_at")?,
            failures: r.i64("failures")?,
            clock_skew_seconds: r.opt_i64("clock_skew_seconds")?,
            messages_sent: r.i64("messages_sent")?,
            messages_received: r.i64("messages_received")?,
        })
    })
    .collect()
}

/// Sets a peer's status (`active` or `disabled`); 404 for an unknown peer.
pub(crate) async fn set_status(tx: &mut Tx, id: &PeerId, status: &str) -> Result<Peer, Error> {
    let n = tx
        .execute(
            "update peers set status = $1 where id = $2",
            args![status, id],
        )
        .await?;
    if n == 0 {
        return Err(Error::not_found("peer"));
    }
    get(tx, id).await
}
