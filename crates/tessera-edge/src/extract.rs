//! Extractors: the request context of a tenant handler ([`Ctx`]) and ids in paths; typed JSON
//! bodies are in `json_body` (re-exported here).

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use tessera_core::api_version::ApiVersion;
use tessera_core::inflect::Inflection;
use tessera_core::tenancy::{Actor, ApiKey, Scope};
use tessera_core::{Error, codes};
use tessera_store::units::idempotency::{self, StoredResponse};
use tessera_store::{Read, Write};

use crate::error::{ApiError, ApiResult};
use crate::http::Caller;
use crate::http::idempotency::{IdempotencyClaim, StoredInUnit};
use crate::query::{Accepts, Query};
use crate::render::Doc;
use crate::state::AppState;

pub use crate::json_body::{
    JsonBody, OptionalJsonBody, deserialize, from_document, is_multipart, read_limited,
};

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
