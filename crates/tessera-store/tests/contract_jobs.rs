//! The store contract for the job queue's units: claiming with a lease, completing, releasing
//! (retry, reschedule), keeping a lease, burying, the counts, and a failed run recorded per the
//! retry policy (given up per its kind after its last attempt). The stored shapes and the
//! worker's signal are `tests/jobs.rs`. Each scenario runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{claim_all, job_counts, now, write};
use tessera_core::id::{JobId, ShareTokenId, WorkflowRunId};
use tessera_core::job::{Job, RedeemShareToken, RunWorkflow};
use tessera_core::retry::{INTERNAL_JOB, RetryPolicy};
use tessera_store::testing::{Backend, TestDb, sql};
use tessera_store::units::jobs;
use tessera_store::{Store, args, on_both_backends};

fn some_job() -> Job {
    Job::from(RunWorkflow {
        workflow_run_id: WorkflowRunId::generate(),
    })
}

async fn enqueue(store: &Store, at_ms_from_now: i64) -> JobId {
    let at = now(store).plus_millis(at_ms_from_now);
    write(store, jobs::enqueue(some_job(), at)).await
}

async fn claimed_ids(store: &Store, lease_ms: i64) -> Vec<(JobId, i64)> {
    write(store, jobs::claim("w".into(), lease_ms, 10))
        .await
        .into_iter()
        .map(|c| (c.id, c.attempts))
        .collect()
}

async fn last_error(store: &Store, id: &JobId) -> Option<String> {
    sql::fetch_one(
        store,
        "select last_error from jobs where id = $1",
        args![id],
    )
    .await
    .unwrap()
    .opt_text("last_error")
    .unwrap()
}

async fn due_jobs_are_claimed_under_a_lease_and_completed(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let due = enqueue(store, 0).await;
    let later = enqueue(store, 10_000).await;
    assert_eq!(
        job_counts(store).await,
        jobs::Counts {
            queued: 2,
            running: 0,
            dead: 0
        }
    );
    // Only the due job, for this worker, once.
    let claimed = write(store, jobs::claim("w1".into(), 5_000, 10)).await;
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, due);
    assert_eq!(claimed[0].kind, "run_workflow");
    assert_eq!(claimed[0].attempts, 1);
    assert!(claimed[0].job.is_ok());
    assert_eq!(
        job_counts(store).await,
        jobs::Counts {
            queued: 1,
            running: 1,
            dead: 0
        }
    );
    assert!(claimed_ids(store, 5_000).await.is_empty(), "leased");
    // The lease ends: claimed again (a worker died), one attempt more; the later job is due too.
    db.clock.advance_millis(10_000);
    let mut again = claimed_ids(store, 5_000).await;
    again.sort_by_key(|(id, _)| id.to_string());
    let mut expected = vec![(due.clone(), 2), (later.clone(), 1)];
    expected.sort_by_key(|(id, _)| id.to_string());
    assert_eq!(again, expected);
    // Completing deletes the job.
    write(store, jobs::complete(due)).await;
    write(store, jobs::complete(later)).await;
    assert_eq!(job_counts(store).await, Default::default());
    db.clock.advance_millis(60_000);
    assert!(claimed_ids(store, 5_000).await.is_empty());
    // `claim` takes at most `limit` jobs.
    for _ in 0..3 {
        enqueue(store, 0).await;
    }
    assert_eq!(
        write(store, jobs::claim("w".into(), 1_000, 2)).await.len(),
        2
    );
}

async fn released_jobs_run_again_when_due(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let retried = enqueue(store, 0).await;
    let paused = enqueue(store, 0).await;
    let waiting = enqueue(store, 0).await;
    assert_eq!(claimed_ids(store, 60_000).await.len(), 3);
    // retry: released until `run_at`, its error kept, its attempts counted on.
    let at = now(store).plus_millis(10_000);
    write(store, jobs::retry(retried.clone(), at, "boom".into())).await;
    assert_eq!(last_error(store, &retried).await.as_deref(), Some("boom"));
    // reschedule: a pause, not a failure: its attempts start over.
    write(store, jobs::reschedule(paused.clone(), at)).await;
    // reschedule_after: the same, `delay` from now.
    write(store, jobs::reschedule_after(waiting.clone(), 10_000)).await;
    assert_eq!(
        job_counts(store).await,
        jobs::Counts {
            queued: 3,
            running: 0,
            dead: 0
        }
    );
    db.clock.advance_millis(9_999);
    assert!(claimed_ids(store, 60_000).await.is_empty(), "not due yet");
    db.clock.advance_millis(1);
    let mut got = claimed_ids(store, 60_000).await;
    got.sort_by_key(|(id, _)| id.to_string());
    let mut expected = vec![(retried, 2), (paused, 1), (waiting, 1)];
    expected.sort_by_key(|(id, _)| id.to_string());
    assert_eq!(got, expected);
}

async fn a_kept_lease_keeps_the_job(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let id = enqueue(store, 0).await;
    assert_eq!(claimed_ids(store, 1_000).await.len(), 1);
    let until = now(store).plus_millis(60_000);
    write(store, jobs::extend_lease(id.clone(), until)).await;
    db.clock.advance_millis(2_000);
    assert!(claimed_ids(store, 1_000).await.is_empty(), "still leased");
    assert_eq!(job_counts(store).await.running, 1);
    db.clock.advance_millis(58_000);
    assert_eq!(claimed_ids(store, 1_000).await, vec![(id.clone(), 2)]);
    // A released job's lease is not extended (nobody holds it).
    write(store, jobs::retry(id.clone(), now(store), "x".into())).await;
    write(
        store,
        jobs::extend_lease(id.clone(), now(store).plus_millis(60_000)),
    )
    .await;
    assert_eq!(claimed_ids(store, 1_000).await, vec![(id, 3)]);
}

async fn buried_jobs_stay_dead(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let id = enqueue(store, 0).await;
    claim_all(store).await;
    write(store, jobs::bury(id.clone(), "hopeless".into())).await;
    assert_eq!(
        job_counts(store).await,
        jobs::Counts {
            queued: 0,
            running: 0,
            dead: 1
        }
    );
    assert_eq!(last_error(store, &id).await.as_deref(), Some("hopeless"));
    db.clock.advance_millis(3_600_000);
    assert!(claimed_ids(store, 1_000).await.is_empty());
}

async fn a_failed_run_is_retried_on_the_policy_then_buried(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    enqueue(store, 0).await;
    let job = claim_all(store).await.pop().unwrap();
    // Attempts left: released until the policy's time for a retry after one attempt.
    let due = INTERNAL_JOB
        .next_retry_at(now(store), 1, 0.5, None)
        .unwrap();
    let delay = due.millis() - now(store).millis();
    assert!(delay > 0);
    write(
        store,
        jobs::fail(job.clone(), INTERNAL_JOB, 0.5, "first failure".into()),
    )
    .await;
    assert_eq!(job_counts(store).await.queued, 1);
    assert_eq!(
        last_error(store, &job.id).await.as_deref(),
        Some("first failure")
    );
    db.clock.advance_millis(delay - 1);
    assert!(claimed_ids(store, 60_000).await.is_empty());
    db.clock.advance_millis(1);
    let job = claim_all(store).await.pop().unwrap();
    assert_eq!(job.attempts, 2);
    // Its last attempt: buried (an unknown workflow run has nothing to give up).
    let last = RetryPolicy {
        max_attempts: 2,
        ..INTERNAL_JOB
    };
    write(
        store,
        jobs::fail(job.clone(), last, 0.5, "last failure".into()),
    )
    .await;
    assert_eq!(
        job_counts(store).await,
        jobs::Counts {
            queued: 0,
            running: 0,
            dead: 1
        }
    );
    assert_eq!(
        last_error(store, &job.id).await.as_deref(),
        Some("last failure")
    );
}

async fn an_unreadable_job_out_of_attempts_is_buried(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let t = now(store);
    sql::execute(
        store,
        "insert into jobs (id, kind, payload, run_at, created_at) values ($1, 'mine_bitcoin', '{}', $2, $2)",
        args![&JobId::generate(), t],
    )
    .await
    .unwrap();
    let job = claim_all(store).await.pop().unwrap();
    assert!(job.job.is_err());
    let once = RetryPolicy {
        max_attempts: 1,
        ..INTERNAL_JOB
    };
    write(store, jobs::fail(job, once, 0.5, "cannot read".into())).await;
    assert_eq!(job_counts(store).await.dead, 1);
}

/// A redemption job whose token no longer exists (or never did) is buried after its last attempt
/// like any other: there is nothing to give up, and it must not be retried for ever.
async fn a_redemption_job_for_a_missing_token_is_buried(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let job = Job::from(RedeemShareToken {
        share_token_id: ShareTokenId::generate(),
        cause: None,
    });
    write(store, jobs::enqueue(job, now(store))).await;
    let job = claim_all(store).await.pop().unwrap();
    let once = RetryPolicy {
        max_attempts: 1,
        ..INTERNAL_JOB
    };
    write(store, jobs::fail(job, once, 0.5, "token gone".into())).await;
    assert_eq!(job_counts(store).await.dead, 1);
}

on_both_backends!(
    a_redemption_job_for_a_missing_token_is_buried,
    due_jobs_are_claimed_under_a_lease_and_completed,
    released_jobs_run_again_when_due,
    a_kept_lease_keeps_the_job,
    buried_jobs_stay_dead,
    a_failed_run_is_retried_on_the_policy_then_buried,
    an_unreadable_job_out_of_attempts_is_buried,
);
