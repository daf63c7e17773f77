//! Sending a message to a peer instance (issue #17): the `send_peer_message` job. The message
//! is signed now (RFC 9421, the instance's active key, a fresh nonce: each attempt is a new
//! signature of the same message), posted to the peer's `/federation/v1/messages` through the
//! peers' SSRF-guarded client, and its answer handled in one unit with the job's completion
//! ([`federation::answered`]): a redemption's answer lands the copy. Anything else — the peer
//! unreachable, a refusal, an answer that cannot be landed — fails the job, to be retried on the
//! one retry policy.

use tessera_core::id::JobId;
use tessera_core::job::SendPeerMessage;
use tessera_core::{Error, codes};
use tessera_outbound::peer::{self, Answer, Signer};
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

/// Sends one message and handles its answer; a failure is recorded as a `peer.message-failed`
/// federation event (a failed contact of the peer) and left to the job's retries.
pub(super) async fn run(worker: &Worker, job: &JobId, p: &SendPeerMessage) -> Result<(), Error> {
    let result = send(worker, job, p).await;
    if let Err(e) = &result {
        let m = &p.message;
        let payload = serde_json::json!({
            "type": m.body.kind(), "message-id": m.id, "error": e.detail,
        });
        let event = federation::record_peer_event(
            "peer.message-failed".into(),
            Some(m.to.clone()),
            payload,
            true,
        );
        if let Err(err) = worker.store.write(event).await {
            tracing::warn!(error = %err, "could not record a failed peer message");
        }
    }
    result
}

async fn send(worker: &Worker, job: &JobId, p: &SendPeerMessage) -> Result<(), Error> {
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
    let signing = tessera_federation::signature::SigningKey::from_private(
        key.key.algorithm(),
        key.key.private_bytes().as_ref(),
    )
    .ok_or_else(|| failed("this instance's signing key cannot sign messages".into()))?;
    let signer = Signer {
        kid: &key.kid,
        key: &signing,
        now_unix: worker.store.clock().now().millis().div_euclid(1000),
    };
    let answer = match peer::send(client, &base, m, signer).await {
        Ok(Answer::Accepted(answer)) => answer,
        Ok(Answer::Refused { status, body }) => {
            return Err(failed(format!(
                "{} refused by {} ({status}): {}",
                m.body.kind(),
                m.to,
                body["errors"][0]["code"].as_str().map_or_else(
                    || body.to_string(),
                    |c| format!(
                        "{c}: {}",
                        body["errors"][0]["detail"].as_str().unwrap_or("")
                    )
                ),
            )));
        }
        Err(f) => {
            return Err(failed(format!(
                "{} ({}): {}",
                m.body.kind(),
                f.kind,
                f.message
            )));
        }
    };
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
