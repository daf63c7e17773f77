//! Selective disclosure (issue 18, item 2): a token limited to some fields, verification types and
//! document kinds shows, copies and announces exactly those, and nothing else reaches the
//! destination — not through the peek, the manifest, the copy, its events or its webhooks.

use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::receiver::Receiver;
use crate::support::{Connected, Part};

/// Values the token must never let through, each distinct so a leak names its source.
const HIDDEN: [&str; 3] = ["Hidden-Lastname", "hidden@example.com", "HIDDEN-ID-9931"];

async fn a_token_limited_to_three_fields_shares_exactly_those(backend: Backend) {
    let app = crate::webhooks::app(backend).await;
    let src_org = app.org("Source").await;
    let dst_org = app.org("Destination").await;
    let connection = app.active_connection(&src_org, &dst_org).await;
    let (src, dst) = (&src_org.sandbox, &dst_org.sandbox);
    let rx = Receiver::start().await;
    app.post("/api/v1/webhooks")
        .key(dst)
        .json(
            json!({"data": {"attributes": {"url": rx.url(), "enabled-events": [
            "inquiry.created", "inquiry.completed", "inquiry.marked-for-review",
            "inquiry.transitioned", "connect/share-token.inbound-redeemed"]}}}),
        )
        .send()
        .await
        .expect(201);

    let source = app
        .inquiry(
            src,
            json!({"name-first": "Jana", "birthdate": "1990-04-01", "address-country-code": "DE",
                   "name-last": HIDDEN[0], "email-address": HIDDEN[1]}),
        )
        .await;
    app.verification(
        src,
        &source,
        json!({"type": "government-id", "status": "passed",
               "attributes": {"identification-number": HIDDEN[2]}}),
    )
    .await;
    app.verification(src, &source, json!({"type": "selfie", "status": "passed"}))
        .await;
    app.upload(
        src,
        &source,
        &[
            Part::text("kind", "government-id-front"),
            Part::file("front.png", "image/png", b"HIDDEN-BYTES".to_vec()),
        ],
    )
    .await
    .expect(201);
    app.act(src, &source, "complete").await.expect(200);

    let created = app
        .create_token(
            src,
            json!({"connection-id": connection, "source-id": source,
                   "allowed-fields": ["birthdate", "name_first", "address-country-code"],
                   "allowed-verifications": ["selfie"], "allowed-documents": []}),
        )
        .await
        .expect(201);
    let token = created.id();
    assert_eq!(
        created.attr("allowed-fields"),
        &json!(["address-country-code", "birthdate", "name-first"])
    );
    assert_eq!(created.attr("allowed-verifications"), &json!(["selfie"]));
    assert_eq!(created.attr("allowed-documents"), &json!([]));
    // The destination sees what it is offered.
    let inbound = app.fetch(dst, &Connected::token_path(&token)).await;
    assert_eq!(inbound.attr("allowed-verifications"), &json!(["selfie"]));

    let three = ["address-country-code", "birthdate", "name-first"];
    // The peek and the manifest: the three fields and the selfie, nothing else.
    let peek = app
        .fetch(
            dst,
            &format!("/api/v1/connect/share-tokens/{token}?peek-source-data=true"),
        )
        .await;
    let sd = peek.attr("source-data");
    let peeked: Vec<&String> = sd["peekable-attributes"]["fields"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(peeked, three);
    let kinds: Vec<&str> = sd["related-objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["connect/source-data/verification/selfie"]);
    let manifest = peek.attr("manifest");
    let names: Vec<&str> = manifest["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, three);
    assert_eq!(manifest["verifications"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["documents"], json!([]));

    // The template's checks run on the subset: a required field left out fails.
    let template = app
        .template_with(
            dst,
            json!({"name": "Needs a last name", "required-fields": ["name-first", "name-last"]}),
        )
        .await;
    let dry = app
        .fetch(
            dst,
            &format!(
                "/api/v1/connect/share-tokens/{token}/manifest?inquiry-template-id={template}"
            ),
        )
        .await;
    assert_eq!(
        dry.attr("dry-run")["checks"][0]["reasons"],
        json!(["missing field name-last"])
    );

    let t = app
        .redeem_with(
            dst,
            &token,
            json!({"data": {"attributes": {"inquiry-template-id": template}}}),
        )
        .await
        .expect(202);
    assert_eq!(t.attr("status"), "pending");
    app.drain().await;
    let t = app.fetch(dst, &Connected::token_path(&token)).await;
    assert_eq!(t.attr("status"), "redeemed");
    let copy = t.related("destination").unwrap();
    let shown = app
        .fetch(
            dst,
            &format!("/api/v1/inquiries/{copy}?include=verifications,documents"),
        )
        .await;
    let fields: Vec<&String> = shown.attr("fields").as_object().unwrap().keys().collect();
    assert_eq!(fields, three, "the copy holds exactly the three fields");
    let copied: Vec<&str> = shown.json["included"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        copied,
        ["verification/selfie", "verification/share-token"],
        "the selfie and the copy's own verification; no government id, no document"
    );
    assert_eq!(shown.attr("status"), "needs_review");

    // Nothing hidden anywhere the destination can look: its events and its webhooks.
    let events = serde_json::to_string(&app.events(dst).await).unwrap();
    let _ = rx.wait_for(1, std::time::Duration::from_secs(5)).await;
    app.drain().await;
    let bodies: Vec<String> = rx
        .received()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        bodies.iter().any(|b| b.contains("inquiry.created")),
        "the copy's events reached the receiver: {bodies:?}"
    );
    let copy_events: Vec<Value> = app
        .events(dst)
        .await
        .into_iter()
        .filter(|e| e["attributes"]["payload"]["data"]["id"] == copy.as_str())
        .collect();
    assert!(!copy_events.is_empty());
    for e in &copy_events {
        if let Some(f) = e["attributes"]["payload"]["data"]["attributes"]["fields"].as_object() {
            let keys: Vec<&String> = f.keys().collect();
            assert_eq!(keys, three, "{}", e["attributes"]["name"]);
        }
    }
    for hidden in HIDDEN.iter().chain(&["HIDDEN-BYTES", "Nowak"]) {
        assert!(!events.contains(hidden), "an event holds {hidden}");
        for b in &bodies {
            assert!(!b.contains(hidden), "a webhook holds {hidden}");
        }
        assert!(!shown.json.to_string().contains(hidden));
    }
}

async fn a_mapping_cannot_reach_past_the_disclosure(backend: Backend) {
    let w = Connected::new(backend).await;
    let (app, src, dst) = (&w.app, &w.src.sandbox, &w.dst.sandbox);
    let token = app
        .create_token(
            src,
            json!({"connection-id": w.connection, "source-id": w.inquiry,
                   "allowed-fields": ["name-first"]}),
        )
        .await
        .expect(201)
        .id();
    let before = w.token_snapshot(&token).await;
    let r = app
        .redeem_with(
            dst,
            &token,
            json!({"meta": {"field-mappings": [
                {"source-field-name": "name-first", "destination-field-name": "given"},
                {"source-field-name": "birthdate", "destination-field-name": "born"}]}}),
        )
        .await
        .refused(422, "field_not_disclosed");
    assert_eq!(r.pointer(), "/meta/field-mappings/1/source-field-name");
    assert_eq!(w.token_snapshot(&token).await, before, "nothing changed");
    let r = app
        .get(&format!(
            "/api/v1/connect/share-tokens/{token}/manifest?field-mappings=birthdate:born"
        ))
        .key(dst)
        .send()
        .await
        .refused(422, "field_not_disclosed");
    assert_eq!(r.parameter(), "field-mappings");

    // A disclosed field maps as usual.
    let t = w
        .redeem_now(
            &token,
            json!({"meta": {"field-mappings": [
                {"source-field-name": "name-first", "destination-field-name": "given"}]}}),
        )
        .await;
    let copy = t.related("destination").unwrap();
    let fields = app.fetch(dst, &format!("/api/v1/inquiries/{copy}")).await;
    let names: Vec<&String> = fields.attr("fields").as_object().unwrap().keys().collect();
    assert_eq!(names, ["given", "name-first"]);
}

async fn bad_disclosures_are_refused_and_write_nothing(backend: Backend) {
    let w = Connected::new(backend).await;
    let (app, src) = (&w.app, &w.src.sandbox);
    let verification = app
        .verification(
            src,
            &w.inquiry,
            json!({"type": "selfie", "status": "passed"}),
        )
        .await;
    let count = || async { app.all(src, "/api/v1/connect/share-tokens").await.len() };
    let before = count().await;
    let base = json!({"connection-id": w.connection, "source-id": w.inquiry});
    let with = |extra: Value| {
        let mut a = base.clone();
        a.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        a
    };
    for (attributes, status, code, pointer) in [
        (
            with(json!({"allowed-fields": ["ok", "not ok"]})),
            422,
            "invalid_attribute",
            "/data/attributes/allowed-fields/1",
        ),
        (
            with(json!({"allowed-verifications": ["share-token"]})),
            422,
            "invalid_attribute",
            "/data/attributes/allowed-verifications/0",
        ),
        (
            with(json!({"allowed-documents": ["passport"]})),
            422,
            "invalid_attribute",
            "/data/attributes/allowed-documents/0",
        ),
        (
            with(json!({"allowed-fields": "name-first"})),
            400,
            "invalid_type",
            "/data/attributes/allowed-fields",
        ),
        (
            json!({"connection-id": w.connection, "source-id": verification,
                   "allowed-fields": ["name-first"]}),
            422,
            "invalid_attribute",
            "/data/attributes/source-id",
        ),
    ] {
        let r = app
            .create_token(src, attributes.clone())
            .await
            .refused(status, code);
        assert_eq!(r.pointer(), pointer, "{attributes}");
    }
    assert_eq!(count().await, before, "no token was made");
}

async fn a_workflow_step_shares_a_subset(backend: Backend) {
    let w = Connected::new(backend).await;
    let (app, src) = (&w.app, &w.src.sandbox);
    app.post("/api/v1/workflows")
        .key(src)
        .json(json!({"data": {"attributes": {
            "name": "Share names only",
            "trigger": {"event": "inquiry.completed"},
            "steps": [{"type": "create-share-token", "connection-id": w.connection,
                       "allowed-fields": ["name-first"], "allowed-verifications": []}]
        }}}))
        .send()
        .await
        .expect(201);
    app.completed_inquiry(src, json!({"name-first": "Ola", "name-last": "Kowalska"}))
        .await;
    app.drain().await;
    let tokens = app.all(src, "/api/v1/connect/share-tokens").await;
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(
        tokens[0]["attributes"]["allowed-fields"],
        json!(["name-first"])
    );
    assert_eq!(tokens[0]["attributes"]["allowed-verifications"], json!([]));
    assert_eq!(tokens[0]["attributes"]["allowed-documents"], Value::Null);
}

async fn a_redaction_of_what_a_token_did_not_share_tells_no_one(backend: Backend) {
    let w = Connected::new(backend).await;
    let (app, src, dst) = (&w.app, &w.src.sandbox, &w.dst.sandbox);
    let source = app.inquiry(src, json!({"name-first": "Jana"})).await;
    let id_check = app
        .verification(
            src,
            &source,
            json!({"type": "government-id", "status": "passed"}),
        )
        .await;
    let selfie = app
        .verification(src, &source, json!({"type": "selfie", "status": "passed"}))
        .await;
    app.act(src, &source, "complete").await.expect(200);
    let token = app
        .create_token(
            src,
            json!({"connection-id": w.connection, "source-id": source,
                   "allowed-verifications": ["selfie"]}),
        )
        .await
        .expect(201)
        .id();
    let copy = w
        .redeem_now(&token, json!({}))
        .await
        .related("destination")
        .unwrap();
    let status = || async {
        app.fetch(dst, &format!("/api/v1/inquiries/{copy}"))
            .await
            .attr("source-status")
            .clone()
    };
    assert_eq!(status().await, "current");
    // The government id never travelled: its redaction is no news to the destination.
    app.delete(&format!("/api/v1/verifications/{id_check}"))
        .key(src)
        .send()
        .await
        .expect(200);
    assert_eq!(app.drain().await, 0, "no notice was written");
    assert_eq!(status().await, "current");
    assert!(
        app.events_named(dst, "inquiry.source-redacted")
            .await
            .is_empty()
    );
    // The selfie did.
    app.delete(&format!("/api/v1/verifications/{selfie}"))
        .key(src)
        .send()
        .await
        .expect(200);
    app.drain().await;
    assert_eq!(status().await, "redacted");
    assert_eq!(
        app.events_named(dst, "inquiry.source-redacted").await.len(),
        1
    );
    // A redacted verification has nothing left to share.
    let r = app
        .create_token(
            src,
            json!({"connection-id": w.connection, "source-id": selfie}),
        )
        .await
        .refused(422, "source_not_shareable");
    assert_eq!(r.pointer(), "/data/attributes/source-id");
}

async fn a_batch_shares_the_subsets_its_items_name(backend: Backend) {
    let w = Connected::new(backend).await;
    let (app, src) = (&w.app, &w.src.sandbox);
    let other = app
        .completed_inquiry(src, json!({"name-first": "Ola", "birthdate": "1991-01-01"}))
        .await;
    app.post("/api/v1/connect/share-tokens/batch")
        .key(src)
        .json(json!({"data": {"attributes": {
            "connection-id": w.connection, "allowed-fields": ["name-first"],
            "items": [{"source-id": w.inquiry},
                      {"source-id": other, "allowed-fields": ["birthdate"], "allowed-documents": []}]
        }}}))
        .send()
        .await
        .expect(202);
    app.drain().await;
    let tokens = app.all(src, "/api/v1/connect/share-tokens").await;
    let mut shared: Vec<(Value, Value)> = tokens
        .iter()
        .map(|t| {
            (
                t["attributes"]["allowed-fields"].clone(),
                t["attributes"]["allowed-documents"].clone(),
            )
        })
        .collect();
    shared.sort_by_key(|(f, _)| f.to_string());
    assert_eq!(
        shared,
        [
            (json!(["birthdate"]), json!([])),
            (json!(["name-first"]), Value::Null)
        ],
        "the batch's disclosure, or the item's own"
    );
}

on_both_backends!(
    a_batch_shares_the_subsets_its_items_name,
    a_redaction_of_what_a_token_did_not_share_tells_no_one,
    a_token_limited_to_three_fields_shares_exactly_those,
    a_mapping_cannot_reach_past_the_disclosure,
    bad_disclosures_are_refused_and_write_nothing,
    a_workflow_step_shares_a_subset,
);
