//! A share token's page: its timeline, its links, the events about it and, for the side that
//! may redeem it, the masked preview of what it would get.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use tessera_core::Timestamp;
use tessera_core::id::{ShareTokenId, TemplateId};
use tessera_core::share_token::{ShareToken, ShareTokenStatus};
use tessera_core::tenancy::Actor;
use tessera_store::units::sessions::Session;
use tessera_store::units::share_tokens::{self, ManifestRequest};

use super::manifest::{self, ManifestView};
use super::{SECTION, notice_for, partner_of, template_choices};
use crate::events::{EventRow, object_events};
use crate::form::Fields;
use crate::page::{Chrome, PageError, PageResult, render};
use crate::session::Signed;
use crate::view::{Badge, Choice, When, badge, org_names, when, when_opt};
use tessera_edge::state::AppState;

/// One step of a token's timeline.
pub struct Step {
    pub label: String,
    pub at: When,
    /// `done`, `failed` or `todo`.
    pub state: &'static str,
    pub detail: Option<String>,
}

fn timeline(t: &ShareToken, now: Timestamp) -> Vec<Step> {
    let status = t.status_at(now);
    let creator = match &t.creator {
        Some(Actor::User(_)) => Some(String::from("by a dashboard user")),
        Some(Actor::ApiKey(_)) => Some(String::from("through the API")),
        Some(Actor::Workflow(_)) => Some(String::from("by a workflow")),
        None => None,
    };
    let mut steps = vec![Step {
        label: String::from("Created"),
        at: when(t.created_at, now),
        state: "done",
        detail: creator,
    }];
    steps.push(match t.pending_at {
        Some(at) => Step {
            label: String::from("Redemption started (pending)"),
            at: when(at, now),
            state: "done",
            detail: None,
        },
        None => Step {
            label: String::from("Redemption (pending)"),
            at: When::default(),
            state: "todo",
            detail: (status == ShareTokenStatus::Created)
                .then(|| String::from("Waiting for the destination organization to redeem it.")),
        },
    });
    steps.push(match status {
        ShareTokenStatus::Redeemed => Step {
            label: String::from("Redeemed"),
            at: when_opt(t.redeemed_at, now),
            state: "done",
            detail: Some(String::from("The copy was made and verified.")),
        },
        ShareTokenStatus::Failed => Step {
            label: String::from("Failed"),
            at: when_opt(t.failed_at, now),
            state: "failed",
            detail: t.failure_reason.clone().map(|r| format!("Reason: {r}")),
        },
        ShareTokenStatus::Expired => Step {
            label: String::from("Expired"),
            at: when(t.expires_at, now),
            state: "failed",
            detail: None,
        },
        ShareTokenStatus::Pending => Step {
            label: String::from("Redeemed"),
            at: When::default(),
            state: "todo",
            detail: Some(String::from("The copy is being made.")),
        },
        ShareTokenStatus::Created => Step {
            label: String::from("Expires"),
            at: when(t.expires_at, now),
            state: "todo",
            detail: None,
        },
    });
    steps
}

#[derive(Template)]
#[template(path = "share_token.html")]
struct ShowPage {
    chrome: Chrome,
    id: String,
    status: Badge,
    direction: Badge,
    is_pending: bool,
    partner: String,
    partner_id: String,
    connection_id: String,
    source_id: String,
    /// The inquiry the source link opens (for a shared verification, the one it belongs to).
    source_inquiry: String,
    source_is_ours: bool,
    destination_id: Option<String>,
    destination_is_ours: bool,
    created: When,
    expires: When,
    failure_reason: Option<String>,
    steps: Vec<Step>,
    can_expire: bool,
    can_redeem: bool,
    templates: Vec<Choice>,
    events: Vec<EventRow>,
    /// For the destination of a redeemable token: what it would get, personal values masked.
    preview: Option<Preview>,
    /// Beside the preview: the manifest for the picked template.
    manifest: Option<ManifestView>,
    /// What the token shares, when it does not share everything.
    disclosure: Vec<(&'static str, String)>,
    /// Once redeemed: the digest of the copy, and whether it matched the previewed manifest.
    copy_digest: Option<String>,
    manifest_matched: Option<bool>,
    /// Once redeemed: the receipt's signing key and data digest (the file is downloaded).
    receipt: Option<(String, String)>,
}

/// The masked preview of a token's source (the API's `peek-source-data`).
pub struct Preview {
    pub status: Badge,
    pub fields: Vec<(String, String, bool)>,
    pub verifications: Vec<(String, Badge, When)>,
}

/// The preview of the API's `source-data`: each peeked attribute is a `{visibility, value}`
/// wrapper; a `presence` one shows its `hint` (the partial mask) or whether it has a value.
fn preview(peek: &serde_json::Value, now: Timestamp) -> Preview {
    use serde_json::Value;
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let shown = |f: &Value| match (f["visibility"].as_str(), &f["hint"]) {
        (Some("presence"), Value::Null) if f["value"] == true => String::from("(present)"),
        (Some("presence"), Value::Null) => String::from("(empty)"),
        (Some("presence"), hint) => text(hint),
        _ => text(&f["value"]),
    };
    let attributes = &peek["peekable-attributes"];
    let status = |a: &Value| a["status"]["value"].as_str().unwrap_or("").to_owned();
    let verification = |v: &Value| {
        let a = &v["peekable-attributes"];
        let completed = a["completed-at"]["value"]
            .as_str()
            .and_then(Timestamp::parse_rfc3339);
        (
            v["type"]
                .as_str()
                .unwrap_or("")
                .trim_start_matches("connect/source-data/verification/")
                .to_owned(),
            badge(&status(a)),
            when_opt(completed, now),
        )
    };
    let is_verification = peek["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("connect/source-data/verification/"));
    // A shared verification: its extracted attributes are the "fields" of the preview.
    let fields = if is_verification {
        attributes.as_object().map(|m| {
            m.iter()
                .filter(|(name, _)| !matches!(name.as_str(), "status" | "completed-at"))
                .map(|(name, f)| (name.clone(), shown(f), f["visibility"] == "presence"))
                .collect()
        })
    } else {
        attributes["fields"].as_object().map(|m| {
            m.iter()
                .map(|(name, f)| (name.clone(), shown(f), f["visibility"] == "presence"))
                .collect()
        })
    };
    Preview {
        status: badge(&status(attributes)),
        fields: fields.unwrap_or_default(),
        verifications: if is_verification {
            vec![verification(peek)]
        } else {
            peek["related-objects"]
                .as_array()
                .map(|list| list.iter().map(verification).collect())
                .unwrap_or_default()
        },
    }
}

/// The API's masked peek of a token's source data.
///
/// Transitional: the one closure over a transaction left in the dashboard, until the API's
/// `peek` becomes a unit of the store (issue 16).
pub(super) async fn show_page(
    state: &AppState,
    session: Session,
    id: ShareTokenId,
    template: &str,
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let scope = session.scope.clone();
    let store = &state.store;
    // The same masked peek and manifest as the API's, for the side that may redeem, while it
    // may; the manifest's dry run is of the template picked on the page.
    let template_id = TemplateId::parse(template).ok();
    let shown = store
        .read(share_tokens::show(
            scope.clone(),
            id,
            Default::default(),
            Some(ManifestRequest {
                inquiry_template_id: template_id.clone(),
                ..Default::default()
            }),
        ))
        .await?;
    let (t, peek) = (shown.token, shown.source_data);
    let names = org_names(store, [partner_of(&t, &session)]).await?;
    let picked = template_id.as_ref().map(|t| t.as_str()).unwrap_or("");
    let templates = template_choices(store, &session, picked).await?;
    let evts = object_events(store, scope, t.id.to_string()).await?;
    let now = state.store.clock().now();
    let status = t.status_at(now);
    // A redemption may be over by the time its page is first shown.
    let notice = match (notice, status) {
        (Some(_), ShareTokenStatus::Redeemed) if t.is_destination(&session.scope) => {
            Some(String::from(
                "Redeemed: the verified copy is one of your inquiries now (linked below).",
            ))
        }
        (n, _) => n,
    };
    let partner_id = partner_of(&t, &session);
    let (status_code, error) = match error {
        Some((code, message)) => (code, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = ShowPage {
        chrome: Chrome::new(&session, SECTION, format!("Share token {}", t.id))
            .with_notice(notice)
            .with_error(error),
        id: t.id.to_string(),
        status: badge(status.as_str()),
        direction: badge(t.direction_for(&session.scope).as_str()),
        is_pending: status == ShareTokenStatus::Pending,
        partner: names
            .get(&partner_id)
            .cloned()
            .unwrap_or_else(|| partner_id.to_string()),
        partner_id: partner_id.to_string(),
        connection_id: t.connection_id.to_string(),
        source_id: t.source_id().to_owned(),
        source_inquiry: t.source_inquiry_id.to_string(),
        source_is_ours: t.is_source(&session.scope),
        destination_id: t.destination_inquiry_id.as_ref().map(ToString::to_string),
        destination_is_ours: t.is_destination(&session.scope),
        created: when(t.created_at, now),
        expires: when(t.expires_at, now),
        failure_reason: t.failure_reason.clone(),
        steps: timeline(&t, now),
        can_expire: status == ShareTokenStatus::Created,
        can_redeem: status == ShareTokenStatus::Created && t.is_destination(&session.scope),
        templates,
        events: evts.items.iter().map(|e| EventRow::new(e, now)).collect(),
        preview: peek.as_ref().map(|p| preview(p, now)),
        manifest: shown.manifest.as_ref().map(manifest::view),
        disclosure: manifest::disclosure(&t.disclosure),
        copy_digest: t.copy_digest.clone(),
        manifest_matched: t.manifest_matched,
        receipt: t
            .receipt
            .as_deref()
            .and_then(|jws| tessera_core::receipt::claims_of(jws).ok())
            .map(|c| (c.iss, c.data_digest)),
    };
    Ok(render(status_code, &page))
}

/// A token's page.
pub async fn show(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let id = ShareTokenId::parse(&id).map_err(|_| PageError::not_found())?;
    let q = Fields::from_query(query.as_deref());
    show_page(
        &state,
        session,
        id,
        &q.text("template"),
        q.get("done").and_then(notice_for),
        None,
    )
    .await
}
