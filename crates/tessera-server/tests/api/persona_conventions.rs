//! Persona 2025-12-08 conventions every operation shares: the headers of authenticated
//! responses, `Persona-Version`, `include` and `fields` on writes, action bodies, and the
//! filters Persona documents for connections and events.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{App, Resp, connection_path};

fn header_u64(r: &Resp, name: &str) -> u64 {
    r.header(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} is not an integer: {:?}", r.header(name)))
}

/// Every authenticated response names its organization and environment and carries the rate
/// limit headers — successes and errors alike, with limiting on or off.
async fn authenticated_responses_say_whose_they_are(backend: Backend) {
    for per_minute in [0, 1200] {
        let app = App::with_config(backend, |c| c.rate_limit_per_minute = per_minute).await;
        let org = app.org("Acme").await;
        let ok = app
            .get("/api/v1/inquiries")
            .key(&org.sandbox)
            .send()
            .await
            .expect(200);
        let missing = app
            .get("/api/v1/inquiries/inq_AAAAAAAAAAAAAAAAAAAAAAAAAA")
            .key(&org.sandbox)
            .send()
            .await
            .expect(404);
        let invalid = app
            .post("/api/v1/connect/connections")
            .key(&org.sandbox)
            .json(json!({"data": {"attributes": {}}}))
            .send()
            .await
            .expect(422);
        let prod = app
            .get("/api/v1/inquiries")
            .key(&org.production)
            .send()
            .await
            .expect(200);
        let env = ok
            .header("persona-environment-id")
            .unwrap_or_default()
            .to_owned();
        assert!(env.starts_with("env_"), "{env}");
        for r in [&ok, &missing, &invalid] {
            assert_eq!(r.header("persona-organization-id"), Some(org.id.as_str()));
            assert_eq!(r.header("persona-environment-id"), Some(env.as_str()));
            assert!(
                r.header("request-id")
                    .unwrap_or_default()
                    .starts_with("req_")
            );
            let (limit, remaining) = (
                header_u64(r, "ratelimit-limit"),
                header_u64(r, "ratelimit-remaining"),
            );
            assert!(remaining <= limit && header_u64(r, "ratelimit-reset") <= 60);
            if per_minute == 0 {
                assert_eq!(
                    (limit, remaining),
                    (u64::from(u32::MAX), u64::from(u32::MAX))
                );
            } else {
                assert_eq!(limit, 1200);
            }
        }
        // The other environment of the same organization is another environment id.
        assert_eq!(
            prod.header("persona-organization-id"),
            Some(org.id.as_str())
        );
        let prod_env = prod.header("persona-environment-id").unwrap_or_default();
        assert!(prod_env.starts_with("env_") && prod_env != env);
        // Without a valid key nothing says whose the request was.
        let anonymous = app.get("/api/v1/inquiries").send().await.expect(401);
        assert!(anonymous.header("persona-organization-id").is_none());
    }
}

/// `Persona-Version` takes every value of Persona's enum; anything else is a 400 naming the
/// header, and changes nothing.
async fn persona_version_is_checked(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    for v in [
        "2025-12-08",
        "2025-10-27",
        "2023-01-05",
        "2022-09-01",
        "2021-08-18",
        "2021-07-05",
        "2021-02-21",
        "2020-05-18",
    ] {
        app.get("/api/v1/inquiries")
            .key(&org.sandbox)
            .header("persona-version", v)
            .send()
            .await
            .expect(200);
    }
    for bad in ["garbage", "1999-01-01", ""] {
        let r = app
            .post("/api/v1/inquiries")
            .key(&org.sandbox)
            .header("persona-version", bad)
            .json(json!({"data": {"attributes": {}}}))
            .send()
            .await
            .expect(400);
        assert_eq!(
            (r.code(), r.source_header()),
            ("invalid_header", "Persona-Version")
        );
        assert_eq!(r.header("persona-organization-id"), Some(org.id.as_str()));
    }
    let listed = app
        .get("/api/v1/inquiries")
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    assert!(listed.items().is_empty(), "a refused request wrote nothing");
}

/// Writes take `include` and `fields[TYPE]` (Persona lists them on every write): sparse
/// fieldsets apply, a given `include` answers with `included`, and anything else stays a 400.
async fn writes_take_include_and_fields(backend: Backend) {
    let app = App::new(backend).await;
    let (a, b) = (app.org("Alpha").await, app.org("Beta").await);
    let r = app
        .post("/api/v1/connect/connections?include=&fields%5Bconnect%2Fconnection%5D=status")
        .key(&a.sandbox)
        .json(json!({"data": {"attributes": {"destination-organization-id": b.id}}}))
        .send()
        .await
        .expect(201);
    assert_eq!(r.json["data"]["attributes"], json!({"status": "pending"}));
    assert_eq!(r.json["included"], json!([]));
    let id = r.id();
    // Fields on an action, replayed the same under an Idempotency-Key.
    let path = format!(
        "{}/deactivate?fields[connect/connection]=status,direction",
        connection_path(&id)
    );
    let first = app
        .post(&path)
        .key(&a.sandbox)
        .header("idempotency-key", "deactivate-1")
        .send()
        .await
        .expect(200);
    assert_eq!(
        first.json["data"]["attributes"],
        json!({"status": "inactive", "direction": "outbound"})
    );
    let again = app
        .post(&path)
        .key(&a.sandbox)
        .header("idempotency-key", "deactivate-1")
        .send()
        .await
        .expect(200);
    assert_eq!(again.json, first.json);
    for bad in ["filter[status]=x", "page[size]=2", "nope=1"] {
        let r = app
            .post(&format!("/api/v1/connect/connections?{bad}"))
            .key(&a.sandbox)
            .json(json!({"data": {"attributes": {"destination-organization-id": b.id}}}))
            .send()
            .await
            .expect(400);
        assert_eq!(r.code(), "invalid_query_parameter", "{bad}");
    }
    // Those refusals created nothing: the only connection is the deactivated one.
    let all = app.all(&a.sandbox, "/api/v1/connect/connections").await;
    assert_eq!(all.len(), 1);
}

/// Action endpoints take what generic JSON:API clients send: nothing, `{}`, `{"meta": …}` or
/// `{"data": {"attributes": {}}}`; an attribute they do not have is still refused by name.
async fn action_bodies_may_be_empty_documents(backend: Backend) {
    let app = App::new(backend).await;
    let (a, b) = (app.org("Alpha").await, app.org("Beta").await);
    let id = app.active_connection(&a, &b).await;
    let path = format!("{}/deactivate", connection_path(&id));
    let r = app
        .post(&path)
        .key(&a.sandbox)
        .json(json!({"data": {"attributes": {"reason": "x"}}}))
        .send()
        .await
        .expect(400);
    assert_eq!(
        (r.code(), r.pointer()),
        ("unknown_attribute", "/data/attributes/reason")
    );
    app.post(&path)
        .key(&a.sandbox)
        .json(json!({"data": {"type": "connect/connection", "attributes": {}}}))
        .send()
        .await
        .expect(200);
    app.post(&format!("{}/reactivate", connection_path(&id)))
        .key(&a.sandbox)
        .json(json!({"data": {"attributes": {}}, "meta": {}}))
        .send()
        .await
        .expect(200);
    // The inquiry transitions and tag actions read the same body.
    let inquiry = app.completed_inquiry(&a.sandbox, json!({})).await;
    let approve = format!("/api/v1/inquiries/{inquiry}/approve");
    let r = app
        .post(&approve)
        .key(&a.sandbox)
        .json(json!({"data": {"attributes": {"status": "approved"}}}))
        .send()
        .await
        .expect(400);
    assert_eq!(
        (r.code(), r.pointer()),
        ("unknown_attribute", "/data/attributes/status")
    );
    let r = app
        .post(&format!("/api/v1/inquiries/{inquiry}/add-tag"))
        .key(&a.sandbox)
        .json(json!({"data": {"attributes": {"tag": "x"}}, "meta": {"tag-name": "vip"}}))
        .send()
        .await
        .expect(400);
    assert_eq!(r.pointer(), "/data/attributes/tag");
    let r = app
        .post(&approve)
        .key(&a.sandbox)
        .json(json!({"data": {"attributes": {}}, "meta": {"comment": "ok"}}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        (r.attr("status").as_str(), r.attr("tags").clone()),
        (Some("approved"), json!([]))
    );
}

/// The connection list takes `filter[destination-organization-id]`; a well-formed but unknown
/// destination is a 422 about that attribute (Persona documents no 404 there).
async fn connection_filters_and_references(backend: Backend) {
    let app = App::new(backend).await;
    let (a, b, c) = (
        app.org("Alpha").await,
        app.org("Beta").await,
        app.org("Gamma").await,
    );
    let to_b = app.active_connection(&a, &b).await;
    let to_c = app.active_connection(&a, &c).await;
    let list = |q: String| {
        let app = &app;
        let key = a.sandbox.clone();
        async move {
            app.ids(&key, &format!("/api/v1/connect/connections?{q}"))
                .await
        }
    };
    assert_eq!(
        list(format!("filter[destination-organization-id]={}", b.id)).await,
        vec![to_b.clone()]
    );
    assert_eq!(
        list(format!("filter[destinationOrganizationId]={}", c.id)).await,
        vec![to_c]
    );
    assert!(
        list("filter[destination-organization-id]=nobody".into())
            .await
            .is_empty()
    );
    let r = app
        .post("/api/v1/connect/connections")
        .key(&a.sandbox)
        .json(json!({"data": {"attributes": {"destination-organization-id": "org_AAAAAAAAAAAAAAAAAAAAAAAAAA"}}}))
        .send()
        .await
        .expect(422);
    assert_eq!(
        (r.code(), r.pointer()),
        (
            "reference_not_found",
            "/data/attributes/destination-organization-id"
        )
    );
    // The destination's view has no creator member at all (never `{"data": null}`).
    let seen = app.fetch(&b.sandbox, &connection_path(&to_b)).await;
    assert!(
        seen.json["data"]["relationships"].get("creator").is_none(),
        "{}",
        seen.json
    );
}

/// The event list takes `filter[id]` and comma lists of `filter[object-id]`; `page[size]` may
/// be written as a number with a zero fraction.
async fn event_filters(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let (i1, i2, _i3) = (
        app.inquiry(k, json!({})).await,
        app.inquiry(k, json!({})).await,
        app.inquiry(k, json!({})).await,
    );
    let all = app.all(k, "/api/v1/events").await;
    let id_of = |inq: &str| {
        all.iter()
            .find(|e| e["attributes"]["payload"]["data"]["id"] == inq)
            .and_then(|e| e["id"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let (e1, e2) = (id_of(&i1), id_of(&i2));
    let mut got = app
        .ids(k, &format!("/api/v1/events?filter[id]={e1},{e2}"))
        .await;
    got.sort();
    let mut want = vec![e1.clone(), e2.clone()];
    want.sort();
    assert_eq!(got, want);
    let by_object = app
        .ids(k, &format!("/api/v1/events?filter[object-id]={i1},{i2}"))
        .await;
    assert_eq!(by_object.len(), 2);
    let r = app
        .get("/api/v1/events?page[size]=1.0")
        .key(k)
        .send()
        .await
        .expect(200);
    assert_eq!(r.items().len(), 1);
    app.get("/api/v1/events?page[size]=1.5")
        .key(k)
        .send()
        .await
        .expect(400);
}

on_both_backends!(
    authenticated_responses_say_whose_they_are,
    persona_version_is_checked,
    writes_take_include_and_fields,
    action_bodies_may_be_empty_documents,
    connection_filters_and_references,
    event_filters,
);

/// `Idempotency-Key` on PATCH and DELETE replays the first response, as on POST.
async fn patch_and_delete_replay_under_an_idempotency_key(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let id = app.inquiry(k, json!({})).await;
    let path = format!("/api/v1/inquiries/{id}");
    let patch = |note: &'static str| {
        app.patch(&path)
            .key(k)
            .header("idempotency-key", "patch-1")
            .json(json!({"data": {"attributes": {"note": note}}}))
    };
    let first = patch("first").send().await.expect(200);
    assert!(first.header("idempotent-replayed").is_none());
    let again = patch("first").send().await.expect(200);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json, first.json);
    let r = patch("second").send().await.expect(400);
    assert_eq!(r.code(), "idempotency_key_reused");
    let del = || {
        app.delete(&path)
            .key(k)
            .header("idempotency-key", "delete-1")
    };
    let first = del().send().await.expect(200);
    let again = del().send().await.expect(200);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json, first.json);
    let events = app.event_names(k, Some(&id)).await;
    assert_eq!(
        events.iter().filter(|n| *n == "inquiry.redacted").count(),
        1,
        "{events:?}"
    );
}

on_both_backends!(patch_and_delete_replay_under_an_idempotency_key);
