//! The job queue's contract on both backends: typed jobs stored in the shapes rows already in a
//! database have, unreadable rows claimed as bad jobs (never a failed claim), and the worker's
//! signal firing for this process's jobs, for other processes' jobs (PostgreSQL) and on polling.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tessera_core::id::{DeliveryId, JobId, ShareTokenId, WorkflowRunId};
use tessera_core::job::{BadJob, DeliverWebhook, Job, RedeemShareToken, RunWorkflow};
use tessera_store::testing::sql;
use tessera_store::testing::{Backend, TestDb, postgres_url};
use tessera_store::units::jobs;
use tessera_store::{Store, StoreOptions, args, on_both_backends};

async fn enqueue(store: &Store, job: Job) -> JobId {
    store
        .write(jobs::enqueue(job, sql::now(store)))
        .await
        .unwrap()
}

/// A row as an older Tessera (or another process) wrote it.
async fn insert_raw(store: &Store, kind: &'static str, payload: &'static str) -> JobId {
    let id = JobId::generate();
    let now = sql::now(store);
    sql::execute(
        store,
        "insert into jobs (id, kind, payload, run_at, created_at) values ($1, $2, $3, $4, $5)",
        args![&id, kind, payload, now, now],
    )
    .await
    .unwrap();
    id
}

async fn stored(store: &Store, id: &JobId) -> (String, Value) {
    let row = sql::fetch_one(
        store,
        "select kind, payload from jobs where id = $1",
        args![id],
    )
    .await
    .unwrap();
    (row.text("kind").unwrap(), row.json("payload").unwrap())
}

async fn typed_jobs_keep_the_stored_shapes(backend: Backend) {
    let db = TestDb::new(backend).await;
    let run = WorkflowRunId::generate();
    let delivery = DeliveryId::generate();
    let token = ShareTokenId::generate();
    let a = enqueue(
        &db.store,
        RunWorkflow {
            workflow_run_id: run.clone(),
        }
        .into(),
    )
    .await;
    let b = enqueue(
        &db.store,
        DeliverWebhook {
            delivery_id: delivery.clone(),
        }
        .into(),
    )
    .await;
    let c = enqueue(
        &db.store,
        RedeemShareToken {
            share_token_id: token.clone(),
            cause: None,
        }
        .into(),
    )
    .await;
    assert_eq!(
        stored(&db.store, &a).await,
        ("run_workflow".into(), json!({"workflow-run-id": run}))
    );
    assert_eq!(
        stored(&db.store, &b).await,
        ("deliver_webhook".into(), json!({"delivery-id": delivery}))
    );
    assert_eq!(
        stored(&db.store, &c).await,
        (
            "redeem_share_token".into(),
            json!({"share-token-id": token})
        )
    );
}

async fn old_and_unreadable_rows_are_claimed(backend: Backend) {
    let db = TestDb::new(backend).await;
    let old = insert_raw(
        &db.store,
        "redeem_share_token",
        r#"{"share-token-id":"cnst_0123456789abcdefABCD","cause":{"workflow-id":"wfl_0123456789abcdefABCD","run-id":"wfr_0123456789abcdefABCD","chain":"c","depth":1}}"#,
    )
    .await;
    let unknown = insert_raw(&db.store, "mine_bitcoin", "{}").await;
    let bad = insert_raw(&db.store, "deliver_webhook", r#"{"delivery-id":7}"#).await;
    let not_json = insert_raw(&db.store, "run_workflow", "{not json").await;
    let claimed = db
        .store
        .write(jobs::claim("w".into(), 60_000, 10))
        .await
        .expect("a bad row does not fail the claim");
    assert_eq!(claimed.len(), 4);
    let find = |id: &JobId| claimed.iter().find(|c| &c.id == id).unwrap();
    let Ok(Job::RedeemShareToken(r)) = &find(&old).job else {
        panic!("{:?}", find(&old));
    };
    assert_eq!(r.share_token_id.as_str(), "cnst_0123456789abcdefABCD");
    assert_eq!(r.cause.as_ref().map(|c| c.depth), Some(1));
    assert_eq!(
        find(&unknown).job,
        Err(BadJob::UnknownKind("mine_bitcoin".into()))
    );
    assert_eq!(find(&unknown).kind, "mine_bitcoin");
    assert!(matches!(
        find(&bad).job,
        Err(BadJob::BadPayload {
            kind: "deliver_webhook",
            ..
        })
    ));
    assert!(matches!(find(&not_json).job, Err(BadJob::NotJson(_))));
    assert!(claimed.iter().all(|c| c.attempts == 1));
}

async fn the_signal_fires_for_this_processs_jobs_and_on_polling(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut signal = db.store.job_signal(Duration::from_secs(600)).await;
    let store = db.store.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        enqueue(
            &store,
            RunWorkflow {
                workflow_run_id: WorkflowRunId::generate(),
            }
            .into(),
        )
        .await;
    });
    tokio::time::timeout(Duration::from_secs(10), signal.next())
        .await
        .expect("an enqueued job fires the signal long before the poll interval");
    // Nothing happens: the signal still fires on polling.
    let mut polling = db.store.job_signal(Duration::from_millis(50)).await;
    tokio::time::timeout(Duration::from_secs(10), polling.next())
        .await
        .expect("the signal fires after the poll interval");
}

async fn the_signal_fires_for_other_processes_jobs(backend: Backend) {
    let db = TestDb::new(backend).await;
    if backend == Backend::Sqlite {
        // One process owns a SQLite database: nothing to announce to others.
        return;
    }
    // Another process on the same database: its own store, so no local notification reaches it.
    let other = Store::open(
        &postgres_url(),
        Arc::new(db.clock.clone()),
        db.keys.clone(),
        StoreOptions {
            migrate: false,
            pg_schema: db.schema.clone(),
            max_connections: 2,
        },
    )
    .await
    .unwrap();
    let mut signal = other.job_signal(Duration::from_secs(600)).await;
    let store = db.store.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        enqueue(
            &store,
            DeliverWebhook {
                delivery_id: DeliveryId::generate(),
            }
            .into(),
        )
        .await;
    });
    tokio::time::timeout(Duration::from_secs(10), signal.next())
        .await
        .expect("another process's NOTIFY fires the signal");
    // The listening connection is the pool's: closing waits for it.
    drop(signal);
    tokio::time::timeout(Duration::from_secs(10), other.close())
        .await
        .expect("the store closes once its signal is gone");
}

on_both_backends!(
    typed_jobs_keep_the_stored_shapes,
    old_and_unreadable_rows_are_claimed,
    the_signal_fires_for_this_processs_jobs_and_on_polling,
    the_signal_fires_for_other_processes_jobs,
);
