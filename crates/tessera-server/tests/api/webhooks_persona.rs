//! Webhooks as Persona 2025-12-08 describes them: its create example, every attribute of
//! `webhook-request-attributes` (stored, returned, and the ones that act on deliveries), its
//! event names, `webhook-with-secret` on create/rotate/clone/retrieve (never in stored replays),
//! `rotate-secret`'s `expires-in-seconds`, clone, and the delivery's headers and envelope.

use serde_json::{Value, json};
use tessera_core::Clock as _;
use tessera_core::signing::verify_persona_signature;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::receiver::{Answer, Receiver};
use crate::support::{App, Org, Resp};
use crate::webhooks::app;

async fn create(app: &App, org: &Org, attributes: Value) -> Resp {
    app.post("/api/v1/webhooks")
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": attributes}}))
        .send()
        .await
}

fn now(app: &App) -> tessera_core::Timestamp {
    app.db.clock.now()
}

/// Persona's `create-webhook` example (its URL pointed at our receiver) is accepted and answers
/// a `webhook-with-secret` with every member typed as Persona's schema says.
async fn persona_create_example_succeeds(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let r = create(
        &app,
        &org,
        json!({
            "name": "Inquiry Webhook",
            "url": rx.url(),
            "enabled-events": ["account.created", "verification.created"],
            "included-allowlist": {"state": "include_all"},
            "relationship-allowlist": {"state": "include_all"}
        }),
    )
    .await
    .expect(201);
    let a = &r.json["data"]["attributes"];
    assert_eq!(r.json["data"]["type"], "webhook");
    assert!(r.id().starts_with("wbh_"));
    let secret = a["secret"].as_str().unwrap();
    assert!(secret.starts_with("wbhsec_"));
    assert_eq!(r.json["meta"]["secret"], secret, "meta.secret stays");
    assert_eq!(a["secrets"], json!([{"value": secret, "expires-at": null}]));
    assert_eq!(a["name"], "Inquiry Webhook");
    assert_eq!(a["description"], Value::Null);
    assert_eq!(a["url"], rx.url());
    assert_eq!(a["status"], "enabled");
    assert_eq!(
        a["enabled-events"],
        json!(["account.created", "verification.created"])
    );
    assert_eq!(a["api-version"], "2025-12-08");
    assert_eq!(a["api-key-inflection"], "kebab");
    assert_eq!(a["api-attributes-blocklist"], json!([]));
    assert_eq!(a["file-access-token-expires-in"], 21600);
    assert_eq!(a["payload-filter"], Value::Null);
    assert_eq!(a["included-allowlist"], json!({"state": "include_all"}));
    assert_eq!(a["relationship-allowlist"], json!({"state": "include_all"}));
    assert_eq!(a["custom-http-headers"], json!({}));
    assert!(a["created-at"].is_string());
    // Keys follow Key-Inflection, inside secrets[] too.
    let camel = app
        .get(&format!("/api/v1/webhooks/{}", r.id()))
        .key(&org.sandbox)
        .header("key-inflection", "camel")
        .send()
        .await
        .expect(200);
    assert_eq!(
        camel.json["data"]["attributes"]["secrets"],
        json!([{"value": secret, "expiresAt": null}])
    );
    assert_eq!(camel.json["data"]["attributes"]["apiVersion"], "2025-12-08");
    // The secrets a write answers follow Key-Inflection too.
    let snake = app
        .post("/api/v1/webhooks")
        .key(&org.sandbox)
        .header("key-inflection", "snake")
        .json(json!({"data": {"attributes": {"name": "s", "url": rx.url(), "enabled-events": ["*"]}}}))
        .send()
        .await
        .expect(201);
    let a = &snake.json["data"]["attributes"];
    assert_eq!(
        a["secrets"],
        json!([{"value": a["secret"], "expires_at": null}])
    );
    assert_eq!(snake.json["meta"]["secret"], a["secret"]);
    assert!(
        snake.json["meta"].get("secrets").is_none(),
        "secrets live in attributes"
    );
}

/// Every Persona attribute is stored, returned by every endpoint and patchable; `null` clears
/// the nullable ones; a webhook made without a name gets one from its URL.
async fn persona_attributes_round_trip(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let plain = create(
        &app,
        &org,
        json!({"url": rx.url(), "enabled-events": ["*"]}),
    )
    .await
    .expect(201);
    let host = rx
        .url()
        .split("://")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(plain.attr("name"), format!("Webhook to {host}").as_str());
    let filter = json!({"data": {"relationships": {"inquiry-template": {"data": {"id": "itmpl_abc123def456"}}}}});
    let custom = json!({"state": "custom", "event-types": [{"event-type": "inquiry", "relationships": ["account"]}]});
    let r = create(
        &app,
        &org,
        json!({
            "name": "All of it",
            "description": "Webhook for testing",
            "url": rx.url(),
            "enabled-events": ["inquiry.created"],
            "api-version": "2023-01-05",
            "api-key-inflection": "snake",
            "api-attributes-blocklist": ["address-*", "name-last", "/data/attributes/fields/*-number"],
            "file-access-token-expires-in": 600,
            "payload-filter": filter,
            "included-allowlist": custom,
            "relationship-allowlist": {"state": "include_none"},
            "custom-http-headers": {"Authorization": "Bearer abc", "X-API-Key": "k1"}
        }),
    )
    .await
    .expect(201);
    let id = r.id();
    let expected = json!({
        "name": "All of it",
        "description": "Webhook for testing",
        "api-version": "2023-01-05",
        "api-key-inflection": "snake",
        "api-attributes-blocklist": ["address-*", "name-last", "/data/attributes/fields/*-number"],
        "file-access-token-expires-in": 600,
        "payload-filter": filter,
        "included-allowlist": custom,
        "relationship-allowlist": {"state": "include_none"},
        "custom-http-headers": {"authorization": "Bearer abc", "x-api-key": "k1"}
    });
    let check = |a: &Value, expected: &Value| {
        for (k, v) in expected.as_object().unwrap() {
            assert_eq!(&a[k], v, "{k}");
        }
    };
    check(&r.json["data"]["attributes"], &expected);
    let shown = app
        .get(&format!("/api/v1/webhooks/{id}"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    check(&shown.json["data"]["attributes"], &expected);
    // A key that may only read sees the header names, not their values (often credentials).
    let reader = app.key_for(&org, "sandbox", &["webhook.read"]).await;
    let masked = json!({"authorization": "********", "x-api-key": "********"});
    let shown_to_reader = app
        .get(&format!("/api/v1/webhooks/{id}"))
        .key(&reader)
        .send()
        .await
        .expect(200);
    assert_eq!(shown_to_reader.attr("custom-http-headers"), &masked);
    let listed = app.all(&reader, "/api/v1/webhooks").await;
    let item = listed.iter().find(|w| w["id"] == id.as_str()).unwrap();
    assert_eq!(item["attributes"]["custom-http-headers"], masked);
    assert!(
        !serde_json::to_string(&listed)
            .unwrap()
            .contains("Bearer abc")
    );
    // Header names are no JSON keys: no inflection rewrites them.
    let camel = app
        .get(&format!("/api/v1/webhooks/{id}"))
        .key(&org.sandbox)
        .header("key-inflection", "camel")
        .send()
        .await
        .expect(200);
    assert_eq!(
        camel.json["data"]["attributes"]["customHttpHeaders"],
        expected["custom-http-headers"]
    );
    let listed = app.all(&org.sandbox, "/api/v1/webhooks").await;
    let item = listed.iter().find(|w| w["id"] == id.as_str()).unwrap();
    check(&item["attributes"], &expected);
    let disabled = app
        .post(&format!("/api/v1/webhooks/{id}/disable"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    check(&disabled.json["data"]["attributes"], &expected);

    let r = app
        .patch(&format!("/api/v1/webhooks/{id}"))
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {
            "name": "Renamed",
            "description": null,
            "api-version": "2025-12-08",
            "api-attributes-blocklist": [],
            "file-access-token-expires-in": 21600,
            "payload-filter": null,
            "included-allowlist": null,
            "relationship-allowlist": {"state": "include_all"},
            "custom-http-headers": {}
        }}}))
        .send()
        .await
        .expect(200);
    let patched = json!({
        "name": "Renamed",
        "description": null,
        "api-version": "2025-12-08",
        "api-key-inflection": "snake",
        "api-attributes-blocklist": [],
        "file-access-token-expires-in": 21600,
        "payload-filter": null,
        "included-allowlist": null,
        "relationship-allowlist": {"state": "include_all"},
        "custom-http-headers": {}
    });
    check(&r.json["data"]["attributes"], &patched);
    assert!(
        r.json["data"]["attributes"].get("secret").is_none(),
        "PATCH answers Persona's webhook, without the secret"
    );
    let shown = app
        .get(&format!("/api/v1/webhooks/{id}"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    check(&shown.json["data"]["attributes"], &patched);
    // A PATCH that names nothing else leaves the rest alone.
    let r = app
        .patch(&format!("/api/v1/webhooks/{id}"))
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {"description": "back"}}}))
        .send()
        .await
        .expect(200);
    assert_eq!(r.attr("description"), "back");
    assert_eq!(r.attr("name"), "Renamed");
}

/// Every attribute is checked; nothing is saved from a refused request.
async fn persona_attributes_are_validated(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let base = json!({"url": rx.url(), "enabled-events": ["*"]});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases = [
        (
            with("name", json!("  ")),
            422,
            "invalid_attribute",
            "/data/attributes/name",
        ),
        (with("name", json!(5)), 400, "invalid_type", ""),
        (
            with("name", json!("n".repeat(256))),
            422,
            "invalid_attribute",
            "/data/attributes/name",
        ),
        (
            with("description", json!("d".repeat(1025))),
            422,
            "invalid_attribute",
            "/data/attributes/description",
        ),
        (
            with("api-version", json!("1999-01-01")),
            422,
            "invalid_attribute",
            "/data/attributes/api-version",
        ),
        (
            with("api-key-inflection", json!("pascal")),
            422,
            "invalid_attribute",
            "/data/attributes/api-key-inflection",
        ),
        (
            with("api-attributes-blocklist", json!(["ok", ""])),
            422,
            "invalid_attribute",
            "/data/attributes/api-attributes-blocklist/1",
        ),
        (
            with("api-attributes-blocklist", json!("name-first")),
            400,
            "invalid_type",
            "",
        ),
        (
            with("file-access-token-expires-in", json!(0)),
            422,
            "invalid_attribute",
            "/data/attributes/file-access-token-expires-in",
        ),
        (
            with("file-access-token-expires-in", json!("600")),
            400,
            "invalid_type",
            "",
        ),
        (
            with("payload-filter", json!({"nope": {}})),
            400,
            "unknown_attribute",
            "/data/attributes/payload-filter/nope",
        ),
        (
            with("payload-filter", json!({"data": 1})),
            400,
            "invalid_type",
            "/data/attributes/payload-filter/data",
        ),
        (
            with("included-allowlist", json!({"state": "custom"})),
            422,
            "invalid_attribute",
            "/data/attributes/included-allowlist/event-types",
        ),
        (
            with("included-allowlist", json!({"state": "everything"})),
            422,
            "invalid_attribute",
            "/data/attributes/included-allowlist/state",
        ),
        (
            with("relationship-allowlist", json!({"state": "custom"})),
            422,
            "invalid_attribute",
            "/data/attributes/relationship-allowlist/state",
        ),
        (
            with(
                "relationship-allowlist",
                json!({"state": "include_all", "x": 1}),
            ),
            400,
            "unknown_attribute",
            "/data/attributes/relationship-allowlist/x",
        ),
        (
            with("custom-http-headers", json!({"Persona-Signature": "x"})),
            422,
            "invalid_attribute",
            "/data/attributes/custom-http-headers/Persona-Signature",
        ),
        (
            with("custom-http-headers", json!({"content-type": "text/plain"})),
            422,
            "invalid_attribute",
            "/data/attributes/custom-http-headers/content-type",
        ),
        (
            with(
                "custom-http-headers",
                json!({"Persona-Webhook-Attempts-Left": "9"}),
            ),
            422,
            "invalid_attribute",
            "/data/attributes/custom-http-headers/Persona-Webhook-Attempts-Left",
        ),
        (
            with("custom-http-headers", json!({"bad name": "x"})),
            422,
            "invalid_attribute",
            "/data/attributes/custom-http-headers/bad name",
        ),
        (
            with("custom-http-headers", json!({"x-ok": "a\r\nInjected: 1"})),
            422,
            "invalid_attribute",
            "/data/attributes/custom-http-headers/x-ok",
        ),
        (
            with("custom-http-headers", json!({"x-ok": 5})),
            400,
            "invalid_type",
            "",
        ),
        (
            with("secret", json!("wbhsec_mine")),
            400,
            "unknown_attribute",
            "/data/attributes/secret",
        ),
    ];
    for (body, status, code, pointer) in cases {
        let r = create(&app, &org, body.clone()).await.expect(status);
        assert_eq!(r.code(), code, "{body}");
        if !pointer.is_empty() {
            assert_eq!(r.pointer(), pointer, "{body}");
        }
    }
    assert!(app.all(&org.sandbox, "/api/v1/webhooks").await.is_empty());
    let id = create(&app, &org, base.clone()).await.expect(201).id();
    let r = app
        .patch(&format!("/api/v1/webhooks/{id}"))
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {"name": "ok", "custom-http-headers": {"Host": "evil"}}}}))
        .send()
        .await
        .expect(422);
    assert_eq!(r.pointer(), "/data/attributes/custom-http-headers/Host");
    let shown = app
        .get(&format!("/api/v1/webhooks/{id}"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    assert_ne!(shown.attr("name"), "ok", "a refused PATCH changes nothing");
}

/// `enabled-events` takes Persona's names as well as Tessera's; a name in neither list is 422.
async fn persona_event_names_are_accepted(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let events = json!([
        "connect/share-token.inbound-created",
        "inquiry.transitioned",
        "inquiry.updated-tags",
        "verification.created",
        "document.processed",
        "workflow-run.errored",
        "connect/connection.inbound-activated"
    ]);
    let r = create(
        &app,
        &org,
        json!({"name": "n", "url": rx.url(), "enabled-events": events}),
    )
    .await
    .expect(201);
    assert_eq!(r.attr("enabled-events"), &events);
    let r = create(
        &app,
        &org,
        json!({"name": "n", "url": rx.url(), "enabled-events": ["inquiry.transitioned", "inquiry.nope"]}),
    )
    .await
    .expect(422);
    assert_eq!(
        (r.code(), r.pointer()),
        ("unknown_event", "/data/attributes/enabled-events/1")
    );
    // Every name of both lists (the ones in both once: entries are deduplicated).
    let every: std::collections::BTreeSet<&str> = tessera_core::persona_events::PERSONA_EVENTS
        .iter()
        .chain(tessera_core::event::names::ALL)
        .copied()
        .collect();
    let r = app
        .patch(&format!(
            "/api/v1/webhooks/{}",
            create(
                &app,
                &org,
                json!({"url": rx.url(), "enabled-events": ["*"]})
            )
            .await
            .expect(201)
            .id()
        ))
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {"enabled-events": every}}}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        r.attr("enabled-events").as_array().unwrap().len(),
        every.len()
    );
    // A Persona name Tessera emits under that name is delivered.
    app.inquiry(&org.sandbox, json!({})).await;
    app.worker().drain().await.unwrap();
    assert_eq!(rx.received().len(), 1, "inquiry.created");
}

/// `rotate-secret` with `meta.expires-in-seconds`: the old secret is listed with that
/// `expires-at`, signs alongside until then, and not after (on the test clock).
async fn rotation_honours_expires_in_seconds(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let made = create(
        &app,
        &org,
        json!({"name": "n", "url": rx.url(), "enabled-events": ["inquiry.created"]}),
    )
    .await
    .expect(201);
    let (id, old) = (made.id(), made.attr("secret").as_str().unwrap().to_owned());
    let rotate = |body: Value| {
        app.post(&format!("/api/v1/webhooks/{id}/rotate-secret"))
            .key(&org.sandbox)
            .json(body)
            .send()
    };
    for (bad, status, code) in [
        (
            json!({"meta": {"expires-in-seconds": -1}}),
            422,
            "expires_in_out_of_range",
        ),
        (
            json!({"meta": {"expires-in-seconds": 604_801}}),
            422,
            "expires_in_out_of_range",
        ),
        (
            json!({"meta": {"expires-in-seconds": "60"}}),
            400,
            "invalid_type",
        ),
    ] {
        let r = rotate(bad).await.expect(status);
        assert_eq!(r.code(), code);
        assert_eq!(r.pointer(), "/meta/expires-in-seconds");
    }
    let r = rotate(json!({"meta": {"expiresInSeconds": 60}}))
        .await
        .expect(200);
    let new = r.attr("secret").as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(r.json["meta"]["secret"], new.as_str());
    let until = now(&app).plus_seconds(60);
    assert_eq!(
        r.attr("secrets"),
        &json!([{"value": new, "expires-at": null}, {"value": old, "expires-at": until.to_rfc3339()}])
    );
    app.inquiry(&org.sandbox, json!({})).await;
    app.worker().drain().await.unwrap();
    let got = rx.received();
    let t = chrono::Utc::now().timestamp();
    let sig = got[0].header("persona-signature");
    assert_eq!(sig.split(' ').count(), 2);
    verify_persona_signature(sig, &old, &got[0].body, t, 300).unwrap();
    app.db.clock.advance_seconds(61);
    let shown = app
        .get(&format!("/api/v1/webhooks/{id}"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(
        shown.attr("secrets"),
        &json!([{"value": new, "expires-at": null}]),
        "the old secret is gone after its expires-at"
    );
    app.inquiry(&org.sandbox, json!({})).await;
    app.worker().drain().await.unwrap();
    let got = rx.received();
    let sig = got[1].header("persona-signature");
    assert_eq!(
        sig.split(' ').count(),
        1,
        "only the new secret signs: {sig}"
    );
    verify_persona_signature(sig, &new, &got[1].body, t, 300).unwrap();
    assert!(verify_persona_signature(sig, &old, &got[1].body, t, 300).is_err());
    // 0: the old secret stops at once.
    let r = rotate(json!({"meta": {"expires-in-seconds": 0}}))
        .await
        .expect(200);
    assert_eq!(r.attr("secrets").as_array().unwrap().len(), 1);
    let newest = r.attr("secret").as_str().unwrap().to_owned();
    app.inquiry(&org.sandbox, json!({})).await;
    app.worker().drain().await.unwrap();
    let got = rx.received();
    let sig = got[2].header("persona-signature");
    assert_eq!(sig.split(' ').count(), 1);
    verify_persona_signature(sig, &newest, &got[2].body, t, 300).unwrap();
}

/// Clone copies every setting, makes a new secret and answers 200 (Persona's status) with it.
async fn clone_copies_settings_with_a_new_secret(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let made = create(
        &app,
        &org,
        json!({
            "name": "Original", "description": "d", "url": rx.url(),
            "enabled-events": ["inquiry.created", "inquiry.transitioned"],
            "api-key-inflection": "camel", "api-attributes-blocklist": ["name-*"],
            "payload-filter": {"data": {"type": "inquiry"}},
            "relationship-allowlist": {"state": "include_none"},
            "custom-http-headers": {"X-API-Key": "k"}
        }),
    )
    .await
    .expect(201);
    let id = made.id();
    app.post(&format!("/api/v1/webhooks/{id}/disable"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    let copy = app
        .post(&format!("/api/v1/webhooks/{id}/clone"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    assert_ne!(copy.id(), id);
    let secret = copy.attr("secret").as_str().unwrap();
    assert!(secret.starts_with("wbhsec_"));
    assert_ne!(secret, made.attr("secret").as_str().unwrap());
    assert_eq!(copy.json["meta"]["secret"], secret);
    assert_eq!(
        copy.attr("secrets"),
        &json!([{"value": secret, "expires-at": null}])
    );
    for k in [
        "name",
        "description",
        "url",
        "status",
        "enabled-events",
        "api-key-inflection",
        "api-version",
        "api-attributes-blocklist",
        "file-access-token-expires-in",
        "payload-filter",
        "included-allowlist",
        "relationship-allowlist",
        "custom-http-headers",
    ] {
        assert_eq!(copy.attr(k), made_or_disabled(&made, k), "{k}");
    }
    // Archived: the copy is disabled. Unknown and other tenants' webhooks: 404.
    app.post(&format!("/api/v1/webhooks/{id}/archive"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    let copy = app
        .post(&format!("/api/v1/webhooks/{id}/clone"))
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {}}}))
        .send()
        .await;
    // The lead's EmptyBody change makes `{"data":{"attributes":{}}}` acceptable; before it, 400.
    if copy.status == 200 {
        assert_eq!(copy.attr("status"), "disabled");
    }
    let copy = app
        .post(&format!("/api/v1/webhooks/{id}/clone"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(copy.attr("status"), "disabled");
    app.post("/api/v1/webhooks/wbh_DoesNotExist/clone")
        .key(&org.sandbox)
        .send()
        .await
        .expect(404);
    let other = app.org("Other").await;
    app.post(&format!("/api/v1/webhooks/{id}/clone"))
        .key(&other.sandbox)
        .send()
        .await
        .expect(404);
    let reader = app.key_for(&org, "sandbox", &["webhook.read"]).await;
    app.post(&format!("/api/v1/webhooks/{id}/clone"))
        .key(&reader)
        .send()
        .await
        .expect(403);
}

fn made_or_disabled<'a>(made: &'a Resp, k: &str) -> &'a Value {
    static DISABLED: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    if k == "status" {
        return DISABLED.get_or_init(|| json!("disabled"));
    }
    made.attr(k)
}

/// Secrets are shown to the caller and never stored: an idempotent replay of create, rotate or
/// clone answers the same webhook without them (GET shows them to a writer).
async fn secrets_are_never_in_stored_replays(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let body =
        json!({"data": {"attributes": {"name": "n", "url": rx.url(), "enabled-events": ["*"]}}});
    let post = |path: String, key: &'static str, body: Option<Value>| {
        let mut c = app
            .post(&path)
            .key(&org.sandbox)
            .header("idempotency-key", key);
        if let Some(b) = body {
            c = c.json(b);
        }
        c.send()
    };
    let first = post("/api/v1/webhooks".into(), "create-1", Some(body.clone()))
        .await
        .expect(201);
    let secret = first.attr("secret").as_str().unwrap().to_owned();
    let again = post("/api/v1/webhooks".into(), "create-1", Some(body))
        .await
        .expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.id(), first.id());
    assert!(!String::from_utf8_lossy(&again.bytes).contains(&secret));
    let id = first.id();
    for (action, key) in [("rotate-secret", "rotate-1"), ("clone", "clone-1")] {
        let path = format!("/api/v1/webhooks/{id}/{action}");
        let r = post(path.clone(), key, None).await.expect(200);
        let shown = r.attr("secret").as_str().unwrap().to_owned();
        let again = post(path, key, None).await.expect(200);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert!(
            !String::from_utf8_lossy(&again.bytes).contains(&shown),
            "{action}"
        );
        assert!(again.attr("secret").is_null());
    }
    let shown = app
        .get(&format!("/api/v1/webhooks/{id}"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    assert!(
        shown
            .attr("secret")
            .as_str()
            .unwrap()
            .starts_with("wbhsec_")
    );
}

/// What a webhook's settings do to its deliveries: custom headers are sent (Tessera's own
/// headers stay), the blocklist and `relationship-allowlist: include_none` shape the payload, the
/// envelope is Persona's, and `Persona-Webhook-First-Attempted-At` is integer seconds.
async fn settings_shape_deliveries(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let made = create(
        &app,
        &org,
        json!({
            "name": "Shaped", "url": rx.url(), "enabled-events": ["inquiry.created"],
            "api-attributes-blocklist": ["name-*", "/data/attributes/note"],
            "relationship-allowlist": {"state": "include_none"},
            "custom-http-headers": {"Authorization": "Bearer abc", "X-API-Key": "k1"}
        }),
    )
    .await
    .expect(201);
    let secret = made.attr("secret").as_str().unwrap().to_owned();
    let inquiry = app
        .post("/api/v1/inquiries")
        .key(&org.sandbox)
        .json(
            json!({"data": {"attributes": {"note": "private", "reference-id": "r1",
            "fields": {"name-first": "Jane", "name-last": "Doe", "address-city": "Berlin"}}}}),
        )
        .send()
        .await
        .expect(201)
        .id();
    app.worker().drain().await.unwrap();
    let got = rx.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.header("authorization"), "Bearer abc");
    assert_eq!(r.header("x-api-key"), "k1");
    assert_eq!(r.header("content-type"), "application/json");
    let t = chrono::Utc::now().timestamp();
    verify_persona_signature(r.header("persona-signature"), &secret, &r.body, t, 300).unwrap();
    let first: i64 = r
        .header("persona-webhook-first-attempted-at")
        .parse()
        .unwrap();
    assert_eq!(first, now(&app).unix_seconds());
    for h in [
        "persona-webhook-attempts-made",
        "persona-webhook-attempts-left",
    ] {
        assert!(r.header(h).parse::<u32>().is_ok(), "{h} is an integer");
    }
    // Persona's envelope (webhooks.<event>.post.requestBody).
    let doc = r.json();
    let data = &doc["data"];
    assert_eq!(data["type"], "event");
    assert!(data["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(data["attributes"]["name"], "inquiry.created");
    assert!(
        chrono::DateTime::parse_from_rfc3339(data["attributes"]["created-at"].as_str().unwrap())
            .is_ok()
    );
    let payload = &data["attributes"]["payload"];
    assert!(
        payload
            .as_object()
            .unwrap()
            .keys()
            .all(|k| k == "data" || k == "included")
    );
    let object = &payload["data"];
    assert_eq!(object["type"], "inquiry");
    assert_eq!(object["id"], inquiry.as_str());
    assert!(object.get("relationships").is_none(), "include_none");
    let a = &object["attributes"];
    assert!(a.get("note").is_none(), "pointer entry");
    assert_eq!(a["reference-id"], "r1");
    let fields = a["fields"].as_object().unwrap();
    assert!(!fields.contains_key("name-first") && !fields.contains_key("name-last"));
    assert!(fields.contains_key("address-city"));
    // The stored event is whole: the blocklist shapes deliveries only.
    let events = app.all(&org.sandbox, "/api/v1/events").await;
    assert!(
        events
            .iter()
            .any(|e| e["attributes"]["payload"]["data"]["attributes"]["note"] == "private")
    );
}

/// `payload-filter`: only events whose payload contains the filter are delivered.
async fn payload_filters_select_events(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let id = create(
        &app,
        &org,
        json!({"name": "Filtered", "url": rx.url(), "enabled-events": ["inquiry.created"],
            "payload-filter": {"data": {"attributes": {"reference-id": "match"}}}}),
    )
    .await
    .expect(201)
    .id();
    for reference in ["other", "match"] {
        app.post("/api/v1/inquiries")
            .key(&org.sandbox)
            .json(json!({"data": {"attributes": {"reference-id": reference}}}))
            .send()
            .await
            .expect(201);
    }
    app.worker().drain().await.unwrap();
    let got = rx.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].json()["data"]["attributes"]["payload"]["data"]["attributes"]["reference-id"],
        "match"
    );
    let log = app
        .all(&org.sandbox, &format!("/api/v1/webhooks/{id}/deliveries"))
        .await;
    assert_eq!(log.len(), 1, "a filtered-out event makes no delivery");
}

/// A workflow's `http-request` step sends Persona's attempt headers too, as integers: the
/// first attempt's time in Unix seconds on every attempt.
async fn workflow_requests_send_integer_attempt_headers(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    rx.script([Answer::status(500)]);
    crate::workflows::workflow(
        &app,
        &org.sandbox,
        json!({"event": "inquiry.created"}),
        json!([{"type": "http-request", "url": rx.url()}]),
    )
    .await;
    app.inquiry(&org.sandbox, json!({})).await;
    let first_at = now(&app).unix_seconds();
    let worker = app.worker();
    worker.drain().await.unwrap();
    app.db.clock.advance_seconds(60);
    worker.drain().await.unwrap();
    let got = rx.received();
    assert_eq!(got.len(), 2);
    let h = |i: usize, name: &str| got[i].header(name).parse::<i64>().unwrap();
    assert_eq!(
        (
            h(0, "persona-webhook-attempts-made"),
            h(0, "persona-webhook-attempts-left")
        ),
        (1, 4)
    );
    assert_eq!(
        (
            h(1, "persona-webhook-attempts-made"),
            h(1, "persona-webhook-attempts-left")
        ),
        (2, 3)
    );
    assert_eq!(h(0, "persona-webhook-first-attempted-at"), first_at);
    assert_eq!(h(1, "persona-webhook-first-attempted-at"), first_at);
}

on_both_backends!(
    workflow_requests_send_integer_attempt_headers,
    persona_create_example_succeeds,
    persona_attributes_round_trip,
    persona_attributes_are_validated,
    persona_event_names_are_accepted,
    rotation_honours_expires_in_seconds,
    clone_copies_settings_with_a_new_secret,
    secrets_are_never_in_stored_replays,
    settings_shape_deliveries,
    payload_filters_select_events,
);
