//! The authorization matrix: every route of the tenant API — read from the router's own OpenAPI
//! document, so a new route cannot escape it — called by every kind of caller, with real ids of
//! the owner's objects in its path and body; and every operator route × {operator token, tenant
//! key, none}.
//!
//! What each cell asserts (the contract's §1 "auth", "permissions", "visibility", §3.4–3.5 "who"):
//!
//! | caller | expected |
//! |---|---|
//! | owner (the organization and environment the object lives in) | the route's success status, or 403 where the owner is the wrong side (§3.4, §3.5) |
//! | partner (the other side of the owner's connection) | 404 for the owner's objects, except connections and share tokens, which it sees: then success, or 403 on the wrong side |
//! | third organization, owner's other environment | 404 `not_found` for the owner's objects; collections answer with the caller's own (nothing of the owner's) |
//! | owner's key without the route's permission | 403 `permission_denied` |
//! | third organization's key without the route's permission | 403 `permission_denied` too: the gate checks the permission before any object is looked up, so the 403 says nothing about the object (no probing) |
//! | no key, operator token | 401 with `WWW-Authenticate: Bearer` |
//!
//! A refused call changes nothing (the owner's view of the object and its newest event stay the
//! same), and no response to anyone but the owner contains an id, a secret or a piece of personal
//! data of the owner's that the caller may not see. A route the matrix does not know how to fill
//! fails the test.

use std::collections::{HashMap, HashSet};

use http::Method;
use serde_json::{Value, json};
use tessera_core::permission::Permission;
use tessera_server::edge::permissions::{Access, list_routes};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{ADMIN, App, Org, Part, Resp, multipart};

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Owner,
    Partner,
    Third,
    OtherEnvironment,
    Lacking,
    ThirdLacking,
    NoKey,
    Operator,
}

/// The personal data of the owner's objects: no one else may ever see one of these.
const PII: &[&str] = &[
    "Zbigniewa",
    "Okonkwo-Leclair",
    "1987-03-14",
    "PII-ID-99887766",
    "zbigniewa@owner.example",
    "private note 7f3a",
    "passport-scan-7f3a",
    "DOCBYTES-7f3a",
];

/// A request: path, optional body (content type, bytes).
#[derive(Debug, Clone)]
struct Req {
    path: String,
    body: Option<(String, Vec<u8>)>,
}

impl Req {
    fn bare(path: String) -> Self {
        Self { path, body: None }
    }

    fn json(path: String, body: Value) -> Self {
        Self {
            path,
            body: Some(("application/json".into(), body.to_string().into_bytes())),
        }
    }
}

/// What a route is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Names an object of the owner's (in the path or the body): strangers get 404.
    Object,
    /// A collection or the caller itself: every caller gets its own.
    Own,
}

/// One route, filled in.
struct Cell {
    req: Req,
    kind: Kind,
    /// The owner's status.
    owner: u16,
    /// The partner's status (404 for objects it cannot see).
    partner: u16,
    /// The partner of this cell, when it is not the fixture's.
    partner_key: Option<String>,
    /// What a third organization and the owner's other environment get, when it is not 404
    /// for an object (and the owner's status otherwise).
    stranger: Option<u16>,
    /// The owner's view of the object, compared before and after refused calls.
    watch: Option<String>,
}

impl Cell {
    fn object(req: Req, owner: u16, watch: impl Into<Option<String>>) -> Self {
        Self {
            req,
            kind: Kind::Object,
            owner,
            partner: 404,
            partner_key: None,
            stranger: None,
            watch: watch.into(),
        }
    }

    fn own(req: Req, owner: u16) -> Self {
        Self {
            req,
            kind: Kind::Own,
            owner,
            partner: owner,
            partner_key: None,
            stranger: None,
            watch: None,
        }
    }

    fn stranger(mut self, status: u16) -> Self {
        self.stranger = Some(status);
        self
    }

    fn partner(mut self, status: u16) -> Self {
        self.partner = status;
        self
    }

    fn partner_key(mut self, key: String) -> Self {
        self.partner_key = Some(key);
        self
    }
}

struct Fixture {
    app: App,
    owner: Org,
    partner: Org,
    third: Org,
    /// The owner's active connection to the partner.
    connection: String,
    /// What no one but the owner may see.
    secret: HashSet<String>,
    /// What the owner's partners may see of it besides (connections, tokens, token sources).
    shared: HashSet<String>,
    /// Keys with every permission but one: (owner's, third's).
    lacking: HashMap<Permission, (String, String)>,
}

impl Fixture {
    async fn new(backend: Backend) -> Self {
        let app = App::with_config(backend, |c| {
            c.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
        })
        .await;
        let owner = app.org("Owner").await;
        let partner = app.org("Partner").await;
        let third = app.org("Third").await;
        let connection = app.active_connection(&owner, &partner).await;
        let mut f = Self {
            app,
            owner,
            partner,
            third,
            connection: connection.clone(),
            secret: PII.iter().map(|s| (*s).to_owned()).collect(),
            shared: HashSet::new(),
            lacking: HashMap::new(),
        };
        f.secret.insert(f.owner.sandbox.clone());
        f.secret.insert(f.owner.production.clone());
        f.shared.insert(connection);
        let me = f.app.api_key_id(&f.owner.sandbox).await;
        f.secret.insert(me);
        f
    }

    fn o(&self) -> &str {
        &self.owner.sandbox
    }

    /// Records an id of the owner's (no stranger may see it) and returns it.
    fn mine(&mut self, id: String) -> String {
        assert!(!id.is_empty());
        self.secret.insert(id.clone());
        id
    }

    /// Records an id the owner's partners may see.
    fn shared(&mut self, id: String) -> String {
        self.shared.insert(id.clone());
        self.mine(id)
    }

    async fn post(&mut self, path: &str, body: Value, status: u16) -> Resp {
        let r = self
            .app
            .post(path)
            .key(&self.owner.sandbox)
            .json(body)
            .send()
            .await
            .expect(status);
        self.collect(&r.json);
        r
    }

    /// Remembers every id and secret in an owner's response.
    fn collect(&mut self, v: &Value) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    if let (true, Some(s)) = (k == "id" || k == "secret", v.as_str()) {
                        self.secret.insert(s.to_owned());
                    }
                    self.collect(v);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.collect(v)),
            _ => {}
        }
    }

    /// A new inquiry of the owner's, full of personal data, in status `created`.
    async fn inquiry(&mut self) -> String {
        let id = self
            .post(
                "/api/v1/inquiries",
                json!({"data": {"attributes": {"note": "private note 7f3a", "fields": {
                    "name-first": "Zbigniewa", "name-last": "Okonkwo-Leclair",
                    "birthdate": "1987-03-14", "identification-number": "PII-ID-99887766",
                    "email-address": "zbigniewa@owner.example"}}}}),
                201,
            )
            .await
            .id();
        self.mine(id)
    }

    async fn verification(&mut self, inquiry: &str) -> String {
        let id = self
            .post(
                "/api/v1/verifications",
                json!({"data": {"attributes": {"inquiry-id": inquiry, "type": "government-id",
                    "status": "passed", "attributes": {"name-first": "Zbigniewa",
                    "identification-number": "PII-ID-99887766"}}}}),
                201,
            )
            .await
            .id();
        self.mine(id)
    }

    async fn document(&mut self, inquiry: &str) -> String {
        let r = self
            .app
            .upload(
                &self.owner.sandbox,
                inquiry,
                &[
                    Part::text("kind", "government-id-front"),
                    Part::file(
                        "passport-scan-7f3a.png",
                        "image/png",
                        b"DOCBYTES-7f3a".to_vec(),
                    ),
                ],
            )
            .await
            .expect(201);
        self.collect(&r.json);
        r.id()
    }

    /// A completed inquiry with a verification and a document.
    async fn completed(&mut self) -> String {
        let id = self.inquiry().await;
        self.verification(&id).await;
        self.document(&id).await;
        self.post(&format!("/api/v1/inquiries/{id}/complete"), json!({}), 200)
            .await;
        id
    }

    async fn template(&mut self) -> String {
        let id = self
            .post(
                "/api/v1/inquiry-templates",
                json!({"data": {"attributes": {"name": "owner template",
                    "required-fields": ["name-first"]}}}),
                201,
            )
            .await
            .id();
        self.mine(id)
    }

    async fn api_key(&mut self) -> String {
        let id = self
            .post(
                "/api/v1/api-keys",
                json!({"data": {"attributes": {"name": "extra"}}}),
                201,
            )
            .await
            .id();
        self.mine(id)
    }

    async fn webhook(&mut self) -> String {
        let id = self
            .post(
                "/api/v1/webhooks",
                json!({"data": {"attributes": {"url": "http://127.0.0.1:9/owner-hook",
                    "enabled-events": ["inquiry.created"]}}}),
                201,
            )
            .await
            .id();
        self.mine(id)
    }

    /// A delivery that may be retried: made pending, canceled by disabling its webhook, which
    /// is enabled again.
    async fn canceled_delivery(&mut self) -> (String, String) {
        let webhook = self.webhook().await;
        self.inquiry().await;
        for action in ["disable", "enable"] {
            self.post(
                &format!("/api/v1/webhooks/{webhook}/{action}"),
                json!({}),
                200,
            )
            .await;
        }
        let list = self
            .app
            .fetch(self.o(), &format!("/api/v1/webhooks/{webhook}/deliveries"))
            .await;
        self.collect(&list.json);
        let delivery = list.ids()[0].clone();
        assert_eq!(list.items()[0]["attributes"]["status"], "canceled");
        (webhook, delivery)
    }

    /// A workflow that never starts by itself (its condition never holds).
    async fn workflow(&mut self) -> String {
        let id = self
            .post(
                "/api/v1/workflows",
                json!({"data": {"attributes": {"name": "owner workflow",
                    "trigger": {"event": "inquiry.approved",
                                "conditions": [{"path": "/data/attributes/reference-id", "op": "eq", "value": "never"}]},
                    "steps": [{"type": "tag-inquiry", "tag": "owner-tag"}]}}}),
                201,
            )
            .await
            .id();
        self.mine(id)
    }

    async fn run(&mut self) -> String {
        let workflow = self.workflow().await;
        let inquiry = self.inquiry().await;
        let id = self
            .post(
                &format!("/api/v1/workflows/{workflow}/trigger"),
                json!({"data": {"attributes": {"object-id": inquiry}}}),
                201,
            )
            .await
            .id();
        self.mine(id)
    }

    /// A share token of a completed inquiry on the connection to the partner.
    async fn token(&mut self) -> String {
        let inquiry = self.completed().await;
        self.shared(inquiry.clone());
        // The destination's masked preview names the source's verifications (API.md §3.5).
        let source = self
            .app
            .fetch(self.o(), &format!("/api/v1/inquiries/{inquiry}"))
            .await;
        let verifications: Vec<String> =
            source.json["data"]["relationships"]["verifications"]["data"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["id"].as_str().map(str::to_owned))
                .collect();
        for v in verifications {
            self.shared(v);
        }
        let connection = self.connection.clone();
        let id = self
            .post(
                "/api/v1/connect/share-tokens",
                json!({"data": {"attributes": {"connection-id": connection, "source-id": inquiry}}}),
                201,
            )
            .await
            .id();
        self.shared(id)
    }

    /// A connection from the owner to a new partner organization (a pair has one open
    /// connection at most), in `status`; returns it with the partner's key.
    async fn connection_in(&mut self, status: &str) -> (String, String) {
        let partner = self.app.org("Another partner").await;
        let id = self
            .post(
                "/api/v1/connect/connections",
                json!({"data": {"attributes": {"destination-organization-id": partner.id}}}),
                201,
            )
            .await
            .id();
        let id = self.shared(id);
        match status {
            "pending" => {}
            "active" => {
                self.app
                    .connection_action(&partner.sandbox, &id, "activate")
                    .await
                    .expect(200);
            }
            "inactive" => {
                self.post(
                    &format!("/api/v1/connect/connections/{id}/deactivate"),
                    json!({}),
                    200,
                )
                .await;
            }
            other => panic!("{other}"),
        }
        (id, partner.sandbox)
    }

    /// A key of `org` with every permission but `p`.
    async fn lacking(&mut self, p: Permission) -> (String, String) {
        if let Some(k) = self.lacking.get(&p) {
            return k.clone();
        }
        let names: Vec<&str> = Permission::ALL
            .iter()
            .filter(|q| **q != p)
            .map(|q| q.as_str())
            .collect();
        let (owner, third) = (self.owner.clone(), self.third.clone());
        let keys = (
            self.app.key_for(&owner, "sandbox", &names).await,
            self.app.key_for(&third, "sandbox", &names).await,
        );
        self.secret.insert(keys.0.clone());
        self.lacking.insert(p, keys.clone());
        keys
    }

    /// Fills a route: real objects of the owner's for its path and body, made fresh for it.
    /// Most routes make one cell; a route with a variant that changes who may call it (a share
    /// token's masked preview) makes one per variant.
    async fn fill(&mut self, method: &Method, path: &str) -> Vec<Cell> {
        if (method.as_str(), path) == ("GET", "/api/v1/connect/share-tokens/{id}") {
            let id = self.token().await;
            let p = format!("/api/v1/connect/share-tokens/{id}");
            return vec![
                Cell::object(Req::bare(p.clone()), 200, p.clone()).partner(200),
                // The preview is the destination's alone: the source gets the token without
                // `source-data` (share_token_views.rs checks that it is left out).
                Cell::object(Req::bare(format!("{p}?peek-source-data=true")), 200, p).partner(200),
            ];
        }
        vec![self.fill_one(method, path).await]
    }

    async fn fill_one(&mut self, method: &Method, path: &str) -> Cell {
        let get = *method == Method::GET;
        match (method.as_str(), path) {
            ("GET", "/api/v1/organization") => Cell::own(Req::bare(path.into()), 200),
            ("GET", "/api/v1/api-keys") => Cell::own(Req::bare(path.into()), 200),
            ("POST", "/api/v1/api-keys") => Cell::own(
                Req::json(
                    path.into(),
                    json!({"data": {"attributes": {"name": "mine", "permissions": ["inquiry.read"]}}}),
                ),
                201,
            ),
            ("POST", "/api/v1/api-keys/{id}/expire") => {
                let id = self.api_key().await;
                Cell::object(
                    Req::bare(format!("/api/v1/api-keys/{id}/expire")),
                    200,
                    None,
                )
            }
            ("GET", "/api/v1/inquiry-templates") => Cell::own(Req::bare(path.into()), 200),
            ("POST", "/api/v1/inquiry-templates") => Cell::own(
                Req::json(
                    path.into(),
                    json!({"data": {"attributes": {"name": "mine"}}}),
                ),
                201,
            ),
            ("GET" | "PATCH", "/api/v1/inquiry-templates/{id}") => {
                let id = self.template().await;
                let p = format!("/api/v1/inquiry-templates/{id}");
                let req = if get {
                    Req::bare(p.clone())
                } else {
                    Req::json(
                        p.clone(),
                        json!({"data": {"attributes": {"minimum-age": 21, "allowed-countries": ["DE"]}}}),
                    )
                };
                Cell::object(req, 200, p)
            }
            ("GET", "/api/v1/inquiries") => {
                // Filtering by the owner's template shows strangers nothing.
                let t = self.template().await;
                Cell::own(
                    Req::bare(format!("/api/v1/inquiries?filter[inquiry-template-id]={t}")),
                    200,
                )
            }
            ("POST", "/api/v1/inquiries") => {
                // The owner's template in the body: strangers cannot use it.
                let t = self.template().await;
                Cell::object(
                    Req::json(
                        path.into(),
                        json!({"data": {"attributes": {"inquiry-template-id": t}}}),
                    ),
                    201,
                    None,
                )
            }
            ("GET" | "PATCH" | "DELETE", "/api/v1/inquiries/{id}") => {
                let id = self.completed().await;
                let p = format!("/api/v1/inquiries/{id}");
                let req = match method.as_str() {
                    "GET" => Req::bare(format!("{p}?include=verifications,documents")),
                    "PATCH" => Req::json(
                        p.clone(),
                        json!({"data": {"attributes": {"note": "changed", "fields": {"name-first": "Other"}}}}),
                    ),
                    _ => Req::bare(p.clone()),
                };
                Cell::object(req, 200, p)
            }
            ("POST", "/api/v1/inquiries/{id}/complete") => {
                let id = self.inquiry().await;
                self.verification(&id).await;
                let p = format!("/api/v1/inquiries/{id}");
                Cell::object(Req::bare(format!("{p}/complete")), 200, p)
            }
            (
                "POST",
                "/api/v1/inquiries/{id}/approve"
                | "/api/v1/inquiries/{id}/decline"
                | "/api/v1/inquiries/{id}/mark-for-review",
            ) => {
                let id = self.completed().await;
                let p = format!("/api/v1/inquiries/{id}");
                let action = path.rsplit('/').next().unwrap();
                Cell::object(Req::bare(format!("{p}/{action}")), 200, p)
            }
            (
                "POST",
                "/api/v1/inquiries/{id}/add-tag"
                | "/api/v1/inquiries/{id}/remove-tag"
                | "/api/v1/inquiries/{id}/set-tags",
            ) => {
                let id = self.inquiry().await;
                let p = format!("/api/v1/inquiries/{id}");
                let action = path.rsplit('/').next().unwrap();
                let meta = if action == "set-tags" {
                    json!({"tag-name": ["a", "b"]})
                } else {
                    json!({"tag-name": "a"})
                };
                Cell::object(
                    Req::json(format!("{p}/{action}"), json!({ "meta": meta })),
                    200,
                    p,
                )
            }
            ("POST", "/api/v1/inquiries/{id}/expire" | "/api/v1/inquiries/{id}/fail") => {
                let id = self.inquiry().await;
                let p = format!("/api/v1/inquiries/{id}");
                let action = path.rsplit('/').next().unwrap();
                Cell::object(Req::bare(format!("{p}/{action}")), 200, p)
            }
            ("POST", "/api/v1/verifications") => {
                let id = self.inquiry().await;
                Cell::object(
                    Req::json(
                        path.into(),
                        json!({"data": {"attributes": {"inquiry-id": id, "type": "selfie", "status": "passed"}}}),
                    ),
                    201,
                    format!("/api/v1/inquiries/{id}"),
                )
            }
            ("GET", "/api/v1/verifications/{id}") => {
                let inquiry = self.inquiry().await;
                let id = self.verification(&inquiry).await;
                Cell::object(Req::bare(format!("/api/v1/verifications/{id}")), 200, None)
            }
            ("POST", "/api/v1/inquiries/{id}/documents") => {
                let id = self.inquiry().await;
                let (ct, body) = multipart(&[
                    Part::text("kind", "selfie"),
                    Part::file("x.png", "image/png", b"x".to_vec()),
                ]);
                Cell::object(
                    Req {
                        path: format!("/api/v1/inquiries/{id}/documents"),
                        body: Some((ct, body)),
                    },
                    201,
                    format!("/api/v1/inquiries/{id}"),
                )
            }
            ("GET", "/api/v1/documents/{id}" | "/api/v1/documents/{id}/file") => {
                let inquiry = self.inquiry().await;
                let id = self.document(&inquiry).await;
                Cell::object(Req::bare(path.replace("{id}", &id)), 200, None)
            }
            ("GET", "/api/v1/events") => {
                let inquiry = self.inquiry().await;
                Cell::own(
                    Req::bare(format!("/api/v1/events?filter[object-id]={inquiry}")),
                    200,
                )
            }
            ("GET", "/api/v1/events/{id}") => {
                self.inquiry().await;
                let r = self
                    .app
                    .fetch(self.o(), "/api/v1/events?page[size]=1")
                    .await;
                let id = r.ids()[0].clone();
                let id = self.mine(id);
                Cell::object(Req::bare(format!("/api/v1/events/{id}")), 200, None)
            }
            ("GET", "/api/v1/connect/connections") => Cell::own(Req::bare(path.into()), 200),
            ("POST", "/api/v1/connect/connections") => {
                // Every caller asks a newcomer for a connection of its own.
                let newcomer = self.app.org("Newcomer").await;
                Cell::own(
                    Req::json(
                        path.into(),
                        json!({"data": {"attributes": {"destination-organization-id": newcomer.id}}}),
                    ),
                    201,
                )
            }
            ("GET", "/api/v1/connect/connections/{id}") => {
                let p = format!("/api/v1/connect/connections/{}", self.connection);
                Cell::object(Req::bare(p.clone()), 200, p).partner(200)
            }
            ("POST", "/api/v1/connect/connections/{id}/activate") => {
                let (id, partner) = self.connection_in("pending").await;
                let p = format!("/api/v1/connect/connections/{id}");
                // Only the destination activates.
                Cell::object(Req::bare(format!("{p}/activate")), 403, p)
                    .partner(200)
                    .partner_key(partner)
            }
            ("POST", "/api/v1/connect/connections/{id}/deactivate") => {
                let (id, partner) = self.connection_in("active").await;
                let p = format!("/api/v1/connect/connections/{id}");
                Cell::object(Req::bare(format!("{p}/deactivate")), 200, p)
                    .partner(200)
                    .partner_key(partner)
            }
            ("POST", "/api/v1/connect/connections/{id}/reactivate") => {
                let (id, partner) = self.connection_in("inactive").await;
                let p = format!("/api/v1/connect/connections/{id}");
                // Only the source reactivates.
                Cell::object(Req::bare(format!("{p}/reactivate")), 200, p)
                    .partner(403)
                    .partner_key(partner)
            }
            ("GET", "/api/v1/connect/share-tokens") => Cell::own(
                Req::bare(format!(
                    "/api/v1/connect/share-tokens?filter[connection-id]={}",
                    self.connection
                )),
                200,
            ),
            ("POST", "/api/v1/connect/share-tokens") => {
                let inquiry = self.completed().await;
                // The owner's token will show it to the partner as its source.
                self.shared.insert(inquiry.clone());
                let connection = self.connection.clone();
                // The partner sees the connection but is its destination: the wrong side.
                Cell::object(
                    Req::json(
                        path.into(),
                        json!({"data": {"attributes": {"connection-id": connection, "source-id": inquiry}}}),
                    ),
                    201,
                    format!("/api/v1/inquiries/{inquiry}"),
                )
                // Persona documents no 404 here: a connection the caller cannot see is 422.
                .stranger(422)
                .partner(403)
            }
            ("POST", "/api/v1/connect/share-tokens/batch") => {
                let inquiry = self.completed().await;
                self.shared.insert(inquiry.clone());
                let connection = self.connection.clone();
                // As a single create: a connection strangers cannot see is 422, the partner is
                // its destination (the wrong side).
                Cell::object(
                    Req::json(
                        path.into(),
                        json!({"data": {"attributes": {"connection-id": connection,
                            "items": [{"source-id": inquiry}]}}}),
                    ),
                    202,
                    format!("/api/v1/inquiries/{inquiry}"),
                )
                .stranger(422)
                .partner(403)
            }
            ("POST", "/api/v1/connect/share-tokens/batch-redeem") => {
                // Every caller gets a batch of its own; a token it may not redeem fails its item
                // when processed (as a single redeem would answer), never the request.
                let id = self.token().await;
                Cell::own(
                    Req::json(
                        path.into(),
                        json!({"data": {"attributes": {"items": [{"share-token-id": id}]}}}),
                    ),
                    202,
                )
            }
            (
                "GET",
                "/api/v1/connect/share-token-batches/{id}"
                | "/api/v1/connect/share-token-batches/{id}/items",
            ) => {
                let inquiry = self.completed().await;
                let connection = self.connection.clone();
                let id = self
                    .post(
                        "/api/v1/connect/share-tokens/batch",
                        json!({"data": {"attributes": {"connection-id": connection,
                            "items": [{"source-id": inquiry}]}}}),
                        202,
                    )
                    .await
                    .id();
                let id = self.mine(id);
                Cell::object(Req::bare(path.replace("{id}", &id)), 200, None)
            }
            ("POST", "/api/v1/connect/share-tokens/{id}/redeem") => {
                let id = self.token().await;
                let p = format!("/api/v1/connect/share-tokens/{id}");
                // Only the destination redeems.
                Cell::object(Req::bare(format!("{p}/redeem")), 403, p).partner(202)
            }
            ("GET", "/api/v1/connect/share-tokens/{id}/receipt") => {
                // A receipt holds the data copied, which after the redemption is the
                // destination's too: here another organization shares with the owner and the
                // owner redeems; the owner holds the receipt, the partner (no side) does not.
                let sharer = self.app.org("Sharer").await;
                let owner = self.owner.clone();
                let back = self.app.active_connection(&sharer, &owner).await;
                let inquiry = self
                    .app
                    .completed_inquiry(&sharer.sandbox, json!({"name-first": "Sharerina"}))
                    .await;
                let id = self.app.share_token(&sharer.sandbox, &back, &inquiry).await;
                self.app
                    .redeem_with(self.o(), &id, json!({}))
                    .await
                    .expect(202);
                self.app.drain().await;
                let p = format!("/api/v1/connect/share-tokens/{id}");
                Cell::object(Req::bare(format!("{p}/receipt")), 200, p).partner(404)
            }
            ("GET", "/api/v1/connect/share-tokens/{id}/manifest") => {
                let id = self.token().await;
                let p = format!("/api/v1/connect/share-tokens/{id}");
                // The preview manifest is the destination's alone.
                Cell::object(Req::bare(format!("{p}/manifest")), 403, p).partner(200)
            }
            ("POST", "/api/v1/connect/share-tokens/{id}/expire") => {
                let id = self.token().await;
                let p = format!("/api/v1/connect/share-tokens/{id}");
                Cell::object(Req::bare(format!("{p}/expire")), 200, p).partner(200)
            }
            ("GET", "/api/v1/webhooks") => Cell::own(Req::bare(path.into()), 200),
            ("POST", "/api/v1/webhooks") => Cell::own(
                Req::json(
                    path.into(),
                    json!({"data": {"attributes": {"url": "http://127.0.0.1:9/mine", "enabled-events": ["*"]}}}),
                ),
                201,
            ),
            ("GET" | "PATCH", "/api/v1/webhooks/{id}") => {
                let id = self.webhook().await;
                let p = format!("/api/v1/webhooks/{id}");
                let req = if get {
                    Req::bare(p.clone())
                } else {
                    Req::json(
                        p.clone(),
                        json!({"data": {"attributes": {"url": "http://127.0.0.1:9/changed"}}}),
                    )
                };
                Cell::object(req, 200, p)
            }
            (
                "POST",
                "/api/v1/webhooks/{id}/enable"
                | "/api/v1/webhooks/{id}/disable"
                | "/api/v1/webhooks/{id}/archive"
                | "/api/v1/webhooks/{id}/rotate-secret"
                | "/api/v1/webhooks/{id}/clone",
            ) => {
                let id = self.webhook().await;
                let action = path.rsplit('/').next().unwrap();
                if action == "enable" {
                    self.post(&format!("/api/v1/webhooks/{id}/disable"), json!({}), 200)
                        .await;
                }
                let p = format!("/api/v1/webhooks/{id}");
                Cell::object(Req::bare(format!("{p}/{action}")), 200, p)
            }
            ("GET", "/api/v1/webhooks/{id}/deliveries") => {
                let (webhook, _) = self.canceled_delivery().await;
                Cell::object(
                    Req::bare(format!("/api/v1/webhooks/{webhook}/deliveries")),
                    200,
                    None,
                )
            }
            (
                "GET" | "POST",
                "/api/v1/webhook-deliveries/{id}" | "/api/v1/webhook-deliveries/{id}/retry",
            ) => {
                let (_, delivery) = self.canceled_delivery().await;
                let p = format!("/api/v1/webhook-deliveries/{delivery}");
                let req = Req::bare(path.replace("{id}", &delivery));
                Cell::object(req, 200, p)
            }
            ("GET", "/api/v1/workflows") => Cell::own(Req::bare(path.into()), 200),
            ("POST", "/api/v1/workflows") => Cell::own(
                Req::json(
                    path.into(),
                    json!({"data": {"attributes": {"trigger": {"event": "inquiry.approved",
                        "conditions": [{"path": "/data/id", "op": "eq", "value": "none"}]},
                        "steps": [{"type": "tag-inquiry", "tag": "x"}]}}}),
                ),
                201,
            ),
            ("GET" | "PATCH", "/api/v1/workflows/{id}") => {
                let id = self.workflow().await;
                let p = format!("/api/v1/workflows/{id}");
                let req = if get {
                    Req::bare(p.clone())
                } else {
                    Req::json(
                        p.clone(),
                        json!({"data": {"attributes": {"name": "renamed"}}}),
                    )
                };
                Cell::object(req, 200, p)
            }
            ("POST", "/api/v1/workflows/{id}/trigger") => {
                let id = self.workflow().await;
                let inquiry = self.inquiry().await;
                Cell::object(
                    Req::json(
                        format!("/api/v1/workflows/{id}/trigger"),
                        json!({"data": {"attributes": {"object-id": inquiry}}}),
                    ),
                    201,
                    format!("/api/v1/inquiries/{inquiry}"),
                )
            }
            ("GET", "/api/v1/workflow-runs") => {
                let id = self.workflow().await;
                Cell::own(
                    Req::bare(format!("/api/v1/workflow-runs?filter[workflow-id]={id}")),
                    200,
                )
            }
            ("GET", "/api/v1/workflow-runs/{id}") => {
                let id = self.run().await;
                let p = format!("/api/v1/workflow-runs/{id}");
                Cell::object(Req::bare(p.clone()), 200, p)
            }
            ("DELETE", "/api/v1/verifications/{id}") => {
                let inquiry = self.inquiry().await;
                let id = self.verification(&inquiry).await;
                let p = format!("/api/v1/verifications/{id}");
                Cell::object(Req::bare(p.clone()), 200, p)
            }
            ("DELETE", "/api/v1/documents/{id}") => {
                let inquiry = self.inquiry().await;
                let id = self.document(&inquiry).await;
                let p = format!("/api/v1/documents/{id}");
                Cell::object(Req::bare(p.clone()), 200, p)
            }
            _ => panic!(
                "the authorization matrix does not know how to fill {method} {path}: add it to Fixture::fill"
            ),
        }
    }

    async fn send(&self, method: &Method, req: &Req, key: Option<&str>) -> Resp {
        let mut call = self.app.call(method.clone(), &req.path);
        if let Some(k) = key {
            call = call.key(k);
        }
        if let Some((ct, bytes)) = &req.body {
            call = call.raw(ct, bytes.clone());
        }
        call.send().await
    }

    /// Calls one cell as every caller; returns how many calls it made.
    async fn run_cell(
        &mut self,
        method: &Method,
        template: &str,
        access: Access,
        variant: usize,
        cell: Cell,
    ) -> usize {
        let mut calls = 0;
        let path = cell.req.path.clone();
        let before = self.snapshot(cell.watch.as_deref()).await;
        let stranger = match (cell.stranger, cell.kind) {
            (Some(s), _) => s,
            (None, Kind::Object) => 404,
            (None, _) => cell.owner,
        };
        let mut callers: Vec<(Who, Option<String>, u16)> = vec![
            (Who::Third, Some(self.third.sandbox.clone()), stranger),
            (
                Who::OtherEnvironment,
                Some(self.owner.production.clone()),
                stranger,
            ),
            (Who::NoKey, None, 401),
            (Who::Operator, Some(ADMIN.to_owned()), 401),
        ];
        match access {
            Access::Needs(p) => {
                let (owner_lacking, third_lacking) = self.lacking(p).await;
                callers.push((Who::Lacking, Some(owner_lacking), 403));
                callers.push((Who::ThirdLacking, Some(third_lacking), 403));
            }
            Access::AnyKey => {
                // Any valid key may call it: a key with no permission at all does.
                let none = self.app.key_for(&self.owner, "sandbox", &[]).await;
                self.secret.insert(none.clone());
                callers.push((Who::Lacking, Some(none), cell.owner));
            }
        }
        let partner_acts = cell.partner < 400 && cell.kind == Kind::Object;
        if !partner_acts {
            let key = cell
                .partner_key
                .clone()
                .unwrap_or_else(|| self.partner.sandbox.clone());
            callers.push((Who::Partner, Some(key), cell.partner));
        }
        for (who, key, status) in &callers {
            let r = self.send(method, &cell.req, key.as_deref()).await;
            assert_cell(*who, method, &path, &r, *status);
            if *status == 403 && matches!(who, Who::Lacking | Who::ThirdLacking) {
                assert_eq!(
                    r.json["errors"][0]["code"], "permission_denied",
                    "{who:?} {method} {path}"
                );
            }
            self.assert_no_leak(*who, method, &path, &r);
            let after = self.snapshot(cell.watch.as_deref()).await;
            assert_eq!(
                after.0, before.0,
                "{who:?} {method} {path} changed something of the owner's"
            );
            if *status >= 400 {
                assert_eq!(
                    after.1, before.1,
                    "{who:?} {method} {path}: refused, yet the partner got an event"
                );
            }
            calls += 1;
        }
        // The owner last: the refused calls left its object as it was.
        let r = self
            .send(method, &cell.req, Some(self.owner.sandbox.as_str()))
            .await;
        assert_cell(Who::Owner, method, &path, &r, cell.owner);
        calls += 1;
        if partner_acts {
            // The partner acts on a fresh object (the owner's call may have changed the first).
            let fresh = self.fill(method, template).await.swap_remove(variant);
            let key = fresh
                .partner_key
                .clone()
                .unwrap_or_else(|| self.partner.sandbox.clone());
            let r = self.send(method, &fresh.req, Some(&key)).await;
            assert_cell(Who::Partner, method, &fresh.req.path, &r, fresh.partner);
            self.assert_no_leak(Who::Partner, method, &fresh.req.path, &r);
            calls += 1;
        }
        calls
    }

    /// What a call by someone else must leave as it was: the owner's view of the object and the
    /// newest event of the owner's environment; and, for a refused call, the newest event of the
    /// partner's.
    async fn snapshot(&self, watch: Option<&str>) -> (Value, Value) {
        let newest = |key: String| async move {
            Value::from(
                self.app
                    .fetch(&key, "/api/v1/events?page[size]=1")
                    .await
                    .ids(),
            )
        };
        let object = match watch {
            Some(w) => self.app.fetch(self.o(), w).await.json["data"].clone(),
            None => Value::Null,
        };
        (
            json!([object, newest(self.owner.sandbox.clone()).await]),
            newest(self.partner.sandbox.clone()).await,
        )
    }

    /// Fails if `r` shows anything of the owner's that `who` may not see.
    fn assert_no_leak(&self, who: Who, method: &Method, path: &str, r: &Resp) {
        let text = String::from_utf8_lossy(&r.bytes);
        for s in &self.secret {
            // The organization's id is no secret (partners name it to connect).
            if (who == Who::Partner && self.shared.contains(s)) || *s == self.owner.id {
                continue;
            }
            assert!(
                !text.contains(s.as_str()),
                "{who:?} {method} {path} ({}) shows the owner's {s}: {text}",
                r.status
            );
        }
        // Nothing in the headers either.
        for (name, value) in &r.headers {
            let v = value.to_str().unwrap_or("");
            assert!(
                !self
                    .secret
                    .iter()
                    .any(|s| *s != self.owner.id && v.contains(s.as_str())),
                "{who:?} {method} {path}: header {name}: {v}"
            );
        }
    }
}

#[track_caller]
fn assert_cell(who: Who, method: &Method, path: &str, r: &Resp, status: u16) {
    assert_eq!(
        r.status.as_u16(),
        status,
        "{who:?} {method} {path}: {}",
        r.json
    );
    if status >= 400 {
        assert_eq!(
            r.json["errors"][0]["status"], status,
            "{who:?} {method} {path}"
        );
        let code = r.json["errors"][0]["code"].as_str().unwrap_or("");
        match status {
            401 => {
                assert_eq!(
                    r.header("www-authenticate"),
                    Some("Bearer"),
                    "{who:?} {path}"
                );
                assert_eq!(code, "unauthorized", "{who:?} {method} {path}");
            }
            404 => assert_eq!(code, "not_found", "{who:?} {method} {path}"),
            _ => {}
        }
    }
}

async fn every_route_by_every_caller(backend: Backend) {
    let mut f = Fixture::new(backend).await;
    let routes = list_routes(&tessera_server::app::openapi());
    assert!(routes.len() >= 50, "{}", routes.len());
    let mut cells = 0;
    for route in &routes {
        let (method, template) = (&route.method, route.path.as_str());
        let access = route
            .access
            .unwrap_or_else(|| panic!("{method} {template} declares no permission"));
        let variants = f.fill(method, template).await;
        for (v, cell) in variants.into_iter().enumerate() {
            cells += f.run_cell(method, template, access, v, cell).await;
        }
    }
    // Lists and cursors: a stranger naming one of the owner's ids as a cursor gets the answer
    // an id that exists nowhere gets, so ids cannot be probed that way either.
    let inquiry = f.inquiry().await;
    for key in [f.third.sandbox.clone(), f.owner.production.clone()] {
        let theirs = f
            .app
            .get(&format!("/api/v1/inquiries?page[after]={inquiry}"))
            .key(&key)
            .send()
            .await;
        let nowhere = f
            .app
            .get("/api/v1/inquiries?page[after]=inq_000000000000000000000000")
            .key(&key)
            .send()
            .await;
        assert_eq!(theirs.status, nowhere.status);
        assert_eq!(theirs.code(), nowhere.code());
        f.assert_no_leak(Who::Third, &Method::GET, "cursor", &theirs);
        cells += 1;
    }
    println!(
        "authorization matrix ({backend:?}): {} routes, {cells} cells",
        routes.len()
    );
}

async fn every_operator_route_needs_the_operator_token(backend: Backend) {
    let app = App::with_config(backend, |c| {
        c.peer_allowed_networks = vec!["127.0.0.0/8".into()];
    })
    .await;
    let org = app.org("Acme").await;
    // A real peer for the registration, and one stored directly (at its URL, under another
    // instance id: a refresh records a failed contact) for show, refresh and delete.
    let peer = crate::peers::Peer::start(backend).await;
    let pin = peer.pin().await;
    let stored = app
        .state
        .store
        .write(tessera_store::units::peers::create_peer(
            tessera_store::units::peers::NewPeer {
                base_url: peer.url.clone(),
                instance_id: "ins_MatrixPeerMatrixPeerMatrix".into(),
                pin: pin.clone(),
                jwks: Vec::new(),
            },
        ))
        .await
        .unwrap()
        .id
        .to_string();
    let routes = tessera_server::api::admin::list_routes();
    assert!(routes.len() >= 6, "{routes:?}");
    let mut cells = 0;
    let mut n = 0;
    for (method, template) in routes {
        n += 1;
        let (path, body) = match (method.as_str(), template) {
            ("GET", "/admin/v1/organizations") => (template.to_owned(), None),
            ("POST", "/admin/v1/organizations") => (
                template.to_owned(),
                Some(json!({"data": {"attributes": {"name": "Made by the operator"}}})),
            ),
            ("GET", "/admin/v1/organizations/{org}") => (template.replace("{org}", &org.id), None),
            ("POST", "/admin/v1/organizations/{org}/api-keys") => (
                template.replace("{org}", &org.id),
                Some(json!({"data": {"attributes": {"environment": "sandbox", "name": "ops"}}})),
            ),
            ("POST", "/admin/v1/organizations/{org}/users") => (
                template.replace("{org}", &org.id),
                Some(
                    json!({"data": {"attributes": {"email": format!("u{n}@acme.example"), "password": "a long password"}}}),
                ),
            ),
            ("GET", "/admin/v1/peers") => (template.to_owned(), None),
            ("POST", "/admin/v1/peers") => (
                template.to_owned(),
                Some(json!({"data": {"attributes": {"url": peer.url, "pin": pin}}})),
            ),
            ("GET" | "DELETE", "/admin/v1/peers/{peer}") => {
                (template.replace("{peer}", &stored), None)
            }
            (
                "POST",
                "/admin/v1/peers/{peer}/refresh"
                | "/admin/v1/peers/{peer}/disable"
                | "/admin/v1/peers/{peer}/enable",
            ) => (template.replace("{peer}", &stored), None),
            ("GET", "/admin/v1/peer-events") => (template.to_owned(), None),
            _ => panic!(
                "the operator matrix does not know how to fill {method} {template}: add it here"
            ),
        };
        // Every POST makes something, but a refresh (it records a contact with a peer) and a peer's
        // disabling or enabling (they change it).
        let created = if method == Method::POST
            && !["/refresh", "/disable", "/enable"]
                .iter()
                .any(|s| template.ends_with(s))
        {
            201
        } else {
            200
        };
        let before = app.all(ADMIN, "/admin/v1/organizations").await.len();
        for (who, key, status) in [
            ("tenant key", Some(org.sandbox.as_str()), 401),
            ("production tenant key", Some(org.production.as_str()), 401),
            ("no key", None, 401),
            ("wrong token", Some("test-admin-token-not"), 401),
            ("operator", Some(ADMIN), created),
        ] {
            let mut call = app.call(method.clone(), &path);
            if let Some(k) = key {
                call = call.key(k);
            }
            if let Some(b) = &body {
                call = call.json(b.clone());
            }
            let r = call.send().await;
            assert_eq!(
                r.status.as_u16(),
                status,
                "{who} {method} {path}: {}",
                r.json
            );
            if status == 401 {
                assert_eq!(r.header("www-authenticate"), Some("Bearer"));
                assert_eq!(r.code(), "unauthorized");
                // Refused: nothing was made.
                assert_eq!(
                    app.all(ADMIN, "/admin/v1/organizations").await.len(),
                    before
                );
                assert!(
                    !String::from_utf8_lossy(&r.bytes).contains(&org.id),
                    "{who} {method} {path}"
                );
            }
            cells += 1;
        }
    }
    println!("operator matrix ({backend:?}): {n} routes, {cells} cells");
}

on_both_backends!(
    every_route_by_every_caller,
    every_operator_route_needs_the_operator_token,
);
