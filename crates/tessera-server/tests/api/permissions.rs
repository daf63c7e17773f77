//! §1 permissions: every tenant route declares what it requires, and the gate enforces it.

use serde_json::json;
use tessera_server::edge::permissions::{Access, list_routes};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::App;

/// A path for a route template, with an id of the right kind in every parameter.
fn concrete(path: &str) -> String {
    let prefix = if path.starts_with("/api/v1/inquiry-templates/") {
        "itmpl"
    } else if path.starts_with("/api/v1/inquiries/") {
        "inq"
    } else if path.starts_with("/api/v1/verifications/") {
        "ver"
    } else if path.starts_with("/api/v1/documents/") {
        "doc"
    } else if path.starts_with("/api/v1/events/") {
        "evt"
    } else if path.starts_with("/api/v1/api-keys/") {
        "api"
    } else {
        "x"
    };
    path.replace("{id}", &format!("{prefix}_0000000000000000000000"))
}

#[test]
fn every_tenant_route_declares_its_access() {
    let routes = list_routes(&tessera_server::app::openapi());
    assert!(routes.len() >= 20, "{routes:?}");
    for r in &routes {
        assert!(r.path.starts_with("/api/v1/"), "{r:?}");
        assert!(
            r.access.is_some(),
            "{} {} declares no known permission in its OpenAPI security",
            r.method,
            r.path
        );
    }
    let open: Vec<_> = routes
        .iter()
        .filter(|r| r.access == Some(Access::AnyKey))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(open, ["GET /api/v1/organization"]);
}

async fn a_key_without_the_permission_is_refused_on_every_route(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let none = app.key_for(&org, "sandbox", &[]).await;
    for r in list_routes(&tessera_server::app::openapi()) {
        let path = concrete(&r.path);
        let resp = app
            .call(r.method.clone(), &path)
            .key(&none)
            .json(json!({}))
            .send()
            .await;
        match r.access {
            Some(Access::Needs(p)) => {
                assert_eq!(resp.status, 403, "{} {path}: {}", r.method, resp.json);
                assert_eq!(resp.code(), "permission_denied");
                assert!(
                    resp.json["errors"][0]["details"]
                        .as_str()
                        .unwrap()
                        .contains(p.as_str())
                );
            }
            _ => assert_eq!(resp.status, 200, "{} {path}", r.method),
        }
    }
}

async fn reads_and_writes_need_their_own_permission(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let inq = app
        .inquiry(&org.sandbox, json!({"name-first": "Jane"}))
        .await;
    let reader = app.key_for(&org, "sandbox", &["inquiry.read"]).await;
    let writer = app.key_for(&org, "sandbox", &["inquiry.write"]).await;
    app.get("/api/v1/inquiries")
        .key(&reader)
        .send()
        .await
        .expect(200);
    app.get(&format!("/api/v1/inquiries/{inq}"))
        .key(&reader)
        .send()
        .await
        .expect(200);
    let refused = [
        app.post("/api/v1/inquiries")
            .key(&reader)
            .json(json!({}))
            .send()
            .await,
        app.patch(&format!("/api/v1/inquiries/{inq}"))
            .key(&reader)
            .json(json!({"data": {"attributes": {"note": "x"}}}))
            .send()
            .await,
        app.act(&reader, &inq, "complete").await,
        app.delete(&format!("/api/v1/inquiries/{inq}"))
            .key(&reader)
            .send()
            .await,
        app.verify(&reader, &inq, "selfie", "passed").await,
        app.get("/api/v1/events").key(&reader).send().await,
        app.get("/api/v1/api-keys").key(&reader).send().await,
        app.get("/api/v1/inquiries").key(&writer).send().await,
        app.get(&format!("/api/v1/inquiries/{inq}"))
            .key(&writer)
            .send()
            .await,
    ];
    for r in refused {
        let r = r.expect(403);
        assert_eq!(r.code(), "permission_denied");
    }
    // Nothing changed.
    let i = app.show_inquiry(&org.sandbox, &inq).await;
    assert_eq!(i.attr("status"), "created");
    assert_eq!(i.attr("fields")["name-first"]["value"], "Jane");
    assert_eq!(
        app.event_names(&org.sandbox, None).await,
        ["inquiry.created"]
    );
    // The writer may write.
    app.act(&writer, &inq, "complete").await.expect(200);
}

on_both_backends!(
    a_key_without_the_permission_is_refused_on_every_route,
    reads_and_writes_need_their_own_permission,
);
