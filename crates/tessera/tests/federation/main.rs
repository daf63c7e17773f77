//! Federation end to end (issue #17): two real `tessera serve` processes on loopback, each with
//! its own database, registered as each other's peers, sharing across the network — and the
//! faults that must not break it (see each module).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake_peer;
mod faults;
mod flow;
mod instance;
mod kill;
mod receiver;

use serde_json::{Value, json};

use instance::{Instance, Org};

/// Two instances that pinned each other, an organization on each, and an active connection from
/// the source's organization to the destination's.
pub struct Pair {
    pub a: Instance,
    pub b: Instance,
    pub source: Org,
    pub destination: Org,
    pub connection: String,
}

impl Pair {
    pub async fn connect(a: Instance, b: Instance) -> Pair {
        a.add_peer(&b).await;
        b.add_peer(&a).await;
        let source = a.org("Source Bank").await;
        let destination = b.org("Destination Lender").await;
        let address = format!("{}@{}", destination.id, b.instance_id().await);
        let (status, c) = a
            .call(
                &source,
                "POST",
                "/api/v1/connect/connections",
                Some(json!({"data": {"attributes": {"destination-organization-id": address, "name": "across"}}})),
            )
            .await;
        assert_eq!(status, 201, "{c}");
        let connection = c["data"]["id"].as_str().unwrap().to_owned();
        assert_eq!(c["data"]["attributes"]["status"], "pending");
        // The offer reaches B's organization as an inbound, pending connection with the same id.
        let path = format!("/api/v1/connect/connections/{connection}");
        b.wait_for(&destination, &path, "the offered connection", |v| {
            v["data"]["attributes"]["status"] == "pending"
        })
        .await;
        let (status, v) = b
            .call(&destination, "POST", &format!("{path}/activate"), None)
            .await;
        assert_eq!(status, 200, "{v}");
        let at_a = a
            .wait_for(
                &source,
                &path,
                "the connection activated by the peer",
                |v| v["data"]["attributes"]["status"] == "active",
            )
            .await;
        // Only the extension attribute tells either side that the other is on a peer.
        assert_eq!(
            at_a["data"]["attributes"]["peer-instance-id"],
            b.instance_id().await.as_str()
        );
        let at_b = b.get_json(&destination.key, &path).await;
        assert_eq!(
            at_b["data"]["attributes"]["peer-instance-id"],
            a.instance_id().await.as_str()
        );
        assert_eq!(at_b["data"]["attributes"]["direction"], "inbound");
        Pair {
            a,
            b,
            source,
            destination,
            connection,
        }
    }

    /// A completed inquiry of the source's, with a passed government-id verification and a
    /// document: its id.
    pub async fn shareable_inquiry(&self, name: &str) -> String {
        let (a, org) = (&self.a, &self.source);
        let (status, i) = a
            .call(
                org,
                "POST",
                "/api/v1/inquiries",
                Some(json!({"data": {"attributes": {"fields": {
                    "name-first": name, "name-last": "Lovelace", "birthdate": "1990-12-10",
                    "address-country-code": "GB"}}}})),
            )
            .await;
        assert_eq!(status, 201, "{i}");
        let id = i["data"]["id"].as_str().unwrap().to_owned();
        let (status, v) = a
            .call(
                org,
                "POST",
                "/api/v1/verifications",
                Some(json!({"data": {"attributes": {"inquiry-id": id, "type": "government-id", "status": "passed"}}})),
            )
            .await;
        assert_eq!(status, 201, "{v}");
        let (status, v) = a
            .call(
                org,
                "POST",
                &format!("/api/v1/inquiries/{id}/complete"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{v}");
        id
    }

    /// Creates a token on A for `inquiry` and waits until B's organization sees it: its id.
    pub async fn token(&self, inquiry: &str, extra: Value) -> String {
        let mut attributes = json!({"connection-id": self.connection, "source-id": inquiry});
        if let (Some(a), Some(e)) = (attributes.as_object_mut(), extra.as_object()) {
            a.extend(e.clone());
        }
        let (status, t) = self
            .a
            .call(
                &self.source,
                "POST",
                "/api/v1/connect/share-tokens",
                Some(json!({"data": {"attributes": attributes}})),
            )
            .await;
        assert_eq!(status, 201, "{t}");
        let id = t["data"]["id"].as_str().unwrap().to_owned();
        self.b
            .wait_for(
                &self.destination,
                &format!("/api/v1/connect/share-tokens/{id}"),
                "the offered token",
                |v| v["data"]["attributes"]["status"] == "created",
            )
            .await;
        id
    }

    /// The status of token `id` on each side.
    pub async fn statuses(&self, id: &str) -> (String, String) {
        let path = format!("/api/v1/connect/share-tokens/{id}");
        let a = self.a.get_json(&self.source.key, &path).await;
        let b = self.b.get_json(&self.destination.key, &path).await;
        (
            a["data"]["attributes"]["status"]
                .as_str()
                .unwrap()
                .to_owned(),
            b["data"]["attributes"]["status"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
    }
}

/// A SQLite database in `dir`.
pub fn sqlite(dir: &std::path::Path) -> String {
    format!("sqlite://{}/t.db", dir.display())
}
