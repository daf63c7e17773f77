//! A workflow's page: its definition, its runs and the form that runs it now; and its actions
//! (enable, disable, run by hand).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tessera_core::id::WorkflowId;
use tessera_core::workflow::WorkflowStatus;
use tessera_core::{Error, codes};
use tessera_store::units::sessions::Session;
use tessera_store::units::workflow_runs::{self, RunFilter};
use tessera_store::units::workflow_triggers;
use tessera_store::units::workflows::{self, WorkflowPatch};

use super::definition::current_definition;
use super::runs::{RunRow, run_row};
use super::{BASE, SECTION, WorkflowRow, display_name, is_admin, parse_id, row};
use crate::form::{Fields, Form};
use crate::page::{Chrome, PageError, PageResult, form_error, render};
use crate::session::Signed;
use crate::view::{Pager, or_first_page, page_request};
use tessera_edge::state::AppState;

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

pub(super) fn notice_for(done: &str) -> Option<String> {
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
