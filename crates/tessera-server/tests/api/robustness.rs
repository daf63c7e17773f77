//! §1 "a 5xx must not happen for any input a client can send; no input may leave partial writes
//! behind": odd values in every attribute and odd query strings, and concurrent requests.

use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{ADMIN, App};

fn odd_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1e300),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(""),
        json!(" "),
        json!("x".repeat(5000)),
        json!("\u{1F600}\u{202E}"),
        json!("'; drop table inquiries; --"),
        json!("0001-01-01T00:00:00Z"),
        json!("9999-12-31T23:59:59.999Z"),
        json!("1990-02-29"),
        json!("inq_0000000000000000000000"),
        json!([]),
        json!([null]),
        json!(["x", 1]),
        json!({}),
        json!({"a": {"b": []}}),
    ]
}

async fn odd_values_never_make_a_5xx_or_a_partial_write(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let inq = app.inquiry(k, json!({})).await;
    let patch = format!("/api/v1/inquiries/{inq}");
    let orgs = format!("/admin/v1/organizations/{}", org.id);
    let endpoints: Vec<(http::Method, String, &str, Value, Vec<&str>)> = vec![
        (
            http::Method::POST,
            "/api/v1/inquiries".into(),
            k,
            json!({}),
            vec![
                "inquiry-template-id",
                "reference-id",
                "note",
                "tags",
                "fields",
            ],
        ),
        (
            http::Method::PATCH,
            patch.clone(),
            k,
            json!({}),
            vec!["fields", "note", "tags"],
        ),
        (
            http::Method::POST,
            "/api/v1/verifications".into(),
            k,
            json!({"inquiry-id": inq, "type": "selfie", "status": "failed"}),
            vec![
                "inquiry-id",
                "type",
                "status",
                "checks",
                "attributes",
                "completed-at",
            ],
        ),
        (
            http::Method::POST,
            "/api/v1/inquiry-templates".into(),
            k,
            json!({"name": "t"}),
            vec![
                "name",
                "required-fields",
                "required-verifications",
                "minimum-age",
                "allowed-countries",
            ],
        ),
        (
            http::Method::POST,
            "/api/v1/api-keys".into(),
            k,
            json!({"name": "k", "permissions": []}),
            vec!["name", "permissions", "expires-at"],
        ),
        (
            http::Method::POST,
            "/admin/v1/organizations".into(),
            ADMIN,
            json!({"name": "o"}),
            vec!["name"],
        ),
        (
            http::Method::POST,
            format!("{orgs}/api-keys"),
            ADMIN,
            json!({"environment": "sandbox", "permissions": []}),
            vec!["environment", "name", "permissions", "expires-at"],
        ),
        (
            http::Method::POST,
            format!("{orgs}/users"),
            ADMIN,
            json!({"email": "u@example.com", "password": "long enough password"}),
            vec!["email", "password", "role"],
        ),
    ];
    let mut accepted = 0;
    for (method, path, key, base, attributes) in &endpoints {
        for attribute in attributes {
            for value in odd_values() {
                let mut a = base.clone();
                a[*attribute] = value.clone();
                let r = app
                    .call(method.clone(), path)
                    .key(key)
                    .json(json!({"data": {"attributes": a}}))
                    .send()
                    .await;
                assert!(
                    r.status.as_u16() < 500,
                    "{method} {path} {attribute}={value}: {}",
                    r.json
                );
                if r.status.is_success() {
                    accepted += 1;
                } else {
                    assert_eq!(r.json["errors"][0]["status"], r.status.as_u16());
                }
            }
        }
    }
    assert!(accepted > 0);
    // Field values of every standard name.
    for name in tessera_core::fields::standard_names() {
        for value in odd_values() {
            let r = app
                .patch(&patch)
                .key(k)
                .json(json!({"data": {"attributes": {"fields": {name: value}}}}))
                .send()
                .await;
            assert!(r.status.as_u16() < 500, "{name}={value}: {}", r.json);
        }
    }
    // Whatever was accepted left whole objects behind: every inquiry reads back.
    for i in app.all(k, "/api/v1/inquiries").await {
        app.show_inquiry(k, i["id"].as_str().unwrap()).await;
    }
}

async fn odd_query_strings_never_make_a_5xx(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let inq = app.inquiry(k, json!({})).await;
    let queries = [
        "page[size]=%FF",
        "page[after]=%E0%A4%A",
        "%",
        "&&&",
        "=x",
        "x",
        "include=",
        "fields[inquiry]=",
        "fields[]=x",
        "filter[]=x",
        "page[]=1",
        "filter[status]=,,,",
        "page[after]=%20",
        "page[before]=inq_0000000000000000000000",
        "filter[reference-id]=%27%3B--",
        "filter[inquiry-template-id]=itmpl_0000000000000000000000",
        "page[size]=1e2",
        "page[size]=+5",
        "filter[status][x]=1",
        "fields[inquiry][x]=1",
        "include=verifications,,documents",
    ];
    for path in [
        "/api/v1/inquiries".to_owned(),
        format!("/api/v1/inquiries/{inq}"),
        "/api/v1/events".into(),
    ] {
        for q in queries {
            let r = app.get(&format!("{path}?{q}")).key(k).send().await;
            assert!(r.status.as_u16() < 500, "{path}?{q}: {}", r.json);
            assert!(
                r.status == 200 || r.status == 400,
                "{path}?{q}: {}",
                r.status
            );
        }
    }
    // Write endpoints refuse query parameters they do not take (they take `include` and
    // `fields[…]` only), and write nothing.
    let before = app.event_names(k, None).await;
    for (method, path) in [
        (
            http::Method::POST,
            "/api/v1/inquiries?filter[status]=created".to_owned(),
        ),
        (http::Method::POST, "/api/v1/verifications?x=1".into()),
        (http::Method::POST, "/api/v1/inquiry-templates?x=1".into()),
        (http::Method::POST, "/api/v1/api-keys?x=1".into()),
        (http::Method::PATCH, format!("/api/v1/inquiries/{inq}?x=1")),
        (
            http::Method::POST,
            format!("/api/v1/inquiries/{inq}/complete?x=1"),
        ),
    ] {
        let body = if path.ends_with("complete?x=1") {
            json!({"meta": {"comment": "c"}})
        } else {
            json!({"data": {"attributes": {}}})
        };
        let r = app
            .call(method.clone(), &path)
            .key(k)
            .json(body)
            .send()
            .await
            .expect(400);
        assert_eq!(r.code(), "invalid_query_parameter", "{method} {path}");
    }
    let r = app
        .post("/admin/v1/organizations?x=1")
        .key(ADMIN)
        .json(json!({"data": {"attributes": {"name": "Q"}}}))
        .send()
        .await
        .expect(400);
    assert_eq!(r.parameter(), "x");
    assert_eq!(app.event_names(k, None).await, before);
    assert_eq!(app.all(k, "/api/v1/inquiry-templates").await.len(), 0);
    assert_eq!(app.all(ADMIN, "/admin/v1/organizations").await.len(), 1);
}

async fn concurrent_requests_change_things_once(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    // The same idempotency key at once: one runs, the others wait their turn or are told so.
    let body = json!({"data": {"attributes": {"reference-id": "race"}}});
    let sends = (0..6).map(|_| {
        app.post("/api/v1/inquiries")
            .key(k)
            .header("idempotency-key", "race")
            .json(body.clone())
            .send()
    });
    let results = futures::future::join_all(sends).await;
    let created: Vec<_> = results
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| r.id())
        .collect();
    assert!(!created.is_empty());
    assert!(created.iter().all(|id| *id == created[0]));
    for r in &results {
        assert!(
            r.status == 201 || (r.status == 409 && r.code() == "idempotency_key_in_use"),
            "{}",
            r.json
        );
    }
    assert_eq!(app.all(k, "/api/v1/inquiries").await.len(), 1);
    // Competing transitions: exactly one wins.
    let inq = app.inquiry(k, json!({})).await;
    app.act(k, &inq, "complete").await.expect(200);
    let actions = ["approve", "decline", "approve", "decline"];
    let results = futures::future::join_all(actions.iter().map(|a| app.act(k, &inq, a))).await;
    assert_eq!(results.iter().filter(|r| r.status == 200).count(), 1);
    assert!(results.iter().all(|r| r.status == 200 || r.status == 409));
    let names = app.event_names(k, Some(&inq)).await;
    // created, completed and one decision, each status change with its `inquiry.transitioned`.
    assert_eq!(names.len(), 5, "{names:?}");
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "inquiry.approved" || *n == "inquiry.declined")
            .count(),
        1
    );
    // Concurrent first verifications start the inquiry once.
    let inq = app.inquiry(k, json!({})).await;
    let results =
        futures::future::join_all((0..5).map(|_| app.verify(k, &inq, "selfie", "passed"))).await;
    assert!(results.iter().all(|r| r.status == 201));
    let names = app.event_names(k, None).await;
    assert_eq!(names.iter().filter(|n| *n == "inquiry.started").count(), 1);
    assert_eq!(
        app.event_names(k, Some(&inq))
            .await
            .iter()
            .filter(|n| *n == "inquiry.transitioned")
            .count(),
        1
    );
    assert_eq!(
        names.iter().filter(|n| *n == "verification.passed").count(),
        5
    );
}

on_both_backends!(
    odd_values_never_make_a_5xx_or_a_partial_write,
    odd_query_strings_never_make_a_5xx,
    concurrent_requests_change_things_once,
);
