//! A small client of the Tessera API for setting up and driving the benchmark.

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::server::ADMIN;

#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

/// An organization and its sandbox key.
#[derive(Debug, Clone)]
pub struct Org {
    pub id: String,
    pub key: String,
}

impl Api {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .unwrap_or_default();
        Self {
            http,
            base: base.to_owned(),
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await?;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path}: {status} {v}");
        }
        Ok(v)
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, key, Some(body))
            .await
    }

    pub async fn org(&self, name: &str) -> anyhow::Result<Org> {
        let v = self
            .post(
                "/admin/v1/organizations",
                ADMIN,
                json!({"data": {"attributes": {"name": name}}}),
            )
            .await?;
        Ok(Org {
            id: v["data"]["id"].as_str().context("org id")?.to_owned(),
            key: v["meta"]["api-keys"]["sandbox"]
                .as_str()
                .context("key")?
                .to_owned(),
        })
    }

    pub async fn connection(&self, a: &Org, b: &Org) -> anyhow::Result<String> {
        let v = self
            .post(
                "/api/v1/connect/connections",
                &a.key,
                json!({"data": {"attributes": {"destination-organization-id": b.id}}}),
            )
            .await?;
        let id = v["data"]["id"]
            .as_str()
            .context("connection id")?
            .to_owned();
        self.post(
            &format!("/api/v1/connect/connections/{id}/activate"),
            &b.key,
            json!({}),
        )
        .await?;
        Ok(id)
    }

    pub async fn completed_inquiry(&self, org: &Org) -> anyhow::Result<String> {
        let v = self
            .post(
                "/api/v1/inquiries",
                &org.key,
                json!({"data": {"attributes": {"fields": {"name-first": "Jane", "name-last": "Doe", "birthdate": "1990-04-01",
                    "address-country-code": "US", "identification-number": "X1234567"}}}}),
            )
            .await?;
        let id = v["data"]["id"].as_str().context("inquiry id")?.to_owned();
        self.post(
            "/api/v1/verifications",
            &org.key,
            json!({"data": {"attributes": {"inquiry-id": id, "type": "government-id", "status": "passed"}}}),
        )
        .await?;
        self.post(
            &format!("/api/v1/inquiries/{id}/complete"),
            &org.key,
            json!({}),
        )
        .await?;
        Ok(id)
    }

    /// Creates a share token; `None` on any failure (for load loops).
    pub async fn share_token(&self, key: &str, connection: &str, inquiry: &str) -> Option<String> {
        let body =
            json!({"data": {"attributes": {"connection-id": connection, "source-id": inquiry}}});
        let r = self
            .http
            .post(format!("{}/api/v1/connect/share-tokens", self.base))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .ok()?;
        if r.status() != reqwest::StatusCode::CREATED {
            return None;
        }
        let v: Value = r.json().await.ok()?;
        v["data"]["id"].as_str().map(str::to_owned)
    }

    /// A request whose status alone matters.
    pub async fn status(&self, req: reqwest::RequestBuilder) -> Option<u16> {
        req.send().await.ok().map(|r| r.status().as_u16())
    }
}
