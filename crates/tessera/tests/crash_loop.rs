//! The crash loop: the real `tessera` binary under a concurrent workload, killed with SIGKILL at
//! random moments (at least [`CYCLES`] times) and started again each time, on SQLite and on
//! PostgreSQL.
//!
//! The workload, driven over real HTTP by tasks that never stop for a crash:
//! - organization A's writers create inquiries (fields, a verification, a document) and move
//!   them through their statuses — complete, then approve, decline, mark for review, or nothing;
//!   or expire or fail them early;
//! - A shares the finished ones with B (share tokens on an A → B connection) and B redeems each
//!   token twice at once — into a new inquiry, or into one of its own it made for the purpose —
//!   sometimes racing A expiring it;
//! - A's workflow approves, tags and shares with C every inquiry tagged `auto` when it completes,
//!   then posts the event to the receiver; C's workflow redeems every token it receives;
//! - every organization has a webhook for every event, pointing at a receiver on loopback.
//!
//! Some kills come while the server is still starting (before it answers `/readyz`).
//!
//! Every POST carries an `Idempotency-Key`; a request that got no answer (the server died) is
//! sent again with the same key until it gets one, so the answers the test records are the
//! server's acknowledgements, and a write made twice would show as a duplicate.
//!
//! Afterwards, on a last clean run: every acknowledged write is there and nothing else; every
//! token accepted for redemption ended redeemed or failed, none twice, each redeemed one with
//! exactly one destination inquiry holding every field, verification and document of its source;
//! every redemption and workflow run finished and the job queue is empty; every event of every
//! organization, and every workflow HTTP step, reached the receiver (by `webhook-id`); the
//! SQLite file passes `PRAGMA integrity_check`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::Instant;

use support::{Resp, request};

const ADMIN: &str = "crash-loop-admin-token";
/// Crash cycles (SIGKILL and restart); `TESSERA_CRASH_CYCLES` may ask for more.
const CYCLES: usize = 30;
/// Writers of A's inquiries.
const WRITERS: usize = 3;
/// Longest a server lives in a crash cycle before it is killed (the moment is random).
const MAX_LIFE_MS: u64 = 1500;
/// How long any one request may keep failing (server down, key in use) before the test fails.
const CALL_DEADLINE: Duration = Duration::from_secs(120);
/// How long the last clean run may take to finish every background job.
const SETTLE_DEADLINE: Duration = Duration::from_secs(120);

/// The server's address (the same port across restarts, unless it was taken meanwhile) and what
/// the test sent it.
struct Harness {
    dir: std::path::PathBuf,
    url: String,
    addr: RwLock<SocketAddr>,
    /// Requests the server answered (each counted once, retries included).
    answered: AtomicU64,
    /// Requests that got no answer (the server died, or was not up yet) and were sent again.
    unanswered: AtomicU64,
    /// Retries answered 409 `idempotency_key_in_use`: the first attempt's claim was still leased.
    in_use: AtomicU64,
}

fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

impl Harness {
    fn addr(&self) -> SocketAddr {
        *self.addr.read().unwrap()
    }

    fn spawn(&self, addr: SocketAddr) -> Child {
        Command::new(env!("CARGO_BIN_EXE_tessera"))
            .current_dir(&self.dir)
            .args(["serve", "--listen", &addr.to_string()])
            .env("TESSERA_DATABASE_URL", &self.url)
            .env("TESSERA_ADMIN_TOKEN", ADMIN)
            .env("TESSERA_RATE_LIMIT_PER_MINUTE", "0")
            .env("TESSERA_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
            .env("TESSERA_WEBHOOK_RETRY_SCALE", "0.001")
            .env("TESSERA_WORKER_LEASE_MS", "1500")
            .env("TESSERA_IDEMPOTENCY_LEASE_MS", "1500")
            .env("TESSERA_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    }

    /// Starts `tessera serve` and kills it `after` later, whatever it was doing (migrating,
    /// recovering, resuming jobs).
    async fn start_and_kill(&self, after: Duration) {
        let mut child = self.spawn(self.addr());
        tokio::time::sleep(after).await;
        child.start_kill().unwrap();
        child.wait().await.unwrap();
    }

    /// Starts `tessera serve` and waits until it is ready.
    async fn start(&self) -> Child {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let addr = self.addr();
            let mut child = self.spawn(addr);
            loop {
                if let Ok(Ok(r)) = tokio::time::timeout(
                    Duration::from_secs(5),
                    request(addr, "GET", "/readyz", &[], None),
                )
                .await
                    && r.status == 200
                {
                    return child;
                }
                if let Some(status) = child.try_wait().unwrap() {
                    // Most likely the port was taken while the server was down: move.
                    eprintln!("tessera serve exited ({status}) at {addr}; moving to another port");
                    *self.addr.write().unwrap() = free_addr();
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "tessera serve did not become ready"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }

    /// One request, sent again (with the same idempotency key) until the server answers it.
    /// A 5xx fails the test: no input may cause one, crash or not.
    async fn call(
        &self,
        method: &str,
        path: &str,
        key: &str,
        idempotency_key: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Resp {
        let auth = format!("Bearer {key}");
        let mut headers = vec![("Authorization", auth.as_str())];
        if let Some(k) = idempotency_key {
            headers.push(("Idempotency-Key", k));
        }
        let deadline = Instant::now() + CALL_DEADLINE;
        loop {
            let body = body.as_ref().map(|(ct, b)| (*ct, b.clone()));
            let sent = tokio::time::timeout(
                Duration::from_secs(30),
                request(self.addr(), method, path, &headers, body),
            )
            .await;
            match sent {
                Ok(Ok(r)) if r.status >= 500 => {
                    panic!("{method} {path}: {} {}", r.status, r.text())
                }
                Ok(Ok(r))
                    if r.status == 409
                        && r.json()["errors"][0]["code"] == "idempotency_key_in_use" =>
                {
                    // The first attempt's claim is still leased (its process died): poll.
                    self.answered.fetch_add(1, Ordering::Relaxed);
                    self.in_use.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Ok(r)) => {
                    self.answered.fetch_add(1, Ordering::Relaxed);
                    return r;
                }
                // No answer: the server died, or is not up yet.
                Ok(Err(_)) | Err(_) => {
                    self.unanswered.fetch_add(1, Ordering::Relaxed);
                }
            }
            assert!(
                Instant::now() < deadline,
                "{method} {path} got no usable answer for {CALL_DEADLINE:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn post(&self, path: &str, key: &str, idem: &str, body: Value) -> Resp {
        self.call(
            "POST",
            path,
            key,
            Some(idem),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    async fn get(&self, path: &str, key: &str) -> Value {
        let r = self.call("GET", path, key, None, None).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
        r.json()
    }

    /// Every resource of a list, following `links.next` in pages of 100.
    async fn all(&self, path: &str, key: &str) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut url = Some(format!("{path}{sep}page[size]=100"));
        let mut out = Vec::new();
        while let Some(u) = url {
            let doc = self.get(&u, key).await;
            out.extend(doc["data"].as_array().unwrap().iter().cloned());
            url = doc["links"]["next"].as_str().map(str::to_owned);
        }
        out
    }
}

#[track_caller]
fn expect(r: &Resp, status: u16, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.text());
}

fn id_of(r: &Resp) -> String {
    r.json()["data"]["id"].as_str().unwrap().to_owned()
}

fn multipart(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let b = "crash-loop-boundary-41xq";
    let mut body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\ngovernment-id-front\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

/// What the server acknowledged about one of A's inquiries.
#[derive(Debug, Clone, Default)]
struct InquiryAck {
    name: String,
    auto: bool,
    verification: Option<String>,
    document: Option<(String, Vec<u8>)>,
    /// The status the last acknowledged transition left it in.
    status: &'static str,
}

/// What the server acknowledged about one A → B token.
#[derive(Debug, Clone, Default)]
struct TokenAck {
    source: String,
    /// B's own inquiry the redemption was asked to fill (else a new one is made).
    hydrate: Option<String>,
    /// The answers to the concurrent calls on it: two redeems by B, maybe an expire by A.
    redeems: Vec<u16>,
    expire: Option<u16>,
}

#[derive(Default)]
struct Acked {
    inquiries: HashMap<String, InquiryAck>,
    tokens: HashMap<String, TokenAck>,
}

struct World {
    h: Arc<Harness>,
    a: String,
    b: String,
    c: String,
    a_id: String,
    cxn_ab: String,
    cxn_ac: String,
    share_wfl: String,
    redeem_wfl: String,
    acked: Arc<Mutex<Acked>>,
    stop: Arc<AtomicBool>,
}

/// Creates A's inquiries and moves them along until told to stop (finishing the one in hand).
async fn writer(w: Arc<World>, n: usize, seed: u64, shareable: mpsc::UnboundedSender<String>) {
    let h = &w.h;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut i = 0;
    while !w.stop.load(Ordering::Relaxed) {
        i += 1;
        let name = format!("W{n}x{i}");
        let auto = rng.random_ratio(1, 4);
        let tags: Vec<&str> = if auto { vec!["auto"] } else { vec![] };
        let r = h
            .post(
                "/api/v1/inquiries",
                &w.a,
                &format!("inq-{n}-{i}"),
                json!({"data": {"attributes": {"tags": tags, "reference-id": name,
                    "fields": {"name-first": name, "birthdate": "1990-04-01",
                               "address-country-code": "US", "loyalty-number": i}}}}),
            )
            .await;
        expect(&r, 201, "create inquiry");
        let id = id_of(&r);
        let mut ack = InquiryAck {
            name: name.clone(),
            auto,
            status: "created",
            ..InquiryAck::default()
        };
        w.acked
            .lock()
            .unwrap()
            .inquiries
            .insert(id.clone(), ack.clone());
        let save = |ack: &InquiryAck| {
            w.acked
                .lock()
                .unwrap()
                .inquiries
                .insert(id.clone(), ack.clone());
        };
        if !auto && rng.random_ratio(1, 6) {
            let action = if rng.random_bool(0.5) {
                "expire"
            } else {
                "fail"
            };
            let r = h
                .post(
                    &format!("/api/v1/inquiries/{id}/{action}"),
                    &w.a,
                    &format!("{action}-{n}-{i}"),
                    json!({}),
                )
                .await;
            expect(&r, 200, action);
            ack.status = if action == "expire" {
                "expired"
            } else {
                "failed"
            };
            save(&ack);
            continue;
        }
        let r = h
            .post(
                "/api/v1/verifications",
                &w.a,
                &format!("ver-{n}-{i}"),
                json!({"data": {"attributes": {"inquiry-id": id, "type": "government-id",
                    "status": "passed", "attributes": {"name-first": name, "identification-number": format!("ID{i:06}")},
                    "checks": [{"name": "id_barcode", "status": "passed", "reasons": []}]}}}),
            )
            .await;
        expect(&r, 201, "verification");
        ack.verification = Some(id_of(&r));
        ack.status = "pending";
        save(&ack);
        let bytes = format!(
            "document of {name} {}",
            "x".repeat(rng.random_range(0..2000))
        )
        .into_bytes();
        let (ct, body) = multipart(&name, &bytes);
        let r = h
            .call(
                "POST",
                &format!("/api/v1/inquiries/{id}/documents"),
                &w.a,
                Some(&format!("doc-{n}-{i}")),
                Some((&ct, body)),
            )
            .await;
        expect(&r, 201, "upload");
        ack.document = Some((id_of(&r), bytes));
        save(&ack);
        let r = h
            .post(
                &format!("/api/v1/inquiries/{id}/complete"),
                &w.a,
                &format!("complete-{n}-{i}"),
                json!({}),
            )
            .await;
        expect(&r, 200, "complete");
        ack.status = "completed";
        save(&ack);
        if auto {
            // A's workflow approves it, tags it and shares it with C.
            continue;
        }
        let decision = rng.random_range(0..4);
        if decision < 3 {
            let (action, status) = [
                ("approve", "approved"),
                ("decline", "declined"),
                ("mark-for-review", "needs_review"),
            ][decision];
            let r = h
                .post(
                    &format!("/api/v1/inquiries/{id}/{action}"),
                    &w.a,
                    &format!("{action}-{n}-{i}"),
                    json!({}),
                )
                .await;
            expect(&r, 200, action);
            ack.status = status;
            save(&ack);
        }
        if matches!(ack.status, "completed" | "approved") {
            let _ = shareable.send(id);
        }
    }
}

/// A shares each finished inquiry with B (sometimes twice).
async fn sharer(
    w: Arc<World>,
    mut shareable: mpsc::UnboundedReceiver<String>,
    tokens: mpsc::UnboundedSender<String>,
) {
    let mut n = 0;
    while let Some(inquiry) = shareable.recv().await {
        n += 1;
        let copies = if n % 3 == 0 { 2 } else { 1 };
        for copy in 0..copies {
            let r = w
                .h
                .post(
                    "/api/v1/connect/share-tokens",
                    &w.a,
                    &format!("token-{inquiry}-{copy}"),
                    json!({"data": {"attributes": {"connection-id": w.cxn_ab, "source-id": inquiry}}}),
                )
                .await;
            expect(&r, 201, "create share token");
            let t = id_of(&r);
            w.acked.lock().unwrap().tokens.insert(
                t.clone(),
                TokenAck {
                    source: inquiry.clone(),
                    ..TokenAck::default()
                },
            );
            let _ = tokens.send(t);
        }
    }
}

/// B redeems each token with two requests at once; a quarter of the tokens are also expired by
/// A at the same moment. Exactly one of the calls may win.
async fn redeemer(w: Arc<World>, mut tokens: mpsc::UnboundedReceiver<String>) {
    let mut n = 0;
    while let Some(t) = tokens.recv().await {
        n += 1;
        // A third of the tokens fill an inquiry B made for them.
        let hydrate = if n % 3 == 1 {
            let r =
                w.h.post(
                    "/api/v1/inquiries",
                    &w.b,
                    &format!("hydrate-{t}"),
                    json!({"data": {"attributes": {"fields": {"b-own": "kept", "name-first": "placeholder"}}}}),
                )
                .await;
            expect(&r, 201, "B's inquiry to fill");
            let id = id_of(&r);
            w.acked.lock().unwrap().tokens.get_mut(&t).unwrap().hydrate = Some(id.clone());
            Some(id)
        } else {
            None
        };
        let body = match &hydrate {
            Some(d) => json!({"data": {"attributes": {"destination-id": d}}}),
            None => json!({}),
        };
        let redeem = |i: usize| {
            let w = w.clone();
            let t = t.clone();
            let body = body.clone();
            async move {
                w.h.post(
                    &format!("/api/v1/connect/share-tokens/{t}/redeem"),
                    &w.b,
                    &format!("redeem-{t}-{i}"),
                    body,
                )
                .await
            }
        };
        let expire = async {
            if n % 4 == 0 {
                Some(
                    w.h.post(
                        &format!("/api/v1/connect/share-tokens/{t}/expire"),
                        &w.a,
                        &format!("expire-{t}"),
                        json!({}),
                    )
                    .await,
                )
            } else {
                None
            }
        };
        let (r0, r1, x) = tokio::join!(redeem(0), redeem(1), expire);
        let mut statuses = vec![r0.status, r1.status];
        for r in [&r0, &r1] {
            assert!(
                r.status == 202 || r.status == 409,
                "redeem {t}: {} {}",
                r.status,
                r.text()
            );
            if r.status == 202 {
                assert_eq!(r.json()["data"]["attributes"]["status"], "pending", "{t}");
            }
        }
        if let Some(x) = &x {
            assert!(
                x.status == 200 || x.status == 409,
                "expire {t}: {}",
                x.text()
            );
            statuses.push(x.status);
        }
        // A redeem wins with 202, an expire with 200.
        assert_eq!(
            statuses.iter().filter(|s| **s == 200 || **s == 202).count(),
            1,
            "exactly one call on {t} wins: {statuses:?}"
        );
        let mut acked = w.acked.lock().unwrap();
        let ack = acked.tokens.get_mut(&t).unwrap();
        ack.redeems = vec![r0.status, r1.status];
        ack.expire = x.map(|x| x.status);
    }
}

/// A webhook receiver on loopback: the `webhook-id` of every delivery it gets.
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let r = received.clone();
    let app = Router::new().fallback(move |headers: HeaderMap| {
        let r = r.clone();
        async move {
            let id = headers
                .get("webhook-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            r.lock().unwrap().push(id);
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

async fn setup(h: Arc<Harness>, hook: &str) -> World {
    let org = |name: &'static str| {
        let h = h.clone();
        async move {
            let r = h
                .call(
                    "POST",
                    "/admin/v1/organizations",
                    ADMIN,
                    None,
                    Some((
                        "application/json",
                        json!({"data": {"attributes": {"name": name}}})
                            .to_string()
                            .into_bytes(),
                    )),
                )
                .await;
            expect(&r, 201, "create organization");
            let v = r.json();
            (
                v["data"]["id"].as_str().unwrap().to_owned(),
                v["meta"]["api-keys"]["sandbox"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        }
    };
    let (a_id, a) = org("Alpha").await;
    let (b_id, b) = org("Beta").await;
    let (c_id, c) = org("Gamma").await;
    for key in [&a, &b, &c] {
        let r = h
            .post(
                "/api/v1/webhooks",
                key,
                &format!("webhook-{key}"),
                json!({"data": {"attributes": {"url": hook, "enabled-events": ["*"]}}}),
            )
            .await;
        expect(&r, 201, "create webhook");
    }
    let connect = |dst_id: String, dst: String| {
        let (h, a) = (h.clone(), a.clone());
        async move {
            let r = h
                .post(
                    "/api/v1/connect/connections",
                    &a,
                    &format!("cxn-{dst_id}"),
                    json!({"data": {"attributes": {"destination-organization-id": dst_id}}}),
                )
                .await;
            expect(&r, 201, "create connection");
            let cxn = id_of(&r);
            let r = h
                .post(
                    &format!("/api/v1/connect/connections/{cxn}/activate"),
                    &dst,
                    &format!("activate-{cxn}"),
                    json!({}),
                )
                .await;
            expect(&r, 200, "activate connection");
            cxn
        }
    };
    let cxn_ab = connect(b_id, b.clone()).await;
    let cxn_ac = connect(c_id, c.clone()).await;
    let r = h
        .post(
            "/api/v1/workflows",
            &a,
            "workflow-share",
            json!({"data": {"attributes": {"name": "approve, tag and share with Gamma",
                "trigger": {"event": "inquiry.completed",
                            "conditions": [{"path": "/data/attributes/tags", "op": "contains", "value": "auto"}]},
                "steps": [{"type": "approve-inquiry"}, {"type": "tag-inquiry", "tag": "wf"},
                          {"type": "create-share-token", "connection-id": cxn_ac},
                          {"type": "http-request", "url": hook}]}}}),
        )
        .await;
    expect(&r, 201, "create workflow");
    let share_wfl = id_of(&r);
    let r = h
        .post(
            "/api/v1/workflows",
            &c,
            "workflow-redeem",
            json!({"data": {"attributes": {"name": "redeem what Alpha shares",
                "trigger": {"event": "connect/share-token.inbound-created"},
                "steps": [{"type": "redeem-share-token"}]}}}),
        )
        .await;
    expect(&r, 201, "create workflow");
    let redeem_wfl = id_of(&r);
    World {
        h,
        a,
        b,
        c,
        a_id,
        cxn_ab,
        cxn_ac,
        share_wfl,
        redeem_wfl,
        acked: Arc::default(),
        stop: Arc::default(),
    }
}

/// Polls until every background job is done: no token pending, every workflow run finished,
/// every event delivered.
async fn settle(w: &World, received: &Mutex<Vec<String>>) -> HashSet<String> {
    let h = &w.h;
    let deadline = Instant::now() + SETTLE_DEADLINE;
    loop {
        let mut waiting = Vec::new();
        for (who, key) in [("B", &w.b), ("C", &w.c)] {
            let pending = h
                .get(
                    "/api/v1/connect/share-tokens?filter[status]=pending&page[size]=100",
                    key,
                )
                .await;
            let n = pending["data"].as_array().unwrap().len();
            if n > 0 {
                waiting.push(format!("{n} pending tokens of {who}"));
            }
        }
        for (key, wfl) in [(&w.a, &w.share_wfl), (&w.c, &w.redeem_wfl)] {
            let runs = h
                .all(
                    &format!("/api/v1/workflow-runs?filter[workflow-id]={wfl}"),
                    key,
                )
                .await;
            let open = runs
                .iter()
                .filter(|r| {
                    !matches!(
                        r["attributes"]["status"].as_str(),
                        Some("completed" | "failed")
                    )
                })
                .count();
            if open > 0 {
                waiting.push(format!("{open} unfinished runs of {wfl}"));
            }
        }
        let mut events = HashSet::new();
        for key in [&w.a, &w.b, &w.c] {
            for e in h.all("/api/v1/events", key).await {
                events.insert(e["id"].as_str().unwrap().to_owned());
            }
        }
        let got: HashSet<String> = received.lock().unwrap().iter().cloned().collect();
        let undelivered = events.difference(&got).count();
        if undelivered > 0 {
            waiting.push(format!(
                "{undelivered} of {} events not delivered",
                events.len()
            ));
        }
        if waiting.is_empty() {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "background work did not finish: {waiting:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// An inquiry with its verifications and documents, as `key` sees it.
async fn inquiry_with_related(h: &Harness, key: &str, id: &str) -> (Value, Vec<Value>) {
    let doc = h
        .get(
            &format!("/api/v1/inquiries/{id}?include=verifications,documents"),
            key,
        )
        .await;
    let included = doc["included"].as_array().cloned().unwrap_or_default();
    (doc["data"].clone(), included)
}

/// What a copy must hold of its source: fields, verifications (without their ids and times of
/// recording) and documents (with their bytes).
async fn assert_copy(
    h: &Harness,
    src_key: &str,
    dst_key: &str,
    token: &str,
    copy: &str,
    hydrated: bool,
) {
    let t = h
        .get(&format!("/api/v1/connect/share-tokens/{token}"), dst_key)
        .await;
    // `source-id` is the source's to see.
    let outbound = h
        .get(&format!("/api/v1/connect/share-tokens/{token}"), src_key)
        .await;
    let source = outbound["data"]["attributes"]["source-id"]
        .as_str()
        .unwrap();
    assert_eq!(
        t["data"]["relationships"]["destination"]["data"]["id"], copy,
        "{token}"
    );
    let (s, s_inc) = inquiry_with_related(h, src_key, source).await;
    let (d, d_inc) = inquiry_with_related(h, dst_key, copy).await;
    let mut fields = d["attributes"]["fields"].clone();
    if hydrated {
        // The filled inquiry keeps its own fields; the source's override those of its names.
        let own = fields.as_object_mut().unwrap().remove("b-own");
        assert_eq!(own.unwrap()["value"], "kept", "{token}: {copy}");
    }
    assert_eq!(
        fields, s["attributes"]["fields"],
        "{token}: fields of {copy}"
    );
    assert_eq!(d["attributes"]["shared-from"]["inquiry-id"], source);
    assert_eq!(d["attributes"]["shared-from"]["share-token-id"], token);
    assert_eq!(d["relationships"]["share-token"]["data"]["id"], token);
    assert!(
        matches!(
            d["attributes"]["status"].as_str(),
            Some("completed" | "needs_review")
        ),
        "{copy}: {}",
        d["attributes"]["status"]
    );
    let shape = |inc: &[Value], kind: &str| {
        let mut v: Vec<String> = inc
            .iter()
            .filter(|r| {
                let t = r["type"].as_str().unwrap();
                t.starts_with(kind) && t != "verification/share-token"
            })
            .map(|r| {
                let mut a = r["attributes"].clone();
                // Times of the copy's own making, and file URLs naming the copy.
                for own in [
                    "created-at",
                    "created-at-ts",
                    "processed-at",
                    "processed-at-ts",
                    "files",
                ] {
                    a.as_object_mut().unwrap().remove(own);
                }
                format!("{} {a}", r["type"])
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        shape(&d_inc, "verification/"),
        shape(&s_inc, "verification/"),
        "{token}: verifications"
    );
    assert_eq!(
        d_inc
            .iter()
            .filter(|r| r["type"] == "verification/share-token")
            .count(),
        1,
        "{token}: one share-token verification"
    );
    assert_eq!(
        shape(&d_inc, "document"),
        shape(&s_inc, "document"),
        "{token}: documents"
    );
    let files = |inc: Vec<Value>, key: String| async move {
        let mut out = Vec::new();
        for r in inc
            .iter()
            .filter(|r| r["type"].as_str().unwrap().starts_with("document/"))
        {
            let f = h
                .call(
                    "GET",
                    &format!("/api/v1/documents/{}/file", r["id"].as_str().unwrap()),
                    &key,
                    None,
                    None,
                )
                .await;
            expect(&f, 200, "document file");
            out.push(f.body);
        }
        out.sort();
        out
    };
    assert_eq!(
        files(d_inc, dst_key.to_owned()).await,
        files(s_inc, src_key.to_owned()).await,
        "{token}: document bytes"
    );
}

/// Checks everything the server acknowledged, and that nothing else was made.
async fn check(w: &World, received: &Mutex<Vec<String>>) {
    let h = &w.h;
    let (acked_inquiries, acked_tokens) = {
        let acked = w.acked.lock().unwrap();
        (acked.inquiries.clone(), acked.tokens.clone())
    };

    // A's inquiries: exactly the acknowledged ones, in the acknowledged state.
    let listed: HashMap<String, Value> = h
        .all("/api/v1/inquiries", &w.a)
        .await
        .into_iter()
        .map(|i| (i["id"].as_str().unwrap().to_owned(), i))
        .collect();
    let listed_ids: HashSet<&String> = listed.keys().collect();
    let acked_ids: HashSet<&String> = acked_inquiries.keys().collect();
    assert_eq!(
        listed_ids, acked_ids,
        "A's inquiries are exactly the acknowledged ones (no duplicate, none lost)"
    );
    let share_runs = h
        .all(
            &format!("/api/v1/workflow-runs?filter[workflow-id]={}", w.share_wfl),
            &w.a,
        )
        .await;
    let mut run_of: HashMap<String, Value> = HashMap::new();
    for r in share_runs {
        let object = r["relationships"]["object"]["data"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            run_of.insert(object.clone(), r).is_none(),
            "one run per completed auto inquiry: {object}"
        );
    }
    let mut auto_tokens = HashSet::new();
    let mut http_steps = Vec::new();
    for (id, ack) in &acked_inquiries {
        let (i, related) = inquiry_with_related(h, &w.a, id).await;
        let a = &i["attributes"];
        assert_eq!(
            a["fields"]["name-first"]["value"],
            ack.name.as_str(),
            "{id}"
        );
        assert_eq!(a["reference-id"], ack.name.as_str(), "{id}");
        let ids: HashSet<&str> = related.iter().filter_map(|r| r["id"].as_str()).collect();
        if let Some(v) = &ack.verification {
            assert!(ids.contains(v.as_str()), "{id}: verification {v}");
        }
        if let Some((d, bytes)) = &ack.document {
            assert!(ids.contains(d.as_str()), "{id}: document {d}");
            let f = h
                .call(
                    "GET",
                    &format!("/api/v1/documents/{d}/file"),
                    &w.a,
                    None,
                    None,
                )
                .await;
            assert_eq!((f.status, &f.body), (200, bytes), "{id}: bytes of {d}");
        }
        assert_eq!(
            related.len(),
            usize::from(ack.verification.is_some()) + usize::from(ack.document.is_some()),
            "{id}: no duplicate verification or document"
        );
        if ack.auto && ack.status == "completed" {
            // The workflow ran once, each step once.
            let Some(run) = run_of.remove(id) else {
                let events = h
                    .get(
                        &format!("/api/v1/events?filter[object-id]={id}&page[size]=100"),
                        &w.a,
                    )
                    .await;
                let runs = h.get("/api/v1/workflow-runs?page[size]=100", &w.a).await;
                let mine: Vec<&Value> = runs["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|r| r["relationships"]["object"]["data"]["id"] == id.as_str())
                    .collect();
                panic!(
                    "{id}: no run; {i}\nevents {events}\nruns of it on the first page {mine:?}; total listed {}",
                    run_of.len()
                );
            };
            assert_eq!(run["attributes"]["status"], "completed", "{run}");
            assert_eq!(a["status"], "approved", "{id}: {i} {run}");
            assert_eq!(a["tags"], json!(["auto", "wf"]), "{id}: tagged once");
            let token = run["attributes"]["steps"][2]["output"]["share-token-id"]
                .as_str()
                .unwrap()
                .to_owned();
            auto_tokens.insert(token);
            http_steps.push(format!("{}_3", run["id"].as_str().unwrap()));
        } else {
            assert_eq!(a["status"], ack.status, "{id}");
        }
    }
    assert!(run_of.is_empty(), "runs without their inquiry: {run_of:?}");
    let got: HashSet<String> = received.lock().unwrap().iter().cloned().collect();
    for step in &http_steps {
        assert!(
            got.contains(step),
            "the HTTP step {step} never reached the receiver"
        );
    }

    // A → B: exactly the acknowledged tokens; the winning call decides the end state.
    let ab: HashMap<String, Value> = h
        .all(
            &format!(
                "/api/v1/connect/share-tokens?filter[connection-id]={}",
                w.cxn_ab
            ),
            &w.a,
        )
        .await
        .into_iter()
        .map(|t| (t["id"].as_str().unwrap().to_owned(), t))
        .collect();
    assert_eq!(
        ab.keys().collect::<HashSet<_>>(),
        acked_tokens.keys().collect::<HashSet<_>>(),
        "A's tokens to B are exactly the acknowledged ones"
    );
    let mut redeemed_ab = HashSet::new();
    for (t, ack) in &acked_tokens {
        let status = ab[t]["attributes"]["status"].as_str().unwrap();
        assert_eq!(ab[t]["attributes"]["source-id"], ack.source.as_str());
        if ack.redeems.contains(&202) {
            assert!(
                matches!(status, "redeemed" | "failed"),
                "{t}: accepted for redemption, now {status}"
            );
            assert_eq!(status, "redeemed", "{t}: nothing makes these fail");
            redeemed_ab.insert(t.clone());
        } else if ack.expire == Some(200) {
            assert_eq!(status, "expired", "{t}");
        } else {
            panic!("{t}: no call won: {ack:?}");
        }
    }

    // A → C: one token per workflow run, each redeemed by C's workflow.
    let ac: HashMap<String, Value> = h
        .all(
            &format!(
                "/api/v1/connect/share-tokens?filter[connection-id]={}",
                w.cxn_ac
            ),
            &w.a,
        )
        .await
        .into_iter()
        .map(|t| (t["id"].as_str().unwrap().to_owned(), t))
        .collect();
    assert_eq!(
        ac.keys().cloned().collect::<HashSet<_>>(),
        auto_tokens,
        "A's tokens to C are exactly those its workflow runs made"
    );
    for (t, token) in &ac {
        assert_eq!(token["attributes"]["status"], "redeemed", "{t}");
        assert_eq!(
            token["relationships"]["creator"]["data"],
            json!({"type": "workflow", "id": w.share_wfl})
        );
    }
    let redeem_runs = h
        .all(
            &format!("/api/v1/workflow-runs?filter[workflow-id]={}", w.redeem_wfl),
            &w.c,
        )
        .await;
    let run_tokens: Vec<String> = redeem_runs
        .iter()
        .map(|r| {
            assert_eq!(r["attributes"]["status"], "completed", "{r}");
            r["relationships"]["object"]["data"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        run_tokens.iter().collect::<HashSet<_>>().len(),
        run_tokens.len(),
        "one redeem run per token"
    );
    assert_eq!(
        run_tokens.into_iter().collect::<HashSet<_>>(),
        auto_tokens,
        "a redeem run for every token C received"
    );

    // B and C: exactly one copy per redeemed token, holding all of its source; B's inquiries
    // made to be filled are filled by their token or by nothing.
    let hydrate_of: HashMap<&String, &String> = acked_tokens
        .iter()
        .filter_map(|(t, a)| a.hydrate.as_ref().map(|d| (d, t)))
        .collect();
    for (key, redeemed) in [(&w.b, &redeemed_ab), (&w.c, &auto_tokens)] {
        let inquiries = h.all("/api/v1/inquiries", key).await;
        let mut by_token: HashMap<String, String> = HashMap::new();
        for c in &inquiries {
            let id = c["id"].as_str().unwrap().to_owned();
            let Some(t) = c["relationships"]["share-token"]["data"]["id"].as_str() else {
                let t = hydrate_of
                    .get(&id)
                    .unwrap_or_else(|| panic!("{id} is neither a copy nor B's to fill"));
                assert!(!redeemed.contains(*t), "{id} was not filled by {t}");
                continue;
            };
            if let Some(asked) = hydrate_of.get(&id) {
                assert_eq!(*asked, t, "{id} was filled by another token");
            }
            let dup = by_token.insert(t.to_owned(), id);
            assert!(dup.is_none(), "{t} was copied twice");
        }
        assert_eq!(
            by_token.keys().collect::<HashSet<_>>(),
            redeemed.iter().collect::<HashSet<_>>(),
            "one copy per redeemed token"
        );
        for (t, copy) in &by_token {
            let hydrated = acked_tokens.get(t).and_then(|a| a.hydrate.as_ref());
            if let Some(d) = hydrated {
                assert_eq!(d, copy, "{t} filled the inquiry it was asked to");
            }
            assert_copy(h, &w.a, key, t, copy, hydrated.is_some()).await;
        }
    }
    assert!(
        !w.a_id.is_empty() && !redeemed_ab.is_empty() && !auto_tokens.is_empty(),
        "the workload redeemed tokens both ways"
    );
    eprintln!(
        "crash loop: {} inquiries of A, {} tokens to B ({} redeemed), {} tokens to C by workflow",
        acked_inquiries.len(),
        acked_tokens.len(),
        redeemed_ab.len(),
        auto_tokens.len()
    );
}

async fn crash_loop(dir: &Path, url: &str, sqlite_file: Option<&Path>) {
    let cycles: usize = std::env::var("TESSERA_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CYCLES)
        .max(CYCLES);
    let seed: u64 = std::env::var("TESSERA_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("crash loop: seed {seed} (TESSERA_CRASH_SEED), {cycles} cycles");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let h = Arc::new(Harness {
        dir: dir.to_owned(),
        url: url.to_owned(),
        addr: RwLock::new(free_addr()),
        answered: AtomicU64::new(0),
        unanswered: AtomicU64::new(0),
        in_use: AtomicU64::new(0),
    });
    let (hook, received) = receiver().await;
    let mut server = h.start().await;
    let w = Arc::new(setup(h.clone(), &hook).await);

    let (share_tx, share_rx) = mpsc::unbounded_channel();
    let (token_tx, token_rx) = mpsc::unbounded_channel();
    let mut drivers = Vec::new();
    for n in 0..WRITERS {
        drivers.push(tokio::spawn(writer(
            w.clone(),
            n,
            seed.wrapping_add(n as u64),
            share_tx.clone(),
        )));
    }
    drop(share_tx);
    drivers.push(tokio::spawn(sharer(w.clone(), share_rx, token_tx)));
    drivers.push(tokio::spawn(redeemer(w.clone(), token_rx)));

    let started = Instant::now();
    let mut startup_kills = 0;
    for _ in 0..cycles {
        let life = Duration::from_millis(rng.random_range(0..=MAX_LIFE_MS));
        // A random moment to die.
        tokio::time::sleep(life).await;
        server.start_kill().unwrap();
        server.wait().await.unwrap();
        if rng.random_ratio(1, 4) {
            // And sometimes again before it is even ready.
            startup_kills += 1;
            h.start_and_kill(Duration::from_millis(rng.random_range(0..=300)))
                .await;
        }
        server = h.start().await;
        if drivers.iter().any(tokio::task::JoinHandle::is_finished) {
            // A driver failed: stop crashing and let the join below report it.
            break;
        }
    }
    let crash_phase = started.elapsed();
    // The last run is not interrupted: the drivers finish what they hold.
    w.stop.store(true, Ordering::Relaxed);
    for d in drivers {
        tokio::time::timeout(Duration::from_secs(180), d)
            .await
            .expect("the drivers finish")
            .expect("a driver failed");
    }
    let events = settle(&w, &received).await;
    check(&w, &received).await;
    let deliveries = received.lock().unwrap().len();
    eprintln!(
        "crash loop: {} kills ({startup_kills} of them while starting) in {crash_phase:?}; {} requests answered ({} of them 409 idempotency_key_in_use to a retry), {} sent without an answer and retried; {} events, {deliveries} deliveries received",
        cycles + startup_kills,
        h.answered.load(Ordering::Relaxed),
        h.in_use.load(Ordering::Relaxed),
        h.unanswered.load(Ordering::Relaxed),
        events.len(),
    );
    // The last stop is a kill too.
    server.start_kill().unwrap();
    server.wait().await.unwrap();

    if let Some(file) = sqlite_file {
        let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        let integrity: Vec<String> = sqlx::query_scalar("pragma integrity_check")
            .fetch_all(&mut db)
            .await
            .unwrap();
        assert_eq!(integrity, ["ok"]);
        let broken: Vec<(String,)> =
            sqlx::query_as("select \"table\" from pragma_foreign_key_check")
                .fetch_all(&mut db)
                .await
                .unwrap();
        assert!(broken.is_empty(), "foreign keys: {broken:?}");
        let jobs: i64 = sqlx::query_scalar("select count(*) from jobs")
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(jobs, 0, "the job queue is empty");
        let _ = db.close().await;
    } else {
        let mut db = sqlx::PgConnection::connect(url).await.unwrap();
        let jobs: i64 = sqlx::query_scalar("select count(*) from jobs")
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(jobs, 0, "the job queue is empty");
        let _ = db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_survives_a_crash_loop() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crash.db");
    let url = format!("sqlite://{}", file.display());
    crash_loop(dir.path(), &url, Some(&file)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_survives_a_crash_loop() {
    let db = tessera_store::testing::TestDb::new(tessera_store::testing::Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    crash_loop(dir.path(), &db.url, None).await;
}
