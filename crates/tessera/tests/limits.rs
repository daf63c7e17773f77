//! Body limits hold under a flood, on the real `tessera` binary: 10,000 requests with oversized
//! bodies — JSON over 1 MiB with and without a key and an `Idempotency-Key`, uploads over
//! 10 MiB, and bodies streamed in chunks with no length announced — are each answered 413 (or
//! 401 without a key) and leave the server's resident memory flat (measured from
//! `/proc/<pid>/status`, after a warm-up flood of the same shape).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::Command;
use tokio::time::Instant;

use support::request;

const ADMIN: &str = "limits-admin-token";
/// Requests in the measured flood.
const FLOOD: usize = 10_000;
/// Requests before the first measurement (allocator pools, connection buffers, caches warm).
const WARM_UP: usize = 1_000;
/// Requests in flight at once.
const CONCURRENCY: usize = 32;
/// How much the resident set may grow over the flood: 10,000 requests leaking even 2 KiB each
/// would show as 20 MiB.
const MAX_GROWTH_KIB: u64 = 12 * 1024;

fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// The status of one response, read off a raw connection (None: the server closed it first).
async fn status_of(stream: &mut TcpStream) -> Option<u16> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                raw.extend_from_slice(&buf[..n]);
                if raw.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    }
    let head = String::from_utf8_lossy(&raw);
    head.split(' ').nth(1).and_then(|s| s.parse().ok())
}

/// One oversized request of kind `i % 4`; returns the status, if one arrived.
async fn oversized(addr: SocketAddr, key: &str, i: usize) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let auth = format!("Authorization: Bearer {key}\r\n");
    let (path, ct, auth, extra, length) = match i % 4 {
        // JSON over 1 MiB, announced: refused before a byte of the body is read.
        0 => (
            "/api/v1/inquiries".to_owned(),
            "application/json",
            auth.as_str(),
            format!("Idempotency-Key: flood-{i}\r\n"),
            Some(2 * 1024 * 1024),
        ),
        // Without a key.
        1 => (
            "/api/v1/inquiries".to_owned(),
            "application/json",
            "",
            String::new(),
            Some(64 * 1024 * 1024),
        ),
        // An upload over 10 MiB.
        2 => (
            "/api/v1/inquiries/inq_000000000000000000000000/documents".to_owned(),
            "multipart/form-data; boundary=xyz",
            auth.as_str(),
            String::new(),
            Some(11 * 1024 * 1024),
        ),
        // Chunked, no length announced: the server reads up to the limit, then refuses.
        _ => (
            "/api/v1/inquiries".to_owned(),
            "application/json",
            auth.as_str(),
            format!("Idempotency-Key: chunked-{i}\r\n"),
            None,
        ),
    };
    let framing = match length {
        Some(n) => format!("Content-Length: {n}\r\n"),
        None => "Transfer-Encoding: chunked\r\n".to_owned(),
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {ct}\r\n{auth}{extra}{framing}\r\n"
    );
    stream.write_all(head.as_bytes()).await.ok()?;
    if length.is_none() {
        // 1.25 MiB in 64 KiB chunks, as long as the server reads; a refusal may come early.
        let chunk = vec![b' '; 64 * 1024];
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(&chunk);
        framed.extend_from_slice(b"\r\n");
        for _ in 0..20 {
            if stream.write_all(&framed).await.is_err() {
                break;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n").await;
    }
    status_of(&mut stream).await
}

async fn flood(addr: SocketAddr, key: &str, from: usize, n: usize) -> (usize, usize) {
    let next = Arc::new(AtomicUsize::new(from));
    let answered = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (next, answered, closed, key) = (
            next.clone(),
            answered.clone(),
            closed.clone(),
            key.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= from + n {
                    break;
                }
                match oversized(addr, &key, i).await {
                    Some(status) => {
                        let expected: &[u16] = if i % 4 == 1 { &[401, 413] } else { &[413] };
                        assert!(
                            expected.contains(&status),
                            "request {i} (kind {}): {status}",
                            i % 4
                        );
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    None => {
                        // Only a streamed body may see its connection closed before it could
                        // read the refusal (the server stops reading at the limit).
                        assert_eq!(i % 4, 3, "request {i} got no answer");
                        closed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (
        answered.load(Ordering::Relaxed),
        closed.load(Ordering::Relaxed),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_oversized_requests_leave_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("limits.db").display());
    let addr = free_addr();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .current_dir(dir.path())
        .args(["serve", "--listen", &addr.to_string()])
        .env("TESSERA_DATABASE_URL", &url)
        .env("TESSERA_ADMIN_TOKEN", ADMIN)
        .env("TESSERA_RATE_LIMIT_PER_MINUTE", "0")
        .env("TESSERA_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = request(addr, "GET", "/readyz", &[], None).await
            && r.status == 200
        {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "tessera serve exited");
        assert!(
            Instant::now() < deadline,
            "tessera serve did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let auth = format!("Bearer {ADMIN}");
    let r = request(
        addr,
        "POST",
        "/admin/v1/organizations",
        &[("Authorization", auth.as_str())],
        Some((
            "application/json",
            json!({"data": {"attributes": {"name": "Flooder"}}})
                .to_string()
                .into_bytes(),
        )),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 201);
    let key = r.json()["meta"]["api-keys"]["sandbox"]
        .as_str()
        .unwrap()
        .to_owned();

    flood(addr, &key, 0, WARM_UP).await;
    let before = rss_kib(pid);
    let started = Instant::now();
    let (answered, closed) = flood(addr, &key, WARM_UP, FLOOD).await;
    let after = rss_kib(pid);
    eprintln!(
        "limits flood: {FLOOD} oversized requests in {:?} ({answered} refused with a status, {closed} streamed ones cut off); server RSS {before} KiB before, {after} KiB after",
        started.elapsed()
    );
    assert!(
        after <= before + MAX_GROWTH_KIB,
        "the server's memory grew from {before} KiB to {after} KiB over {FLOOD} oversized requests"
    );
    // Nothing of the flood was stored, and the server still answers.
    let bearer = format!("Bearer {key}");
    let r = request(
        addr,
        "GET",
        "/api/v1/inquiries",
        &[("Authorization", bearer.as_str())],
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["data"], json!([]));
    child.start_kill().unwrap();
    child.wait().await.unwrap();
}
