//! Workflows: the list; creating and editing a definition as JSON, read and checked by the same
//! functions as `POST /api/v1/workflows` (an error is shown above the form with the JSON pointer
//! of the part it is about); the signing secret of a new workflow, shown once; enable and
//! disable; a workflow's page with its definition, its runs and a form that runs it on an
//! object now; and a run's page with its steps. Changing workflows is for administrators;
//! running one by hand is for every user (see `docs/DASHBOARD.md`).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};
use tessera_core::connection::{ConnectionStatus, Direction};
use tessera_core::event::names;
use tessera_core::id::{OrganizationId, WorkflowId, WorkflowRunId};
use tessera_core::workflow::run::{StepRecord, StepStatus, WorkflowRun};
use tessera_core::workflow::{Step, Workflow, WorkflowStatus};
use tessera_core::{Error, Timestamp, codes};
use tessera_store::PageRequest;
use tessera_store::units::connections::{self, ConnectionFilter};
use tessera_store::units::sessions::Session;
use tessera_store::units::workflow_runs::{self, RunFilter};
use tessera_store::units::workflow_triggers;
use tessera_store::units::workflows::{self, WorkflowPatch};

use crate::events::object_href;
use crate::form::{Fields, Form};
use crate::page::{Chrome, PageError, PageResult, render, sentence};
use crate::session::Signed;
use crate::share_tokens::form_error;
use crate::view::{
    Badge, Pager, When, badge, or_first_page, org_names, page_request, when, when_opt,
};
use tessera_edge::body::Body;
use tessera_edge::extract::from_document;
use tessera_edge::inputs::{Definition, NewWorkflowAttributes, check_definition};
use tessera_edge::state::AppState;

const SECTION: &str = "workflows";
const BASE: &str = "/dashboard/workflows";

/// One workflow, as lists and pages show it.
pub struct WorkflowRow {
    pub id: String,
    pub name: String,
    pub status: Badge,
    pub event: String,
    pub conditions: usize,
    pub steps: usize,
    pub step_types: String,
    pub created: When,
    pub updated: When,
    pub can_enable: bool,
    pub can_disable: bool,
}

fn display_name(w: &Workflow) -> String {
    w.name
        .clone()
        .unwrap_or_else(|| String::from("Unnamed workflow"))
}

fn row(w: &Workflow, now: Timestamp) -> WorkflowRow {
    WorkflowRow {
        id: w.id.to_string(),
        name: display_name(w),
        status: badge(w.status.as_str()),
        event: w.trigger.event.clone(),
        conditions: w.trigger.conditions.len(),
        steps: w.steps.len(),
        step_types: w
            .steps
            .iter()
            .map(Step::kind)
            .collect::<Vec<_>>()
            .join(", "),
        created: when(w.created_at, now),
        updated: when(w.updated_at, now),
        can_enable: w.status == WorkflowStatus::Inactive,
        can_disable: w.status == WorkflowStatus::Active,
    }
}

fn is_admin(session: &Session) -> bool {
    session.user.role == "admin"
}

#[derive(Template)]
#[template(path = "workflows.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<WorkflowRow>,
    pager: Pager,
    is_admin: bool,
}

/// The list.
pub async fn list(
    State(state): State<AppState>,
    Signed(session): Signed,
    RawQuery(query): RawQuery,
) -> PageResult {
    let q = Fields::from_query(query.as_deref());
    let page = page_request(&q);
    let scope = session.scope.clone();
    let list = or_first_page(&state.store, page, |p| workflows::list(scope.clone(), p)).await?;
    let now = state.store.clock().now();
    let page = ListPage {
        chrome: Chrome::new(&session, SECTION, "Workflows"),
        pager: Pager::new(&list, BASE, &[], |w| w.id.to_string()),
        rows: list.items.iter().map(|w| row(w, now)).collect(),
        is_admin: is_admin(&session),
    };
    Ok(render(StatusCode::OK, &page))
}

/// What a step type needs and acts on: the reference beside the editor.
pub struct StepHelp {
    pub kind: &'static str,
    pub members: &'static str,
    pub acts_on: &'static str,
}

const INQUIRY: &str = "the inquiry of an inquiry.* event";

/// Every step type (a test checks this against the core's list).
pub const STEP_HELP: &[StepHelp] = &[
    StepHelp {
        kind: "create-share-token",
        members: "connection-id (an active outbound connection), expires-in-seconds (optional)",
        acts_on: INQUIRY,
    },
    StepHelp {
        kind: "redeem-share-token",
        members: "inquiry-template-id, field-mappings: [{source-field-name, destination-field-name}] (both optional)",
        acts_on: "the share token of a connect/share-token.inbound-* event",
    },
    StepHelp {
        kind: "activate-connection",
        members: "—",
        acts_on: "the connection of a connect/connection.inbound-* event",
    },
    StepHelp {
        kind: "approve-inquiry",
        members: "—",
        acts_on: INQUIRY,
    },
    StepHelp {
        kind: "decline-inquiry",
        members: "—",
        acts_on: INQUIRY,
    },
    StepHelp {
        kind: "mark-inquiry-for-review",
        members: "—",
        acts_on: INQUIRY,
    },
    StepHelp {
        kind: "tag-inquiry",
        members: "tag",
        acts_on: INQUIRY,
    },
    StepHelp {
        kind: "http-request",
        members: "url (the same address rules as webhooks)",
        acts_on: "the event, POSTed and signed with the workflow's secret",
    },
];

/// Why a definition was refused: the message, and where in the definition (a JSON pointer into
/// the object typed in the form).
pub struct DefinitionError {
    pub message: String,
    pub pointer: Option<String>,
}

/// The form holds the attributes themselves: the pointer into it is the part of the request
/// pointer below `/data/attributes`.
fn form_pointer(e: &Error) -> Option<String> {
    let pointer = tessera_edge::error::pointer_of(e.location.as_ref()?)?;
    let inside = pointer.strip_prefix("/data/attributes").unwrap_or(&pointer);
    (!inside.is_empty()).then(|| inside.to_owned())
}

fn definition_error(e: Error) -> Result<(StatusCode, DefinitionError), PageError> {
    let pointer = form_pointer(&e);
    let (code, message) = form_error(e)?;
    Ok((code, DefinitionError { message, pointer }))
}

/// Reads a definition typed in the form exactly as the API reads the attributes of
/// `POST /api/v1/workflows`: the same document reader, then the same check.
async fn parse_definition(state: &AppState, text: &str) -> Result<Definition, Error> {
    if text.trim().is_empty() {
        return Err(Error::invalid(
            codes::MISSING_ATTRIBUTE,
            "type the workflow's definition: a JSON object with a name, a trigger and steps",
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Error::invalid(
            codes::MALFORMED_JSON,
            format!("the definition is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(Error::invalid(
            codes::MALFORMED_JSON,
            "the definition is a JSON object with a name, a trigger and steps",
        ));
    }
    let body: Body<NewWorkflowAttributes> = from_document(json!({"data": {"attributes": value}}))?;
    check_definition(&state.outbound, body.data.attributes).await
}

/// A definition as the editor shows it.
fn definition_text(name: Option<&str>, trigger: Value, steps: Value) -> String {
    let mut doc = serde_json::Map::new();
    if let Some(name) = name {
        doc.insert("name".into(), Value::String(name.to_owned()));
    }
    doc.insert("trigger".into(), trigger);
    doc.insert("steps".into(), steps);
    serde_json::to_string_pretty(&Value::Object(doc)).unwrap_or_default()
}

fn current_definition(w: &Workflow) -> String {
    definition_text(
        w.name.as_deref(),
        serde_json::to_value(&w.trigger).unwrap_or(Value::Null),
        Value::Array(w.steps.iter().map(Step::to_value).collect()),
    )
}

/// The definition a new workflow starts from: share approved inquiries tagged `share` over the
/// first active outbound connection (or a placeholder to replace when there is none).
async fn example(state: &AppState, session: &Session) -> Result<(String, bool), PageError> {
    let scope = session.scope.clone();
    let outbound = state
        .store
        .read(connections::list(
            scope,
            ConnectionFilter {
                statuses: vec![ConnectionStatus::Active],
                direction: Some(Direction::Outbound),
                destination_org: None,
            },
            PageRequest {
                size: 1,
                cursor: None,
            },
        ))
        .await?;
    let partners: Vec<OrganizationId> = outbound
        .items
        .iter()
        .map(|c| c.destination_org.clone())
        .collect();
    let names = org_names(&state.store, partners).await?;
    let first = outbound.items.first();
    let (connection, partner) = match first {
        Some(c) => (
            c.id.to_string(),
            names
                .get(&c.destination_org)
                .cloned()
                .unwrap_or_else(|| c.destination_org.to_string()),
        ),
        None => (String::from("cxn_…"), String::from("a partner")),
    };
    let text = definition_text(
        Some(&format!("Share approved inquiries with {partner}")),
        json!({"event": "inquiry.approved",
            "conditions": [{"path": "/data/attributes/tags", "op": "contains", "value": "share"}]}),
        json!([{"type": "create-share-token", "connection-id": connection, "expires-in-seconds": 86400}]),
    );
    Ok((text, first.is_some()))
}

#[derive(Template)]
#[template(path = "workflow_form.html")]
struct FormPage {
    chrome: Chrome,
    /// The workflow being edited; `None` on the create form.
    workflow_id: Option<String>,
    action: String,
    definition: String,
    error: Option<DefinitionError>,
    /// On the create form: whether the example names a real connection.
    has_connection: bool,
    events: &'static [&'static str],
    steps: &'static [StepHelp],
}

fn form_page(
    session: &Session,
    workflow: Option<(&WorkflowId, &str)>,
    definition: String,
    has_connection: bool,
    error: Option<(StatusCode, DefinitionError)>,
) -> Response {
    let (code, error) = error.map_or((StatusCode::OK, None), |(c, e)| (c, Some(e)));
    let (title, action) = match workflow {
        Some((id, name)) => (format!("Edit {name}"), format!("{BASE}/{id}/edit")),
        None => (String::from("New workflow"), BASE.to_owned()),
    };
    let page = FormPage {
        chrome: Chrome::new(session, SECTION, title),
        workflow_id: workflow.map(|(id, _)| id.to_string()),
        action,
        definition,
        error,
        has_connection,
        events: names::ALL,
        steps: STEP_HELP,
    };
    render(code, &page)
}

/// The create form, with an example to start from.
pub async fn new(State(state): State<AppState>, signed: Signed) -> PageResult {
    signed.require_admin()?;
    let (text, has_connection) = example(&state, &signed.0).await?;
    Ok(form_page(&signed.0, None, text, has_connection, None))
}

#[derive(Template)]
#[template(path = "workflow_secret.html")]
struct SecretPage {
    chrome: Chrome,
    w: WorkflowRow,
    secret: String,
    /// Whether a step uses the secret now (an edit can add one later, so it is shown anyway).
    signs_requests: bool,
}

/// Creates a workflow and shows its signing secret, once.
pub async fn create(State(state): State<AppState>, signed: Signed, Form(form): Form) -> PageResult {
    signed.require_admin()?;
    let session = signed.0;
    let text = form.raw("definition").unwrap_or("").to_owned();
    let scope = session.scope.clone();
    let created = match parse_definition(&state, &text).await {
        Ok(d) => {
            state
                .store
                .write(workflows::create(scope, d.into_new()))
                .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(w) => {
            let page = SecretPage {
                chrome: Chrome::new(&session, SECTION, "Workflow signing secret").with_notice(
                    Some(String::from(
                        "Workflow created. Copy its signing secret now: it is shown only once.",
                    )),
                ),
                w: row(&w, state.store.clock().now()),
                secret: w.secret.clone(),
                signs_requests: w
                    .steps
                    .iter()
                    .any(|s| matches!(s, Step::HttpRequest { .. })),
            };
            Ok(render(StatusCode::OK, &page))
        }
        Err(e) => {
            let error = definition_error(e)?;
            Ok(form_page(&session, None, text, true, Some(error)))
        }
    }
}

async fn load(state: &AppState, session: &Session, id: &WorkflowId) -> Result<Workflow, PageError> {
    Ok(state
        .store
        .read(workflows::get(session.scope.clone(), id.clone()))
        .await?)
}

fn parse_id(id: &str) -> Result<WorkflowId, PageError> {
    WorkflowId::parse(id).map_err(|_| PageError::not_found())
}

/// The edit form, holding the current definition.
pub async fn edit(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    signed.require_admin()?;
    let w = load(&state, &signed.0, &id).await?;
    Ok(form_page(
        &signed.0,
        Some((&id, &display_name(&w))),
        current_definition(&w),
        true,
        None,
    ))
}

/// Replaces a workflow's definition. Runs already made keep the steps they were made with.
pub async fn update(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form,
) -> PageResult {
    let id = parse_id(&id)?;
    signed.require_admin()?;
    let session = signed.0;
    // Another organization's workflow is "not found" before anything typed is looked at.
    let w = load(&state, &session, &id).await?;
    let text = form.raw("definition").unwrap_or("").to_owned();
    let scope = session.scope.clone();
    let saved = match parse_definition(&state, &text).await {
        Ok(d) => {
            state
                .store
                .write(workflows::update(scope, id.clone(), d.into_replacement()))
                .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?done=edit")).into_response()),
        Err(e) if e.status == tessera_core::Status::NotFound && form_pointer(&e).is_none() => {
            Err(PageError::not_found())
        }
        Err(e) => {
            let error = definition_error(e)?;
            Ok(form_page(
                &session,
                Some((&id, &display_name(&w))),
                text,
                true,
                Some(error),
            ))
        }
    }
}

/// One run, as lists and pages show it.
pub struct RunRow {
    pub id: String,
    pub status: Badge,
    pub object_id: String,
    pub object_href: Option<String>,
    pub trigger_event_id: Option<String>,
    pub progress: String,
    pub created: When,
    pub completed: When,
}

fn run_row(r: &WorkflowRun, now: Timestamp) -> RunRow {
    let done = r
        .records
        .iter()
        .filter(|s| s.status == StepStatus::Completed)
        .count();
    RunRow {
        id: r.id.to_string(),
        status: badge(r.status.as_str()),
        object_id: r.object_id.clone(),
        object_href: object_href(&r.object_id),
        trigger_event_id: r.trigger_event_id.as_ref().map(ToString::to_string),
        progress: format!("{done} of {} completed", r.records.len()),
        created: when(r.created_at, now),
        completed: when_opt(r.completed_at, now),
    }
}

#[derive(Template)]
#[template(path = "workflow.html")]
struct ShowPage {
    chrome: Chrome,
    w: WorkflowRow,
    definition: String,
    is_admin: bool,
    object_id: String,
    runs: Vec<RunRow>,
    pager: Pager,
}

fn notice_for(done: &str) -> Option<String> {
    Some(String::from(match done {
        "edit" => "Workflow saved. Runs already made keep the steps they were made with.",
        "enable" => "Workflow enabled: matching events start runs again.",
        "disable" => {
            "Workflow disabled: events no longer start runs, and it cannot be run by hand."
        }
        "trigger" => {
            "Run started. The worker runs its steps in the background; this page updates until they are done."
        }
        _ => return None,
    }))
}

async fn show_page(
    state: &AppState,
    session: Session,
    id: WorkflowId,
    q: Fields,
    object_id: String,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let scope = session.scope.clone();
    let page = page_request(&q);
    let w = state
        .store
        .read(workflows::get(scope.clone(), id.clone()))
        .await?;
    let filter = RunFilter {
        workflow_id: Some(id.clone()),
    };
    let runs = or_first_page(&state.store, page, |p| {
        workflow_runs::list(scope.clone(), filter.clone(), p)
    })
    .await?;
    let now = state.store.clock().now();
    let (code, error) = error.map_or((StatusCode::OK, None), |(c, m)| (c, Some(m)));
    let page = ShowPage {
        chrome: Chrome::new(&session, SECTION, display_name(&w))
            .with_notice(q.get("done").and_then(notice_for))
            .with_error(error),
        definition: current_definition(&w),
        is_admin: is_admin(&session),
        object_id,
        pager: Pager::new(&runs, &format!("{BASE}/{id}"), &[], |r| r.id.to_string()),
        runs: runs.items.iter().map(|r| run_row(r, now)).collect(),
        w: row(&w, now),
    };
    Ok(render(code, &page))
}

/// A workflow's page: its definition, its runs, and a form to run it now.
pub async fn show(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let id = parse_id(&id)?;
    let q = Fields::from_query(query.as_deref());
    show_page(&state, session, id, q, String::new(), None).await
}

/// Enables or disables a workflow (administrators), or runs it now on an object (everyone).
pub async fn act(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form,
) -> PageResult {
    let id = parse_id(&id)?;
    let scope = signed.0.scope.clone();
    let object_id = form.text("object_id");
    // Where to go once done.
    let done: Result<String, Error> = match action.as_str() {
        "enable" | "disable" => {
            signed.require_admin()?;
            let status = if action == "enable" {
                WorkflowStatus::Active
            } else {
                WorkflowStatus::Inactive
            };
            let patch = WorkflowPatch {
                status: Some(status),
                ..WorkflowPatch::default()
            };
            state
                .store
                .write(workflows::update(scope, id.clone(), patch))
                .await
                .map(|_| format!("{BASE}/{id}?done={action}"))
        }
        "trigger" if object_id.is_empty() => Err(Error::invalid(
            codes::MISSING_ATTRIBUTE,
            "Enter the id of the inquiry, share token or connection to run the workflow on.",
        )),
        "trigger" => state
            .store
            .write(workflow_triggers::trigger_manually(
                scope,
                id.clone(),
                object_id.clone(),
            ))
            .await
            .map(|run| format!("/dashboard/workflow-runs/{}?done=trigger", run.id)),
        _ => return Err(PageError::not_found()),
    };
    match done {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(e) => {
            // The workflow's page with the message (another organization's workflow is the
            // not-found page: `show_page` cannot load it either).
            let error = form_error(e)?;
            show_page(
                &state,
                signed.0,
                id,
                Fields::default(),
                object_id,
                Some(error),
            )
            .await
        }
    }
}

/// One value a step's output names, linked to its page when it has one.
pub struct OutputItem {
    pub key: String,
    pub value: String,
    pub href: Option<String>,
}

/// One step of a run.
pub struct StepRow {
    pub number: usize,
    pub kind: &'static str,
    pub status: Badge,
    pub output: Vec<OutputItem>,
    pub error: Option<String>,
    pub attempts: u32,
    pub started: When,
    pub finished: When,
}

fn step_status(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Pending => "pending",
        StepStatus::Running => "running",
        StepStatus::Completed => "completed",
        StepStatus::Failed => "failed",
        StepStatus::Skipped => "skipped",
    }
}

fn output_items(output: Option<&Value>) -> Vec<OutputItem> {
    let Some(Value::Object(map)) = output else {
        return output
            .filter(|v| !v.is_null())
            .map(|v| OutputItem {
                key: String::new(),
                value: v.to_string(),
                href: None,
            })
            .into_iter()
            .collect();
    };
    map.iter()
        .map(|(k, v)| match v {
            Value::String(s) => OutputItem {
                key: k.clone(),
                value: s.clone(),
                href: object_href(s),
            },
            other => OutputItem {
                key: k.clone(),
                value: other.to_string(),
                href: None,
            },
        })
        .collect()
}

fn step_row(i: usize, step: &Step, r: &StepRecord, now: Timestamp) -> StepRow {
    StepRow {
        number: i + 1,
        kind: step.kind(),
        status: badge(step_status(r.status)),
        output: output_items(r.output.as_ref()),
        error: r
            .error
            .as_ref()
            .map(|e| format!("{} ({}, {})", sentence(&e.details), e.code, e.status)),
        attempts: r.attempts,
        started: when_opt(r.started_at, now),
        finished: when_opt(r.finished_at, now),
    }
}

#[derive(Template)]
#[template(path = "workflow_run.html")]
struct RunPage {
    chrome: Chrome,
    run: RunRow,
    workflow_id: String,
    workflow_name: String,
    steps: Vec<StepRow>,
    is_running: bool,
}

/// A run's page: its steps, what it acts on and the event that started it.
pub async fn run(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let id = WorkflowRunId::parse(&id).map_err(|_| PageError::not_found())?;
    let q = Fields::from_query(query.as_deref());
    let scope = session.scope.clone();
    let r = state
        .store
        .read(workflow_runs::get(scope.clone(), id))
        .await?;
    let w = state
        .store
        .read(workflows::get(scope, r.workflow_id.clone()))
        .await?;
    let now = state.store.clock().now();
    let name = display_name(&w);
    let page = RunPage {
        chrome: Chrome::new(&session, SECTION, format!("Run of {name}"))
            .with_notice(q.get("done").and_then(notice_for)),
        workflow_id: w.id.to_string(),
        workflow_name: name,
        steps: r
            .steps
            .iter()
            .zip(&r.records)
            .enumerate()
            .map(|(i, (s, rec))| step_row(i, s, rec, now))
            .collect(),
        is_running: !r.status.is_finished(),
        run: run_row(&r, now),
    };
    Ok(render(StatusCode::OK, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_names_every_step_type() {
        let kinds: Vec<&str> = STEP_HELP.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, tessera_core::workflow::STEP_TYPES);
    }

    #[test]
    fn pointers_are_shown_inside_the_definition() {
        let at = |p: &str| form_pointer(&Error::invalid(codes::INVALID_ATTRIBUTE, "x").at(p));
        assert_eq!(
            at("/data/attributes/steps/0/connection-id").as_deref(),
            Some("/steps/0/connection-id")
        );
        assert_eq!(at("/data/attributes"), None);
    }
}
