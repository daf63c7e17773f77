//! Workflows: the list; creating and editing a definition as JSON, read and checked by the same
//! functions as `POST /api/v1/workflows` (an error is shown above the form with the JSON pointer
//! of the part it is about); the signing secret of a new workflow, shown once; enable and
//! disable; a workflow's page with its definition, its runs and a form that runs it on an
//! object now; and a run's page with its steps. Changing workflows is for administrators;
//! running one by hand is for every user (see `docs/DASHBOARD.md`).
//!
//! One idea a file: this one holds the workflow row and the list; `definition` (the definition
//! as the editor shows and reads it, the step reference, the example), `form` (the create and
//! edit forms and the secret page), `show` (a workflow's page and its actions) and `runs` (a
//! run's page, and the rows of runs and steps).

mod definition;
mod form;
mod runs;
mod show;

pub use definition::{DefinitionError, STEP_HELP, StepHelp};
pub use form::{create, edit, new, update};
pub use runs::{OutputItem, RunRow, StepRow, run};
pub use show::{act, show};

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use tessera_core::Timestamp;
use tessera_core::id::WorkflowId;
use tessera_core::workflow::{Step, Workflow, WorkflowStatus};
use tessera_store::units::sessions::Session;
use tessera_store::units::workflows;

use crate::form::Fields;
use crate::page::{Chrome, PageError, PageResult, render};
use crate::session::Signed;
use crate::view::{Badge, Pager, When, badge, or_first_page, page_request, when};
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

fn parse_id(id: &str) -> Result<WorkflowId, PageError> {
    WorkflowId::parse(id).map_err(|_| PageError::not_found())
}
