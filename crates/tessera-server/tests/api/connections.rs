//! §3.4: connections — creation, listing, and every transition: who may make it, from which
//! status, what each side sees and is told.

use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{
    App, assert_connection_event, connection_path, inactive_connection, pending_connection,
};

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
    let seen = app.fetch(&b.sandbox, &connection_path(&id)).await;
    assert_eq!(seen.attr("direction"), "inbound");
    assert_eq!(seen.attr("status"), "pending");
    assert!(seen.json["data"]["relationships"].get("creator").is_none());
    // Between two organizations of one instance there is no peer to name: Tessera's extension
    // `peer-instance-id` is absent on both sides (Persona's shape exactly).
    for doc in [&r.json, &seen.json] {
        assert!(
            doc["data"]["attributes"].get("peer-instance-id").is_none(),
            "{doc}"
        );
    }

    let a_events = app.events(&a.sandbox).await;
    assert_eq!(a_events.len(), 1, "{a_events:?}");
    assert_connection_event(
        &a_events,
        "connect/connection.outbound-created",
        &id,
        "outbound",
        "pending",
    );
    let b_events = app.events(&b.sandbox).await;
    assert_eq!(b_events.len(), 1, "{b_events:?}");
    assert_connection_event(
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
    let to_b = pending_connection(&app, &a, &b).await;
    let from_c = app.active_connection(&c, &a).await;
    let to_c = inactive_connection(&app, &a, &c).await;

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
    let c = pending_connection(&app, &a, &b).await;
    let before = app
        .snapshot(&connection_path(&c), &[&a.sandbox, &b.sandbox])
        .await;
    app.db.clock.advance_seconds(5);
    app.connection_action(&a.sandbox, &c, "activate")
        .await
        .refused(403, "wrong_side");
    assert_eq!(
        app.snapshot(&connection_path(&c), &[&a.sandbox, &b.sandbox])
            .await,
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
    assert_connection_event(
        &app.events(&a.sandbox).await,
        "connect/connection.outbound-activated",
        &c,
        "outbound",
        "active",
    );
    assert_connection_event(
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
        let c = pending_connection(&app, &a, &b).await;
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
        assert_connection_event(
            &app.events(&a.sandbox).await,
            "connect/connection.outbound-deactivated",
            &c,
            "outbound",
            "inactive",
        );
        assert_connection_event(
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
    let c = inactive_connection(&app, &a, &b).await;
    let before = app
        .snapshot(&connection_path(&c), &[&a.sandbox, &b.sandbox])
        .await;
    app.connection_action(&b.sandbox, &c, "reactivate")
        .await
        .refused(403, "wrong_side");
    assert_eq!(
        app.snapshot(&connection_path(&c), &[&a.sandbox, &b.sandbox])
            .await,
        before
    );

    let r = app
        .connection_action(&a.sandbox, &c, "reactivate")
        .await
        .expect(200);
    assert_eq!(r.attr("status"), "pending");
    assert_connection_event(
        &app.events(&a.sandbox).await,
        "connect/connection.outbound-reactivated",
        &c,
        "outbound",
        "pending",
    );
    assert_connection_event(
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
    let closed = inactive_connection(&app, &b, &a).await;
    let open = pending_connection(&app, &b, &a).await;
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
        let before = app
            .snapshot(&connection_path(c), &[&a.sandbox, &b.sandbox])
            .await;
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
            app.snapshot(&connection_path(c), &[&a.sandbox, &b.sandbox])
                .await,
            before,
            "{action} of a {status} connection changed something"
        );
    }
}

on_both_backends!(
    creating_a_connection_tells_both_sides,
    listing_shows_both_directions_and_filters,
    only_the_destination_activates,
    either_side_deactivates_a_pending_or_active_connection,
    only_the_source_reactivates,
    every_forbidden_transition_is_a_conflict_that_changes_nothing,
);
