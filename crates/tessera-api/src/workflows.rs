//! Workflows: create (the signing secret shown once), list, retrieve, update (name, trigger,
//! steps, status) and trigger manually. A definition is validated completely before it is saved:
//! its shape and the inputs its trigger provides here (core), the `http-request` URLs against
//! the outbound guard here, the connections and templates it names in the store's unit of work.

use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::id::WorkflowId;
use tessera_core::jsonapi::{Document, ErrorDocument, ListDocument};
use tessera_core::workflow::{check_inputs, check_name, parse_steps, parse_trigger};
use tessera_store::units::workflow_triggers;
use tessera_store::units::workflows::{self, WorkflowPatch};
use utoipa::ToSchema;

use crate::double;
use crate::{Body, CommonHeaders, IdempotencyHeader, PageParams, plain_list, required, single};
use tessera_edge::extract::{Ctx, JsonBody, Reply, path_id};
use tessera_edge::inputs::{NewWorkflowAttributes, check_definition, check_urls, workflow_status};
use tessera_edge::render::Doc;

/// A change to a workflow; absent members stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct WorkflowChanges {
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub trigger: Option<Value>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub steps: Option<Value>,
    /// `active` or `inactive`.
    pub status: Option<String>,
}

/// Attributes of a manual trigger.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TriggerAttributes {
    /// The inquiry, share token or connection to run on.
    #[schema(required = true, value_type = String)]
    pub object_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/workflows", tag = "workflows",
    params(CommonHeaders, IdempotencyHeader),
    request_body = Body<NewWorkflowAttributes>,
    security(("api_key" = ["workflow.write"])),
    responses((status = 201, body = Document<crate::schema::Resource<crate::schema::WorkflowAttributes, crate::schema::NoRelationships>>), (status = 422, body = ErrorDocument)))]
pub async fn create(ctx: Ctx, JsonBody(body): JsonBody<Body<NewWorkflowAttributes>>) -> Reply {
    single(&ctx, &[])?;
    let new = check_definition(&ctx.state.outbound, body.data.attributes)
        .await?
        .into_new();
    let scope = ctx.scope().clone();
    ctx.commit(StatusCode::CREATED, workflows::create(scope, new), |w| {
        Doc::one(w.to_resource().to_value()).with_meta(json!({ "secret": w.secret }))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/workflows", tag = "workflows",
    params(PageParams, CommonHeaders),
    security(("api_key" = ["workflow.read"])),
    responses((status = 200, body = ListDocument<crate::schema::Resource<crate::schema::WorkflowAttributes, crate::schema::NoRelationships>>), (status = 400, body = ErrorDocument)))]
pub async fn list(ctx: Ctx) -> Reply {
    plain_list(&ctx, "/api/v1/workflows", workflows::list, |w| {
        w.to_resource().to_value()
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/workflows/{id}", tag = "workflows",
    params(("id" = String, Path), CommonHeaders),
    security(("api_key" = ["workflow.read"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::WorkflowAttributes, crate::schema::NoRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, &[])?;
    let id = path_id(WorkflowId::parse, &id, "workflow")?;
    let scope = ctx.scope().clone();
    let w = ctx.read(workflows::get(scope, id)).await?;
    ctx.respond(
        StatusCode::OK,
        Doc::one(w.to_resource().to_value()),
        Some(&q),
    )
}

/// Changes the name, trigger, steps or status. Runs already made keep their steps.
#[utoipa::path(patch, path = "/api/v1/workflows/{id}", tag = "workflows",
    params(("id" = String, Path), CommonHeaders),
    request_body = Body<WorkflowChanges>,
    security(("api_key" = ["workflow.write"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::WorkflowAttributes, crate::schema::NoRelationships>>), (status = 404, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn update(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Body<WorkflowChanges>>,
) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(WorkflowId::parse, &id, "workflow")?;
    let a = body.data.attributes;
    let name = a
        .name
        .map(|n| n.map(|n| check_name(&n)).transpose())
        .transpose()?;
    let trigger = a.trigger.map(|t| parse_trigger(&t)).transpose()?;
    let steps = a.steps.map(|s| parse_steps(&s)).transpose()?;
    if let (Some(t), Some(s)) = (&trigger, &steps) {
        check_inputs(t, s)?;
    }
    if let Some(s) = &steps {
        check_urls(&ctx.state.outbound, s).await?;
    }
    let patch = WorkflowPatch {
        name,
        status: workflow_status(a.status)?,
        trigger,
        steps,
    };
    let scope = ctx.scope().clone();
    ctx.commit(StatusCode::OK, workflows::update(scope, id, patch), |w| {
        Doc::one(w.to_resource().to_value())
    })
    .await
}

/// Runs an active workflow now on an inquiry, share token or connection of the caller, whatever
/// its trigger's event and conditions say.
#[utoipa::path(post, path = "/api/v1/workflows/{id}/trigger", tag = "workflows",
    params(("id" = String, Path), CommonHeaders, IdempotencyHeader),
    request_body = Body<TriggerAttributes>,
    security(("api_key" = ["workflow.trigger"])),
    responses((status = 201, body = Document<crate::schema::Resource<crate::schema::RunAttributes, crate::schema::RunRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn trigger(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Body<TriggerAttributes>>,
) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(WorkflowId::parse, &id, "workflow")?;
    let object_id = required(body.data.attributes.object_id, "object-id")?;
    let scope = ctx.scope().clone();
    ctx.commit(
        StatusCode::CREATED,
        workflow_triggers::trigger_manually(scope, id, object_id),
        |r| Doc::one(r.to_resource().to_value()),
    )
    .await
}
