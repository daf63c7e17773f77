//! Sending a message to a peer instance (issue #17): the `send_peer_message` job. The message
//! is signed now (RFC 9421, the instance's active key, a fresh nonce: each attempt is a new
//! signature of the same message), posted to the peer's `/federation/v1/messages` through the
//! peers' SSRF-guarded client, and its answer handled in one unit with the job's completion
//! ([`federation::answered`]): a redemption's answer lands the copy. Anything else — the peer
//! unreachable, a refusal, an answer that cannot be landed — fails the job, to be retried on the
//! one retry policy.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use tessera_core::federation::{MAX_ANSWER_BYTES, MESSAGES_PATH};
use tessera_core::id::{JobId, random_base62};
use tessera_core::job::SendPeerMessage;
use tessera_core::{Error, codes};
use tessera_store::units::federation;
use tessera_store::units::keys;
use tessera_store::units::redemption::Outcome;

use super::Worker;

fn failed(detail: String) -> Error {
    Error::new(
        tessera_core::error::Status::Unavailable,
        codes::PEER_UNREACHABLE,
        detail,
    )
}

/// Sends one message and handles its answer.
pub(super) async fn run(worker: &Worker, job: &JobId, p: &SendPeerMessage) -> Result<(), Error> {
    let m = &p.message;
    let Some(client) = worker.peer_outbound.as_ref() else {
        return Err(failed("this worker has no client for peers".into()));
    };
    let base = worker
        .store
        .read(federation::peer_url(m.to.clone()))
        .await?
        .ok_or_else(|| failed(format!("instance {} is not a registered peer", m.to)))?;
    let key = worker
        .store
        .read(keys::active_signing_key())
        .await?
        .ok_or_else(|| failed("this instance has no signing key".into()))?;
    let url = format!("{base}{MESSAGES_PATH}");
    let body = Bytes::from(serde_json::to_vec(m).unwrap_or_default());
    let mut request = http::Request::post(&url)
        .body(body.clone())
        .map_err(|e| failed(format!("the peer's URL {url} cannot be used: {e}")))?;
    request
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let signing = ed25519_dalek::SigningKey::from_bytes(&key.key.private_bytes());
    let now = worker.store.clock().now().millis().div_euclid(1000);
    tessera_federation::signature::sign(
        &mut request,
        &m.from,
        &key.kid,
        &signing,
        &random_base62(32),
        now,
    )
    .map_err(|e| Error::internal(std::io::Error::other(e.to_string())))?;
    let (parts, body) = request.into_parts();
    let (status, answer) = client
        .exchange(&url, parts.headers, body, MAX_ANSWER_BYTES)
        .await
        .map_err(|f| failed(format!("{} ({}): {}", m.body.kind(), f.kind, f.message)))?;
    if !(200..300).contains(&status) {
        let head = String::from_utf8_lossy(&answer[..answer.len().min(512)]).into_owned();
        return Err(failed(format!(
            "{} refused by {} ({status}): {head}",
            m.body.kind(),
            m.to
        )));
    }
    let answer = serde_json::from_slice(&answer)
        .map_err(|e| failed(format!("the peer's answer is not JSON: {e}")))?;
    let landed = worker
        .store
        .write(federation::answered(job.clone(), m.clone(), answer))
        .await?;
    match landed {
        Some(Outcome::Redeemed(t)) => {
            tracing::info!(share_token.id = %t.id, peer = %m.to, "share token redeemed by its source instance");
        }
        Some(Outcome::Failed(t)) => {
            tracing::info!(share_token.id = %t.id, peer = %m.to, reason = t.failure_reason.as_deref().unwrap_or(""), "the source instance refused the redemption");
        }
        _ => {}
    }
    Ok(())
}
