//! Redacting an inquiry, or one verification or document of it: the personal data removed
//! wherever the store holds it — the inquiry, its verifications and documents (and their files),
//! the stored events and idempotent responses that show them. A redaction of something a redeemed
//! share token shared also writes the notices to its destinations (`source_changes`).

use tessera_core::Error;
use tessera_core::document::Document;
use tessera_core::event::names;
use tessera_core::id::{DocumentId, InquiryId, VerificationId};
use tessera_core::inquiry::Inquiry;
use tessera_core::source_status::SourceChange;
use tessera_core::tenancy::Scope;
use tessera_core::verification::Verification;

use crate::args;
use crate::ops::inquiries::{emit, get_for_update, save};
use crate::ops::source_changes::{self, Changed};
use crate::ops::{documents, events, idempotency, verifications};
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
    scrub_verifications(tx, scope, "inquiry_id", id.as_str()).await?;
    scrub_documents(tx, scope, "inquiry_id", id.as_str()).await?;
    let mut object_ids = vec![id.to_string()];
    object_ids.extend(inquiry.verifications.iter().map(|(_, v)| v.to_string()));
    object_ids.extend(inquiry.documents.iter().map(|(_, d)| d.to_string()));
    events::scrub(tx, &scope.env, &object_ids).await?;
    idempotency::scrub(tx, &object_ids).await?;
    // A copy's redaction also forgets the copied data kept beside its token's receipt (the
    // receipt itself holds no personal data and stays).
    tx.execute(
        "update share_tokens set copy_data = null where destination_inquiry_id = $1 and destination_env = $2",
        args![id, &scope.env],
    )
    .await?;
    emit(tx, scope, names::INQUIRY_REDACTED, &inquiry).await?;
    source_changes::notify(tx, &scope.env, Changed::Inquiry(id), SourceChange::Redacted).await?;
    Ok(inquiry)
}

/// What follows the redaction of one part (`id`, a verification or document of `inquiry`): the
/// part is scrubbed from stored events and from stored responses that show it or its inquiry, and
/// the destinations that copied it are told (`changed`).
async fn after_part_redacted(
    tx: &mut Tx,
    scope: &Scope,
    id: &str,
    inquiry: &InquiryId,
    changed: Changed<'_>,
) -> Result<(), Error> {
    let ids = [id.to_owned()];
    events::scrub(tx, &scope.env, &ids).await?;
    idempotency::scrub_among(tx, &[id.to_owned(), inquiry.to_string()], &ids).await?;
    source_changes::notify(tx, &scope.env, changed, SourceChange::Redacted).await?;
    Ok(())
}

/// Persona's "Redact a Verification": removes what the verification extracted and its checks'
/// reasons and metadata (status, checks and times stay), here and in stored events and responses
/// that show it. Redacting again changes nothing and notifies no one again.
pub(crate) async fn redact_verification(
    tx: &mut Tx,
    scope: &Scope,
    id: &VerificationId,
) -> Result<Verification, Error> {
    let v = verifications::get(tx, scope, id).await?;
    // The inquiry's lock orders this unit with the inquiry's own redaction and changes.
    get_for_update(tx, scope, &v.inquiry_id).await?;
    if scrub_verifications(tx, scope, "id", id.as_str()).await? > 0 {
        let changed = Changed::Verification(&v.inquiry_id, id, v.kind);
        after_part_redacted(tx, scope, id.as_str(), &v.inquiry_id, changed).await?;
    }
    verifications::get(tx, scope, id).await
}

/// Tessera's document redaction: removes the document's file (its bytes), name and hash (kind,
/// type, size and times stay), here and in stored events and responses that show it. Redacting
/// again changes nothing and notifies no one again.
pub(crate) async fn redact_document(
    tx: &mut Tx,
    scope: &Scope,
    id: &DocumentId,
) -> Result<Document, Error> {
    let d = documents::get(tx, scope, id).await?;
    get_for_update(tx, scope, &d.inquiry_id).await?;
    if scrub_documents(tx, scope, "id", id.as_str()).await? > 0 {
        let changed = Changed::Document(&d.inquiry_id, d.kind);
        after_part_redacted(tx, scope, id.as_str(), &d.inquiry_id, changed).await?;
    }
    documents::get(tx, scope, id).await
}

/// Redacts the verifications of the scope whose `column` (`id` or `inquiry_id`) is `value` and
/// that are not redacted yet: no extracted attributes, checks without reasons or metadata.
/// Returns how many it redacted.
async fn scrub_verifications(
    tx: &mut Tx,
    scope: &Scope,
    column: &str,
    value: &str,
) -> Result<usize, Error> {
    let rows = tx
        .fetch_all(
            &format!("select id, checks from verifications where {column} = $1 and environment_id = $2 and redacted_at is null"),
            args![value, &scope.env],
        )
        .await?;
    let now = tx.now();
    for r in &rows {
        let mut checks: Vec<tessera_core::verification::Check> = r.json("checks")?;
        for c in &mut checks {
            c.reasons.clear();
            c.metadata.clear();
        }
        tx.execute(
            "update verifications set attributes = '{}', checks = $1, redacted_at = $2 where id = $3",
            args![json(&checks), now, r.text("id")?],
        )
        .await?;
    }
    Ok(rows.len())
}

/// Redacts the documents of the scope whose `column` (`id` or `inquiry_id`) is `value` and that
/// are not redacted yet: no file name, hash or file (the bytes are deleted). Returns how many.
async fn scrub_documents(
    tx: &mut Tx,
    scope: &Scope,
    column: &str,
    value: &str,
) -> Result<usize, Error> {
    let rows = tx
        .fetch_all(
            &format!("select id, file_id from documents where {column} = $1 and environment_id = $2 and redacted_at is null"),
            args![value, &scope.env],
        )
        .await?;
    let files = rows
        .iter()
        .filter_map(|r| r.opt_text("file_id").transpose())
        .collect::<Result<Vec<_>, _>>()?;
    // Documents let go of their files first: they reference them.
    let now = tx.now();
    tx.execute(
        &format!("update documents set filename = null, sha256 = null, file_id = null, redacted_at = $3 where {column} = $1 and environment_id = $2 and redacted_at is null"),
        args![value, &scope.env, now],
    )
    .await?;
    if !files.is_empty() {
        let f = Filter::new()
            .and("environment_id = ?", &scope.env)
            .and_in("id", files);
        tx.execute(&format!("delete from files where {}", f.sql()), f.args())
            .await?;
    }
    Ok(rows.len())
}
