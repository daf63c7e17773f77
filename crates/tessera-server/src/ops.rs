//! Operations endpoints: `/healthz`, `/readyz`, `/metrics`, `/api/v1/openapi.json`.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use metrics_util::MetricKindMask;
use tessera_core::{Error, Status, codes};

use tessera_edge::error::error_response;
use tessera_edge::http::json_response;
use tessera_edge::state::AppState;

/// How long a gauge nobody sets stays exported.
const GAUGE_IDLE: std::time::Duration = std::time::Duration::from_secs(300);

/// The process's Prometheus recorder (installed once).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
            .unwrap_or_else(|_| PrometheusBuilder::new())
            // Gauges are set by the worker's housekeeping every second; one not set for five
            // minutes describes something gone (a removed peer) and is no longer exported.
            .idle_timeout(MetricKindMask::GAUGE, Some(GAUGE_IDLE));
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (tests build several apps in one process).
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// The operations routes; `openapi` is the generated description of the tenant API.
pub fn routes(openapi: Arc<String>) -> Router<AppState> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { json_response(StatusCode::OK, br#"{"status":"ok"}"#.to_vec()) }),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = openapi.clone();
                async move { json_response(StatusCode::OK, doc.as_bytes().to_vec()) }
            }),
        )
}

/// 200 when the database answers and migrations are current; otherwise 503, so that a load
/// balancer or orchestrator stops sending traffic (the cause is logged).
async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ready().await {
        Ok(()) => json_response(StatusCode::OK, br#"{"status":"ready"}"#.to_vec()),
        Err(e) if e.status == Status::Unavailable => error_response(e),
        Err(e) => {
            tracing::warn!(error = %e, cause = ?e.cause, "not ready: the database does not answer");
            error_response(Error::new(
                Status::Unavailable,
                codes::UNAVAILABLE,
                "the database does not answer",
            ))
        }
    }
}

async fn metrics() -> Response {
    let body = metrics_handle().render();
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}
