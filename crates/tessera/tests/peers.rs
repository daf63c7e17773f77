//! End to end: `tessera peers add URL --pin THUMBPRINT` registers a second, real `tessera serve`
//! on loopback (allowed by TESSERA_PEER_ALLOWED_NETWORKS), `peers list` shows it, a wrong pin,
//! a duplicate and a private address not allowed are refused, `peers disable`/`enable` change its
//! status, and `peers remove` forgets it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::time::Instant;

use support::request;

/// The peer: `tessera serve`, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

fn tessera(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tessera"));
    c.current_dir(dir)
        .env_remove("TESSERA_MASTER_KEY")
        .env_remove("TESSERA_MASTER_KEY_FILE")
        .env_remove("TESSERA_PEER_ALLOWED_NETWORKS")
        .env(
            "TESSERA_DATABASE_URL",
            format!("sqlite://{}", dir.join("data/t.db").display()),
        )
        .env("TESSERA_ADMIN_TOKEN", "peers-test-admin")
        .env("TESSERA_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

async fn run(dir: &Path, args: &[&str], allow: bool) -> Output {
    let mut c = tessera(dir);
    c.args(args);
    if allow {
        c.env("TESSERA_PEER_ALLOWED_NETWORKS", "127.0.0.0/8");
    }
    c.output().await.unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn refused(out: Output) -> String {
    assert!(!out.status.success());
    String::from_utf8(out.stderr).unwrap()
}

#[tokio::test]
async fn peers_are_added_listed_refused_and_removed_by_the_cli() {
    let peer_dir = tempfile::tempdir().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut server = Server(
        tessera(peer_dir.path())
            .args(["serve", "--listen", &addr.to_string()])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let jwks = loop {
        if let Ok(r) = request(addr, "GET", "/.well-known/jwks.json", &[], None).await
            && r.status == 200
        {
            break r.json();
        }
        assert!(server.0.try_wait().unwrap().is_none(), "the peer exited");
        assert!(Instant::now() < deadline, "the peer did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let pin = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();
    let url = format!("http://{addr}");

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(run(dir, &["migrate"], false).await);
    // Loopback is not on the allow-list by default.
    let err = refused(run(dir, &["peers", "add", &url, "--pin", &pin], false).await);
    assert!(err.contains("invalid_url"), "{err}");
    // A pin the peer does not publish.
    let other = "A".repeat(43);
    let err = refused(run(dir, &["peers", "add", &url, "--pin", &other], true).await);
    assert!(err.contains("peer_pin_mismatch"), "{err}");
    assert_eq!(ok(run(dir, &["peers", "list"], false).await), "");

    let added = ok(run(dir, &["peers", "add", &url, "--pin", &pin], true).await);
    assert!(
        added.contains("registered") && added.contains(&pin),
        "{added}"
    );
    let id = added
        .split_whitespace()
        .find(|w| w.starts_with("per_"))
        .unwrap()
        .to_owned();
    let err = refused(run(dir, &["peers", "add", &url, "--pin", &pin], true).await);
    assert!(err.contains("peer_exists"), "{err}");
    let listed = ok(run(dir, &["peers", "list"], false).await);
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains(&id) && listed.contains(&url), "{listed}");

    let disabled = ok(run(dir, &["peers", "disable", &id], false).await);
    assert!(
        disabled.contains(&id) && disabled.contains("disabled"),
        "{disabled}"
    );
    let enabled = ok(run(dir, &["peers", "enable", &id], false).await);
    assert!(
        enabled.contains(&id) && enabled.contains("active"),
        "{enabled}"
    );
    ok(run(dir, &["peers", "remove", &id], false).await);
    assert_eq!(ok(run(dir, &["peers", "list"], false).await), "");
    refused(run(dir, &["peers", "remove", &id], false).await);
}
