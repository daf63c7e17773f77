//! A fake peer instance inside the test process, for the fault tests: a tiny HTTP server on
//! loopback publishing `/.well-known/tessera` and `/.well-known/jwks.json` for Ed25519 keys the
//! test holds (the published JWKS can be changed while it runs), and the signing of messages as
//! that instance — with any target, time or key, so a test can forge, re-address, expire or
//! replay them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use bytes::Bytes;
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use tessera_core::federation::{Body, ConnectionOffered, MESSAGES_PATH, Message};
use tessera_core::id::{ConnectionId, MessageId, OrganizationId};
use tessera_core::keys::identity::{Jwk, public_jwk};
use tessera_core::tenancy::EnvKind;
use tessera_federation::signature;

/// A new random Ed25519 key.
pub fn new_key() -> SigningKey {
    SigningKey::from_bytes(&rand::random::<[u8; 32]>())
}

/// The JWK (RFC 7638 thumbprint as `kid`) of `key`'s public half.
pub fn jwk(key: &SigningKey) -> Jwk {
    use base64::Engine as _;
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
    public_jwk(&x)
}

/// A random instance id (`ins_` and 24 letters or digits).
pub fn instance_id() -> String {
    format!("ins_{}", &MessageId::generate().as_str()[4..])
}

pub struct FakePeer {
    pub instance_id: String,
    pub addr: SocketAddr,
    /// The key it signs with (at start, the one it publishes).
    pub key: SigningKey,
    jwks: Arc<Mutex<Vec<Jwk>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakePeer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[derive(Clone)]
struct Published {
    instance_id: String,
    base: String,
    jwks: Arc<Mutex<Vec<Jwk>>>,
}

async fn serve_tessera(State(p): State<Published>) -> axum::Json<Value> {
    axum::Json(json!({
        "instance-id": p.instance_id, "public-base-url": p.base, "protocol-version": "1",
        "jwks-uri": format!("{}/.well-known/jwks.json", p.base),
    }))
}

async fn serve_jwks(State(p): State<Published>) -> axum::Json<Value> {
    let keys = p.jwks.lock().unwrap().clone();
    axum::Json(json!({ "keys": keys }))
}

impl FakePeer {
    /// Starts a fake peer with a new instance id and key, publishing that key.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let key = new_key();
        let jwks = Arc::new(Mutex::new(vec![jwk(&key)]));
        let instance_id = instance_id();
        let published = Published {
            instance_id: instance_id.clone(),
            base: format!("http://{addr}"),
            jwks: jwks.clone(),
        };
        let app = Router::new()
            .route("/.well-known/tessera", get(serve_tessera))
            .route("/.well-known/jwks.json", get(serve_jwks))
            .with_state(published);
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            instance_id,
            addr,
            key,
            jwks,
            server,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The thumbprint of the key it started with (what an operator pins).
    pub fn pin(&self) -> String {
        self.jwks.lock().unwrap()[0].kid.clone()
    }

    /// From now on publishes exactly `keys` in its JWKS.
    pub fn publish(&self, keys: &[&SigningKey]) {
        *self.jwks.lock().unwrap() = keys.iter().map(|k| jwk(k)).collect();
    }

    /// A `connection.offered` message to `to`, offering a new sandbox connection from a new
    /// organization of this peer to organization `destination` there.
    pub fn offer(&self, to: &str, destination: &str) -> Message {
        Message {
            id: MessageId::generate(),
            from: self.instance_id.clone(),
            to: to.to_owned(),
            body: Body::ConnectionOffered(ConnectionOffered {
                connection_id: ConnectionId::generate(),
                kind: EnvKind::Sandbox,
                source_organization_id: OrganizationId::generate(),
                source_organization_name: "Fake Peer Bank".into(),
                destination_organization_id: OrganizationId::parse(destination).unwrap(),
                name: Some("from the fake peer".into()),
            }),
        }
    }

    /// `message` signed now for `target` (an instance's base URL) with this peer's key.
    pub fn sign(&self, target: &str, message: &Message) -> Outgoing {
        let body = serde_json::to_vec(message).unwrap();
        Outgoing::signed(
            &format!("{target}{MESSAGES_PATH}"),
            body,
            &self.instance_id,
            &self.key,
            now(),
        )
    }
}

/// The time, Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

/// A signed request, as it goes on the wire: sent as is (again, for a replay) or altered first.
#[derive(Clone)]
pub struct Outgoing {
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Outgoing {
    /// `body` POSTed to `target` (absolute), signed by `instance` with `key` at `created`.
    pub fn signed(
        target: &str,
        body: Vec<u8>,
        instance: &str,
        key: &SigningKey,
        created: i64,
    ) -> Self {
        let mut request = http::Request::post(target)
            .header("content-type", "application/json")
            .body(Bytes::from(body.clone()))
            .unwrap();
        let kid = jwk(key).kid;
        let nonce = format!("{:032x}", rand::random::<u128>());
        signature::sign(&mut request, instance, &kid, key, &nonce, created).unwrap();
        Self {
            headers: request.headers().clone(),
            body,
        }
    }

    /// The same request with one bit of its signature flipped.
    pub fn with_signature_altered(mut self) -> Self {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let value = self.headers["signature"].to_str().unwrap().to_owned();
        let inner = value
            .strip_prefix("tessera=:")
            .and_then(|v| v.strip_suffix(':'))
            .unwrap_or_else(|| panic!("unexpected signature header {value}"));
        let mut bytes = b64.decode(inner).unwrap();
        bytes[10] ^= 0x01;
        let altered = format!("tessera=:{}:", b64.encode(bytes));
        self.headers.insert("signature", altered.parse().unwrap());
        self
    }

    /// Sends it to `url` (an instance's messages URL): the status and the answer.
    pub async fn send(&self, url: &str) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(url)
            .headers(self.headers.clone())
            .body(self.body.clone())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}
