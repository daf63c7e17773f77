//! The worker and the job queue: a row that cannot be read as a job (an unknown kind, a payload
//! not of its kind's shape) is failed like any job, retried on the internal policy (2 s doubling
//! to 256 s, never scaled) and buried after its tenth attempt, without stopping other jobs.

use tessera_core::Clock;
use tessera_core::id::JobId;
use tessera_store::testing::{Backend, sql};
use tessera_store::units::jobs;
use tessera_store::{args, on_both_backends};

use crate::support::App;

async fn insert(app: &App, kind: &'static str, payload: &'static str) -> JobId {
    let id = JobId::generate();
    let now = app.db.clock.now();
    sql::execute(
        &app.db.store,
        "insert into jobs (id, kind, payload, run_at, created_at) values ($1, $2, $3, $4, $5)",
        args![&id, kind, payload, now, now],
    )
    .await
    .unwrap();
    id
}

/// (attempts, run_at in ms from now, dead, last error) of a job row.
async fn state(app: &App, id: &JobId) -> (i64, i64, bool, String) {
    let id = id.clone();
    let now = app.db.clock.now();
    let r = sql::fetch_one(
        &app.db.store,
        "select attempts, run_at, dead_at, last_error from jobs where id = $1",
        args![&id],
    )
    .await
    .unwrap();
    (
        r.i64("attempts").unwrap(),
        r.i64("run_at").unwrap() - now.millis(),
        r.opt_i64("dead_at").unwrap().is_some(),
        r.opt_text("last_error").unwrap().unwrap_or_default(),
    )
}

async fn unreadable_jobs_are_retried_then_buried(backend: Backend) {
    // The outbound retry scale does not touch the internal policy.
    let app = App::with_config(backend, |c| c.webhook_retry_scale = 0.001).await;
    let unknown = insert(&app, "mine_bitcoin", "{}").await;
    let bad = insert(&app, "deliver_webhook", r#"{"delivery-id": 7}"#).await;
    let worker = app.worker();
    let mut delays = Vec::new();
    for attempt in 1..=10 {
        assert_eq!(worker.drain().await.unwrap(), 2, "attempt {attempt}");
        let (attempts, due_in, dead, error) = state(&app, &unknown).await;
        assert_eq!(attempts, attempt);
        assert!(
            error.contains("unknown job kind \"mine_bitcoin\""),
            "{error}"
        );
        let (_, _, bad_dead, bad_error) = state(&app, &bad).await;
        assert!(
            bad_error.contains("bad payload for a deliver_webhook job"),
            "{bad_error}"
        );
        assert_eq!((dead, bad_dead), (attempt == 10, attempt == 10));
        if !dead {
            delays.push(due_in / 1000);
            // Not due before its time...
            assert_eq!(worker.drain().await.unwrap(), 0);
            app.db.clock.advance_millis(due_in);
        }
    }
    assert_eq!(delays, [2, 4, 8, 16, 32, 64, 128, 256, 256]);
    // ...and never again once buried.
    app.db.clock.advance_seconds(3600);
    assert_eq!(worker.drain().await.unwrap(), 0);
    let counts = app.db.store.read(jobs::counts()).await.unwrap();
    assert_eq!(
        (counts.queued, counts.running, counts.dead),
        (0, 0, 2),
        "{counts:?}"
    );
}

on_both_backends!(unreadable_jobs_are_retried_then_buried);
