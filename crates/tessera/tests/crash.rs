//! End to end: the real `tessera` binary, over real HTTP, killed with SIGKILL right after
//! acknowledging writes and started again. Every acknowledged write must be there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::time::Instant;

use support::request;

const ADMIN: &str = "e2e-admin-token";
const WRITERS: usize = 4;
/// Acknowledged writes after which the server is killed (the writers keep writing).
const KILL_AFTER: usize = 60;

/// A running server, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

fn tessera(dir: &Path, database_url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tessera"));
    c.current_dir(dir)
        .env("TESSERA_DATABASE_URL", database_url)
        .env("TESSERA_ADMIN_TOKEN", ADMIN)
        .env("TESSERA_RATE_LIMIT_PER_MINUTE", "0")
        .env("TESSERA_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

async fn start(dir: &Path, database_url: &str) -> Server {
    let addr = free_addr();
    let child = tessera(dir, database_url)
        .args(["serve", "--listen", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut server = Server { child, addr };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = request(addr, "GET", "/readyz", &[], None).await
            && r.status == 200
        {
            return server;
        }
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("tessera serve exited: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "tessera serve did not become ready at {addr}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a writer was told had happened to one inquiry.
#[derive(Debug, Default, Clone)]
struct Acked {
    name: String,
    created: Option<Vec<u8>>,
    idempotency_key: String,
    verification: Option<String>,
    document: Option<(String, Vec<u8>)>,
    completed: bool,
}

fn multipart(bytes: &[u8]) -> (String, Vec<u8>) {
    let b = "e2e-boundary-x9";
    let mut body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nselfie\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

/// Writes until a request gets no answer; every answered write is recorded as it is acknowledged.
async fn writer(
    addr: SocketAddr,
    key: String,
    n: usize,
    acked: tokio::sync::mpsc::UnboundedSender<(String, Acked)>,
) {
    let auth = format!("Bearer {key}");
    for i in 0.. {
        let mut a = Acked {
            name: format!("w{n}-{i}"),
            idempotency_key: format!("create-{n}-{i}"),
            ..Acked::default()
        };
        let body = json!({"data": {"attributes": {"fields": {"name-first": a.name}}}}).to_string();
        let headers = [
            ("Authorization", auth.as_str()),
            ("Idempotency-Key", a.idempotency_key.as_str()),
        ];
        let Ok(r) = request(
            addr,
            "POST",
            "/api/v1/inquiries",
            &headers,
            Some(("application/json", body.into_bytes())),
        )
        .await
        else {
            return;
        };
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let id = r.json()["data"]["id"].as_str().unwrap().to_owned();
        a.created = Some(r.body);
        if acked.send((id.clone(), a.clone())).is_err() {
            return;
        }
        let body = json!({"data": {"attributes": {"inquiry-id": id, "type": "selfie", "status": "passed"}}}).to_string();
        let Ok(r) = request(
            addr,
            "POST",
            "/api/v1/verifications",
            &headers[..1],
            Some(("application/json", body.into_bytes())),
        )
        .await
        else {
            return;
        };
        assert_eq!(r.status, 201);
        a.verification = Some(r.json()["data"]["id"].as_str().unwrap().to_owned());
        let _ = acked.send((id.clone(), a.clone()));
        let file: Vec<u8> = format!("file of {}", a.name).into_bytes();
        let (ct, body) = multipart(&file);
        let Ok(r) = request(
            addr,
            "POST",
            &format!("/api/v1/inquiries/{id}/documents"),
            &headers[..1],
            Some((&ct, body)),
        )
        .await
        else {
            return;
        };
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        a.document = Some((r.json()["data"]["id"].as_str().unwrap().to_owned(), file));
        let _ = acked.send((id.clone(), a.clone()));
        let Ok(r) = request(
            addr,
            "POST",
            &format!("/api/v1/inquiries/{id}/complete"),
            &headers[..1],
            None,
        )
        .await
        else {
            return;
        };
        assert_eq!(r.status, 200);
        a.completed = true;
        if acked.send((id, a)).is_err() {
            return;
        }
    }
}

async fn acknowledged_writes_survive_a_kill(dir: &Path, database_url: &str) {
    let out = tessera(dir, database_url)
        .args(["org", "create", "--name", "E2E", "--json"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let org = created["organization-id"].as_str().unwrap().to_owned();
    let key = created["api-keys"]["sandbox"].as_str().unwrap().to_owned();

    let mut server = start(dir, database_url).await;
    let addr = server.addr;
    let auth = format!("Bearer {key}");
    let me = request(
        addr,
        "GET",
        "/api/v1/organization",
        &[("Authorization", &auth)],
        None,
    )
    .await
    .unwrap();
    assert_eq!(me.json()["data"]["id"], org.as_str());

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let writers: Vec<_> = (0..WRITERS)
        .map(|n| tokio::spawn(writer(addr, key.clone(), n, tx.clone())))
        .collect();
    drop(tx);
    let mut acked: HashMap<String, Acked> = HashMap::new();
    let mut count = 0;
    while let Some((id, a)) = rx.recv().await {
        acked.insert(id, a);
        count += 1;
        if count == KILL_AFTER {
            // SIGKILL, while the writers are still sending.
            server.child.start_kill().unwrap();
            break;
        }
    }
    server.child.wait().await.unwrap();
    for w in writers {
        w.await.unwrap();
    }
    // Acknowledgements that arrived before the kill but were not yet read count too.
    while let Ok((id, a)) = rx.try_recv() {
        acked.insert(id, a);
    }
    drop(server);

    let server = start(dir, database_url).await;
    let addr = server.addr;
    let h = [("Authorization", auth.as_str())];
    for (id, a) in &acked {
        let r = request(addr, "GET", &format!("/api/v1/inquiries/{id}"), &h, None)
            .await
            .unwrap();
        assert_eq!(r.status, 200, "acknowledged inquiry {id} is gone");
        let i = r.json();
        assert_eq!(
            i["data"]["attributes"]["fields"]["name-first"]["value"],
            a.name.as_str()
        );
        let rel = &i["data"]["relationships"];
        if let Some(v) = &a.verification {
            assert!(
                rel["verifications"]["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["id"] == v.as_str()),
                "{id}: {v}"
            );
            assert_ne!(i["data"]["attributes"]["status"], "created");
        }
        if let Some((doc, bytes)) = &a.document {
            let f = request(
                addr,
                "GET",
                &format!("/api/v1/documents/{doc}/file"),
                &h,
                None,
            )
            .await
            .unwrap();
            assert_eq!((f.status, &f.body), (200, bytes), "{id}: {doc}");
        }
        if a.completed {
            assert_eq!(i["data"]["attributes"]["status"], "completed", "{id}");
        }
        // The stored response committed with the write: a retry replays it.
        let body = json!({"data": {"attributes": {"fields": {"name-first": a.name}}}}).to_string();
        let r = request(
            addr,
            "POST",
            "/api/v1/inquiries",
            &[
                ("Authorization", auth.as_str()),
                ("Idempotency-Key", a.idempotency_key.as_str()),
            ],
            Some(("application/json", body.into_bytes())),
        )
        .await
        .unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(
            r.headers.get("idempotent-replayed").map(String::as_str),
            Some("true")
        );
        assert_eq!(Some(&r.body), a.created.as_ref(), "{id}");
    }
    assert!(acked.len() >= KILL_AFTER / 4, "{}", acked.len());
    // Every event of every acknowledged change is there.
    let mut url = Some("/api/v1/events?page[size]=100".to_owned());
    let mut created_events = 0;
    while let Some(u) = url {
        let r = request(addr, "GET", &u, &h, None).await.unwrap();
        let doc = r.json();
        created_events += doc["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["attributes"]["name"] == "inquiry.created"
                    && acked
                        .contains_key(e["attributes"]["payload"]["data"]["id"].as_str().unwrap())
            })
            .count();
        url = doc["links"]["next"].as_str().map(str::to_owned);
    }
    assert_eq!(created_events, acked.len());
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_every_acknowledged_write_across_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    acknowledged_writes_survive_a_kill(dir.path(), &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_every_acknowledged_write_across_a_kill() {
    // A fresh schema (TestDb fails loudly when TESSERA_TEST_POSTGRES_URL is unset); the binary opens it through the URL's search_path.
    let db = tessera_store::testing::TestDb::new(tessera_store::testing::Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    acknowledged_writes_survive_a_kill(dir.path(), &db.url).await;
}
