//! The retrieval phase: share-token retrieval by the destination, 32 clients back to back.
//! The minimal endpoint it is compared with is in `minimal.rs`.

use std::sync::Arc;

use crate::Bench;
use crate::load::closed_loop;
use crate::table::{fmt_stats, row};

impl Bench {
    pub async fn retrieval(&mut self, tokens: &Arc<Vec<String>>) {
        let read = {
            let (api, key, toks) = (self.api.clone(), self.b.key.clone(), tokens.clone());
            move |i: u64| {
                let (api, key, toks) = (api.clone(), key.clone(), toks.clone());
                async move {
                    let id = &toks[(i as usize * 7919) % toks.len()];
                    let req = api
                        .http
                        .get(format!("{}/api/v1/connect/share-tokens/{id}", api.base))
                        .bearer_auth(&key);
                    api.status(req).await == Some(200)
                }
            }
        };
        let retrieval = closed_loop(32, self.phase, read).await;
        eprintln!("retrieval: {}", fmt_stats(&retrieval));
        self.rows.push(row(
            "share-token retrieval (32 clients)",
            fmt_stats(&retrieval),
            "≥ 10,000/s",
            Some(retrieval.throughput() >= 10_000.0),
        ));
        self.minimal_endpoint(&retrieval, tokens).await;
    }
}
