//! Workflow runs: list (optionally of one workflow) and retrieve, each step with its status,
//! output, error and times.

use axum::extract::Path;
use axum::http::StatusCode;
use tessera_core::id::{WorkflowId, WorkflowRunId};
use tessera_core::jsonapi::{Document, ErrorDocument, ListDocument};
use tessera_core::{Error, codes};
use tessera_store::units::workflow_runs::{self, RunFilter};

use crate::{CommonHeaders, PageParams, page_doc, single};
use tessera_edge::extract::{Ctx, Reply, path_id};
use tessera_edge::query::Accepts;
use tessera_edge::render::Doc;

/// Filters of the run list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunFilters {
    /// Only the runs of this workflow.
    #[param(rename = "filter[workflow-id]", pattern = "^wfl_[0-9A-Za-z]{16,64}$")]
    #[serde(rename = "filter[workflow-id]")]
    pub workflow_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/workflow-runs", tag = "workflows",
    params(PageParams, RunFilters, CommonHeaders),
    security(("api_key" = ["workflow.read"])),
    responses((status = 200, body = ListDocument<crate::schema::Resource<crate::schema::RunAttributes, crate::schema::RunRelationships>>), (status = 400, body = ErrorDocument)))]
pub async fn list(ctx: Ctx) -> Reply {
    let q = ctx.query(Accepts {
        list: true,
        filters: &["workflow-id"],
        ..Default::default()
    })?;
    let workflow_id = q
        .filters
        .get("workflow-id")
        .map(|w| {
            WorkflowId::parse(w).map_err(|_| {
                Error::bad_request(
                    codes::INVALID_QUERY_PARAMETER,
                    "filter[workflow-id] is a workflow id",
                )
                .at_parameter("filter[workflow-id]")
            })
        })
        .transpose()?;
    let filter = RunFilter { workflow_id };
    let (scope, page) = (ctx.scope().clone(), q.page.clone());
    let list = ctx.read(workflow_runs::list(scope, filter, page)).await?;
    ctx.respond(
        StatusCode::OK,
        page_doc(list, "/api/v1/workflow-runs", &q, |r| {
            r.to_resource().to_value()
        }),
        Some(&q),
    )
}

#[utoipa::path(get, path = "/api/v1/workflow-runs/{id}", tag = "workflows",
    params(("id" = String, Path), CommonHeaders),
    security(("api_key" = ["workflow.read"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::RunAttributes, crate::schema::RunRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, &[])?;
    let id = path_id(WorkflowRunId::parse, &id, "workflow run")?;
    let scope = ctx.scope().clone();
    let r = ctx.read(workflow_runs::get(scope, id)).await?;
    ctx.respond(
        StatusCode::OK,
        Doc::one(r.to_resource().to_value()),
        Some(&q),
    )
}
