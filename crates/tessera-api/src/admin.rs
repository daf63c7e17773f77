//! The operator API (`/admin/v1`): organizations, their API keys and dashboard users.
//! Authenticated with the operator token. (Idempotency keys are a tenant API feature: they are
//! scoped to API keys.)

use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodRouter, delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::id::OrganizationId;
use tessera_core::inflect::Inflection;
use tessera_core::permission::Permissions;
use tessera_core::tenancy::EnvKind;
use tessera_core::{Error, codes};
use tessera_store::units::tenancy::{self, User};

use crate::api_keys::{parse_expires_at, parse_permissions};
use crate::{Body, page_doc, required};
use tessera_edge::error::ApiError;
use tessera_edge::extract::{JsonBody, Reply, inflection_of, path_id};
use tessera_edge::inputs::hash_password;
use tessera_edge::query::{Accepts, Query};
use tessera_edge::render::Doc;
use tessera_edge::state::AppState;

/// The request context of an operator handler.
pub struct AdminCtx {
    pub(crate) state: AppState,
    inflection: Inflection,
    raw_query: Option<String>,
}

impl FromRequestParts<AppState> for AdminCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        tessera_edge::extract::refuse_query_on_writes(parts)?;
        Ok(Self {
            state: state.clone(),
            inflection: inflection_of(parts)?,
            raw_query: parts.uri.query().map(str::to_owned),
        })
    }
}

impl AdminCtx {
    pub(crate) fn query(&self, list: bool) -> Result<Query, ApiError> {
        Ok(Query::parse(
            self.raw_query.as_deref(),
            Accepts {
                list,
                ..Default::default()
            },
        )?)
    }

    pub(crate) fn respond(&self, status: StatusCode, doc: Doc, q: Option<&Query>) -> Reply {
        Ok(doc.into_response(status, q, self.inflection))
    }
}

/// Every operator route: method, path template and handler. The router is built from this list
/// and [`list_routes`] reads it, so the authorization tests cover every route that is served.
fn table() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (
            Method::GET,
            "/admin/v1/organizations",
            get(list_organizations),
        ),
        (
            Method::POST,
            "/admin/v1/organizations",
            post(create_organization),
        ),
        (
            Method::GET,
            "/admin/v1/organizations/{org}",
            get(show_organization),
        ),
        (
            Method::POST,
            "/admin/v1/organizations/{org}/api-keys",
            post(create_api_key),
        ),
        (
            Method::POST,
            "/admin/v1/organizations/{org}/users",
            post(create_user),
        ),
        (
            Method::GET,
            "/admin/v1/peers",
            get(crate::admin_peers::list_peers),
        ),
        (
            Method::POST,
            "/admin/v1/peers",
            post(crate::admin_peers::create_peer),
        ),
        (
            Method::GET,
            "/admin/v1/peers/{peer}",
            get(crate::admin_peers::show_peer),
        ),
        (
            Method::POST,
            "/admin/v1/peers/{peer}/refresh",
            post(crate::admin_peers::refresh_peer),
        ),
        (
            Method::POST,
            "/admin/v1/peers/{peer}/disable",
            post(crate::admin_peers::disable_peer),
        ),
        (
            Method::POST,
            "/admin/v1/peers/{peer}/enable",
            post(crate::admin_peers::enable_peer),
        ),
        (
            Method::DELETE,
            "/admin/v1/peers/{peer}",
            delete(crate::admin_peers::delete_peer),
        ),
        (
            Method::GET,
            "/admin/v1/peer-events",
            get(crate::admin_peers::list_events),
        ),
    ]
}

/// The operator routes, as `(method, path template)`.
pub fn list_routes() -> Vec<(Method, &'static str)> {
    table().into_iter().map(|(m, p, _)| (m, p)).collect()
}

/// The operator routes, behind the operator gate.
pub fn routes(state: &AppState) -> Router<AppState> {
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for (_, path, handler) in table() {
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(handler),
            None => by_path.push((path, handler)),
        }
    }
    by_path
        .into_iter()
        .fold(Router::new(), |r, (path, handler)| r.route(path, handler))
        .layer(from_fn_with_state(
            state.clone(),
            tessera_edge::http::admin_gate,
        ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct NewOrganization {
    name: Option<String>,
}

async fn create_organization(
    ctx: AdminCtx,
    JsonBody(body): JsonBody<Body<NewOrganization>>,
) -> Reply {
    ctx.query(false)?;
    let name = tenancy::check_name(
        &required(body.data.attributes.name, "name")?,
        "/data/attributes/name",
    )?;
    let created = ctx
        .state
        .store
        .write(tenancy::create_organization(name))
        .await?;
    let keys: serde_json::Map<String, Value> = created
        .keys
        .iter()
        .map(|(k, secret)| {
            (
                k.scope.kind.as_str().to_owned(),
                Value::String(secret.clone()),
            )
        })
        .collect();
    let doc = Doc::one(created.organization.to_resource().to_value())
        .with_meta(json!({ "api-keys": keys }));
    ctx.respond(StatusCode::CREATED, doc, None)
}

async fn list_organizations(ctx: AdminCtx) -> Reply {
    let q = ctx.query(true)?;
    let list = ctx
        .state
        .store
        .read(tenancy::list_organizations(q.page.clone()))
        .await?;
    ctx.respond(
        StatusCode::OK,
        page_doc(list, "/admin/v1/organizations", &q, |o| {
            o.to_resource().to_value()
        }),
        Some(&q),
    )
}

async fn show_organization(ctx: AdminCtx, Path(org): Path<String>) -> Reply {
    let q = ctx.query(false)?;
    let org = path_id(OrganizationId::parse, &org, "organization")?;
    let org = ctx
        .state
        .store
        .read(tenancy::get_local_organization(org))
        .await?;
    ctx.respond(
        StatusCode::OK,
        Doc::one(org.to_resource().to_value()),
        Some(&q),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct NewAdminApiKey {
    environment: Option<String>,
    name: Option<String>,
    permissions: Option<Vec<String>>,
    expires_at: Option<String>,
}

async fn create_api_key(
    ctx: AdminCtx,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<Body<NewAdminApiKey>>,
) -> Reply {
    ctx.query(false)?;
    let org = path_id(OrganizationId::parse, &org, "organization")?;
    let a = body.data.attributes;
    let env_raw = required(a.environment, "environment")?;
    let kind = EnvKind::parse(&env_raw).ok_or_else(|| {
        Error::invalid(
            codes::INVALID_ATTRIBUTE,
            "environment is sandbox or production",
        )
        .at("/data/attributes/environment")
    })?;
    let name = tenancy::check_name(
        &a.name.unwrap_or_else(|| "api key".into()),
        "/data/attributes/name",
    )?;
    let permissions = match a.permissions {
        None => Permissions::all(),
        Some(names) => parse_permissions(&names)?,
    };
    let now = ctx.state.store.clock().now();
    let expires_at = parse_expires_at(a.expires_at, now)?;
    let (key, secret) = ctx
        .state
        .store
        .write(tenancy::create_api_key_for(
            org,
            kind,
            name,
            permissions,
            expires_at,
        ))
        .await?;
    let doc = Doc::one(key.to_resource(now).to_value()).with_secret("secret", secret);
    ctx.respond(StatusCode::CREATED, doc, None)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct NewUser {
    email: Option<String>,
    password: Option<String>,
    role: Option<String>,
}

/// Checks an email address's shape.
pub fn check_email(email: &str) -> Result<String, Error> {
    let email = email.trim();
    let ok = email.len() <= 254
        && email.split('@').count() == 2
        && email.split('@').all(|p| !p.is_empty())
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        return Err(
            Error::invalid(codes::INVALID_ATTRIBUTE, "not an email address")
                .at("/data/attributes/email"),
        );
    }
    Ok(email.to_lowercase())
}

/// Creates a dashboard user (shared by the operator API and `tessera user create`).
pub async fn create_user_in(
    store: &tessera_store::Store,
    org: OrganizationId,
    email: &str,
    password: &str,
    role: &str,
) -> Result<User, Error> {
    let email = check_email(email)?;
    if !tenancy::ROLES.contains(&role) {
        return Err(
            Error::invalid(codes::INVALID_ATTRIBUTE, "role is admin or member")
                .at("/data/attributes/role"),
        );
    }
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(Error::internal)??;
    store
        .write(tenancy::create_user(org, email, hash, role.to_owned()))
        .await
}

fn user_resource(u: &User) -> Value {
    json!({"type": "user", "id": u.id, "attributes": {"email": u.email, "role": u.role, "created-at": u.created_at},
           "relationships": {"organization": {"data": {"type": "organization", "id": u.organization_id}}}})
}

async fn create_user(
    ctx: AdminCtx,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<Body<NewUser>>,
) -> Reply {
    ctx.query(false)?;
    let org = path_id(OrganizationId::parse, &org, "organization")?;
    let a = body.data.attributes;
    let email = required(a.email, "email")?;
    let password = required(a.password, "password")?;
    let user = create_user_in(
        &ctx.state.store,
        org,
        &email,
        &password,
        a.role.as_deref().unwrap_or("admin"),
    )
    .await?;
    ctx.respond(StatusCode::CREATED, Doc::one(user_resource(&user)), None)
}
