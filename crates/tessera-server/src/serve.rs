//! Running the server: bind, serve until a shutdown signal, finish in-flight requests.

use tessera_store::Store;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use tessera_edge::config::Config;

use crate::worker::{self, Worker};

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Serves the API (and, when configured, runs the worker) until shutdown.
pub async fn run(store: Store, config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen).await?;
    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        signal.cancel();
    });
    run_on(listener, store, config, stop).await
}

/// Serves on a bound listener until `stop` is cancelled (the demo binds its own).
pub async fn run_on(
    listener: TcpListener,
    store: Store,
    config: Config,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let with_worker = config.worker;
    let (router, state) = crate::app::build(store, config).await?;
    tracing::info!(address = %listener.local_addr()?, worker = with_worker, "tessera is listening");
    let worker = with_worker.then(|| tokio::spawn(worker::for_app(&state).run(stop.clone())));
    let until = stop.clone();
    // The peer address counts failed dashboard sign-ins per client.
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move { until.cancelled().await })
    .await?;
    stop.cancel();
    if let Some(w) = worker {
        let _ = w.await;
    }
    Ok(())
}

/// Runs the worker alone until shutdown.
pub async fn run_worker(store: Store, config: Config) -> anyhow::Result<()> {
    let outbound = config.outbound_client()?;
    let peers = config.peer_outbound_client()?;
    let stop = CancellationToken::new();
    let worker = Worker::new(store, outbound, worker::settings(&config)).with_peer_outbound(peers);
    let worker = tokio::spawn(worker.run(stop.clone()));
    shutdown_signal().await;
    stop.cancel();
    let _ = worker.await;
    Ok(())
}
