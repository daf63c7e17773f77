//! §3.8 workflow definitions: every step type is accepted, and everything wrong is refused at save
//! time with a pointer at the offending part.

use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::App;
use crate::workflows::{post_workflow, refused, workflow};

async fn steps_accept_every_type(backend: Backend) {
    let app = App::new(backend).await;
    let a = app.org("Alpha").await;
    let b = app.org("Beta").await;
    let cxn = app.active_connection(&a, &b).await;
    let template = app.template(&b.sandbox, "KYC").await;
    let cases = [
        (
            &a,
            json!({"event": "inquiry.approved"}),
            json!([
            {"type": "create-share-token", "connection-id": cxn, "expires-in-seconds": 3600},
            {"type": "approve-inquiry"}, {"type": "decline-inquiry"},
            {"type": "mark-inquiry-for-review"}, {"type": "tag-inquiry", "tag": "t"},
            {"type": "http-request", "url": "https://93.184.216.34/x"}]),
        ),
        (
            &b,
            json!({"event": "connect/share-token.inbound-created"}),
            json!([
            {"type": "redeem-share-token", "inquiry-template-id": template,
             "field-mappings": [{"source-field-name": "name-first", "destination-field-name": "given-name"}]}]),
        ),
        (
            &b,
            json!({"event": "connect/connection.inbound-created"}),
            json!([
            {"type": "activate-connection"}]),
        ),
        (
            &b,
            json!({"event": "workflow-run.failed"}),
            json!([
            {"type": "http-request", "url": "https://93.184.216.34/x"}]),
        ),
    ];
    // Keys in another inflection are read as kebab-case, like every request key.
    let r = post_workflow(
        &app,
        &a.sandbox,
        json!({"trigger": {"event": "inquiry.approved"},
        "steps": [{"type": "create-share-token", "connectionId": cxn, "expires_in_seconds": 60}]}),
    )
    .await
    .expect(201);
    assert_eq!(
        r.attr("steps"),
        &json!([{"type": "create-share-token", "connection-id": cxn, "expires-in-seconds": 60}])
    );
    for (org, trigger, steps) in cases {
        let r = post_workflow(
            &app,
            &org.sandbox,
            json!({"trigger": trigger, "steps": steps}),
        )
        .await
        .expect(201);
        assert_eq!(r.attr("steps"), &steps);
    }
}

async fn definitions_are_validated_completely(backend: Backend) {
    let app = App::new(backend).await;
    let a = app.org("Alpha").await;
    let b = app.org("Beta").await;
    let outbound = app.active_connection(&a, &b).await;
    let a_template = app.template(&a.sandbox, "A's").await;
    let approved = json!({"event": "inquiry.approved"});
    let tag = json!([{"type": "tag-inquiry", "tag": "t"}]);
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            json!({"steps": tag}),
            422,
            "missing_attribute",
            "/data/attributes/trigger",
        ),
        (
            json!({"trigger": approved}),
            422,
            "missing_attribute",
            "/data/attributes/steps",
        ),
        (
            json!({"trigger": {"event": "inquiry.nope"}, "steps": tag}),
            422,
            "unknown_event",
            "/data/attributes/trigger/event",
        ),
        (
            json!({"trigger": {}, "steps": tag}),
            422,
            "missing_attribute",
            "/data/attributes/trigger/event",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "teleport"}]}),
            422,
            "unknown_step_type",
            "/data/attributes/steps/0/type",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "tag-inquiry", "tag": "t"}, {"type": "create-share-token"}]}),
            422,
            "missing_attribute",
            "/data/attributes/steps/1/connection-id",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "tag-inquiry"}]}),
            422,
            "missing_attribute",
            "/data/attributes/steps/0/tag",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "http-request"}]}),
            422,
            "missing_attribute",
            "/data/attributes/steps/0/url",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "redeem-share-token"}]}),
            422,
            "step_input_unavailable",
            "/data/attributes/steps/0/type",
        ),
        (
            json!({"trigger": {"event": "connect/share-token.outbound-created"}, "steps": [{"type": "redeem-share-token"}]}),
            422,
            "step_input_unavailable",
            "/data/attributes/steps/0/type",
        ),
        (
            json!({"trigger": {"event": "connect/share-token.inbound-created"}, "steps": [{"type": "approve-inquiry"}]}),
            422,
            "step_input_unavailable",
            "/data/attributes/steps/0/type",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "activate-connection"}]}),
            422,
            "step_input_unavailable",
            "/data/attributes/steps/0/type",
        ),
        (
            json!({"trigger": {"event": "inquiry.approved", "conditions": [{"path": "data/attributes/tags", "op": "contains", "value": "x"}]}, "steps": tag}),
            422,
            "invalid_condition",
            "/data/attributes/trigger/conditions/0/path",
        ),
        (
            json!({"trigger": {"event": "inquiry.approved", "conditions": [{"path": "/data", "op": "matches", "value": "x"}]}, "steps": tag}),
            422,
            "invalid_condition",
            "/data/attributes/trigger/conditions/0/op",
        ),
        (
            json!({"trigger": {"event": "inquiry.approved", "conditions": [{"path": "/data", "op": "in", "value": "x"}]}, "steps": tag}),
            422,
            "invalid_condition",
            "/data/attributes/trigger/conditions/0/value",
        ),
        (
            json!({"trigger": {"event": "inquiry.approved", "conditions": [{"path": "/data", "op": "eq"}]}, "steps": tag}),
            422,
            "missing_attribute",
            "/data/attributes/trigger/conditions/0/value",
        ),
        (
            json!({"trigger": {"event": "inquiry.approved", "conditions": (0..21).map(|_| json!({"path": "/data", "op": "exists"})).collect::<Vec<_>>()}, "steps": tag}),
            422,
            "invalid_attribute",
            "/data/attributes/trigger/conditions",
        ),
        (
            json!({"trigger": approved, "steps": (0..11).map(|_| json!({"type": "approve-inquiry"})).collect::<Vec<_>>()}),
            422,
            "invalid_attribute",
            "/data/attributes/steps",
        ),
        (
            json!({"trigger": approved, "steps": []}),
            422,
            "invalid_attribute",
            "/data/attributes/steps",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "create-share-token", "connection-id": outbound, "expires-in-seconds": 10}]}),
            422,
            "expires_in_out_of_range",
            "/data/attributes/steps/0/expires-in-seconds",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "create-share-token", "connection-id": "inq_0000000000000000000000"}]}),
            422,
            "invalid_id",
            "/data/attributes/steps/0/connection-id",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "create-share-token", "connection-id": "cxn_0000000000000000000000"}]}),
            422,
            "reference_not_found",
            "/data/attributes/steps/0/connection-id",
        ),
        (
            json!({"trigger": {"event": "connect/share-token.inbound-created"}, "steps": [{"type": "redeem-share-token", "inquiry-template-id": a_template}]}),
            422,
            "reference_not_found",
            "/data/attributes/steps/0/inquiry-template-id",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "http-request", "url": "http://10.0.0.1/hook"}]}),
            422,
            "invalid_url",
            "/data/attributes/steps/0/url",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "http-request", "url": "https://127.0.0.1/hook"}]}),
            422,
            "invalid_url",
            "/data/attributes/steps/0/url",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "http-request", "url": "https://169.254.169.254/latest"}]}),
            422,
            "invalid_url",
            "/data/attributes/steps/0/url",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "http-request", "url": "ftp://example.com/x"}]}),
            422,
            "invalid_url",
            "/data/attributes/steps/0/url",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "approve-inquiry", "tag": "x"}]}),
            400,
            "unknown_attribute",
            "/data/attributes/steps/0/tag",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "tag-inquiry", "tag": 7}]}),
            400,
            "invalid_type",
            "/data/attributes/steps/0/tag",
        ),
        (
            json!({"trigger": approved, "steps": {"type": "approve-inquiry"}}),
            400,
            "invalid_type",
            "/data/attributes/steps",
        ),
        (
            json!({"trigger": {"event": "inquiry.approved", "when": 1}, "steps": tag}),
            400,
            "unknown_attribute",
            "/data/attributes/trigger/when",
        ),
        (
            json!({"trigger": approved, "steps": tag, "status": "on"}),
            422,
            "invalid_attribute",
            "/data/attributes/status",
        ),
    ];
    for (attributes, status, code, pointer) in cases {
        let r = post_workflow(&app, &b.sandbox, attributes.clone()).await;
        assert_eq!(
            (r.status.as_u16(), r.code(), r.pointer()),
            (status, code, pointer),
            "{attributes}: {}",
            r.json
        );
    }
    // The connection is B's too, but inbound: B cannot share over it.
    refused(
        post_workflow(
            &app,
            &b.sandbox,
            json!({"trigger": approved,
            "steps": [{"type": "create-share-token", "connection-id": outbound}]}),
        )
        .await,
        "connection_not_outbound",
        "/data/attributes/steps/0/connection-id",
    );
    // A connection of two other organizations is not found.
    let c = app.org("Gamma").await;
    refused(
        post_workflow(
            &app,
            &c.sandbox,
            json!({"trigger": approved,
            "steps": [{"type": "create-share-token", "connection-id": outbound}]}),
        )
        .await,
        "reference_not_found",
        "/data/attributes/steps/0/connection-id",
    );
    assert!(app.ids(&b.sandbox, "/api/v1/workflows").await.is_empty());
    assert!(app.ids(&c.sandbox, "/api/v1/workflows").await.is_empty());

    // A PATCH is checked as a whole definition: a new trigger must still carry the steps' inputs.
    let id = workflow(
        &app,
        &a.sandbox,
        approved.clone(),
        json!([{"type": "create-share-token", "connection-id": outbound}]),
    )
    .await;
    let patch = |attributes: Value| {
        app.patch(&format!("/api/v1/workflows/{id}"))
            .key(&a.sandbox)
            .json(json!({"data": {"attributes": attributes}}))
            .send()
    };
    refused(
        patch(json!({"trigger": {"event": "connect/connection.inbound-created"}})).await,
        "step_input_unavailable",
        "/data/attributes/steps/0/type",
    );
    refused(
        patch(json!({"steps": [{"type": "http-request", "url": "http://192.168.1.1/"}]})).await,
        "invalid_url",
        "/data/attributes/steps/0/url",
    );
    let w = app
        .get(&format!("/api/v1/workflows/{id}"))
        .key(&a.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(
        w.attr("trigger")["event"],
        "inquiry.approved",
        "nothing changed"
    );
}

on_both_backends!(
    steps_accept_every_type,
    definitions_are_validated_completely
);
