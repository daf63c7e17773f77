//! Inquiries as stored: how a row reads (with the ids of its verifications and documents), one
//! by scope and id, the list; writing one back, and the events every change of one emits. The
//! changes themselves are `ops::inquiry_changes` and `ops::inquiry_redaction`.

use std::collections::HashMap;

use tessera_core::document::DocumentKind;
use tessera_core::event::names;
use tessera_core::id::{DocumentId, InquiryId, ShareTokenId, TemplateId, VerificationId};
use tessera_core::inquiry::{Inquiry, InquiryStatus};
use tessera_core::source_status::SourceStatus;
use tessera_core::tenancy::Scope;
use tessera_core::verification::VerificationKind;
use tessera_core::{Error, codes};

use crate::args;
use crate::ops::{fanout, lock};
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::tx::{Row, Tx, json};

/// The columns [`from_row`] reads.
pub(crate) const COLUMNS: &str = "id, status, template_id, reference_id, note, tags, fields, created_at, updated_at, completed_at, decisioned_at, expired_at, redacted_at, shared_from, share_token_id, creator, reviewer_comment, redirect_uri, started_at, expires_at, failed_at, marked_for_review_at, source_status, source_status_changed_at";

pub(crate) fn from_row(r: &Row) -> Result<Inquiry, Error> {
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
        source_status: r
            .opt_text("source_status")?
            .and_then(|s| SourceStatus::parse(&s)),
        source_status_changed_at: r.opt_time("source_status_changed_at")?,
    })
}

/// Fills in the verification and document ids of inquiries.
pub(crate) async fn load_related(tx: &mut Tx, inquiries: &mut [Inquiry]) -> Result<(), Error> {
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

/// Inserts an inquiry row as given (redemption uses this for copies).
pub(crate) async fn insert(tx: &mut Tx, scope: &Scope, i: &Inquiry) -> Result<(), Error> {
    tx.execute(
        &format!("insert into inquiries ({COLUMNS}, environment_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)"),
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
            i.source_status.map(SourceStatus::as_str),
            i.source_status_changed_at,
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

/// `COLUMNS` of the `inquiries i` table, and its `environment_id`.
pub(crate) fn qualified_columns() -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("i.{c}"))
        .chain(["i.environment_id".to_owned()])
        .collect::<Vec<_>>()
        .join(", ")
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
