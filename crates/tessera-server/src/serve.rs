//! Running the server: bind, serve until a shutdown signal, finish in-flight requests.

use tessera_store::Store;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::worker::Worker;

use crate::config::Config;

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
    let listen = config.listen;
    let with_worker = config.worker;
    let (router, state) = crate::app::build(store, config).await?;
    let listener = TcpListener::bind(listen).await?;
    tracing::info!(address = %listener.local_addr()?, worker = with_worker, "tessera is listening");
    let stop = CancellationToken::new();
    let worker = with_worker.then(|| tokio::spawn(Worker::for_app(&state).run(stop.clone())));
    let signal = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        signal.cancel();
    });
    let until = stop.clone();
    axum::serve(listener, router)
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
    let outbound = crate::outbound::OutboundClient::from_config(&config)?;
    let stop = CancellationToken::new();
    let worker = tokio::spawn(Worker::new(store, outbound, &config).run(stop.clone()));
    shutdown_signal().await;
    stop.cancel();
    let _ = worker.await;
    Ok(())
}
