//! Faults of signed messages (issue #17, items 2 and 4): a real `tessera serve` (B, SQLite) and a
//! fake peer in the test process that B registered. A valid message is accepted once (its id is
//! the inbox key); a replayed, forged, truncated, re-addressed, misaddressed or expired one, one
//! from an unregistered instance, and one signed by a key the peer changed without announcing it
//! are each refused with their status and code, change nothing on B, and are recorded as a
//! `peer.message-refused` event (B's side: `receiver.rs`); an announced rotation is accepted; a
//! replay in the last second of its window is refused too; and the SSRF guard still refuses a
//! peer at a private address not on the allow-list.

use serde_json::{Value, json};
use tessera_core::federation::{MESSAGES_PATH, Message};

use super::fake_peer::{self, FakePeer, Outgoing};
use super::instance::{ADMIN, Instance};
use super::receiver::{Receiver, connection_of};
use super::sqlite;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_is_accepted_once_and_replayed_forged_readdressed_expired_or_unknown_ones_are_refused()
 {
    let r = Receiver::start().await;
    let peer = FakePeer::start().await;
    let peer_id = r.register(&peer).await;
    let from = Some(peer.instance_id.as_str());

    // 1. A valid offer is accepted: B's organization sees the pending inbound connection.
    let offer = peer.offer(&r.id, &r.org.id);
    let cxn = connection_of(&offer);
    let first = peer.sign(&r.base(), &offer);
    let answer = r.accepted("a valid offer", &first).await;
    assert_eq!(answer, json!({"connection-id": cxn}));
    let c =
        r.b.get_json(&r.org.key, &format!("/api/v1/connect/connections/{cxn}"))
            .await;
    assert_eq!(c["data"]["attributes"]["status"], "pending", "{c}");
    assert_eq!(r.connections().await, vec![cxn.clone()]);
    let p = r.peer(&peer_id).await;
    assert_eq!(
        (p["failures"].as_i64(), &p["last-error"]),
        (Some(0), &Value::Null)
    );

    // The same message id again, freshly signed: the same answer, nothing new — even when the
    // content under that id differs (the inbox is keyed by the sender's message id).
    let again = r
        .accepted("the same message again", &peer.sign(&r.base(), &offer))
        .await;
    assert_eq!(again, answer);
    let mut changed = peer.offer(&r.id, &r.org.id);
    changed.id = offer.id.clone();
    let again = r
        .accepted(
            "another offer under the same id",
            &peer.sign(&r.base(), &changed),
        )
        .await;
    assert_eq!(again, answer);
    assert_eq!(r.connections().await, vec![cxn.clone()]);
    assert!(r.events().await.is_empty(), "{:?}", r.events().await);

    // 2. Replayed: the first request, byte for byte.
    r.refused("a replay", &first, 401, "signature_replayed", from)
        .await;
    let p = r.peer(&peer_id).await;
    assert_eq!(p["failures"], 1, "{p}");
    assert_eq!(p["last-error"], "signature_replayed", "{p}");

    // 3. Forged: the signature altered; the body altered or truncated after signing; the body
    // altered and its content-digest recomputed to match.
    let fresh = || peer.sign(&r.base(), &peer.offer(&r.id, &r.org.id));
    let forged = fresh().with_signature_altered();
    r.refused(
        "an altered signature",
        &forged,
        401,
        "signature_invalid",
        from,
    )
    .await;
    // A forgery is anyone's: it does not count against the peer it claims to come from.
    assert_eq!(r.peer(&peer_id).await["failures"], 1);
    let mut swapped = fresh();
    swapped.body = serde_json::to_vec(&peer.offer(&r.id, &r.org.id)).unwrap();
    r.refused(
        "another body",
        &swapped,
        401,
        "content_digest_mismatch",
        from,
    )
    .await;
    let mut truncated = fresh();
    truncated.body.truncate(truncated.body.len() / 2);
    r.refused(
        "a truncated body",
        &truncated,
        401,
        "content_digest_mismatch",
        from,
    )
    .await;
    let mut redigested = swapped.clone();
    let digest = tessera_federation::signature::content_digest(&redigested.body);
    redigested
        .headers
        .insert("content-digest", digest.parse().unwrap());
    r.refused(
        "another body, its digest",
        &redigested,
        401,
        "signature_invalid",
        from,
    )
    .await;

    // 4. Re-addressed: signed for another instance's URL, or for another path of B's, and sent
    // to B; signed for B but naming another instance as its addressee or its sender.
    let body = |m: &Message| serde_json::to_vec(m).unwrap();
    let elsewhere = Outgoing::signed(
        &format!("{}{MESSAGES_PATH}", peer.url()),
        body(&peer.offer(&r.id, &r.org.id)),
        &peer.instance_id,
        &peer.key,
        fake_peer::now(),
    );
    r.refused(
        "signed for another instance",
        &elsewhere,
        401,
        "signature_invalid",
        from,
    )
    .await;
    let other_path = Outgoing::signed(
        &format!("{}/federation/v1/messages/other", r.base()),
        body(&peer.offer(&r.id, &r.org.id)),
        &peer.instance_id,
        &peer.key,
        fake_peer::now(),
    );
    r.refused(
        "signed for another path",
        &other_path,
        401,
        "signature_invalid",
        from,
    )
    .await;
    let to_other = peer.sign(&r.base(), &peer.offer(&fake_peer::instance_id(), &r.org.id));
    r.refused(
        "addressed to another instance",
        &to_other,
        403,
        "message_misaddressed",
        from,
    )
    .await;
    let mut as_other = peer.offer(&r.id, &r.org.id);
    as_other.from = fake_peer::instance_id();
    let as_other = peer.sign(&r.base(), &as_other);
    r.refused(
        "from another instance",
        &as_other,
        403,
        "message_misaddressed",
        from,
    )
    .await;

    // 5. Expired: signed more than five minutes ago (or ahead).
    for (what, created) in [
        ("signed 6 minutes ago", -360),
        ("signed 6 minutes ahead", 360),
    ] {
        let old = Outgoing::signed(
            &r.messages(),
            body(&peer.offer(&r.id, &r.org.id)),
            &peer.instance_id,
            &peer.key,
            fake_peer::now() + created,
        );
        r.refused(what, &old, 401, "signature_expired", from).await;
    }

    // 6. A third instance, never registered, signing with its own published key.
    let third = FakePeer::start().await;
    let stranger = third.sign(&r.base(), &third.offer(&r.id, &r.org.id));
    let who = Some(third.instance_id.as_str());
    r.refused(
        "an unregistered instance",
        &stranger,
        401,
        "peer_unknown",
        who,
    )
    .await;
    // No signature at all: nobody to name.
    let mut unsigned = fresh();
    for h in ["signature", "signature-input"] {
        unsigned.headers.remove(h);
    }
    r.refused("unsigned", &unsigned, 401, "signature_missing", None)
        .await;

    // Still accepted after all this: the setup was sound and the refusals left no trace but
    // their events.
    let later = peer.offer(&r.id, &r.org.id);
    r.accepted("a later offer", &peer.sign(&r.base(), &later))
        .await;
    let mut expected = vec![cxn, connection_of(&later)];
    expected.sort();
    assert_eq!(r.connections().await, expected);
    assert_eq!(r.peer(&peer_id).await["failures"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_changed_without_an_announced_rotation_is_refused_and_an_announced_one_is_trusted() {
    let r = Receiver::start().await;
    let mut peer = FakePeer::start().await;
    let peer_id = r.register(&peer).await;
    let pin = peer.pin();
    let from = Some(peer.instance_id.clone());
    let from = from.as_deref();
    let pinned = peer.key.clone();

    // The peer now publishes only a new key, and signs with it: B fetches its JWKS again, finds
    // the pinned key gone, and keeps trusting only what it trusted.
    let rogue = fake_peer::new_key();
    peer.publish(&[&rogue]);
    peer.key = rogue.clone();
    let out = peer.sign(&r.base(), &peer.offer(&r.id, &r.org.id));
    r.refused(
        "a key changed without rotation",
        &out,
        401,
        "key_not_trusted",
        from,
    )
    .await;
    let p = r.peer(&peer_id).await;
    assert_eq!(p["published-keys"], json!([pin]), "{p}");
    assert!(p["failures"].as_i64().unwrap() >= 1, "{p}");

    // An announced rotation: the new key published beside the pinned one. B meets the unknown
    // kid, refreshes the peer's JWKS, and trusts the new key.
    let rotated = fake_peer::new_key();
    peer.publish(&[&pinned, &rotated]);
    peer.key = rotated.clone();
    let offer = peer.offer(&r.id, &r.org.id);
    let answer = r
        .accepted("an announced rotation", &peer.sign(&r.base(), &offer))
        .await;
    assert_eq!(answer, json!({"connection-id": connection_of(&offer)}));
    assert_eq!(r.connections().await, vec![connection_of(&offer)]);
    let p = r.peer(&peer_id).await;
    let mut keys: Vec<String> = serde_json::from_value(p["published-keys"].clone()).unwrap();
    keys.sort();
    let mut expected = vec![pin.clone(), fake_peer::jwk(&rotated).kid];
    expected.sort();
    assert_eq!(keys, expected, "{p}");
    assert_eq!(p["failures"], 0, "{p}");

    // The key that was never announced is still refused.
    peer.key = rogue;
    let out = peer.sign(&r.base(), &peer.offer(&r.id, &r.org.id));
    r.refused(
        "the unannounced key, later",
        &out,
        401,
        "key_not_trusted",
        from,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ssrf_guard_refuses_a_peer_at_a_private_address_not_on_the_allow_list() {
    let dir = tempfile::tempdir().unwrap();
    let guarded =
        Instance::start_without_peer_allow_list("guarded", dir.path(), &sqlite(dir.path())).await;
    // A peer that answers (B, with loopback allowed, registers one like it in the tests above),
    // but on loopback, which this instance does not allow.
    let peer = FakePeer::start().await;
    let admin = format!("Bearer {ADMIN}");
    for url in [peer.url(), "http://10.1.2.3:8080".to_owned()] {
        let body = json!({"data": {"attributes": {"url": url, "pin": peer.pin()}}});
        let (status, v) = guarded
            .send("POST", &admin, "/admin/v1/peers", Some(body))
            .await;
        assert_eq!(status, 422, "{url}: {v}");
        assert_eq!(v["errors"][0]["code"], "invalid_url", "{url}: {v}");
        assert_eq!(v["errors"][0]["source"]["pointer"], "/data/attributes/url");
    }
    let (status, v) = guarded.send("GET", &admin, "/admin/v1/peers", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"], json!([]), "{v}");
}

/// Sleeps until just after the next second of the clock starts (both processes read the same
/// clock): what follows has nearly a second before the Unix second changes.
async fn start_of_a_second() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let rest = 1_000 - u64::from(now.subsec_millis());
    tokio::time::sleep(std::time::Duration::from_millis(rest + 20)).await;
}

/// A signature is accepted through the whole Unix second its `expires` names (the window is
/// checked in seconds); its nonce must be remembered until then, or a replay in that last
/// second passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_in_the_last_second_of_the_window_is_refused() {
    let r = Receiver::start().await;
    let peer = FakePeer::start().await;
    r.register(&peer).await;
    let mut conclusive = false;
    for _ in 0..5 {
        start_of_a_second().await;
        // Signed 300 s ago: `expires` is this very second.
        let offer = peer.offer(&r.id, &r.org.id);
        let out = Outgoing::signed(
            &r.messages(),
            serde_json::to_vec(&offer).unwrap(),
            &peer.instance_id,
            &peer.key,
            fake_peer::now() - 300,
        );
        let (status, v) = out.send(&r.messages()).await;
        if v["errors"][0]["code"] == "signature_expired" {
            continue; // the second changed already: try again
        }
        assert_eq!(status, 200, "{v}");
        let (status, v) = out.send(&r.messages()).await;
        if v["errors"][0]["code"] == "signature_expired" {
            continue;
        }
        assert_eq!(
            (status, v["errors"][0]["code"].as_str()),
            (401, Some("signature_replayed")),
            "a replay in the last second of the window: {v}"
        );
        conclusive = true;
        break;
    }
    assert!(conclusive, "every attempt crossed a second boundary");
}

/// A disabled peer keeps its registration but is trusted for nothing until it is enabled: its
/// messages are refused as an unknown peer's, and each change of status is a federation event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_peer_is_refused_until_it_is_enabled_again() {
    let r = Receiver::start().await;
    let peer = FakePeer::start().await;
    let peer_id = r.register(&peer).await;
    let from = Some(peer.instance_id.as_str());

    let (status, p) = r
        .admin("POST", &format!("/admin/v1/peers/{peer_id}/disable"), None)
        .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["data"]["attributes"]["status"], "disabled");
    let offer = peer.offer(&r.id, &r.org.id);
    r.refused(
        "a disabled peer's message",
        &peer.sign(&r.base(), &offer),
        401,
        "peer_unknown",
        from,
    )
    .await;

    let (status, p) = r
        .admin("POST", &format!("/admin/v1/peers/{peer_id}/enable"), None)
        .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["data"]["attributes"]["status"], "active");
    r.accepted(
        "the same offer, enabled again",
        &peer.sign(&r.base(), &offer),
    )
    .await;
    assert_eq!(r.connections().await, vec![connection_of(&offer)]);

    let (_, events) = r.admin("GET", "/admin/v1/peer-events", None).await;
    let names: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["attributes"]["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"peer.disabled") && names.contains(&"peer.enabled"),
        "{names:?}"
    );
    // Enabling an enabled peer changes nothing and records nothing.
    let (status, _) = r
        .admin("POST", &format!("/admin/v1/peers/{peer_id}/enable"), None)
        .await;
    assert_eq!(status, 200);
    let (_, again) = r.admin("GET", "/admin/v1/peer-events", None).await;
    assert_eq!(again["data"].as_array().unwrap().len(), names.len());
}
