//! Middleware: the request context (id, logs, metrics, error documents for everything), the tenant
//! gate (API key, rate limit, permission), the operator gate, and idempotency keys.

pub mod idempotency;
pub mod rate_limit;

use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tessera_core::api_version::ApiVersion;
use tessera_core::id::RequestId;
use tessera_core::secret::{constant_time_eq, hash_secret, looks_like_api_key};
use tessera_core::tenancy::ApiKey;
use tessera_core::{Error, Status, codes};
use tessera_store::units::tenancy;
use tracing::Instrument;

use crate::error::{REQUEST_ID, error_for_status, error_response};
use crate::permissions::Access;
use crate::state::AppState;

/// The authenticated caller of a tenant route.
#[derive(Debug, Clone)]
pub struct Caller(pub ApiKey);

/// The route a response came from, for metrics and logs.
#[derive(Debug, Clone)]
struct RouteLabel(String);

/// Outermost layer: request id, logging, metrics, and an error document for every error response
/// produced outside a handler (unknown route, wrong method, framework rejections) that is not
/// already a JSON or HTML document (the dashboard's layer, inside this one, makes the errors on
/// its paths pages).
pub async fn request_context(req: Request, next: Next) -> Response {
    let id = RequestId::generate().into_string();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    let start = Instant::now();
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(req).instrument(span.clone()))
        .await;
    let status = response.status();
    if status.as_u16() >= 400 && !is_json(response.headers()) && !is_html(response.headers()) {
        let allow = response.headers().get(header::ALLOW).cloned();
        response = REQUEST_ID
            .scope(id.clone(), async {
                error_response(error_for_status(status))
            })
            .await;
        if let Some(allow) = allow {
            response.headers_mut().insert(header::ALLOW, allow);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("request-id", v);
    }
    let route = response
        .extensions()
        .get::<RouteLabel>()
        .map_or_else(|| String::from("unmatched"), |r| r.0.clone());
    let elapsed = start.elapsed();
    metrics::counter!("tessera_http_requests_total", "method" => method.to_string(), "route" => route.clone(), "status" => status.as_u16().to_string()).increment(1);
    metrics::histogram!("tessera_http_request_duration_seconds", "method" => method.to_string(), "route" => route).record(elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            duration_ms = elapsed.as_millis() as u64,
            "request finished"
        );
    });
    response
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/json") || ct.starts_with("application/vnd.api+json")
        })
}

/// Whether a response is an HTML page.
pub fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"))
}

/// Labels responses with their route template (a per-route layer, where routing is known).
pub async fn label_route(req: Request, next: Next) -> Response {
    let label = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let mut response = next.run(req).await;
    if let Some(label) = label {
        response.extensions_mut().insert(RouteLabel(label));
    }
    response
}

/// Turns a panic into the internal error document (never a dropped connection).
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    error_response(Error::internal(std::io::Error::other("handler panicked")))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn unauthorized(detail: &str) -> Response {
    error_response(Error::new(
        Status::Unauthorized,
        codes::UNAUTHORIZED,
        detail,
    ))
}

/// Tenant routes: authenticates the API key, counts the request against its rate limit, checks
/// the route's permission, and hands the caller to the handler.
pub async fn tenant_gate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(secret) = bearer(req.headers()).map(str::to_owned) else {
        return unauthorized("an API key is required: Authorization: Bearer <key>");
    };
    if !looks_like_api_key(&secret) {
        return unauthorized("the API key is not valid");
    }
    let found = state
        .store
        .read(tenancy::find_api_key_by_secret(secret))
        .await;
    let key = match found {
        Ok(Some(key)) => key,
        Ok(None) => return unauthorized("the API key is not valid"),
        Err(e) => return error_response(e),
    };
    let now = state.store.clock().now();
    if !key.is_active(now) {
        return error_response(Error::new(
            Status::Unauthorized,
            codes::API_KEY_EXPIRED,
            "the API key has expired",
        ));
    }
    let (org, env) = (key.scope.org.clone(), key.scope.env.clone());
    let decision = if state.limiter.is_unlimited() {
        state.limiter.unlimited(now.unix_seconds())
    } else {
        state.limiter.check(key.id.as_str(), now.unix_seconds())
    };
    let mut response = if !decision.allowed {
        let mut r = error_response(Error::new(
            Status::TooManyRequests,
            codes::RATE_LIMITED,
            "too many requests for this API key; retry after the window resets",
        ));
        r.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(decision.reset_secs.max(1)),
        );
        r
    } else {
        let path = req
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default();
        let version = ApiVersion::from_header(
            req.headers()
                .get("persona-version")
                .map(HeaderValue::as_bytes),
        );
        match (state.routes.access(req.method(), &path), version) {
            // No operation for this method: the router answers 405. (A handler that declares no
            // permission finds no caller and fails closed.)
            (None, _) => next.run(req).await,
            (Some(_), Err(e)) => error_response(e),
            (Some(Access::Needs(p)), Ok(_)) if !key.permissions.contains(p) => {
                error_response(Error::forbidden(
                    codes::PERMISSION_DENIED,
                    format!("the API key lacks the {} permission", p.as_str()),
                ))
            }
            (Some(_), Ok(version)) => {
                req.extensions_mut().insert(Caller(key));
                req.extensions_mut().insert(version);
                next.run(req).await
            }
        }
    };
    // Every authenticated response, errors included, says whose it is and where the key stands
    // in its rate limit window.
    let h = response.headers_mut();
    for (name, value) in [
        ("persona-organization-id", org.as_str()),
        ("persona-environment-id", env.as_str()),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    }
    h.insert("ratelimit-limit", HeaderValue::from(decision.limit));
    h.insert("ratelimit-remaining", HeaderValue::from(decision.remaining));
    h.insert("ratelimit-reset", HeaderValue::from(decision.reset_secs));
    response
}

/// Operator routes: the operator token, compared in constant time on its hash.
pub async fn admin_gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ok = bearer(req.headers()).is_some_and(|t| {
        constant_time_eq(hash_secret(t).as_bytes(), state.admin_token_hash.as_bytes())
    });
    if !ok {
        return unauthorized("the operator token is required: Authorization: Bearer <admin token>");
    }
    next.run(req).await
}

/// A 404 document for unknown routes.
pub async fn not_found() -> Response {
    error_response(error_for_status(StatusCode::NOT_FOUND))
}

/// A 405 document for known paths with the wrong method.
pub async fn method_not_allowed() -> Response {
    error_response(error_for_status(StatusCode::METHOD_NOT_ALLOWED))
}

/// Wraps bytes as a JSON response.
pub fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, Body::from(body)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
