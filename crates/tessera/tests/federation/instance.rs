//! A real `tessera serve` process for the federation tests: its own directory and database,
//! loopback allowed for peers, killed with SIGKILL when asked (or dropped) and started again on
//! the same address and data.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::time::Instant;

pub const ADMIN: &str = "federation-test-admin";

pub struct Instance {
    pub name: &'static str,
    dir: PathBuf,
    database_url: String,
    pub addr: SocketAddr,
    /// `TESSERA_PEER_ALLOWED_NETWORKS`, or none (only public peer addresses allowed).
    peer_networks: Option<&'static str>,
    /// `TESSERA_SIGNING_ALGORITHM`, or none (the default, EdDSA).
    signing_algorithm: Option<&'static str>,
    child: Option<Child>,
    http: reqwest::Client,
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.start_kill();
        }
    }
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// An organization of an instance, with its sandbox key.
#[derive(Debug, Clone)]
pub struct Org {
    pub id: String,
    pub key: String,
}

impl Instance {
    fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tessera"));
        c.current_dir(&self.dir)
            .env_remove("TESSERA_MASTER_KEY")
            .env_remove("TESSERA_MASTER_KEY_FILE")
            .env("TESSERA_DATABASE_URL", &self.database_url)
            .env("TESSERA_ADMIN_TOKEN", ADMIN)
            .env("TESSERA_RATE_LIMIT_PER_MINUTE", "0")
            .env_remove("TESSERA_PEER_ALLOWED_NETWORKS")
            // The tests' webhook receivers are on loopback.
            .env("TESSERA_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
            .env("TESSERA_PUBLIC_BASE_URL", format!("http://{}", self.addr))
            .env("TESSERA_WORKER_LEASE_MS", "1500")
            .env("TESSERA_LOG", "warn")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if let Some(networks) = self.peer_networks {
            c.env("TESSERA_PEER_ALLOWED_NETWORKS", networks);
        }
        match self.signing_algorithm {
            Some(algorithm) => c.env("TESSERA_SIGNING_ALGORITHM", algorithm),
            None => c.env_remove("TESSERA_SIGNING_ALGORITHM"),
        };
        c
    }

    /// Starts an instance in `dir` on `database_url`, with loopback peers allowed.
    pub async fn start(name: &'static str, dir: &Path, database_url: &str) -> Self {
        Self::start_with(name, dir, database_url, Some("127.0.0.0/8"), None).await
    }

    /// Starts an instance whose signing key, made at first start, is ES256
    /// (`TESSERA_SIGNING_ALGORITHM=ES256`), with loopback peers allowed.
    pub async fn start_es256(name: &'static str, dir: &Path, database_url: &str) -> Self {
        Self::start_with(name, dir, database_url, Some("127.0.0.0/8"), Some("ES256")).await
    }

    /// Starts an instance with no peers' allow-list: only peers at public addresses.
    pub async fn start_without_peer_allow_list(
        name: &'static str,
        dir: &Path,
        database_url: &str,
    ) -> Self {
        Self::start_with(name, dir, database_url, None, None).await
    }

    async fn start_with(
        name: &'static str,
        dir: &Path,
        database_url: &str,
        peer_networks: Option<&'static str>,
        signing_algorithm: Option<&'static str>,
    ) -> Self {
        let mut i = Self {
            name,
            dir: dir.to_owned(),
            database_url: database_url.to_owned(),
            addr: free_addr(),
            peer_networks,
            signing_algorithm,
            child: None,
            http: reqwest::Client::new(),
        };
        i.restart().await;
        i
    }

    /// Starts the process again (after [`Instance::kill`]) on the same address and data.
    pub async fn restart(&mut self) {
        let child = self
            .command()
            .args(["serve", "--listen", &self.addr.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = self.http.get(self.url("/readyz")).send().await
                && r.status() == 200
            {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("{}: tessera serve exited: {status}", self.name);
            }
            assert!(
                Instant::now() < deadline,
                "{} did not become ready",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL, and waits for the process to be gone.
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.start_kill().unwrap();
            c.wait().await.unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Runs a `tessera` command on this instance's data; its stdout.
    pub async fn cli(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().await.unwrap();
        assert!(
            out.status.success(),
            "{}: tessera {args:?}: {}{}",
            self.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub async fn instance_id(&self) -> String {
        self.get_json("", "/.well-known/tessera").await["instance-id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn pin(&self) -> String {
        self.get_json("", "/.well-known/jwks.json").await["keys"][0]["kid"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn org(&self, name: &str) -> Org {
        let out = self.cli(&["org", "create", "--name", name, "--json"]).await;
        let v: Value = serde_json::from_str(&out).unwrap();
        Org {
            id: v["organization-id"].as_str().unwrap().to_owned(),
            key: v["api-keys"]["sandbox"].as_str().unwrap().to_owned(),
        }
    }

    /// Registers `other` as a peer of this instance, pinned to its current key.
    pub async fn add_peer(&self, other: &Instance) {
        let body = json!({"data": {"attributes": {"url": format!("http://{}", other.addr), "pin": other.pin().await}}});
        let (status, v) = self
            .send(
                "POST",
                &format!("Bearer {ADMIN}"),
                "/admin/v1/peers",
                Some(body),
            )
            .await;
        assert_eq!(status, 201, "{}: {v}", self.name);
    }

    /// One request with `auth` (a full Authorization value, or "" for none).
    pub async fn send(
        &self,
        method: &str,
        auth: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self.http.request(method.parse().unwrap(), self.url(path));
        if !auth.is_empty() {
            r = r.header("Authorization", auth);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// GET as `org`'s key ("" for none): 200 expected.
    pub async fn get_json(&self, key: &str, path: &str) -> Value {
        let auth = if key.is_empty() {
            String::new()
        } else {
            format!("Bearer {key}")
        };
        let (status, v) = self.send("GET", &auth, path, None).await;
        assert_eq!(status, 200, "{}: GET {path}: {v}", self.name);
        v
    }

    /// A call as `org`: the status and the document.
    pub async fn call(
        &self,
        org: &Org,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.send(method, &format!("Bearer {}", org.key), path, body)
            .await
    }

    /// Waits (up to 60 s) until `check` holds for `GET path` as `org`; returns that document.
    pub async fn wait_for(
        &self,
        org: &Org,
        path: &str,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, v) = self.call(org, "GET", path, None).await;
            if status == 200 && check(&v) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "{}: never {what}: last {status} {v}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
