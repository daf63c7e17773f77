//! Peer health and federation events (issue #17, item 8): registering and removing a peer are
//! `peer.*` events in `GET /admin/v1/peer-events` (newest first, paged); a peer's resource shows
//! its message counts and the clock skew last seen; the worker's housekeeping publishes them as
//! Prometheus gauges labelled by the peer's instance id.

use serde_json::{Value, json};
use tessera_core::federation::{Body, ConnectionOffered, Message};
use tessera_core::id::{ConnectionId, MessageId, OrganizationId};
use tessera_core::tenancy::EnvKind;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;
use tessera_store::units::{federation, keys};

use crate::peers::{Peer, local, register};
use crate::support::{ADMIN, App};

const EVENTS: &str = "/admin/v1/peer-events";

/// Receives, as if from `peer` (its signature already checked, its clock `skew` seconds ahead),
/// the offer of a connection to `to` (an organization here): the inbound connection's id.
pub async fn receive_offer(app: &App, peer: &str, to: &str, skew: i64) -> String {
    let store = &app.state.store;
    let me = store.read(keys::instance_id()).await.unwrap().unwrap();
    let connection = ConnectionId::generate();
    let message = Message {
        id: MessageId::generate(),
        from: peer.to_owned(),
        to: me,
        body: Body::ConnectionOffered(ConnectionOffered {
            connection_id: connection.clone(),
            kind: EnvKind::Sandbox,
            source_organization_id: OrganizationId::generate(),
            source_organization_name: "Remote Bank".into(),
            destination_organization_id: OrganizationId::parse(to).unwrap(),
            name: Some("across".into()),
        }),
    };
    let signed = federation::Signed {
        instance_id: peer.to_owned(),
        nonce: MessageId::generate().to_string(),
        expires_at: store.clock().now().plus_seconds(300),
        skew_seconds: skew,
    };
    store
        .write(federation::receive(signed, message))
        .await
        .unwrap();
    connection.to_string()
}

fn names(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["attributes"]["name"].as_str().unwrap())
        .collect()
}

async fn registering_and_removing_a_peer_are_events_listed_newest_first(backend: Backend) {
    let app = local(backend).await;
    let peer = Peer::start(backend).await;
    let (pin, instance) = (peer.pin().await, peer.instance_id().await);
    assert!(app.all(ADMIN, EVENTS).await.is_empty());
    let id = register(&app, &peer.url, &pin).await.expect(201).id();

    let events = app.all(ADMIN, EVENTS).await;
    assert_eq!(names(&events), ["peer.registered"]);
    let e = &events[0];
    assert_eq!(e["type"], "event");
    assert!(e["id"].as_str().unwrap().starts_with("evt_"), "{e}");
    assert_eq!(e["attributes"]["instance-id"], json!(instance));
    assert_eq!(
        e["attributes"]["payload"],
        json!({"peer-id": id, "url": peer.url, "pin": pin})
    );
    assert!(e["attributes"]["created-at"].is_string(), "{e}");
    // An operator's change is not a contact: the new peer has no failure.
    let shown = app
        .get(&format!("/admin/v1/peers/{id}"))
        .key(ADMIN)
        .send()
        .await
        .expect(200);
    assert_eq!(shown.attr("failures"), &json!(0));

    app.delete(&format!("/admin/v1/peers/{id}"))
        .key(ADMIN)
        .send()
        .await
        .expect(200);
    // A refused removal (the peer is gone) records nothing.
    app.delete(&format!("/admin/v1/peers/{id}"))
        .key(ADMIN)
        .send()
        .await
        .refused(404, "not_found");
    let events = app.all(ADMIN, EVENTS).await;
    assert_eq!(names(&events), ["peer.removed", "peer.registered"]);
    assert_eq!(events[0]["attributes"]["instance-id"], json!(instance));
    assert_eq!(events[0]["attributes"]["payload"]["peer-id"], json!(id));

    // Paged like every list: one at a time, newest first, linked both ways.
    let first = app
        .get(&format!("{EVENTS}?page[size]=1"))
        .key(ADMIN)
        .send()
        .await
        .expect(200);
    assert_eq!(first.ids(), [events[0]["id"].as_str().unwrap()]);
    let next = first.link("next").expect("a next page");
    let second = app.get(&next).key(ADMIN).send().await.expect(200);
    assert_eq!(second.ids(), [events[1]["id"].as_str().unwrap()]);
    assert_eq!(second.link("next"), None);
    assert!(second.link("prev").is_some(), "{}", second.json);
    app.get(&format!("{EVENTS}?page[after]=evt_nope"))
        .key(ADMIN)
        .send()
        .await
        .refused(400, "invalid_query_parameter");
}

/// The value of the sample `name{peer="instance"}` of a Prometheus text page.
fn sample(text: &str, name: &str, instance: &str) -> Option<f64> {
    let head = format!("{name}{{peer=\"{instance}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&head))
        .map(|v| v.parse().unwrap())
}

async fn peer_health_is_in_its_resource_and_in_prometheus(backend: Backend) {
    let app = local(backend).await;
    let org = app.org("Acme").await;
    let peer = Peer::start(backend).await;
    let (pin, instance) = (peer.pin().await, peer.instance_id().await);
    let id = register(&app, &peer.url, &pin).await.expect(201).id();
    let path = format!("/admin/v1/peers/{id}");
    let r = app.get(&path).key(ADMIN).send().await.expect(200);
    assert_eq!(r.attr("messages-sent"), &json!(0));
    assert_eq!(r.attr("messages-received"), &json!(0));
    assert_eq!(r.attr("clock-skew-seconds"), &Value::Null);

    // A message from the peer, its clock 3 s ahead, then one of its messages refused.
    receive_offer(&app, &instance, &org.id, 3).await;
    app.state
        .store
        .write(federation::record_peer_event(
            "peer.message-refused".into(),
            Some(instance.clone()),
            json!({"instance-id": instance, "code": "signature_expired", "detail": "too old"}),
            true,
        ))
        .await
        .unwrap();
    let r = app.get(&path).key(ADMIN).send().await.expect(200);
    assert_eq!(r.attr("messages-received"), &json!(1));
    assert_eq!(r.attr("messages-sent"), &json!(0));
    assert_eq!(r.attr("clock-skew-seconds"), &json!(3));
    assert_eq!(r.attr("failures"), &json!(1));
    assert_eq!(r.attr("last-error"), &json!("signature_expired"));
    let events = app.all(ADMIN, EVENTS).await;
    assert_eq!(names(&events), ["peer.message-refused", "peer.registered"]);

    app.worker().housekeeping().await.unwrap();
    let scraped = app.get("/metrics").send().await.expect(200);
    let text = String::from_utf8(scraped.bytes).unwrap();
    let at = |name: &str| sample(&text, name, &instance);
    assert_eq!(at("tessera_peer_messages_received"), Some(1.0), "{text}");
    assert_eq!(at("tessera_peer_messages_sent"), Some(0.0), "{text}");
    assert_eq!(at("tessera_peer_clock_skew_seconds"), Some(3.0), "{text}");
    assert_eq!(at("tessera_peer_failures"), Some(1.0), "{text}");
    // The last contact is the message's receipt, on this instance's (manual) clock.
    let now = app.state.store.clock().now().millis() as f64 / 1000.0;
    assert_eq!(
        at("tessera_peer_last_contact_timestamp_seconds"),
        Some(now),
        "{text}"
    );
    // The other app in this process registered no peer: only ours is labelled.
    assert_eq!(text.matches("tessera_peer_failures{").count(), 1, "{text}");
}

on_both_backends!(
    registering_and_removing_a_peer_are_events_listed_newest_first,
    peer_health_is_in_its_resource_and_in_prometheus,
);
