//! §3.4: connections — who may do what, from which status, what each side sees and is told.

use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{App, Org};

fn path(id: &str) -> String {
    format!("/api/v1/connect/connections/{id}")
}

/// A pending connection from `a` to `b` (sandbox).
async fn pending(app: &App, a: &Org, b: &Org) -> String {
    app.create_connection(&a.sandbox, &b.id)
        .await
        .expect(201)
        .id()
}

/// An inactive connection from `a` to `b` (sandbox).
async fn inactive(app: &App, a: &Org, b: &Org) -> String {
    let c = pending(app, a, b).await;
    app.connection_action(&a.sandbox, &c, "deactivate")
        .await
        .expect(200);
    c
}

/// Asserts that `key`'s environment's last event is `name` about connection `id`, as that side
/// sees it.
#[track_caller]
fn assert_event(events: &[Value], name: &str, id: &str, direction: &str, status: &str) {
    let e = events
        .iter()
        .rev()
        .find(|e| e["attributes"]["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {events:?}"));
    let data = &e["attributes"]["payload"]["data"];
    assert_eq!(data["type"], "connect/connection");
    assert_eq!(data["id"], id);
    assert_eq!(data["attributes"]["direction"], direction, "{name}");
    assert_eq!(data["attributes"]["status"], status, "{name}");
}

async fn creating_a_connection_tells_both_sides(backend: Backend) {
    let app = App::new(backend).await;
    let (a, b) = (app.org("Alpha").await, app.org("Beta").await);
    let r = app
        .post("/api/v1/connect/connections")
        .key(&a.sandbox)
        .json(json!({"data": {"attributes": {"destination-organization-id": b.id, "name": "Alpha to Beta"}}}))
        .send()
        .await
        .expect(201);
    let id = r.id();
    assert!(id.starts_with("cxn_"));
    assert_eq!(r.json["data"]["type"], "connect/connection");
    assert_eq!(r.attr("status"), "pending");
    assert_eq!(r.attr("direction"), "outbound");
    assert_eq!(r.attr("name"), "Alpha to Beta");
    assert_eq!(r.attr("source-organization-id"), a.id.as_str());
    assert_eq!(r.attr("destination-organization-id"), b.id.as_str());
    assert!(r.attr("activated-at").is_null() && r.attr("deactivated-at").is_null());
    assert_eq!(r.attr("created-at"), r.attr("updated-at"));
    assert_eq!(
        r.json["data"]["relationships"]["creator"]["data"]["type"],
        "api-key"
    );

    // The destination sees the same connection as inbound, without the source's creator.
    let seen = app.fetch(&b.sandbox, &path(&id)).await;
    assert_eq!(seen.attr("direction"), "inbound");
    assert_eq!(seen.attr("status"), "pending");
    assert!(seen.json["data"]["relationships"]["creator"]["data"].is_null());

    let a_events = app.events(&a.sandbox).await;
    assert_eq!(a_events.len(), 1, "{a_events:?}");
    assert_event(
        &a_events,
        "connect/connection.outbound-created",
        &id,
        "outbound",
        "pending",
    );
    let b_events = app.events(&b.sandbox).await;
    assert_eq!(b_events.len(), 1, "{b_events:?}");
    assert_event(
        &b_events,
        "connect/connection.inbound-created",
        &id,
        "inbound",
        "pending",
    );
}

async fn listing_shows_both_directions_and_filters(backend: Backend) {
    let app = App::new(backend).await;
    let (a, b, c) = (
        app.org("Alpha").await,
        app.org("Beta").await,
        app.org("Gamma").await,
    );
    let to_b = pending(&app, &a, &b).await;
    let from_c = app.active_connection(&c, &a).await;
    let to_c = inactive(&app, &a, &c).await;

    let list = |q: &'static str| {
        let app = &app;
        let key = a.sandbox.clone();
        async move {
            app.fetch(&key, &format!("/api/v1/connect/connections{q}"))
                .await
        }
    };
    let all = list("").await;
    assert_eq!(
        all.ids(),
        [to_c.as_str(), from_c.as_str(), to_b.as_str()],
        "newest first"
    );
    let directions: Vec<&Value> = all.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["attributes"]["direction"])
        .collect();
    assert_eq!(directions, ["outbound", "inbound", "outbound"]);
    assert_eq!(
        list("?filter[direction]=outbound").await.ids(),
        [to_c.as_str(), to_b.as_str()]
    );
    assert_eq!(
        list("?filter[direction]=inbound").await.ids(),
        [from_c.as_str()]
    );
    assert_eq!(
        list("?filter[status]=active").await.ids(),
        [from_c.as_str()]
    );
    assert_eq!(
        list("?filter[status]=pending,inactive").await.ids(),
        [to_c.as_str(), to_b.as_str()]
    );
    assert_eq!(
        list("?filter[status]=inactive&filter[direction]=outbound")
            .await
            .ids(),
        [to_c.as_str()]
    );
    assert!(
        list("?filter[status]=active&filter[direction]=outbound")
            .await
            .ids()
            .is_empty()
    );
    // Paging keeps the filters.
    let first = list("?filter[direction]=outbound&page[size]=1").await;
    assert_eq!(first.ids(), [to_c.as_str()]);
    let next = first.json["links"]["next"].as_str().unwrap().to_owned();
    assert!(
        next.contains("filter%5Bdirection%5D=outbound")
            || next.contains("filter[direction]=outbound"),
        "{next}"
    );
    assert_eq!(app.fetch(&a.sandbox, &next).await.ids(), [to_b.as_str()]);

    // Each partner sees only its own connection, as inbound or outbound.
    let b_list = app.fetch(&b.sandbox, "/api/v1/connect/connections").await;
    assert_eq!(b_list.ids(), [to_b.as_str()]);
    assert_eq!(b_list.json["data"][0]["attributes"]["direction"], "inbound");
    let c_list = app
        .fetch(
            &c.sandbox,
            "/api/v1/connect/connections?filter[direction]=inbound",
        )
        .await;
    assert_eq!(c_list.ids(), [to_c.as_str()]);

    for bad in [
        "filter[status]=open",
        "filter[direction]=sideways",
        "filter[name]=x",
    ] {
        let r = app
            .get(&format!("/api/v1/connect/connections?{bad}"))
            .key(&a.sandbox)
            .send()
            .await
            .refused(400, "invalid_query_parameter");
        assert!(
            r.json["errors"][0]["source"]["parameter"].is_string(),
            "{}",
            r.json
        );
    }
}

async fn only_the_destination_activates(backend: Backend) {
    let app = App::new(backend).await;
    let (a, b) = (app.org("Alpha").await, app.org("Beta").await);
    let c = pending(&app, &a, &b).await;
    let before = app.snapshot(&path(&c), &[&a.sandbox, &b.sandbox]).await;
    app.db.clock.advance_seconds(5);
    app.connection_action(&a.sandbox, &c, "activate")
        .await
        .refused(403, "wrong_side");
    assert_eq!(
        app.snapshot(&path(&c), &[&a.sandbox, &b.sandbox]).await,
        before
    );

    let r = app
        .connection_action(&b.sandbox, &c, "activate")
        .await
        .expect(200);
    assert_eq!(r.attr("status"), "active");
    assert_eq!(r.attr("direction"), "inbound");
    assert_eq!(r.attr("activated-at"), r.attr("updated-at"));
    assert_ne!(r.attr("updated-at"), r.attr("created-at"));
    assert_event(
        &app.events(&a.sandbox).await,
        "connect/connection.outbound-activated",
        &c,
        "outbound",
        "active",
    );
    assert_event(
        &app.events(&b.sandbox).await,
        "connect/connection.inbound-activated",
        &c,
        "inbound",
        "active",
    );
}

async fn either_side_deactivates_a_pending_or_active_connection(backend: Backend) {
    let app = App::new(backend).await;
    let (a, b) = (app.org("Alpha").await, app.org("Beta").await);
    // Each side ends a pending connection (a withdrawal, a refusal) and an active one.
    let cases: [(&str, bool); 4] = [
        ("source", false),
        ("destination", false),
        ("source", true),
        ("destination", true),
    ];
    for (who, activate_first) in cases {
        let c = pending(&app, &a, &b).await;
        if activate_first {
            app.connection_action(&b.sandbox, &c, "activate")
                .await
                .expect(200);
        }
        let (key, direction) = if who == "source" {
            (&a.sandbox, "outbound")
        } else {
            (&b.sandbox, "inbound")
        };
        app.db.clock.advance_seconds(1);
        let r = app
            .connection_action(key, &c, "deactivate")
            .await
            .expect(200);
        assert_eq!(r.attr("status"), "inactive", "{who}");
        assert_eq!(r.attr("direction"), direction);
        assert_eq!(r.attr("deactivated-at"), r.attr("updated-at"));
        assert_eq!(r.attr("activated-at").is_string(), activate_first);
        assert_event(
            &app.events(&a.sandbox).await,
            "connect/connection.outbound-deactivated",
            &c,
            "outbound",
            "inactive",
        );
        assert_event(
            &app.events(&b.sandbox).await,
            "connect/connection.inbound-deactivated",
            &c,
            "inbound",
            "inactive",
        );
    }
}

async fn only_the_source_reactivates(backend: Backend) {
    let app = App::new(backend).await;
    let (a, b) = (app.org("Alpha").await, app.org("Beta").await);
    let c = inactive(&app, &a, &b).await;
    let before = app.snapshot(&path(&c), &[&a.sandbox, &b.sandbox]).await;
    app.connection_action(&b.sandbox, &c, "reactivate")
        .await
        .refused(403, "wrong_side");
    assert_eq!(
        app.snapshot(&path(&c), &[&a.sandbox, &b.sandbox]).await,
        before
    );

    let r = app
        .connection_action(&a.sandbox, &c, "reactivate")
        .await
        .expect(200);
    assert_eq!(r.attr("status"), "pending");
    assert_event(
        &app.events(&a.sandbox).await,
        "connect/connection.outbound-reactivated",
        &c,
        "outbound",
        "pending",
    );
    assert_event(
        &app.events(&b.sandbox).await,
        "connect/connection.inbound-reactivated",
        &c,
        "inbound",
        "pending",
    );
    // A reactivated connection is activated again by the destination.
    let r = app
        .connection_action(&b.sandbox, &c, "activate")
        .await
        .expect(200);
    assert_eq!(r.attr("status"), "active");
}

async fn every_forbidden_transition_is_a_conflict_that_changes_nothing(backend: Backend) {
    let app = App::new(backend).await;
    let (a, b) = (app.org("Alpha").await, app.org("Beta").await);
    // One connection of each status (a → b active; b → a inactive, then b → a pending).
    let active = app.active_connection(&a, &b).await;
    let closed = inactive(&app, &b, &a).await;
    let open = pending(&app, &b, &a).await;
    // (status, connection, a key of the side the action belongs to, action)
    let cases = [
        ("pending", &open, &b.sandbox, "reactivate"),
        ("active", &active, &b.sandbox, "activate"),
        ("active", &active, &a.sandbox, "reactivate"),
        ("inactive", &closed, &a.sandbox, "activate"),
        ("inactive", &closed, &a.sandbox, "deactivate"),
        ("inactive", &closed, &b.sandbox, "deactivate"),
    ];
    app.db.clock.advance_seconds(10);
    for (status, c, key, action) in cases {
        let before = app.snapshot(&path(c), &[&a.sandbox, &b.sandbox]).await;
        assert_eq!(before[0]["data"]["attributes"]["status"], status);
        let r = app
            .connection_action(key, c, action)
            .await
            .refused(409, "invalid_status_transition");
        assert!(
            r.json["errors"][0]["details"]
                .as_str()
                .unwrap()
                .contains(status),
            "{}",
            r.json
        );
        assert_eq!(
            app.snapshot(&path(c), &[&a.sandbox, &b.sandbox]).await,
            before,
            "{action} of a {status} connection changed something"
        );
    }
}

async fn one_open_connection_per_partner_and_environment(backend: Backend) {
    let app = App::new(backend).await;
    let (a, b) = (app.org("Alpha").await, app.org("Beta").await);
    let first = pending(&app, &a, &b).await;
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
    let second = pending(&app, &a, &b).await;
    let before = app.snapshot(&path(&first), &[&a.sandbox, &b.sandbox]).await;
    app.connection_action(&a.sandbox, &first, "reactivate")
        .await
        .refused(409, "connection_exists");
    assert_eq!(
        app.snapshot(&path(&first), &[&a.sandbox, &b.sandbox]).await,
        before
    );
    assert_eq!(
        app.fetch(&a.sandbox, &path(&second)).await.attr("status"),
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
        closed.push(inactive(&app, &a, &b).await);
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
            404,
            "not_found",
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
    let c = pending(&app, &a, &a).await;
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
    assert_event(
        &events,
        "connect/connection.outbound-created",
        &c,
        "outbound",
        "pending",
    );
    assert_event(
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
        .expect(200);
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
    let c = pending(&app, &a, &b).await;
    for key in [&a.production, &b.production] {
        app.get(&path(&c))
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
        app.fetch(&a.sandbox, &path(&c)).await.attr("status"),
        "pending"
    );
    // The production connection is another one, seen only in production.
    let p = app
        .create_connection(&a.production, &b.id)
        .await
        .expect(201)
        .id();
    app.get(&path(&p))
        .key(&b.sandbox)
        .send()
        .await
        .refused(404, "not_found");
    assert_eq!(
        app.fetch(&b.production, &path(&p)).await.attr("direction"),
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
    let id = pending(&app, &a, &b).await;
    let before = app.snapshot(&path(&id), &[&a.sandbox, &b.sandbox]).await;
    for key in [&c.sandbox, &c.production] {
        app.get(&path(&id))
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
        app.snapshot(&path(&id), &[&a.sandbox, &b.sandbox]).await,
        before
    );
}

on_both_backends!(
    creating_a_connection_tells_both_sides,
    listing_shows_both_directions_and_filters,
    only_the_destination_activates,
    either_side_deactivates_a_pending_or_active_connection,
    only_the_source_reactivates,
    every_forbidden_transition_is_a_conflict_that_changes_nothing,
    one_open_connection_per_partner_and_environment,
    concurrent_creations_make_one_connection,
    concurrent_reactivations_reopen_one_connection,
    the_destination_must_be_a_known_organization,
    a_connection_to_oneself_works,
    environments_are_separate,
    a_stranger_sees_no_connection,
);
