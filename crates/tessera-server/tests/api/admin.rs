//! §2 the operator API.

use http::Method;
use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{ADMIN, App};

async fn the_operator_token_is_required(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let routes = [
        (Method::GET, "/admin/v1/organizations".to_owned()),
        (Method::POST, "/admin/v1/organizations".to_owned()),
        (Method::GET, format!("/admin/v1/organizations/{}", org.id)),
        (
            Method::POST,
            format!("/admin/v1/organizations/{}/api-keys", org.id),
        ),
        (
            Method::POST,
            format!("/admin/v1/organizations/{}/users", org.id),
        ),
    ];
    let body = json!({"data": {"attributes": {"name": "Sneaky", "environment": "sandbox",
        "email": "x@y.z", "password": "long enough password"}}});
    for (method, path) in &routes {
        for token in [
            None,
            Some("wrong"),
            Some(org.sandbox.as_str()),
            Some("test-admin-tokenx"),
        ] {
            let mut call = app.call(method.clone(), path).json(body.clone());
            if let Some(t) = token {
                call = call.key(t);
            }
            let r = call.send().await.expect(401);
            assert_eq!(r.code(), "unauthorized", "{method} {path} {token:?}");
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        }
    }
    let r = app
        .get("/admin/v1/organizations")
        .header("authorization", &format!("Basic {ADMIN}"))
        .send()
        .await
        .expect(401);
    assert_eq!(r.code(), "unauthorized");
    let orgs = app.all(ADMIN, "/admin/v1/organizations").await;
    assert_eq!(orgs.len(), 1, "nothing was created");
    // The operator token is not an API key.
    app.get("/api/v1/organization")
        .key(ADMIN)
        .send()
        .await
        .expect(401);
}

async fn organizations_come_with_a_key_per_environment(backend: Backend) {
    let app = App::new(backend).await;
    let r = app
        .post("/admin/v1/organizations")
        .key(ADMIN)
        .json(json!({"data": {"attributes": {"name": " Acme Corp "}}}))
        .send()
        .await
        .expect(201);
    let id = r.id();
    assert!(id.starts_with("org_"));
    assert_eq!(r.json["data"]["type"], "organization");
    assert_eq!(r.attr("name"), "Acme Corp");
    let envs = r.json["data"]["relationships"]["environments"]["data"]
        .as_array()
        .unwrap();
    assert_eq!(envs.len(), 2);
    assert!(
        envs.iter()
            .all(|e| e["type"] == "environment" && e["id"].as_str().unwrap().starts_with("env_"))
    );
    for env in ["sandbox", "production"] {
        let secret = r.json["meta"]["api-keys"][env].as_str().unwrap();
        assert!(secret.starts_with(&format!("tsk_{env}_")));
        let me = app
            .get("/api/v1/organization")
            .key(secret)
            .send()
            .await
            .expect(200);
        assert_eq!(me.id(), id);
        assert_eq!(me.json["meta"]["environment"], env);
        assert_eq!(me.attr("name"), "Acme Corp");
        // An all-permission key.
        let key = &app.all(secret, "/api/v1/api-keys").await[0];
        assert_eq!(
            key["attributes"]["permissions"].as_array().unwrap().len(),
            15
        );
    }
    let shown = app
        .get(&format!("/admin/v1/organizations/{id}"))
        .key(ADMIN)
        .send()
        .await
        .expect(200);
    assert_eq!(shown.json["data"], r.json["data"]);
    assert!(shown.json.get("meta").is_none(), "keys are shown once");
    let list = app
        .get("/admin/v1/organizations")
        .key(ADMIN)
        .send()
        .await
        .expect(200);
    assert_eq!(list.ids(), std::slice::from_ref(&id));
    assert!(!String::from_utf8_lossy(&list.bytes).contains("tsk_"));
    app.get("/admin/v1/organizations/org_0000000000000000000000")
        .key(ADMIN)
        .send()
        .await
        .expect(404);
    app.get("/admin/v1/organizations/nope")
        .key(ADMIN)
        .send()
        .await
        .expect(404);
    for (body, status, pointer) in [
        (
            json!({"data": {"attributes": {}}}),
            422,
            "/data/attributes/name",
        ),
        (
            json!({"data": {"attributes": {"name": "  "}}}),
            422,
            "/data/attributes/name",
        ),
        (
            json!({"data": {"attributes": {"name": 1}}}),
            400,
            "/data/attributes/name",
        ),
        (
            json!({"data": {"attributes": {"name": "A", "plan": "gold"}}}),
            400,
            "/data/attributes/plan",
        ),
    ] {
        let r = app
            .post("/admin/v1/organizations")
            .key(ADMIN)
            .json(body)
            .send()
            .await
            .expect(status);
        assert_eq!(r.pointer(), pointer);
    }
    assert_eq!(app.all(ADMIN, "/admin/v1/organizations").await.len(), 1);
}

async fn operator_api_keys_carry_permissions(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let path = format!("/admin/v1/organizations/{}/api-keys", org.id);
    let r = app
        .post(&path)
        .key(ADMIN)
        .json(json!({"data": {"attributes": {"environment": "production", "name": "ci", "permissions": ["inquiry.read"]}}}))
        .send()
        .await
        .expect(201);
    assert_eq!(r.attr("permissions"), &json!(["inquiry.read"]));
    assert_eq!(r.attr("environment"), "production");
    let secret = r.json["meta"]["secret"].as_str().unwrap();
    assert!(secret.starts_with("tsk_production_"));
    app.get("/api/v1/inquiries")
        .key(secret)
        .send()
        .await
        .expect(200);
    app.post("/api/v1/inquiries")
        .key(secret)
        .send()
        .await
        .expect(403);
    let cases: Vec<(String, Value, u16, &str)> = vec![
        (
            path.clone(),
            json!({"name": "x"}),
            422,
            "/data/attributes/environment",
        ),
        (
            path.clone(),
            json!({"environment": "staging"}),
            422,
            "/data/attributes/environment",
        ),
        (
            path.clone(),
            json!({"environment": "sandbox", "permissions": ["root"]}),
            422,
            "/data/attributes/permissions",
        ),
        (
            path.clone(),
            json!({"environment": "sandbox", "name": ""}),
            422,
            "/data/attributes/name",
        ),
        (
            "/admin/v1/organizations/org_0000000000000000000000/api-keys".into(),
            json!({"environment": "sandbox"}),
            404,
            "",
        ),
    ];
    for (p, attributes, status, pointer) in cases {
        let r = app
            .post(&p)
            .key(ADMIN)
            .json(json!({"data": {"attributes": attributes}}))
            .send()
            .await
            .expect(status);
        assert_eq!(r.pointer(), pointer);
    }
    assert_eq!(app.all(&org.production, "/api/v1/api-keys").await.len(), 2);
    assert_eq!(app.all(&org.sandbox, "/api/v1/api-keys").await.len(), 1);
}

async fn dashboard_users_are_checked(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let other = app.org("Other").await;
    let path = format!("/admin/v1/organizations/{}/users", org.id);
    let user = |email: &str, password: &str| json!({"data": {"attributes": {"email": email, "password": password}}});
    let r = app
        .post(&path)
        .key(ADMIN)
        .json(user(" Ann@Example.com ", "correct horse battery"))
        .send()
        .await
        .expect(201);
    assert!(r.id().starts_with("usr_"));
    assert_eq!(r.json["data"]["type"], "user");
    assert_eq!(r.attr("email"), "ann@example.com");
    assert_eq!(r.attr("role"), "admin");
    assert_eq!(
        r.json["data"]["relationships"]["organization"]["data"]["id"],
        org.id.as_str()
    );
    assert!(!String::from_utf8_lossy(&r.bytes).contains("horse"));
    let r = app
        .post(&path)
        .key(ADMIN)
        .json(json!({"data": {"attributes": {"email": "bob@example.com", "password": "0123456789", "role": "member"}}}))
        .send()
        .await
        .expect(201);
    assert_eq!(r.attr("role"), "member");
    let cases: Vec<(String, Value, u16, &str, &str)> = vec![
        (
            path.clone(),
            user("not-an-email", "long enough password"),
            422,
            "invalid_attribute",
            "/data/attributes/email",
        ),
        (
            path.clone(),
            user("a@b@c", "long enough password"),
            422,
            "invalid_attribute",
            "/data/attributes/email",
        ),
        (
            path.clone(),
            user("a b@c.d", "long enough password"),
            422,
            "invalid_attribute",
            "/data/attributes/email",
        ),
        (
            path.clone(),
            user("new@example.com", "short"),
            422,
            "invalid_attribute",
            "/data/attributes/password",
        ),
        (
            path.clone(),
            user("new@example.com", "123456789"),
            422,
            "invalid_attribute",
            "/data/attributes/password",
        ),
        (
            path.clone(),
            user("ANN@example.com", "another long password"),
            409,
            "email_taken",
            "/data/attributes/email",
        ),
        (
            format!("/admin/v1/organizations/{}/users", other.id),
            user("ann@example.com", "another long password"),
            409,
            "email_taken",
            "/data/attributes/email",
        ),
        (
            path.clone(),
            json!({"data": {"attributes": {"email": "c@d.e", "password": "long enough password", "role": "owner"}}}),
            422,
            "invalid_attribute",
            "/data/attributes/role",
        ),
        (
            path.clone(),
            json!({"data": {"attributes": {"password": "long enough password"}}}),
            422,
            "missing_attribute",
            "/data/attributes/email",
        ),
        (
            path.clone(),
            json!({"data": {"attributes": {"email": "c@d.e"}}}),
            422,
            "missing_attribute",
            "/data/attributes/password",
        ),
        (
            "/admin/v1/organizations/org_0000000000000000000000/users".into(),
            user("z@example.com", "long enough password"),
            404,
            "not_found",
            "",
        ),
    ];
    for (p, body, status, code, pointer) in cases {
        let r = app
            .post(&p)
            .key(ADMIN)
            .json(body.clone())
            .send()
            .await
            .expect(status);
        assert_eq!((r.code(), r.pointer()), (code, pointer), "{body}");
    }
}

async fn a_generated_operator_token_is_written_once(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let d = data_dir.clone();
    let app = App::with_config(backend, move |c| {
        c.admin_token = None;
        c.data_dir = d;
    })
    .await;
    let path = data_dir.join("admin-token");
    let token = std::fs::read_to_string(&path).unwrap().trim().to_owned();
    assert!(token.len() >= 40, "{token}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the token file is readable by its owner only"
        );
    }
    app.get("/admin/v1/organizations")
        .key(&token)
        .send()
        .await
        .expect(200);
    app.get("/admin/v1/organizations")
        .key(ADMIN)
        .send()
        .await
        .expect(401);
    // A second start on the same database keeps the token (and does not write a new one).
    std::fs::remove_file(&path).unwrap();
    let config = tessera_server::Config {
        admin_token: None,
        data_dir: data_dir.clone(),
        rate_limit_per_minute: 0,
        ..tessera_server::Config::default()
    };
    let (router, _) = tessera_server::app::build(app.db.store.clone(), config)
        .await
        .unwrap();
    assert!(!path.exists());
    let again = App { router, ..app };
    again
        .get("/admin/v1/organizations")
        .key(&token)
        .send()
        .await
        .expect(200);
}

on_both_backends!(
    the_operator_token_is_required,
    a_generated_operator_token_is_written_once,
    organizations_come_with_a_key_per_environment,
    operator_api_keys_carry_permissions,
    dashboard_users_are_checked,
);
