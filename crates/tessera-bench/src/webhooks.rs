//! The webhooks phase: event-to-first-attempt latency at a steady event rate, then the delivery
//! rate draining a durable backlog, measured at a local receiver.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::Bench;
use crate::load::{closed_loop_n, open_loop, percentiles};
use crate::receiver::Receiver;
use crate::table::row;

impl Bench {
    /// Webhooks: event-to-first-attempt latency at a steady event rate, then the delivery rate
    /// draining a durable backlog.
    pub async fn webhooks(&mut self) -> anyhow::Result<()> {
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

    /// Creates one inquiry of the source (one `inquiry.created` event).
    fn inquiry_fn(
        &self,
    ) -> impl Fn(u64) -> Pin<Box<dyn Future<Output = bool> + Send>> + Clone + Send + Sync + 'static
    {
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
}

async fn wait_for(rx: &Receiver, n: usize, limit: Duration) {
    let deadline = Instant::now() + limit;
    while rx.count() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
