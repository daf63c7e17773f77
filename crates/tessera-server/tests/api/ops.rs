//! §5 operations endpoints.

use serde_json::json;
use tessera_server::edge::permissions::list_routes;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::App;

async fn health_and_readiness(backend: Backend) {
    let app = App::new(backend).await;
    let r = app.get("/healthz").send().await.expect(200);
    assert!(r.header("request-id").is_some());
    app.get("/readyz").send().await.expect(200);
    // A database that does not answer is not ready; the process is still up.
    app.db.store.close().await;
    let r = app.get("/readyz").send().await.expect(503);
    assert_eq!(r.code(), "unavailable");
    app.get("/healthz").send().await.expect(200);
}

async fn metrics_count_requests_by_route(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let inq = app.inquiry(&org.sandbox, json!({})).await;
    app.show_inquiry(&org.sandbox, &inq).await;
    app.get("/api/v1/inquiries/inq_0000000000000000000000")
        .key(&org.sandbox)
        .send()
        .await
        .expect(404);
    app.get("/no/such/route").send().await.expect(404);
    let r = app.get("/metrics").send().await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = String::from_utf8(r.bytes).unwrap();
    let line = |route: &str, status: &str| {
        text.lines().any(|l| {
            l.starts_with("tessera_http_requests_total{")
                && l.contains(&format!("route=\"{route}\""))
                && l.contains(&format!("status=\"{status}\""))
        })
    };
    assert!(line("/api/v1/inquiries", "201"), "{text}");
    assert!(line("/api/v1/inquiries/{id}", "200"), "{text}");
    assert!(line("/api/v1/inquiries/{id}", "404"), "{text}");
    assert!(line("/admin/v1/organizations", "201"), "{text}");
    assert!(line("unmatched", "404"), "{text}");
    assert!(!text.contains(&inq), "ids never become labels");
    assert!(text.contains("tessera_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = App::new(Backend::Sqlite).await;
    let r = app.get("/api/v1/openapi.json").send().await.expect(200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let doc = &r.json;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    let listed: Vec<String> = list_routes(&tessera_server::app::openapi())
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let served: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{} {path}", m.to_ascii_uppercase()))
        })
        .collect();
    assert_eq!(served, listed);
    let expected = [
        "GET /api/v1/organization",
        "GET /api/v1/api-keys",
        "POST /api/v1/api-keys",
        "POST /api/v1/api-keys/{id}/expire",
        "GET /api/v1/inquiry-templates",
        "POST /api/v1/inquiry-templates",
        "GET /api/v1/inquiry-templates/{id}",
        "GET /api/v1/inquiries",
        "POST /api/v1/inquiries",
        "GET /api/v1/inquiries/{id}",
        "PATCH /api/v1/inquiries/{id}",
        "DELETE /api/v1/inquiries/{id}",
        "POST /api/v1/inquiries/{id}/complete",
        "POST /api/v1/inquiries/{id}/approve",
        "POST /api/v1/inquiries/{id}/decline",
        "POST /api/v1/inquiries/{id}/mark-for-review",
        "POST /api/v1/inquiries/{id}/expire",
        "POST /api/v1/inquiries/{id}/fail",
        "POST /api/v1/verifications",
        "GET /api/v1/verifications/{id}",
        "POST /api/v1/inquiries/{id}/documents",
        "GET /api/v1/documents/{id}",
        "GET /api/v1/documents/{id}/file",
        "GET /api/v1/events",
        "GET /api/v1/events/{id}",
    ];
    for route in expected {
        assert!(
            served.iter().any(|s| s == route),
            "{route} is not described"
        );
    }
    // Every described route is served (not a 404 from the router).
    let org = app.org("Acme").await;
    for route in &served {
        let (method, path) = route.split_once(' ').unwrap();
        let path = path.replace("{id}", "x");
        let r = app
            .call(method.parse().unwrap(), &path)
            .key(&org.sandbox)
            .send()
            .await;
        assert_ne!(r.code(), "route_not_found", "{route}");
        assert_ne!(r.status, 405, "{route}");
    }
}

on_both_backends!(health_and_readiness, metrics_count_requests_by_route);
