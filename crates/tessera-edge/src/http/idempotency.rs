//! `Idempotency-Key` on POST, PATCH and DELETE requests: claim the key, run the request, store its first response
//! (status and body, 5xx included) and replay it byte for byte on a retry of the same request.
//!
//! A handler that writes stores the response inside its own unit of work (see
//! [`Ctx::commit`](crate::extract::Ctx::commit)), so the writes and the stored response commit
//! together. Any other response (a refusal before a write, a read-only POST) is stored here.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tessera_core::id::ApiKeyId;
use tessera_core::{Error, codes};
use tessera_store::units::idempotency::{self, Claim, Held, StoredResponse};

use crate::error::error_response;
use crate::http::Caller;
use crate::state::AppState;

/// The key this request holds; handlers that write store their response under it.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    pub api_key: ApiKeyId,
    pub key: String,
    /// Which claim on the key this request holds (a retry may take an expired one over).
    pub held: Held,
}

/// Marks a response whose stored copy was committed with the handler's writes.
#[derive(Debug, Clone, Copy)]
pub struct StoredInUnit;

/// Longest idempotency key.
pub const MAX_KEY_LEN: usize = 255;

/// Whether a header value is a valid idempotency key: 1–255 visible ASCII characters.
pub fn valid_key(k: &[u8]) -> bool {
    !k.is_empty() && k.len() <= MAX_KEY_LEN && k.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// What identifies a request for its key: method, path with query, and body.
pub fn fingerprint(method: &Method, path_and_query: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update(b"\n");
    h.update(path_and_query.as_bytes());
    h.update(b"\n");
    h.update(body);
    hex_digest(h)
}

fn hex_digest(h: Sha256) -> String {
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The middleware (inside the tenant gate, so 401 and 429 are never stored).
pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if ![Method::POST, Method::PATCH, Method::DELETE].contains(req.method()) {
        return next.run(req).await;
    }
    let Some(raw) = req.headers().get("idempotency-key").cloned() else {
        return next.run(req).await;
    };
    if !valid_key(raw.as_bytes()) {
        return error_response(
            Error::bad_request(
                codes::INVALID_HEADER,
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
            .at_header("Idempotency-Key"),
        );
    }
    let key = String::from_utf8_lossy(raw.as_bytes()).into_owned();
    let Some(Caller(api_key)) = req.extensions().get::<Caller>().cloned() else {
        return next.run(req).await;
    };
    // Buffered to fingerprint it, within the limit of the body's kind: an upload's for a
    // multipart body, the JSON limit for anything else (no other route reads more).
    let limit = if crate::extract::is_multipart(req.headers()) {
        state.config.max_request_body()
    } else {
        state.config.body_limit
    };
    let (mut parts, body) = req.into_parts();
    let bytes = match crate::extract::read_limited(&parts.headers, body, limit).await {
        Ok(b) => b,
        Err(e) => return error_response(e),
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    let fp = fingerprint(&parts.method, &path, &bytes);
    let claim = state
        .store
        .write(idempotency::begin(
            api_key.id.clone(),
            key.clone(),
            fp,
            state.config.idempotency_lease_ms,
        ))
        .await;
    match claim {
        Err(e) => error_response(e),
        Ok(Claim::Mismatch) => error_response(
            Error::bad_request(
                codes::IDEMPOTENCY_KEY_REUSED,
                "this Idempotency-Key was used for a different request",
            )
            .at_header("Idempotency-Key"),
        ),
        Ok(Claim::InUse) => error_response(
            Error::conflict(
                codes::IDEMPOTENCY_KEY_IN_USE,
                "a request with this Idempotency-Key is still running",
            )
            .at_header("Idempotency-Key"),
        ),
        Ok(Claim::Replay(stored)) => replay(stored),
        Ok(Claim::Fresh(held)) => {
            parts.extensions.insert(IdempotencyClaim {
                api_key: api_key.id.clone(),
                key: key.clone(),
                held,
            });
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            if response.extensions().get::<StoredInUnit>().is_some() {
                return response;
            }
            store_after(&state, api_key.id, key, held, response).await
        }
    }
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (status, Body::from(stored.body)).into_response();
    if let Ok(ct) = HeaderValue::from_str(&stored.content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    r.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    r
}

/// Stores a response that no unit of work stored, then returns it unchanged.
async fn store_after(
    state: &AppState,
    api_key: ApiKeyId,
    key: String,
    held: Held,
    response: Response,
) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return error_response(Error::internal(std::io::Error::other(
            "response body unreadable",
        )));
    };
    let stored = StoredResponse {
        status: parts.status.as_u16(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_owned(),
        body: bytes.to_vec(),
    };
    let result = state
        .store
        .write(idempotency::complete(api_key, key, held, stored, None))
        .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not store an idempotent response; a retry will run again");
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(valid_key(b"abc-123_XYZ"));
        assert!(valid_key(&[b'a'; 255]));
        assert!(!valid_key(&[b'a'; 256]));
        assert!(!valid_key(b""));
        assert!(!valid_key(b"has space"));
        assert!(!valid_key("é".as_bytes()));
    }

    #[test]
    fn fingerprints_cover_method_path_and_body() {
        let a = fingerprint(&Method::POST, "/a", b"{}");
        assert_ne!(a, fingerprint(&Method::POST, "/b", b"{}"));
        assert_ne!(a, fingerprint(&Method::POST, "/a", b"{ }"));
        assert_ne!(a, fingerprint(&Method::PUT, "/a", b"{}"));
        assert_eq!(a, fingerprint(&Method::POST, "/a", b"{}"));
    }
}
