//! §3.4: the rules around connections — one open connection per partner and environment (also
//! under concurrency), known destinations, connections to oneself, environments and strangers.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{
    App, assert_connection_event, connection_path, inactive_connection, pending_connection,
};

async fn one_open_connection_per_partner_and_environment(backend: Backend) {
    let app = App::new(backend).await;
    let (a, b) = (app.org("Alpha").await, app.org("Beta").await);
    let first = pending_connection(&app, &a, &b).await;
    let events_before = app.events(&a.sandbox).await.len();
    let r = app
        .create_connection(&a.sandbox, &b.id)
        .await
        .refused(409, "connection_exists");
    assert_eq!(r.pointer(), "/data/attributes/destination-organization-id");
    app.connection_action(&b.sandbox, &first, "activate")
        .await
        .expect(200);
    app.create_connection(&a.sandbox, &b.id)
        .await
        .refused(409, "connection_exists");
    assert_eq!(app.events(&a.sandbox).await.len(), events_before + 1);
    assert_eq!(
        app.fetch(&a.sandbox, "/api/v1/connect/connections")
            .await
            .ids(),
        [first.as_str()]
    );

    // The other direction and the other environment are other connections.
    app.create_connection(&b.sandbox, &a.id).await.expect(201);
    app.create_connection(&a.production, &b.id)
        .await
        .expect(201);

    // Once the first is inactive a new one may be made; the old one cannot then be reopened.
    app.connection_action(&a.sandbox, &first, "deactivate")
        .await
        .expect(200);
    let second = pending_connection(&app, &a, &b).await;
    let before = app
        .snapshot(&connection_path(&first), &[&a.sandbox, &b.sandbox])
        .await;
    app.connection_action(&a.sandbox, &first, "reactivate")
        .await
        .refused(409, "connection_exists");
    assert_eq!(
        app.snapshot(&connection_path(&first), &[&a.sandbox, &b.sandbox])
            .await,
        before
    );
    assert_eq!(
        app.fetch(&a.sandbox, &connection_path(&second))
            .await
            .attr("status"),
        "pending"
    );
}

async fn concurrent_creations_make_one_connection(backend: Backend) {
    let app = App::new(backend).await;
    let (a, b) = (app.org("Alpha").await, app.org("Beta").await);
    let results =
        futures::future::join_all((0..20).map(|_| app.create_connection(&a.sandbox, &b.id))).await;
    let created = results.iter().filter(|r| r.status == 201).count();
    let exists = results
        .iter()
        .filter(|r| {
            r.status == 409
                && r.code() == "connection_exists"
                && r.pointer() == "/data/attributes/destination-organization-id"
        })
        .count();
    assert_eq!(
        (created, exists),
        (1, 19),
        "{:?}",
        results.iter().map(|r| r.json.clone()).collect::<Vec<_>>()
    );
    assert_eq!(app.events(&b.sandbox).await.len(), 1);
}

async fn concurrent_reactivations_reopen_one_connection(backend: Backend) {
    let app = App::new(backend).await;
    let (a, b) = (app.org("Alpha").await, app.org("Beta").await);
    let mut closed = Vec::new();
    for _ in 0..8 {
        closed.push(inactive_connection(&app, &a, &b).await);
    }
    let results = futures::future::join_all(
        closed
            .iter()
            .map(|c| app.connection_action(&a.sandbox, c, "reactivate")),
    )
    .await;
    let reopened = results.iter().filter(|r| r.status == 200).count();
    let exists = results
        .iter()
        .filter(|r| r.status == 409 && r.code() == "connection_exists")
        .count();
    assert_eq!(
        (reopened, exists),
        (1, 7),
        "{:?}",
        results.iter().map(|r| r.json.clone()).collect::<Vec<_>>()
    );
    let open = app
        .fetch(
            &a.sandbox,
            "/api/v1/connect/connections?filter[status]=pending,active",
        )
        .await;
    assert_eq!(open.ids().len(), 1);
}

async fn the_destination_must_be_a_known_organization(backend: Backend) {
    let app = App::new(backend).await;
    let a = app.org("Alpha").await;
    let nobody = "org_0000000000000000000000";
    let attempts = [
        (
            json!({"destination-organization-id": nobody}),
            422,
            "reference_not_found",
            "/data/attributes/destination-organization-id",
        ),
        (
            json!({"destination-organization-id": "beta"}),
            422,
            "invalid_id",
            "/data/attributes/destination-organization-id",
        ),
        (
            json!({"destination-organization-id": "inq_0000000000000000000000"}),
            422,
            "invalid_id",
            "/data/attributes/destination-organization-id",
        ),
        (
            json!({}),
            422,
            "missing_attribute",
            "/data/attributes/destination-organization-id",
        ),
        (
            json!({"destination-organization-id": 7}),
            400,
            "invalid_type",
            "/data/attributes/destination-organization-id",
        ),
        (
            json!({"destination-organization-id": nobody, "colour": "red"}),
            400,
            "unknown_attribute",
            "/data/attributes/colour",
        ),
    ];
    for (attributes, status, code, pointer) in attempts {
        let r = app
            .post("/api/v1/connect/connections")
            .key(&a.sandbox)
            .json(json!({"data": {"attributes": attributes}}))
            .send()
            .await
            .refused(status, code);
        assert_eq!(r.pointer(), pointer, "{attributes}");
    }
    assert!(app.events(&a.sandbox).await.is_empty());
    assert!(
        app.fetch(&a.sandbox, "/api/v1/connect/connections")
            .await
            .ids()
            .is_empty()
    );
}

async fn a_connection_to_oneself_works(backend: Backend) {
    let app = App::new(backend).await;
    let a = app.org("Alpha").await;
    let c = pending_connection(&app, &a, &a).await;
    let names: Vec<String> = app
        .events(&a.sandbox)
        .await
        .iter()
        .map(|e| e["attributes"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "connect/connection.outbound-created",
            "connect/connection.inbound-created"
        ]
    );
    let events = app.events(&a.sandbox).await;
    assert_connection_event(
        &events,
        "connect/connection.outbound-created",
        &c,
        "outbound",
        "pending",
    );
    assert_connection_event(
        &events,
        "connect/connection.inbound-created",
        &c,
        "inbound",
        "pending",
    );
    // Listed once; by direction, as the direction asked for.
    let list = |q: &'static str| {
        let app = &app;
        let key = a.sandbox.clone();
        async move {
            app.fetch(&key, &format!("/api/v1/connect/connections{q}"))
                .await
        }
    };
    assert_eq!(list("").await.ids(), [c.as_str()]);
    for direction in ["outbound", "inbound"] {
        let r = app
            .fetch(
                &a.sandbox,
                &format!("/api/v1/connect/connections?filter[direction]={direction}"),
            )
            .await;
        assert_eq!(r.ids(), [c.as_str()]);
        assert_eq!(r.json["data"][0]["attributes"]["direction"], direction);
    }
    let r = app
        .connection_action(&a.sandbox, &c, "activate")
        .await
        .expect(200);
    assert_eq!(r.attr("status"), "active");
    // Data can flow over it: a token made and redeemed within one organization.
    let inquiry = app
        .completed_inquiry(&a.sandbox, json!({"name-first": "Selma"}))
        .await;
    let token = app.share_token(&a.sandbox, &c, &inquiry).await;
    app.token_action(&a.sandbox, &token, "redeem")
        .await
        .expect(202);
    assert_eq!(app.drain().await, 1);
    let t = app
        .fetch(&a.sandbox, &format!("/api/v1/connect/share-tokens/{token}"))
        .await;
    assert_eq!(t.attr("status"), "redeemed");
    let copy = t.related("destination").unwrap();
    assert_ne!(copy, inquiry);
    for direction in ["outbound", "inbound"] {
        let r = app
            .fetch(
                &a.sandbox,
                &format!("/api/v1/connect/share-tokens?filter[direction]={direction}"),
            )
            .await;
        assert_eq!(r.ids(), [token.as_str()]);
        assert_eq!(r.json["data"][0]["attributes"]["direction"], direction);
    }
    let d = app
        .fetch(&a.sandbox, &format!("/api/v1/inquiries/{copy}"))
        .await;
    assert_eq!(d.attr("fields")["name-first"]["value"], "Selma");
}

async fn environments_are_separate(backend: Backend) {
    let app = App::new(backend).await;
    let (a, b) = (app.org("Alpha").await, app.org("Beta").await);
    let c = pending_connection(&app, &a, &b).await;
    for key in [&a.production, &b.production] {
        app.get(&connection_path(&c))
            .key(key)
            .send()
            .await
            .refused(404, "not_found");
        assert!(
            app.fetch(key, "/api/v1/connect/connections")
                .await
                .ids()
                .is_empty()
        );
        for action in ["activate", "deactivate", "reactivate"] {
            app.connection_action(key, &c, action)
                .await
                .refused(404, "not_found");
        }
        assert!(app.events(key).await.is_empty());
    }
    assert_eq!(
        app.fetch(&a.sandbox, &connection_path(&c))
            .await
            .attr("status"),
        "pending"
    );
    // The production connection is another one, seen only in production.
    let p = app
        .create_connection(&a.production, &b.id)
        .await
        .expect(201)
        .id();
    app.get(&connection_path(&p))
        .key(&b.sandbox)
        .send()
        .await
        .refused(404, "not_found");
    assert_eq!(
        app.fetch(&b.production, &connection_path(&p))
            .await
            .attr("direction"),
        "inbound"
    );
    assert_eq!(
        app.events_named(&b.production, "connect/connection.inbound-created")
            .await
            .len(),
        1
    );
}

async fn a_stranger_sees_no_connection(backend: Backend) {
    let app = App::new(backend).await;
    let (a, b, c) = (
        app.org("Alpha").await,
        app.org("Beta").await,
        app.org("Gamma").await,
    );
    let id = pending_connection(&app, &a, &b).await;
    let before = app
        .snapshot(&connection_path(&id), &[&a.sandbox, &b.sandbox])
        .await;
    for key in [&c.sandbox, &c.production] {
        app.get(&connection_path(&id))
            .key(key)
            .send()
            .await
            .refused(404, "not_found");
        for action in ["activate", "deactivate", "reactivate"] {
            app.connection_action(key, &id, action)
                .await
                .refused(404, "not_found");
        }
        assert!(
            app.fetch(key, "/api/v1/connect/connections")
                .await
                .ids()
                .is_empty()
        );
    }
    assert_eq!(
        app.snapshot(&connection_path(&id), &[&a.sandbox, &b.sandbox])
            .await,
        before
    );
}

on_both_backends!(
    one_open_connection_per_partner_and_environment,
    concurrent_creations_make_one_connection,
    concurrent_reactivations_reopen_one_connection,
    the_destination_must_be_a_known_organization,
    a_connection_to_oneself_works,
    environments_are_separate,
    a_stranger_sees_no_connection,
);
