//! The store contract for workflows: definitions (checked when saved), the runs events start in
//! their own unit of work (with their jobs and `workflow-run.created` events, fanned out in turn
//! under the rules that bound chains), manual runs, and the units a run's job is made of
//! (advancing a step, failing a refused one, `http-request` outcomes, giving up). Each scenario
//! runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    all, claim_jobs, event_names, inquiry, job_counts, org, read, read_refused, refused, rows,
    write,
};
use serde_json::json;
use tessera_core::codes;
use tessera_core::connection::ConnectionAction;
use tessera_core::id::{ApiKeyId, EventId, JobId, WorkflowId, WorkflowRunId};
use tessera_core::inquiry::{InquiryAction, InquiryStatus};
use tessera_core::job::{Job, RedeemShareToken};
use tessera_core::retry::{INTERNAL_JOB, RetryPolicy};
use tessera_core::share_token::{RedeemParams, SourceId, TokenSpec};
use tessera_core::tenancy::{Actor, Scope};
use tessera_core::workflow::run::{RunStatus, StepError, StepStatus, WorkflowRun};
use tessera_core::workflow::{
    Cause, Condition, MAX_DEPTH, MAX_RUNS_PER_CHAIN, Op, Step, Trigger, Workflow, WorkflowStatus,
};
use tessera_store::testing::{Backend, TestDb, sql};
use tessera_store::units::{
    connections, inquiries, jobs, redemption, share_tokens, workflow_runs, workflow_triggers,
    workflows,
};
use tessera_store::{Store, args, on_both_backends};

const LEASE_MS: i64 = 60_000;

fn on(event: &str) -> Trigger {
    Trigger {
        event: event.into(),
        conditions: Vec::new(),
    }
}

fn definition(trigger: Trigger, steps: Vec<Step>) -> workflows::NewWorkflow {
    workflows::NewWorkflow {
        name: Some("wf".into()),
        status: WorkflowStatus::Active,
        trigger,
        steps,
        secret: "wfsec".into(),
    }
}

async fn workflow(store: &Store, scope: &Scope, trigger: Trigger, steps: Vec<Step>) -> Workflow {
    write(
        store,
        workflows::create(scope.clone(), definition(trigger, steps)),
    )
    .await
}

fn tag(t: &str) -> Step {
    Step::TagInquiry { tag: t.into() }
}

fn http() -> Step {
    Step::HttpRequest {
        url: "https://hooks.example.com/wf".into(),
    }
}

/// Every run of a scope, oldest first.
async fn runs(store: &Store, scope: &Scope) -> Vec<WorkflowRun> {
    let mut items = read(
        store,
        workflow_runs::list(scope.clone(), Default::default(), all()),
    )
    .await
    .items;
    items.reverse();
    items
}

/// The one queued job, a run's.
async fn run_job(store: &Store) -> (JobId, WorkflowRunId) {
    let mut jobs = claim_jobs(store).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    match jobs.pop().unwrap() {
        (id, Job::RunWorkflow(p)) => (id, p.workflow_run_id),
        other => panic!("{other:?}"),
    }
}

async fn advance(store: &Store, run: &WorkflowRunId, job: &JobId) -> workflow_runs::Advance {
    let (unit, _) =
        workflow_runs::advance_run(run.clone(), job.clone(), LEASE_MS, common::now(store));
    write(store, unit).await
}

async fn definitions_are_checked_saved_and_read(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, a_prod) = org(store, "A").await;
    let (b, _) = org(store, "B").await;
    let w = workflow(store, &a, on("inquiry.created"), vec![tag("new")]).await;
    assert_eq!(w.status, WorkflowStatus::Active);
    let got = read(store, workflows::get(a.clone(), w.id.clone())).await;
    assert_eq!(got.trigger, on("inquiry.created"));
    assert_eq!(got.steps, vec![tag("new")]);
    assert_eq!(got.secret, "wfsec");
    let unscoped = read(store, workflows::get_unscoped(w.id.clone())).await;
    assert_eq!(unscoped.id, w.id);
    let e = read_refused(store, workflows::get(a_prod, w.id.clone())).await;
    assert!(e.is(codes::NOT_FOUND));
    // A step whose input the trigger's event does not carry.
    let e = refused(
        store,
        workflows::create(
            a.clone(),
            definition(on("connect/connection.inbound-created"), vec![tag("x")]),
        ),
    )
    .await;
    assert!(e.is(codes::STEP_INPUT_UNAVAILABLE));
    // A connection the caller cannot share over, or cannot see.
    let c = write(
        store,
        connections::create(
            b.clone(),
            a.org.clone(),
            None,
            Actor::ApiKey(ApiKeyId::generate()),
        ),
    )
    .await;
    let share = |connection_id| Step::CreateShareToken {
        connection_id,
        expires_in_seconds: None,
        disclosure: Default::default(),
    };
    let e = refused(
        store,
        workflows::create(
            a.clone(),
            definition(on("inquiry.completed"), vec![share(c.id.clone())]),
        ),
    )
    .await;
    assert!(e.is(codes::CONNECTION_NOT_OUTBOUND));
    // (Between two other organizations: A sees neither side of it.)
    let (x, _) = org(store, "X").await;
    let theirs = write(
        store,
        connections::create(x, b.org.clone(), None, Actor::ApiKey(ApiKeyId::generate())),
    )
    .await;
    let e = refused(
        store,
        workflows::create(
            a.clone(),
            definition(on("inquiry.completed"), vec![share(theirs.id)]),
        ),
    )
    .await;
    assert!(e.is(codes::REFERENCE_NOT_FOUND));
    assert_eq!(rows(store, "workflows").await, 1);
    // Updates: a new definition is checked whole; runs keep the steps they were made with.
    let patch = workflows::WorkflowPatch {
        name: Some(None),
        status: Some(WorkflowStatus::Inactive),
        steps: Some(vec![tag("renamed"), http()]),
        ..Default::default()
    };
    let updated = write(store, workflows::update(a.clone(), w.id.clone(), patch)).await;
    assert_eq!(updated.name, None);
    let got = read(store, workflows::get(a.clone(), w.id.clone())).await;
    assert_eq!(got.status, WorkflowStatus::Inactive);
    assert_eq!(got.steps, vec![tag("renamed"), http()]);
    let bad = workflows::WorkflowPatch {
        trigger: Some(on("connect/share-token.inbound-created")),
        ..Default::default()
    };
    let e = refused(store, workflows::update(a.clone(), w.id.clone(), bad)).await;
    assert!(e.is(codes::STEP_INPUT_UNAVAILABLE));
    assert_eq!(
        read(store, workflows::get(a.clone(), w.id.clone()))
            .await
            .trigger,
        on("inquiry.created")
    );
    let second = workflow(store, &a, on("inquiry.approved"), vec![tag("ok")]).await;
    let listed: Vec<WorkflowId> = read(store, workflows::list(a.clone(), all()))
        .await
        .items
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(listed, vec![second.id, w.id]);
    // Saving definitions emits nothing (A's one event is B's connection) and queues nothing.
    assert_eq!(
        event_names(store, &a).await,
        vec!["connect/connection.inbound-created"]
    );
    assert_eq!(job_counts(store).await, Default::default());
}

async fn an_event_starts_the_runs_of_matching_active_workflows(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let (b, _) = org(store, "B").await;
    let starts = workflow(store, &a, on("inquiry.created"), vec![tag("t"), http()]).await;
    let inactive = workflows::NewWorkflow {
        status: WorkflowStatus::Inactive,
        ..definition(on("inquiry.created"), vec![tag("t")])
    };
    write(store, workflows::create(a.clone(), inactive)).await;
    let vip_only = Trigger {
        event: "inquiry.created".into(),
        conditions: vec![Condition {
            path: "/data/attributes/note".into(),
            op: Op::Eq,
            value: json!("vip"),
        }],
    };
    workflow(store, &a, vip_only, vec![tag("vip")]).await;
    workflow(store, &a, on("inquiry.approved"), vec![tag("t")]).await;
    workflow(store, &b, on("inquiry.created"), vec![tag("t")]).await;
    let id = inquiry(store, &a).await;
    // One run, made in the event's unit: pending, the workflow's steps, its job, its event.
    let made = runs(store, &a).await;
    assert_eq!(made.len(), 1);
    let run = &made[0];
    let created = common::all_events(store, &a).await;
    assert_eq!(
        created.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        vec!["inquiry.created", "workflow-run.created"]
    );
    assert_eq!(run.workflow_id, starts.id);
    assert_eq!(run.status, RunStatus::Pending);
    assert_eq!(run.steps, vec![tag("t"), http()]);
    assert!(run.records.iter().all(|r| r.status == StepStatus::Pending));
    assert_eq!(run.object_type, "inquiry");
    assert_eq!(run.object_id, id.to_string());
    assert_eq!(run.trigger_event_id, Some(created[0].id.clone()));
    assert_eq!(run.depth, 1);
    assert_eq!(run.chain, created[0].id.to_string());
    assert_eq!(created[1].object_id, run.id.to_string());
    let (_, job_run) = run_job(store).await;
    assert_eq!(job_run, run.id);
    let got = read(store, workflow_runs::get(a.clone(), run.id.clone())).await;
    assert_eq!(got.id, run.id);
    assert!(runs(store, &b).await.is_empty());
    let e = read_refused(store, workflow_runs::get(b.clone(), run.id.clone())).await;
    assert!(e.is(codes::NOT_FOUND));
    let by_workflow = workflow_runs::RunFilter {
        workflow_id: Some(starts.id.clone()),
    };
    assert_eq!(
        read(store, workflow_runs::list(a.clone(), by_workflow, all()))
            .await
            .items
            .len(),
        1
    );
    let other = workflow_runs::RunFilter {
        workflow_id: Some(WorkflowId::generate()),
    };
    assert!(
        read(store, workflow_runs::list(a.clone(), other, all()))
            .await
            .items
            .is_empty()
    );
}

async fn runs_caused_by_runs_fan_out_depth_first_and_stop_at_the_depth_limit(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let first = workflow(store, &a, on("inquiry.created"), vec![http()]).await;
    let second = workflow(store, &a, on("workflow-run.created"), vec![http()]).await;
    let third = workflow(store, &a, on("workflow-run.created"), vec![http()]).await;
    inquiry(store, &a).await;
    let event = common::all_events(store, &a).await[0].clone();
    assert_eq!(event.name, "inquiry.created");
    // Each run's created event starts the other workflows (never its own), one level deeper,
    // each followed through before the next workflow is considered, down to MAX_DEPTH.
    let made: Vec<(WorkflowId, u32)> = runs(store, &a)
        .await
        .into_iter()
        .map(|r| {
            assert_eq!(r.chain, event.id.to_string());
            (r.workflow_id, r.depth)
        })
        .collect();
    let (w1, w2, w3) = (first.id, second.id, third.id);
    assert_eq!(MAX_DEPTH, 5, "the expected runs below assume it");
    assert_eq!(
        made,
        vec![
            (w1.clone(), 1),
            (w2.clone(), 2),
            (w3.clone(), 3),
            (w2.clone(), 4),
            (w3.clone(), 5),
            (w3.clone(), 2),
            (w2.clone(), 3),
            (w3.clone(), 4),
            (w2.clone(), 5),
        ]
    );
    let names = event_names(store, &a).await;
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "workflow-run.created")
            .count(),
        9
    );
    assert_eq!(claim_jobs(store).await.len(), 9);
    // The chain was charged once per run.
    let row = sql::fetch_one(
        store,
        "select runs from workflow_chains where id = $1",
        args![event.id.as_str()],
    )
    .await
    .unwrap();
    assert_eq!(row.i64("runs").unwrap(), 9);
}

async fn a_chain_that_used_its_budget_starts_no_run(backend: Backend) {
    // A redemption a run started acts for that run: the copy's events carry its chain and depth.
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (source, _) = org(store, "Source").await;
    let (dest, _) = org(store, "Destination").await;
    let c = write(
        store,
        connections::create(
            source.clone(),
            dest.org.clone(),
            None,
            Actor::ApiKey(ApiKeyId::generate()),
        ),
    )
    .await;
    write(
        store,
        connections::act(dest.clone(), c.id.clone(), ConnectionAction::Activate),
    )
    .await;
    let on_copy = workflow(store, &dest, on("inquiry.created"), vec![tag("copied")]).await;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let i = inquiry(store, &source).await;
        write(
            store,
            inquiries::transition(source.clone(), i.clone(), InquiryAction::Complete),
        )
        .await;
        let t = write(
            store,
            share_tokens::create(
                source.clone(),
                TokenSpec::new(c.id.clone(), SourceId::Inquiry(i), 600),
                Actor::ApiKey(ApiKeyId::generate()),
            ),
        )
        .await;
        write(
            store,
            share_tokens::redeem(dest.clone(), t.id.clone(), RedeemParams::default()),
        )
        .await;
        tokens.push(t.id);
    }
    let queued: Vec<(JobId, RedeemShareToken)> = claim_jobs(store)
        .await
        .into_iter()
        .map(|(id, job)| match job {
            Job::RedeemShareToken(p) => (id, p),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(queued.len(), tokens.len());
    // The run that started them (of another workflow), in a chain with one run left.
    let cause = |chain: &str| Cause {
        workflow_id: WorkflowId::generate(),
        run_id: WorkflowRunId::generate(),
        chain: chain.into(),
        depth: 2,
    };
    let now = common::now(store);
    sql::execute(
        store,
        "insert into workflow_chains (id, runs, created_at) values ('nearly-done', $1, $2)",
        args![MAX_RUNS_PER_CHAIN - 1, now],
    )
    .await
    .unwrap();
    for (job, payload) in queued {
        let payload = RedeemShareToken {
            cause: Some(cause("nearly-done")),
            ..payload
        };
        let outcome = write(store, redemption::redeem(job, payload)).await;
        assert!(
            matches!(outcome, redemption::Outcome::Redeemed(_)),
            "{outcome:?}"
        );
    }
    // Two copies, two `inquiry.created` events, one run: the chain's last.
    let made = runs(store, &dest).await;
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].workflow_id, on_copy.id);
    assert_eq!(made[0].chain, "nearly-done");
    assert_eq!(made[0].depth, 3);
    let copies = event_names(store, &dest)
        .await
        .into_iter()
        .filter(|n| n == "inquiry.created")
        .count();
    assert_eq!(copies, 2);
    // Chains are forgotten after a while.
    assert_eq!(
        write(store, workflow_triggers::purge_chains(60_000)).await,
        0
    );
    db.clock.advance_millis(60_001);
    assert_eq!(
        write(store, workflow_triggers::purge_chains(60_000)).await,
        1
    );
    assert_eq!(rows(store, "workflow_chains").await, 0);
}

async fn a_run_advances_step_by_step_with_its_effects(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let w = workflow(
        store,
        &a,
        on("inquiry.created"),
        vec![tag("auto"), Step::MarkInquiryForReview],
    )
    .await;
    // A workflow on tag changes: the run's own effects never start the run's own workflow, but
    // start this one (one level deeper).
    let on_tags = workflow(store, &a, on("inquiry.updated-tags"), vec![http()]).await;
    let id = inquiry(store, &a).await;
    let (job, run) = run_job(store).await;
    let step = advance(store, &run, &job).await;
    assert!(
        matches!(step, workflow_runs::Advance::Applied { finished: false }),
        "{step:?}"
    );
    let i = read(store, inquiries::get(a.clone(), id.clone())).await;
    assert_eq!(i.tags, vec!["auto".to_owned()]);
    let r = read(store, workflow_runs::get(a.clone(), run.clone())).await;
    assert_eq!(r.status, RunStatus::Running);
    assert_eq!(r.records[0].status, StepStatus::Completed);
    assert_eq!(r.records[0].attempts, 1);
    assert_eq!(
        r.records[0].output,
        Some(json!({"inquiry-id": id, "tags": ["auto"]}))
    );
    assert_eq!(r.records[1].status, StepStatus::Pending);
    let caused = runs(store, &a).await;
    assert_eq!(caused.len(), 2);
    assert_eq!(caused[1].workflow_id, on_tags.id);
    assert_eq!(caused[1].depth, 2);
    assert_eq!(caused[1].chain, r.chain);
    // The last step: the run completes with its event, and the job is done.
    let step = advance(store, &run, &job).await;
    assert!(
        matches!(step, workflow_runs::Advance::Applied { finished: true }),
        "{step:?}"
    );
    assert_eq!(
        read(store, inquiries::get(a.clone(), id.clone()))
            .await
            .status,
        InquiryStatus::NeedsReview
    );
    let r = read(store, workflow_runs::get(a.clone(), run.clone())).await;
    assert_eq!(r.status, RunStatus::Completed);
    assert!(r.completed_at.is_some());
    let events = common::all_events(store, &a).await;
    let last = events.last().unwrap();
    assert_eq!(last.name, "workflow-run.completed");
    assert_eq!(last.object_id, run.to_string());
    // Only the caused run's job is left.
    let left = claim_jobs(store).await;
    assert_eq!(left.len(), 1);
    assert!(matches!(&left[0].1, Job::RunWorkflow(p) if p.workflow_run_id == caused[1].id));
    // A finished run: nothing to do, and its job (were it still there) is done.
    let step = advance(store, &run, &job).await;
    assert!(matches!(step, workflow_runs::Advance::Stop), "{step:?}");
    assert_eq!(w.id, r.workflow_id);
}

async fn a_refused_step_rolls_back_and_fails_the_run(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    workflow(
        store,
        &a,
        on("inquiry.created"),
        vec![tag("before"), Step::ApproveInquiry, tag("after")],
    )
    .await;
    let id = inquiry(store, &a).await;
    let (job, run) = run_job(store).await;
    advance(store, &run, &job).await;
    let before = event_names(store, &a).await;
    // Approving a `created` inquiry is refused: the unit rolls back whole, naming the step.
    let started = common::now(store);
    let (unit, refused_step) =
        workflow_runs::advance_run(run.clone(), job.clone(), LEASE_MS, started);
    let e = store
        .write(unit)
        .await
        .expect_err("the approval is refused");
    assert!(e.is(codes::INVALID_STATUS_TRANSITION));
    assert_eq!(refused_step.refused(&e), Some(1));
    let r = read(store, workflow_runs::get(a.clone(), run.clone())).await;
    assert_eq!(r.records[1].status, StepStatus::Pending);
    assert_eq!(event_names(store, &a).await, before);
    // The worker fails the run at that step, in a unit of its own.
    let error = StepError::from_error(&e);
    write(
        store,
        workflow_runs::fail_step(run.clone(), job.clone(), 1, started, error.clone()),
    )
    .await;
    let r = read(store, workflow_runs::get(a.clone(), run.clone())).await;
    assert_eq!(r.status, RunStatus::Failed);
    assert_eq!(
        r.records.iter().map(|x| x.status).collect::<Vec<_>>(),
        vec![
            StepStatus::Completed,
            StepStatus::Failed,
            StepStatus::Skipped
        ]
    );
    assert_eq!(r.records[1].error, Some(error.clone()));
    assert_eq!(r.records[1].started_at, Some(started));
    assert_eq!(
        event_names(store, &a).await[before.len()..],
        ["workflow-run.failed"]
    );
    assert_eq!(job_counts(store).await, Default::default());
    assert_eq!(
        read(store, inquiries::get(a.clone(), id)).await.status,
        InquiryStatus::Created
    );
    // Failing it again (a retried unit) changes nothing.
    write(
        store,
        workflow_runs::fail_step(run.clone(), job, 1, started, error),
    )
    .await;
    assert_eq!(
        event_names(store, &a).await[before.len()..],
        ["workflow-run.failed"]
    );
}

async fn http_steps_are_planned_and_their_outcomes_recorded(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    workflow(store, &a, on("inquiry.created"), vec![http(), tag("done")]).await;
    let id = inquiry(store, &a).await;
    let trigger: EventId = common::all_events(store, &a).await[0].id.clone();
    let (job, run) = run_job(store).await;
    let started = common::now(store);
    let workflow_runs::Advance::Http(plan) = advance(store, &run, &job).await else {
        panic!("an http-request step is planned")
    };
    assert_eq!(plan.index, 0);
    assert_eq!(plan.attempt, 1);
    assert_eq!(plan.url, "https://hooks.example.com/wf");
    assert_eq!(plan.secret, "wfsec");
    assert_eq!(plan.first_attempted_at, Some(started));
    let body: serde_json::Value = serde_json::from_slice(&plan.body).unwrap();
    assert_eq!(body["data"]["id"], json!(trigger));
    assert_eq!(body["data"]["attributes"]["name"], json!("inquiry.created"));
    let r = read(store, workflow_runs::get(a.clone(), run.clone())).await;
    assert_eq!(r.status, RunStatus::Running);
    assert_eq!(r.records[0].status, StepStatus::Running);
    // A failed attempt with attempts left: the error noted, the job paused until the retry.
    let error = StepError {
        status: 502,
        code: "http_request_failed".into(),
        details: "POST answered 500".into(),
    };
    let retry_at = common::now(store).plus_millis(5_000);
    let next = write(
        store,
        workflow_runs::record_http_outcome(
            run.clone(),
            job.clone(),
            0,
            workflow_runs::HttpOutcome {
                output: json!({"response-status": 500}),
                error: Some(error.clone()),
                retry_at: Some(retry_at),
            },
        ),
    )
    .await;
    assert!(matches!(next, workflow_runs::Advance::Stop), "{next:?}");
    let r = read(store, workflow_runs::get(a.clone(), run.clone())).await;
    assert_eq!(r.records[0].error, Some(error));
    assert!(claim_jobs(store).await.is_empty(), "paused");
    db.clock.advance_millis(5_000);
    let (job, _) = run_job(store).await;
    let workflow_runs::Advance::Http(plan) = advance(store, &run, &job).await else {
        panic!("the step is tried again")
    };
    assert_eq!(plan.attempt, 2);
    assert_eq!(plan.first_attempted_at, Some(started));
    // It succeeds: the step finishes, the run goes on.
    let next = write(
        store,
        workflow_runs::record_http_outcome(
            run.clone(),
            job.clone(),
            0,
            workflow_runs::HttpOutcome {
                output: json!({"response-status": 200}),
                error: None,
                retry_at: None,
            },
        ),
    )
    .await;
    assert!(matches!(next, workflow_runs::Advance::Continue), "{next:?}");
    let r = read(store, workflow_runs::get(a.clone(), run.clone())).await;
    assert_eq!(r.records[0].status, StepStatus::Completed);
    assert_eq!(r.records[0].error, None);
    assert_eq!(r.records[0].output, Some(json!({"response-status": 200})));
    // An outcome for a step the run has left (another worker recorded it) changes nothing.
    let next = write(
        store,
        workflow_runs::record_http_outcome(
            run.clone(),
            job.clone(),
            0,
            workflow_runs::HttpOutcome {
                output: json!({}),
                error: Some(StepError {
                    status: 502,
                    code: "x".into(),
                    details: "late".into(),
                }),
                retry_at: None,
            },
        ),
    )
    .await;
    assert!(matches!(next, workflow_runs::Advance::Continue), "{next:?}");
    let step = advance(store, &run, &job).await;
    assert!(
        matches!(step, workflow_runs::Advance::Applied { finished: true }),
        "{step:?}"
    );
    assert_eq!(
        read(store, inquiries::get(a.clone(), id)).await.tags,
        vec!["done".to_owned()]
    );
    assert_eq!(job_counts(store).await, Default::default());
}

async fn an_http_step_out_of_attempts_fails_the_run(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    workflow(store, &a, on("inquiry.created"), vec![http(), tag("never")]).await;
    let id = inquiry(store, &a).await;
    let (job, run) = run_job(store).await;
    advance(store, &run, &job).await;
    let error = StepError {
        status: 502,
        code: "http_request_failed".into(),
        details: "timed out".into(),
    };
    let next = write(
        store,
        workflow_runs::record_http_outcome(
            run.clone(),
            job,
            0,
            workflow_runs::HttpOutcome {
                output: json!({"response-status": null}),
                error: Some(error.clone()),
                retry_at: None,
            },
        ),
    )
    .await;
    assert!(matches!(next, workflow_runs::Advance::Stop), "{next:?}");
    let r = read(store, workflow_runs::get(a.clone(), run.clone())).await;
    assert_eq!(r.status, RunStatus::Failed);
    assert_eq!(r.records[0].status, StepStatus::Failed);
    assert_eq!(r.records[0].error, Some(error));
    assert_eq!(r.records[1].status, StepStatus::Skipped);
    assert_eq!(
        event_names(store, &a).await.last().map(String::as_str),
        Some("workflow-run.failed")
    );
    assert_eq!(job_counts(store).await, Default::default());
    assert!(read(store, inquiries::get(a, id)).await.tags.is_empty());
}

async fn a_workflow_runs_by_hand_on_an_object(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let w = workflow(store, &a, on("inquiry.approved"), vec![http()]).await;
    let id = inquiry(store, &a).await;
    let object = read(store, workflow_triggers::object(a.clone(), id.to_string())).await;
    assert_eq!(object["type"], json!("inquiry"));
    assert_eq!(object["id"], json!(id));
    let before = event_names(store, &a).await;
    let run = write(
        store,
        workflow_triggers::trigger_manually(a.clone(), w.id.clone(), id.to_string()),
    )
    .await;
    assert_eq!(run.trigger_event_id, None);
    assert_eq!(run.chain, run.id.to_string());
    assert_eq!(run.depth, 1);
    assert_eq!(run.object_id, id.to_string());
    assert_eq!(
        event_names(store, &a).await[before.len()..],
        ["workflow-run.created"]
    );
    let (job, queued) = run_job(store).await;
    assert_eq!(queued, run.id);
    let row = sql::fetch_one(
        store,
        "select runs from workflow_chains where id = $1",
        args![run.chain.as_str()],
    )
    .await
    .unwrap();
    assert_eq!(row.i64("runs").unwrap(), 1);
    // A manual run's http-request step sends the object, as the organization sees it now.
    let workflow_runs::Advance::Http(plan) = advance(store, &run.id, &job).await else {
        panic!("planned")
    };
    let body: serde_json::Value = serde_json::from_slice(&plan.body).unwrap();
    assert_eq!(body, json!({"data": object}));
    // Refusals: an inactive workflow, an object of a kind a step cannot act on, one not seen.
    let inactive = workflows::WorkflowPatch {
        status: Some(WorkflowStatus::Inactive),
        ..Default::default()
    };
    let tagger = workflow(store, &a, on("inquiry.created"), vec![tag("x")]).await;
    let (b, _) = org(store, "B").await;
    let theirs = inquiry(store, &b).await;
    let before = (
        event_names(store, &a).await,
        rows(store, "workflow_runs").await,
    );
    let e = refused(
        store,
        workflow_triggers::trigger_manually(a.clone(), tagger.id.clone(), "wfl_nope".into()),
    )
    .await;
    assert!(e.is(codes::INVALID_TRIGGER_OBJECT));
    let e = refused(
        store,
        workflow_triggers::trigger_manually(a.clone(), tagger.id.clone(), theirs.to_string()),
    )
    .await;
    assert!(e.is(codes::NOT_FOUND));
    write(
        store,
        workflows::update(a.clone(), tagger.id.clone(), inactive),
    )
    .await;
    let e = refused(
        store,
        workflow_triggers::trigger_manually(a.clone(), tagger.id, id.to_string()),
    )
    .await;
    assert!(e.is(codes::WORKFLOW_NOT_ACTIVE));
    assert_eq!(
        (
            event_names(store, &a).await,
            rows(store, "workflow_runs").await
        ),
        before
    );
    let e = read_refused(store, workflow_triggers::object(a, theirs.to_string())).await;
    assert!(e.is(codes::NOT_FOUND));
}

async fn a_run_is_given_up(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    workflow(
        store,
        &a,
        on("inquiry.created"),
        vec![tag("one"), tag("two")],
    )
    .await;
    inquiry(store, &a).await;
    inquiry(store, &a).await;
    let made = runs(store, &a).await;
    let (by_hand, by_job) = (made[0].id.clone(), made[1].id.clone());
    // By hand: the step it is at fails with an internal error; the run fails with its event.
    write(store, workflow_runs::give_up(by_hand.clone())).await;
    let r = read(store, workflow_runs::get(a.clone(), by_hand.clone())).await;
    assert_eq!(r.status, RunStatus::Failed);
    assert_eq!(r.records[0].status, StepStatus::Failed);
    assert_eq!(r.records[0].error.as_ref().map(|e| e.status), Some(500));
    assert_eq!(r.records[1].status, StepStatus::Skipped);
    let failed = |names: Vec<String>| names.iter().filter(|n| *n == "workflow-run.failed").count();
    assert_eq!(failed(event_names(store, &a).await), 1);
    // A finished run is left as it is.
    write(store, workflow_runs::give_up(by_hand)).await;
    assert_eq!(failed(event_names(store, &a).await), 1);
    // A run's job out of attempts gives the run up, and is buried.
    let claimed = common::claim_all(store).await;
    let job = claimed
        .into_iter()
        .find(|c| matches!(&c.job, Ok(Job::RunWorkflow(p)) if p.workflow_run_id == by_job))
        .unwrap();
    let last = RetryPolicy {
        max_attempts: 1,
        ..INTERNAL_JOB
    };
    write(store, jobs::fail(job, last, 0.5, "internal".into())).await;
    let r = read(store, workflow_runs::get(a.clone(), by_job)).await;
    assert_eq!(r.status, RunStatus::Failed);
    assert_eq!(failed(event_names(store, &a).await), 2);
    assert_eq!(job_counts(store).await.dead, 1);
}

/// The one item of `items`.
fn one<T: std::fmt::Debug>(items: Vec<T>, what: &str) -> T {
    assert_eq!(items.len(), 1, "{what}: {items:?}");
    items.into_iter().next().unwrap()
}

/// Claims every due job; the runs' jobs by run.
async fn run_jobs(store: &Store) -> Vec<(JobId, WorkflowRunId)> {
    claim_jobs(store)
        .await
        .into_iter()
        .filter_map(|(id, job)| match job {
            Job::RunWorkflow(p) => Some((id, p.workflow_run_id)),
            _ => None,
        })
        .collect()
}

async fn steps_act_for_their_run_across_organizations(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (source, _) = org(store, "Source").await;
    let (dest, _) = org(store, "Destination").await;
    // The destination accepts connections, and redeems what is shared with it.
    let accept = workflow(
        store,
        &dest,
        on("connect/connection.inbound-created"),
        vec![Step::ActivateConnection],
    )
    .await;
    let redeem = workflow(
        store,
        &dest,
        on("connect/share-token.inbound-created"),
        vec![Step::RedeemShareToken {
            inquiry_template_id: None,
            field_mappings: Vec::new(),
        }],
    )
    .await;
    let c = write(
        store,
        connections::create(
            source.clone(),
            dest.org.clone(),
            None,
            Actor::ApiKey(ApiKeyId::generate()),
        ),
    )
    .await;
    let (job, run) = one(run_jobs(store).await, "the acceptance");
    let step = advance(store, &run, &job).await;
    assert!(
        matches!(step, workflow_runs::Advance::Applied { finished: true }),
        "{step:?}"
    );
    let got = read(store, connections::get(source.clone(), c.id.clone())).await;
    assert_eq!(
        got.status,
        tessera_core::connection::ConnectionStatus::Active
    );
    let r = read(store, workflow_runs::get(dest.clone(), run)).await;
    assert_eq!(r.workflow_id, accept.id);
    assert_eq!(
        r.records[0].output,
        Some(json!({"connection-id": c.id, "status": "active"}))
    );
    // The source shares every completed inquiry over it.
    let share = workflow(
        store,
        &source,
        on("inquiry.completed"),
        vec![Step::CreateShareToken {
            connection_id: c.id.clone(),
            expires_in_seconds: Some(600),
            disclosure: Default::default(),
        }],
    )
    .await;
    let i = inquiry(store, &source).await;
    write(
        store,
        inquiries::transition(source.clone(), i.clone(), InquiryAction::Complete),
    )
    .await;
    let (job, run) = one(run_jobs(store).await, "the share");
    advance(store, &run, &job).await;
    let sharing = read(store, workflow_runs::get(source.clone(), run)).await;
    assert_eq!(sharing.workflow_id, share.id);
    let tokens = read(
        store,
        share_tokens::list(dest.clone(), Default::default(), all()),
    )
    .await;
    let [token] = &tokens.items[..] else {
        panic!("one token")
    };
    assert_eq!(token.creator, Some(Actor::Workflow(share.id.clone())));
    assert_eq!(token.source_inquiry_id, i);
    assert_eq!(token.expires_at, common::now(store).plus_seconds(600));
    // Its inbound event, caused by the sharing run, started the redeeming run one level deeper,
    // in the same chain; that run's redemption acts for it.
    let (job, run) = one(run_jobs(store).await, "the redemption");
    let redeeming = read(store, workflow_runs::get(dest.clone(), run.clone())).await;
    assert_eq!(redeeming.workflow_id, redeem.id);
    assert_eq!(redeeming.depth, 2);
    assert_eq!(redeeming.chain, sharing.chain);
    advance(store, &run, &job).await;
    assert_eq!(
        read(store, share_tokens::get(dest.clone(), token.id.clone()))
            .await
            .status,
        tessera_core::share_token::ShareTokenStatus::Pending
    );
    let redemption_jobs: Vec<RedeemShareToken> = claim_jobs(store)
        .await
        .into_iter()
        .filter_map(|(_, job)| match job {
            Job::RedeemShareToken(p) => Some(p),
            _ => None,
        })
        .collect();
    let [job] = &redemption_jobs[..] else {
        panic!("one redemption: {redemption_jobs:?}")
    };
    assert_eq!(job.share_token_id, token.id);
    assert_eq!(job.cause, Some(redeeming.cause()));
}

on_both_backends!(
    definitions_are_checked_saved_and_read,
    an_event_starts_the_runs_of_matching_active_workflows,
    runs_caused_by_runs_fan_out_depth_first_and_stop_at_the_depth_limit,
    a_chain_that_used_its_budget_starts_no_run,
    a_run_advances_step_by_step_with_its_effects,
    a_refused_step_rolls_back_and_fails_the_run,
    http_steps_are_planned_and_their_outcomes_recorded,
    an_http_step_out_of_attempts_fails_the_run,
    a_workflow_runs_by_hand_on_an_object,
    a_run_is_given_up,
    steps_act_for_their_run_across_organizations,
);
