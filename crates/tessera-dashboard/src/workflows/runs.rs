//! Runs of a workflow: the row a list shows, and a run's page with its steps, what each one
//! output and the event that started it.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::Value;
use tessera_core::Timestamp;
use tessera_core::id::WorkflowRunId;
use tessera_core::workflow::Step;
use tessera_core::workflow::run::{StepRecord, StepStatus, WorkflowRun};
use tessera_store::units::workflow_runs;
use tessera_store::units::workflows;

use super::show::notice_for;
use super::{SECTION, display_name};
use crate::events::object_href;
use crate::form::Fields;
use crate::page::{Chrome, PageError, PageResult, render, sentence};
use crate::session::Signed;
use crate::view::{Badge, When, badge, when, when_opt};
use tessera_edge::state::AppState;

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

pub(super) fn run_row(r: &WorkflowRun, now: Timestamp) -> RunRow {
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
