//! §3.3 inquiries: typed fields, the status machine, updates and list filters.

use serde_json::{Value, json};
use tessera_core::Clock;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::App;

async fn create(app: &App, key: &str, attributes: Value) -> crate::support::Resp {
    app.post("/api/v1/inquiries")
        .key(key)
        .json(json!({"data": {"attributes": attributes}}))
        .send()
        .await
}

async fn a_new_inquiry_is_created(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let now = app.db.clock.now().to_rfc3339();
    let r = create(
        &app,
        &org.sandbox,
        json!({"reference-id": "user-1", "note": "n", "tags": [" b ", "a", "b"]}),
    )
    .await
    .expect(201);
    assert!(r.id().starts_with("inq_"));
    assert_eq!(r.json["data"]["type"], "inquiry");
    let a = &r.json["data"]["attributes"];
    assert_eq!(a["status"], "created");
    assert_eq!(a["reference-id"], "user-1");
    assert_eq!(a["note"], "n");
    assert_eq!(a["tags"], json!(["b", "a"]));
    assert_eq!(a["fields"], json!({}));
    assert_eq!(
        (a["created-at"].as_str(), a["updated-at"].as_str()),
        (Some(now.as_str()), Some(now.as_str()))
    );
    for t in [
        "completed-at",
        "decisioned-at",
        "expired-at",
        "redacted-at",
        "shared-from",
    ] {
        assert_eq!(a[t], Value::Null, "{t}");
    }
    let rel = &r.json["data"]["relationships"];
    assert_eq!(rel["inquiry-template"]["data"], Value::Null);
    assert_eq!(rel["verifications"]["data"], json!([]));
    assert_eq!(rel["documents"]["data"], json!([]));
    assert_eq!(rel["share-token"]["data"], Value::Null);
    // Persona's required members: null where Tessera has nothing to say.
    for t in [
        "behaviors",
        "reviewer-comment",
        "started-at",
        "expires-at",
        "failed-at",
        "marked-for-review-at",
        "previous-step-name",
        "next-step-name",
    ] {
        assert_eq!(a[t], Value::Null, "{t}");
    }
    assert!(a["creator"].as_str().unwrap().starts_with("api_"));
    assert_eq!(
        r.json["meta"],
        json!({"session-token": null, "one-time-link": null, "one-time-link-short": null})
    );
    // The meta is the create's: a read shows the same inquiry without it.
    let shown = app.show_inquiry(&org.sandbox, &r.id()).await.json;
    assert_eq!(shown["data"], r.json["data"]);
    assert!(shown.get("meta").is_none());
    for (attributes, pointer) in [
        (
            json!({"reference-id": "r".repeat(256)}),
            "/data/attributes/reference-id",
        ),
        (json!({"note": "n".repeat(4097)}), "/data/attributes/note"),
        (json!({"tags": vec!["t"; 51]}), "/data/attributes/tags"),
        (json!({"tags": ["ok", " "]}), "/data/attributes/tags/1"),
        (
            json!({"inquiry-template-id": "inq_0000000000000000000000"}),
            "/data/attributes/inquiry-template-id",
        ),
    ] {
        let r = create(&app, &org.sandbox, attributes.clone())
            .await
            .expect(422);
        assert_eq!(r.pointer(), pointer, "{attributes}");
    }
    let r = create(
        &app,
        &org.sandbox,
        json!({"inquiry-template-id": "itmpl_0000000000000000000000"}),
    )
    .await
    .expect(404);
    assert_eq!(r.pointer(), "/data/attributes/inquiry-template-id");
    let r = create(&app, &org.sandbox, json!({"status": "approved"}))
        .await
        .expect(400);
    assert_eq!(
        (r.code(), r.pointer()),
        ("unknown_attribute", "/data/attributes/status")
    );
    assert_eq!(app.all(&org.sandbox, "/api/v1/inquiries").await.len(), 1);
}

async fn standard_fields_are_typed_and_others_keep_their_json_type(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let r = create(
        &app,
        k,
        json!({"fields": {
            "name-first": "Jane", "birthdate": "1990-04-01", "address-country-code": "us",
            "issuing-country": "de", "identification-class": "PP", "expiration-date": "2031-12-31",
            "score": 7.5, "vip": true, "nickname": "JJ", "count": -3
        }}),
    )
    .await
    .expect(201);
    assert_eq!(
        r.attr("fields"),
        &json!({
            "address-country-code": {"type": "string", "value": "US"},
            "birthdate": {"type": "date", "value": "1990-04-01"},
            "count": {"type": "number", "value": -3},
            "expiration-date": {"type": "date", "value": "2031-12-31"},
            "identification-class": {"type": "choices", "value": "pp"},
            "issuing-country": {"type": "string", "value": "DE"},
            "name-first": {"type": "string", "value": "Jane"},
            "nickname": {"type": "string", "value": "JJ"},
            "score": {"type": "number", "value": 7.5},
            "vip": {"type": "boolean", "value": true}
        })
    );
    let bad: Vec<(&str, Value)> = vec![
        ("birthdate", json!("1990-13-01")),
        ("birthdate", json!("1990-02-30")),
        ("birthdate", json!("1990-4-1")),
        ("birthdate", json!(19900401)),
        ("expiration-date", json!("31/12/2031")),
        ("address-country-code", json!("USA")),
        ("issuing-country", json!("U1")),
        ("identification-class", json!("passport")),
        ("name-first", json!(5)),
        ("name-last", json!(["a"])),
        ("custom", json!({"nested": 1})),
        ("custom", json!([1, 2])),
        ("long", json!("x".repeat(1025))),
        ("bad name", json!("x")),
        ("a/b", json!("x")),
    ];
    for (name, value) in bad {
        let r = create(&app, k, json!({"fields": {name: value}}))
            .await
            .expect(422);
        let pointer = format!("/data/attributes/fields/{}", name.replace('/', "~1"));
        assert_eq!(
            (r.code(), r.pointer()),
            ("invalid_field_value", pointer.as_str()),
            "{name}"
        );
    }
    let many: serde_json::Map<String, Value> =
        (0..101).map(|i| (format!("f{i}"), json!(i))).collect();
    create(&app, k, json!({"fields": many})).await.expect(422);
    assert_eq!(app.all(k, "/api/v1/inquiries").await.len(), 1);
    assert_eq!(app.event_names(k, None).await, ["inquiry.created"]);
}

/// Makes an inquiry in the given status, by the API.
async fn inquiry_in(app: &App, key: &str, status: &str) -> String {
    let id = app.inquiry(key, json!({})).await;
    let steps: &[&str] = match status {
        "created" => &[],
        "pending" => &["verify"],
        "completed" => &["complete"],
        "approved" => &["complete", "approve"],
        "declined" => &["complete", "decline"],
        "needs_review" => &["complete", "mark-for-review"],
        "expired" => &["expire"],
        "failed" => &["fail"],
        other => panic!("{other}"),
    };
    for step in steps {
        if *step == "verify" {
            app.verify(key, &id, "selfie", "passed").await.expect(201);
        } else {
            app.act(key, &id, step).await.expect(200);
        }
    }
    assert_eq!(app.show_inquiry(key, &id).await.attr("status"), status);
    id
}

const STATUSES: [&str; 8] = [
    "created",
    "pending",
    "completed",
    "approved",
    "declined",
    "needs_review",
    "expired",
    "failed",
];

/// What `action` does from `from`: `(to, event, timestamp it sets)`, or None for a 409.
/// Persona's rules: mark-for-review from anything but a decision; approve and decline (Tessera's
/// rule, Persona gives none) once the inquiry has left `created`, never twice.
fn allowed(action: &str, from: &str) -> Option<(&'static str, &'static str, &'static str)> {
    let open = matches!(from, "created" | "pending");
    match action {
        "complete" if open => Some(("completed", "inquiry.completed", "completed-at")),
        "expire" if open => Some(("expired", "inquiry.expired", "expired-at")),
        "fail" if open => Some(("failed", "inquiry.failed", "failed-at")),
        "approve" | "decline"
            if matches!(
                from,
                "pending" | "completed" | "needs_review" | "failed" | "expired"
            ) =>
        {
            Some(if action == "approve" {
                ("approved", "inquiry.approved", "decisioned-at")
            } else {
                ("declined", "inquiry.declined", "decisioned-at")
            })
        }
        "mark-for-review" if !matches!(from, "approved" | "declined") => Some((
            "needs_review",
            "inquiry.marked-for-review",
            "marked-for-review-at",
        )),
        _ => None,
    }
}

async fn every_transition_is_allowed_or_refused_with_nothing_changed(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    for from in STATUSES {
        for action in [
            "complete",
            "approve",
            "decline",
            "mark-for-review",
            "expire",
            "fail",
        ] {
            let id = inquiry_in(&app, k, from).await;
            let before = app.show_inquiry(k, &id).await.json;
            let events_before = app.event_names(k, Some(&id)).await;
            app.db.clock.advance_seconds(1);
            let now = app.db.clock.now().to_rfc3339();
            let r = app.act(k, &id, action).await;
            let Some((to, event, stamp)) = allowed(action, from) else {
                let r = r.expect(409);
                assert_eq!(
                    r.code(),
                    "invalid_status_transition",
                    "{action} from {from}"
                );
                assert_eq!(
                    app.show_inquiry(k, &id).await.json,
                    before,
                    "{action} from {from}"
                );
                assert_eq!(app.event_names(k, Some(&id)).await, events_before);
                continue;
            };
            let r = r.expect(200);
            assert_eq!(r.attr("status"), to, "{action} from {from}");
            assert_eq!(r.attr("updated-at"), now.as_str());
            assert_eq!(r.attr(stamp), now.as_str(), "{action} sets {stamp}");
            for other in [
                "completed-at",
                "decisioned-at",
                "expired-at",
                "failed-at",
                "marked-for-review-at",
            ] {
                if other != stamp {
                    assert_eq!(
                        r.attr(other),
                        &before["data"]["attributes"][other],
                        "{action} keeps {other}"
                    );
                }
            }
            assert_eq!(app.show_inquiry(k, &id).await.json, r.json);
            // The status's event, then Persona's `inquiry.transitioned`.
            let events = app.event_names(k, Some(&id)).await;
            assert_eq!(events.len(), events_before.len() + 2);
            assert_eq!(events[0], "inquiry.transitioned");
            assert_eq!(events[1], event);
            let payload = &app
                .all(k, &format!("/api/v1/events?filter[object-id]={id}"))
                .await[0];
            assert_eq!(payload["attributes"]["payload"]["data"], r.json["data"]);
        }
    }
    let r = app
        .act(k, "inq_0000000000000000000000", "complete")
        .await
        .expect(404);
    assert_eq!(r.code(), "not_found");
    app.act(k, "not-an-id", "complete").await.expect(404);
}

async fn updates_change_fields_note_and_tags(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let id = app
        .post("/api/v1/inquiries")
        .key(k)
        .json(json!({"data": {"attributes": {"note": "first", "tags": ["a"], "fields": {"name-first": "Jane", "name-last": "Doe", "score": 1}}}}))
        .send()
        .await
        .expect(201)
        .id();
    let patch = |attributes: Value| {
        app.patch(&format!("/api/v1/inquiries/{id}"))
            .key(k)
            .json(json!({"data": {"attributes": attributes}}))
            .send()
    };
    app.db.clock.advance_seconds(1);
    let r =
        patch(json!({"fields": {"name-last": null, "birthdate": "1990-04-01", "score": "high"}}))
            .await
            .expect(200);
    assert_eq!(
        r.attr("fields"),
        &json!({"birthdate": {"type": "date", "value": "1990-04-01"},
                "name-first": {"type": "string", "value": "Jane"},
                "score": {"type": "string", "value": "high"}})
    );
    assert_eq!(r.attr("note"), "first");
    assert_eq!(
        r.attr("updated-at"),
        app.db.clock.now().to_rfc3339().as_str()
    );
    let r = patch(json!({"note": "second", "tags": ["x", "y"]}))
        .await
        .expect(200);
    assert_eq!(
        (r.attr("note"), r.attr("tags")),
        (&json!("second"), &json!(["x", "y"]))
    );
    assert_eq!(r.attr("fields")["name-first"]["value"], "Jane");
    let r = patch(json!({"note": null})).await.expect(200);
    assert_eq!(r.attr("note"), &Value::Null);
    assert_eq!(r.attr("tags"), &json!(["x", "y"]));
    let r = patch(json!({"tags": []})).await.expect(200);
    assert_eq!(r.attr("tags"), &json!([]));
    let events = app
        .all(k, &format!("/api/v1/events?filter[object-id]={id}"))
        .await;
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["attributes"]["name"].as_str().unwrap())
        .collect();
    // Each PATCH is `inquiry.updated`; those that changed the tags also `inquiry.updated-tags`.
    assert_eq!(
        names,
        [
            "inquiry.updated-tags",
            "inquiry.updated",
            "inquiry.updated",
            "inquiry.updated-tags",
            "inquiry.updated",
            "inquiry.updated",
            "inquiry.created"
        ]
    );
    assert_eq!(events[0]["attributes"]["payload"]["data"], r.json["data"]);
    // Invalid changes change nothing.
    let before = app.show_inquiry(k, &id).await.json;
    for (attributes, status, pointer) in [
        (
            json!({"fields": {"birthdate": "soon"}}),
            422,
            "/data/attributes/fields/birthdate",
        ),
        (
            json!({"note": "n".repeat(4097)}),
            422,
            "/data/attributes/note",
        ),
        (
            json!({"status": "approved"}),
            400,
            "/data/attributes/status",
        ),
        (json!({"tags": "x"}), 400, "/data/attributes/tags"),
        (
            json!({"fields": {"name-first": "Ann", "x": {"y": 1}}}),
            422,
            "/data/attributes/fields/x",
        ),
    ] {
        let r = patch(attributes).await.expect(status);
        assert_eq!(r.pointer(), pointer);
    }
    assert_eq!(app.show_inquiry(k, &id).await.json, before);
    assert_eq!(app.event_names(k, Some(&id)).await.len(), 7);
    // Decided inquiries may still be annotated.
    app.act(k, &id, "complete").await.expect(200);
    app.act(k, &id, "approve").await.expect(200);
    patch(json!({"note": "approved by Ann"})).await.expect(200);
    app.patch("/api/v1/inquiries/inq_0000000000000000000000")
        .key(k)
        .json(json!({"data": {"attributes": {"note": "x"}}}))
        .send()
        .await
        .expect(404);
}

async fn lists_filter_by_status_reference_and_template(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let t1 = app.template(k, "one").await;
    let t2 = app.template(k, "two").await;
    let mk = |reference: &'static str, template: &str| {
        create(
            &app,
            k,
            json!({"reference-id": reference, "inquiry-template-id": template}),
        )
    };
    let a = mk("alice", &t1).await.expect(201).id();
    let b = mk("bob", &t1).await.expect(201).id();
    let c = mk("alice", &t2).await.expect(201).id();
    let d = app.inquiry(k, json!({})).await;
    app.act(k, &b, "complete").await.expect(200);
    app.act(k, &c, "fail").await.expect(200);
    let app = &app;
    let ids = |q: &'static str| async move { app.ids(k, &format!("/api/v1/inquiries?{q}")).await };
    assert_eq!(ids("filter[status]=created").await, [d.clone(), a.clone()]);
    assert_eq!(
        ids("filter[status]=created,completed").await,
        [d.clone(), b.clone(), a.clone()]
    );
    assert_eq!(
        ids("filter[status]=failed,%20completed").await,
        [c.clone(), b.clone()]
    );
    assert_eq!(ids("filter[status]=approved").await, Vec::<String>::new());
    assert_eq!(
        ids("filter[reference-id]=alice").await,
        [c.clone(), a.clone()]
    );
    assert_eq!(
        ids("filter[referenceId]=bob").await,
        std::slice::from_ref(&b)
    );
    let by_template = app
        .all(
            k,
            &format!("/api/v1/inquiries?filter[inquiry-template-id]={t1}"),
        )
        .await;
    assert_eq!(by_template.len(), 2);
    let both = app
        .all(k, &format!("/api/v1/inquiries?filter[inquiry-template-id]={t1}&filter[status]=completed&filter[reference-id]=bob"))
        .await;
    assert_eq!(both.len(), 1);
    assert_eq!(both[0]["id"], b.as_str());
    assert_eq!(
        both[0]["relationships"]["inquiry-template"]["data"],
        json!({"type": "inquiry-template", "id": t1})
    );
    let _ = t2;
}

on_both_backends!(
    a_new_inquiry_is_created,
    standard_fields_are_typed_and_others_keep_their_json_type,
    every_transition_is_allowed_or_refused_with_nothing_changed,
    updates_change_fields_note_and_tags,
    lists_filter_by_status_reference_and_template,
);
