//! The one error vocabulary of Tessera. Core, store and server return [`Error`]; the server turns
//! it into the JSON:API error document in one place. Stable `code`s live in [`codes`].

use std::borrow::Cow;

/// The class of an error, which is its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    Gone,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unprocessable,
    TooManyRequests,
    Internal,
    Unavailable,
}

impl Status {
    pub fn code(self) -> u16 {
        match self {
            Status::BadRequest => 400,
            Status::Unauthorized => 401,
            Status::Forbidden => 403,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::Conflict => 409,
            Status::Gone => 410,
            Status::PayloadTooLarge => 413,
            Status::UnsupportedMediaType => 415,
            Status::Unprocessable => 422,
            Status::TooManyRequests => 429,
            Status::Internal => 500,
            Status::Unavailable => 503,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Status::BadRequest => "Bad Request",
            Status::Unauthorized => "Unauthorized",
            Status::Forbidden => "Forbidden",
            Status::NotFound => "Not Found",
            Status::MethodNotAllowed => "Method Not Allowed",
            Status::Conflict => "Conflict",
            Status::Gone => "Gone",
            Status::PayloadTooLarge => "Payload Too Large",
            Status::UnsupportedMediaType => "Unsupported Media Type",
            Status::Unprocessable => "Unprocessable Entity",
            Status::TooManyRequests => "Too Many Requests",
            Status::Internal => "Internal Server Error",
            Status::Unavailable => "Service Unavailable",
        }
    }
}

/// What part of the request an error is about. Below the HTTP layer an error names the field it is
/// about ([`Source::Attribute`]); only the HTTP layer knows where that field sits in a request
/// document and turns it into a JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An attribute of the object a request writes, by its path among the attributes:
    /// `name`, `fields/birthdate`, `steps/1/type`.
    Attribute(String),
    /// A JSON pointer into the request body, computed by the HTTP layer (`/data/type`,
    /// `/meta/comment`).
    Pointer(String),
    /// A query parameter's name.
    Parameter(String),
    /// A header's name.
    Header(String),
}

/// An error with its status, stable code and a message for people.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct Error {
    pub status: Status,
    pub code: Cow<'static, str>,
    pub detail: String,
    pub location: Option<Source>,
    /// The underlying cause of an internal error: logged, never shown.
    pub cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(status: Status, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code: Cow::Borrowed(code),
            detail: detail.into(),
            location: None,
            cause: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(Status::BadRequest, code, detail)
    }

    /// 422: the request is well-formed but a value is invalid.
    pub fn invalid(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(Status::Unprocessable, code, detail)
    }

    /// 409: the object's state does not allow this.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(Status::Conflict, code, detail)
    }

    /// 403: the caller may see the object but not do this.
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(Status::Forbidden, code, detail)
    }

    /// 404 for an object of the given kind that the caller cannot see.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            Status::NotFound,
            codes::NOT_FOUND,
            format!("no such {what}"),
        )
    }

    /// A 404 about an object that a request body names (not the path): Persona answers such a
    /// reference with 422, so the body member is what is wrong. Other errors pass unchanged.
    pub fn as_reference(self) -> Self {
        if self.status == Status::NotFound {
            Self {
                status: Status::Unprocessable,
                code: Cow::Borrowed(codes::REFERENCE_NOT_FOUND),
                ..self
            }
        } else {
            self
        }
    }

    /// 500: something that is not the client's fault. The cause is logged, not shown.
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            status: Status::Internal,
            code: Cow::Borrowed(codes::INTERNAL),
            detail: String::from("an internal error happened"),
            location: None,
            cause: Some(cause.into()),
        }
    }

    /// Names what the error is about: an attribute path (`fields/birthdate`), or — from the HTTP
    /// layer, which knows the request's shape — a JSON pointer into the body (`/meta/comment`,
    /// with its leading `/`). Functions that check a value take such a location from their caller
    /// and extend it with `/member`, whichever kind it is.
    pub fn at(mut self, location: impl Into<String>) -> Self {
        let location = location.into();
        self.location = Some(if location.starts_with('/') {
            Source::Pointer(location)
        } else {
            Source::Attribute(location)
        });
        self
    }

    /// Names the query parameter the error is about.
    pub fn at_parameter(mut self, name: impl Into<String>) -> Self {
        self.location = Some(Source::Parameter(name.into()));
        self
    }

    /// Names the header the error is about.
    pub fn at_header(mut self, name: impl Into<String>) -> Self {
        self.location = Some(Source::Header(name.into()));
        self
    }

    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }
}

/// Stable error codes that clients may branch on.
pub mod codes {
    pub const INTERNAL: &str = "internal_error";
    pub const NOT_FOUND: &str = "not_found";
    pub const ROUTE_NOT_FOUND: &str = "route_not_found";
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const API_KEY_EXPIRED: &str = "api_key_expired";
    pub const PERMISSION_DENIED: &str = "permission_denied";
    pub const WRONG_SIDE: &str = "wrong_side";
    pub const MALFORMED_JSON: &str = "malformed_json";
    pub const INVALID_TYPE: &str = "invalid_type";
    pub const UNKNOWN_ATTRIBUTE: &str = "unknown_attribute";
    pub const MISSING_ATTRIBUTE: &str = "missing_attribute";
    pub const INVALID_ATTRIBUTE: &str = "invalid_attribute";
    pub const INVALID_QUERY_PARAMETER: &str = "invalid_query_parameter";
    pub const INVALID_HEADER: &str = "invalid_header";
    pub const INVALID_ID: &str = "invalid_id";
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";
    pub const IDEMPOTENCY_KEY_IN_USE: &str = "idempotency_key_in_use";
    pub const INVALID_STATUS_TRANSITION: &str = "invalid_status_transition";
    pub const INVALID_FIELD_VALUE: &str = "invalid_field_value";
    pub const INQUIRY_REDACTED: &str = "inquiry_redacted";
    pub const INQUIRY_NOT_OPEN: &str = "inquiry_not_open";
    pub const DOCUMENT_REDACTED: &str = "document_redacted";
    pub const INVALID_MULTIPART: &str = "invalid_multipart";
    pub const INVALID_PERMISSIONS: &str = "invalid_permissions";
    pub const PERMISSION_ESCALATION: &str = "permission_escalation";
    pub const UNAVAILABLE: &str = "unavailable";
    pub const CONFLICT: &str = "conflict";
    pub const UNKNOWN_EVENT: &str = "unknown_event";
    pub const INVALID_URL: &str = "invalid_url";
    pub const WEBHOOK_LIMIT: &str = "webhook_limit_reached";
    pub const API_KEY_LIMIT: &str = "api_key_limit_reached";
    pub const DELIVERY_NOT_RETRYABLE: &str = "delivery_not_retryable";
    // Connect
    pub const CONNECTION_NOT_ACTIVE: &str = "connection_not_active";
    pub const CONNECTION_EXISTS: &str = "connection_exists";
    pub const INVALID_SOURCE_TYPE: &str = "invalid_source_type";
    pub const SOURCE_NOT_SHAREABLE: &str = "source_not_shareable";
    pub const EXPIRES_IN_OUT_OF_RANGE: &str = "expires_in_out_of_range";
    pub const SHARE_TOKEN_NOT_REDEEMABLE: &str = "share_token_not_redeemable";
    pub const SHARE_TOKEN_EXPIRED: &str = "share_token_expired";
    // Workflows
    pub const UNKNOWN_STEP_TYPE: &str = "unknown_step_type";
    pub const STEP_INPUT_UNAVAILABLE: &str = "step_input_unavailable";
    pub const INVALID_CONDITION: &str = "invalid_condition";
    pub const REFERENCE_NOT_FOUND: &str = "reference_not_found";
    pub const CONNECTION_NOT_OUTBOUND: &str = "connection_not_outbound";
    pub const WORKFLOW_LIMIT: &str = "workflow_limit_reached";
    pub const WORKFLOW_NOT_ACTIVE: &str = "workflow_not_active";
    pub const INVALID_TRIGGER_OBJECT: &str = "invalid_trigger_object";
    pub const HTTP_REQUEST_FAILED: &str = "http_request_failed";
    /// A Persona attribute naming something Tessera does not have (an account, a template
    /// version).
    pub const UNSUPPORTED_ATTRIBUTE: &str = "unsupported_attribute";
    /// A field mapping naming a field the share token does not disclose.
    pub const FIELD_NOT_DISCLOSED: &str = "field_not_disclosed";
    /// A manifest asked of a share token whose source was redacted (its redemption would fail).
    pub const SOURCE_REDACTED: &str = "source_redacted";
    /// A receipt asked of a share token that has none (not redeemed, or redeemed before receipts).
    pub const RECEIPT_NOT_AVAILABLE: &str = "receipt_not_available";
    /// A batch naming the same object in two items.
    pub const DUPLICATE_ITEM: &str = "duplicate_item";
    /// A peer could not be reached, or refused, while its well-known documents were fetched.
    pub const PEER_UNREACHABLE: &str = "peer_unreachable";
    /// A peer's `/.well-known/tessera` or JWKS is not what a Tessera instance publishes.
    pub const PEER_DOCUMENT_INVALID: &str = "peer_document_invalid";
    /// None of the keys a peer publishes has the pinned thumbprint.
    pub const PEER_PIN_MISMATCH: &str = "peer_pin_mismatch";
    /// A peer with the same instance id is already registered.
    pub const PEER_EXISTS: &str = "peer_exists";
    /// An instance that is not a registered, active peer (a connection addressed to one of its
    /// organizations, or a message from it).
    pub const PEER_UNKNOWN: &str = "peer_unknown";
    /// A message signed by a key that is not trusted for the peer that sent it.
    pub const KEY_NOT_TRUSTED: &str = "key_not_trusted";
    /// A message whose signature nonce was seen before (within its window).
    pub const SIGNATURE_REPLAYED: &str = "signature_replayed";
    /// A message addressed to another instance, or claiming another sender than its signer.
    pub const MESSAGE_MISADDRESSED: &str = "message_misaddressed";
    /// A message this instance cannot act on: unknown objects, the wrong side, a bad copy.
    pub const MESSAGE_REFUSED: &str = "message_refused";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_an_attribute_path_unless_it_is_a_pointer() {
        let e = Error::invalid(codes::INVALID_ATTRIBUTE, "x").at("fields/birthdate");
        assert_eq!(
            e.location,
            Some(Source::Attribute("fields/birthdate".into()))
        );
        let e = Error::invalid(codes::INVALID_ATTRIBUTE, "x").at("/meta/comment");
        assert_eq!(e.location, Some(Source::Pointer("/meta/comment".into())));
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = Error::internal(std::io::Error::other("disk on fire"));
        assert_eq!(e.status.code(), 500);
        assert!(!e.detail.contains("disk"));
        assert!(e.cause.is_some());
    }
}
