//! The tenant API (`/api/v1`), one module per resource, and the operator API (`/admin/v1`,
//! [`admin`]). Routes and their OpenAPI description are registered together, so
//! `/api/v1/openapi.json` cannot drift from what is served; each operation's `security` names the
//! permission it requires (see `tessera_edge::permissions`).
//!
//! A face of the server: it depends on `tessera-edge` (and `tessera-core`, `tessera-store`),
//! never on the dashboard or the worker; what it shares with the dashboard lives in the edge.

pub mod admin;
pub mod admin_peers;
pub mod api_keys;
pub mod connections;
pub mod documents;
pub mod events;
pub mod federation;
pub mod inquiries;
pub mod openapi;
pub mod organization;
pub mod peers;
pub mod share_token_batches;
pub mod share_token_manifest;
pub mod share_token_receipt;
pub mod share_tokens;
pub mod templates;
pub mod verifications;
pub mod webhooks;
pub mod well_known;
pub mod workflow_runs;
pub mod workflows;

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use tessera_core::Error;
use tessera_core::tenancy::Scope;
use tessera_store::Page;
use tessera_store::units::related::Related;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use tessera_edge::body::{Body, Data, required};
use tessera_edge::extract::Ctx;
use tessera_edge::query::Query;
use tessera_edge::render::Doc;
use tessera_edge::state::AppState;

/// An optional body of the action endpoints: `{}`, `{"meta": {…}}` or a JSON:API document with
/// no attributes (`{"data": {"attributes": {}}}`, as generic Persona clients send).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyBody {
    #[serde(default)]
    pub data: Option<EmptyData>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Value>,
}

/// The `data` of an [`EmptyBody`]: its type and id are not checked; it has no attributes.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyData {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub attributes: Option<NoAttributes>,
}

/// No attributes: `{}` (any member is refused with its pointer).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoAttributes {}

/// Reads a member that may be absent (`None`), `null` (`Some(None)`) or a value: with
/// `#[serde(default, deserialize_with = "double")]`, for changes where `null` clears.
pub(crate) fn double<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// An id attribute of the expected kind, or 422 pointing at it.
pub fn id_attribute<T>(
    raw: &str,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, tessera_core::id::IdError>,
    code: &'static str,
) -> Result<T, Error> {
    parse(raw).map_err(|e| {
        Error::invalid(code, format!("{name} must be a {} id", e.kind))
            .at(format!("/data/attributes/{name}"))
    })
}

/// Answers with a page of resources and its links.
pub fn page_doc<T>(
    page: Page<T>,
    path: &str,
    query: &Query,
    to_value: impl Fn(&T) -> Value,
) -> Doc {
    let items: Vec<Value> = page.items.iter().map(to_value).collect();
    let id_of = |v: Option<&Value>| {
        v.and_then(|v| v.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let first = id_of(items.first());
    let last = id_of(items.last());
    let links = query.links(
        path,
        first.as_deref(),
        last.as_deref(),
        page.has_prev,
        page.has_next,
    );
    Doc::list(items, links)
}

/// A list endpoint with no filters: a page of what `list` reads in the caller's scope (`page[…]`
/// only), each item rendered by `to_value`, linked from `path`.
pub async fn plain_list<T: Send + 'static>(
    ctx: &Ctx,
    path: &str,
    list: impl FnOnce(Scope, tessera_store::PageRequest) -> tessera_store::Read<Page<T>>,
    to_value: impl Fn(&T) -> Value + Send,
) -> tessera_edge::extract::Reply {
    let q = ctx.query(tessera_edge::query::Accepts {
        list: true,
        ..Default::default()
    })?;
    let page = ctx.read(list(ctx.scope().clone(), q.page.clone())).await?;
    ctx.respond(
        axum::http::StatusCode::OK,
        page_doc(page, path, &q, to_value),
        Some(&q),
    )
}

/// Parameters of every list endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1–100, default 10.
    #[param(rename = "page[size]", minimum = 1, maximum = 100)]
    #[serde(rename = "page[size]")]
    pub size: Option<u32>,
    /// Objects older than this id.
    #[param(rename = "page[after]", min_length = 1, max_length = 100)]
    #[serde(rename = "page[after]")]
    pub after: Option<String>,
    /// Objects newer than this id.
    #[param(rename = "page[before]", min_length = 1, max_length = 100)]
    #[serde(rename = "page[before]")]
    pub before: Option<String>,
}

/// The `Key-Inflection` and `Idempotency-Key` headers.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct CommonHeaders {
    /// `kebab` (default), `camel` or `snake`: the keys of the response.
    #[param(rename = "Key-Inflection", value_type = Option<KeyInflection>, inline)]
    #[serde(rename = "Key-Inflection")]
    pub key_inflection: Option<String>,
    /// The API version (default and served shape: `2025-12-08`); any value of Persona's
    /// `api-version` enum is accepted, anything else is a 400.
    #[param(rename = "Persona-Version", value_type = Option<PersonaVersion>, inline)]
    #[serde(rename = "Persona-Version")]
    pub persona_version: Option<String>,
}

/// The values of `Persona-Version` (for the OpenAPI description).
#[derive(Debug, Deserialize, ToSchema)]
pub enum PersonaVersion {
    #[serde(rename = "2025-12-08")]
    V2025_12_08,
    #[serde(rename = "2025-10-27")]
    V2025_10_27,
    #[serde(rename = "2023-01-05")]
    V2023_01_05,
    #[serde(rename = "2022-09-01")]
    V2022_09_01,
    #[serde(rename = "2021-08-18")]
    V2021_08_18,
    #[serde(rename = "2021-07-05")]
    V2021_07_05,
    #[serde(rename = "2021-02-21")]
    V2021_02_21,
    #[serde(rename = "2020-05-18")]
    V2020_05_18,
}

/// The values of `Key-Inflection` (for the OpenAPI description).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyInflection {
    Kebab,
    Camel,
    Snake,
}

/// The `Idempotency-Key` header of POST requests.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyHeader {
    /// 1–255 visible ASCII characters; the first response is replayed for a retry.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = "^[\\x21-\\x7e]+$"
    )]
    #[serde(rename = "Idempotency-Key")]
    pub idempotency_key: Option<String>,
}

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera API",
        description = "Share verified identity data between organizations (Persona Connect-compatible).",
        version = "1"
    ),
    modifiers(&SecurityAddon),
    components(schemas(tessera_core::jsonapi::ErrorDocument))
)]
struct ApiDoc;

/// The generated OpenAPI description of the tenant API, as served at `/api/v1/openapi.json`.
pub fn description() -> utoipa::openapi::OpenApi {
    openapi::finish(routes().split_for_parts().1)
}

/// Every tenant route with its OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(organization::show))
        .routes(routes!(api_keys::list, api_keys::create))
        .routes(routes!(api_keys::expire))
        .routes(routes!(templates::list, templates::create))
        .routes(routes!(templates::show, templates::update))
        .routes(routes!(inquiries::list, inquiries::create))
        .routes(routes!(
            inquiries::show,
            inquiries::update,
            inquiries::redact
        ))
        .routes(routes!(inquiries::complete))
        .routes(routes!(inquiries::approve))
        .routes(routes!(inquiries::decline))
        .routes(routes!(inquiries::mark_for_review))
        .routes(routes!(inquiries::expire))
        .routes(routes!(inquiries::fail))
        .routes(routes!(verifications::create))
        .routes(routes!(verifications::show))
        .routes(routes!(documents::upload))
        .routes(routes!(documents::show))
        .routes(routes!(documents::file))
        .routes(routes!(events::list))
        .routes(routes!(events::show))
        .routes(routes!(connections::list, connections::create))
        .routes(routes!(connections::show))
        .routes(routes!(connections::activate))
        .routes(routes!(connections::deactivate))
        .routes(routes!(connections::reactivate))
        .routes(routes!(share_tokens::list, share_tokens::create))
        .routes(routes!(share_tokens::show))
        .routes(routes!(share_tokens::redeem))
        .routes(routes!(share_tokens::expire))
        .routes(routes!(share_token_manifest::show))
        .routes(routes!(share_token_receipt::show))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::show, webhooks::update))
        .routes(routes!(webhooks::enable))
        .routes(routes!(webhooks::disable))
        .routes(routes!(webhooks::archive))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::delivery))
        .routes(routes!(webhooks::retry))
        .routes(routes!(webhooks::clone))
        .routes(routes!(workflows::list, workflows::create))
        .routes(routes!(workflows::show, workflows::update))
        .routes(routes!(workflows::trigger))
        .routes(routes!(workflow_runs::list))
        .routes(routes!(workflow_runs::show))
        .routes(routes!(inquiries::add_tag))
        .routes(routes!(inquiries::remove_tag))
        .routes(routes!(inquiries::set_tags))
        .routes(routes!(verifications::redact))
        .routes(routes!(documents::redact))
        .routes(routes!(share_token_batches::create))
        .routes(routes!(share_token_batches::redeem))
        .routes(routes!(share_token_batches::show))
        .routes(routes!(share_token_batches::items_list))
}

/// Shared handler helper: a query for a single-object endpoint.
pub fn single(ctx: &Ctx, includes: &[&str]) -> Result<Query, tessera_edge::error::ApiError> {
    ctx.query(tessera_edge::query::Accepts {
        list: false,
        filters: &[],
        includes,
        extra: &[],
    })
}

/// The related objects a unit of work read for `include`, as `included` resources: each as the
/// caller (`scope`) sees it (a connection from the caller's side).
pub fn included(related: Vec<Related>, scope: &Scope) -> Vec<Value> {
    related
        .into_iter()
        .map(|r| match r {
            Related::Connection(c) => c.to_resource(c.direction_for(scope)).to_value(),
            Related::Inquiry(i) => i.to_resource().to_value(),
            Related::Verification(v) => v.to_resource().to_value(),
            Related::Document(d) => d.to_resource().to_value(),
            Related::Template(t) => t.to_resource().to_value(),
        })
        .collect()
}

/// The resource types of the OpenAPI description, spelled out in full in each operation's
/// responses (`Resource<Attributes, Relationships>`): utoipa names a generic schema after its
/// arguments only when it sees them, and a type alias hides them (every document would be the
/// same `Document_Resource`).
pub mod schema {
    pub use tessera_core::connection::{ConnectionAttributes, ConnectionRelationships};
    pub use tessera_core::document::{DocumentAttributes, DocumentRelationships};
    pub use tessera_core::event::EventAttributes;
    pub use tessera_core::inquiry::{InquiryAttributes, InquiryRelationships};
    pub use tessera_core::jsonapi::{NoRelationships, Resource};
    pub use tessera_core::share_token::batch::{
        ShareTokenBatchAttributes, ShareTokenBatchItemAttributes,
    };
    pub use tessera_core::share_token::{ShareTokenAttributes, ShareTokenRelationships};
    pub use tessera_core::template::TemplateAttributes;
    pub use tessera_core::tenancy::{
        ApiKeyAttributes, OrganizationAttributes, OrganizationRelationships,
    };
    pub use tessera_core::verification::{VerificationAttributes, VerificationRelationships};
    pub use tessera_core::webhook::{DeliveryAttributes, DeliveryRelationships, WebhookAttributes};
    pub use tessera_core::workflow::WorkflowAttributes;
    pub use tessera_core::workflow::run::{RunAttributes, RunRelationships};
}
