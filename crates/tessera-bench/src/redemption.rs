//! The redemption phase: redemption end to end at a fixed rate, from the redeem call until the
//! `inbound-redeemed` event is visible through the API.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::Bench;
use crate::api::Api;
use crate::load::{open_loop, percentiles};
use crate::receiver::now_ms;
use crate::table::row;

/// What redeeming tokens at a fixed rate gave: redeemed of accepted, and the p50/p99 from the
/// redeem call until the `inbound-redeemed` event was visible through the destination's API.
pub struct Measured {
    pub redeemed: usize,
    pub accepted: u64,
    pub p50: f64,
    pub p99: f64,
}

/// Redeems `tokens` (as `key`, on the destination's `api`) at `rate` per second for `seconds`,
/// timing each until its `inbound-redeemed` event shows (polled every 5 ms).
pub async fn redeem_at(
    api: &Api,
    key: &str,
    tokens: &Arc<Vec<String>>,
    rate: f64,
    seconds: f64,
) -> Measured {
    let n = ((rate * seconds) as usize).min(tokens.len());
    let sent: Arc<Mutex<HashMap<String, f64>>> = Arc::default();
    let seen: Arc<Mutex<HashMap<String, f64>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let poller = tokio::spawn(poll_redeemed(
        api.clone(),
        key.to_owned(),
        seen.clone(),
        stop.clone(),
    ));
    let redeem = {
        let (api, key, toks, sent) = (api.clone(), key.to_owned(), tokens.clone(), sent.clone());
        move |i: u64| {
            let (api, key, toks, sent) = (api.clone(), key.clone(), toks.clone(), sent.clone());
            async move {
                let id = toks[i as usize].clone();
                if let Ok(mut s) = sent.lock() {
                    s.insert(id.clone(), now_ms());
                }
                let req = api
                    .http
                    .post(format!(
                        "{}/api/v1/connect/share-tokens/{id}/redeem",
                        api.base
                    ))
                    .bearer_auth(&key);
                // A redemption is accepted with 202 (Persona 2025-12-08).
                api.status(req).await == Some(202)
            }
        }
    };
    let calls = open_loop(rate, Duration::from_secs_f64(n as f64 / rate), 2000, redeem).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.lock().map(|s| s.len()).unwrap_or(0) < calls.ok as usize && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let _ = poller.await;
    let latencies: Vec<f64> = {
        let s = sent.lock().map(|s| s.clone()).unwrap_or_default();
        let v = seen.lock().map(|s| s.clone()).unwrap_or_default();
        v.iter()
            .filter_map(|(id, t)| s.get(id).map(|t0| t - t0))
            .collect()
    };
    let redeemed = latencies.len();
    let (p50, p99) = percentiles(latencies);
    Measured {
        redeemed,
        accepted: calls.ok,
        p50,
        p99,
    }
}

impl Bench {
    /// Redemption end to end at a fixed rate: from the redeem call until the `inbound-redeemed`
    /// event is visible through the API (polled every 5 ms).
    pub async fn redemption(&mut self, tokens: &Arc<Vec<String>>) {
        let m = redeem_at(
            &self.api,
            &self.b.key,
            tokens,
            200.0,
            self.phase.as_secs_f64() * 2.0,
        )
        .await;
        eprintln!(
            "redemption: {}/{} redeemed, p50 {:.1} ms, p99 {:.1} ms",
            m.redeemed, m.accepted, m.p50, m.p99
        );
        self.rows.push(row(
            "redemption end to end at 200/s",
            format!(
                "{} of {} redeemed; p50 {:.1} ms, p99 {:.1} ms",
                m.redeemed, m.accepted, m.p50, m.p99
            ),
            "p99 ≤ 100 ms at 200/s",
            Some(m.p99 <= 100.0 && m.redeemed as u64 == m.accepted),
        ));
    }
}

/// Polls the destination's `inbound-redeemed` events and notes when each token first shows up.
async fn poll_redeemed(
    api: Api,
    key: String,
    seen: Arc<Mutex<HashMap<String, f64>>>,
    stop: Arc<AtomicBool>,
) {
    let url = format!(
        "{}/api/v1/events?filter[name]=connect/share-token.inbound-redeemed&page[size]=100",
        api.base
    );
    while !stop.load(Ordering::SeqCst) {
        if let Ok(r) = api.http.get(&url).bearer_auth(&key).send().await
            && let Ok(v) = r.json::<serde_json::Value>().await
        {
            let t = now_ms();
            if let (Some(list), Ok(mut s)) = (v["data"].as_array(), seen.lock()) {
                for e in list {
                    if let Some(id) = e["attributes"]["payload"]["data"]["id"].as_str() {
                        s.entry(id.to_owned()).or_insert(t);
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
