//! Units of work on idempotency: each runs the op of the same name in `crate::ops::idempotency` as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::idempotency::*;

use crate::ops::idempotency as op;
use tessera_core::id::ApiKeyId;

crate::work::units! { op;
    Write begin(api_key: ApiKeyId, key: String, fingerprint: String, lease_ms: i64) -> Claim = begin(&api_key, &key, &fingerprint, lease_ms);
    Write complete(api_key: ApiKeyId, key: String, held: Held, response: StoredResponse, resource_id: Option<String>) -> () = complete(&api_key, &key, held, &response, resource_id.as_deref());
    Write purge() -> u64 = purge();
}

/// `unit`, and the response to the request that holds `key` with claim `held`, stored in the
/// same transaction: `respond` makes of the unit's result the response to store, the id of the
/// object it shows (so redaction can find it) and what the unit returns. If the claim no longer
/// holds the key (409 `idempotency_key_in_use`: a retry took it over), nothing of the unit is
/// committed.
pub fn completing<T, R>(
    unit: crate::Write<T>,
    api_key: ApiKeyId,
    key: String,
    held: Held,
    respond: impl FnOnce(T) -> (StoredResponse, Option<String>, R) + Send + 'static,
) -> crate::Write<R>
where
    T: Send + 'static,
    R: Send + 'static,
{
    crate::Write::new(move |tx| {
        Box::pin(async move {
            let value = unit.run(tx).await?;
            let (response, resource_id, out) = respond(value);
            op::complete(tx, &api_key, &key, held, &response, resource_id.as_deref()).await?;
            Ok(out)
        })
    })
}
