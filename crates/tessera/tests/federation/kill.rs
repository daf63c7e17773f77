//! Exactly once across two machines (issue #17, item 5): during redemptions, the source's
//! instance (the authority on the token) or the destination's is killed with SIGKILL at a
//! random moment and started again, until ten kills have cut a redemption off (the token
//! still pending when the killed instance is back). Every round must end with the token redeemed on both sides
//! and exactly one copy on the destination — never redeemed on one side only, never two copies,
//! never stuck.

use std::collections::HashMap;
use std::time::Duration;

use rand::Rng;
use serde_json::json;

use super::instance::Instance;
use super::{Pair, sqlite};

/// Kills that must cut a redemption off (the token still pending after the restart), per test.
const CUT_OFF: usize = 10;
/// Rounds at most, to get there.
const MAX_ROUNDS: usize = 60;

#[derive(Clone, Copy, Debug)]
enum Victim {
    Source,
    Destination,
}

/// The share token of each of B's inquiries (every page): copy → token.
async fn copies_on_b(pair: &Pair) -> HashMap<String, String> {
    let mut copies = HashMap::new();
    let mut path = "/api/v1/inquiries?page[size]=100".to_owned();
    loop {
        let page = pair.b.get_json(&pair.destination.key, &path).await;
        for i in page["data"].as_array().unwrap() {
            let token = i["relationships"]["share-token"]["data"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            copies.insert(i["id"].as_str().unwrap().to_owned(), token);
        }
        match page["links"]["next"].as_str() {
            Some(next) => {
                path = next
                    .split_once("/api/v1/")
                    .map(|(_, p)| format!("/api/v1/{p}"))
                    .unwrap()
            }
            None => return copies,
        }
    }
}

async fn kill_during_redemptions(victim: Victim) {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Instance::start("A", da.path(), &sqlite(da.path())).await;
    let b = Instance::start("B", db.path(), &sqlite(db.path())).await;
    let mut pair = Pair::connect(a, b).await;
    let inquiry = pair.shareable_inquiry("Kay").await;
    let mut tokens = Vec::new();
    let (mut interrupted, mut between) = (0, 0);
    let mut round = 0;
    while interrupted < CUT_OFF {
        assert!(
            round < MAX_ROUNDS,
            "only {interrupted} of {round} kills cut a redemption off"
        );
        round += 1;
        let token = pair.token(&inquiry, json!({})).await;
        let path = format!("/api/v1/connect/share-tokens/{token}");
        let (status, v) = pair
            .b
            .call(&pair.destination, "POST", &format!("{path}/redeem"), None)
            .await;
        assert_eq!(status, 202, "round {round}: {v}");
        // Somewhere in the redemption: before B sends, while A serves, after A committed and
        // before B landed the copy, or after.
        // The source serves within milliseconds of the redeem call; the destination lands
        // the answer a little later.
        let most = match victim {
            Victim::Source => 8,
            Victim::Destination => 30,
        };
        let delay = rand::rng().random_range(0..most);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        let who = match victim {
            Victim::Source => &mut pair.a,
            Victim::Destination => &mut pair.b,
        };
        who.kill().await;
        who.restart().await;
        // Where the kill fell: B's copy of the token still pending means the redemption was cut
        // off; A already redeemed then means it fell between the source's commit and the copy.
        let (at_a, at_b) = pair.statuses(&token).await;
        if at_b == "pending" {
            interrupted += 1;
            if at_a == "redeemed" {
                between += 1;
            }
        }
        pair.b
            .wait_for(&pair.destination, &path, "the redemption ends", |v| {
                v["data"]["attributes"]["status"] != "pending"
            })
            .await;
        assert_eq!(
            pair.statuses(&token).await,
            ("redeemed".to_owned(), "redeemed".to_owned()),
            "round {round} ({victim:?} killed after {delay} ms)"
        );
        tokens.push(token);
    }
    eprintln!(
        "{victim:?} killed {round} times: {interrupted} redemptions cut off, {between} of them after the source committed"
    );
    // Exactly one copy per token on B, and nothing else.
    let copies = copies_on_b(&pair).await;
    assert_eq!(copies.len(), round, "{copies:?}");
    let mut per_token: HashMap<&str, usize> = HashMap::new();
    for t in copies.values() {
        *per_token.entry(t.as_str()).or_default() += 1;
    }
    for t in &tokens {
        assert_eq!(
            per_token.get(t.as_str()),
            Some(&1),
            "copies of {t}: {copies:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_source_instance_during_redemptions_loses_and_doubles_nothing() {
    kill_during_redemptions(Victim::Source).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_destination_instance_during_redemptions_loses_and_doubles_nothing() {
    kill_during_redemptions(Victim::Destination).await;
}
