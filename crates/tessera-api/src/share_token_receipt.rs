//! The signed receipt of a redeemed share token (Tessera extension): the compact JWS the source
//! instance signed over what the redemption copied, its claims, and the copied data its
//! `data-digest` is taken of, for either side. Verify it with the instance's
//! `/.well-known/jwks.json` (`tessera receipt verify`).

use axum::extract::Path;
use axum::http::StatusCode;
use tessera_core::id::ShareTokenId;
use tessera_core::jsonapi::{Document, ErrorDocument};
use tessera_core::receipt::{self, ReceiptAttributes};
use tessera_edge::extract::{Ctx, Reply, path_id};
use tessera_edge::render::Doc;
use tessera_store::units::share_tokens;

use crate::{CommonHeaders, single};

/// A redeemed token's signed receipt (either side; 409 `receipt_not_available` before it is
/// redeemed, or for a token redeemed before receipts existed).
#[utoipa::path(get, path = "/api/v1/connect/share-tokens/{id}/receipt", tag = "share-tokens",
    params(("id" = String, Path), CommonHeaders),
    security(("api_key" = ["share_token.read"])),
    responses((status = 200, body = Document<crate::schema::Resource<ReceiptAttributes, crate::schema::NoRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, &[])?;
    let id = path_id(ShareTokenId::parse, &id, "share token")?;
    let r = ctx
        .read(share_tokens::receipt(ctx.scope().clone(), id.clone()))
        .await?;
    let resource = receipt::resource(id.as_str(), r.jws, r.claims, r.data);
    ctx.respond(StatusCode::OK, Doc::one(resource.to_value()), Some(&q))
}
