//! Scale-out on PostgreSQL: two API processes (`serve --no-worker`) and two workers share one
//! database. Creates and redeems go through both API processes; one worker is killed with
//! SIGKILL mid-way. Afterwards every token is redeemed exactly once, every webhook delivery was
//! made at least once, and nothing is left stuck.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use tessera_store::testing::{Backend, TestDb};
use tessera_store::units::jobs;
use tokio::process::{Child, Command};
use tokio::time::Instant;

const ADMIN: &str = "scale-out-admin";
const TOKENS: usize = 40;

/// The binary on `url`, with the test database's master keys (every process must hold them).
fn tessera(url: &str, master_key: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tessera"));
    c.env("TESSERA_DATABASE_URL", url)
        .env("TESSERA_MASTER_KEY", master_key)
        .env("TESSERA_ADMIN_TOKEN", ADMIN)
        .env("TESSERA_RATE_LIMIT_PER_MINUTE", "0")
        .env("TESSERA_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
        .env("TESSERA_WEBHOOK_RETRY_SCALE", "0.001")
        .env("TESSERA_WORKER_LEASE_MS", "2000")
        .env("TESSERA_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true);
    c
}

async fn api_process(url: &str, master_key: &str) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tessera(url, master_key)
        .args([
            "serve",
            "--no-worker",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{base}/readyz"))
        .await
        .map(|r| r.status().as_u16())
        .ok()
        != Some(200)
    {
        assert!(Instant::now() < deadline, "API process did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, base)
}

struct Client {
    http: reqwest::Client,
}

impl Client {
    async fn send(
        &self,
        method: reqwest::Method,
        url: String,
        key: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, url).bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, base: &str, path: &str, key: &str, body: Value) -> Value {
        let (status, v) = self
            .send(
                reqwest::Method::POST,
                format!("{base}{path}"),
                key,
                Some(body),
            )
            .await;
        assert!((200..300).contains(&status), "{path}: {status} {v}");
        v
    }

    async fn get(&self, base: &str, path: &str, key: &str) -> Value {
        let (status, v) = self
            .send(reqwest::Method::GET, format!("{base}{path}"), key, None)
            .await;
        assert_eq!(status, 200, "{path}: {v}");
        v
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_api_processes_and_two_workers_share_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let url = db.url.clone();
    // A receiver counting deliveries by webhook-id.
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
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let key = db.master_key_env();
    let (_api1, one) = api_process(&url, &key).await;
    let (_api2, two) = api_process(&url, &key).await;
    let mut worker1 = tessera(&url, &key).arg("worker").spawn().unwrap();
    let _worker2 = tessera(&url, &key).arg("worker").spawn().unwrap();
    let c = Client {
        http: reqwest::Client::new(),
    };
    let bases = [one.clone(), two.clone()];

    let org = |name: &'static str, base: String| {
        let c = &c;
        async move {
            let v = c
                .post(
                    &base,
                    "/admin/v1/organizations",
                    ADMIN,
                    json!({"data": {"attributes": {"name": name}}}),
                )
                .await;
            (
                v["data"]["id"].as_str().unwrap().to_owned(),
                v["meta"]["api-keys"]["sandbox"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        }
    };
    let (_a_id, a) = org("A", one.clone()).await;
    let (b_id, b) = org("B", two.clone()).await;
    let cxn = c
        .post(
            &one,
            "/api/v1/connect/connections",
            &a,
            json!({"data": {"attributes": {"destination-organization-id": b_id}}}),
        )
        .await;
    let cxn = cxn["data"]["id"].as_str().unwrap().to_owned();
    c.post(
        &two,
        &format!("/api/v1/connect/connections/{cxn}/activate"),
        &b,
        json!({}),
    )
    .await;
    for (key, base, event) in [
        (&a, &one, "connect/share-token.outbound-redeemed"),
        (&b, &two, "connect/share-token.inbound-redeemed"),
    ] {
        c.post(base, "/api/v1/webhooks", key, json!({"data": {"attributes": {"url": hook, "enabled-events": [event, "connect/share-token.inbound-created"]}}})).await;
    }

    // Tokens created through both API processes.
    let mut tokens = Vec::new();
    for i in 0..TOKENS {
        let base = &bases[i % 2];
        let inq = c
            .post(
                base,
                "/api/v1/inquiries",
                &a,
                json!({"data": {"attributes": {"fields": {"name-first": "Jane"}}}}),
            )
            .await;
        let inq = inq["data"]["id"].as_str().unwrap().to_owned();
        c.post(
            base,
            &format!("/api/v1/inquiries/{inq}/complete"),
            &a,
            json!({}),
        )
        .await;
        let t = c
            .post(
                base,
                "/api/v1/connect/share-tokens",
                &a,
                json!({"data": {"attributes": {"connection-id": cxn, "source-id": inq}}}),
            )
            .await;
        tokens.push(t["data"]["id"].as_str().unwrap().to_owned());
    }
    // Redeemed through both API processes, each twice at once: exactly one call per token wins.
    let mut calls = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        for base in [&bases[i % 2], &bases[(i + 1) % 2]] {
            let (http, url, key) = (
                c.http.clone(),
                format!("{base}/api/v1/connect/share-tokens/{t}/redeem"),
                b.clone(),
            );
            calls.push(tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(key)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }));
        }
        if i == TOKENS / 2 {
            // Kill one worker while redemptions and deliveries are in flight.
            worker1.start_kill().unwrap();
        }
    }
    let mut statuses = Vec::new();
    for h in calls {
        statuses.push(h.await.unwrap());
    }
    let _ = worker1.wait().await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        TOKENS,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), TOKENS);

    // Every token ends redeemed, exactly once, and nothing is left in the queue.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = c
            .get(
                &two,
                "/api/v1/connect/share-tokens?filter[status]=redeemed&page[size]=100",
                &b,
            )
            .await;
        let counts = db.store.read(jobs::counts()).await.unwrap();
        if v["data"].as_array().unwrap().len() == TOKENS && counts == jobs::Counts::default() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "stuck: {} redeemed, queue {counts:?}",
            v["data"].as_array().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let inquiries = c.get(&one, "/api/v1/inquiries?page[size]=100", &b).await;
    assert_eq!(
        inquiries["data"].as_array().unwrap().len(),
        TOKENS,
        "exactly one copy per token"
    );
    // Every event a webhook subscribed to was delivered at least once.
    let mut expected = HashSet::new();
    for (key, base) in [(&a, &one), (&b, &two)] {
        for name in [
            "connect/share-token.outbound-redeemed",
            "connect/share-token.inbound-redeemed",
            "connect/share-token.inbound-created",
        ] {
            let v = c
                .get(
                    base,
                    &format!("/api/v1/events?filter[name]={name}&page[size]=100"),
                    key,
                )
                .await;
            for e in v["data"].as_array().unwrap() {
                expected.insert(e["id"].as_str().unwrap().to_owned());
            }
        }
    }
    assert_eq!(expected.len(), 3 * TOKENS);
    let got: HashSet<String> = received.lock().unwrap().iter().cloned().collect();
    let missing: Vec<_> = expected.difference(&got).collect();
    assert!(missing.is_empty(), "never delivered: {missing:?}");
}
