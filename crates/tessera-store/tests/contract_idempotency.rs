//! The store contract for idempotency keys beyond claiming (`contract.rs`): a unit and its
//! stored response committed together, or not at all, and the purge of old records. Each
//! scenario runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{event_names, org, read, rows, write};
use tessera_core::id::ApiKeyId;
use tessera_store::testing::{Backend, TestDb};
use tessera_store::units::{idempotency, inquiries, tenancy};
use tessera_store::{Store, on_both_backends};

async fn api_key(store: &Store) -> ApiKeyId {
    let created = write(store, tenancy::create_organization("A".into())).await;
    created.keys[0].0.id.clone()
}

async fn claim(store: &Store, key: &ApiKeyId, name: &str) -> idempotency::Claim {
    write(
        store,
        idempotency::begin(key.clone(), name.into(), "fp".into(), idempotency::LEASE_MS),
    )
    .await
}

fn response(body: &str) -> idempotency::StoredResponse {
    idempotency::StoredResponse {
        status: 201,
        content_type: "application/json".into(),
        body: body.as_bytes().to_vec(),
    }
}

async fn a_unit_and_its_response_commit_together(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (scope, _) = org(store, "B").await;
    let key = api_key(store).await;
    let idempotency::Claim::Fresh(held) = claim(store, &key, "k1").await else {
        panic!("fresh")
    };
    let made = write(
        store,
        idempotency::completing(
            inquiries::create(scope.clone(), Default::default()),
            key.clone(),
            "k1".into(),
            held,
            |i| {
                (
                    response(&format!("{{\"id\":\"{}\"}}", i.id)),
                    Some(i.id.to_string()),
                    i.id,
                )
            },
        ),
    )
    .await;
    assert_eq!(
        read(store, inquiries::get(scope.clone(), made.clone()))
            .await
            .id,
        made
    );
    assert_eq!(
        claim(store, &key, "k1").await,
        idempotency::Claim::Replay(response(&format!("{{\"id\":\"{made}\"}}")))
    );
    // A holder whose claim was taken over: nothing of its unit is committed.
    let idempotency::Claim::Fresh(stale) = claim(store, &key, "k2").await else {
        panic!("fresh")
    };
    db.clock.advance_millis(idempotency::LEASE_MS + 1);
    let idempotency::Claim::Fresh(_retry) = claim(store, &key, "k2").await else {
        panic!("taken over")
    };
    let before = (
        rows(store, "inquiries").await,
        event_names(store, &scope).await,
    );
    let e = store
        .write(idempotency::completing(
            inquiries::create(scope.clone(), Default::default()),
            key.clone(),
            "k2".into(),
            stale,
            |i| (response("{}"), Some(i.id.to_string()), ()),
        ))
        .await
        .expect_err("the claim was taken over");
    assert!(e.is(tessera_core::codes::IDEMPOTENCY_KEY_IN_USE));
    assert_eq!(
        (
            rows(store, "inquiries").await,
            event_names(store, &scope).await
        ),
        before
    );
    assert_eq!(claim(store, &key, "k2").await, idempotency::Claim::InUse);
}

async fn old_records_are_purged(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let key = api_key(store).await;
    // A stored response, and a claim whose request never stored one.
    let idempotency::Claim::Fresh(held) = claim(store, &key, "done").await else {
        panic!("fresh")
    };
    write(
        store,
        idempotency::complete(key.clone(), "done".into(), held, response("{}"), None),
    )
    .await;
    claim(store, &key, "abandoned").await;
    assert_eq!(write(store, idempotency::purge()).await, 0);
    db.clock.advance_millis(idempotency::RETENTION_MS - 1);
    assert_eq!(
        write(store, idempotency::purge()).await,
        0,
        "kept for the retention"
    );
    // A claim made just now is kept through the purge of the old ones.
    claim(store, &key, "fresh").await;
    db.clock.advance_millis(2);
    assert_eq!(write(store, idempotency::purge()).await, 2);
    assert_eq!(rows(store, "idempotency_keys").await, 1);
    // The purged keys are free again.
    assert!(matches!(
        claim(store, &key, "done").await,
        idempotency::Claim::Fresh(_)
    ));
}

on_both_backends!(
    a_unit_and_its_response_commit_together,
    old_records_are_purged,
);
