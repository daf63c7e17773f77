//! One signed message to a peer instance (federation): signed with RFC 9421
//! (`tessera_federation::signature`) as this instance, posted to the peer's
//! `/federation/v1/messages` through the guarded client, its whole answer read. The worker sends
//! the outbox's messages with it, the API its previews.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde_json::Value;
use tessera_core::federation::{MAX_ANSWER_BYTES, MESSAGES_PATH, Message};

use crate::OutboundClient;
use crate::outcome::{Failure, FailureKind};

/// What a peer answered.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 2xx: the answer document.
    Accepted(Value),
    /// Any other status, with the error document the peer sent (or its text).
    Refused { status: u16, body: Value },
}

/// This instance's signing key, as a message is signed with it.
pub struct Signer<'a> {
    pub kid: &'a str,
    pub key: &'a tessera_federation::signature::SigningKey,
    pub now_unix: i64,
}

/// Signs `message` with `signer` (a fresh nonce) and posts it to the peer at `base_url`.
pub async fn send(
    client: &OutboundClient,
    base_url: &str,
    message: &Message,
    signer: Signer<'_>,
) -> Result<Answer, Failure> {
    let url = format!("{base_url}{MESSAGES_PATH}");
    let body = Bytes::from(serde_json::to_vec(message).unwrap_or_default());
    let mut request = http::Request::post(&url)
        .body(body)
        .map_err(|e| Failure::new(FailureKind::InvalidUrl, e.to_string()))?;
    request
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let nonce = tessera_core::id::random_base62(32);
    tessera_federation::signature::sign(
        &mut request,
        &message.from,
        signer.kid,
        signer.key,
        &nonce,
        signer.now_unix,
    )
    .map_err(|e| Failure::new(FailureKind::Request, e.to_string()))?;
    let (parts, body) = request.into_parts();
    let (status, answer) = client
        .exchange(&url, parts.headers, body, MAX_ANSWER_BYTES)
        .await?;
    let value = serde_json::from_slice(&answer)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&answer).into_owned()));
    Ok(if (200..300).contains(&status) {
        Answer::Accepted(value)
    } else {
        Answer::Refused {
            status,
            body: value,
        }
    })
}
