//! §3.3 verifications: recorded on open inquiries, validated, with their events.

use serde_json::{Value, json};
use tessera_core::Clock;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::App;

async fn record(app: &App, key: &str, attributes: Value) -> crate::support::Resp {
    app.post("/api/v1/verifications")
        .key(key)
        .json(json!({"data": {"attributes": attributes}}))
        .send()
        .await
}

async fn the_first_verification_starts_the_inquiry(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let inq = app.inquiry(k, json!({})).await;
    app.db.clock.advance_seconds(1);
    let now = app.db.clock.now().to_rfc3339();
    let r = record(
        &app,
        k,
        json!({"inquiry-id": inq, "type": "government-id", "status": "passed",
        "attributes": {"name-first": "Jane", "birthdate": "1990-04-01", "someKey": 1},
        "checks": [{"name": "id_not_expired", "status": "passed"},
                   {"name": "barcode", "status": "not_applicable", "requirement": "not_required",
                    "reasons": ["no barcode"], "metadata": {"raw-value": 1}}]}),
    )
    .await
    .expect(201);
    let ver = r.id();
    assert!(ver.starts_with("ver_"));
    assert_eq!(r.json["data"]["type"], "verification/government-id");
    assert_eq!(r.attr("status"), "passed");
    assert_eq!(r.attr("completed-at"), now.as_str());
    assert_eq!(r.attr("created-at"), now.as_str());
    // Free-form maps keep their keys as written.
    assert_eq!(
        r.attr("attributes"),
        &json!({"name-first": "Jane", "birthdate": "1990-04-01", "someKey": 1})
    );
    assert_eq!(
        r.attr("checks"),
        &json!([{"name": "id_not_expired", "status": "passed", "reasons": [], "requirement": "required", "metadata": {}},
                {"name": "barcode", "status": "not_applicable", "reasons": ["no barcode"], "requirement": "not_required", "metadata": {"raw-value": 1}}])
    );
    assert_eq!(
        r.json["data"]["relationships"]["inquiry"]["data"],
        json!({"type": "inquiry", "id": inq})
    );
    let shown = app
        .get(&format!("/api/v1/verifications/{ver}"))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_eq!(shown.json, r.json);
    let i = app.show_inquiry(k, &inq).await;
    assert_eq!(i.attr("status"), "pending");
    assert_eq!(i.attr("updated-at"), now.as_str());
    assert_eq!(
        i.json["data"]["relationships"]["verifications"]["data"],
        json!([{"type": "verification/government-id", "id": ver}])
    );
    assert_eq!(
        app.event_names(k, None).await,
        [
            "verification.passed",
            "inquiry.transitioned",
            "inquiry.started",
            "inquiry.created"
        ]
    );
    let started = &app
        .all(k, "/api/v1/events?filter[name]=inquiry.started")
        .await[0];
    assert_eq!(
        started["attributes"]["payload"]["data"]["attributes"]["status"],
        "pending"
    );
    let passed = &app
        .all(k, "/api/v1/events?filter[name]=verification.passed")
        .await[0];
    assert_eq!(passed["attributes"]["payload"]["data"], r.json["data"]);
    // A second one adds its event and does not start the inquiry again.
    let second = app.verify(k, &inq, "selfie", "failed").await.expect(201);
    assert_eq!(second.json["data"]["type"], "verification/selfie");
    assert_eq!(
        app.event_names(k, None).await,
        [
            "verification.failed",
            "verification.passed",
            "inquiry.transitioned",
            "inquiry.started",
            "inquiry.created"
        ]
    );
    // Completed and needs-review inquiries still take verifications.
    app.act(k, &inq, "complete").await.expect(200);
    app.verify(k, &inq, "database", "passed").await.expect(201);
    app.act(k, &inq, "mark-for-review").await.expect(200);
    app.verify(k, &inq, "email-address", "passed")
        .await
        .expect(201);
    let i = app.show_inquiry(k, &inq).await;
    assert_eq!(i.attr("status"), "needs_review");
    assert_eq!(
        i.json["data"]["relationships"]["verifications"]["data"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    app.get("/api/v1/verifications/ver_0000000000000000000000")
        .key(k)
        .send()
        .await
        .expect(404);
}

async fn types_statuses_and_times_are_checked(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let inq = app.inquiry(k, json!({})).await;
    let base = |extra: Value| {
        let mut a = json!({"inquiry-id": inq, "type": "selfie", "status": "passed"});
        a.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        a
    };
    let future = app.db.clock.now().plus_seconds(3600).to_rfc3339();
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            base(json!({"type": "share-token"})),
            422,
            "invalid_attribute",
            "/data/attributes/type",
        ),
        (
            base(json!({"type": "verification/selfie"})),
            422,
            "invalid_attribute",
            "/data/attributes/type",
        ),
        (
            base(json!({"type": "retina"})),
            422,
            "invalid_attribute",
            "/data/attributes/type",
        ),
        (
            base(json!({"status": "pending"})),
            422,
            "invalid_attribute",
            "/data/attributes/status",
        ),
        (
            base(json!({"status": true})),
            400,
            "invalid_type",
            "/data/attributes/status",
        ),
        (
            base(json!({"completed-at": future})),
            422,
            "invalid_attribute",
            "/data/attributes/completed-at",
        ),
        (
            base(json!({"completed-at": "yesterday"})),
            422,
            "invalid_attribute",
            "/data/attributes/completed-at",
        ),
        (
            base(json!({"inquiry-id": "ver_0000000000000000000000"})),
            422,
            "invalid_id",
            "/data/attributes/inquiry-id",
        ),
        (
            base(json!({"inquiry-id": "inq_0000000000000000000000"})),
            404,
            "not_found",
            "/data/attributes/inquiry-id",
        ),
        (
            base(json!({"checks": [{"name": "c", "status": "maybe"}]})),
            422,
            "invalid_attribute",
            "/data/attributes/checks/0/status",
        ),
        (
            base(json!({"checks": [{"name": "c", "status": "passed", "requirement": "optional"}]})),
            422,
            "invalid_attribute",
            "/data/attributes/checks/0/requirement",
        ),
        (
            base(json!({"checks": [{"name": "", "status": "passed"}]})),
            422,
            "invalid_attribute",
            "/data/attributes/checks/0/name",
        ),
        (
            base(json!({"checks": [{"name": "c", "status": "passed", "extra": 1}]})),
            400,
            "unknown_attribute",
            "/data/attributes/checks/0/extra",
        ),
        (
            base(json!({"checks": [{"name": "c", "status": "passed", "reasons": vec!["r"; 21]}]})),
            422,
            "invalid_attribute",
            "/data/attributes/checks/0/reasons",
        ),
        (
            base(
                json!({"checks": [{"name": "c", "status": "passed", "metadata": {"big": "x".repeat(9000)}}]}),
            ),
            422,
            "invalid_attribute",
            "/data/attributes/checks/0/metadata",
        ),
        (
            base(json!({"checks": vec![json!({"name": "c", "status": "passed"}); 51]})),
            422,
            "invalid_attribute",
            "/data/attributes/checks",
        ),
        (
            base(json!({"checks": {"name": "c"}})),
            400,
            "invalid_type",
            "/data/attributes/checks",
        ),
        (
            base(json!({"attributes": {"address": {"city": "x"}}})),
            422,
            "invalid_attribute",
            "/data/attributes/attributes/address",
        ),
        (
            base(json!({"attributes": {"list": [1]}})),
            422,
            "invalid_attribute",
            "/data/attributes/attributes/list",
        ),
    ];
    for (attributes, status, code, pointer) in cases {
        let r = record(&app, k, attributes.clone()).await.expect(status);
        assert_eq!((r.code(), r.pointer()), (code, pointer), "{attributes}");
    }
    assert_eq!(app.show_inquiry(k, &inq).await.attr("status"), "created");
    assert_eq!(app.event_names(k, None).await, ["inquiry.created"]);
    // A past completion time is kept as given (in UTC); a little clock skew is tolerated.
    let r = record(
        &app,
        k,
        base(json!({"completed-at": "2020-01-02T01:04:05.123+01:00"})),
    )
    .await
    .expect(201);
    assert_eq!(r.attr("completed-at"), "2020-01-02T00:04:05.123Z");
    let skewed = app.db.clock.now().plus_seconds(30);
    let r = record(&app, k, base(json!({"completed-at": skewed.to_rfc3339()})))
        .await
        .expect(201);
    assert_eq!(r.attr("completed-at"), skewed.to_rfc3339().as_str());
}

async fn closed_inquiries_take_no_verifications(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let mut closed = Vec::new();
    for steps in [
        &["expire"][..],
        &["fail"],
        &["complete", "approve"],
        &["complete", "decline"],
    ] {
        let inq = app.inquiry(k, json!({})).await;
        for s in steps {
            app.act(k, &inq, s).await.expect(200);
        }
        closed.push(inq);
    }
    let redacted = app.inquiry(k, json!({})).await;
    app.delete(&format!("/api/v1/inquiries/{redacted}"))
        .key(k)
        .send()
        .await
        .expect(200);
    let before = app.event_names(k, None).await;
    for inq in &closed {
        let r = app.verify(k, inq, "selfie", "passed").await.expect(409);
        assert_eq!(r.code(), "inquiry_not_open");
        assert_eq!(
            app.show_inquiry(k, inq).await.json["data"]["relationships"]["verifications"]["data"],
            json!([])
        );
    }
    let r = app
        .verify(k, &redacted, "selfie", "passed")
        .await
        .expect(409);
    assert_eq!(r.code(), "inquiry_redacted");
    assert_eq!(app.event_names(k, None).await, before);
}

on_both_backends!(
    the_first_verification_starts_the_inquiry,
    types_statuses_and_times_are_checked,
    closed_inquiries_take_no_verifications,
);
