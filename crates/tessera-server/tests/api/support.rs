//! The API test harness: the real router over a fresh database of either backend, called in
//! process, with a manual clock.
#![allow(dead_code)] // a harness: not every test uses every helper

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tessera_server::Config;
use tessera_store::testing::{Backend, TestDb};
use tower::ServiceExt;

pub const ADMIN: &str = "test-admin-token";

pub struct App {
    pub router: Router,
    pub db: TestDb,
    pub state: tessera_server::state::AppState,
}

/// An organization made through the operator API.
#[derive(Debug, Clone)]
pub struct Org {
    pub id: String,
    pub sandbox: String,
    pub production: String,
}

/// A response, with its body parsed when it is JSON.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The error code of an error document.
    pub fn code(&self) -> &str {
        self.json["errors"][0]["code"].as_str().unwrap_or("")
    }

    pub fn pointer(&self) -> &str {
        self.json["errors"][0]["source"]["pointer"]
            .as_str()
            .unwrap_or("")
    }

    pub fn id(&self) -> String {
        self.json["data"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn attr(&self, name: &str) -> &Value {
        &self.json["data"]["attributes"][name]
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.json
        );
        if status >= 400 {
            assert_eq!(
                self.json["errors"][0]["status"], status,
                "error document status: {}",
                self.json
            );
        }
        self
    }
}

/// A request under construction.
pub struct Call<'a> {
    app: &'a App,
    req: http::request::Builder,
    body: Body,
}

impl Call<'_> {
    pub fn key(mut self, key: &str) -> Self {
        self.req = self.req.header("authorization", format!("Bearer {key}"));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.req = self.req.header(name, value);
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.req = self.req.header("content-type", "application/json");
        self.body = Body::from(body.to_string());
        self
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.req = self.req.header("content-type", content_type);
        self.body = Body::from(body.into());
        self
    }

    pub async fn send(self) -> Resp {
        let req = self.req.body(self.body).unwrap();
        let res = self.app.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            bytes,
            json,
        }
    }
}

impl App {
    pub async fn new(backend: Backend) -> Self {
        Self::with_config(backend, |_| {}).await
    }

    pub async fn with_config(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let db = TestDb::new(backend).await;
        let mut config = Config {
            admin_token: Some(ADMIN.into()),
            rate_limit_per_minute: 0,
            ..Config::default()
        };
        tweak(&mut config);
        let (router, state) = tessera_server::app::build(db.store.clone(), config)
            .await
            .unwrap();
        Self { router, db, state }
    }

    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            app: self,
            req: Request::builder().method(method).uri(path),
            body: Body::empty(),
        }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.call(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call<'_> {
        self.call(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> Call<'_> {
        self.call(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> Call<'_> {
        self.call(Method::DELETE, path)
    }

    /// Creates an organization through the operator API.
    pub async fn org(&self, name: &str) -> Org {
        let r = self
            .post("/admin/v1/organizations")
            .key(ADMIN)
            .json(serde_json::json!({"data": {"attributes": {"name": name}}}))
            .send()
            .await
            .expect(201);
        Org {
            id: r.id(),
            sandbox: r.json["meta"]["api-keys"]["sandbox"]
                .as_str()
                .unwrap()
                .to_owned(),
            production: r.json["meta"]["api-keys"]["production"]
                .as_str()
                .unwrap()
                .to_owned(),
        }
    }

    /// A worker over this app's store, driven by the test (`drain`, `housekeeping`).
    pub fn worker(&self) -> tessera_server::worker::Worker {
        tessera_server::worker::Worker::new(self.db.store.clone())
    }

    /// An active connection from `source` to `destination` (sandbox), made through the API.
    pub async fn active_connection(&self, source: &Org, destination: &Org) -> String {
        let c = self
            .post("/api/v1/connect/connections")
            .key(&source.sandbox)
            .json(serde_json::json!({"data": {"attributes": {"destination-organization-id": destination.id}}}))
            .send()
            .await
            .expect(201)
            .id();
        self.post(&format!("/api/v1/connect/connections/{c}/activate"))
            .key(&destination.sandbox)
            .send()
            .await
            .expect(200);
        c
    }

    /// A completed inquiry with the given fields.
    pub async fn completed_inquiry(&self, key: &str, fields: Value) -> String {
        let id = self.inquiry(key, fields).await;
        self.post(&format!("/api/v1/inquiries/{id}/complete"))
            .key(key)
            .send()
            .await
            .expect(200);
        id
    }

    /// Creates a share token and returns its id.
    pub async fn share_token(&self, key: &str, connection: &str, inquiry: &str) -> String {
        self.post("/api/v1/connect/share-tokens")
            .key(key)
            .json(serde_json::json!({"data": {"attributes": {"connection-id": connection, "source-id": inquiry}}}))
            .send()
            .await
            .expect(201)
            .id()
    }

    /// The names of the events an API key's environment has, oldest first.
    pub async fn event_names(&self, key: &str) -> Vec<String> {
        let r = self
            .get("/api/v1/events?page[size]=100")
            .key(key)
            .send()
            .await
            .expect(200);
        let mut names: Vec<String> = r.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["attributes"]["name"].as_str().unwrap().to_owned())
            .collect();
        names.reverse();
        names
    }

    /// Creates an inquiry with the given fields and returns its id.
    pub async fn inquiry(&self, key: &str, fields: Value) -> String {
        self.post("/api/v1/inquiries")
            .key(key)
            .json(serde_json::json!({"data": {"attributes": {"fields": fields}}}))
            .send()
            .await
            .expect(201)
            .id()
    }
}
