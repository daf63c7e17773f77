//! Inquiry templates: the destination's policy for redeemed copies (the checks of
//! `tessera_core::checks`). The list; creating one; a template's page, which is its edit form.
//! The form's values are read into the parts of a template and checked by the same parser as
//! `POST` and `PATCH /api/v1/inquiry-templates` (`TemplateSpec::parse`, for an edit inside the
//! store's unit of work); a refused form is shown again as typed, with the message and the
//! offending input marked. Every user may change templates, as every key with `inquiry.write`
//! may (see `docs/DASHBOARD.md`).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tessera_core::Timestamp;
use tessera_core::id::TemplateId;
use tessera_core::template::Template as InquiryTemplate;
use tessera_store::units::sessions::Session;
use tessera_store::units::templates;

use crate::form::{Fields, Form};
use crate::page::{Chrome, PageError, PageResult, render};
use crate::session::Signed;
use crate::view::{Pager, When, or_first_page, page_request, when};
use tessera_edge::state::AppState;

mod form;

pub use form::{KindInput, Refusal, Typed};

const SECTION: &str = "templates";
const BASE: &str = "/dashboard/templates";

/// One template, as the list shows it.
pub struct TemplateRow {
    pub id: String,
    pub name: String,
    pub fields: String,
    pub verifications: String,
    pub minimum_age: String,
    pub countries: String,
    pub created: When,
}

fn row(t: &InquiryTemplate, now: Timestamp) -> TemplateRow {
    let verifications: Vec<String> = t
        .required_verifications
        .iter()
        .map(|r| match r.max_age_days {
            Some(d) => format!("{} (≤ {d} days)", r.kind.as_str()),
            None => r.kind.as_str().to_owned(),
        })
        .collect();
    let or_dash = |s: String| if s.is_empty() { String::from("—") } else { s };
    TemplateRow {
        id: t.id.to_string(),
        name: t.name.clone(),
        fields: or_dash(t.required_fields.join(", ")),
        verifications: or_dash(verifications.join(", ")),
        minimum_age: t
            .minimum_age
            .map_or_else(|| String::from("—"), |a| a.to_string()),
        countries: t
            .allowed_countries
            .as_ref()
            .map_or_else(|| String::from("any"), |c| or_dash(c.join(", "))),
        created: when(t.created_at, now),
    }
}

#[derive(Template)]
#[template(path = "templates.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<TemplateRow>,
    pager: Pager,
}

/// The list.
pub async fn list(
    State(state): State<AppState>,
    Signed(session): Signed,
    RawQuery(query): RawQuery,
) -> PageResult {
    let q = Fields::from_query(query.as_deref());
    let scope = session.scope.clone();
    let list = or_first_page(&state.store, page_request(&q), |p| {
        templates::list(scope.clone(), p)
    })
    .await?;
    let now = state.store.clock().now();
    let page = ListPage {
        chrome: Chrome::new(&session, SECTION, "Templates"),
        pager: Pager::new(&list, BASE, &[], |t| t.id.to_string()),
        rows: list.items.iter().map(|t| row(t, now)).collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// One of the checks a redemption records, for the reference beside the form.
pub struct CheckHelp {
    pub name: &'static str,
    pub applies: &'static str,
}

const CHECKS: &[CheckHelp] = &[
    CheckHelp {
        name: "required_fields_present",
        applies: "when required fields are set: each has a non-empty value",
    },
    CheckHelp {
        name: "required_verifications_passed",
        applies: "when verifications are required: one passed verification of each kind",
    },
    CheckHelp {
        name: "verification_freshness",
        applies: "when a required kind has a maximum age: its newest passed verification completed within that many days of the redemption",
    },
    CheckHelp {
        name: "document_not_expired",
        applies: "always with a template, when the copy has an expiration-date: it is not in the past",
    },
    CheckHelp {
        name: "minimum_age",
        applies: "when a minimum age is set: the birthdate is at least that many years ago",
    },
    CheckHelp {
        name: "country_allowed",
        applies: "when countries are listed: address-country-code (else issuing-country) is one of them",
    },
];

#[derive(Template)]
#[template(path = "template_form.html")]
struct FormPage {
    chrome: Chrome,
    /// The template being edited; `None` on the create form.
    template_id: Option<String>,
    created: Option<When>,
    action: String,
    typed: Typed,
    error: Option<Refusal>,
    /// The input the error is about (empty when none).
    error_field: String,
    checks: &'static [CheckHelp],
}

fn form_page(
    session: &Session,
    template: Option<&InquiryTemplate>,
    typed: Typed,
    notice: Option<String>,
    error: Option<Refusal>,
    now: Timestamp,
) -> PageResult {
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status);
    let (title, action) = match template {
        Some(t) => (format!("Template {}", t.name), format!("{BASE}/{}", t.id)),
        None => (String::from("New template"), BASE.to_owned()),
    };
    let page = FormPage {
        chrome: Chrome::new(session, SECTION, title).with_notice(notice),
        template_id: template.map(|t| t.id.to_string()),
        created: template.map(|t| when(t.created_at, now)),
        action,
        error_field: error.as_ref().map(|e| e.field.clone()).unwrap_or_default(),
        typed,
        error,
        checks: CHECKS,
    };
    Ok(render(status, &page))
}

/// The create form.
pub async fn new(State(state): State<AppState>, Signed(session): Signed) -> PageResult {
    let typed = Typed::sent(&Fields::default());
    form_page(&session, None, typed, None, None, state.store.clock().now())
}

/// Creates a template: the form's parts checked by `TemplateSpec::parse`, then the same unit of
/// work as the API.
pub async fn create(
    State(state): State<AppState>,
    Signed(session): Signed,
    Form(form): Form,
) -> PageResult {
    let typed = Typed::sent(&form);
    let now = state.store.clock().now();
    let refusal = match typed.read() {
        Err(r) => r,
        Ok(parts) => {
            let required = parts.required_verifications.clone();
            let created = match parts.spec() {
                Ok(spec) => {
                    let scope = session.scope.clone();
                    state.store.write(templates::create(scope, spec)).await
                }
                Err(e) => Err(e),
            };
            match created {
                Ok(t) => {
                    return Ok(
                        Redirect::to(&format!("{BASE}/{}?done=created", t.id)).into_response()
                    );
                }
                Err(e) => Refusal::of(e, &required)?,
            }
        }
    };
    form_page(&session, None, typed, None, Some(refusal), now)
}

fn parse_id(id: &str) -> Result<TemplateId, PageError> {
    TemplateId::parse(id).map_err(|_| PageError::not_found())
}

/// A template's page: its definition on the edit form.
pub async fn show(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let id = parse_id(&id)?;
    let t = state
        .store
        .read(templates::get(session.scope.clone(), id))
        .await?;
    let q = Fields::from_query(query.as_deref());
    let notice = match q.get("done") {
        Some("created") => {
            Some("Template created. Redemptions that name it are checked against it.")
        }
        Some("saved") => Some(
            "Template saved. Redemptions copied from now on are checked against it; copies already made keep their checks.",
        ),
        _ => None,
    };
    let now = state.store.clock().now();
    form_page(
        &session,
        Some(&t),
        Typed::of(&t),
        notice.map(str::to_owned),
        None,
        now,
    )
}

/// Saves the form over a template (every part replaced): the API's `PATCH` unit of work.
pub async fn update(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    Form(form): Form,
) -> PageResult {
    let id = parse_id(&id)?;
    // Another organization's template is "not found" before anything typed is looked at.
    let t = state
        .store
        .read(templates::get(session.scope.clone(), id.clone()))
        .await?;
    let typed = Typed::sent(&form);
    let refusal = match typed.read() {
        Err(r) => r,
        Ok(parts) => {
            let required = parts.required_verifications.clone();
            let scope = session.scope.clone();
            let patch = parts.patch();
            match state
                .store
                .write(templates::update(scope, id.clone(), patch))
                .await
            {
                Ok(_) => {
                    return Ok(Redirect::to(&format!("{BASE}/{id}?done=saved")).into_response());
                }
                Err(e) => Refusal::of(e, &required)?,
            }
        }
    };
    let now = state.store.clock().now();
    form_page(&session, Some(&t), typed, None, Some(refusal), now)
}
