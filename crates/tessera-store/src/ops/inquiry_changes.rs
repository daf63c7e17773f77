//! Changes of an inquiry, each with its events: creation, data and tag changes, status
//! transitions, and the sweep that expires overdue ones. Redaction is
//! `ops::inquiry_redaction`.

use tessera_core::event::names;
use tessera_core::fields::{FieldWrites, Fields, apply_writes};
use tessera_core::id::{InquiryId, TemplateId};
use tessera_core::inquiry::{DEFAULT_CREATOR, Inquiry, InquiryAction, InquiryStatus};
use tessera_core::tenancy::Scope;
use tessera_core::{Error, codes};

use crate::args;
use crate::ops::inquiries::{
    emit, emit_status, from_row, get_for_update, insert, load_related, qualified_columns, save,
    set_status,
};
use crate::ops::templates;
use crate::tx::Tx;

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
