//! A minimal axum JSON endpoint, the yardstick of retrieval: one GET route that answers with a
//! fixed JSON document (a real share-token document, so the body is the same size), no
//! authentication, no database. It runs in this process, on the same two cores as the load
//! generator (and the idle `tessera` server), so it is a ceiling of HTTP + JSON on this machine
//! as measured by this load generator, not of axum alone.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

async fn document(State(doc): State<Arc<Value>>) -> Json<Value> {
    Json(doc.as_ref().clone())
}

/// Starts the endpoint on loopback; returns the URL of its one route and the server's task
/// (abort it when done).
pub async fn start(doc: Value) -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let app = Router::new()
        .route("/doc", get(document))
        .with_state(Arc::new(doc));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://{addr}/doc"), task))
}
