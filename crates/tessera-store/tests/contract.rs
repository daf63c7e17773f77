//! The store contract: what every backend must do. Each test runs on SQLite and PostgreSQL.
//! Here: what holds for every unit of work (atomicity, isolation of tenants, paging, claims on
//! idempotency keys); the units of each aggregate are in `contract_*.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tessera_core::id::InquiryId;
use tessera_core::inquiry::{InquiryAction, InquiryStatus};
use tessera_core::tenancy::{EnvKind, Scope};
use tessera_core::{Error, codes};
use tessera_store::testing::{Backend, TestDb};
use tessera_store::units::{events, idempotency, inquiries, jobs, tenancy};
use tessera_store::{Cursor, PageRequest, Store, on_both_backends};

async fn org(store: &Store, name: &str) -> (Scope, Scope) {
    let name = name.to_owned();
    let created = store
        .write(tenancy::create_organization(name))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let o = created.organization;
    (
        o.scope(EnvKind::Sandbox)
            .unwrap_or_else(|| panic!("sandbox")),
        o.scope(EnvKind::Production)
            .unwrap_or_else(|| panic!("production")),
    )
}

async fn new_inquiry(store: &Store, scope: &Scope) -> InquiryId {
    let scope = scope.clone();
    store
        .write(inquiries::create(scope, Default::default()))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .id
}

async fn a_failing_unit_rolls_back_alone(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (scope, _) = org(&db.store, "A").await;
    // Many units at once, every other one failing after its write: the failures leave nothing.
    let mut handles = Vec::new();
    for i in 0..40 {
        let store = db.store.clone();
        let scope = scope.clone();
        handles.push(tokio::spawn(async move {
            store
                .write(
                    inquiries::create(scope, Default::default()).check(move |_| {
                        if i % 2 == 1 {
                            return Err(Error::conflict("test_failure", "fails on purpose"));
                        }
                        Ok(())
                    }),
                )
                .await
        }));
    }
    let mut ok = 0;
    for h in handles {
        match h.await.unwrap_or_else(|e| panic!("{e}")) {
            Ok(_) => ok += 1,
            Err(e) => assert!(e.is("test_failure")),
        }
    }
    assert_eq!(ok, 20);
    let s = scope.clone();
    let page = db
        .store
        .read(inquiries::list(
            s,
            Default::default(),
            PageRequest {
                size: 100,
                cursor: None,
            },
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.items.len(), 20);
    let s = scope.clone();
    let evts = db
        .store
        .read(events::list(
            s,
            Default::default(),
            PageRequest {
                size: 100,
                cursor: None,
            },
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        evts.items.len(),
        20,
        "an event exists exactly when its change does"
    );
}

async fn a_panicking_unit_fails_alone(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (scope, _) = org(&db.store, "A").await;
    let s = scope.clone();
    let result: Result<(), Error> = db
        .store
        .write(
            inquiries::create(s, Default::default())
                .check(|i| panic!("a unit of work panics after making {}", i.id))
                .map(|_| ()),
        )
        .await;
    assert_eq!(result.err().map(|e| e.status.code()), Some(500));
    // The store keeps working.
    new_inquiry(&db.store, &scope).await;
}

async fn objects_of_other_tenants_are_not_found(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (a, a_prod) = org(&db.store, "A").await;
    let (b, _) = org(&db.store, "B").await;
    let id = new_inquiry(&db.store, &a).await;
    for scope in [b, a_prod] {
        let id = id.clone();
        let err = db
            .store
            .read(inquiries::get(scope, id))
            .await
            .err()
            .unwrap_or_else(|| panic!("another tenant saw the inquiry"));
        assert!(err.is(codes::NOT_FOUND));
    }
}

async fn transitions_are_checked_and_atomic(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (a, _) = org(&db.store, "A").await;
    let id = new_inquiry(&db.store, &a).await;
    let approve = |store: Store, a: Scope, id: InquiryId| async move {
        store
            .write(inquiries::transition(a, id, InquiryAction::Approve))
            .await
    };
    let err = approve(db.store.clone(), a.clone(), id.clone()).await.err();
    assert!(err.is_some_and(|e| e.is(codes::INVALID_STATUS_TRANSITION)));
    let (s, i) = (a.clone(), id.clone());
    db.store
        .write(inquiries::transition(s, i, InquiryAction::Complete))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Concurrent approvals: exactly one wins.
    let mut handles = Vec::new();
    for _ in 0..10 {
        handles.push(tokio::spawn(approve(
            db.store.clone(),
            a.clone(),
            id.clone(),
        )));
    }
    let mut wins = 0;
    for h in handles {
        if h.await.unwrap_or_else(|e| panic!("{e}")).is_ok() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
    let (s, i) = (a.clone(), id.clone());
    let approved = db
        .store
        .read(events::list(
            s,
            events::EventFilter {
                names: vec!["inquiry.approved".into()],
                object_ids: vec![i.to_string()],
                ids: Vec::new(),
            },
            PageRequest::default(),
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(approved.items.len(), 1);
    let (s, i) = (a.clone(), id.clone());
    let inquiry = db
        .store
        .read(inquiries::get(s, i))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(inquiry.status, InquiryStatus::Approved);
}

async fn pages_walk_forward_and_back(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (a, _) = org(&db.store, "A").await;
    let mut ids = Vec::new();
    for _ in 0..7 {
        ids.push(new_inquiry(&db.store, &a).await);
    }
    ids.reverse(); // newest first
    let list = |req: PageRequest| {
        let store = db.store.clone();
        let a = a.clone();
        async move {
            store
                .read(inquiries::list(a, Default::default(), req))
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        }
    };
    let p1 = list(PageRequest {
        size: 3,
        cursor: None,
    })
    .await;
    assert_eq!(
        p1.items.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
        ids[0..3]
    );
    assert!(p1.has_next && !p1.has_prev);
    let p2 = list(PageRequest {
        size: 3,
        cursor: Some(Cursor::After(ids[2].to_string())),
    })
    .await;
    assert_eq!(
        p2.items.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
        ids[3..6]
    );
    assert!(p2.has_next && p2.has_prev);
    let p3 = list(PageRequest {
        size: 3,
        cursor: Some(Cursor::After(ids[5].to_string())),
    })
    .await;
    assert_eq!(p3.items.len(), 1);
    assert!(!p3.has_next);
    let back = list(PageRequest {
        size: 3,
        cursor: Some(Cursor::Before(ids[3].to_string())),
    })
    .await;
    assert_eq!(
        back.items.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
        ids[0..3]
    );
    assert!(!back.has_prev && back.has_next);
}

async fn idempotency_claims(backend: Backend) {
    let db = TestDb::new(backend).await;
    let created = db
        .store
        .write(tenancy::create_organization("A".into()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let key = created.keys[0].0.id.clone();
    let claim = |fp: &'static str| {
        let store = db.store.clone();
        let key = key.clone();
        async move {
            store
                .write(idempotency::begin(
                    key,
                    "k1".into(),
                    fp.into(),
                    idempotency::LEASE_MS,
                ))
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        }
    };
    let stored = idempotency::StoredResponse {
        status: 201,
        content_type: "application/json".into(),
        body: b"{}".to_vec(),
    };
    let complete = |held: idempotency::Held| {
        let (store, k, s) = (db.store.clone(), key.clone(), stored.clone());
        async move {
            store
                .write(idempotency::complete(k, "k1".into(), held, s, None))
                .await
        }
    };
    let idempotency::Claim::Fresh(first) = claim("f1").await else {
        panic!("a new key is fresh")
    };
    assert_eq!(claim("f1").await, idempotency::Claim::InUse);
    assert_eq!(claim("f2").await, idempotency::Claim::Mismatch);
    // The holder died (or is slow): after the lease, another request takes over.
    db.clock.advance_millis(idempotency::LEASE_MS + 1);
    let idempotency::Claim::Fresh(second) = claim("f1").await else {
        panic!("an expired claim is taken over")
    };
    assert_ne!(first, second);
    // The first holder's response is refused: its unit of work rolls back.
    let late = complete(first)
        .await
        .expect_err("a claim taken over cannot store");
    assert_eq!(late.code, "idempotency_key_in_use");
    complete(second).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        claim("f1").await,
        idempotency::Claim::Replay(stored.clone())
    );
    assert_eq!(claim("f2").await, idempotency::Claim::Mismatch);
    // Once stored, no claim stores again.
    assert!(complete(second).await.is_err());
}

async fn readiness_reports_migrations(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.store.ready().await.unwrap_or_else(|e| panic!("{e}"));
}

async fn a_refused_unit_has_let_go_of_its_rows_when_it_answers(backend: Backend) {
    // A claim that locked the due jobs, then refused: the next claim, at once, finds them.
    let db = TestDb::new(backend).await;
    for round in 0..50 {
        let job = tessera_core::job::Job::from(tessera_core::job::RunWorkflow {
            workflow_run_id: tessera_core::id::WorkflowRunId::generate(),
        });
        let now = db.store.clock().now();
        db.store
            .write(jobs::enqueue(job, now))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let refused = db
            .store
            .write(
                jobs::claim("refused".into(), 60_000, 10)
                    .check(|_| Err(Error::conflict("test_failure", "refused on purpose"))),
            )
            .await;
        assert!(refused.is_err_and(|e| e.is("test_failure")));
        let claimed = db
            .store
            .write(jobs::claim("next".into(), 60_000, 10))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            claimed.len(),
            1,
            "round {round}: the refused claim still held the job"
        );
        assert_eq!(claimed[0].attempts, 1, "the refused claim left nothing");
    }
}

on_both_backends!(
    a_failing_unit_rolls_back_alone,
    a_panicking_unit_fails_alone,
    objects_of_other_tenants_are_not_found,
    transitions_are_checked_and_atomic,
    pages_walk_forward_and_back,
    idempotency_claims,
    readiness_reports_migrations,
    a_refused_unit_has_let_go_of_its_rows_when_it_answers,
);
