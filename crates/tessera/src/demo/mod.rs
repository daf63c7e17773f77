//! `tessera demo`: Tessera working end to end in one command, on a fresh embedded database.
//!
//! It starts the server (API, dashboard and worker) and a webhook receiver on loopback, then
//! plays a story through the same units of work the API uses — two organizations, a connection,
//! an inquiry with verifications and a document, a webhook, a share token and its redemption —
//! printing each step, the events it caused and the webhook deliveries as they arrive. Then it
//! keeps serving and prints the dashboard's address with a sign-in for each organization.

mod peer;
mod receiver;
mod script;
mod trust;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use tessera_server::Config;
use tessera_store::StoreOptions;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Prints the demo's lines with the time since it started.
#[derive(Clone)]
pub struct Timeline {
    start: Instant,
}

impl Timeline {
    fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }

    /// One line: `[  1.23s] what   text`.
    pub fn line(&self, what: &str, text: &str) {
        println!(
            "[{:>6.2}s] {what:<8} {text}",
            self.start.elapsed().as_secs_f64()
        );
    }
}

/// Options of `tessera demo`.
pub struct DemoArgs {
    pub listen: SocketAddr,
    pub dir: Option<PathBuf>,
    /// Also start a second instance and share with an organization of it (federation).
    pub peer: bool,
}

async fn bind(listen: SocketAddr) -> anyhow::Result<TcpListener> {
    match TcpListener::bind(listen).await {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let any = SocketAddr::new(listen.ip(), 0);
            println!("{listen} is in use; the demo listens on another port.");
            Ok(TcpListener::bind(any).await?)
        }
        Err(e) => Err(e).with_context(|| format!("listening on {listen}")),
    }
}

/// Runs the demo until Ctrl-C.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    // A fresh database: a temporary directory (removed at the end), or an empty one given.
    let temp = match &args.dir {
        Some(_) => None,
        None => Some(
            tempfile::Builder::new()
                .prefix("tessera-demo-")
                .tempdir()
                .context("making a temporary directory")?,
        ),
    };
    let dir = match (&args.dir, &temp) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) => t.path().to_path_buf(),
        (None, None) => anyhow::bail!("no directory for the demo database"),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let db = dir.join("tessera.db");
    if db.exists() {
        anyhow::bail!(
            "{} already holds a database; the demo needs a fresh one (delete it, or pass another --dir)",
            db.display()
        );
    }
    let listener = bind(args.listen).await?;
    let address = listener.local_addr()?;
    let config = Config {
        listen: address,
        database_url: format!("sqlite://{}", db.display()),
        data_dir: dir.clone(),
        // The demo's webhook receiver runs on loopback, which webhooks may not reach by default.
        webhook_allowed_networks: vec!["127.0.0.0/8".into()],
        webhook_retry_scale: 0.01,
        // A peer started by `--peer` runs on loopback too.
        peer_allowed_networks: vec!["127.0.0.0/8".into()],
        public_base_url: Some(format!("http://{address}")),
        ..Config::default()
    };
    // The master key is made in the demo's directory, as on any first start.
    let store = tessera_server::master_key::open_store(&config, StoreOptions::default()).await?;
    let stop = CancellationToken::new();
    let timeline = Timeline::new();
    timeline.line("start", &format!("fresh database in {}", dir.display()));

    let server = tokio::spawn(tessera_server::serve::run_on(
        listener,
        store.clone(),
        config.clone(),
        stop.clone(),
    ));
    let received = receiver::Received::default();
    let receiver_url = receiver::start(received.clone(), timeline.clone(), stop.clone()).await?;
    timeline.line("start", &format!("webhook receiver at {receiver_url}"));

    let story = script::Story::new(store.clone(), config.clone(), timeline.clone(), received);
    let outcome = story.play(&receiver_url).await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            stop.cancel();
            let _ = server.await;
            return Err(e);
        }
    };
    let base = format!("http://{address}");
    let peer = if args.peer {
        let main = peer::Side {
            store: store.clone(),
            config: config.clone(),
            url: base.clone(),
        };
        let side = peer::start(&dir.join("peer"), &stop).await?;
        let (scope, actor) = &outcome.source;
        peer::share(
            &main,
            &side,
            (scope, actor),
            &outcome.source_inquiry,
            &timeline,
        )
        .await?;
        Some(side)
    } else {
        None
    };
    println!();
    println!("Tessera is running. Open the dashboard:");
    println!();
    println!("  {base}/dashboard");
    println!();
    for s in &outcome.sign_ins {
        println!(
            "  {}: email {} password {}",
            s.organization, s.email, s.password
        );
    }
    println!();
    println!(
        "  Acme shared inquiry {} with Beta through share token {}.",
        outcome.source_inquiry, outcome.token
    );
    println!("  Beta's verified copy is inquiry {}.", outcome.copy);
    if let Some(p) = &peer {
        println!(
            "  A second instance (federation) serves at {}: Acme shared the same inquiry with its Gamma Credit.",
            p.url
        );
    }
    println!();
    println!(
        "The API is at {base}/api/v1 (the operator token is in {}).",
        dir.join("admin-token").display()
    );
    match &temp {
        Some(_) => println!("Press Ctrl-C to stop; the demo database is then removed."),
        None => println!(
            "Press Ctrl-C to stop; the demo database stays in {}.",
            dir.display()
        ),
    }
    println!();

    // Keep printing events as they happen (from the dashboard, for instance).
    let follow = tokio::spawn(story.follow_events(stop.clone()));
    tokio::select! {
        () = tessera_server::serve::shutdown_signal() => {}
        () = stop.cancelled() => {}
    }
    stop.cancel();
    let _ = follow.await;
    let served = server.await;
    store.close().await;
    if let Some(p) = peer {
        p.store.close().await;
    }
    drop(temp);
    match served {
        Ok(result) => result,
        Err(e) => Err(e.into()),
    }
}
