//! The store contract for share-token batches: a batch is written with its items and its job in
//! one unit (or, refused, not at all); each item is processed once by the single-token unit,
//! whose refusal leaves nothing and is recorded by a unit of its own; the job advances chunk by
//! chunk and finishes the batch; a job out of attempts fails what is left. Each scenario runs on
//! SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    all, claim_all, claim_jobs, job_counts, org, read, read_refused, refused, rows, write,
};
use tessera_core::codes;
use tessera_core::id::{ApiKeyId, ConnectionId, InquiryId};
use tessera_core::inquiry::InquiryAction;
use tessera_core::job::Job;
use tessera_core::retry::{INTERNAL_JOB, RetryPolicy};
use tessera_core::share_token::batch::{BatchStatus, ItemFailure, ItemStatus, TokenOptions};
use tessera_core::share_token::{RedeemParams, ShareTokenStatus, SourceId, TokenSpec};
use tessera_core::tenancy::{Actor, Scope};
use tessera_store::testing::{Backend, TestDb};
use tessera_store::units::share_token_batches as batches;
use tessera_store::units::{inquiries, jobs, share_tokens};
use tessera_store::{Store, on_both_backends};

fn creator() -> Actor {
    Actor::ApiKey(ApiKeyId::generate())
}

fn options() -> TokenOptions {
    TokenOptions {
        expires_in_seconds: 3600,
        disclosure: Default::default(),
    }
}

struct Pair {
    source: Scope,
    destination: Scope,
    connection: ConnectionId,
}

async fn pair(store: &Store) -> Pair {
    let c = common::connected(store).await;
    Pair {
        source: c.source,
        destination: c.destination,
        connection: c.connection,
    }
}

async fn completed(store: &Store, scope: &Scope) -> InquiryId {
    let i = write(store, inquiries::create(scope.clone(), Default::default())).await;
    write(
        store,
        inquiries::transition(scope.clone(), i.id.clone(), InquiryAction::Complete),
    )
    .await;
    i.id
}

async fn a_batch_is_written_with_its_items_and_its_job(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let p = pair(store).await;
    let (a, b) = (
        completed(store, &p.source).await,
        completed(store, &p.source).await,
    );
    let items = vec![
        (SourceId::Inquiry(a.clone()), options()),
        (SourceId::Inquiry(b.clone()), options()),
    ];
    let batch = write(
        store,
        batches::create(p.source.clone(), p.connection.clone(), items, creator()),
    )
    .await;
    assert_eq!((batch.counts.total, batch.counts.pending), (2, 2));
    assert_eq!(batch.status(), BatchStatus::Pending);
    assert_eq!(rows(store, "share_token_batch_items").await, 2);
    assert_eq!(rows(store, "share_tokens").await, 0);
    let jobs = claim_jobs(store).await;
    assert_eq!(jobs.len(), 1);
    assert!(
        matches!(&jobs[0].1, Job::ProcessShareTokenBatch(j) if j.share_token_batch_id == batch.id)
    );
    let listed = read(
        store,
        batches::items(p.source.clone(), batch.id.clone(), all()),
    )
    .await;
    let inputs: Vec<&str> = listed.items.iter().map(|i| i.input_id.as_str()).collect();
    assert_eq!(inputs, [a.as_str(), b.as_str()], "index order");
    assert!(
        listed
            .items
            .iter()
            .all(|i| i.status().0 == ItemStatus::Pending)
    );
    // Only the environment that made it sees it.
    for scope in [&p.destination] {
        let e = read_refused(store, batches::get(scope.clone(), batch.id.clone())).await;
        assert!(e.is(codes::NOT_FOUND));
        let e = read_refused(
            store,
            batches::items(scope.clone(), batch.id.clone(), all()),
        )
        .await;
        assert!(e.is(codes::NOT_FOUND));
    }
}

async fn a_refused_batch_writes_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let p = pair(store).await;
    let a = completed(store, &p.source).await;
    let items = || vec![(SourceId::Inquiry(a.clone()), options())];
    // The destination side of the connection, and a template no one has.
    let e = refused(
        store,
        batches::create(
            p.destination.clone(),
            p.connection.clone(),
            items(),
            creator(),
        ),
    )
    .await;
    assert!(e.is(codes::WRONG_SIDE));
    let (stranger, _) = org(store, "Stranger").await;
    let e = refused(
        store,
        batches::create(stranger, p.connection.clone(), items(), creator()),
    )
    .await;
    assert!(e.is(codes::REFERENCE_NOT_FOUND));
    let params = RedeemParams {
        inquiry_template_id: Some(tessera_core::id::TemplateId::generate()),
        ..Default::default()
    };
    let e = refused(
        store,
        batches::redeem(p.destination.clone(), Vec::new(), params, creator()),
    )
    .await;
    assert!(e.is(codes::REFERENCE_NOT_FOUND));
    assert_eq!(rows(store, "share_token_batches").await, 0);
    assert_eq!(rows(store, "share_token_batch_items").await, 0);
    assert_eq!(job_counts(store).await.queued, 0);
}

async fn each_item_is_processed_once_and_the_batch_finishes(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let p = pair(store).await;
    let a = completed(store, &p.source).await;
    let open = write(
        store,
        inquiries::create(p.source.clone(), Default::default()),
    )
    .await
    .id;
    let items = vec![
        (SourceId::Inquiry(a), options()),
        (SourceId::Inquiry(open), options()),
    ];
    let batch = write(
        store,
        batches::create(p.source.clone(), p.connection.clone(), items, creator()),
    )
    .await;
    let claimed = claim_all(store).await.remove(0);
    let pending = read(store, batches::pending_items(batch.id.clone(), 100)).await;
    assert_eq!(pending.len(), 2);
    assert!(write(store, batches::apply_item(pending[0].clone())).await);
    assert!(
        !write(store, batches::apply_item(pending[0].clone())).await,
        "done once"
    );
    assert_eq!(rows(store, "share_tokens").await, 1);
    // An item left: the job keeps its lease for the next chunk.
    assert!(
        !write(
            store,
            batches::advance(claimed.id.clone(), batch.id.clone(), 60_000)
        )
        .await
    );
    assert_eq!(job_counts(store).await.running, 1);
    // The single create refuses an open inquiry: nothing of it stays; the refusal is recorded.
    let e = refused(store, batches::apply_item(pending[1].clone())).await;
    assert!(e.is(codes::SOURCE_NOT_SHAREABLE));
    assert_eq!(rows(store, "share_tokens").await, 1);
    write(
        store,
        batches::fail_item(pending[1].clone(), ItemFailure::of(&e)),
    )
    .await;
    assert!(!write(store, batches::apply_item(pending[1].clone())).await);
    assert!(
        write(
            store,
            batches::advance(claimed.id.clone(), batch.id.clone(), 60_000)
        )
        .await
    );
    assert_eq!(
        job_counts(store).await.queued + job_counts(store).await.running,
        0
    );
    let b = read(store, batches::get(p.source.clone(), batch.id.clone())).await;
    assert_eq!(b.status(), BatchStatus::Completed);
    assert_eq!(
        (b.counts.succeeded, b.counts.failed, b.counts.pending),
        (1, 1, 0)
    );
    assert!(b.completed_at.is_some());
    let listed = read(
        store,
        batches::items(p.source.clone(), batch.id.clone(), all()),
    )
    .await;
    let (s0, s1) = (listed.items[0].status(), listed.items[1].status());
    assert_eq!(s0.0, ItemStatus::Created);
    assert_eq!(s1.0, ItemStatus::Failed);
    assert_eq!(
        s1.1.map(|f| (f.status, f.code)),
        Some((Some(422), "source_not_shareable".to_owned()))
    );
}

async fn a_single_redeem_and_a_batch_item_redeem_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let p = pair(store).await;
    let a = completed(store, &p.source).await;
    let t = write(
        store,
        share_tokens::create(
            p.source.clone(),
            TokenSpec::new(p.connection.clone(), SourceId::Inquiry(a), 3600),
            creator(),
        ),
    )
    .await;
    let batch = write(
        store,
        batches::redeem(
            p.destination.clone(),
            vec![t.id.clone()],
            RedeemParams::default(),
            creator(),
        ),
    )
    .await;
    write(
        store,
        share_tokens::redeem(p.destination.clone(), t.id.clone(), RedeemParams::default()),
    )
    .await;
    let item = read(store, batches::pending_items(batch.id.clone(), 100))
        .await
        .remove(0);
    let e = refused(store, batches::apply_item(item.clone())).await;
    assert!(e.is(codes::SHARE_TOKEN_NOT_REDEEMABLE));
    write(store, batches::fail_item(item, ItemFailure::of(&e))).await;
    let redemptions = claim_jobs(store)
        .await
        .into_iter()
        .filter(|(_, j)| matches!(j, Job::RedeemShareToken(_)))
        .count();
    assert_eq!(redemptions, 1, "one redemption");
    let got = read(store, share_tokens::get(p.destination.clone(), t.id)).await;
    assert_eq!(got.status, ShareTokenStatus::Pending);
}

async fn a_batch_job_out_of_attempts_fails_what_is_left(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let p = pair(store).await;
    let a = completed(store, &p.source).await;
    let batch = write(
        store,
        batches::create(
            p.source.clone(),
            p.connection.clone(),
            vec![(SourceId::Inquiry(a), options())],
            creator(),
        ),
    )
    .await;
    let claimed = claim_all(store).await.remove(0);
    write(
        store,
        jobs::fail(claimed.clone(), INTERNAL_JOB, 0.5, "chunk failed".into()),
    )
    .await;
    let b = read(store, batches::get(p.source.clone(), batch.id.clone())).await;
    assert_eq!(b.status(), BatchStatus::Pending, "retried first");
    let last = RetryPolicy {
        max_attempts: 1,
        ..INTERNAL_JOB
    };
    write(store, jobs::fail(claimed, last, 0.5, "chunk failed".into())).await;
    let b = read(store, batches::get(p.source.clone(), batch.id.clone())).await;
    assert_eq!(b.status(), BatchStatus::Completed);
    assert_eq!(b.counts.failed, 1);
    let listed = read(store, batches::items(p.source.clone(), batch.id, all())).await;
    let failure = listed.items[0].status().1.unwrap();
    assert_eq!(failure.code, codes::INTERNAL);
    assert_eq!(job_counts(store).await.dead, 1);
}

on_both_backends!(
    a_batch_is_written_with_its_items_and_its_job,
    a_refused_batch_writes_nothing,
    each_item_is_processed_once_and_the_batch_finishes,
    a_single_redeem_and_a_batch_item_redeem_once,
    a_batch_job_out_of_attempts_fails_what_is_left,
);
