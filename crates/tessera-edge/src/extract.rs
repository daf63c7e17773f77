//! Extractors: the request context of a tenant handler ([`Ctx`]) and typed JSON bodies
//! ([`JsonBody`]) that turn every malformed input into the contract's error document.

use axum::body::to_bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tessera_core::api_version::ApiVersion;
use tessera_core::inflect::{Inflection, normalize_document};
use tessera_core::tenancy::{Actor, ApiKey, Scope};
use tessera_core::{Error, Status, codes};
use tessera_store::units::idempotency::{self, StoredResponse};
use tessera_store::{Read, Write};

use crate::error::{ApiError, ApiResult};
use crate::http::Caller;
use crate::http::idempotency::{IdempotencyClaim, StoredInUnit};
use crate::query::{Accepts, Query};
use crate::render::Doc;
use crate::state::AppState;

/// The response inflection a request asked for (`Key-Inflection`).
pub fn inflection_of(parts: &Parts) -> Result<Inflection, Error> {
    match parts.headers.get("key-inflection") {
        None => Ok(Inflection::Kebab),
        Some(v) => v.to_str().ok().and_then(Inflection::parse).ok_or_else(|| {
            Error::bad_request(
                codes::INVALID_HEADER,
                "Key-Inflection is kebab, camel or snake",
            )
            .at_header("Key-Inflection")
        }),
    }
}

/// Writes take no query parameters: refusing them here means no endpoint can forget to.
pub fn refuse_query_on_writes(parts: &Parts) -> Result<(), Error> {
    let read = parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD;
    if let Some(query) = parts.uri.query().filter(|q| !read && !q.is_empty()) {
        let first = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .ok()
            .and_then(|pairs| pairs.into_iter().next().map(|(k, _)| k))
            .unwrap_or_else(|| "query".into());
        return Err(Error::bad_request(
            codes::INVALID_QUERY_PARAMETER,
            format!(
                "unknown parameter {first}: {} requests take no query parameters",
                parts.method
            ),
        )
        .at_parameter(first));
    }
    Ok(())
}

/// Everything a tenant handler needs about its request.
pub struct Ctx {
    pub state: AppState,
    pub key: ApiKey,
    /// The `Persona-Version` asked for (checked by the tenant gate).
    pub version: ApiVersion,
    pub inflection: Inflection,
    raw_query: Option<String>,
    /// The query as last parsed: by the extractor for a write (`include` and `fields` only),
    /// then by the handler's [`Ctx::query`]. [`Ctx::commit`] renders with it.
    query: std::sync::Mutex<Query>,
    claim: Option<IdempotencyClaim>,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller(key) = parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            Error::internal(std::io::Error::other("tenant route without its gate"))
        })?;
        let raw_query = parts.uri.query().map(str::to_owned);
        let read =
            parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD;
        // A write takes `include` and `fields[TYPE]` and nothing else, whether or not its handler
        // looks at the query: no write endpoint can forget to refuse a filter.
        let query = if read {
            Query::default()
        } else {
            Query::parse(raw_query.as_deref(), Accepts::WRITE)?
        };
        Ok(Self {
            state: state.clone(),
            key,
            version: parts
                .extensions
                .get::<ApiVersion>()
                .copied()
                .unwrap_or_default(),
            inflection: inflection_of(parts)?,
            raw_query,
            query: std::sync::Mutex::new(query),
            claim: parts.extensions.get::<IdempotencyClaim>().cloned(),
        })
    }
}

impl Ctx {
    pub fn scope(&self) -> &Scope {
        &self.key.scope
    }

    pub fn actor(&self) -> Actor {
        Actor::ApiKey(self.key.id.clone())
    }

    /// Parses the query string against what the endpoint accepts.
    pub fn query(&self, accepts: Accepts<'_>) -> Result<Query, ApiError> {
        let q = Query::parse(self.raw_query.as_deref(), accepts)?;
        *self.parsed() = q.clone();
        Ok(q)
    }

    fn parsed(&self) -> std::sync::MutexGuard<'_, Query> {
        self.query
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs a read-only unit of work.
    pub async fn read<T: Send + 'static>(&self, read: Read<T>) -> Result<T, ApiError> {
        Ok(self.state.store.read(read).await?)
    }

    /// Answers with a document.
    pub fn respond(&self, status: StatusCode, doc: Doc, query: Option<&Query>) -> ApiResult {
        Ok(doc.into_response(status, query, self.inflection))
    }

    /// Runs a unit of work that writes and answers with the document `render` makes of its
    /// result. With an idempotency key, the response is stored in the same transaction.
    pub async fn commit<T, R>(&self, status: StatusCode, unit: Write<T>, render: R) -> ApiResult
    where
        T: Send + 'static,
        R: FnOnce(T) -> Doc + Send + 'static,
    {
        let inflection = self.inflection;
        let query = self.parsed().clone();
        let Some(claim) = self.claim.clone() else {
            let value = self.state.store.write(unit).await?;
            return Ok(render(value).into_response(status, Some(&query), inflection));
        };
        let unit =
            idempotency::completing(unit, claim.api_key, claim.key, claim.held, move |value| {
                let doc = render(value);
                let stored = StoredResponse {
                    status: status.as_u16(),
                    content_type: "application/json".into(),
                    body: doc.without_secrets().to_bytes(Some(&query), inflection),
                };
                (
                    stored,
                    doc.resource_id(),
                    doc.to_bytes(Some(&query), inflection),
                )
            });
        let body = self.state.store.write(unit).await?;
        let mut response = crate::http::json_response(status, body);
        response.extensions_mut().insert(StoredInUnit);
        Ok(response)
    }
}

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

/// Answers a parsed id of the wrong shape in a path as "not found".
pub fn path_id<T>(
    parse: impl FnOnce(&str) -> Result<T, tessera_core::id::IdError>,
    raw: &str,
    what: &str,
) -> Result<T, ApiError> {
    parse(raw).map_err(|_| ApiError(Error::not_found(what)))
}

/// A response for `Response`-returning handlers, to keep signatures short.
pub type Reply = Result<Response, ApiError>;
