//! `tessera-bench`: starts the real `tessera` binary on a fresh database, drives it over HTTP from
//! this separate process at fixed offered rates (and closed loops for peak throughput), measures
//! the limits it is compared with in the same run, and prints one table.
//!
//! ```sh
//! cargo build --release -p tessera -p tessera-bench
//! target/release/tessera-bench                          # embedded SQLite
//! target/release/tessera-bench --postgres URL          # PostgreSQL (with pgbench)
//! ```

mod api;
mod limits;
mod load;
mod receiver;
mod server;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use serde_json::json;

use crate::api::{Api, Org};
use crate::load::{Stats, closed_loop, open_loop, percentiles};
use crate::receiver::{Receiver, now_ms};
use crate::server::Server;

#[derive(Parser)]
#[command(about = "Benchmarks Tessera over HTTP and prints a table")]
struct Args {
    /// Benchmark PostgreSQL at this URL (a dedicated database; its tables are created fresh)
    /// instead of the embedded SQLite database.
    #[arg(long)]
    postgres: Option<String>,
    /// The `tessera` binary (default: next to this one).
    #[arg(long)]
    tessera: Option<PathBuf>,
    /// Shorter phases, for a quick look.
    #[arg(long)]
    quick: bool,
}

struct Row {
    what: String,
    result: String,
    target: String,
    verdict: String,
}

fn row(what: &str, result: String, target: &str, met: Option<bool>) -> Row {
    Row {
        what: what.into(),
        result,
        target: target.into(),
        verdict: match met {
            Some(true) => "met".into(),
            Some(false) => "missed".into(),
            None => "—".into(),
        },
    }
}

fn fmt_stats(s: &Stats) -> String {
    format!(
        "{:.0}/s, p50 {:.1} ms, p99 {:.1} ms",
        s.throughput(),
        s.p50_ms,
        s.p99_ms
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binary = args.tessera.clone().unwrap_or_else(server::default_binary);
    let phase = if args.quick {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(5)
    };
    let dir = tempfile::tempdir()?;
    let sqlite_path = dir.path().join("tessera.db");
    let (url, backend) = match &args.postgres {
        Some(u) => (u.clone(), "PostgreSQL"),
        None => (format!("sqlite://{}", sqlite_path.display()), "SQLite"),
    };
    let mut rows = Vec::new();
    eprintln!(
        "measuring the serial fsync rate of {}",
        dir.path().display()
    );
    let fsync = limits::serial_fsync_rate(dir.path(), Duration::from_secs(3))?;
    rows.push(row(
        "disk: serial write+fdatasync",
        format!("{fsync:.0}/s"),
        "(the limit)",
        None,
    ));

    let server = Server::start(&binary, &url, &["serve"]).await?;
    let api = Api::new(&server.base);
    let a = api.org("Source").await?;
    let b = api.org("Destination").await?;
    let connection = api.connection(&a, &b).await?;
    eprintln!("creating source inquiries");
    let mut inquiries = Vec::new();
    for _ in 0..100 {
        inquiries.push(api.completed_inquiry(&a).await?);
    }
    let inquiries = Arc::new(inquiries);
    let size_before = db_size(&args, &sqlite_path);

    // Share-token creation: a sweep of offered rates to find the knee (p99 ≤ 25 ms).
    let create = {
        let (api, key, cxn, inq) = (
            api.clone(),
            a.key.clone(),
            connection.clone(),
            inquiries.clone(),
        );
        move |i: u64| {
            let (api, key, cxn, inq) = (api.clone(), key.clone(), cxn.clone(), inq.clone());
            async move {
                api.share_token(&key, &cxn, &inq[i as usize % inq.len()])
                    .await
                    .is_some()
            }
        }
    };
    let mut created = 0u64;
    let mut knee: Option<Stats> = None;
    let mut sweep = Vec::new();
    for rate in [
        100.0, 200.0, 400.0, 800.0, 1200.0, 1600.0, 2400.0, 3200.0, 4800.0, 6400.0,
    ] {
        let s = open_loop(rate, phase, 2000, create.clone()).await;
        created += s.ok;
        eprintln!(
            "create at {rate}/s offered: {} (errors {}, dropped {})",
            fmt_stats(&s),
            s.errors,
            s.dropped
        );
        let kept_up = s.errors == 0 && s.dropped == 0 && s.throughput() >= 0.95 * rate;
        let fast = s.p99_ms <= 25.0;
        sweep.push(s.clone());
        if kept_up && fast {
            knee = Some(s);
        } else if !kept_up || s.p99_ms > 250.0 {
            break;
        }
    }
    let peak = closed_loop(32, phase, create.clone()).await;
    created += peak.ok;
    eprintln!("create, 32 clients back to back: {}", fmt_stats(&peak));
    let knee_rate = knee.as_ref().map_or(0.0, Stats::throughput);
    let knee_text = knee.as_ref().map_or_else(
        || "no rate kept p99 ≤ 25 ms".into(),
        |k| format!("knee {}", fmt_stats(k)),
    );
    match &args.postgres {
        None => rows.push(row(
            "share-token creation, durable",
            format!(
                "{knee_text}; peak {:.0}/s (p99 {:.1} ms) = {:.1}× fsync",
                peak.throughput(),
                peak.p99_ms,
                peak.throughput() / fsync
            ),
            "≥ 1.5× serial fsync rate; p99 ≤ 25 ms at the knee",
            Some(knee_rate >= 1.5 * fsync),
        )),
        Some(pg) => {
            let conc = 8;
            let api_conc = closed_loop(conc, phase, create.clone()).await;
            created += api_conc.ok;
            let ids = pg_ids(pg, &a, &b, &connection, &inquiries[0])?;
            let tps = limits::pgbench_share_token(pg, &ids, conc, phase.as_secs())?;
            rows.push(row(
                "pgbench: the same SQL, 8 clients",
                format!("{tps:.0} tx/s"),
                "(the limit)",
                None,
            ));
            rows.push(row(
                "share-token creation, durable",
                format!(
                    "{knee_text}; 8 clients {:.0}/s = {:.2}× pgbench; peak (32 clients) {:.0}/s",
                    api_conc.throughput(),
                    api_conc.throughput() / tps,
                    peak.throughput()
                ),
                "≥ 0.7× pgbench; p99 ≤ 25 ms at the knee",
                Some(api_conc.throughput() >= 0.7 * tps && knee.is_some()),
            ));
        }
    }

    // Retrieval.
    eprintln!("preparing tokens");
    let tokens: Vec<String> = {
        let mut t = Vec::new();
        for i in 0..2400 {
            if let Some(id) = api
                .share_token(&a.key, &connection, &inquiries[i % inquiries.len()])
                .await
            {
                t.push(id);
            }
        }
        t
    };
    created += tokens.len() as u64;
    let tokens = Arc::new(tokens);
    let read = {
        let (api, key, toks) = (api.clone(), b.key.clone(), tokens.clone());
        move |i: u64| {
            let (api, key, toks) = (api.clone(), key.clone(), toks.clone());
            async move {
                let id = &toks[(i as usize * 7919) % toks.len()];
                let req = api
                    .http
                    .get(format!("{}/api/v1/connect/share-tokens/{id}", api.base))
                    .bearer_auth(&key);
                api.status(req).await == Some(200)
            }
        }
    };
    let retrieval = closed_loop(32, phase, read).await;
    eprintln!("retrieval: {}", fmt_stats(&retrieval));
    rows.push(row(
        "share-token retrieval (32 clients)",
        fmt_stats(&retrieval),
        "≥ 10,000/s",
        Some(retrieval.throughput() >= 10_000.0),
    ));

    // Redemption end to end at a fixed rate: from the redeem call until the redeemed event is
    // visible through the API (polled every 5 ms).
    let rate = 200.0;
    let n = ((rate * phase.as_secs_f64() * 2.0) as usize).min(tokens.len());
    let sent: Arc<std::sync::Mutex<std::collections::HashMap<String, f64>>> = Default::default();
    let seen: Arc<std::sync::Mutex<std::collections::HashMap<String, f64>>> = Default::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = tokio::spawn(poll_redeemed(
        api.clone(),
        b.key.clone(),
        seen.clone(),
        stop.clone(),
    ));
    let redeem = {
        let (api, key, toks, sent) = (api.clone(), b.key.clone(), tokens.clone(), sent.clone());
        move |i: u64| {
            let (api, key, toks, sent) = (api.clone(), key.clone(), toks.clone(), sent.clone());
            async move {
                let id = toks[i as usize].clone();
                if let Ok(mut s) = sent.lock() {
                    s.insert(id.clone(), now_ms());
                }
                let req = api
                    .http
                    .post(format!(
                        "{}/api/v1/connect/share-tokens/{id}/redeem",
                        api.base
                    ))
                    .bearer_auth(&key);
                api.status(req).await == Some(200)
            }
        }
    };
    let calls = open_loop(rate, Duration::from_secs_f64(n as f64 / rate), 2000, redeem).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.lock().map(|s| s.len()).unwrap_or(0) < calls.ok as usize && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = poller.await;
    let latencies: Vec<f64> = {
        let (s, v) = (
            sent.lock().map(|s| s.clone()).unwrap_or_default(),
            seen.lock().map(|s| s.clone()).unwrap_or_default(),
        );
        v.iter()
            .filter_map(|(id, t)| s.get(id).map(|t0| t - t0))
            .collect()
    };
    let redeemed = latencies.len();
    let (p50, p99) = percentiles(latencies);
    eprintln!(
        "redemption: {redeemed}/{} redeemed, p50 {p50:.1} ms, p99 {p99:.1} ms",
        calls.ok
    );
    rows.push(row(
        "redemption end to end at 200/s",
        format!(
            "{redeemed} of {} redeemed; p50 {p50:.1} ms, p99 {p99:.1} ms",
            calls.ok
        ),
        "p99 ≤ 100 ms at 200/s",
        Some(p99 <= 100.0 && redeemed as u64 == calls.ok),
    ));

    // Webhooks: latency at a steady event rate, then throughput draining a burst.
    let rx = Receiver::default();
    let hook = rx.start().await?;
    api.post(
        "/api/v1/webhooks",
        &a.key,
        json!({"data": {"attributes": {"url": hook, "enabled-events": ["inquiry.created"]}}}),
    )
    .await?;
    let make_inquiry = {
        let (api, key) = (api.clone(), a.key.clone());
        move |_i: u64| {
            let (api, key) = (api.clone(), key.clone());
            async move {
                let req = api
                    .http
                    .post(format!("{}/api/v1/inquiries", api.base))
                    .bearer_auth(&key)
                    .json(&json!({"data": {"attributes": {"reference-id": "bench"}}}));
                api.status(req).await == Some(201)
            }
        }
    };
    let steady = open_loop(200.0, phase, 2000, make_inquiry.clone()).await;
    wait_for(&rx, steady.ok as usize, Duration::from_secs(30)).await;
    let arrivals = rx.take();
    let (l50, l99) = percentiles(
        arrivals
            .iter()
            .map(|a| a.at_ms - a.event_created_ms)
            .collect(),
    );
    let burst = closed_loop(32, phase, make_inquiry).await;
    wait_for(&rx, burst.ok as usize, Duration::from_secs(120)).await;
    let arrivals = rx.take();
    let first = arrivals
        .iter()
        .map(|a| a.at_ms)
        .fold(f64::INFINITY, f64::min);
    let last = arrivals.iter().map(|a| a.at_ms).fold(0.0, f64::max);
    let per_sec = arrivals.len() as f64 / ((last - first) / 1000.0).max(0.001);
    eprintln!(
        "webhooks: {} deliveries at {per_sec:.0}/s (events made at {:.0}/s); event→first attempt p50 {l50:.1} ms p99 {l99:.1} ms",
        arrivals.len(),
        burst.throughput()
    );
    rows.push(row(
        "webhook deliveries, local receiver",
        format!("{per_sec:.0}/s sustained over {} deliveries (events made at {:.0}/s); event→first attempt p50 {l50:.1} ms, p99 {l99:.1} ms at 200 events/s", arrivals.len(), burst.throughput()),
        "≥ 2,000/s",
        Some(per_sec >= 2000.0),
    ));

    let rss = server.peak_rss_mib();
    rows.push(row(
        "server peak RSS",
        format!("{rss:.0} MiB"),
        "≤ 150 MiB",
        Some(rss <= 150.0),
    ));
    let size_after = db_size(&args, &sqlite_path);
    let per_100k = (size_after.saturating_sub(size_before)) as f64 / created.max(1) as f64
        * 100_000.0
        / (1024.0 * 1024.0);
    rows.push(row(
        "database size per 100,000 tokens",
        format!("{per_100k:.0} MiB (each token with its 2 events; {created} tokens made)"),
        "(reported)",
        None,
    ));

    println!("\n### {backend}\n");
    println!("| measure | result | target | |");
    println!("|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} |",
            r.what, r.result, r.target, r.verdict
        );
    }
    println!("\nOffered-rate sweep of share-token creation:\n");
    println!("| offered | achieved | p50 | p99 | max | errors | dropped |");
    println!("|---|---|---|---|---|---|---|");
    for s in sweep {
        println!(
            "| {:.0}/s | {:.0}/s | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} |",
            s.offered.unwrap_or(0.0),
            s.throughput(),
            s.p50_ms,
            s.p99_ms,
            s.max_ms,
            s.errors,
            s.dropped
        );
    }
    Ok(())
}

async fn wait_for(rx: &Receiver, n: usize, limit: Duration) {
    let deadline = Instant::now() + limit;
    while rx.count() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls the destination's `inbound-redeemed` events and notes when each token first shows up.
async fn poll_redeemed(
    api: Api,
    key: String,
    seen: Arc<std::sync::Mutex<std::collections::HashMap<String, f64>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) {
    let url = format!(
        "{}/api/v1/events?filter[name]=connect/share-token.inbound-redeemed&page[size]=100",
        api.base
    );
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        if let Ok(r) = api.http.get(&url).bearer_auth(&key).send().await
            && let Ok(v) = r.json::<serde_json::Value>().await
        {
            let t = now_ms();
            if let (Some(list), Ok(mut s)) = (v["data"].as_array(), seen.lock()) {
                for e in list {
                    if let Some(id) = e["attributes"]["payload"]["data"]["id"].as_str() {
                        s.entry(id.to_owned()).or_insert(t);
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn db_size(args: &Args, sqlite: &std::path::Path) -> u64 {
    match &args.postgres {
        None => server::sqlite_size(sqlite),
        Some(url) => std::process::Command::new("psql")
            .args([
                url.as_str(),
                "-tAc",
                "select pg_database_size(current_database())",
            ])
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(0),
    }
}

fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    let out = std::process::Command::new("psql")
        .args([url, "-tAc", sql])
        .output()
        .context("psql")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn pg_ids(
    url: &str,
    a: &Org,
    b: &Org,
    connection: &str,
    inquiry: &str,
) -> anyhow::Result<limits::Ids> {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(a.key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(limits::Ids {
        key_hash: hash,
        connection: connection.into(),
        inquiry: inquiry.into(),
        source_org: a.id.clone(),
        source_env: psql(
            url,
            &format!(
                "select id from environments where organization_id = '{}' and kind = 'sandbox'",
                a.id
            ),
        )?,
        destination_org: b.id.clone(),
        destination_env: psql(
            url,
            &format!(
                "select id from environments where organization_id = '{}' and kind = 'sandbox'",
                b.id
            ),
        )?,
    })
}
