//! The Persona 2025-12-08 contract test: scenarios drive the real router (both backends) through
//! the Connect flow, inquiries, events and webhooks as a client of Persona's API would (with
//! `Persona-Version: 2025-12-08`), and every response (status, headers, body) and every webhook
//! request a receiver gets is checked against Persona's description
//! (`shared/reference/persona-openapi-2025-12-08.json`, relaxed only by dropping
//! `additionalProperties: false` / `unevaluatedProperties: false`). A scenario runs to the end
//! and then fails with every problem it found, each naming the request and the instance path.

mod connections;
mod contract;
mod events;
mod inquiries;
mod selftest;
mod share_tokens;
mod webhooks;

use axum::http::Method;
use serde_json::Value;
use tessera_store::testing::Backend;

use crate::receiver::Received;
use crate::support::{App, Org, Resp};
use contract::{VERSION, contract};

/// Who calls: a name for the messages and an API key.
#[derive(Debug, Clone)]
pub struct Who {
    pub name: &'static str,
    pub key: String,
}

impl Who {
    pub fn sandbox(name: &'static str, org: &Org) -> Self {
        Self {
            name,
            key: org.sandbox.clone(),
        }
    }
}

/// An app configured as deployed (rate limits on, so their headers are sent), with webhooks
/// allowed to reach a receiver on loopback.
pub async fn app(backend: Backend) -> App {
    App::with_config(backend, |c| {
        c.rate_limit_per_minute = tessera_server::edge::config::DEFAULT_RATE_LIMIT_PER_MINUTE;
        c.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
        c.webhook_retry_scale = 0.001;
        c.webhook_timeout_ms = 1000;
    })
    .await
}

/// A scenario's run: calls, each checked against the contract, and the problems found.
pub struct Run<'a> {
    pub app: &'a App,
    family: &'static str,
    backend: Backend,
    problems: Vec<String>,
    responses: usize,
    webhooks: usize,
}

impl<'a> Run<'a> {
    pub fn new(app: &'a App, family: &'static str, backend: Backend) -> Self {
        Self {
            app,
            family,
            backend,
            problems: Vec::new(),
            responses: 0,
            webhooks: 0,
        }
    }

    /// Records a problem of the scenario itself (a step it could not take).
    pub fn problem(&mut self, what: impl Into<String>) {
        self.problems.push(what.into());
    }

    /// Sends `METHOD /api/v1{path}` as `who` (with `Persona-Version`), with an optional JSON
    /// body, and checks the response: the status must be `expect` and one Persona documents,
    /// the headers and the body must match the response's description. A body sent on a call
    /// that expects success must itself be a valid Persona request.
    pub async fn call(
        &mut self,
        who: &Who,
        method: Method,
        path: &str,
        body: Option<Value>,
        expect: u16,
    ) -> Resp {
        let label = format!("{method} {path} as {}", who.name);
        let c = contract();
        let template = contract().template_for(path);
        let Some(template) = template else {
            self.problems
                .push(format!("{label}: Persona documents no such path"));
            return self.send(who, method, path, body).await;
        };
        if let Some(b) = body.as_ref().filter(|_| expect < 300) {
            for e in c.check_request(method.as_str(), &template, b) {
                self.problems
                    .push(format!("{label}: [the scenario's request] {e}"));
            }
        }
        let r = self.send(who, method.clone(), path, body).await;
        self.responses += 1;
        let op = format!("{method} {template}");
        if r.status.as_u16() != expect {
            let detail = if r.status.as_u16() >= 400 {
                format!(
                    " ({} {})",
                    r.json["errors"][0]["code"].as_str().unwrap_or_default(),
                    r.json["errors"][0]["details"]
                        .as_str()
                        .or(r.json["errors"][0]["title"].as_str())
                        .unwrap_or_default()
                )
            } else {
                String::new()
            };
            self.problems.push(format!(
                "[{op}] {label}: status {} where Persona answers {expect}{detail}",
                r.status.as_u16()
            ));
        }
        for e in c.check_response(
            method.as_str(),
            &template,
            r.status.as_u16(),
            &r.headers,
            &r.bytes,
        ) {
            self.problems
                .push(format!("[{op}] {label} → {}: {e}", r.status.as_u16()));
        }
        r
    }

    async fn send(&self, who: &Who, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut call = self
            .app
            .call(method, &format!("/api/v1{path}"))
            .key(&who.key)
            .header("persona-version", VERSION);
        if let Some(b) = body {
            call = call.json(b);
        }
        call.send().await
    }

    pub async fn get(&mut self, who: &Who, path: &str, expect: u16) -> Resp {
        self.call(who, Method::GET, path, None, expect).await
    }

    pub async fn post(&mut self, who: &Who, path: &str, body: Option<Value>, expect: u16) -> Resp {
        self.call(who, Method::POST, path, body, expect).await
    }

    /// Checks webhook requests a receiver got; returns the names of the events Persona
    /// documents no body for (not checked).
    pub fn check_webhooks(&mut self, received: &[Received]) -> Vec<String> {
        let mut undocumented = Vec::new();
        for r in received {
            let (name, problems) = contract().check_webhook(&r.headers, &r.body);
            match problems {
                None => undocumented.push(name),
                Some(problems) => {
                    self.webhooks += 1;
                    for e in problems {
                        self.problems
                            .push(format!("[webhook {name}] delivery of {name}: {e}"));
                    }
                }
            }
        }
        undocumented.sort();
        undocumented.dedup();
        undocumented
    }

    /// Fails with every problem found, if any.
    pub fn finish(self) {
        eprintln!(
            "persona contract ({}, {:?}): {} responses and {} webhook requests checked, {} problems",
            self.family,
            self.backend,
            self.responses,
            self.webhooks,
            self.problems.len()
        );
        assert!(
            self.responses > 0,
            "{}: the scenario checked no response",
            self.family
        );
        if !self.problems.is_empty() {
            panic!(
                "Persona {VERSION} contract, {} ({:?}): {} problems\n  - {}",
                self.family,
                self.backend,
                self.problems.len(),
                self.problems.join("\n  - ")
            );
        }
    }
}

/// A well-formed id with the prefix of `like` that names nothing.
pub fn unknown_id(like: &str) -> String {
    match like.split_once('_') {
        Some((prefix, rest)) => format!("{prefix}_{}", "Z".repeat(rest.len().max(22))),
        None => format!("{like}_ZZZZZZZZZZZZZZZZZZZZZZ"),
    }
}

/// The `data.id` of a response, or a placeholder when the call failed (later steps then fail
/// on their own, and say so).
pub fn id_of(r: &Resp, fallback_prefix: &str) -> String {
    match r.json["data"]["id"].as_str() {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => unknown_id(fallback_prefix),
    }
}
