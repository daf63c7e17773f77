//! The workflow run job: executes a run's steps in order, one unit of work per step, and stops at
//! the first failure. The run's rules live in the store ([`workflow_runs::advance_run`],
//! [`workflow_runs::fail_step`], [`workflow_runs::record_http_outcome`]); the worker sends the
//! `http-request` steps, times their retries, and counts and logs.
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

use bytes::Bytes;
use serde_json::json;
use tessera_core::id::{JobId, WorkflowRunId};
use tessera_core::job::RunWorkflow;
use tessera_core::workflow::run::StepError;
use tessera_core::workflow::{HTTP_STEP_ATTEMPTS, MAX_STEPS};
use tessera_core::{Error, codes, retry};
use tessera_store::units::workflow_runs::{self, Advance, HttpOutcome, HttpPlan};

use super::signed_post::SignedPost;
use super::{Faults, Worker};

pub(super) async fn run(worker: &Worker, job: &JobId, p: &RunWorkflow) -> Result<(), Error> {
    let id = &p.workflow_run_id;
    // Every round finishes a step or stops, so this bound is never what ends a run.
    for _ in 0..=2 * MAX_STEPS {
        let next = match advance(worker, job, id).await? {
            Advance::Http(plan) => send(worker, job, id, *plan).await?,
            other => other,
        };
        if matches!(next, Advance::Stop | Advance::Applied { finished: true }) {
            break;
        }
    }
    Ok(())
}

/// One unit of work: finishes the run if nothing is left, else does the next step's effect and
/// records it (or records the start of an `http-request` step and plans it). A step whose effect
/// was refused fails the run, in a unit of its own (the refused effect's unit rolls back as a
/// whole).
async fn advance(worker: &Worker, job: &JobId, id: &WorkflowRunId) -> Result<Advance, Error> {
    let started = worker.store.clock().now();
    let (unit, refused) =
        workflow_runs::advance_run(id.clone(), job.clone(), worker.lease_ms, started);
    let faults = worker.faults.clone();
    let unit = unit.check(move |advance| {
        if matches!(advance, Advance::Applied { .. })
            && !Faults::take(&faults.workflow_steps_before_fault)
            && Faults::take(&faults.fail_workflow_steps_after_effect)
        {
            return Err(Error::internal(std::io::Error::other(
                "injected fault: the worker died after staging a step's effect",
            )));
        }
        Ok(())
    });
    match worker.store.write(unit).await {
        Ok(next) => Ok(next),
        Err(e) => {
            // A conflict with a concurrent change is worth retrying; other refusals are final.
            let Some(i) = refused.refused(&e) else {
                return Err(e);
            };
            tracing::info!(workflow_run.id = %id, step = i, code = %e.code, "workflow step failed");
            let error = StepError::from_error(&e);
            worker
                .store
                .write(workflow_runs::fail_step(
                    id.clone(),
                    job.clone(),
                    i,
                    started,
                    error,
                ))
                .await?;
            Ok(Advance::Stop)
        }
    }
}

/// Sends one attempt of an `http-request` step and records its outcome: the step finishes, or
/// waits for its next attempt, or (out of attempts) fails the run.
async fn send(
    worker: &Worker,
    job: &JobId,
    id: &WorkflowRunId,
    plan: HttpPlan,
) -> Result<Advance, Error> {
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
    let recorded = HttpOutcome {
        output: json!({ "response-status": outcome.status }),
        error,
        retry_at,
    };
    worker
        .store
        .write(workflow_runs::record_http_outcome(
            id.clone(),
            job.clone(),
            plan.index,
            recorded,
        ))
        .await
}
