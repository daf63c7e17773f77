//! The creation phase: share-token creation swept over offered rates to find the knee, then a
//! closed loop for the peak; on PostgreSQL, 8 clients against pgbench running the same SQL.

use std::future::Future;
use std::pin::Pin;

use crate::api::Org;
use crate::load::{Stats, closed_loop, open_loop};
use crate::psql::psql;
use crate::table::{fmt_stats, row};
use crate::{Bench, limits};

impl Bench {
    pub(crate) fn create_fn(
        &self,
    ) -> impl Fn(u64) -> Pin<Box<dyn Future<Output = bool> + Send>> + Clone + Send + Sync + 'static
    {
        let (api, key, cxn, inq) = (
            self.api.clone(),
            self.a.key.clone(),
            self.connection.clone(),
            self.inquiries.clone(),
        );
        move |i: u64| {
            let (api, key, cxn, inq) = (api.clone(), key.clone(), cxn.clone(), inq.clone());
            Box::pin(async move {
                api.share_token(&key, &cxn, &inq[i as usize % inq.len()])
                    .await
                    .is_some()
            })
        }
    }

    /// Share-token creation: a sweep of offered rates to find the knee (p99 ≤ 25 ms), then a
    /// closed loop for the peak; on PostgreSQL, the same at 8 clients against pgbench.
    pub async fn creation(&mut self) -> anyhow::Result<()> {
        let create = self.create_fn();
        let mut knee: Option<Stats> = None;
        for rate in [
            100.0, 200.0, 400.0, 800.0, 1200.0, 1600.0, 2400.0, 3200.0, 4800.0, 6400.0,
        ] {
            let before = self.commit_counters().await;
            let s = open_loop(rate, self.phase, 2000, create.clone()).await;
            let per_commit = match (before, self.commit_counters().await) {
                (Some((c0, u0)), Some((c1, u1))) if c1 > c0 => Some((u1 - u0) / (c1 - c0)),
                _ => None,
            };
            self.created += s.ok;
            eprintln!(
                "create at {rate}/s offered: {} (errors {}, dropped {})",
                fmt_stats(&s),
                s.errors,
                s.dropped
            );
            let kept_up = s.errors == 0 && s.dropped == 0 && s.throughput() >= 0.95 * rate;
            self.sweep.push((s.clone(), per_commit));
            if kept_up && s.p99_ms <= 25.0 {
                knee = Some(s);
            } else if !kept_up || s.p99_ms > 250.0 {
                break;
            }
        }
        let peak = closed_loop(32, self.phase, create.clone()).await;
        self.created += peak.ok;
        eprintln!("create, 32 clients back to back: {}", fmt_stats(&peak));
        let knee_rate = knee.as_ref().map_or(0.0, Stats::throughput);
        let knee_text = knee.as_ref().map_or_else(
            || "no rate kept p99 ≤ 25 ms".into(),
            |k| format!("knee {}", fmt_stats(k)),
        );
        match self.args.postgres.clone() {
            None => self.rows.push(row(
                "share-token creation, durable",
                format!(
                    "{knee_text} = {:.1}× fsync; peak {:.0}/s (p99 {:.1} ms)",
                    knee_rate / self.fsync,
                    peak.throughput(),
                    peak.p99_ms
                ),
                "≥ 1.5× serial fsync rate; p99 ≤ 25 ms at the knee",
                Some(knee_rate >= 1.5 * self.fsync),
            )),
            Some(pg) => {
                let conc = 8;
                let api_conc = closed_loop(conc, self.phase, create).await;
                self.created += api_conc.ok;
                let ids = pg_ids(&pg, &self.a, &self.b, &self.connection, &self.inquiries[0])?;
                let tps = limits::pgbench_share_token(&pg, &ids, conc, self.phase.as_secs())?;
                self.rows.push(row(
                    "pgbench: the same SQL, 8 clients",
                    format!("{tps:.0} tx/s"),
                    "(the limit)",
                    None,
                ));
                self.rows.push(row(
                    "share-token creation, durable",
                    format!(
                        "{knee_text}; 8 clients {:.0}/s = {:.2}× pgbench; peak (32 clients) {:.0}/s",
                        api_conc.throughput(),
                        api_conc.throughput() / tps,
                        peak.throughput()
                    ),
                    "≥ 0.7× pgbench; p99 ≤ 25 ms at the knee",
                    Some(api_conc.throughput() >= 0.7 * tps && knee.is_some()),
                ));
            }
        }
        self.ceiling(&peak).await;
        Ok(())
    }

    /// SQLite's group-commit counters from `/metrics`: (commits, units committed).
    async fn commit_counters(&self) -> Option<(f64, f64)> {
        let text = self
            .api
            .http
            .get(format!("{}/metrics", self.api.base))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let value = |name: &str| {
            text.lines()
                .find(|l| l.split_whitespace().next() == Some(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        };
        Some((
            value("tessera_sqlite_commits_total")?,
            value("tessera_sqlite_units_committed_total")?,
        ))
    }
}

fn pg_ids(
    url: &str,
    a: &Org,
    b: &Org,
    connection: &str,
    inquiry: &str,
) -> anyhow::Result<limits::Ids> {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(a.key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(limits::Ids {
        key_hash: hash,
        connection: connection.into(),
        inquiry: inquiry.into(),
        source_org: a.id.clone(),
        source_env: psql(
            url,
            &format!(
                "select id from environments where organization_id = '{}' and kind = 'sandbox'",
                a.id
            ),
        )?,
        destination_org: b.id.clone(),
        destination_env: psql(
            url,
            &format!(
                "select id from environments where organization_id = '{}' and kind = 'sandbox'",
                b.id
            ),
        )?,
    })
}
