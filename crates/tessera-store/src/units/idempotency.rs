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
