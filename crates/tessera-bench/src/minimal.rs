//! A minimal axum JSON endpoint, the yardstick of retrieval: one GET route that answers with a
//! fixed JSON document (a real share-token document, so the body is the same size), no
//! authentication, no database. It runs in this process, on the same two cores as the load
//! generator (and the idle `tessera` server), so it is a ceiling of HTTP + JSON on this machine
//! as measured by this load generator, not of axum alone.
//!
//! `Bench::minimal_endpoint`, at the end, drives it after the retrieval phase and makes its two
//! rows (the endpoint, and retrieval as a fraction of it).

use std::sync::Arc;

use anyhow::Context;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use crate::Bench;
use crate::api::Api;
use crate::load::{Stats, closed_loop};
use crate::table::{fmt_stats, row};

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

impl Bench {
    /// A minimal axum JSON endpoint serving a share-token document, driven like retrieval;
    /// retrieval is reported as a fraction of it.
    pub async fn minimal_endpoint(&mut self, retrieval: &Stats, tokens: &Arc<Vec<String>>) {
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
        let (url, server) = start(doc).await?;
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
}
