//! Request bodies: typed JSON documents ([`JsonBody`], [`OptionalJsonBody`]) read within the body
//! limit, in any key inflection, with every malformed input turned into the contract's error
//! document and its JSON pointer; the same reading for documents that are already JSON
//! ([`from_document`], the dashboard's forms).

use axum::body::to_bytes;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tessera_core::inflect::normalize_document;
use tessera_core::{Error, Status, codes};

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON request body: `application/json` or `application/vnd.api+json`, within the body limit,
/// keys in any inflection, parsed into `T` (which denies unknown members).
pub struct JsonBody<T>(pub T);

/// A JSON body that may be absent (empty); absent means `T::default()`.
pub struct OptionalJsonBody<T>(pub T);

fn is_json_content_type(ct: &str) -> bool {
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence == "application/vnd.api+json"
}

/// Whether a request's body is `multipart/form-data` (an upload).
pub fn is_multipart(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Reads a whole body of at most `limit` bytes, else 413. An announced `Content-Length` over the
/// limit is refused before a byte is waited for (a client announcing a large body and sending
/// nothing would otherwise hold the request open).
pub async fn read_limited(
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
    limit: usize,
) -> Result<bytes::Bytes, Error> {
    let too_large = || {
        Error::new(
            Status::PayloadTooLarge,
            codes::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    to_bytes(body, limit).await.map_err(|_| too_large())
}

async fn read_body<S>(req: Request, state: &S) -> Result<(Option<String>, bytes::Bytes), Error>
where
    AppState: FromRef<S>,
{
    let limit = AppState::from_ref(state).config.body_limit;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("invalid").to_owned());
    let (parts, body) = req.into_parts();
    let bytes = read_limited(&parts.headers, body, limit).await?;
    Ok((content_type, bytes))
}

fn parse_json<T: DeserializeOwned>(content_type: Option<String>, bytes: &[u8]) -> Result<T, Error> {
    if !content_type.as_deref().is_some_and(is_json_content_type) {
        return Err(Error::new(
            Status::UnsupportedMediaType,
            codes::UNSUPPORTED_MEDIA_TYPE,
            "request bodies must be application/json or application/vnd.api+json",
        )
        .at_header("Content-Type"));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        Error::bad_request(
            codes::MALFORMED_JSON,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(
            Error::bad_request(codes::MALFORMED_JSON, "the body must be a JSON object").at(""),
        );
    }
    from_document(value)
}

/// Reads a request document that is already JSON into a DTO: the same normalization (any key
/// inflection), envelope and text checks, and error pointers as a request body. The dashboard's
/// JSON forms go through it too, so a definition typed there is read exactly as the API reads it.
pub fn from_document<T: DeserializeOwned>(value: Value) -> Result<T, Error> {
    let value = normalize_document(value);
    check_envelope(&value)?;
    check_text(&value, &mut String::new())?;
    deserialize(value)
}

/// `data`, `data.attributes` and `meta` are objects when present. (Serde would otherwise read a
/// struct from a JSON array, by position.)
fn check_envelope(doc: &Value) -> Result<(), Error> {
    let members = [
        ("/data", doc.get("data")),
        (
            "/data/attributes",
            doc.get("data").and_then(|d| d.get("attributes")),
        ),
        ("/meta", doc.get("meta")),
    ];
    for (pointer, value) in members {
        if value.is_some_and(|v| !v.is_object() && !v.is_null()) {
            return Err(Error::bad_request(
                codes::INVALID_TYPE,
                format!("{pointer} must be an object"),
            )
            .at(pointer));
        }
    }
    Ok(())
}

/// Refuses text that no database can store: the NUL character, in any key or string.
fn check_text(value: &Value, pointer: &mut String) -> Result<(), Error> {
    let refuse = |pointer: &str| {
        Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            "text may not contain the NUL character",
        )
        .at(pointer))
    };
    match value {
        Value::String(s) if s.contains('\0') => refuse(pointer),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                check_text(v, pointer)?;
                pointer.truncate(len);
            }
            Ok(())
        }
        Value::Object(map) => {
            for (k, v) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&tessera_core::fields::escape_pointer(k));
                if k.contains('\0') {
                    return refuse(pointer);
                }
                check_text(v, pointer)?;
                pointer.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Deserializes a normalized document into a DTO, mapping serde's complaints to error codes
/// and JSON pointers.
pub fn deserialize<T: DeserializeOwned>(value: Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut pointer = String::new();
        for seg in e.path().iter() {
            use serde_path_to_error::Segment;
            match seg {
                Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
                Segment::Map { key } => {
                    pointer.push_str(&format!("/{}", tessera_core::fields::escape_pointer(key)))
                }
                Segment::Enum { variant } => pointer.push_str(&format!("/{variant}")),
                Segment::Unknown => {}
            }
        }
        let message = e.inner().to_string();
        let quoted = message.split('`').nth(1).unwrap_or("").to_owned();
        if message.starts_with("unknown field") {
            // The path already ends at the unknown member.
            Error::bad_request(
                codes::UNKNOWN_ATTRIBUTE,
                format!("unknown attribute {quoted}"),
            )
            .at(pointer)
        } else if message.starts_with("missing field") {
            Error::invalid(codes::MISSING_ATTRIBUTE, format!("{quoted} is required")).at(format!(
                "{pointer}/{}",
                tessera_core::fields::escape_pointer(&quoted)
            ))
        } else if message.starts_with("unknown variant") || message.starts_with("invalid value") {
            Error::invalid(codes::INVALID_ATTRIBUTE, strip_position(&message)).at(pointer)
        } else {
            Error::bad_request(codes::INVALID_TYPE, strip_position(&message)).at(pointer)
        }
    })
}

fn strip_position(message: &str) -> String {
    message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned()
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T>
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (ct, bytes) = read_body(req, state).await?;
        Ok(Self(parse_json(ct, &bytes)?))
    }
}

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T>
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (ct, bytes) = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        Ok(Self(parse_json(ct, &bytes)?))
    }
}
