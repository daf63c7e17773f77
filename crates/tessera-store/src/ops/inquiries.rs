//! Inquiries: create, update, transitions, redaction, listing.

use std::collections::HashMap;

use tessera_core::document::DocumentKind;
use tessera_core::event::names;
use tessera_core::fields::{FieldWrites, Fields, apply_writes};
use tessera_core::id::{DocumentId, InquiryId, ShareTokenId, TemplateId, VerificationId};
use tessera_core::inquiry::{DEFAULT_CREATOR, Inquiry, InquiryAction, InquiryStatus};
use tessera_core::tenancy::Scope;
use tessera_core::verification::VerificationKind;
use tessera_core::{Error, codes};

use crate::args;
use crate::ops::{events, fanout, idempotency, lock, templates};
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::tx::{Row, Tx, json};

const COLUMNS: &str = "id, status, template_id, reference_id, note, tags, fields, created_at, updated_at, completed_at, decisioned_at, expired_at, redacted_at, shared_from, share_token_id, creator, reviewer_comment, redirect_uri, started_at, expires_at, failed_at, marked_for_review_at";

fn from_row(r: &Row) -> Result<Inquiry, Error> {
    Ok(Inquiry {
        id: InquiryId::from_db(r.text("id")?),
        status: InquiryStatus::parse(&r.text("status")?)
            .ok_or_else(|| Error::internal(std::io::Error::other("unknown inquiry status")))?,
        template_id: r.opt_text("template_id")?.map(TemplateId::from_db),
        reference_id: r.opt_text("reference_id")?,
        note: r.opt_text("note")?,
        tags: r.json("tags")?,
        fields: r.json("fields")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        completed_at: r.opt_time("completed_at")?,
        decisioned_at: r.opt_time("decisioned_at")?,
        expired_at: r.opt_time("expired_at")?,
        redacted_at: r.opt_time("redacted_at")?,
        shared_from: r.opt_json("shared_from")?,
        share_token_id: r.opt_text("share_token_id")?.map(ShareTokenId::from_db),
        creator: r.text("creator")?,
        reviewer_comment: r.opt_text("reviewer_comment")?,
        redirect_uri: r.opt_text("redirect_uri")?,
        started_at: r.opt_time("started_at")?,
        expires_at: r.opt_time("expires_at")?,
        failed_at: r.opt_time("failed_at")?,
        marked_for_review_at: r.opt_time("marked_for_review_at")?,
        verifications: Vec::new(),
        documents: Vec::new(),
    })
}

/// Fills in the verification and document ids of inquiries.
async fn load_related(tx: &mut Tx, inquiries: &mut [Inquiry]) -> Result<(), Error> {
    if inquiries.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = inquiries.iter().map(|i| i.id.to_string()).collect();
    let f = Filter::new().and_in("inquiry_id", ids.clone());
    let rows = tx
        .fetch_all(
            &format!(
                "select inquiry_id, kind, id from verifications where {} order by seq",
                f.sql()
            ),
            f.args(),
        )
        .await?;
    let mut verifications: HashMap<String, Vec<(VerificationKind, VerificationId)>> =
        HashMap::new();
    for r in rows {
        let kind = VerificationKind::parse(&r.text("kind")?).unwrap_or(VerificationKind::Database);
        verifications
            .entry(r.text("inquiry_id")?)
            .or_default()
            .push((kind, VerificationId::from_db(r.text("id")?)));
    }
    let rows = tx
        .fetch_all(
            &format!(
                "select inquiry_id, kind, id from documents where {} order by seq",
                f.sql()
            ),
            f.args(),
        )
        .await?;
    let mut documents: HashMap<String, Vec<(DocumentKind, DocumentId)>> = HashMap::new();
    for r in rows {
        let kind = DocumentKind::parse(&r.text("kind")?).unwrap_or(DocumentKind::Other);
        documents
            .entry(r.text("inquiry_id")?)
            .or_default()
            .push((kind, DocumentId::from_db(r.text("id")?)));
    }
    for i in inquiries {
        i.verifications = verifications.remove(i.id.as_str()).unwrap_or_default();
        i.documents = documents.remove(i.id.as_str()).unwrap_or_default();
    }
    Ok(())
}

async fn fetch(
    tx: &mut Tx,
    scope: &Scope,
    id: &InquiryId,
    for_update: bool,
) -> Result<Inquiry, Error> {
    let suffix = if for_update { lock(tx) } else { "" };
    let row = tx
        .fetch_optional(
            &format!(
                "select {COLUMNS} from inquiries where id = $1 and environment_id = $2{suffix}"
            ),
            args![id, &scope.env],
        )
        .await?
        .ok_or_else(|| Error::not_found("inquiry"))?;
    let mut inquiry = [from_row(&row)?];
    load_related(tx, &mut inquiry).await?;
    let [inquiry] = inquiry;
    Ok(inquiry)
}

/// An inquiry of the scope, or 404.
pub(crate) async fn get(tx: &mut Tx, scope: &Scope, id: &InquiryId) -> Result<Inquiry, Error> {
    fetch(tx, scope, id, false).await
}

/// An inquiry of the scope, locked for the rest of the unit of work.
pub(crate) async fn get_for_update(
    tx: &mut Tx,
    scope: &Scope,
    id: &InquiryId,
) -> Result<Inquiry, Error> {
    fetch(tx, scope, id, true).await
}

/// Records an event about an inquiry, with the inquiry as it is now.
pub(crate) async fn emit(
    tx: &mut Tx,
    scope: &Scope,
    name: &str,
    inquiry: &Inquiry,
) -> Result<(), Error> {
    fanout::emit(tx, &scope.env, name, inquiry.to_resource().to_value()).await?;
    Ok(())
}

/// What a new inquiry holds.
#[derive(Debug, Clone, Default)]
pub struct NewInquiry {
    pub template_id: Option<TemplateId>,
    pub reference_id: Option<String>,
    pub note: Option<String>,
    pub tags: Vec<String>,
    pub fields: FieldWrites,
    /// Who makes it (`creator`); `api` when not given.
    pub creator: Option<String>,
    pub redirect_uri: Option<String>,
    /// `expires-at` is this many seconds after creation.
    pub expires_after_seconds: Option<i64>,
}

pub(crate) async fn create(tx: &mut Tx, scope: &Scope, new: NewInquiry) -> Result<Inquiry, Error> {
    if let Some(t) = &new.template_id {
        templates::get(tx, scope, t)
            .await
            .map_err(|e| e.at("inquiry-template-id"))?;
    }
    let mut fields = Fields::new();
    apply_writes(&mut fields, new.fields, "fields")?;
    let now = tx.now();
    let mut inquiry = Inquiry::new(
        InquiryId::generate(),
        new.creator.unwrap_or_else(|| DEFAULT_CREATOR.to_owned()),
        now,
    );
    inquiry.template_id = new.template_id;
    inquiry.reference_id = new.reference_id;
    inquiry.note = new.note;
    inquiry.tags = new.tags;
    inquiry.fields = fields;
    inquiry.redirect_uri = new.redirect_uri;
    inquiry.expires_at = new.expires_after_seconds.map(|s| now.plus_seconds(s));
    insert(tx, scope, &inquiry).await?;
    emit(tx, scope, names::INQUIRY_CREATED, &inquiry).await?;
    Ok(inquiry)
}

/// Inserts an inquiry row as given (redemption uses this for copies).
pub(crate) async fn insert(tx: &mut Tx, scope: &Scope, i: &Inquiry) -> Result<(), Error> {
    tx.execute(
        &format!("insert into inquiries ({COLUMNS}, environment_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"),
        args![
            &i.id,
            i.status.as_str(),
            i.template_id.as_ref(),
            i.reference_id.as_ref(),
            i.note.as_ref(),
            json(&i.tags),
            json(&i.fields),
            i.created_at,
            i.updated_at,
            i.completed_at,
            i.decisioned_at,
            i.expired_at,
            i.redacted_at,
            i.shared_from.as_ref().map(|s| serde_json::to_string(s).unwrap_or_default()),
            i.share_token_id.as_ref(),
            &i.creator,
            i.reviewer_comment.as_ref(),
            i.redirect_uri.as_ref(),
            i.started_at,
            i.expires_at,
            i.failed_at,
            i.marked_for_review_at,
            &scope.env
        ],
    )
    .await?;
    Ok(())
}

/// Writes every mutable column of an inquiry back.
pub(crate) async fn save(tx: &mut Tx, scope: &Scope, i: &Inquiry) -> Result<(), Error> {
    tx.execute(
        "update inquiries set status = $1, reference_id = $2, note = $3, tags = $4, fields = $5,
         updated_at = $6, completed_at = $7, decisioned_at = $8, expired_at = $9, redacted_at = $10,
         shared_from = $11, share_token_id = $12, template_id = $13, reviewer_comment = $14,
         redirect_uri = $15, started_at = $16, expires_at = $17, failed_at = $18,
         marked_for_review_at = $19
         where id = $20 and environment_id = $21",
        args![
            i.status.as_str(),
            i.reference_id.as_ref(),
            i.note.as_ref(),
            json(&i.tags),
            json(&i.fields),
            i.updated_at,
            i.completed_at,
            i.decisioned_at,
            i.expired_at,
            i.redacted_at,
            i.shared_from
                .as_ref()
                .map(|s| serde_json::to_string(s).unwrap_or_default()),
            i.share_token_id.as_ref(),
            i.template_id.as_ref(),
            i.reviewer_comment.as_ref(),
            i.redirect_uri.as_ref(),
            i.started_at,
            i.expires_at,
            i.failed_at,
            i.marked_for_review_at,
            &i.id,
            &scope.env
        ],
    )
    .await?;
    Ok(())
}

/// A change to an inquiry's data. `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct InquiryPatch {
    pub fields: Option<FieldWrites>,
    pub note: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub redirect_uri: Option<Option<String>>,
}

/// Applies a change: `inquiry.updated`, and `inquiry.updated-tags` when the tags changed.
pub(crate) async fn update(
    tx: &mut Tx,
    scope: &Scope,
    id: &InquiryId,
    patch: InquiryPatch,
) -> Result<Inquiry, Error> {
    let mut inquiry = get_for_update(tx, scope, id).await?;
    inquiry.ensure_not_redacted()?;
    if let Some(writes) = patch.fields {
        apply_writes(&mut inquiry.fields, writes, "fields")?;
    }
    if let Some(note) = patch.note {
        inquiry.note = note;
    }
    if let Some(uri) = patch.redirect_uri {
        inquiry.redirect_uri = uri;
    }
    let tags_changed = patch.tags.as_ref().is_some_and(|t| *t != inquiry.tags);
    if let Some(tags) = patch.tags {
        inquiry.tags = tags;
    }
    inquiry.updated_at = tx.now();
    save(tx, scope, &inquiry).await?;
    emit(tx, scope, names::INQUIRY_UPDATED, &inquiry).await?;
    if tags_changed {
        emit(tx, scope, names::INQUIRY_UPDATED_TAGS, &inquiry).await?;
    }
    Ok(inquiry)
}

/// A change to an inquiry's tags (Persona's `add-tag`, `remove-tag`, `set-tags`).
#[derive(Debug, Clone)]
pub enum TagChange {
    Add(String),
    Remove(String),
    Set(Vec<String>),
}

/// Changes the tags; `inquiry.updated-tags` when they changed. Adding a tag the inquiry has, or
/// removing one it has not, changes nothing and emits nothing. At most `MAX_TAGS` tags.
pub(crate) async fn change_tags(
    tx: &mut Tx,
    scope: &Scope,
    id: &InquiryId,
    change: TagChange,
) -> Result<Inquiry, Error> {
    let mut inquiry = get_for_update(tx, scope, id).await?;
    inquiry.ensure_not_redacted()?;
    let mut tags = inquiry.tags.clone();
    match change {
        TagChange::Add(t) => {
            if !tags.contains(&t) {
                tags.push(t);
            }
            if tags.len() > tessera_core::inquiry::MAX_TAGS {
                return Err(Error::invalid(
                    codes::INVALID_ATTRIBUTE,
                    format!(
                        "an inquiry has at most {} tags",
                        tessera_core::inquiry::MAX_TAGS
                    ),
                )
                .at("/meta/tag-name"));
            }
        }
        TagChange::Remove(t) => tags.retain(|x| *x != t),
        TagChange::Set(t) => tags = t,
    }
    if tags == inquiry.tags {
        return Ok(inquiry);
    }
    inquiry.tags = tags;
    inquiry.updated_at = tx.now();
    save(tx, scope, &inquiry).await?;
    emit(tx, scope, names::INQUIRY_UPDATED_TAGS, &inquiry).await?;
    Ok(inquiry)
}

/// Applies a status transition, or answers 409.
pub(crate) async fn transition(
    tx: &mut Tx,
    scope: &Scope,
    id: &InquiryId,
    action: InquiryAction,
) -> Result<Inquiry, Error> {
    transition_with_comment(tx, scope, id, action, None).await
}

/// Applies a status transition, or answers 409. An approve or decline stores `comment` as the
/// `reviewer-comment` (replacing an earlier one, also with null).
pub(crate) async fn transition_with_comment(
    tx: &mut Tx,
    scope: &Scope,
    id: &InquiryId,
    action: InquiryAction,
    comment: Option<String>,
) -> Result<Inquiry, Error> {
    let mut inquiry = get_for_update(tx, scope, id).await?;
    inquiry.ensure_not_redacted()?;
    let (status, event) = action.apply(inquiry.status)?;
    if matches!(action, InquiryAction::Approve | InquiryAction::Decline) {
        inquiry.reviewer_comment = comment;
    }
    set_status(&mut inquiry, status, tx.now());
    save(tx, scope, &inquiry).await?;
    emit_status(tx, scope, event, &inquiry).await?;
    Ok(inquiry)
}

/// Records a status change: its own event, then `inquiry.transitioned`.
pub(crate) async fn emit_status(
    tx: &mut Tx,
    scope: &Scope,
    name: &str,
    inquiry: &Inquiry,
) -> Result<(), Error> {
    emit(tx, scope, name, inquiry).await?;
    emit(tx, scope, names::INQUIRY_TRANSITIONED, inquiry).await
}

/// Moves an inquiry to `status`, stamping the matching timestamps.
pub fn set_status(inquiry: &mut Inquiry, status: InquiryStatus, now: tessera_core::Timestamp) {
    inquiry.set_status(status, now);
}

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

/// `COLUMNS` of the `inquiries i` table, and its `environment_id`.
fn qualified_columns() -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("i.{c}"))
        .chain(["i.environment_id".to_owned()])
        .collect::<Vec<_>>()
        .join(", ")
}

/// Expires up to `limit` inquiries whose `expires-at` has passed while they were still `created`
/// or `pending` (not redacted), with their events (`inquiry.expired`, `inquiry.transitioned`);
/// `expired-at` is the `expires-at`. Returns how many it expired. Safe to run in several
/// processes at once. (For the worker's housekeeping, beside the share-token sweep.)
pub(crate) async fn sweep_expired(tx: &mut Tx, limit: i64) -> Result<usize, Error> {
    let now = tx.now();
    let skip_locked = match tx.dialect() {
        crate::Dialect::Postgres => " for update of i skip locked",
        crate::Dialect::Sqlite => "",
    };
    let rows = tx
        .fetch_all(
            &format!(
                "select {cols}, e.organization_id, e.kind as environment_kind from inquiries i
                 join environments e on e.id = i.environment_id
                 where i.status in ('created', 'pending') and i.redacted_at is null
                 and i.expires_at <= $1 order by i.expires_at limit $2{skip_locked}",
                cols = qualified_columns()
            ),
            args![now, limit],
        )
        .await?;
    let mut n = 0;
    for r in rows {
        let mut one = [from_row(&r)?];
        load_related(tx, &mut one).await?;
        let [mut inquiry] = one;
        let scope = Scope {
            org: tessera_core::id::OrganizationId::from_db(r.text("organization_id")?),
            env: tessera_core::id::EnvironmentId::from_db(r.text("environment_id")?),
            kind: tessera_core::tenancy::EnvKind::parse(&r.text("environment_kind")?).ok_or_else(
                || Error::internal(std::io::Error::other("unknown environment kind")),
            )?,
        };
        let at = inquiry.expires_at.unwrap_or(now);
        inquiry.set_status(InquiryStatus::Expired, at);
        inquiry.expired_at = Some(at);
        inquiry.updated_at = now;
        save(tx, &scope, &inquiry).await?;
        emit_status(tx, &scope, names::INQUIRY_EXPIRED, &inquiry).await?;
        n += 1;
    }
    Ok(n)
}

/// Filters of the inquiry list.
#[derive(Debug, Clone, Default)]
pub struct InquiryFilter {
    pub statuses: Vec<InquiryStatus>,
    pub reference_id: Option<String>,
    pub template_id: Option<TemplateId>,
    /// Any of these ids.
    pub ids: Vec<InquiryId>,
    /// The note, exactly.
    pub note: Option<String>,
    /// Created at or after / at or before.
    pub created_from: Option<tessera_core::Timestamp>,
    pub created_to: Option<tessera_core::Timestamp>,
    /// A filter that no inquiry can match (an account id, a malformed id): the list is empty.
    pub match_nothing: bool,
}

pub(crate) async fn list(
    tx: &mut Tx,
    scope: &Scope,
    filter: &InquiryFilter,
    page: &PageRequest,
) -> Result<Page<Inquiry>, Error> {
    let f = Filter::new()
        .and("environment_id = ?", &scope.env)
        .and_in(
            "status",
            filter.statuses.iter().map(|s| s.as_str()).collect(),
        )
        .and_opt("reference_id = ?", filter.reference_id.clone())
        .and_opt("template_id = ?", filter.template_id.clone())
        .and_in("id", filter.ids.iter().map(|i| i.to_string()).collect())
        .and_opt("note = ?", filter.note.clone())
        .and_opt("created_at >= ?", filter.created_from.map(|t| t.millis()))
        .and_opt("created_at <= ?", filter.created_to.map(|t| t.millis()));
    if filter.match_nothing {
        return Ok(Page {
            items: Vec::new(),
            has_prev: false,
            has_next: false,
        });
    }
    let mut page = fetch_page(tx, "inquiries", COLUMNS, f, page)
        .await?
        .try_map(|r| from_row(&r))?;
    load_related(tx, &mut page.items).await?;
    Ok(page)
}

/// Refuses a missing or foreign inquiry referenced from a request body.
pub(crate) async fn get_referenced(
    tx: &mut Tx,
    scope: &Scope,
    id: &InquiryId,
    pointer: &str,
) -> Result<Inquiry, Error> {
    get_for_update(tx, scope, id).await.map_err(|e| {
        if e.is(codes::NOT_FOUND) {
            e.at(pointer)
        } else {
            e
        }
    })
}
