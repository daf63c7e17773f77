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
    pub state: tessera_server::edge::state::AppState,
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
        self.app.send_request(req).await
    }
}

impl App {
    /// Sends a request built by hand.
    pub async fn send_request(&self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.unwrap();
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
        tessera_server::worker::for_app(&self.state)
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
    pub async fn event_log(&self, key: &str) -> Vec<String> {
        let mut names = self.event_names(key, None).await;
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

impl Resp {
    /// `source.parameter` of an error document.
    pub fn parameter(&self) -> &str {
        self.json["errors"][0]["source"]["parameter"]
            .as_str()
            .unwrap_or("")
    }

    /// `source.header` of an error document.
    pub fn source_header(&self) -> &str {
        self.json["errors"][0]["source"]["header"]
            .as_str()
            .unwrap_or("")
    }

    /// The resources of a list document.
    pub fn items(&self) -> &[Value] {
        self.json["data"].as_array().map_or(&[], Vec::as_slice)
    }

    /// The ids of a list document, in order.
    pub fn ids(&self) -> Vec<String> {
        self.items()
            .iter()
            .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// A pagination link (`next` or `prev`), if any.
    pub fn link(&self, name: &str) -> Option<String> {
        self.json["links"][name].as_str().map(str::to_owned)
    }
}

/// One part of a hand-built `multipart/form-data` body.
pub struct Part<'a> {
    pub name: &'a str,
    pub filename: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub bytes: Vec<u8>,
}

impl<'a> Part<'a> {
    pub fn text(name: &'a str, value: &str) -> Self {
        Self {
            name,
            filename: None,
            content_type: None,
            bytes: value.as_bytes().to_vec(),
        }
    }

    pub fn file(filename: &'a str, content_type: &'a str, bytes: Vec<u8>) -> Self {
        Self {
            name: "file",
            filename: Some(filename),
            content_type: Some(content_type),
            bytes,
        }
    }
}

pub const BOUNDARY: &str = "tessera-test-boundary-7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body and its content type.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", p.name);
        if let Some(f) = p.filename {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = p.content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&p.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

impl App {
    /// Creates an API key through the operator API and returns its secret.
    pub async fn key_for(&self, org: &Org, environment: &str, permissions: &[&str]) -> String {
        self.post(&format!("/admin/v1/organizations/{}/api-keys", org.id))
            .key(ADMIN)
            .json(serde_json::json!({"data": {"attributes": {
                "environment": environment, "name": "test", "permissions": permissions}}}))
            .send()
            .await
            .expect(201)
            .json["meta"]["secret"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The id of the API key a secret belongs to.
    pub async fn api_key_id(&self, key: &str) -> String {
        self.get("/api/v1/organization")
            .key(key)
            .send()
            .await
            .expect(200)
            .json["meta"]["api-key-id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Every resource of a list endpoint, following `links.next` (pages of 100).
    pub async fn all(&self, key: &str, path: &str) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut url = Some(format!("{path}{sep}page[size]=100"));
        let mut out = Vec::new();
        while let Some(u) = url {
            let r = self.get(&u).key(key).send().await.expect(200);
            out.extend(r.items().iter().cloned());
            url = r.link("next");
        }
        out
    }

    /// The ids of every resource of a list endpoint, in order.
    pub async fn ids(&self, key: &str, path: &str) -> Vec<String> {
        self.all(key, path)
            .await
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The names of every event of the key's environment, newest first (optionally about one
    /// object).
    pub async fn event_names(&self, key: &str, object_id: Option<&str>) -> Vec<String> {
        let path = match object_id {
            Some(id) => format!("/api/v1/events?filter[object-id]={id}"),
            None => "/api/v1/events".to_owned(),
        };
        self.all(key, &path)
            .await
            .iter()
            .map(|e| e["attributes"]["name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Retrieves an inquiry.
    pub async fn show_inquiry(&self, key: &str, id: &str) -> Resp {
        self.get(&format!("/api/v1/inquiries/{id}"))
            .key(key)
            .send()
            .await
            .expect(200)
    }

    /// Records a verification and returns the response.
    pub async fn verify(&self, key: &str, inquiry: &str, kind: &str, status: &str) -> Resp {
        self.post("/api/v1/verifications")
            .key(key)
            .json(serde_json::json!({"data": {"attributes": {
                "inquiry-id": inquiry, "type": kind, "status": status}}}))
            .send()
            .await
    }

    /// Uploads a document and returns the response.
    pub async fn upload(&self, key: &str, inquiry: &str, parts: &[Part<'_>]) -> Resp {
        let (ct, body) = multipart(parts);
        self.post(&format!("/api/v1/inquiries/{inquiry}/documents"))
            .key(key)
            .raw(&ct, body)
            .send()
            .await
    }

    /// Runs a transition (`complete`, `approve`, …) and returns the response.
    pub async fn act(&self, key: &str, inquiry: &str, action: &str) -> Resp {
        self.post(&format!("/api/v1/inquiries/{inquiry}/{action}"))
            .key(key)
            .send()
            .await
    }

    /// Creates a template with only a name and returns its id.
    pub async fn template(&self, key: &str, name: &str) -> String {
        self.post("/api/v1/inquiry-templates")
            .key(key)
            .json(serde_json::json!({"data": {"attributes": {"name": name}}}))
            .send()
            .await
            .expect(201)
            .id()
    }
}

impl Resp {
    /// Asserts an error document with this status and code.
    #[track_caller]
    pub fn refused(self, status: u16, code: &str) -> Self {
        let r = self.expect(status);
        assert_eq!(r.code(), code, "error code; body: {}", r.json);
        r
    }

    /// The id of a relationship of a single-object document (None when null).
    pub fn related(&self, name: &str) -> Option<String> {
        self.json["data"]["relationships"][name]["data"]["id"]
            .as_str()
            .map(str::to_owned)
    }
}

/// Two organizations with an active sandbox connection from `src` to `dst`, and a completed
/// inquiry of `src` to share.
pub struct Connected {
    pub app: App,
    pub src: Org,
    pub dst: Org,
    pub connection: String,
    pub inquiry: String,
}

impl Connected {
    pub async fn new(backend: Backend) -> Self {
        let app = App::new(backend).await;
        let src = app.org("Source").await;
        let dst = app.org("Destination").await;
        let connection = app.active_connection(&src, &dst).await;
        let inquiry = app
            .completed_inquiry(
                &src.sandbox,
                serde_json::json!({"name-first": "Janeczka", "birthdate": "1990-04-01", "address-country-code": "US"}),
            )
            .await;
        Self {
            app,
            src,
            dst,
            connection,
            inquiry,
        }
    }

    /// A new share token of the source inquiry on the connection.
    pub async fn token(&self) -> String {
        self.app
            .share_token(&self.src.sandbox, &self.connection, &self.inquiry)
            .await
    }

    /// Redeems with `body` (as the destination), runs the copy, and returns the token as the
    /// destination then sees it.
    pub async fn redeem_now(&self, token: &str, body: Value) -> Resp {
        self.app
            .redeem_with(&self.dst.sandbox, token, body)
            .await
            .expect(202);
        assert_eq!(self.app.drain().await, 1);
        self.app
            .fetch(&self.dst.sandbox, &Self::token_path(token))
            .await
    }

    /// Redeems a new token of `source` against `template` (or none); returns the copy's id.
    pub async fn copy_of(&self, source: &str, template: Option<&str>) -> String {
        let token = self
            .app
            .share_token(&self.src.sandbox, &self.connection, source)
            .await;
        let body = match template {
            Some(t) => serde_json::json!({"data": {"attributes": {"inquiry-template-id": t}}}),
            None => serde_json::json!({}),
        };
        let t = self.redeem_now(&token, body).await;
        assert_eq!(t.attr("status"), "redeemed", "{}", t.json);
        t.related("destination").unwrap()
    }

    /// The path of a share token.
    pub fn token_path(id: &str) -> String {
        format!("/api/v1/connect/share-tokens/{id}")
    }

    /// What a refused request on a token must leave as it was (both sides' view and events).
    pub async fn token_snapshot(&self, token: &str) -> Vec<Value> {
        self.app
            .snapshot(
                &Self::token_path(token),
                &[&self.src.sandbox, &self.dst.sandbox],
            )
            .await
    }
}

impl App {
    /// Creates a connection from the key's organization to `destination` (any answer).
    pub async fn create_connection(&self, key: &str, destination: &str) -> Resp {
        self.post("/api/v1/connect/connections")
            .key(key)
            .json(serde_json::json!({"data": {"attributes": {"destination-organization-id": destination}}}))
            .send()
            .await
    }

    /// `POST /api/v1/connect/connections/{id}/{action}` (any answer).
    pub async fn connection_action(&self, key: &str, id: &str, action: &str) -> Resp {
        self.post(&format!("/api/v1/connect/connections/{id}/{action}"))
            .key(key)
            .send()
            .await
    }

    /// `POST /api/v1/connect/share-tokens/{id}/{action}` without a body (any answer).
    pub async fn token_action(&self, key: &str, id: &str, action: &str) -> Resp {
        self.post(&format!("/api/v1/connect/share-tokens/{id}/{action}"))
            .key(key)
            .send()
            .await
    }

    /// Redeems a token with a request body (any answer).
    pub async fn redeem_with(&self, key: &str, id: &str, body: Value) -> Resp {
        self.post(&format!("/api/v1/connect/share-tokens/{id}/redeem"))
            .key(key)
            .json(body)
            .send()
            .await
    }

    /// Creates a share token from attributes (any answer).
    pub async fn create_token(&self, key: &str, attributes: Value) -> Resp {
        self.post("/api/v1/connect/share-tokens")
            .key(key)
            .json(serde_json::json!({"data": {"attributes": attributes}}))
            .send()
            .await
    }

    /// `GET path`, expecting 200.
    pub async fn fetch(&self, key: &str, path: &str) -> Resp {
        self.get(path).key(key).send().await.expect(200)
    }

    /// Every event of a key's environment (`data` of each), oldest first.
    pub async fn events(&self, key: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut path = String::from("/api/v1/events?page[size]=100");
        loop {
            let r = self.fetch(key, &path).await;
            out.extend(r.json["data"].as_array().unwrap().iter().cloned());
            match r.json["links"]["next"].as_str() {
                Some(next) => path = next.to_owned(),
                None => break,
            }
        }
        out.reverse();
        out
    }

    /// The events of a key's environment with this name (`data` of each), oldest first.
    pub async fn events_named(&self, key: &str, name: &str) -> Vec<Value> {
        self.events(key)
            .await
            .into_iter()
            .filter(|e| e["attributes"]["name"] == name)
            .collect()
    }

    /// The object as each key sees it at `path`, with how many events each key's environment
    /// has: what a refused request must leave exactly as it was.
    pub async fn snapshot(&self, path: &str, keys: &[&str]) -> Vec<Value> {
        let mut out = Vec::new();
        for key in keys {
            let data = self.fetch(key, path).await.json["data"].clone();
            let events = self.events(key).await.len();
            out.push(serde_json::json!({"data": data, "events": events}));
        }
        out
    }

    /// Records a verification on an inquiry; returns its id.
    pub async fn verification(&self, key: &str, inquiry: &str, attributes: Value) -> String {
        let mut a = attributes;
        a["inquiry-id"] = Value::from(inquiry);
        self.post("/api/v1/verifications")
            .key(key)
            .json(serde_json::json!({"data": {"attributes": a}}))
            .send()
            .await
            .expect(201)
            .id()
    }

    /// Creates an inquiry template; returns its id.
    pub async fn template_with(&self, key: &str, attributes: Value) -> String {
        self.post("/api/v1/inquiry-templates")
            .key(key)
            .json(serde_json::json!({"data": {"attributes": attributes}}))
            .send()
            .await
            .expect(201)
            .id()
    }

    /// RFC 3339 time `days` before the manual clock's now.
    pub fn days_ago(&self, days: i64) -> String {
        use tessera_core::Clock;
        self.db
            .clock
            .now()
            .plus_seconds(-days * 86_400)
            .to_rfc3339()
    }

    /// The manual clock's date `years` years ago (same month and day), `YYYY-MM-DD`.
    pub fn date_years_ago(&self, years: i32) -> String {
        use chrono::Datelike;
        use tessera_core::Clock;
        let today = self.db.clock.now().date();
        let day = if (today.month(), today.day()) == (2, 29) {
            28
        } else {
            today.day()
        };
        format!(
            "{:04}-{:02}-{:02}",
            today.year() - years,
            today.month(),
            day
        )
    }

    /// Runs every due job and returns how many ran.
    pub async fn drain(&self) -> usize {
        self.worker().drain().await.unwrap()
    }

    /// The `share-token` verification of an inquiry: its checks by name, and its status.
    pub async fn share_token_checks(&self, key: &str, inquiry: &str) -> (String, Vec<Value>) {
        let d = self
            .fetch(
                key,
                &format!("/api/v1/inquiries/{inquiry}?include=verifications"),
            )
            .await;
        let v = d.json["included"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == "verification/share-token")
            .unwrap_or_else(|| panic!("no share-token verification: {}", d.json))
            .clone();
        (
            v["attributes"]["status"].as_str().unwrap().to_owned(),
            v["attributes"]["checks"].as_array().unwrap().clone(),
        )
    }
}

/// The check of this name from a list of checks.
#[track_caller]
pub fn check<'a>(checks: &'a [Value], name: &str) -> &'a Value {
    checks
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {checks:?}"))
}

/// The path of a connection.
pub fn connection_path(id: &str) -> String {
    format!("/api/v1/connect/connections/{id}")
}

/// A pending connection from `a` to `b` (sandbox).
pub async fn pending_connection(app: &App, a: &Org, b: &Org) -> String {
    app.create_connection(&a.sandbox, &b.id)
        .await
        .expect(201)
        .id()
}

/// An inactive connection from `a` to `b` (sandbox).
pub async fn inactive_connection(app: &App, a: &Org, b: &Org) -> String {
    let c = pending_connection(app, a, b).await;
    app.connection_action(&a.sandbox, &c, "deactivate")
        .await
        .expect(200);
    c
}

/// Asserts that the last event `name` among `events` is about connection `id`, as the side
/// with `direction` sees it in `status`.
#[track_caller]
pub fn assert_connection_event(
    events: &[Value],
    name: &str,
    id: &str,
    direction: &str,
    status: &str,
) {
    let e = events
        .iter()
        .rev()
        .find(|e| e["attributes"]["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {events:?}"));
    let data = &e["attributes"]["payload"]["data"];
    assert_eq!(data["type"], "connect/connection");
    assert_eq!(data["id"], id);
    assert_eq!(data["attributes"]["direction"], direction, "{name}");
    assert_eq!(data["attributes"]["status"], status, "{name}");
}
