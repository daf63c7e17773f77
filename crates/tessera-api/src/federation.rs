//! Where peer instances send messages (issue #17, items 4–5): `POST /federation/v1/messages`.
//! Not part of the tenant API: no API key, no tenant; a message is accepted only when signed
//! (RFC 9421, `tessera-federation`) by a key trusted for a registered peer, for this instance's
//! own URL, within the window, with a nonce not seen before. The store then answers it
//! ([`federation::receive`]). Every refusal is answered with the error document and recorded as a
//! `peer.message-refused` federation event.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};
use tessera_core::error::Status;
use tessera_core::federation::Peeked;
use tessera_core::federation::{MAX_MESSAGE_BYTES, MESSAGES_PATH, Message};
use tessera_core::{Error, Timestamp, codes};
use tessera_edge::error::error_response;
use tessera_edge::http::json_response;
use tessera_edge::state::AppState;
use tessera_federation::signature;
use tessera_outbound::peer::{self, Answer, Signer};
use tessera_store::units::federation::{self, Signed};
use tessera_store::units::peers;
use tessera_store::units::share_tokens::ManifestRequest;

/// The route.
pub fn routes() -> Router<AppState> {
    Router::new().route(MESSAGES_PATH, post(receive))
}

async fn receive(State(state): State<AppState>, request: Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    let (sender, result) = match axum::body::to_bytes(body, MAX_MESSAGE_BYTES).await {
        Ok(body) => handle(&state, &parts, &body).await,
        Err(_) => (
            Sender::default(),
            Err(Error::new(
                Status::PayloadTooLarge,
                codes::PAYLOAD_TOO_LARGE,
                format!("a message is at most {MAX_MESSAGE_BYTES} bytes"),
            )),
        ),
    };
    match result {
        Ok(answer) => json_response(StatusCode::OK, answer.to_string().into_bytes()),
        Err(e) => {
            if e.status.code() < 500 {
                let instance = sender.instance;
                let payload = json!({
                    "instance-id": instance, "code": e.code, "detail": e.detail,
                    "signature-verified": sender.verified,
                });
                // A refusal counts against the peer's health only when the peer did send it
                // (its signature verified): anyone can claim to be a peer.
                let event = federation::record_peer_event(
                    "peer.message-refused".into(),
                    instance.clone(),
                    payload,
                    sender.verified,
                );
                if let Err(err) = state.store.write(event).await {
                    tracing::warn!(error = %err, "could not record a refused peer message");
                }
                tracing::info!(peer = instance.as_deref().unwrap_or("?"), code = %e.code, "peer message refused");
            }
            error_response(e)
        }
    }
}

fn unauthorized(code: &'static str, detail: String) -> Error {
    Error::new(Status::Unauthorized, code, detail)
}

/// Who sent a message, as far as it was checked: the instance it claims to come from, and
/// whether its signature verified with a key trusted for that instance.
#[derive(Debug, Default)]
struct Sender {
    instance: Option<String>,
    verified: bool,
}

/// Checks and answers one message; who sent it goes with the answer (for the refusal's event).
async fn handle(state: &AppState, parts: &Parts, body: &[u8]) -> (Sender, Result<Value, Error>) {
    let parsed = match signature::parse(parts) {
        Ok(p) => p,
        Err(r) => return (Sender::default(), Err(unauthorized(r.code(), r.message()))),
    };
    let instance = parsed.instance_id.clone();
    let verified_by = std::sync::atomic::AtomicBool::new(false);
    let result = async {
        let key = trusted_key(state, &instance, &parsed.kid).await?;
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or(MESSAGES_PATH);
        let expected = format!("{}{path}", state.config.public_base_url());
        let now = state.store.clock().now().millis().div_euclid(1000);
        let verified = parsed
            .verify(parts, body, &expected, key, now)
            .map_err(|r| unauthorized(r.code(), r.message()))?;
        verified_by.store(true, std::sync::atomic::Ordering::Relaxed);
        let message: Message = serde_json::from_slice(body).map_err(|e| {
            Error::bad_request(
                codes::MESSAGE_REFUSED,
                format!("the body is not a Tessera message: {e}"),
            )
        })?;
        let signed = Signed {
            instance_id: verified.instance_id,
            nonce: verified.nonce,
            // `verify` compares whole Unix seconds, so the signature is accepted until the end
            // of the second `expires`: its nonce is kept until then, not its first millisecond
            // (else a replay in that last second would find its nonce purged and pass).
            expires_at: Timestamp::from_millis(
                parsed.expires.saturating_add(1).saturating_mul(1000),
            ),
            skew_seconds: verified.skew_seconds,
        };
        state
            .store
            .write(federation::receive(signed, message))
            .await
    }
    .await;
    let sender = Sender {
        instance: Some(instance),
        verified: verified_by.load(std::sync::atomic::Ordering::Relaxed),
    };
    (sender, result)
}

/// The key `kid` if trusted for peer `instance`. A registered peer's key not known yet may be a
/// rotation the peer announced since: its documents are fetched again once (the JWKS accepted
/// only if it still lists the pinned key) and the question asked again.
async fn trusted_key(
    state: &AppState,
    instance: &str,
    kid: &str,
) -> Result<tessera_federation::signature::VerifyingKey, Error> {
    let ask = || peers::trusted_peer_key(instance.to_owned(), kid.to_owned());
    let mut jwk = state.store.read(ask()).await?;
    if jwk.is_none() {
        let Some(peer) = state
            .store
            .read(peers::peer_by_instance(instance.to_owned()))
            .await?
        else {
            return Err(unauthorized(
                codes::PEER_UNKNOWN,
                format!("instance {instance} is not a registered peer of this instance"),
            ));
        };
        crate::peers::refresh(&state.store, &state.peer_outbound, peer.id).await?;
        jwk = state.store.read(ask()).await?;
    }
    let jwk = jwk.ok_or_else(|| {
        unauthorized(
            codes::KEY_NOT_TRUSTED,
            format!("key {kid} is not trusted for peer {instance}: neither its pinned key nor published beside it"),
        )
    })?;
    tessera_federation::signature::VerifyingKey::from_jwk(
        &jwk.kty,
        &jwk.crv,
        &jwk.x,
        jwk.y.as_deref(),
    )
    .ok_or_else(|| {
        unauthorized(
            codes::KEY_NOT_TRUSTED,
            format!("key {kid} is neither an Ed25519 nor a P-256 key"),
        )
    })
}

/// For a token whose source is an organization of a peer instance, asks that instance for the
/// preview (`share-token.peek`: the masked `source-data` and the manifest judged by the caller's
/// template) and puts its answer in `request`; any other token's request comes back as it was.
/// A peer that cannot be reached is 503 `peer_unreachable`; a refusal is passed on as the peer
/// gave it.
pub async fn preview(
    state: &AppState,
    scope: &tessera_core::tenancy::Scope,
    id: &tessera_core::id::ShareTokenId,
    mut request: ManifestRequest,
) -> Result<ManifestRequest, Error> {
    let ask = federation::peek_message(scope.clone(), id.clone(), request.clone());
    let Some((base, message)) = state.store.read(ask).await? else {
        return Ok(request);
    };
    let key = state
        .store
        .read(tessera_store::units::keys::active_signing_key())
        .await?
        .ok_or_else(|| Error::internal(std::io::Error::other("no signing key")))?;
    let signing = tessera_federation::signature::SigningKey::from_private(
        key.key.algorithm(),
        key.key.private_bytes().as_ref(),
    )
    .ok_or_else(|| {
        Error::internal(std::io::Error::other(
            "the signing key cannot sign messages",
        ))
    })?;
    let signer = Signer {
        kid: &key.kid,
        key: &signing,
        now_unix: state.store.clock().now().millis().div_euclid(1000),
    };
    let unreachable =
        |detail: String| Error::new(Status::Unavailable, codes::PEER_UNREACHABLE, detail);
    match peer::send(&state.peer_outbound, &base, &message, signer).await {
        Ok(Answer::Accepted(answer)) => {
            let peeked: Peeked = serde_json::from_value(answer).map_err(|e| {
                unreachable(format!("the source instance's preview is not one: {e}"))
            })?;
            request.remote = Some(peeked);
            Ok(request)
        }
        Ok(Answer::Refused { status, body }) => {
            let e = &body["errors"][0];
            let mut error = Error::new(
                status_of(status),
                codes::PEER_UNREACHABLE,
                e["detail"]
                    .as_str()
                    .unwrap_or("the source instance refused the preview")
                    .to_owned(),
            );
            if let Some(code) = e["code"].as_str() {
                error.code = std::borrow::Cow::Owned(code.to_owned());
            }
            Err(error)
        }
        Err(f) => Err(unreachable(format!(
            "the source instance did not answer ({}): {}",
            f.kind, f.message
        ))),
    }
}

/// The class of a peer's refusal, by its HTTP status (anything unexpected: unavailable).
fn status_of(code: u16) -> Status {
    match code {
        400 => Status::BadRequest,
        401 => Status::Unauthorized,
        403 => Status::Forbidden,
        404 => Status::NotFound,
        409 => Status::Conflict,
        422 => Status::Unprocessable,
        _ => Status::Unavailable,
    }
}
