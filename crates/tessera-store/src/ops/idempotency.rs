//! Idempotency keys: the first response to a request sent with an `Idempotency-Key` is stored,
//! per API key, and replayed for a retry of the same request.
//!
//! A request claims its key (`begin`) with a lease; the unit of work that makes the request's
//! writes also stores its response (`complete`), in the same transaction. A claim whose holder
//! died (lease passed without a stored response) may be taken over. Each claim is identified by
//! the end of its lease ([`Held`]): `complete` stores a response only for the claim that holds
//! the key now, so a holder that was merely slow — its lease taken over by a retry — fails and
//! rolls back its writes instead of committing them a second time.

use tessera_core::id::ApiKeyId;
use tessera_core::{Error, Timestamp};

use crate::args;
use crate::tx::Tx;

/// How long a running request holds its key before another may take it over (the default of
/// `TESSERA_IDEMPOTENCY_LEASE_MS`).
pub const LEASE_MS: i64 = 60_000;
/// How long stored responses are kept.
pub const RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

/// A stored response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// A claim on a key: the end of its lease, which no other claim of the key shares (a takeover
/// happens only after the lease ended, and sets a later one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held(pub Timestamp);

/// What to do with a request that carries an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is now held by this request: run it, and store its response with this claim.
    Fresh(Held),
    /// The same request already finished: replay this.
    Replay(StoredResponse),
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still running.
    InUse,
}

/// Claims `key` for a request with `fingerprint`, for `lease_ms`.
pub(crate) async fn begin(
    tx: &mut Tx,
    api_key: &ApiKeyId,
    key: &str,
    fingerprint: &str,
    lease_ms: i64,
) -> Result<Claim, Error> {
    let now = tx.now();
    let until = now.plus_millis(lease_ms.max(1));
    let row = tx
        .fetch_optional(
            "select fingerprint, state, locked_until, status_code, content_type, body, created_at
             from idempotency_keys where api_key_id = $1 and key = $2",
            args![api_key, key],
        )
        .await?;
    let Some(row) = row else {
        let inserted = tx
            .execute(
                "insert into idempotency_keys (api_key_id, key, fingerprint, state, locked_until, created_at)
                 values ($1, $2, $3, 'running', $4, $5) on conflict do nothing",
                args![api_key, key, fingerprint, until, now],
            )
            .await?;
        return Ok(if inserted == 1 {
            Claim::Fresh(Held(until))
        } else {
            Claim::InUse
        });
    };
    let created_at = row.time("created_at")?;
    let expired = created_at.plus_millis(RETENTION_MS) <= now;
    if expired {
        // An old record: the key is free again.
        let taken = tx
            .execute(
                "update idempotency_keys set fingerprint = $1, state = 'running', locked_until = $2,
                 status_code = null, content_type = null, body = null, resource_id = null, created_at = $3
                 where api_key_id = $4 and key = $5 and created_at = $6",
                args![fingerprint, until, now, api_key, key, created_at],
            )
            .await?;
        return Ok(if taken == 1 {
            Claim::Fresh(Held(until))
        } else {
            Claim::InUse
        });
    }
    if row.text("fingerprint")? != fingerprint {
        return Ok(Claim::Mismatch);
    }
    if row.text("state")? == "done" {
        return Ok(Claim::Replay(StoredResponse {
            status: u16::try_from(row.opt_i64("status_code")?.unwrap_or(500)).unwrap_or(500),
            content_type: row.opt_text("content_type")?.unwrap_or_default(),
            body: row.opt_bytes("body")?.unwrap_or_default(),
        }));
    }
    let locked_until = row
        .opt_time("locked_until")?
        .unwrap_or(Timestamp::from_millis(0));
    if locked_until > now {
        return Ok(Claim::InUse);
    }
    // The holder died before storing a response: take the key over.
    let taken = tx
        .execute(
            "update idempotency_keys set locked_until = $1
             where api_key_id = $2 and key = $3 and state = 'running' and locked_until = $4",
            args![until, api_key, key, locked_until],
        )
        .await?;
    Ok(if taken == 1 {
        Claim::Fresh(Held(until))
    } else {
        Claim::InUse
    })
}

/// Stores the response of the request holding `key` with claim `held`. `resource_id` is the id
/// of the object the response shows, so redaction can find it.
///
/// Fails with 409 `idempotency_key_in_use` when the claim no longer holds the key (its lease ran
/// out and a retry took the key over): the unit of work this runs in then rolls back, so the
/// request's writes are made once, by the holder of the key.
pub(crate) async fn complete(
    tx: &mut Tx,
    api_key: &ApiKeyId,
    key: &str,
    held: Held,
    response: &StoredResponse,
    resource_id: Option<&str>,
) -> Result<(), Error> {
    let stored = tx
        .execute(
            "update idempotency_keys set state = 'done', locked_until = null, status_code = $1,
             content_type = $2, body = $3, resource_id = $4
             where api_key_id = $5 and key = $6 and state = 'running' and locked_until = $7",
            args![
                i64::from(response.status),
                response.content_type.as_str(),
                response.body.clone(),
                resource_id,
                api_key,
                key,
                held.0
            ],
        )
        .await?;
    if stored != 1 {
        return Err(Error::conflict(
            tessera_core::codes::IDEMPOTENCY_KEY_IN_USE,
            "this request's claim on its Idempotency-Key ran out and another request took it over",
        )
        .at_header("Idempotency-Key"));
    }
    Ok(())
}

/// Removes personal data from stored responses that show the given objects.
pub(crate) async fn scrub(tx: &mut Tx, object_ids: &[String]) -> Result<(), Error> {
    scrub_among(tx, object_ids, object_ids).await
}

/// Removes personal data of `object_ids` from the stored responses about `resource_ids` (e.g. a
/// redacted verification inside its inquiry's response with `include=verifications`).
pub(crate) async fn scrub_among(
    tx: &mut Tx,
    resource_ids: &[String],
    object_ids: &[String],
) -> Result<(), Error> {
    let f = crate::paging::Filter::new().and_in("resource_id", resource_ids.to_vec());
    if resource_ids.is_empty() {
        return Ok(());
    }
    let rows = tx
        .fetch_all(
            &format!(
                "select api_key_id, key, body from idempotency_keys where {}",
                f.sql()
            ),
            f.args(),
        )
        .await?;
    for r in rows {
        let Some(body) = r.opt_bytes("body")? else {
            continue;
        };
        let Ok(mut doc) = serde_json::from_slice::<serde_json::Value>(&body) else {
            continue;
        };
        if tessera_core::event::scrub_document(&mut doc, object_ids) {
            tx.execute(
                "update idempotency_keys set body = $1 where api_key_id = $2 and key = $3",
                args![
                    doc.to_string().into_bytes(),
                    r.text("api_key_id")?,
                    r.text("key")?
                ],
            )
            .await?;
        }
    }
    Ok(())
}

/// Deletes records older than the retention period; returns how many. That includes claims
/// whose request never stored a response (its process died, or its client went away and the
/// request was dropped) once their lease is over: nothing will complete them, and a retry after
/// 24 hours would find the key free anyway.
pub(crate) async fn purge(tx: &mut Tx) -> Result<u64, Error> {
    let now = tx.now();
    let cutoff = now.plus_millis(-RETENTION_MS);
    tx.execute(
        "delete from idempotency_keys
         where created_at < $1 and (state = 'done' or locked_until is null or locked_until < $2)",
        args![cutoff, now],
    )
    .await
}
