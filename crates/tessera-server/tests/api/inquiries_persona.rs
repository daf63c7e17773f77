//! Persona 2025-12-08 conformance of inquiries, verifications and documents: the required
//! attributes, create's attributes and meta, the tag endpoints, the list filters, the transition
//! rules, `include`, flat verification data and typed documents.

use serde_json::{Value, json};
use tessera_core::Clock;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{App, Part, Resp};

/// Persona's required inquiry attributes and the JSON types each may take.
const REQUIRED: &[(&str, &[&str])] = &[
    ("status", &["string"]),
    ("reference-id", &["string", "null"]),
    ("note", &["string", "null"]),
    ("behaviors", &["object", "null"]),
    ("tags", &["array"]),
    ("creator", &["string"]),
    ("reviewer-comment", &["string", "null"]),
    ("created-at", &["string"]),
    ("updated-at", &["string"]),
    ("started-at", &["string", "null"]),
    ("expires-at", &["string", "null"]),
    ("completed-at", &["string", "null"]),
    ("failed-at", &["string", "null"]),
    ("marked-for-review-at", &["string", "null"]),
    ("decisioned-at", &["string", "null"]),
    ("expired-at", &["string", "null"]),
    ("redacted-at", &["string", "null"]),
    ("previous-step-name", &["string", "null"]),
    ("next-step-name", &["string", "null"]),
    ("fields", &["object"]),
];

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Asserts that a resource is an inquiry as Persona's schema requires it.
fn assert_persona_inquiry(r: &Value, what: &str) {
    assert_eq!(r["type"], "inquiry", "{what}");
    assert!(r["id"].is_string(), "{what}");
    assert!(r["relationships"].is_object(), "{what}: relationships");
    let a = r["attributes"].as_object().unwrap();
    for (name, types) in REQUIRED {
        let v = a
            .get(*name)
            .unwrap_or_else(|| panic!("{what}: {name} is missing"));
        assert!(
            types.contains(&json_type(v)),
            "{what}: {name} is {v}, not {types:?}"
        );
    }
    for (_, rel) in r["relationships"].as_object().unwrap() {
        assert!(rel.get("data").is_some(), "{what}: {rel}");
    }
    for d in r["relationships"]["documents"]["data"].as_array().unwrap() {
        assert!(
            ["document/government-id", "document/generic"].contains(&d["type"].as_str().unwrap()),
            "{what}: {d}"
        );
    }
}

async fn create(app: &App, key: &str, body: Value) -> Resp {
    app.post("/api/v1/inquiries")
        .key(key)
        .json(body)
        .send()
        .await
}

async fn tag(app: &App, key: &str, id: &str, action: &str, meta: Value) -> Resp {
    app.post(&format!("/api/v1/inquiries/{id}/{action}"))
        .key(key)
        .json(json!({ "meta": meta }))
        .send()
        .await
}

async fn count_events(app: &App, key: &str, id: &str, name: &str) -> usize {
    app.event_names(key, Some(id))
        .await
        .iter()
        .filter(|n| *n == name)
        .count()
}

async fn every_inquiry_response_and_event_has_personas_required_attributes(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let id = app.inquiry(k, json!({"name-first": "Jane"})).await;
    app.verify(k, &id, "government-id", "passed")
        .await
        .expect(201);
    app.upload(
        k,
        &id,
        &[
            Part::text("kind", "government-id-front"),
            Part::file("front.png", "image/png", b"png".to_vec()),
        ],
    )
    .await
    .expect(201);
    let mut responses = vec![("GET", app.show_inquiry(k, &id).await.json["data"].clone())];
    let r = app
        .patch(&format!("/api/v1/inquiries/{id}"))
        .key(k)
        .json(json!({"data": {"attributes": {"note": "n", "tags": ["t"]}}}))
        .send()
        .await
        .expect(200);
    responses.push(("PATCH", r.json["data"].clone()));
    for action in ["complete", "mark-for-review", "approve"] {
        let r = app.act(k, &id, action).await.expect(200);
        responses.push((action, r.json["data"].clone()));
    }
    let other = app.inquiry(k, json!({})).await;
    responses.push((
        "expire",
        app.act(k, &other, "expire").await.expect(200).json["data"].clone(),
    ));
    let failed = app.inquiry(k, json!({})).await;
    responses.push((
        "fail",
        app.act(k, &failed, "fail").await.expect(200).json["data"].clone(),
    ));
    let r = app
        .delete(&format!("/api/v1/inquiries/{id}"))
        .key(k)
        .send()
        .await
        .expect(200);
    responses.push(("DELETE", r.json["data"].clone()));
    for item in app.all(k, "/api/v1/inquiries").await {
        responses.push(("list", item));
    }
    for (what, r) in &responses {
        assert_persona_inquiry(r, what);
    }
    let events = app.all(k, "/api/v1/events").await;
    let mut seen = std::collections::BTreeSet::new();
    for e in &events {
        let name = e["attributes"]["name"].as_str().unwrap();
        if name.starts_with("inquiry.") {
            assert_persona_inquiry(&e["attributes"]["payload"]["data"], name);
            seen.insert(name.to_owned());
        }
    }
    for name in [
        "inquiry.created",
        "inquiry.started",
        "inquiry.updated",
        "inquiry.updated-tags",
        "inquiry.completed",
        "inquiry.marked-for-review",
        "inquiry.approved",
        "inquiry.expired",
        "inquiry.failed",
        "inquiry.redacted",
        "inquiry.transitioned",
    ] {
        assert!(seen.contains(name), "{name} was emitted");
    }
    // camelCase clients get the same members, inflected.
    let r = app
        .get(&format!("/api/v1/inquiries/{other}"))
        .key(k)
        .header("key-inflection", "camel")
        .send()
        .await
        .expect(200);
    for name in [
        "reviewerComment",
        "markedForReviewAt",
        "previousStepName",
        "behaviors",
    ] {
        assert!(r.json["data"]["attributes"].get(name).is_some(), "{name}");
    }
}

async fn create_takes_personas_attributes_and_answers_with_meta(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let key_id = app.api_key_id(k).await;
    let template = app.template(k, "KYC").await;

    // Defaults: the API key made it; the meta Persona requires.
    let r = create(&app, k, json!({})).await.expect(201);
    assert_eq!(r.attr("creator"), key_id.as_str());
    assert_eq!(
        r.json["meta"],
        json!({"session-token": null, "one-time-link": null, "one-time-link-short": null})
    );
    // Every Persona attribute is accepted; what Tessera uses is stored.
    let r = create(
        &app,
        k,
        json!({"data": {"attributes": {
            "template-id": template,
            "inquiry-template-version-id": null,
            "account-id": null,
            "creator-email-address": "ops@acme.example",
            "theme-id": "the_x",
            "theme-set-id": null,
            "redirect-uri": "https://acme.example/done",
            "initial-step-name": "start",
            "reference-id": "u-1",
            "note": null,
            "fields": null,
            "tags": null,
        }}, "meta": {"expiration-after-create-interval-seconds": 3600}}),
    )
    .await
    .expect(201);
    let id = r.id();
    assert_eq!(r.attr("creator"), "ops@acme.example");
    assert_eq!(r.attr("redirect-uri"), "https://acme.example/done");
    assert_eq!(
        r.json["data"]["relationships"]["inquiry-template"]["data"],
        json!({"type": "inquiry-template", "id": template})
    );
    let created =
        tessera_core::Timestamp::parse_rfc3339(r.attr("created-at").as_str().unwrap()).unwrap();
    assert_eq!(
        r.attr("expires-at"),
        created.plus_seconds(3600).to_rfc3339().as_str()
    );
    assert_eq!(app.show_inquiry(k, &id).await.json["data"], r.json["data"]);
    // camelCase meta and keys work too.
    let r = app
        .post("/api/v1/inquiries")
        .key(k)
        .header("key-inflection", "camel")
        .json(json!({"data": {"attributes": {"creatorEmailAddress": "c@acme.example"}}}))
        .send()
        .await
        .expect(201);
    assert_eq!(
        r.json["meta"],
        json!({"sessionToken": null, "oneTimeLink": null, "oneTimeLinkShort": null})
    );
    assert_eq!(r.json["data"]["attributes"]["creator"], "c@acme.example");

    // What cannot be honoured is refused, and nothing is written.
    let before = app.all(k, "/api/v1/inquiries").await.len();
    for (body, status, code, pointer) in [
        (
            json!({"data": {"attributes": {"account-id": "act_123"}}}),
            422,
            "unsupported_attribute",
            "/data/attributes/account-id",
        ),
        (
            json!({"data": {"attributes": {"inquiry-template-version-id": "itmplv_123"}}}),
            422,
            "unsupported_attribute",
            "/data/attributes/inquiry-template-version-id",
        ),
        (
            json!({"data": {"attributes": {"template-id": "tmpl_123"}}}),
            422,
            "unsupported_attribute",
            "/data/attributes/template-id",
        ),
        (
            json!({"data": {"attributes": {"template-id": template, "inquiry-template-id": "itmpl_0000000000000000000000"}}}),
            422,
            "invalid_attribute",
            "/data/attributes/template-id",
        ),
        (
            json!({"data": {"attributes": {}}, "meta": {"expiration-after-create-interval-seconds": 0}}),
            422,
            "invalid_attribute",
            "/meta/expiration-after-create-interval-seconds",
        ),
        (
            json!({"data": {"attributes": {}}, "meta": {"expiration-after-create-interval-seconds": "soon"}}),
            422,
            "invalid_attribute",
            "/meta/expiration-after-create-interval-seconds",
        ),
        (
            json!({"data": {"attributes": {"redirect-uri": "x".repeat(2049)}}}),
            422,
            "invalid_attribute",
            "/data/attributes/redirect-uri",
        ),
    ] {
        let r = create(&app, k, body.clone()).await.expect(status);
        assert_eq!((r.code(), r.pointer()), (code, pointer), "{body}");
    }
    assert_eq!(app.all(k, "/api/v1/inquiries").await.len(), before);

    // PATCH takes redirect-uri, and null removes it.
    let patch = |v: Value| {
        app.patch(&format!("/api/v1/inquiries/{id}"))
            .key(k)
            .json(json!({"data": {"attributes": {"redirect-uri": v}}}))
            .send()
    };
    let r = patch(json!("https://acme.example/other")).await.expect(200);
    assert_eq!(r.attr("redirect-uri"), "https://acme.example/other");
    assert!(r.json.get("meta").is_none());
    let r = patch(Value::Null).await.expect(200);
    assert_eq!(r.attr("redirect-uri"), &Value::Null);
}

async fn tags_are_added_removed_and_set(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let id = app.inquiry(k, json!({})).await;
    let r = tag(&app, k, &id, "add-tag", json!({"tag-name": " vip "}))
        .await
        .expect(200);
    assert_persona_inquiry(&r.json["data"], "add-tag");
    assert_eq!(r.attr("tags"), &json!(["vip"]));
    assert_eq!(count_events(&app, k, &id, "inquiry.updated-tags").await, 1);
    // Adding it again changes nothing and emits nothing.
    let r = tag(&app, k, &id, "add-tag", json!({"tag-name": "vip"}))
        .await
        .expect(200);
    assert_eq!(r.attr("tags"), &json!(["vip"]));
    assert_eq!(count_events(&app, k, &id, "inquiry.updated-tags").await, 1);
    // A tag's id is its name.
    let r = tag(&app, k, &id, "add-tag", json!({"tag-id": "gold"}))
        .await
        .expect(200);
    assert_eq!(r.attr("tags"), &json!(["vip", "gold"]));
    let r = tag(&app, k, &id, "remove-tag", json!({"tag-id": "vip"}))
        .await
        .expect(200);
    assert_eq!(r.attr("tags"), &json!(["gold"]));
    let r = tag(&app, k, &id, "remove-tag", json!({"tag-name": "absent"}))
        .await
        .expect(200);
    assert_eq!(r.attr("tags"), &json!(["gold"]));
    assert_eq!(count_events(&app, k, &id, "inquiry.updated-tags").await, 3);
    let r = tag(
        &app,
        k,
        &id,
        "set-tags",
        json!({"tag-name": ["a", "b", "a"]}),
    )
    .await
    .expect(200);
    assert_eq!(r.attr("tags"), &json!(["a", "b"]));
    assert_eq!(count_events(&app, k, &id, "inquiry.updated-tags").await, 4);
    let events = app
        .all(k, "/api/v1/events?filter[name]=inquiry.updated-tags")
        .await;
    assert_eq!(events[0]["attributes"]["payload"]["data"], r.json["data"]);
    let r = tag(&app, k, &id, "set-tags", json!({"tag-name": []}))
        .await
        .expect(200);
    assert_eq!(r.attr("tags"), &json!([]));
    // Generic clients' empty data is fine; Idempotency-Key replays.
    let r = app
        .post(&format!("/api/v1/inquiries/{id}/add-tag"))
        .key(k)
        .header("idempotency-key", "tag-1")
        .json(json!({"data": {"attributes": {}}, "meta": {"tag-name": "x"}}))
        .send()
        .await
        .expect(200);
    let again = app
        .post(&format!("/api/v1/inquiries/{id}/add-tag"))
        .key(k)
        .header("idempotency-key", "tag-1")
        .json(json!({"data": {"attributes": {}}, "meta": {"tag-name": "x"}}))
        .send()
        .await
        .expect(200);
    assert_eq!(r.bytes, again.bytes);

    // Refusals.
    for (action, meta, status, code, pointer) in [
        (
            "add-tag",
            json!({}),
            422,
            "missing_attribute",
            "/meta/tag-name",
        ),
        (
            "add-tag",
            json!({"tag-name": " "}),
            422,
            "invalid_attribute",
            "/meta/tag-name",
        ),
        (
            "remove-tag",
            json!({"tag-name": "a", "tag-id": "b"}),
            422,
            "invalid_attribute",
            "/meta/tag-id",
        ),
        (
            "set-tags",
            json!({"tag-name": vec!["t"; 51]}),
            422,
            "invalid_attribute",
            "/meta/tag-name",
        ),
        (
            "set-tags",
            json!({"tag-name": "a"}),
            400,
            "invalid_type",
            "",
        ),
    ] {
        let r = tag(&app, k, &id, action, meta.clone()).await.expect(status);
        assert_eq!(r.code(), code, "{action} {meta}");
        if !pointer.is_empty() {
            assert_eq!(r.pointer(), pointer, "{action} {meta}");
        }
    }
    tag(
        &app,
        k,
        "inq_0000000000000000000000",
        "add-tag",
        json!({"tag-name": "a"}),
    )
    .await
    .expect(404);
    let other = app.org("Other").await;
    tag(
        &app,
        &other.sandbox,
        &id,
        "add-tag",
        json!({"tag-name": "a"}),
    )
    .await
    .expect(404);
    app.delete(&format!("/api/v1/inquiries/{id}"))
        .key(k)
        .send()
        .await
        .expect(200);
    let r = tag(&app, k, &id, "add-tag", json!({"tag-name": "a"}))
        .await
        .expect(409);
    assert_eq!(r.code(), "inquiry_redacted");
}

async fn the_list_takes_personas_filters(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let template = app.template(k, "KYC").await;
    let a = create(
        &app,
        k,
        json!({"data": {"attributes": {"note": "first", "inquiry-template-id": template}}}),
    )
    .await
    .expect(201)
    .id();
    app.db.clock.advance_seconds(10);
    let middle = app.db.clock.now();
    let b = create(&app, k, json!({"data": {"attributes": {"note": "second"}}}))
        .await
        .expect(201)
        .id();
    app.db.clock.advance_seconds(10);
    let c = app.inquiry(k, json!({})).await;
    let ids = |q: String| {
        let app = &app;
        async move { app.ids(k, &format!("/api/v1/inquiries?{q}")).await }
    };
    assert_eq!(ids(format!("filter[inquiry-id]={a}")).await, [a.as_str()]);
    assert_eq!(
        ids(format!("filter[inquiry-id]={a},{c},inq_x")).await,
        [c.as_str(), a.as_str()]
    );
    assert_eq!(ids("filter[note]=second".into()).await, [b.as_str()]);
    let start = urlencoding(&middle.to_rfc3339());
    assert_eq!(
        ids(format!("filter[created-at-start]={start}")).await,
        [c.as_str(), b.as_str()]
    );
    assert_eq!(
        ids(format!("filter[created-at-end]={start}")).await,
        [b.as_str(), a.as_str()]
    );
    assert_eq!(
        ids(format!(
            "filter[created-at-start]={start}&filter[created-at-end]={start}"
        ))
        .await,
        [b.as_str()]
    );
    assert_eq!(
        ids(format!("filter[template-id]={template}")).await,
        [a.as_str()]
    );
    assert_eq!(
        ids(format!(
            "filter[template-id]={template}&filter[inquiry-template-id]={template}"
        ))
        .await,
        [a.as_str()]
    );
    // Filters naming nothing Tessera has give an empty list, not an error.
    for q in [
        "filter[account-id]=act_123".to_owned(),
        "filter[template-id]=tmpl_123".to_owned(),
        "filter[inquiry-template-id]=inq_x".to_owned(),
        "filter[inquiry-template-id]=itmpl_0000000000000000000000".to_owned(),
        "filter[inquiry-id]=nope".to_owned(),
        format!("filter[inquiry-id]={a}&filter[note]=second"),
    ] {
        assert!(ids(q.clone()).await.is_empty(), "{q}");
    }
    let r = app
        .get("/api/v1/inquiries?filter[created-at-start]=yesterday")
        .key(k)
        .send()
        .await
        .expect(400);
    assert_eq!(r.parameter(), "filter[created-at-start]");
    // Another organization's inquiry is never found by id.
    let other = app.org("Other").await;
    assert!(
        app.ids(
            &other.sandbox,
            &format!("/api/v1/inquiries?filter[inquiry-id]={a}")
        )
        .await
        .is_empty()
    );
}

fn urlencoding(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}

async fn transitions_follow_persona_and_keep_the_reviewer_comment(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let act = |id: String, action: &'static str, body: Value| {
        let app = &app;
        async move {
            app.post(&format!("/api/v1/inquiries/{id}/{action}"))
                .key(k)
                .json(body)
                .send()
                .await
        }
    };
    // created → needs_review (Persona allows it from every status but a decision).
    let id = app.inquiry(k, json!({})).await;
    app.db.clock.advance_seconds(1);
    let r = act(
        id.clone(),
        "mark-for-review",
        json!({"data": {"attributes": {}}}),
    )
    .await
    .expect(200);
    assert_eq!(r.attr("status"), "needs_review");
    let now = app.db.clock.now().to_rfc3339();
    assert_eq!(r.attr("marked-for-review-at"), now.as_str());
    assert_eq!(r.attr("started-at"), &Value::Null);
    let r = act(
        id.clone(),
        "approve",
        json!({"meta": {"comment": "looks good"}}),
    )
    .await
    .expect(200);
    assert_eq!(r.attr("status"), "approved");
    assert_eq!(r.attr("reviewer-comment"), "looks good");
    let events = app
        .all(k, "/api/v1/events?filter[name]=inquiry.approved")
        .await;
    assert_eq!(
        events[0]["attributes"]["payload"]["data"]["attributes"]["reviewer-comment"],
        "looks good"
    );
    // A decision is final.
    for action in ["approve", "decline", "mark-for-review"] {
        let r = act(id.clone(), action, json!({})).await.expect(409);
        assert_eq!(r.code(), "invalid_status_transition");
    }
    assert_eq!(
        app.show_inquiry(k, &id).await.attr("reviewer-comment"),
        "looks good"
    );
    // pending → declined, with started-at from the first verification.
    let p = app.inquiry(k, json!({})).await;
    app.db.clock.advance_seconds(1);
    app.verify(k, &p, "selfie", "failed").await.expect(201);
    let started = app.db.clock.now().to_rfc3339();
    app.db.clock.advance_seconds(1);
    let r = act(
        p.clone(),
        "decline",
        json!({"meta": {"comment": "mismatch"}}),
    )
    .await
    .expect(200);
    assert_eq!(
        (
            r.attr("status"),
            r.attr("reviewer-comment"),
            r.attr("started-at")
        ),
        (&json!("declined"), &json!("mismatch"), &json!(started))
    );
    // failed → marked for review → approved without a comment.
    let f = app.inquiry(k, json!({})).await;
    let r = app.act(k, &f, "fail").await.expect(200);
    assert!(r.attr("failed-at").is_string());
    assert_eq!(r.attr("failed-at"), r.attr("started-at"));
    app.act(k, &f, "mark-for-review").await.expect(200);
    let r = app.act(k, &f, "approve").await.expect(200);
    assert_eq!(r.attr("reviewer-comment"), &Value::Null);
    // expired → approved; created → approved is refused (nothing to decide on yet).
    let e = app.inquiry(k, json!({})).await;
    app.act(k, &e, "expire").await.expect(200);
    app.act(k, &e, "approve").await.expect(200);
    let c = app.inquiry(k, json!({})).await;
    app.act(k, &c, "approve").await.expect(409);
    // A comment on other transitions is accepted and not stored.
    let r = act(c.clone(), "complete", json!({"meta": {"comment": "x"}}))
        .await
        .expect(200);
    assert_eq!(r.attr("reviewer-comment"), &Value::Null);
    // Every status change is also `inquiry.transitioned`, after the status's own event.
    let names = app.event_names(k, Some(&id)).await;
    assert_eq!(
        names,
        [
            "inquiry.transitioned",
            "inquiry.approved",
            "inquiry.transitioned",
            "inquiry.marked-for-review",
            "inquiry.created"
        ]
    );
}

async fn redaction_keeps_field_names_and_empties_tags(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let id = create(
        &app,
        k,
        json!({"data": {"attributes": {"tags": ["jane-doe"], "reference-id": "r-1",
            "fields": {"name-first": "Jane", "birthdate": "1990-01-02"}}}}),
    )
    .await
    .expect(201)
    .id();
    app.act(k, &id, "complete").await.expect(200);
    app.post(&format!("/api/v1/inquiries/{id}/approve"))
        .key(k)
        .json(json!({"meta": {"comment": "Jane is fine"}}))
        .send()
        .await
        .expect(200);
    let r = app
        .delete(&format!("/api/v1/inquiries/{id}"))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_persona_inquiry(&r.json["data"], "DELETE");
    assert_eq!(
        r.attr("fields"),
        &json!({"birthdate": {"type": "date", "value": null},
                "name-first": {"type": "string", "value": null}})
    );
    assert_eq!(r.attr("tags"), &json!([]));
    assert_eq!(r.attr("reviewer-comment"), &Value::Null);
    assert_eq!(r.attr("reference-id"), "r-1");
    assert_eq!(app.show_inquiry(k, &id).await.json["data"], r.json["data"]);
    // The stored events say the same.
    for e in app
        .all(k, &format!("/api/v1/events?filter[object-id]={id}"))
        .await
    {
        let text = e.to_string();
        assert!(!text.contains("Jane"), "{text}");
        assert!(!text.contains("jane-doe"), "{text}");
        let a = &e["attributes"]["payload"]["data"]["attributes"];
        assert_eq!(
            a["fields"]["name-first"],
            json!({"type": "string", "value": null})
        );
    }
}

async fn include_accepts_every_persona_relationship(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let template = app.template(k, "KYC").await;
    let id = create(
        &app,
        k,
        json!({"data": {"attributes": {"inquiry-template-id": template}}}),
    )
    .await
    .expect(201)
    .id();
    let ver = app
        .verify(k, &id, "selfie", "passed")
        .await
        .expect(201)
        .id();
    let doc = app
        .upload(
            k,
            &id,
            &[
                Part::text("kind", "proof-of-address"),
                Part::file("bill.pdf", "application/pdf", b"pdf".to_vec()),
            ],
        )
        .await
        .expect(201)
        .id();
    let get = |q: &str| {
        let app = &app;
        let url = format!("/api/v1/inquiries/{id}?{q}");
        async move { app.get(&url).key(k).send().await }
    };
    let r = get("include=inquiry-template").await.expect(200);
    let included = r.json["included"].as_array().unwrap();
    assert_eq!(included.len(), 1);
    assert_eq!(included[0]["type"], "inquiry-template");
    assert_eq!(included[0]["id"], template.as_str());
    let r = get("include=inquiry-template,inquiry-template-version,template,verifications,documents,sessions,account,reports,reviewer,selfies,transaction")
        .await
        .expect(200);
    let types: Vec<(&str, &str)> = r.json["included"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["type"].as_str().unwrap(), r["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            ("inquiry-template", template.as_str()),
            ("verification/selfie", ver.as_str()),
            ("document/generic", doc.as_str())
        ]
    );
    // Names of objects Tessera does not have add nothing.
    let r = get("include=sessions,account").await.expect(200);
    assert!(
        r.json
            .get("included")
            .and_then(Value::as_array)
            .is_none_or(|v| v.is_empty())
    );
    let r = get("include=nope").await.expect(400);
    assert_eq!(r.parameter(), "include");
}

async fn verifications_show_extracted_data_flat_and_documents_are_typed(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let id = app.inquiry(k, json!({})).await;
    let r = app
        .post("/api/v1/verifications")
        .key(k)
        .json(json!({"data": {"attributes": {
            "inquiry-id": id, "type": "government-id", "status": "passed",
            "completed-at": "2020-01-02T03:04:05.000Z",
            "attributes": {"name-first": "Jane", "birthdate": "1990-01-02", "country-code": "US",
                           "identification-number": "X123", "status": "shadow"}}}}))
        .send()
        .await
        .expect(201);
    let ver = r.id();
    let a = &r.json["data"]["attributes"];
    assert_eq!(a["name-first"], "Jane");
    assert_eq!(a["birthdate"], "1990-01-02");
    assert_eq!(a["country-code"], "US");
    assert_eq!(a["identification-number"], "X123");
    // Tessera's own members win over extracted data of the same name.
    assert_eq!(a["status"], "passed");
    assert_eq!(a["attributes"]["status"], "shadow");
    assert_eq!(a["submitted-at"], "2020-01-02T03:04:05.000Z");
    assert_eq!(a["completed-at"], "2020-01-02T03:04:05.000Z");
    assert_eq!(a["completed-at-ts"], 1_577_934_245);
    assert!(a["created-at-ts"].is_i64());
    assert_eq!(a["tags"], json!([]));
    // The same in the event, the show and `included`.
    let passed = &app
        .all(k, "/api/v1/events?filter[name]=verification.passed")
        .await[0];
    assert_eq!(passed["attributes"]["payload"]["data"], r.json["data"]);
    let shown = app
        .get(&format!("/api/v1/verifications/{ver}"))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_eq!(shown.json["data"], r.json["data"]);
    // `include=inquiry` (Persona's verification relationships are accepted).
    let with = app
        .get(&format!(
            "/api/v1/verifications/{ver}?include=inquiry,inquiry-template,transaction"
        ))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_eq!(with.json["included"][0]["type"], "inquiry");
    assert_eq!(with.json["included"][0]["id"], id.as_str());
    // Key-Inflection applies to the flat names (not to the nested map).
    let camel = app
        .get(&format!("/api/v1/verifications/{ver}"))
        .key(k)
        .header("key-inflection", "camel")
        .send()
        .await
        .expect(200);
    assert_eq!(camel.json["data"]["attributes"]["nameFirst"], "Jane");
    assert_eq!(
        camel.json["data"]["attributes"]["attributes"]["name-first"],
        "Jane"
    );

    let front = app
        .upload(
            k,
            &id,
            &[
                Part::text("kind", "government-id-front"),
                Part::file("front.png", "image/png", b"front".to_vec()),
            ],
        )
        .await
        .expect(201);
    assert_eq!(front.json["data"]["type"], "document/government-id");
    let fa = &front.json["data"]["attributes"];
    assert_eq!(fa["status"], "processed");
    assert_eq!(
        fa["files"],
        json!([{"filename": "front.png", "byte-size": 5,
                "url": format!("/api/v1/documents/{}/file", front.id())}])
    );
    let other = app
        .upload(
            k,
            &id,
            &[
                Part::text("kind", "other"),
                Part::file("x.txt", "text/plain", b"x".to_vec()),
            ],
        )
        .await
        .expect(201);
    assert_eq!(other.json["data"]["type"], "document/generic");
    let i = app.show_inquiry(k, &id).await;
    assert_eq!(
        i.json["data"]["relationships"]["documents"]["data"],
        json!([{"type": "document/government-id", "id": front.id()},
               {"type": "document/generic", "id": other.id()}])
    );
    let created = app
        .all(k, "/api/v1/events?filter[name]=document.created")
        .await;
    assert_eq!(
        created[1]["attributes"]["payload"]["data"]["type"],
        "document/government-id"
    );
    let with = app
        .get(&format!(
            "/api/v1/documents/{}?include=inquiry,document-files",
            front.id()
        ))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_eq!(with.json["included"][0]["id"], id.as_str());
    assert_eq!(with.json["data"], front.json["data"]);
    // The file URL serves the bytes.
    let f = app
        .get(fa["files"][0]["url"].as_str().unwrap())
        .key(k)
        .send()
        .await
        .expect(200);
    assert_eq!(f.bytes, b"front");

    // Redaction removes the flat data as well as the nested map, everywhere.
    app.delete(&format!("/api/v1/inquiries/{id}"))
        .key(k)
        .send()
        .await
        .expect(200);
    let v = app
        .get(&format!("/api/v1/verifications/{ver}"))
        .key(k)
        .send()
        .await
        .expect(200);
    assert!(v.attr("name-first").is_null());
    assert_eq!(v.attr("attributes"), &json!({}));
    let events = app.all(k, "/api/v1/events").await;
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains("Jane") && !text.contains("X123") && !text.contains("front.png"));
    let d = app
        .get(&format!("/api/v1/documents/{}", front.id()))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_eq!(d.attr("files"), &json!([]));
}

async fn the_sweep_expires_inquiries_past_their_expires_at(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let body = |seconds: i64| json!({"data": {"attributes": {}}, "meta": {"expiration-after-create-interval-seconds": seconds}});
    let soon = create(&app, k, body(60)).await.expect(201);
    let started = create(&app, k, body(60)).await.expect(201).id();
    app.verify(k, &started, "selfie", "passed")
        .await
        .expect(201);
    let later = create(&app, k, body(3600)).await.expect(201).id();
    let done = create(&app, k, body(60)).await.expect(201).id();
    app.act(k, &done, "complete").await.expect(200);
    let never = app.inquiry(k, json!({})).await;
    let sweep = || async {
        app.db
            .store
            .write(tessera_store::units::inquiries::sweep_expired(100))
            .await
            .unwrap()
    };
    assert_eq!(sweep().await, 0);
    app.db.clock.advance_seconds(61);
    assert_eq!(sweep().await, 2);
    assert_eq!(sweep().await, 0);
    let r = app.show_inquiry(k, &soon.id()).await;
    assert_eq!(r.attr("status"), "expired");
    assert_eq!(r.attr("expired-at"), soon.attr("expires-at"));
    assert_persona_inquiry(&r.json["data"], "swept");
    assert_eq!(
        app.event_names(k, Some(&soon.id())).await,
        ["inquiry.transitioned", "inquiry.expired", "inquiry.created"]
    );
    assert_eq!(
        app.show_inquiry(k, &started).await.attr("status"),
        "expired"
    );
    for (id, status) in [
        (&later, "created"),
        (&done, "completed"),
        (&never, "created"),
    ] {
        assert_eq!(app.show_inquiry(k, id).await.attr("status"), status);
    }
    // The worker's housekeeping runs the sweep.
    app.db.clock.advance_seconds(3600);
    app.worker().housekeeping().await.unwrap();
    assert_eq!(app.show_inquiry(k, &later).await.attr("status"), "expired");
    assert_eq!(app.show_inquiry(k, &never).await.attr("status"), "created");
}

on_both_backends!(
    the_sweep_expires_inquiries_past_their_expires_at,
    every_inquiry_response_and_event_has_personas_required_attributes,
    create_takes_personas_attributes_and_answers_with_meta,
    tags_are_added_removed_and_set,
    the_list_takes_personas_filters,
    transitions_follow_persona_and_keep_the_reviewer_comment,
    redaction_keeps_field_names_and_empties_tags,
    include_accepts_every_persona_relationship,
    verifications_show_extracted_data_flat_and_documents_are_typed,
);
