//! B as the fault tests see it: a real `tessera serve` on SQLite with one organization, the
//! peer registrations and connections its operator and organization see, and its federation
//! events read straight from its database file (no admin route lists them yet); and sending it a
//! signed message that must be accepted, or refused with a given status and code, one
//! `peer.message-refused` event and nothing changed.

use serde_json::{Value, json};
use sqlx::SqlitePool;
use tessera_core::federation::{Body, MESSAGES_PATH, Message};

use super::fake_peer::{FakePeer, Outgoing};
use super::instance::{ADMIN, Instance, Org};
use super::sqlite;

/// B, one organization of B's, and B's database read directly (for the federation events).
pub struct Receiver {
    pub b: Instance,
    /// B's instance id.
    pub id: String,
    pub org: Org,
    db: SqlitePool,
    _dir: tempfile::TempDir,
}

/// A federation event as stored: name, instance, payload.
type Event = (String, Option<String>, Value);

/// The connection an offer offers.
pub fn connection_of(m: &Message) -> String {
    match &m.body {
        Body::ConnectionOffered(o) => o.connection_id.to_string(),
        other => panic!("not an offer: {other:?}"),
    }
}

impl Receiver {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let b = Instance::start("B", dir.path(), &sqlite(dir.path())).await;
        let id = b.instance_id().await;
        let org = b.org("Receiving Lender").await;
        let db = SqlitePool::connect(&sqlite(dir.path())).await.unwrap();
        Self {
            b,
            id,
            org,
            db,
            _dir: dir,
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.b.addr)
    }

    pub fn messages(&self) -> String {
        self.b.url(MESSAGES_PATH)
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.b
            .send(method, &format!("Bearer {ADMIN}"), path, body)
            .await
    }

    /// Registers `peer` at B, pinned to its first key: the peer's id at B.
    pub async fn register(&self, peer: &FakePeer) -> String {
        let body = json!({"data": {"attributes": {"url": peer.url(), "pin": peer.pin()}}});
        let (status, v) = self.admin("POST", "/admin/v1/peers", Some(body)).await;
        assert_eq!(status, 201, "{v}");
        v["data"]["id"].as_str().unwrap().to_owned()
    }

    /// The peer `id` as B's operator sees it.
    pub async fn peer(&self, id: &str) -> Value {
        let (status, v) = self
            .admin("GET", &format!("/admin/v1/peers/{id}"), None)
            .await;
        assert_eq!(status, 200, "{v}");
        v["data"]["attributes"].clone()
    }

    /// The ids of the connections B's organization sees.
    pub async fn connections(&self) -> Vec<String> {
        let v = self
            .b
            .get_json(&self.org.key, "/api/v1/connect/connections?page[size]=100")
            .await;
        let mut ids: Vec<String> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    }

    /// B's federation events, oldest first.
    pub async fn events(&self) -> Vec<Event> {
        let rows: Vec<(String, Option<String>, String)> =
            sqlx::query_as("select name, instance_id, payload from peer_events where name like 'peer.message-%' order by seq")
                .fetch_all(&self.db)
                .await
                .unwrap();
        rows.into_iter()
            .map(|(n, i, p)| (n, i, serde_json::from_str(&p).unwrap()))
            .collect()
    }

    /// Sends `out` to B and checks it is accepted: the answer.
    pub async fn accepted(&self, what: &str, out: &Outgoing) -> Value {
        let (status, v) = out.send(&self.messages()).await;
        assert_eq!(status, 200, "{what}: {v}");
        v
    }

    /// Sends `out` to B and checks that it is refused with `status` and `code`, that this is
    /// recorded as one `peer.message-refused` event about `instance`, and that B's organization
    /// sees no new connection.
    pub async fn refused(
        &self,
        what: &str,
        out: &Outgoing,
        status: u16,
        code: &str,
        instance: Option<&str>,
    ) {
        let (events, connections) = (self.events().await, self.connections().await);
        let (got, v) = out.send(&self.messages()).await;
        assert_eq!(
            (got, v["errors"][0]["code"].as_str()),
            (status, Some(code)),
            "{what}: {v}"
        );
        let after = self.events().await;
        assert_eq!(
            after.len(),
            events.len() + 1,
            "{what}: one event: {after:?}"
        );
        let (name, about, payload) = after.last().unwrap();
        assert_eq!(name, "peer.message-refused", "{what}");
        assert_eq!(about.as_deref(), instance, "{what}: {payload}");
        assert_eq!(payload["code"], code, "{what}: {payload}");
        assert_eq!(self.connections().await, connections, "{what}: B changed");
    }
}
