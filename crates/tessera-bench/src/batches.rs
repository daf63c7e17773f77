//! The batch phase: share-token creation through a batch (`POST …/share-tokens/batch` with 1,000
//! items, timed from the request until the batch reads `completed`), compared in the same run
//! with single creation (`POST …/share-tokens`, 32 clients back to back) on the same server.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::Bench;
use crate::load::closed_loop;
use crate::table::row;

/// Items per batch (the API's limit).
const ITEMS: usize = 1000;
/// Batches timed.
const BATCHES: usize = 3;

impl Bench {
    /// `n` fresh completed inquiries of the source (a batch names each source once).
    async fn sources(&self, n: usize) -> anyhow::Result<Vec<String>> {
        futures::stream::iter(0..n)
            .map(|_| self.api.completed_inquiry(&self.a))
            .buffer_unordered(32)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }

    /// One batch of `sources`: the seconds from the request until it reads `completed`.
    async fn timed_batch(&self, sources: &[String]) -> anyhow::Result<f64> {
        let items: Vec<Value> = sources.iter().map(|s| json!({"source-id": s})).collect();
        let body =
            json!({"data": {"attributes": {"connection-id": self.connection, "items": items}}});
        let started = Instant::now();
        let v = self
            .api
            .post("/api/v1/connect/share-tokens/batch", &self.a.key, body)
            .await?;
        let id = v["data"]["id"].as_str().context("batch id")?.to_owned();
        let path = format!("/api/v1/connect/share-token-batches/{id}");
        let deadline = started + Duration::from_secs(300);
        loop {
            let b = self
                .api
                .call(reqwest::Method::GET, &path, &self.a.key, None)
                .await?;
            let a = &b["data"]["attributes"];
            if a["status"] == "completed" {
                if a["counts"]["succeeded"] != ITEMS {
                    bail!("batch {id}: {}", a["counts"]);
                }
                return Ok(started.elapsed().as_secs_f64());
            }
            if Instant::now() > deadline {
                bail!("batch {id} did not complete: {}", a["counts"]);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Batch creation (tokens/s) beside single creation, in the same run.
    pub async fn batches(&mut self) -> anyhow::Result<()> {
        eprintln!("creating {} source inquiries for batches", ITEMS * BATCHES);
        let sources = self.sources(ITEMS * BATCHES).await?;
        let single = closed_loop(32, self.phase, self.create_fn()).await;
        self.created += single.ok;
        let mut seconds = 0.0;
        for chunk in sources.chunks(ITEMS) {
            let s = self.timed_batch(chunk).await?;
            eprintln!("batch of {ITEMS}: {s:.2} s");
            seconds += s;
        }
        self.created += (ITEMS * BATCHES) as u64;
        let batch = (ITEMS * BATCHES) as f64 / seconds;
        self.rows.push(row(
            "share-token creation: batch of 1,000 vs single",
            format!(
                "batch {batch:.0} tokens/s (request to completed, {BATCHES} batches) = {:.2}× single {:.0}/s (32 clients)",
                batch / single.throughput(),
                single.throughput()
            ),
            "(reported)",
            None,
        ));
        Ok(())
    }
}
