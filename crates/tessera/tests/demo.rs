//! End to end: `tessera demo` plays its story on a fresh database, prints the dashboard's address
//! and a sign-in per organization, and keeps serving; signing in over HTTP shows the redeemed
//! token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::time::Instant;

use support::{request, sign_in};

/// What the demo printed that the test needs.
#[derive(Default)]
struct Printed {
    dashboard: Option<String>,
    /// `(organization, email, password)`.
    sign_ins: Vec<(String, String, String)>,
    lines: Vec<String>,
}

fn parse_sign_in(line: &str) -> Option<(String, String, String)> {
    // "  Beta Lending: email admin@beta.example password XXXX"
    let (org, rest) = line.trim().split_once(": email ")?;
    let (email, password) = rest.split_once(" password ")?;
    Some((org.to_owned(), email.to_owned(), password.trim().to_owned()))
}

/// `tessera demo <extra…>` on a fresh database in `dir`, its output piped.
fn demo(dir: &std::path::Path, extra: &[&str]) -> tokio::process::Child {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .current_dir(dir)
        .arg("demo")
        .args(extra)
        .args(["--listen", "127.0.0.1:0", "--dir"])
        .arg(dir.join("demo"))
        .env_remove("TESSERA_DATABASE_URL")
        .env("TESSERA_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_shows_a_redeemed_token_in_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = demo(dir.path(), &[]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Printed::default();
    let deadline = Instant::now() + Duration::from_secs(120);
    while printed.dashboard.is_none() || printed.sign_ins.len() < 2 {
        let line = tokio::time::timeout_at(deadline, lines.next_line())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the demo printed no sign-ins in time:\n{}",
                    printed.lines.join("\n")
                )
            })
            .unwrap()
            .unwrap_or_else(|| panic!("the demo ended early:\n{}", printed.lines.join("\n")));
        if let Some(url) = line
            .trim()
            .strip_prefix("http://")
            .filter(|u| u.ends_with("/dashboard"))
        {
            printed.dashboard = Some(url.to_owned());
        }
        if let Some(s) = parse_sign_in(&line) {
            printed.sign_ins.push(s);
        }
        printed.lines.push(line);
    }
    let all = printed.lines.join("\n");
    // The timeline told the story as it happened.
    for expected in [
        "connect/share-token.outbound-created",
        "connect/share-token.inbound-redeemed",
        "receiver got",
        "signature ok",
        // The trust steps: a preview before redeeming, a receipt checked after.
        "the dry run of its template says passed",
        "it verifies against /.well-known/jwks.json",
    ] {
        assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
    }
    let host = printed.dashboard.unwrap();
    let addr: SocketAddr = host.trim_end_matches("/dashboard").parse().unwrap();
    let (_, email, password) = printed
        .sign_ins
        .iter()
        .find(|(org, ..)| org == "Beta Lending")
        .cloned()
        .unwrap();
    let cookie = sign_in(addr, &email, &password).await;
    let page = request(
        addr,
        "GET",
        "/dashboard/share-tokens",
        &[("Cookie", &cookie)],
        None,
    )
    .await
    .unwrap();
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(
        html.contains("s-redeemed"),
        "no redeemed token on the page:\n{html}"
    );
    assert!(
        html.contains("Acme Bank"),
        "the partner's name is shown:\n{html}"
    );
    let _ = child.start_kill();
    let _ = child.wait().await;
}

/// `tessera demo --peer`: a second instance starts, the two pin each other, and the story's
/// inquiry is shared across them; the peer's copy holds a receipt that verifies against the first
/// instance's keys, and the peer's API serves the redeemed token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_with_a_peer_shares_across_two_instances() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = demo(dir.path(), &["--peer"]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut all = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let peer_url = loop {
        let line = tokio::time::timeout_at(deadline, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("no peer in time:\n{}", all.join("\n")))
            .unwrap()
            .unwrap_or_else(|| panic!("the demo ended early:\n{}", all.join("\n")));
        all.push(line.clone());
        if let Some(rest) = line
            .split("A second instance (federation) serves at ")
            .nth(1)
        {
            break rest.split(':').take(3).collect::<Vec<_>>().join(":");
        }
    };
    let all = all.join("\n");
    for expected in [
        "the two operators pin each other's key",
        "the offer travels as a signed message",
        "the connection is active on both",
        "which asks Acme's instance (the authority on the token)",
        "on the peer, with a receipt signed by ins_",
    ] {
        assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
    }
    // The peer is a real server with its own identity.
    let addr: SocketAddr = peer_url.trim_start_matches("http://").parse().unwrap();
    let r = request(addr, "GET", "/.well-known/tessera", &[], None)
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(
        r.json()["instance-id"]
            .as_str()
            .unwrap()
            .starts_with("ins_")
    );
    let _ = child.start_kill();
    let _ = child.wait().await;
}
