//! The headers of one signed POST attempt, as a webhook delivery and a workflow `http-request`
//! step both send it: the sender's custom headers first, then Tessera's own (content type, user
//! agent, the Persona and Standard Webhooks signatures, Persona's attempt counters), which a
//! custom header can never replace.

use std::collections::BTreeMap;

use http::{HeaderMap, HeaderName, HeaderValue};
use tessera_core::Timestamp;
use tessera_core::signing::signature_headers;

/// One attempt of a signed POST.
pub(super) struct SignedPost<'a> {
    /// `Tessera-Webhooks` or `Tessera-Workflows` (the version is added).
    pub agent: &'static str,
    /// The secrets that sign now (two during a rotation).
    pub secrets: &'a [&'a str],
    /// The message id, the same on every attempt of one message.
    pub message_id: &'a str,
    pub body: &'a [u8],
    /// This attempt's number (1-based) and the most attempts there will be.
    pub attempt: u32,
    pub max_attempts: u32,
    pub first_attempted_at: Timestamp,
    pub now: Timestamp,
    /// Set by the sender (a webhook's `custom-http-headers`); reserved names are skipped.
    pub custom: Option<&'a BTreeMap<String, String>>,
}

fn header(map: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        map.insert(HeaderName::from_static(name), v);
    }
}

impl SignedPost<'_> {
    pub(super) fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in self.custom.into_iter().flatten() {
            if tessera_core::webhook::is_reserved_header(name) {
                continue;
            }
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                h.insert(n, v);
            }
        }
        header(&mut h, "content-type", "application/json");
        header(
            &mut h,
            "user-agent",
            &format!("{}/{}", self.agent, env!("CARGO_PKG_VERSION")),
        );
        let signed = signature_headers(
            self.secrets,
            self.message_id,
            self.now.unix_seconds(),
            self.body,
        );
        for (name, value) in signed {
            header(&mut h, name, &value);
        }
        header(
            &mut h,
            "persona-webhook-attempts-made",
            &self.attempt.to_string(),
        );
        header(
            &mut h,
            "persona-webhook-attempts-left",
            &self.max_attempts.saturating_sub(self.attempt).to_string(),
        );
        // Persona sends integer Unix seconds.
        header(
            &mut h,
            "persona-webhook-first-attempted-at",
            &self.first_attempted_at.unix_seconds().to_string(),
        );
        h
    }
}
