//! The federation phase: a second `tessera` process (the peer, on its own SQLite database) that
//! the server under test pins and is pinned by; the source's organization connects to an
//! organization of the peer, makes tokens for it, and the peer redeems them at a fixed rate —
//! each redemption a signed message to the source's instance, the source's answer landed on the
//! peer. Measured like the local redemption: from the redeem call on the peer until its
//! `inbound-redeemed` event is visible through the peer's API.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::Bench;
use crate::api::Api;
use crate::redemption::redeem_at;
use crate::server::{ADMIN, Server};
use crate::table::row;

const RATE: f64 = 200.0;

async fn pin_and_id(api: &Api) -> anyhow::Result<(String, String)> {
    let get = |path: &'static str| {
        let http = api.http.clone();
        let url = format!("{}{path}", api.base);
        async move { anyhow::Ok(http.get(url).send().await?.json::<Value>().await?) }
    };
    let jwks = get("/.well-known/jwks.json").await?;
    let me = get("/.well-known/tessera").await?;
    Ok((
        jwks["keys"][0]["kid"].as_str().context("kid")?.to_owned(),
        me["instance-id"]
            .as_str()
            .context("instance id")?
            .to_owned(),
    ))
}

async fn register(api: &Api, other: &Api, pin: &str) -> anyhow::Result<()> {
    api.post(
        "/admin/v1/peers",
        ADMIN,
        json!({"data": {"attributes": {"url": other.base, "pin": pin}}}),
    )
    .await?;
    Ok(())
}

/// Polls `GET path` as `key` on `api` until `check` holds (30 s at most).
async fn until(
    api: &Api,
    key: &str,
    path: &str,
    check: impl Fn(&Value) -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(v) = api.call(reqwest::Method::GET, path, key, None).await
            && check(&v)
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{path} never became what the federation phase waits for");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

impl Bench {
    pub async fn federation(&mut self) -> anyhow::Result<()> {
        let peer_db = format!("sqlite://{}", self.dir.join("peer.db").display());
        let peer = Server::start(&self.binary, &peer_db, &["serve"]).await?;
        let papi = Api::new(&peer.base);
        let (main_pin, _) = pin_and_id(&self.api).await?;
        let (peer_pin, peer_instance) = pin_and_id(&papi).await?;
        register(&self.api, &papi, &peer_pin).await?;
        register(&papi, &self.api, &main_pin).await?;
        let dest = papi.org("Peer destination").await?;
        let v = self
            .api
            .post(
                "/api/v1/connect/connections",
                &self.a.key,
                json!({"data": {"attributes": {"destination-organization-id": format!("{}@{peer_instance}", dest.id)}}}),
            )
            .await?;
        let connection = v["data"]["id"].as_str().context("connection")?.to_owned();
        let path = format!("/api/v1/connect/connections/{connection}");
        until(&papi, &dest.key, &path, |_| true).await?;
        papi.post(&format!("{path}/activate"), &dest.key, json!({}))
            .await?;
        until(&self.api, &self.a.key, &path, |v| {
            v["data"]["attributes"]["status"] == "active"
        })
        .await?;

        let n = (RATE * self.phase.as_secs_f64() * 2.0) as usize;
        eprintln!("federation: making {n} tokens for the peer's organization");
        let started = Instant::now();
        let mut tokens = Vec::with_capacity(n);
        for i in 0..n {
            let inquiry = &self.inquiries[i % self.inquiries.len()];
            if let Some(t) = self
                .api
                .share_token(&self.a.key, &connection, inquiry)
                .await
            {
                tokens.push(t);
            }
        }
        // Every token offered has reached the peer.
        for t in &tokens {
            until(
                &papi,
                &dest.key,
                &format!("/api/v1/connect/share-tokens/{t}"),
                |_| true,
            )
            .await?;
        }
        let offered = started.elapsed().as_secs_f64();
        self.created += tokens.len() as u64;
        let tokens = Arc::new(tokens);
        let m = redeem_at(
            &papi,
            &dest.key,
            &tokens,
            RATE,
            self.phase.as_secs_f64() * 2.0,
        )
        .await;
        eprintln!(
            "federation: {}/{} redeemed across instances, p50 {:.1} ms, p99 {:.1} ms",
            m.redeemed, m.accepted, m.p50, m.p99
        );
        self.rows.push(row(
            "tokens made and offered to a peer instance",
            format!(
                "{} in {offered:.1} s ({:.0}/s, one client; each a signed message)",
                tokens.len(),
                tokens.len() as f64 / offered
            ),
            "(reported)",
            None,
        ));
        self.rows.push(row(
            "redemption across two instances at 200/s",
            format!(
                "{} of {} redeemed; p50 {:.1} ms, p99 {:.1} ms",
                m.redeemed, m.accepted, m.p50, m.p99
            ),
            "p99 ≤ 100 ms at 200/s",
            Some(m.p99 <= 100.0 && m.redeemed as u64 == m.accepted),
        ));
        Ok(())
    }
}
