//! Events, stored with the change they report.

use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use tessera_core::id::EventId;
use tessera_core::jsonapi::{Document, ErrorDocument, ListDocument};
use tessera_store::units::events::{self, EventFilter};

use crate::{CommonHeaders, PageParams, page_doc, single};
use tessera_edge::extract::{Ctx, Reply, path_id};
use tessera_edge::query::Accepts;
use tessera_edge::render::Doc;

/// Filters of the event list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilters {
    /// One or more event names, comma-separated.
    #[param(rename = "filter[name]", max_length = 1000)]
    #[serde(rename = "filter[name]")]
    pub name: Option<String>,
    /// The ids of the objects the events are about, comma-separated.
    #[param(rename = "filter[object-id]", max_length = 1000)]
    #[serde(rename = "filter[object-id]")]
    pub object_id: Option<String>,
    /// Event ids, comma-separated.
    #[param(rename = "filter[id]", max_length = 1000)]
    #[serde(rename = "filter[id]")]
    pub id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    params(PageParams, EventFilters, CommonHeaders),
    security(("api_key" = ["event.read"])),
    responses((status = 200, body = ListDocument<crate::schema::Resource<crate::schema::EventAttributes, crate::schema::NoRelationships>>), (status = 400, body = ErrorDocument)))]
pub async fn list(ctx: Ctx) -> Reply {
    let q = ctx.query(Accepts {
        list: true,
        filters: &["name", "object-id", "id"],
        ..Default::default()
    })?;
    let filter = EventFilter {
        names: q.filter_list("name"),
        object_ids: q.filter_list("object-id"),
        ids: q.filter_list("id"),
    };
    let (scope, page) = (ctx.scope().clone(), q.page.clone());
    let list = ctx.read(events::list(scope, filter, page)).await?;
    ctx.respond(
        StatusCode::OK,
        page_doc(list, "/api/v1/events", &q, |e| e.to_resource().to_value()),
        Some(&q),
    )
}

#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events",
    params(("id" = String, Path), CommonHeaders),
    security(("api_key" = ["event.read"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::EventAttributes, crate::schema::NoRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, &[])?;
    let id = path_id(EventId::parse, &id, "event")?;
    let scope = ctx.scope().clone();
    let e = ctx.read(events::get(scope, id)).await?;
    ctx.respond(
        StatusCode::OK,
        Doc::one(e.to_resource().to_value()),
        Some(&q),
    )
}
