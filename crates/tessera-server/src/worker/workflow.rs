//! The workflow run job: executes a run's steps in order, one unit of work per step, and stops at
//! the first failure.
//!
//! Durability: a step that changes Tessera's data does its effect and records "step i finished,
//! output X" in one unit of work, so a crash anywhere leaves the step either not done at all or
//! done and recorded; the job (still leased, then reclaimed) resumes at the first unfinished step
//! and never repeats a finished one. An `http-request` step cannot be inside a transaction: its
//! start is recorded, the request sent, then the outcome recorded — a crash between sending and
//! recording sends it again (at-least-once; the `webhook-id` header is the same on every attempt,
//! for receivers to deduplicate). A failed request is tried again on the webhook schedule, up to
//! [`HTTP_STEP_ATTEMPTS`] attempts.
//!
//! A step that cannot apply (a 4xx the API would have answered) fails the run with its error; an
//! internal error leaves the job to be retried, and a job that keeps failing fails the run.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde_json::json;
use tessera_core::id::{JobId, WorkflowRunId};
use tessera_core::inflect::Inflection;
use tessera_core::job::RunWorkflow;
use tessera_core::webhook::delivery_body;
use tessera_core::workflow::run::StepError;
use tessera_core::workflow::{HTTP_STEP_ATTEMPTS, MAX_STEPS, Step};
use tessera_core::{Error, Timestamp, codes, retry};
use tessera_store::Tx;
use tessera_store::ops::jobs;
use tessera_store::ops::workflow_runs::{self, Running};
use tessera_store::ops::{events, workflow_triggers, workflows};

use super::signed_post::SignedPost;
use super::{Faults, Worker, steps};

/// What to do after one unit of work of a run.
enum Next {
    /// Go on with the next step.
    Continue,
    /// The run is finished (or gone), or waits for a later attempt: this job run is over.
    Stop,
    /// Send an `http-request` step.
    Http(Box<HttpPlan>),
}

/// One attempt of an `http-request` step, prepared inside the unit that recorded its start.
struct HttpPlan {
    index: usize,
    attempt: u32,
    url: String,
    body: Vec<u8>,
    secret: String,
    /// When the step's first attempt started (Persona-Webhook-First-Attempted-At).
    first_attempted_at: Option<Timestamp>,
}

pub(super) async fn run(worker: &Worker, job: &JobId, p: &RunWorkflow) -> Result<(), Error> {
    let id = &p.workflow_run_id;
    // Every round finishes a step or stops, so this bound is never what ends a run.
    for _ in 0..=2 * MAX_STEPS {
        let next = match advance(worker, job, id).await? {
            Next::Http(plan) => send(worker, job, id, *plan).await?,
            other => other,
        };
        if matches!(next, Next::Stop) {
            break;
        }
    }
    Ok(())
}

/// One unit of work: finishes the run if nothing is left, else does the next step's effect and
/// records it (or records the start of an `http-request` step and plans it).
async fn advance(worker: &Worker, job: &JobId, id: &WorkflowRunId) -> Result<Next, Error> {
    let (run_id, job_id) = (id.clone(), job.clone());
    let faults = worker.faults.clone();
    let lease_ms = worker.lease_ms;
    let started = worker.store.clock().now();
    // Which step's effect failed, if one did: its error then fails the run (in a unit of its
    // own, since the failed effect's unit rolls back as a whole).
    let failed_step: Arc<Mutex<Option<usize>>> = Arc::default();
    let flag = failed_step.clone();
    let result = worker
        .store
        .write_tx(move |tx| {
            Box::pin(async move {
                let Some(mut r) = workflow_runs::lock_unfinished(tx, &run_id).await? else {
                    jobs::complete(tx, &job_id).await?;
                    return Ok(Next::Stop);
                };
                let Some(i) = r.run.next_step() else {
                    workflow_runs::complete(tx, &mut r).await?;
                    jobs::complete(tx, &job_id).await?;
                    return Ok(Next::Stop);
                };
                let until = tx.now().plus_millis(lease_ms);
                jobs::extend_lease(tx, &job_id, until).await?;
                let step = r.run.steps.get(i).cloned().ok_or_else(|| {
                    Error::internal(std::io::Error::other("a run's records outnumber its steps"))
                })?;
                if let Step::HttpRequest { url } = &step {
                    workflow_runs::start_step(tx, &mut r, i, started).await?;
                    return Ok(Next::Http(Box::new(http_plan(tx, &r, i, url).await?)));
                }
                tx.set_cause(Some(r.run.cause()));
                let output = match steps::apply(tx, &r, &step).await {
                    Ok(output) => output,
                    Err(e) => {
                        if let Ok(mut f) = flag.lock() {
                            *f = Some(i);
                        }
                        return Err(e);
                    }
                };
                if let Some(rec) = r.run.records.get_mut(i) {
                    rec.started_at.get_or_insert(started);
                    rec.attempts = rec.attempts.saturating_add(1);
                }
                workflow_runs::finish_step(tx, &mut r, i, output).await?;
                if !Faults::take(&faults.workflow_steps_before_fault)
                    && Faults::take(&faults.fail_workflow_steps_after_effect)
                {
                    return Err(Error::internal(std::io::Error::other(
                        "injected fault: the worker died after staging a step's effect",
                    )));
                }
                if r.run.status.is_finished() {
                    jobs::complete(tx, &job_id).await?;
                    return Ok(Next::Stop);
                }
                Ok(Next::Continue)
            })
        })
        .await;
    let step = failed_step.lock().ok().and_then(|mut f| f.take());
    match (result, step) {
        (Ok(next), _) => Ok(next),
        // A conflict with a concurrent change is worth retrying; other refusals are final.
        (Err(e), Some(i)) if e.status.code() < 500 && !e.is(codes::CONFLICT) => {
            tracing::info!(workflow_run.id = %id, step = i, code = %e.code, "workflow step failed");
            fail(worker, job, id, i, started, StepError::from_error(&e)).await?;
            Ok(Next::Stop)
        }
        (Err(e), _) => Err(e),
    }
}

/// Fails step `i` of the run (if it is still the step the run is at) and ends the job.
async fn fail(
    worker: &Worker,
    job: &JobId,
    id: &WorkflowRunId,
    i: usize,
    started: Timestamp,
    error: StepError,
) -> Result<(), Error> {
    let (id, job_id) = (id.clone(), job.clone());
    worker
        .store
        .write_tx(move |tx| {
            Box::pin(async move {
                if let Some(mut r) = workflow_runs::lock_unfinished(tx, &id).await?
                    && r.run.next_step() == Some(i)
                {
                    if let Some(rec) = r.run.records.get_mut(i) {
                        rec.started_at.get_or_insert(started);
                    }
                    workflow_runs::fail_step(tx, &mut r, i, error).await?;
                }
                jobs::complete(tx, &job_id).await
            })
        })
        .await
}

/// The document an `http-request` step sends: the trigger event as a webhook receives it, or —
/// for a manual run, which has no event — `{"data": <the object as the organization sees it>}`.
async fn http_plan(tx: &mut Tx, r: &Running, index: usize, url: &str) -> Result<HttpPlan, Error> {
    let workflow = workflows::get_unscoped(tx, &r.run.workflow_id).await?;
    let body = match &r.run.trigger_event_id {
        Some(event) => {
            let event = events::get(tx, &r.scope, event).await?;
            delivery_body(&event, Inflection::Kebab)
        }
        None => {
            let object = workflow_triggers::object(tx, &r.scope, &r.run.object_id).await?;
            serde_json::to_vec(&json!({ "data": object })).map_err(Error::internal)?
        }
    };
    Ok(HttpPlan {
        index,
        attempt: r.run.records.get(index).map_or(1, |rec| rec.attempts),
        url: url.to_owned(),
        body,
        secret: workflow.secret,
        first_attempted_at: r.run.records.get(index).and_then(|rec| rec.started_at),
    })
}

/// Sends one attempt of an `http-request` step and records its outcome: the step finishes, or
/// waits for its next attempt, or (out of attempts) fails the run.
async fn send(
    worker: &Worker,
    job: &JobId,
    id: &WorkflowRunId,
    plan: HttpPlan,
) -> Result<Next, Error> {
    let now = worker.store.clock().now();
    // The message id is the same on every attempt of this step of this run.
    let msg_id = format!("{id}_{}", plan.index);
    let headers = SignedPost {
        agent: "Tessera-Workflows",
        secrets: &[&plan.secret],
        message_id: &msg_id,
        body: &plan.body,
        attempt: plan.attempt,
        max_attempts: HTTP_STEP_ATTEMPTS,
        first_attempted_at: plan.first_attempted_at.unwrap_or(now),
        now,
        custom: None,
    }
    .headers();
    let outcome = worker
        .outbound
        .post(&plan.url, headers, Bytes::from(plan.body))
        .await;
    let succeeded = outcome.is_success();
    metrics::counter!("tessera_workflow_http_requests_total", "outcome" => if succeeded { "succeeded" } else { "failed" }).increment(1);
    let error = (!succeeded).then(|| StepError {
        status: 502,
        code: codes::HTTP_REQUEST_FAILED.into(),
        details: match (&outcome.failure, outcome.status) {
            (Some(f), _) => format!("POST {}: {}: {}", plan.url, f.kind, f.message),
            (None, status) => format!("POST {} answered {}", plan.url, status.unwrap_or(0)),
        },
    });
    // None after the last attempt (HTTP_STEP_ATTEMPTS, the policy's limit): the step fails.
    let retry_at = worker.retry.http_steps.next_retry_at(
        now,
        plan.attempt,
        retry::random_jitter(),
        outcome.retry_after,
    );
    let output = json!({ "response-status": outcome.status });
    let (id, job_id, i) = (id.clone(), job.clone(), plan.index);
    worker
        .store
        .write_tx(move |tx| {
            Box::pin(async move {
                let Some(mut r) = workflow_runs::lock_unfinished(tx, &id).await? else {
                    jobs::complete(tx, &job_id).await?;
                    return Ok(Next::Stop);
                };
                if r.run.next_step() != Some(i) {
                    // Another worker recorded this step meanwhile.
                    return Ok(Next::Continue);
                }
                match (error, retry_at) {
                    (None, _) => {
                        workflow_runs::finish_step(tx, &mut r, i, output).await?;
                        if r.run.status.is_finished() {
                            jobs::complete(tx, &job_id).await?;
                            return Ok(Next::Stop);
                        }
                        Ok(Next::Continue)
                    }
                    (Some(error), Some(at)) => {
                        workflow_runs::note_step_error(tx, &mut r, i, error).await?;
                        jobs::reschedule(tx, &job_id, at).await?;
                        Ok(Next::Stop)
                    }
                    (Some(error), None) => {
                        workflow_runs::fail_step(tx, &mut r, i, error).await?;
                        jobs::complete(tx, &job_id).await?;
                        Ok(Next::Stop)
                    }
                }
            })
        })
        .await
}

pub(super) async fn give_up(tx: &mut Tx, p: &RunWorkflow) -> Result<(), Error> {
    workflow_runs::give_up(tx, &p.workflow_run_id).await
}
