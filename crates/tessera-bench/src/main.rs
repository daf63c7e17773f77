//! `tessera-bench`: starts the real `tessera` binary on a fresh database, drives it over HTTP from
//! this separate process at fixed offered rates (and closed loops for peak throughput), measures
//! the limits it is compared with in the same run (the disk's fsync rate, pgbench, the store's
//! own creation ceiling in this process, a minimal axum JSON endpoint), and prints one table.
//!
//! ```sh
//! cargo build --release -p tessera -p tessera-bench
//! target/release/tessera-bench                          # embedded SQLite
//! target/release/tessera-bench --postgres URL          # PostgreSQL (with pgbench)
//! ```

mod api;
mod ceiling;
mod limits;
mod load;
mod minimal;
mod receiver;
mod server;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use serde_json::json;

use crate::api::{Api, Org};
use crate::load::{Stats, closed_loop, closed_loop_n, open_loop, percentiles};
use crate::receiver::{Receiver, now_ms};
use crate::server::Server;

#[derive(Parser)]
#[command(about = "Benchmarks Tessera over HTTP and prints a table")]
struct Args {
    /// Benchmark PostgreSQL at this URL (a dedicated, empty database) instead of the embedded
    /// SQLite database.
    #[arg(long)]
    postgres: Option<String>,
    /// The `tessera` binary (default: next to this one).
    #[arg(long)]
    tessera: Option<PathBuf>,
    /// Shorter phases, for a quick look.
    #[arg(long)]
    quick: bool,
    /// Run only these phases (comma-separated: create, retrieval, redemption, webhooks). The
    /// store ceiling runs with `create`, the minimal JSON endpoint with `retrieval`.
    #[arg(long, value_delimiter = ',')]
    phases: Vec<String>,
}

impl Args {
    fn runs(&self, phase: &str) -> bool {
        self.phases.is_empty() || self.phases.iter().any(|p| p == phase)
    }
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

/// Everything the phases share.
struct Bench {
    args: Args,
    phase: Duration,
    api: Api,
    a: Org,
    b: Org,
    connection: String,
    inquiries: Arc<Vec<String>>,
    fsync: f64,
    rows: Vec<Row>,
    /// The sweep's rates, each with the SQLite units per commit it saw.
    sweep: Vec<(Stats, Option<f64>)>,
    created: u64,
    server: Server,
    binary: PathBuf,
    url: String,
    /// The benchmark's temporary directory (the store ceiling's SQLite database goes here).
    dir: PathBuf,
    /// The highest peak RSS of the server processes replaced so far.
    peak_rss: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binary = args.tessera.clone().unwrap_or_else(server::default_binary);
    let phase = Duration::from_secs(if args.quick { 2 } else { 5 });
    let dir = tempfile::tempdir()?;
    let sqlite_path = dir.path().join("tessera.db");
    let (url, backend) = match &args.postgres {
        Some(u) => (u.clone(), "PostgreSQL"),
        None => (format!("sqlite://{}", sqlite_path.display()), "SQLite"),
    };
    eprintln!(
        "measuring the serial fsync rate of {}",
        dir.path().display()
    );
    let fsync = limits::serial_fsync_rate(dir.path(), Duration::from_secs(3))?;
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
    let mut bench = Bench {
        args,
        phase,
        api,
        a,
        b,
        connection,
        inquiries: Arc::new(inquiries),
        fsync,
        rows: vec![row(
            "disk: serial write+fdatasync",
            format!("{fsync:.0}/s"),
            "(the limit)",
            None,
        )],
        sweep: Vec::new(),
        created: 0,
        server,
        binary,
        url,
        dir: dir.path().to_owned(),
        peak_rss: 0.0,
    };
    let size_before = db_size(&bench.args, &sqlite_path);
    if bench.args.runs("create") {
        bench.creation().await?;
    }
    eprintln!("preparing tokens");
    let tokens = Arc::new(bench.tokens(2400).await);
    if bench.args.runs("retrieval") {
        bench.retrieval(&tokens).await;
    }
    if bench.args.runs("redemption") {
        bench.redemption(&tokens).await;
    }
    if bench.args.runs("webhooks") {
        bench.webhooks().await?;
    }
    let rss = bench.peak_rss.max(bench.server.peak_rss_mib());
    bench.rows.push(row(
        "server peak RSS",
        format!("{rss:.0} MiB"),
        "≤ 150 MiB",
        Some(rss <= 150.0),
    ));
    let size_after = db_size(&bench.args, &sqlite_path);
    let per_100k = size_after.saturating_sub(size_before) as f64 / bench.created.max(1) as f64
        * 100_000.0
        / (1024.0 * 1024.0);
    bench.rows.push(row(
        "database size per 100,000 tokens",
        format!(
            "{per_100k:.0} MiB (each token with its 2 events; {} tokens made)",
            bench.created
        ),
        "(reported)",
        None,
    ));
    bench.print(backend);
    Ok(())
}

impl Bench {
    /// Creates one inquiry of the source (one `inquiry.created` event).
    fn inquiry_fn(
        &self,
    ) -> impl Fn(u64) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>
    + Clone
    + Send
    + Sync
    + 'static {
        let (api, key) = (self.api.clone(), self.a.key.clone());
        move |_i: u64| {
            let (api, key) = (api.clone(), key.clone());
            Box::pin(async move {
                let req = api
                    .http
                    .post(format!("{}/api/v1/inquiries", api.base))
                    .bearer_auth(&key)
                    .json(&json!({"data": {"attributes": {"reference-id": "bench"}}}));
                api.status(req).await == Some(201)
            })
        }
    }

    fn create_fn(
        &self,
    ) -> impl Fn(u64) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>
    + Clone
    + Send
    + Sync
    + 'static {
        let (api, key, cxn, inq) = (
            self.api.clone(),
            self.a.key.clone(),
            self.connection.clone(),
            self.inquiries.clone(),
        );
        move |i: u64| {
            let (api, key, cxn, inq) = (api.clone(), key.clone(), cxn.clone(), inq.clone());
            Box::pin(async move {
                api.share_token(&key, &cxn, &inq[i as usize % inq.len()])
                    .await
                    .is_some()
            })
        }
    }

    /// Share-token creation: a sweep of offered rates to find the knee (p99 ≤ 25 ms), then a
    /// closed loop for the peak; on PostgreSQL, the same at 8 clients against pgbench.
    async fn creation(&mut self) -> anyhow::Result<()> {
        let create = self.create_fn();
        let mut knee: Option<Stats> = None;
        for rate in [
            100.0, 200.0, 400.0, 800.0, 1200.0, 1600.0, 2400.0, 3200.0, 4800.0, 6400.0,
        ] {
            let before = self.commit_counters().await;
            let s = open_loop(rate, self.phase, 2000, create.clone()).await;
            let per_commit = match (before, self.commit_counters().await) {
                (Some((c0, u0)), Some((c1, u1))) if c1 > c0 => Some((u1 - u0) / (c1 - c0)),
                _ => None,
            };
            self.created += s.ok;
            eprintln!(
                "create at {rate}/s offered: {} (errors {}, dropped {})",
                fmt_stats(&s),
                s.errors,
                s.dropped
            );
            let kept_up = s.errors == 0 && s.dropped == 0 && s.throughput() >= 0.95 * rate;
            self.sweep.push((s.clone(), per_commit));
            if kept_up && s.p99_ms <= 25.0 {
                knee = Some(s);
            } else if !kept_up || s.p99_ms > 250.0 {
                break;
            }
        }
        let peak = closed_loop(32, self.phase, create.clone()).await;
        self.created += peak.ok;
        eprintln!("create, 32 clients back to back: {}", fmt_stats(&peak));
        let knee_rate = knee.as_ref().map_or(0.0, Stats::throughput);
        let knee_text = knee.as_ref().map_or_else(
            || "no rate kept p99 ≤ 25 ms".into(),
            |k| format!("knee {}", fmt_stats(k)),
        );
        match self.args.postgres.clone() {
            None => self.rows.push(row(
                "share-token creation, durable",
                format!(
                    "{knee_text} = {:.1}× fsync; peak {:.0}/s (p99 {:.1} ms)",
                    knee_rate / self.fsync,
                    peak.throughput(),
                    peak.p99_ms
                ),
                "≥ 1.5× serial fsync rate; p99 ≤ 25 ms at the knee",
                Some(knee_rate >= 1.5 * self.fsync),
            )),
            Some(pg) => {
                let conc = 8;
                let api_conc = closed_loop(conc, self.phase, create).await;
                self.created += api_conc.ok;
                let ids = pg_ids(&pg, &self.a, &self.b, &self.connection, &self.inquiries[0])?;
                let tps = limits::pgbench_share_token(&pg, &ids, conc, self.phase.as_secs())?;
                self.rows.push(row(
                    "pgbench: the same SQL, 8 clients",
                    format!("{tps:.0} tx/s"),
                    "(the limit)",
                    None,
                ));
                self.rows.push(row(
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
        self.ceiling(&peak).await;
        Ok(())
    }

    /// The store ceiling: the share-token unit of work from 32 tasks back to back in this
    /// process, on a fresh database with the same data, no HTTP; HTTP's peak (32 clients) is
    /// reported as a fraction of it.
    async fn ceiling(&mut self, http_peak: &Stats) {
        let sqlite = self.args.postgres.is_none();
        let measured = self.store_ceiling().await;
        let (what, ratio_what) = (
            "store ceiling: creation in process (32 tasks)",
            "share-token creation: HTTP peak / store ceiling",
        );
        let ceiling = match measured {
            Ok(s) => s,
            Err(e) => {
                eprintln!("store ceiling: {e:#}");
                self.rows.push(row(
                    ratio_what,
                    format!("not measured: {e:#}"),
                    if sqlite { "≥ 0.8×" } else { "(reported)" },
                    sqlite.then_some(false),
                ));
                return;
            }
        };
        eprintln!(
            "store ceiling, 32 tasks back to back: {} (errors {})",
            fmt_stats(&ceiling),
            ceiling.errors
        );
        let errors = if ceiling.errors > 0 {
            format!("; {} errors", ceiling.errors)
        } else {
            String::new()
        };
        self.rows.push(row(
            what,
            format!(
                "{}{errors} (the server's unit of work through tessera-store, fresh database, no HTTP)",
                fmt_stats(&ceiling)
            ),
            "(the limit)",
            None,
        ));
        let ratio = http_peak.throughput() / ceiling.throughput();
        self.rows.push(row(
            ratio_what,
            format!(
                "{ratio:.2}× ({:.0}/s over HTTP, 32 clients ÷ {:.0}/s)",
                http_peak.throughput(),
                ceiling.throughput()
            ),
            if sqlite {
                "≥ 0.8×"
            } else {
                "(reported; the 0.8× target is SQLite's)"
            },
            sqlite.then_some(ratio >= 0.8 && ceiling.errors == 0),
        ));
    }

    async fn store_ceiling(&self) -> anyhow::Result<Stats> {
        eprintln!("store ceiling: setting up a fresh database");
        let db = match &self.args.postgres {
            None => ceiling::CeilingDb::sqlite(&self.dir),
            Some(url) => ceiling::CeilingDb::postgres(url)?,
        };
        let measured = async {
            let target = ceiling::set_up(&self.binary, &db, self.inquiries.len()).await?;
            let create = ceiling::share_token_creation(&db, target).await?;
            anyhow::Ok(closed_loop(32, self.phase, move |i| create(i)).await)
        }
        .await;
        db.drop_schema();
        measured
    }

    /// `n` fresh tokens for the later phases.
    async fn tokens(&mut self, n: usize) -> Vec<String> {
        let mut t = Vec::with_capacity(n);
        for i in 0..n {
            if let Some(id) = self
                .api
                .share_token(
                    &self.a.key,
                    &self.connection,
                    &self.inquiries[i % self.inquiries.len()],
                )
                .await
            {
                t.push(id);
            }
        }
        self.created += t.len() as u64;
        t
    }

    async fn retrieval(&mut self, tokens: &Arc<Vec<String>>) {
        let read = {
            let (api, key, toks) = (self.api.clone(), self.b.key.clone(), tokens.clone());
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
        let retrieval = closed_loop(32, self.phase, read).await;
        eprintln!("retrieval: {}", fmt_stats(&retrieval));
        self.rows.push(row(
            "share-token retrieval (32 clients)",
            fmt_stats(&retrieval),
            "≥ 10,000/s",
            Some(retrieval.throughput() >= 10_000.0),
        ));
        self.minimal_endpoint(&retrieval, tokens).await;
    }

    /// A minimal axum JSON endpoint serving a share-token document, driven like retrieval;
    /// retrieval is reported as a fraction of it.
    async fn minimal_endpoint(&mut self, retrieval: &Stats, tokens: &Arc<Vec<String>>) {
        let sqlite = self.args.postgres.is_none();
        let ratio_what = "share-token retrieval / minimal JSON endpoint";
        let target = if sqlite {
            "≥ 0.5×"
        } else {
            "(reported; the 0.5× target is SQLite's)"
        };
        let minimal = match self.drive_minimal(tokens).await {
            Ok(m) => m,
            Err(e) => {
                eprintln!("minimal endpoint: {e:#}");
                self.rows.push(row(
                    ratio_what,
                    format!("not measured: {e:#}"),
                    target,
                    sqlite.then_some(false),
                ));
                return;
            }
        };
        let (s, size) = minimal;
        eprintln!("minimal JSON endpoint: {}", fmt_stats(&s));
        self.rows.push(row(
            "minimal axum JSON endpoint (32 clients)",
            format!(
                "{}; one GET route answering a {size}-byte share-token document, no auth, no database; served from the bench process, on the same two cores as its load generator",
                fmt_stats(&s)
            ),
            "(the limit)",
            None,
        ));
        let ratio = retrieval.throughput() / s.throughput();
        self.rows.push(row(
            ratio_what,
            format!(
                "{ratio:.2}× ({:.0}/s ÷ {:.0}/s)",
                retrieval.throughput(),
                s.throughput()
            ),
            target,
            sqlite.then_some(ratio >= 0.5),
        ));
    }

    /// Serves one real share-token document from a minimal endpoint and drives it with the
    /// retrieval phase's requests (same client, same headers); returns the stats and body size.
    async fn drive_minimal(&self, tokens: &Arc<Vec<String>>) -> anyhow::Result<(Stats, usize)> {
        let id = tokens.first().context("no tokens")?;
        let doc: serde_json::Value = self
            .api
            .http
            .get(format!(
                "{}/api/v1/connect/share-tokens/{id}",
                self.api.base
            ))
            .bearer_auth(&self.b.key)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let size = serde_json::to_vec(&doc)?.len();
        let (url, server) = minimal::start(doc).await?;
        let read = {
            let (api, key) = (Api::new(&url), self.b.key.clone());
            move |_i: u64| {
                let (api, key, url) = (api.clone(), key.clone(), url.clone());
                async move {
                    let req = api.http.get(url).bearer_auth(&key);
                    api.status(req).await == Some(200)
                }
            }
        };
        let s = closed_loop(32, self.phase, read).await;
        server.abort();
        Ok((s, size))
    }

    /// Redemption end to end at a fixed rate: from the redeem call until the `inbound-redeemed`
    /// event is visible through the API (polled every 5 ms).
    async fn redemption(&mut self, tokens: &Arc<Vec<String>>) {
        let rate = 200.0;
        let n = ((rate * self.phase.as_secs_f64() * 2.0) as usize).min(tokens.len());
        let sent: Arc<Mutex<HashMap<String, f64>>> = Arc::default();
        let seen: Arc<Mutex<HashMap<String, f64>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let poller = tokio::spawn(poll_redeemed(
            self.api.clone(),
            self.b.key.clone(),
            seen.clone(),
            stop.clone(),
        ));
        let redeem = {
            let (api, key, toks, sent) = (
                self.api.clone(),
                self.b.key.clone(),
                tokens.clone(),
                sent.clone(),
            );
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
                    // A redemption is accepted with 202 (Persona 2025-12-08).
                    api.status(req).await == Some(202)
                }
            }
        };
        let calls = open_loop(rate, Duration::from_secs_f64(n as f64 / rate), 2000, redeem).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        while seen.lock().map(|s| s.len()).unwrap_or(0) < calls.ok as usize
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.store(true, Ordering::SeqCst);
        let _ = poller.await;
        let latencies: Vec<f64> = {
            let s = sent.lock().map(|s| s.clone()).unwrap_or_default();
            let v = seen.lock().map(|s| s.clone()).unwrap_or_default();
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
        self.rows.push(row(
            "redemption end to end at 200/s",
            format!(
                "{redeemed} of {} redeemed; p50 {p50:.1} ms, p99 {p99:.1} ms",
                calls.ok
            ),
            "p99 ≤ 100 ms at 200/s",
            Some(p99 <= 100.0 && redeemed as u64 == calls.ok),
        ));
    }

    /// Webhooks: event-to-first-attempt latency at a steady event rate, then the delivery rate
    /// draining a durable backlog.
    async fn webhooks(&mut self) -> anyhow::Result<()> {
        let rx = Receiver::default();
        let hook = rx.start().await?;
        self.api
            .post("/api/v1/webhooks", &self.a.key, json!({"data": {"attributes": {"url": hook, "enabled-events": ["inquiry.created"]}}}))
            .await?;
        let steady = open_loop(200.0, self.phase, 2000, self.inquiry_fn()).await;
        wait_for(&rx, steady.ok as usize, Duration::from_secs(30)).await;
        let arrivals = rx.take();
        let (l50, l99) = percentiles(
            arrivals
                .iter()
                .map(|a| a.at_ms - a.event_created_ms)
                .collect(),
        );
        // Throughput from a durable backlog: events are recorded with no worker running, then
        // a server with its worker drains them, so the rate measured is the delivery rate alone.
        self.restart(&["serve", "--no-worker"]).await?;
        let backlog = if self.args.quick { 3000 } else { 10_000 };
        let made = closed_loop_n(32, backlog, self.inquiry_fn()).await;
        eprintln!("webhooks: {made} events queued; starting the worker");
        self.restart(&["serve"]).await?;
        wait_for(&rx, made, Duration::from_secs(300)).await;
        let arrivals = rx.take();
        let first = arrivals
            .iter()
            .map(|a| a.at_ms)
            .fold(f64::INFINITY, f64::min);
        let last = arrivals.iter().map(|a| a.at_ms).fold(0.0, f64::max);
        let per_sec = arrivals.len() as f64 / ((last - first) / 1000.0).max(0.001);
        eprintln!(
            "webhooks: {} deliveries at {per_sec:.0}/s; event→first attempt p50 {l50:.1} ms p99 {l99:.1} ms",
            arrivals.len(),
        );
        self.rows.push(row(
            "webhook deliveries, local receiver",
            format!(
                "{per_sec:.0}/s draining a backlog of {} deliveries; event→first attempt p50 {l50:.1} ms, p99 {l99:.1} ms at 200 events/s",
                arrivals.len(),
            ),
            "≥ 2,000/s",
            Some(per_sec >= 2000.0),
        ));
        Ok(())
    }

    /// SQLite's group-commit counters from `/metrics`: (commits, units committed).
    async fn commit_counters(&self) -> Option<(f64, f64)> {
        let text = self
            .api
            .http
            .get(format!("{}/metrics", self.api.base))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let value = |name: &str| {
            text.lines()
                .find(|l| l.split_whitespace().next() == Some(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        };
        Some((
            value("tessera_sqlite_commits_total")?,
            value("tessera_sqlite_units_committed_total")?,
        ))
    }

    /// Replaces the server with `tessera <args…>` on the same database (SIGKILL: every
    /// acknowledged write is durable, so this is also a small crash test).
    async fn restart(&mut self, args: &[&str]) -> anyhow::Result<()> {
        self.peak_rss = self.peak_rss.max(self.server.peak_rss_mib());
        // The old one goes first: one server per database at a time.
        self.server.stop();
        self.server = Server::start(&self.binary, &self.url, args).await?;
        self.api = Api::new(&self.server.base);
        Ok(())
    }

    fn print(&self, backend: &str) {
        println!("\n### {backend}\n");
        println!("| measure | result | target | |");
        println!("|---|---|---|---|");
        for r in &self.rows {
            println!(
                "| {} | {} | {} | {} |",
                r.what, r.result, r.target, r.verdict
            );
        }
        if self.sweep.is_empty() {
            return;
        }
        println!("\nOffered-rate sweep of share-token creation:\n");
        println!("| offered | achieved | p50 | p99 | max | errors | dropped | units per commit |");
        println!("|---|---|---|---|---|---|---|---|");
        for (s, per_commit) in &self.sweep {
            println!(
                "| {:.0}/s | {:.0}/s | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} | {} |",
                s.offered.unwrap_or(0.0),
                s.throughput(),
                s.p50_ms,
                s.p99_ms,
                s.max_ms,
                s.errors,
                s.dropped,
                per_commit.map_or_else(|| "—".to_owned(), |u| format!("{u:.1}"))
            );
        }
    }
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
    seen: Arc<Mutex<HashMap<String, f64>>>,
    stop: Arc<AtomicBool>,
) {
    let url = format!(
        "{}/api/v1/events?filter[name]=connect/share-token.inbound-redeemed&page[size]=100",
        api.base
    );
    while !stop.load(Ordering::SeqCst) {
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

/// Runs `sql` with psql and fails if psql does.
fn psql_ok(url: &str, sql: &str) -> anyhow::Result<()> {
    let out = std::process::Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-tAc", sql])
        .output()
        .context("psql")?;
    if !out.status.success() {
        anyhow::bail!(
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
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
