//! §3.1 API keys: creation with a subset of permissions, secrets shown once, expiry.

use serde_json::{Value, json};
use tessera_core::Clock;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::App;

async fn create(app: &App, key: &str, attributes: Value) -> crate::support::Resp {
    app.post("/api/v1/api-keys")
        .key(key)
        .json(json!({"data": {"attributes": attributes}}))
        .send()
        .await
}

async fn a_new_key_shows_its_secret_once(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let r = create(
        &app,
        k,
        json!({"name": "ci", "permissions": ["inquiry.read", "event.read"]}),
    )
    .await
    .expect(201);
    let secret = r.json["meta"]["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("tsk_sandbox_") && secret.len() >= 12 + 43,
        "{secret}"
    );
    assert!(r.id().starts_with("api_"));
    assert_eq!(r.json["data"]["type"], "api-key");
    let a = &r.json["data"]["attributes"];
    assert_eq!(a["name"], "ci");
    assert_eq!(a["environment"], "sandbox");
    assert_eq!(a["status"], "active");
    assert_eq!(a["permissions"], json!(["inquiry.read", "event.read"]));
    assert_eq!(a["expires-at"], Value::Null);
    let hint = a["hint"].as_str().unwrap();
    assert!(hint.starts_with("tsk_sandbox_") && secret.ends_with(&hint[hint.len() - 4..]));
    // The secret is never shown again.
    let list = app.get("/api/v1/api-keys").key(k).send().await.expect(200);
    assert!(!String::from_utf8_lossy(&list.bytes).contains(&secret));
    assert!(list.json.get("meta").is_none());
    let listed = list
        .items()
        .iter()
        .find(|i| i["id"] == r.id().as_str())
        .unwrap();
    assert_eq!(listed["attributes"], *a);
    // It works, with its permissions.
    let me = app
        .get("/api/v1/organization")
        .key(&secret)
        .send()
        .await
        .expect(200);
    assert_eq!(me.json["meta"]["api-key-id"], r.id().as_str());
    app.get("/api/v1/inquiries")
        .key(&secret)
        .send()
        .await
        .expect(200);
    app.post("/api/v1/inquiries")
        .key(&secret)
        .send()
        .await
        .expect(403);
    // Without `permissions`, a key gets all of its creator's.
    let r = create(&app, &secret, json!({"name": "child"})).await;
    assert_eq!(r.status, 403, "api_key.write is needed to create keys");
    let writer = app
        .key_for(&org, "sandbox", &["api_key.write", "inquiry.read"])
        .await;
    let r = create(&app, &writer, json!({"name": "child"}))
        .await
        .expect(201);
    assert_eq!(
        r.attr("permissions"),
        &json!(["inquiry.read", "api_key.write"])
    );
    // A secret with one character changed is not a key.
    let mut forged = secret.clone().into_bytes();
    let i = 20;
    forged[i] = if forged[i] == b'a' { b'b' } else { b'a' };
    let r = app
        .get("/api/v1/organization")
        .key(&String::from_utf8(forged).unwrap())
        .send()
        .await
        .expect(401);
    assert_eq!(r.code(), "unauthorized");
}

async fn permissions_are_checked_when_granted(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let limited = app
        .key_for(
            &org,
            "sandbox",
            &["api_key.write", "api_key.read", "inquiry.read"],
        )
        .await;
    let r = create(
        &app,
        &limited,
        json!({"name": "x", "permissions": ["inquiry.read", "inquiry.write"]}),
    )
    .await
    .expect(403);
    assert_eq!(
        (r.code(), r.pointer()),
        ("permission_escalation", "/data/attributes/permissions")
    );
    let r = create(
        &app,
        &org.sandbox,
        json!({"name": "x", "permissions": ["inquiry.read", "inquiry.admin"]}),
    )
    .await
    .expect(422);
    assert_eq!(
        (r.code(), r.pointer()),
        ("invalid_permissions", "/data/attributes/permissions")
    );
    let r = create(
        &app,
        &org.sandbox,
        json!({"name": "x", "permissions": "inquiry.read"}),
    )
    .await
    .expect(400);
    assert_eq!(r.pointer(), "/data/attributes/permissions");
    for (attributes, pointer) in [
        (json!({"name": ""}), "/data/attributes/name"),
        (json!({"name": "n".repeat(201)}), "/data/attributes/name"),
        (
            json!({"name": "x", "expires-at": "tomorrow"}),
            "/data/attributes/expires-at",
        ),
        (
            json!({"name": "x", "expires-at": "2000-01-01T00:00:00Z"}),
            "/data/attributes/expires-at",
        ),
    ] {
        let r = create(&app, &org.sandbox, attributes).await.expect(422);
        assert_eq!(r.pointer(), pointer);
    }
    // Only the two keys of the organization and the limited one exist.
    assert_eq!(app.all(&org.sandbox, "/api/v1/api-keys").await.len(), 2);
    // A key with no permissions still knows who it is.
    let none = create(
        &app,
        &org.sandbox,
        json!({"name": "none", "permissions": []}),
    )
    .await
    .expect(201)
    .json["meta"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get("/api/v1/organization")
        .key(&none)
        .send()
        .await
        .expect(200);
    app.get("/api/v1/inquiries")
        .key(&none)
        .send()
        .await
        .expect(403);
}

async fn an_expired_key_stops_working_at_once(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let r = create(&app, k, json!({"name": "temp"})).await.expect(201);
    let (id, secret) = (
        r.id(),
        r.json["meta"]["secret"].as_str().unwrap().to_owned(),
    );
    app.get("/api/v1/inquiries")
        .key(&secret)
        .send()
        .await
        .expect(200);
    let r = app
        .post(&format!("/api/v1/api-keys/{id}/expire"))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_eq!(r.attr("status"), "expired");
    let expired_at = r.attr("expires-at").clone();
    assert_eq!(expired_at, json!(app.db.clock.now().to_rfc3339()));
    let r = app
        .get("/api/v1/inquiries")
        .key(&secret)
        .send()
        .await
        .expect(401);
    assert_eq!(r.code(), "api_key_expired");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    // Expiring again changes nothing.
    app.db.clock.advance_seconds(5);
    let r = app
        .post(&format!("/api/v1/api-keys/{id}/expire"))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_eq!(r.attr("expires-at"), &expired_at);
    let listed = app.all(k, "/api/v1/api-keys").await;
    let listed = listed.iter().find(|i| i["id"] == id.as_str()).unwrap();
    assert_eq!(listed["attributes"]["status"], "expired");
    // A key may expire itself; its next request is refused.
    let me = app.api_key_id(&org.production).await;
    app.post(&format!("/api/v1/api-keys/{me}/expire"))
        .key(&org.production)
        .send()
        .await
        .expect(200);
    app.get("/api/v1/organization")
        .key(&org.production)
        .send()
        .await
        .expect(401);
}

async fn a_key_stops_working_when_its_expiry_passes(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let at = app.db.clock.now().plus_seconds(3600);
    let r = create(
        &app,
        &org.sandbox,
        json!({"name": "hour", "expires-at": at.to_rfc3339()}),
    )
    .await
    .expect(201);
    assert_eq!(r.attr("expires-at"), &json!(at.to_rfc3339()));
    let secret = r.json["meta"]["secret"].as_str().unwrap().to_owned();
    app.db.clock.advance_seconds(3599);
    app.get("/api/v1/inquiries")
        .key(&secret)
        .send()
        .await
        .expect(200);
    app.db.clock.advance_seconds(1);
    let r = app
        .get("/api/v1/inquiries")
        .key(&secret)
        .send()
        .await
        .expect(401);
    assert_eq!(r.code(), "api_key_expired");
    // Keys made by the operator may expire too.
    let at = app.db.clock.now().plus_seconds(60);
    let r = app
        .post(&format!("/admin/v1/organizations/{}/api-keys", org.id))
        .key(crate::support::ADMIN)
        .json(json!({"data": {"attributes": {"environment": "production", "expires-at": at.to_rfc3339()}}}))
        .send()
        .await
        .expect(201);
    let secret = r.json["meta"]["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("tsk_production_"));
    app.get("/api/v1/inquiries")
        .key(&secret)
        .send()
        .await
        .expect(200);
    app.db.clock.advance_seconds(60);
    app.get("/api/v1/inquiries")
        .key(&secret)
        .send()
        .await
        .expect(401);
}

async fn keys_of_other_environments_are_not_listed(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let other = app.org("Other").await;
    let sandbox_extra = create(&app, &org.sandbox, json!({"name": "s"}))
        .await
        .expect(201)
        .id();
    let sandbox: Vec<String> = app
        .all(&org.sandbox, "/api/v1/api-keys")
        .await
        .iter()
        .map(|k| {
            assert_eq!(k["attributes"]["environment"], "sandbox");
            k["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(sandbox, [sandbox_extra, app.api_key_id(&org.sandbox).await]);
    let production = app.all(&org.production, "/api/v1/api-keys").await;
    assert_eq!(production.len(), 1);
    assert_eq!(production[0]["attributes"]["environment"], "production");
    assert_eq!(app.all(&other.sandbox, "/api/v1/api-keys").await.len(), 1);
}

on_both_backends!(
    a_new_key_shows_its_secret_once,
    permissions_are_checked_when_granted,
    an_expired_key_stops_working_at_once,
    a_key_stops_working_when_its_expiry_passes,
    keys_of_other_environments_are_not_listed,
);
