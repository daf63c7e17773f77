//! Redacting an inquiry: its personal data removed wherever the store holds it — the inquiry,
//! its verifications and documents (and their files), the stored events and idempotent responses
//! that show them.

use tessera_core::Error;
use tessera_core::event::names;
use tessera_core::id::InquiryId;
use tessera_core::inquiry::Inquiry;
use tessera_core::tenancy::Scope;

use crate::args;
use crate::ops::inquiries::{emit, get_for_update, save};
use crate::ops::{events, idempotency};
use crate::paging::Filter;
use crate::tx::{Tx, json};

/// Redacts an inquiry: removes every field value (the names stay, with `value: null`), the note,
/// the tags, the reviewer comment, verification attributes and check details, document names,
/// hashes and bytes, and the same in stored events and responses. Keeps ids, statuses,
/// timestamps and `reference-id`. Redacting twice changes nothing.
pub(crate) async fn redact(tx: &mut Tx, scope: &Scope, id: &InquiryId) -> Result<Inquiry, Error> {
    let mut inquiry = get_for_update(tx, scope, id).await?;
    if inquiry.redacted_at.is_some() {
        return Ok(inquiry);
    }
    let now = tx.now();
    for f in inquiry.fields.values_mut() {
        f.value = serde_json::Value::Null;
    }
    inquiry.note = None;
    inquiry.tags.clear();
    inquiry.reviewer_comment = None;
    inquiry.redacted_at = Some(now);
    inquiry.updated_at = now;
    save(tx, scope, &inquiry).await?;
    let rows = tx
        .fetch_all(
            "select id, checks from verifications where inquiry_id = $1 and environment_id = $2",
            args![id, &scope.env],
        )
        .await?;
    for r in rows {
        let mut checks: Vec<tessera_core::verification::Check> = r.json("checks")?;
        for c in &mut checks {
            c.reasons.clear();
            c.metadata.clear();
        }
        tx.execute(
            "update verifications set attributes = '{}', checks = $1 where id = $2",
            args![json(&checks), r.text("id")?],
        )
        .await?;
    }
    // Documents let go of their files first: they reference them.
    let files = tx
        .fetch_all(
            "select file_id from documents where inquiry_id = $1 and environment_id = $2 and file_id is not null",
            args![id, &scope.env],
        )
        .await?
        .iter()
        .map(|r| r.text("file_id"))
        .collect::<Result<Vec<_>, _>>()?;
    tx.execute(
        "update documents set filename = null, sha256 = null, file_id = null where inquiry_id = $1 and environment_id = $2",
        args![id, &scope.env],
    )
    .await?;
    if !files.is_empty() {
        let f = Filter::new()
            .and("environment_id = ?", &scope.env)
            .and_in("id", files);
        tx.execute(&format!("delete from files where {}", f.sql()), f.args())
            .await?;
    }
    let mut object_ids = vec![id.to_string()];
    object_ids.extend(inquiry.verifications.iter().map(|(_, v)| v.to_string()));
    object_ids.extend(inquiry.documents.iter().map(|(_, d)| d.to_string()));
    events::scrub(tx, &scope.env, &object_ids).await?;
    idempotency::scrub(tx, &object_ids).await?;
    emit(tx, scope, names::INQUIRY_REDACTED, &inquiry).await?;
    Ok(inquiry)
}
