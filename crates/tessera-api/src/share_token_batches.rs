//! Share-token batches (an extension; issue 18, item 4): many creations on one connection, or
//! many redemptions, accepted at once with 202 and processed in the background, item by item, by
//! the single-token units. Each item is read exactly as the single call reads its body: a batch
//! create's item is a single create's attributes (the batch's own attributes other than `items`
//! apply to every item, `connection-id` among them), parsed by `NewShareToken::spec`; a batch
//! redeem's attributes other than `items` are a single redeem's, parsed by
//! `share_tokens::redeem_params`. The whole body is checked before anything is written.

use std::collections::HashSet;

use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use tessera_core::error::Source;
use tessera_core::id::{ShareTokenBatchId, ShareTokenId};
use tessera_core::jsonapi::{Document, ErrorDocument, ListDocument};
use tessera_core::share_token::batch::{MAX_ITEMS, ShareTokenBatch};
use tessera_core::{Error, codes};
use tessera_edge::extract::{Ctx, JsonBody, Reply, deserialize, path_id};
use tessera_edge::render::Doc;
use tessera_store::units::share_token_batches as batches;
use utoipa::ToSchema;

use crate::share_tokens::{NewShareToken, RedeemAttributes, redeem_params};
use crate::{Body, CommonHeaders, IdempotencyHeader, PageParams, id_attribute, page_doc};

/// Attributes of a batch of creations (the request is read item by item; this is its shape).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct NewShareTokenBatch {
    /// An active outbound connection of the caller: every item's token is made on it.
    #[schema(required = true)]
    pub connection_id: String,
    /// The default lifetime of every item's token (an item may give its own).
    pub expires_in_seconds: Option<i64>,
    /// The default disclosure of every item's token (an item may give its own).
    pub allowed_fields: Option<Vec<String>>,
    pub allowed_verifications: Option<Vec<String>>,
    pub allowed_documents: Option<Vec<String>>,
    /// 1–1000 items, each a single create's attributes (`source-id`, optional
    /// `expires-in-seconds`, …) without the connection.
    #[schema(min_items = 1, max_items = 1000)]
    pub items: Vec<NewShareTokenBatchItem>,
}

/// One item of a batch of creations: a single create's attributes.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct NewShareTokenBatchItem {
    /// As in a single create: an inquiry (`inq_…`) or verification (`ver_…`) to share.
    #[schema(required = true)]
    pub source_id: String,
    /// 60–1814400; default the batch's, else 1209600 (14 days).
    pub expires_in_seconds: Option<i64>,
    /// As in a single create (selective disclosure); default the batch's, else everything.
    pub allowed_fields: Option<Vec<String>>,
    pub allowed_verifications: Option<Vec<String>>,
    pub allowed_documents: Option<Vec<String>>,
}

/// Attributes of a batch of redemptions (besides `items`, a single redeem's, without
/// `destination-id`: each token is cloned).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct NewRedeemBatch {
    /// 1–1000 inbound share tokens.
    #[schema(min_items = 1, max_items = 1000)]
    pub items: Vec<RedeemBatchItem>,
    /// Verify every copy against this template.
    pub inquiry_template_id: Option<String>,
}

/// One item of a batch of redemptions.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RedeemBatchItem {
    #[schema(required = true, value_type = String)]
    pub share_token_id: Option<String>,
}

/// The attributes of a request document (`{}` when absent).
fn attributes(body: Body<Value>) -> Result<(Map<String, Value>, Option<Value>), Error> {
    match body.data.attributes {
        Value::Object(m) => Ok((m, body.meta)),
        _ => Ok((Map::new(), body.meta)),
    }
}

/// `items`: an array of 1–1000 objects.
fn items(attributes: &mut Map<String, Value>) -> Result<Vec<Map<String, Value>>, Error> {
    let Some(items) = attributes.remove("items") else {
        return Err(Error::invalid(codes::MISSING_ATTRIBUTE, "items is required").at("items"));
    };
    let Value::Array(items) = items else {
        return Err(Error::invalid(codes::INVALID_ATTRIBUTE, "items is an array").at("items"));
    };
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            format!("a batch holds 1 to {MAX_ITEMS} items"),
        )
        .at("items"));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(m) => Ok(m),
            _ => Err(
                Error::invalid(codes::INVALID_ATTRIBUTE, "an item is an object")
                    .at(format!("items/{i}")),
            ),
        })
        .collect()
}

/// An error about the merged attributes of item `i`, pointed at the item's member when the item
/// gave it (or the batch did not), else left at the batch's.
fn at_item(mut e: Error, i: usize, item: &Map<String, Value>, batch: &Map<String, Value>) -> Error {
    let path = match &e.location {
        Some(Source::Attribute(a)) => Some(a.clone()),
        Some(Source::Pointer(p)) => p.strip_prefix("/data/attributes/").map(str::to_owned),
        _ => None,
    };
    if let Some(path) = path {
        let member = path.split('/').next().unwrap_or_default();
        if item.contains_key(member) || !batch.contains_key(member) {
            e.location = Some(Source::Attribute(format!("items/{i}/{path}")));
        }
    }
    e
}

/// A duplicate id in `items`: 422 at the later one.
fn duplicate(i: usize, member: &str) -> Error {
    Error::invalid(
        codes::DUPLICATE_ITEM,
        format!("items/{i} names the same object as an earlier item"),
    )
    .at(format!("items/{i}/{member}"))
}

fn batch_doc(b: ShareTokenBatch) -> Doc {
    Doc::one(b.to_resource().to_value())
}

#[utoipa::path(post, path = "/api/v1/connect/share-tokens/batch", tag = "share-tokens",
    params(CommonHeaders, IdempotencyHeader),
    request_body = Body<NewShareTokenBatch>,
    security(("api_key" = ["share_token.write"])),
    responses((status = 202, description = "the batch, its items `pending`; the tokens are made in the background", body = Document<crate::schema::Resource<crate::schema::ShareTokenBatchAttributes, crate::schema::NoRelationships>>), (status = 403, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 422, description = "an invalid item (pointed at: `/data/attributes/items/3/source-id`), a duplicate source (`duplicate_item`), or a `connection-id` the caller cannot see (`reference_not_found`); nothing is written", body = ErrorDocument)))]
pub async fn create(ctx: Ctx, JsonBody(body): JsonBody<Body<Value>>) -> Reply {
    let (mut batch, _meta) = attributes(body)?;
    let raw = items(&mut batch)?;
    let mut parsed = Vec::with_capacity(raw.len());
    let mut connection = None;
    let mut seen = HashSet::new();
    for (i, item) in raw.iter().enumerate() {
        let mut merged = batch.clone();
        merged.extend(item.clone());
        let doc = serde_json::json!({"data": {"attributes": merged}});
        let t = deserialize::<Body<NewShareToken>>(doc)
            .and_then(|b| b.data.attributes.spec())
            .map_err(|e| at_item(e, i, item, &batch))?;
        match &connection {
            None => connection = Some(t.connection_id.clone()),
            Some(c) if *c != t.connection_id => {
                return Err(Error::invalid(
                    codes::INVALID_ATTRIBUTE,
                    "a batch makes every token on one connection: the batch's connection-id",
                )
                .at(format!("items/{i}/connection-id"))
                .into());
            }
            Some(_) => {}
        }
        if !seen.insert(t.source_id.as_str().to_owned()) {
            return Err(duplicate(i, "source-id").into());
        }
        let options = t.options();
        parsed.push((t.source_id, options));
    }
    let connection = connection.ok_or_else(|| {
        Error::invalid(codes::MISSING_ATTRIBUTE, "connection-id is required").at("connection-id")
    })?;
    let unit = batches::create(ctx.scope().clone(), connection, parsed, ctx.actor());
    ctx.commit(StatusCode::ACCEPTED, unit, batch_doc).await
}

#[utoipa::path(post, path = "/api/v1/connect/share-tokens/batch-redeem", tag = "share-tokens",
    params(CommonHeaders, IdempotencyHeader),
    request_body(content = Body<NewRedeemBatch>, description = "`meta.field-mappings` as in a single redeem, for every token"),
    security(("api_key" = ["share_token.redeem"])),
    responses((status = 202, description = "the batch, its items `pending`; each redemption starts in the background, and an item is `redeemed` when its token is", body = Document<crate::schema::Resource<crate::schema::ShareTokenBatchAttributes, crate::schema::NoRelationships>>), (status = 422, description = "an invalid item (pointed at: `/data/attributes/items/3/share-token-id`), a duplicate token (`duplicate_item`), a `destination-id` (a batch clones), or an `inquiry-template-id` the caller cannot see (`reference_not_found`); nothing is written", body = ErrorDocument)))]
pub async fn redeem(ctx: Ctx, JsonBody(body): JsonBody<Body<Value>>) -> Reply {
    let (mut batch, meta) = attributes(body)?;
    let raw = items(&mut batch)?;
    if batch.contains_key("destination-id") {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            "a batch clones each token: hydrate an inquiry with a single redeem",
        )
        .at("destination-id")
        .into());
    }
    let mut doc = serde_json::json!({"data": {"attributes": batch}});
    if let Some(meta) = meta {
        doc["meta"] = meta;
    }
    let params = deserialize::<Body<RedeemAttributes>>(doc).and_then(redeem_params)?;
    let mut tokens = Vec::with_capacity(raw.len());
    let mut seen = HashSet::new();
    for (i, item) in raw.into_iter().enumerate() {
        let doc = serde_json::json!({"data": {"attributes": item}});
        let item = deserialize::<Body<RedeemBatchItem>>(doc)
            .and_then(|b| crate::required(b.data.attributes.share_token_id, "share-token-id"))
            .and_then(|t| {
                id_attribute(&t, "share-token-id", ShareTokenId::parse, codes::INVALID_ID)
            })
            .map_err(|e| at_item(e, i, &Map::new(), &Map::new()))?;
        if !seen.insert(item.clone()) {
            return Err(duplicate(i, "share-token-id").into());
        }
        tokens.push(item);
    }
    let unit = batches::redeem(ctx.scope().clone(), tokens, params, ctx.actor());
    ctx.commit(StatusCode::ACCEPTED, unit, batch_doc).await
}

#[utoipa::path(get, path = "/api/v1/connect/share-token-batches/{id}", tag = "share-tokens",
    params(("id" = String, Path), CommonHeaders),
    security(("api_key" = ["share_token.read"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::ShareTokenBatchAttributes, crate::schema::NoRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = crate::single(&ctx, &[])?;
    let id = path_id(ShareTokenBatchId::parse, &id, "share token batch")?;
    let b = ctx.read(batches::get(ctx.scope().clone(), id)).await?;
    ctx.respond(StatusCode::OK, batch_doc(b), Some(&q))
}

#[utoipa::path(get, path = "/api/v1/connect/share-token-batches/{id}/items", tag = "share-tokens",
    params(("id" = String, Path), PageParams, CommonHeaders),
    security(("api_key" = ["share_token.read"])),
    responses((status = 200, description = "the items in index order", body = ListDocument<crate::schema::Resource<crate::schema::ShareTokenBatchItemAttributes, crate::schema::NoRelationships>>), (status = 400, body = ErrorDocument), (status = 404, body = ErrorDocument)))]
pub async fn items_list(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = ctx.query(tessera_edge::query::Accepts {
        list: true,
        ..Default::default()
    })?;
    let id = path_id(ShareTokenBatchId::parse, &id, "share token batch")?;
    let path = format!("/api/v1/connect/share-token-batches/{id}/items");
    let page = ctx
        .read(batches::items(ctx.scope().clone(), id, q.page.clone()))
        .await?;
    ctx.respond(
        StatusCode::OK,
        page_doc(page, &path, &q, |item| item.to_resource().to_value()),
        Some(&q),
    )
}
