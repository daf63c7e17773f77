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
//!
//! One file a phase (`creation`, `retrieval`, `redemption`, `webhooks`, `batches`, `federation`), each an `impl Bench`
//! that pushes its rows; the limits they are compared with are in `limits` (fsync, pgbench),
//! `ceiling` (the store ceiling and its rows) and `minimal` (the minimal endpoint and its rows);
//! `table` makes and prints the rows.

mod api;
mod batches;
mod ceiling;
mod creation;
mod federation;
mod limits;
mod load;
mod minimal;
mod psql;
mod receiver;
mod redemption;
mod retrieval;
mod server;
mod table;
mod webhooks;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use crate::api::{Api, Org};
use crate::load::Stats;
use crate::server::Server;
use crate::table::{Row, row};

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
    /// Run only these phases (comma-separated: create, retrieval, redemption, webhooks, batch,
    /// federation). The
    /// store ceiling runs with `create`, the minimal JSON endpoint with `retrieval`.
    #[arg(long, value_delimiter = ',')]
    phases: Vec<String>,
}

impl Args {
    fn runs(&self, phase: &str) -> bool {
        self.phases.is_empty() || self.phases.iter().any(|p| p == phase)
    }
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
    if bench.args.runs("batch") {
        bench.batches().await?;
    }
    if bench.args.runs("federation") {
        bench.federation().await?;
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
