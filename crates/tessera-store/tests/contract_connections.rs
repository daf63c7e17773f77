//! The store contract for connections between organizations: creation, the actions of each
//! side, reads and the list from both sides. Each scenario runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{all, event_names, org, read, read_refused, refused, write};
use tessera_core::codes;
use tessera_core::connection::{ConnectionAction, ConnectionStatus, Direction};
use tessera_core::id::{ApiKeyId, OrganizationId};
use tessera_core::tenancy::Actor;
use tessera_store::on_both_backends;
use tessera_store::testing::{Backend, TestDb};
use tessera_store::units::connections;

fn creator() -> Actor {
    Actor::ApiKey(ApiKeyId::generate())
}

async fn a_connection_is_created_on_both_sides(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, a_prod) = org(store, "A").await;
    let (b, _) = org(store, "B").await;
    let c = write(
        store,
        connections::create(a.clone(), b.org.clone(), Some("to B".into()), creator()),
    )
    .await;
    assert_eq!(c.status, ConnectionStatus::Pending);
    assert_eq!(
        (c.source_env.clone(), c.destination_env.clone()),
        (a.env.clone(), b.env.clone())
    );
    assert_eq!(c.name.as_deref(), Some("to B"));
    // Each side reads it and has its own event, showing its direction.
    for scope in [&a, &b] {
        let got = read(store, connections::get(scope.clone(), c.id.clone())).await;
        assert_eq!(got.status, ConnectionStatus::Pending);
    }
    let source_events = common::all_events(store, &a).await;
    assert_eq!(source_events.len(), 1);
    assert_eq!(source_events[0].name, "connect/connection.outbound-created");
    assert_eq!(source_events[0].object_id, c.id.to_string());
    assert_eq!(
        event_names(store, &b).await,
        vec!["connect/connection.inbound-created"]
    );
    // The other environment of the source, and a third party, do not see it.
    let (x, _) = org(store, "X").await;
    for scope in [a_prod, x] {
        let e = read_refused(store, connections::get(scope, c.id.clone())).await;
        assert!(e.is(codes::NOT_FOUND));
    }
    // A second open connection between the same organizations is refused, leaving nothing.
    let e = refused(
        store,
        connections::create(a.clone(), b.org.clone(), None, creator()),
    )
    .await;
    assert!(e.is(codes::CONNECTION_EXISTS));
    // So is one to an organization that does not exist.
    let e = refused(
        store,
        connections::create(a.clone(), OrganizationId::generate(), None, creator()),
    )
    .await;
    assert!(e.is(codes::REFERENCE_NOT_FOUND));
    assert_eq!(common::rows(store, "connections").await, 1);
    assert_eq!(event_names(store, &a).await.len(), 1);
}

async fn each_side_acts_within_the_rules(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let (b, _) = org(store, "B").await;
    let c = write(
        store,
        connections::create(a.clone(), b.org.clone(), None, creator()),
    )
    .await;
    let act = |scope: &tessera_core::tenancy::Scope, action| {
        connections::act(scope.clone(), c.id.clone(), action)
    };
    // Only the destination activates.
    let e = refused(store, act(&a, ConnectionAction::Activate)).await;
    assert!(e.is(codes::WRONG_SIDE));
    let active = write(store, act(&b, ConnectionAction::Activate)).await;
    assert_eq!(active.status, ConnectionStatus::Active);
    assert!(active.activated_at.is_some());
    let e = refused(store, act(&b, ConnectionAction::Activate)).await;
    assert!(e.is(codes::INVALID_STATUS_TRANSITION));
    // Either side deactivates; only the source reactivates (back to pending).
    let inactive = write(store, act(&b, ConnectionAction::Deactivate)).await;
    assert_eq!(inactive.status, ConnectionStatus::Inactive);
    assert!(inactive.deactivated_at.is_some());
    let e = refused(store, act(&b, ConnectionAction::Reactivate)).await;
    assert!(e.is(codes::WRONG_SIDE));
    let again = write(store, act(&a, ConnectionAction::Reactivate)).await;
    assert_eq!(again.status, ConnectionStatus::Pending);
    assert_eq!(
        read(store, connections::get(b.clone(), c.id.clone()))
            .await
            .status,
        ConnectionStatus::Pending
    );
    assert_eq!(
        event_names(store, &a).await,
        vec![
            "connect/connection.outbound-created",
            "connect/connection.outbound-activated",
            "connect/connection.outbound-deactivated",
            "connect/connection.outbound-reactivated",
        ]
    );
    assert_eq!(
        event_names(store, &b).await,
        vec![
            "connect/connection.inbound-created",
            "connect/connection.inbound-activated",
            "connect/connection.inbound-deactivated",
            "connect/connection.inbound-reactivated",
        ]
    );
    // Reactivating while another open connection exists is refused.
    write(store, act(&a, ConnectionAction::Deactivate)).await;
    let other = write(
        store,
        connections::create(a.clone(), b.org.clone(), None, creator()),
    )
    .await;
    let before = event_names(store, &a).await;
    let e = refused(store, act(&a, ConnectionAction::Reactivate)).await;
    assert!(e.is(codes::CONNECTION_EXISTS));
    assert_eq!(
        read(store, connections::get(a.clone(), c.id.clone()))
            .await
            .status,
        ConnectionStatus::Inactive
    );
    assert_eq!(event_names(store, &a).await, before);
    assert_ne!(other.id, c.id);
}

async fn the_list_shows_both_directions(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let (b, _) = org(store, "B").await;
    let (c, _) = org(store, "C").await;
    let out = write(
        store,
        connections::create(a.clone(), b.org.clone(), None, creator()),
    )
    .await;
    let inb = write(
        store,
        connections::create(c.clone(), a.org.clone(), None, creator()),
    )
    .await;
    write(
        store,
        connections::act(a.clone(), inb.id.clone(), ConnectionAction::Activate),
    )
    .await;
    let ids = |filter: connections::ConnectionFilter| {
        let a = a.clone();
        async move {
            read(store, connections::list(a, filter, all()))
                .await
                .items
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids(Default::default()).await,
        vec![inb.id.clone(), out.id.clone()]
    );
    let outbound = connections::ConnectionFilter {
        direction: Some(Direction::Outbound),
        ..Default::default()
    };
    assert_eq!(ids(outbound).await, vec![out.id.clone()]);
    let inbound = connections::ConnectionFilter {
        direction: Some(Direction::Inbound),
        ..Default::default()
    };
    assert_eq!(ids(inbound).await, vec![inb.id.clone()]);
    let active = connections::ConnectionFilter {
        statuses: vec![ConnectionStatus::Active],
        ..Default::default()
    };
    assert_eq!(ids(active).await, vec![inb.id.clone()]);
    let to_b = connections::ConnectionFilter {
        destination_org: Some(b.org.clone()),
        ..Default::default()
    };
    assert_eq!(ids(to_b).await, vec![out.id.clone()]);
    // B sees only its own.
    let b_ids: Vec<_> = read(store, connections::list(b, Default::default(), all()))
        .await
        .items
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(b_ids, vec![out.id]);
}

on_both_backends!(
    a_connection_is_created_on_both_sides,
    each_side_acts_within_the_rules,
    the_list_shows_both_directions,
);
