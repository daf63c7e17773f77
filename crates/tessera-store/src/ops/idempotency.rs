//! Idempotency keys: the first response to a request sent with an `Idempotency-Key` is stored,
//! per API key, and replayed for a retry of the same request.
//!
//! A request claims its key (`begin`) with a lease; the unit of work that makes the request's
//! writes also stores its response (`complete`), in the same transaction. A claim whose holder
//! died (lease passed without a stored response) may be taken over.

use tessera_core::id::ApiKeyId;
use tessera_core::{Error, Timestamp};

use crate::args;
use crate::tx::Tx;

/// How long a running request holds its key before another may take it over.
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

/// What to do with a request that carries an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is now held by this request: run it.
    Fresh,
    /// The same request already finished: replay this.
    Replay(StoredResponse),
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still running.
    InUse,
}

/// Claims `key` for a request with `fingerprint`.
pub async fn begin(
    tx: &mut Tx,
    api_key: &ApiKeyId,
    key: &str,
    fingerprint: &str,
) -> Result<Claim, Error> {
    let now = tx.now();
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
                args![api_key, key, fingerprint, now.plus_millis(LEASE_MS), now],
            )
            .await?;
        return Ok(if inserted == 1 {
            Claim::Fresh
        } else {
            Claim::InUse
        });
    };
    let created_at = row.time("created_at")?;
    let expired = created_at.plus_millis(RETENTION_MS) <= now;
    if expired {
        // An old record: the key is free again.
        tx.execute(
            "update idempotency_keys set fingerprint = $1, state = 'running', locked_until = $2,
             status_code = null, content_type = null, body = null, resource_id = null, created_at = $3
             where api_key_id = $4 and key = $5 and created_at = $6",
            args![fingerprint, now.plus_millis(LEASE_MS), now, api_key, key, created_at],
        )
        .await?;
        return Ok(Claim::Fresh);
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
            args![now.plus_millis(LEASE_MS), api_key, key, locked_until],
        )
        .await?;
    Ok(if taken == 1 {
        Claim::Fresh
    } else {
        Claim::InUse
    })
}

/// Stores the response of the request holding `key`. `resource_id` is the id of the object the
/// response shows, so redaction can find it.
pub async fn complete(
    tx: &mut Tx,
    api_key: &ApiKeyId,
    key: &str,
    response: &StoredResponse,
    resource_id: Option<&str>,
) -> Result<(), Error> {
    tx.execute(
        "update idempotency_keys set state = 'done', locked_until = null, status_code = $1,
         content_type = $2, body = $3, resource_id = $4 where api_key_id = $5 and key = $6",
        args![
            i64::from(response.status),
            response.content_type.as_str(),
            response.body.clone(),
            resource_id,
            api_key,
            key
        ],
    )
    .await?;
    Ok(())
}

/// Removes personal data from stored responses that show the given objects.
pub async fn scrub(tx: &mut Tx, object_ids: &[String]) -> Result<(), Error> {
    let f = crate::paging::Filter::new().and_in("resource_id", object_ids.to_vec());
    if object_ids.is_empty() {
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

/// Deletes records older than the retention period; returns how many.
pub async fn purge(tx: &mut Tx) -> Result<u64, Error> {
    let cutoff = tx.now().plus_millis(-RETENTION_MS);
    tx.execute(
        "delete from idempotency_keys where created_at < $1 and state = 'done'",
        args![cutoff],
    )
    .await
}
