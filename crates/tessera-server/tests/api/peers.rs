//! Peers are explicit (issue #17, item 2): the operator registers a peer instance pinned to one of
//! its keys; Tessera fetches the peer's well-known documents through the SSRF-guarded client and
//! refuses (422, nothing stored) a wrong pin, malformed documents, a private address not on the
//! allow-list, or an instance already registered. The peer here is a second, real Tessera app
//! served over HTTP on loopback.

use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;
use tessera_store::units::{keys, peers};

use crate::support::{ADMIN, App};

/// A second Tessera instance, served on a loopback port.
pub struct Peer {
    pub app: App,
    pub url: String,
}

impl Peer {
    pub async fn start(backend: Backend) -> Self {
        let app = App::new(backend).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = app.router.clone();
        tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await;
        });
        Self { app, url }
    }

    /// The thumbprint of the peer's active signing key (what its operator tells ours).
    pub async fn pin(&self) -> String {
        let published = self
            .app
            .state
            .store
            .read(keys::published_keys())
            .await
            .unwrap();
        published.into_iter().find(|k| k.active).unwrap().jwk.kid
    }

    pub async fn instance_id(&self) -> String {
        self.app
            .state
            .store
            .read(keys::instance_id())
            .await
            .unwrap()
            .unwrap()
    }
}

/// An instance whose peers may live on loopback.
pub async fn local(backend: Backend) -> App {
    App::with_config(backend, |c| {
        c.peer_allowed_networks = vec!["127.0.0.0/8".into()]
    })
    .await
}

fn body(url: &str, pin: &str) -> Value {
    json!({"data": {"attributes": {"url": url, "pin": pin}}})
}

pub async fn register(app: &App, url: &str, pin: &str) -> crate::support::Resp {
    app.post("/admin/v1/peers")
        .key(ADMIN)
        .json(body(url, pin))
        .send()
        .await
}

async fn count(app: &App) -> usize {
    app.all(ADMIN, "/admin/v1/peers").await.len()
}

async fn a_peer_is_registered_shown_listed_and_removed(backend: Backend) {
    let app = local(backend).await;
    let peer = Peer::start(backend).await;
    let pin = peer.pin().await;
    let r = register(&app, &format!("{}/", peer.url), &pin)
        .await
        .expect(201);
    let id = r.id();
    assert!(id.starts_with("per_"), "{id}");
    assert_eq!(r.attr("url"), &json!(peer.url));
    assert_eq!(r.attr("instance-id"), &json!(peer.instance_id().await));
    assert_eq!(r.attr("pin"), &json!(pin));
    assert_eq!(r.attr("published-keys"), &json!([pin]));
    assert_eq!(r.attr("status"), &json!("active"));
    assert_eq!(r.attr("failures"), &json!(0));
    assert!(r.attr("last-contact-at").is_string(), "{}", r.json);
    assert_eq!(r.attr("last-error"), &Value::Null);

    let shown = app
        .get(&format!("/admin/v1/peers/{id}"))
        .key(ADMIN)
        .send()
        .await
        .expect(200);
    assert_eq!(shown.json["data"], r.json["data"]);
    assert_eq!(app.ids(ADMIN, "/admin/v1/peers").await, vec![id.clone()]);

    // The store answers for the peer's key, and for nothing else.
    let store = &app.state.store;
    let instance = peer.instance_id().await;
    let trusted = store
        .read(peers::trusted_peer_key(instance.clone(), pin.clone()))
        .await
        .unwrap();
    assert_eq!(trusted.map(|k| k.kid), Some(pin.clone()));
    let other = tessera_core::keys::InstanceKey::generate().kid();
    let refused = store
        .read(peers::trusted_peer_key(instance.clone(), other))
        .await
        .unwrap();
    assert_eq!(refused, None);

    app.delete(&format!("/admin/v1/peers/{id}"))
        .key(ADMIN)
        .send()
        .await
        .expect(200);
    app.get(&format!("/admin/v1/peers/{id}"))
        .key(ADMIN)
        .send()
        .await
        .refused(404, "not_found");
    app.delete(&format!("/admin/v1/peers/{id}"))
        .key(ADMIN)
        .send()
        .await
        .refused(404, "not_found");
    assert_eq!(count(&app).await, 0);
    // Once removed, its key is trusted no more.
    let gone = store
        .read(peers::trusted_peer_key(instance, pin))
        .await
        .unwrap();
    assert_eq!(gone, None);
}

async fn a_key_the_peer_rotated_to_while_the_pin_was_published_is_trusted(backend: Backend) {
    let app = local(backend).await;
    let peer = Peer::start(backend).await;
    let pin = peer.pin().await;
    // The peer rotates before it is registered: the pinned key stays published, retired.
    let new = peer
        .app
        .state
        .store
        .write(keys::rotate_signing_key(
            tessera_store::units::keys::Algorithm::EdDSA,
        ))
        .await
        .unwrap();
    let r = register(&app, &peer.url, &pin).await.expect(201);
    let published: Vec<String> = serde_json::from_value(r.attr("published-keys").clone()).unwrap();
    assert_eq!(published, vec![new.clone(), pin.clone()]);
    let trusted = app
        .state
        .store
        .read(peers::trusted_peer_key(
            peer.instance_id().await,
            new.clone(),
        ))
        .await
        .unwrap();
    assert_eq!(trusted.map(|k| k.kid), Some(new));
}

async fn a_wrong_pin_is_refused_and_nothing_stored(backend: Backend) {
    let app = local(backend).await;
    let peer = Peer::start(backend).await;
    let other = tessera_core::keys::InstanceKey::generate().kid();
    let r = register(&app, &peer.url, &other)
        .await
        .refused(422, "peer_pin_mismatch");
    assert_eq!(r.pointer(), "/data/attributes/pin");
    assert!(
        r.json["errors"][0]["details"]
            .as_str()
            .unwrap()
            .contains(&other)
    );
    // Not a thumbprint at all.
    register(&app, &peer.url, "not-a-thumbprint")
        .await
        .refused(422, "invalid_attribute");
    // Missing attributes.
    app.post("/admin/v1/peers")
        .key(ADMIN)
        .json(json!({"data": {"attributes": {"url": peer.url}}}))
        .send()
        .await
        .refused(422, "missing_attribute");
    assert_eq!(count(&app).await, 0);
}

async fn a_private_address_not_on_the_allow_list_is_refused(backend: Backend) {
    // No allow-list: loopback is not a public address.
    let app = App::new(backend).await;
    let peer = Peer::start(backend).await;
    let pin = peer.pin().await;
    let r = register(&app, &peer.url, &pin)
        .await
        .refused(422, "invalid_url");
    assert_eq!(r.pointer(), "/data/attributes/url");
    // The webhooks' allow-list does not let peers in.
    let app = App::with_config(backend, |c| {
        c.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
    })
    .await;
    register(&app, &peer.url, &pin)
        .await
        .refused(422, "invalid_url");
    assert_eq!(count(&app).await, 0);
}

async fn an_unreachable_or_malformed_peer_is_refused(backend: Backend) {
    let app = local(backend).await;
    let pin = tessera_core::keys::InstanceKey::generate().kid();
    // Nothing listens there (a port just freed).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let r = register(&app, &closed, &pin)
        .await
        .refused(422, "peer_unreachable");
    assert!(
        r.json["errors"][0]["details"]
            .as_str()
            .unwrap()
            .contains("/.well-known/tessera")
    );
    // Something that is not a Tessera instance: a webhook receiver answers 200 with no document.
    let receiver = crate::receiver::Receiver::start().await;
    let base = receiver.url().trim_end_matches("/hook").to_owned();
    register(&app, &base, &pin)
        .await
        .refused(422, "peer_document_invalid");
    register(&app, "ftp://example.com", &pin)
        .await
        .refused(422, "invalid_url");
    assert_eq!(count(&app).await, 0);
}

async fn an_instance_already_registered_is_refused(backend: Backend) {
    let app = local(backend).await;
    let peer = Peer::start(backend).await;
    let pin = peer.pin().await;
    let first = register(&app, &peer.url, &pin).await.expect(201);
    // The same instance, by another spelling of its address.
    let r = register(&app, &format!("{}/", peer.url), &pin)
        .await
        .refused(422, "peer_exists");
    assert!(
        r.json["errors"][0]["details"]
            .as_str()
            .unwrap()
            .contains(&first.id())
    );
    assert_eq!(count(&app).await, 1);
}

/// A peer whose JWKS the test changes: its identity is fixed, its published keys are whatever
/// the test last set.
struct Fake {
    url: String,
    keys: std::sync::Arc<std::sync::Mutex<Vec<tessera_core::keys::Jwk>>>,
}

impl Fake {
    async fn start(keys: Vec<tessera_core::keys::Jwk>) -> Self {
        use axum::routing::get;
        let keys = std::sync::Arc::new(std::sync::Mutex::new(keys));
        let published = keys.clone();
        let router = axum::Router::new()
            .route(
                "/.well-known/tessera",
                get(|| async {
                    axum::Json(json!({
                        "instance-id": "ins_FakePeerFakePeerFakePeer",
                        "protocol-version": "1",
                    }))
                }),
            )
            .route(
                "/.well-known/jwks.json",
                get(move || {
                    let keys = published.lock().unwrap().clone();
                    async move { axum::Json(json!({ "keys": keys })) }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { url, keys }
    }

    fn publish(&self, keys: Vec<tessera_core::keys::Jwk>) {
        *self.keys.lock().unwrap() = keys;
    }
}

async fn a_refresh_follows_an_announced_rotation_and_refuses_a_key_change(backend: Backend) {
    use tessera_core::keys::InstanceKey;
    let app = local(backend).await;
    let (a, b, c) = (
        InstanceKey::generate(),
        InstanceKey::generate(),
        InstanceKey::generate(),
    );
    let fake = Fake::start(vec![a.public_jwk()]).await;
    let id = register(&app, &fake.url, &a.kid()).await.expect(201).id();
    let refresh = || async {
        app.post(&format!("/admin/v1/peers/{id}/refresh"))
            .key(ADMIN)
            .send()
            .await
            .expect(200)
    };
    let trusted = |kid: String| async {
        app.state
            .store
            .read(peers::trusted_peer_key(
                "ins_FakePeerFakePeerFakePeer".into(),
                kid,
            ))
            .await
            .unwrap()
            .map(|k| k.kid)
    };
    assert_eq!(trusted(b.kid()).await, None);

    // The peer announces b by publishing it beside the pinned a: b is trusted.
    fake.publish(vec![b.public_jwk(), a.public_jwk()]);
    let r = refresh().await;
    assert_eq!(r.attr("published-keys"), &json!([b.kid(), a.kid()]));
    assert_eq!(r.attr("failures"), &json!(0));
    assert_eq!(trusted(b.kid()).await, Some(b.kid()));

    // Its keys change to c without a: refused, recorded, and the trusted keys stay as they were.
    fake.publish(vec![c.public_jwk()]);
    let r = refresh().await;
    assert_eq!(r.attr("failures"), &json!(1));
    let error = r.attr("last-error").as_str().unwrap();
    assert!(error.starts_with("peer_pin_mismatch"), "{error}");
    assert_eq!(r.attr("published-keys"), &json!([b.kid(), a.kid()]));
    assert_eq!(trusted(c.kid()).await, None);
    assert_eq!(trusted(b.kid()).await, Some(b.kid()));

    // Once the pinned key is published again, a refresh is a good contact again.
    fake.publish(vec![a.public_jwk()]);
    let r = refresh().await;
    assert_eq!(r.attr("failures"), &json!(0));
    assert_eq!(r.attr("last-error"), &Value::Null);
    assert_eq!(trusted(b.kid()).await, None);
}

on_both_backends!(
    a_refresh_follows_an_announced_rotation_and_refuses_a_key_change,
    a_peer_is_registered_shown_listed_and_removed,
    a_key_the_peer_rotated_to_while_the_pin_was_published_is_trusted,
    a_wrong_pin_is_refused_and_nothing_stored,
    a_private_address_not_on_the_allow_list_is_refused,
    an_unreachable_or_malformed_peer_is_refused,
    an_instance_already_registered_is_refused,
);
