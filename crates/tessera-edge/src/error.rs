//! Where every error becomes the JSON:API error document: the one mapping from
//! [`tessera_core::Error`] to a response, and the request id that 5xx details carry.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_core::error::Source;
use tessera_core::jsonapi::{ErrorDocument, ErrorObject};
use tessera_core::{Error, Status, codes};

tokio::task_local! {
    /// The id of the request being served, for logs and 5xx details.
    pub static REQUEST_ID: String;
}

/// The current request's id, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError(pub Error);

pub type ApiResult<T = Response> = Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(self.0)
    }
}

/// Renders an error document; internal errors are logged here, once, with their cause.
pub fn error_response(mut e: Error) -> Response {
    if e.status.code() >= 500 {
        let request_id = current_request_id().unwrap_or_default();
        if let Some(cause) = &e.cause {
            tracing::error!(request_id = %request_id, error = %cause, code = %e.code, "internal error");
        }
        if e.status == Status::Internal {
            e.detail = format!("an internal error happened (request id {request_id})");
        }
    }
    let status = StatusCode::from_u16(e.status.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&error_document(&e)).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if e.status == Status::Unauthorized {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// Where in a request document the attributes of the written object sit.
const ATTRIBUTES: &str = "/data/attributes";

/// The JSON pointer of what an error is about: an attribute path named below the HTTP layer sits
/// under `/data/attributes`.
pub fn pointer_of(source: &Source) -> Option<String> {
    match source {
        Source::Attribute(path) => Some(format!("{ATTRIBUTES}/{path}")),
        Source::Pointer(p) => Some(p.clone()),
        Source::Parameter(_) | Source::Header(_) => None,
    }
}

/// The error document of an error.
pub fn error_document(e: &Error) -> ErrorDocument {
    let source = e.location.as_ref().map(|s| match s {
        Source::Parameter(p) => serde_json::json!({ "parameter": p }),
        Source::Header(h) => serde_json::json!({ "header": h }),
        other => serde_json::json!({ "pointer": pointer_of(other) }),
    });
    ErrorDocument {
        errors: vec![ErrorObject {
            status: e.status.code(),
            code: e.code.to_string(),
            title: e.status.title().to_owned(),
            details: e.detail.clone(),
            source,
        }],
    }
}

/// The error for a status produced outside our handlers (the router's 404 and 405, for example).
pub fn error_for_status(status: StatusCode) -> Error {
    match status.as_u16() {
        404 => Error::new(Status::NotFound, codes::ROUTE_NOT_FOUND, "no such route"),
        405 => Error::new(
            Status::MethodNotAllowed,
            codes::METHOD_NOT_ALLOWED,
            "this method is not allowed on this path",
        ),
        413 => Error::new(
            Status::PayloadTooLarge,
            codes::PAYLOAD_TOO_LARGE,
            "the request body is too large",
        ),
        415 => Error::new(
            Status::UnsupportedMediaType,
            codes::UNSUPPORTED_MEDIA_TYPE,
            "unsupported content type",
        ),
        400..=499 => {
            Error::bad_request(codes::MALFORMED_JSON, "the request could not be understood")
        }
        _ => Error::internal(std::io::Error::other(format!("unexpected status {status}"))),
    }
}
