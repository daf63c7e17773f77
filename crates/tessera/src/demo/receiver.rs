//! The demo's webhook receiver: a small HTTP server on loopback that checks each delivery's
//! signature with the webhook's secret and prints what arrived.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tessera_core::signing::verify_standard_signature;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::demo::Timeline;

/// What the receiver has seen, shared with the demo script.
#[derive(Clone, Default)]
pub struct Received {
    /// The webhook's signing secret, once the webhook exists.
    pub secret: Arc<Mutex<Option<String>>>,
    /// The event names delivered so far.
    pub names: Arc<Mutex<HashSet<String>>>,
}

impl Received {
    pub fn has(&self, name: &str) -> bool {
        self.names.lock().is_ok_and(|n| n.contains(name))
    }
}

#[derive(Clone)]
struct Ctx {
    received: Received,
    timeline: Timeline,
}

async fn receive(State(ctx): State<Ctx>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let name = doc["data"]["attributes"]["name"]
        .as_str()
        .unwrap_or("?")
        .to_owned();
    let secret = ctx.received.secret.lock().ok().and_then(|s| s.clone());
    let now = unix_now();
    let verdict = match secret {
        Some(secret) => match verify_standard_signature(
            &secret,
            &header("webhook-id"),
            &header("webhook-timestamp"),
            &header("webhook-signature"),
            &body,
            now,
            300,
        ) {
            Ok(()) => "signature ok",
            Err(_) => "BAD SIGNATURE",
        },
        None => "no secret yet",
    };
    ctx.timeline.line(
        "webhook",
        &format!(
            "receiver got {name} (attempt {}, {verdict})",
            header("persona-webhook-attempts-made")
        ),
    );
    if let Ok(mut names) = ctx.received.names.lock() {
        names.insert(name);
    }
    StatusCode::NO_CONTENT
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

/// Starts the receiver on loopback; returns its URL.
pub async fn start(
    received: Received,
    timeline: Timeline,
    stop: CancellationToken,
) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/webhooks", listener.local_addr()?);
    let app = Router::new()
        .route("/webhooks", post(receive))
        .with_state(Ctx { received, timeline });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
    });
    Ok(url)
}
