//! Persona's `source-data`: the masked peek at a share token's source that its destination may
//! take before redeeming it. The API's `peek-source-data` and the dashboard's inbound token page
//! show the same document.

use serde_json::{Value, json};
use tessera_core::Error;
use tessera_core::mask::{full, peek_field, peek_value};
use tessera_core::share_token::{ShareToken, ShareTokenStatus};
use tessera_core::tenancy::Scope;
use tessera_core::verification::{Verification, VerificationKind};

use crate::ops::{inquiries, verifications};
use crate::tx::Tx;

/// Whether the caller (`scope`) may peek at `t`'s source now: Persona shows `source-data` only
/// to the destination (and Tessera only while the token can still be redeemed).
pub(crate) fn peekable(tx: &Tx, scope: &Scope, t: &ShareToken) -> bool {
    t.is_destination(scope) && t.status_at(tx.now()) == ShareTokenStatus::Created
}

/// A verification as Persona's `connect/source-data/verification/<kind>`: `status` and
/// `completed-at` in full, its extracted attributes masked like inquiry fields.
fn verification_source_data(v: &Verification) -> Value {
    let mut attributes = serde_json::Map::new();
    attributes.insert("status".into(), full(json!(v.status)));
    attributes.insert("completed-at".into(), full(json!(v.completed_at)));
    for (name, value) in &v.attributes {
        if !attributes.contains_key(name) {
            attributes.insert(name.clone(), peek_value(name, value));
        }
    }
    json!({
        "type": format!("connect/source-data/{}", v.kind.resource_type()),
        "id": v.id,
        "peekable-attributes": attributes,
    })
}

/// The peek at `t`'s source (read in the source's scope; the caller decides with [`peekable`]
/// whether to take it): `connect/source-data/inquiry` with its `status` and `fields` and its
/// verifications as `related-objects`, or, for a shared verification,
/// `connect/source-data/verification/<kind>`; only what the token discloses. Every entry is a `{visibility, value}` wrapper
/// (see `tessera_core::mask`).
pub(crate) async fn document(tx: &mut Tx, t: &ShareToken) -> Result<Value, Error> {
    let scope = t.source_scope();
    if let Some((_, id)) = &t.source_verification {
        let v = verifications::get(tx, &scope, id).await?;
        return Ok(verification_source_data(&v));
    }
    let inquiry = inquiries::get(tx, &scope, &t.source_inquiry_id).await?;
    let fields: serde_json::Map<String, Value> = t
        .disclosure
        .fields_of(&inquiry.fields)
        .iter()
        .map(|(name, f)| (name.clone(), peek_field(name, f)))
        .collect();
    // A share-token verification (of an inquiry that is itself a copy) has no Persona type.
    let related: Vec<Value> = verifications::for_inquiry(tx, &scope, &inquiry.id)
        .await?
        .iter()
        .filter(|v| {
            v.kind != VerificationKind::ShareToken && t.disclosure.allows_verification(v.kind)
        })
        .map(verification_source_data)
        .collect();
    Ok(json!({
        "type": "connect/source-data/inquiry",
        "id": inquiry.id,
        "peekable-attributes": {"status": full(json!(inquiry.status)), "fields": fields},
        "related-objects": related,
    }))
}
