//! Connections: create (source), activate (destination), deactivate (either), reactivate (source).

use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use tessera_core::connection::{ConnectionAction, ConnectionStatus, Direction};
use tessera_core::federation::RemoteOrganization;
use tessera_core::id::{ConnectionId, OrganizationId};
use tessera_core::jsonapi::{Document, ErrorDocument, ListDocument};
use tessera_core::{Error, codes};
use tessera_store::units::connections::{self, ConnectionFilter};
use tessera_store::units::federation;
use utoipa::ToSchema;

use crate::{
    Body, CommonHeaders, EmptyBody, IdempotencyHeader, PageParams, id_attribute, page_doc,
    required, single,
};
use tessera_edge::extract::{Ctx, JsonBody, OptionalJsonBody, Reply, path_id};
use tessera_edge::query::{Accepts, Query};
use tessera_edge::render::Doc;

/// Attributes of a new connection.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NewConnection {
    /// The partner that may receive share tokens (may be the caller's own organization): an
    /// organization id, or `org_…@ins_…` for an organization of a registered peer instance
    /// (federation, a Tessera extension).
    #[schema(required = true, value_type = String)]
    pub destination_organization_id: Option<String>,
    pub name: Option<String>,
}

/// Filters of the connection list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConnectionFilters {
    /// `pending`, `active`, `inactive` (comma-separated).
    #[param(
        rename = "filter[status]",
        max_length = 1000,
        pattern = "^\\s*(pending|active|inactive)?\\s*(,\\s*(pending|active|inactive)?\\s*)*$"
    )]
    #[serde(rename = "filter[status]")]
    pub status: Option<String>,
    /// `outbound` or `inbound`.
    #[param(rename = "filter[direction]", pattern = "^(outbound|inbound)$")]
    #[serde(rename = "filter[direction]")]
    pub direction: Option<String>,
    /// Connections to this organization (an id that names no partner matches nothing).
    #[param(rename = "filter[destination-organization-id]", max_length = 100)]
    #[serde(rename = "filter[destination-organization-id]")]
    pub destination_organization_id: Option<String>,
}

/// Parses `filter[direction]`.
pub fn direction_filter(q: &Query) -> Result<Option<Direction>, Error> {
    q.filters
        .get("direction")
        .map(|d| {
            Direction::parse(d).ok_or_else(|| {
                Error::bad_request(
                    codes::INVALID_QUERY_PARAMETER,
                    "filter[direction] is outbound or inbound",
                )
                .at_parameter("filter[direction]")
            })
        })
        .transpose()
}

#[utoipa::path(post, path = "/api/v1/connect/connections", tag = "connections",
    params(CommonHeaders, IdempotencyHeader),
    request_body = Body<NewConnection>,
    security(("api_key" = ["connection.write"])),
    responses((status = 201, body = Document<crate::schema::Resource<crate::schema::ConnectionAttributes, crate::schema::ConnectionRelationships>>), (status = 409, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn create(ctx: Ctx, JsonBody(body): JsonBody<Body<NewConnection>>) -> Reply {
    let a = body.data.attributes;
    const AT: &str = "destination-organization-id";
    let destination = required(a.destination_organization_id, AT)?;
    let name = a
        .name
        .map(|n| tessera_store::units::tenancy::check_name(&n, "/data/attributes/name"))
        .transpose()?;
    let (scope, actor) = (ctx.scope().clone(), ctx.actor());
    let view = ctx.scope().clone();
    // `org_…@ins_…`: an organization of a peer instance (federation).
    let unit = match RemoteOrganization::parse(&destination) {
        Some(remote) => {
            federation::create_to_peer(scope, remote.map_err(|e| e.at(AT))?, name, actor)
        }
        None => {
            let destination =
                id_attribute(&destination, AT, OrganizationId::parse, codes::INVALID_ID)?;
            connections::create(scope, destination, name, actor)
        }
    };
    ctx.commit(StatusCode::CREATED, unit, move |c| {
        Doc::one(c.to_resource(c.direction_for(&view)).to_value())
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/connect/connections", tag = "connections",
    params(PageParams, ConnectionFilters, CommonHeaders),
    security(("api_key" = ["connection.read"])),
    responses((status = 200, body = ListDocument<crate::schema::Resource<crate::schema::ConnectionAttributes, crate::schema::ConnectionRelationships>>), (status = 400, body = ErrorDocument)))]
pub async fn list(ctx: Ctx) -> Reply {
    let q = ctx.query(Accepts {
        list: true,
        filters: &["status", "direction", "destination-organization-id"],
        ..Default::default()
    })?;
    let statuses = q.filter_values("status", "connection status", ConnectionStatus::parse)?;
    let direction = direction_filter(&q)?;
    let filter = ConnectionFilter {
        statuses,
        direction,
        // Persona's filter takes any string: one that is not an organization id matches nothing.
        destination_org: q
            .filters
            .get("destination-organization-id")
            .map(|o| OrganizationId::from_db(o.trim().to_owned())),
    };
    let (scope, page) = (ctx.scope().clone(), q.page.clone());
    let list = ctx.read(connections::list(scope, filter, page)).await?;
    let view = ctx.scope().clone();
    ctx.respond(
        StatusCode::OK,
        page_doc(list, "/api/v1/connect/connections", &q, |c| {
            // A connection to oneself is both: listed by direction, it shows the one asked for.
            let shown = direction.unwrap_or_else(|| c.direction_for(&view));
            c.to_resource(shown).to_value()
        }),
        Some(&q),
    )
}

#[utoipa::path(get, path = "/api/v1/connect/connections/{id}", tag = "connections",
    params(("id" = String, Path), CommonHeaders),
    security(("api_key" = ["connection.read"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::ConnectionAttributes, crate::schema::ConnectionRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, &[])?;
    let id = path_id(ConnectionId::parse, &id, "connection")?;
    let scope = ctx.scope().clone();
    let c = ctx.read(connections::get(scope, id)).await?;
    ctx.respond(
        StatusCode::OK,
        Doc::one(c.to_resource(c.direction_for(ctx.scope())).to_value()),
        Some(&q),
    )
}

async fn act(ctx: Ctx, id: String, action: ConnectionAction) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(ConnectionId::parse, &id, "connection")?;
    let scope = ctx.scope().clone();
    let view = scope.clone();
    ctx.commit(
        StatusCode::OK,
        connections::act(scope, id, action),
        move |c| Doc::one(c.to_resource(c.direction_for(&view)).to_value()),
    )
    .await
}

macro_rules! action_endpoint {
    ($name:ident, $path:literal, $action:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "connections",
            params(("id" = String, Path), CommonHeaders, IdempotencyHeader),
            request_body(content = EmptyBody, description = "optional"),
            security(("api_key" = ["connection.write"])),
            responses((status = 200, body = Document<crate::schema::Resource<crate::schema::ConnectionAttributes, crate::schema::ConnectionRelationships>>), (status = 403, body = ErrorDocument), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument)))]
        pub async fn $name(ctx: Ctx, Path(id): Path<String>, OptionalJsonBody(_body): OptionalJsonBody<EmptyBody>) -> Reply {
            act(ctx, id, $action).await
        }
    };
}

action_endpoint!(
    activate,
    "/api/v1/connect/connections/{id}/activate",
    ConnectionAction::Activate,
    "Destination only: `pending → active`."
);
action_endpoint!(
    deactivate,
    "/api/v1/connect/connections/{id}/deactivate",
    ConnectionAction::Deactivate,
    "Either side: `pending|active → inactive`."
);
action_endpoint!(
    reactivate,
    "/api/v1/connect/connections/{id}/reactivate",
    ConnectionAction::Reactivate,
    "Source only: `inactive → pending`."
);
