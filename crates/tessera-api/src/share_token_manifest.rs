//! The preview manifest of a share token (Tessera extension): what redeeming it now would copy,
//! and the dry run of the destination's template, for its destination while the token is
//! `created`. The same manifest rides along Persona's peek (`peek-source-data=true`) as the
//! token's `manifest` attribute; both read the query parameters here.

use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use tessera_core::error::Source;
use tessera_core::id::{InquiryId, ShareTokenId, TemplateId};
use tessera_core::jsonapi::{Document, ErrorDocument, NoRelationships, Resource};
use tessera_core::share_token::copy::Manifest;
use tessera_core::share_token::{FieldMapping, check_field_mappings};
use tessera_core::{Error, codes};
use tessera_edge::error::ApiError;
use tessera_edge::extract::{Ctx, Reply, path_id};
use tessera_edge::query::{Accepts, Query};
use tessera_edge::render::Doc;
use tessera_store::units::share_tokens::{self, ManifestRequest};

use crate::CommonHeaders;

/// The manifest's query parameters (also accepted by the peek).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ManifestParams {
    /// Dry-run against this template of the caller (default: the hydrated inquiry's, else none).
    #[param(rename = "inquiry-template-id", pattern = "^itmpl_[0-9A-Za-z]{16,64}$")]
    #[serde(rename = "inquiry-template-id")]
    pub inquiry_template_id: Option<String>,
    /// Dry-run a hydrate of this inquiry of the caller (created or pending) instead of a clone.
    #[param(rename = "destination-id", pattern = "^inq_[0-9A-Za-z]{16,64}$")]
    #[serde(rename = "destination-id")]
    pub destination_id: Option<String>,
    /// The redemption's field mappings, `source:destination` pairs, comma-separated (at most
    /// 1,000 characters, like a filter; longer mappings go in the redeem call's `meta`).
    #[param(rename = "field-mappings", max_length = 1000)]
    #[serde(rename = "field-mappings")]
    pub field_mappings: Option<String>,
}

fn bad(name: &str, detail: impl Into<String>) -> Error {
    Error::bad_request(codes::INVALID_QUERY_PARAMETER, detail).at_parameter(name)
}

/// The dry run a query asks for.
pub fn request(q: &Query) -> Result<ManifestRequest, Error> {
    let id = |name: &str, what: &str| {
        q.extra
            .get(name)
            .map(|v| (v, bad(name, format!("{name} is {what}"))))
    };
    let inquiry_template_id = id("inquiry-template-id", "an itmpl id")
        .map(|(v, e)| TemplateId::parse(v).map_err(|_| e))
        .transpose()?;
    let destination_id = id("destination-id", "an inq id")
        .map(|(v, e)| InquiryId::parse(v).map_err(|_| e))
        .transpose()?;
    if q.extra
        .get("field-mappings")
        .is_some_and(|v| v.len() > 1000)
    {
        return Err(bad(
            "field-mappings",
            "field-mappings is at most 1000 characters",
        ));
    }
    let mut mappings = Vec::new();
    for pair in q
        .extra
        .get("field-mappings")
        .map(|v| {
            v.split(',')
                .filter(|p| !p.trim().is_empty())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    {
        let (from, to) = pair.split_once(':').ok_or_else(|| {
            bad(
                "field-mappings",
                "field-mappings are source:destination pairs, comma-separated",
            )
        })?;
        mappings.push(FieldMapping {
            source_field_name: from.trim().to_owned(),
            destination_field_name: to.trim().to_owned(),
        });
    }
    let field_mappings = check_field_mappings(mappings, "field-mappings")
        .map_err(|e| bad("field-mappings", e.detail))?;
    Ok(ManifestRequest {
        remote: None,
        inquiry_template_id,
        destination_id,
        field_mappings,
    })
}

/// The store names what it refuses by attribute (`inquiry-template-id`, `field-mappings/0/…`);
/// here they were query parameters.
pub fn at_parameter(ApiError(e): ApiError) -> ApiError {
    ApiError(match e.location.clone() {
        Some(Source::Attribute(a)) => {
            let name = a.split('/').next().unwrap_or(&a).to_owned();
            e.at_parameter(name)
        }
        _ => e,
    })
}

/// Checks a manifest digest as sent back (`sha256:` and 64 lowercase hex digits).
pub fn check_digest(digest: String, pointer: &str) -> Result<String, Error> {
    let hex = digest.strip_prefix("sha256:").unwrap_or("");
    if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(digest)
    } else {
        Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            "a manifest digest is sha256: and 64 lowercase hex digits, as the manifest gave it",
        )
        .at(pointer))
    }
}

/// The manifest as a resource: `connect/share-token-manifest`, id the token's.
pub fn resource(id: &ShareTokenId, manifest: Manifest) -> Resource<Manifest, NoRelationships> {
    Resource::new(
        "connect/share-token-manifest",
        id.as_str(),
        manifest,
        NoRelationships {},
    )
}

/// Previews a redemption (destination only, while the token is `created`): every field that
/// would be copied (masked as the peek), every verification with its age, every document with
/// its size and expiry, the dry run of the template's checks exactly as the redemption would
/// record them now, and the digest of the data. Redeeming with `meta.manifest-digest` makes the
/// token record whether the copy matched.
#[utoipa::path(get, path = "/api/v1/connect/share-tokens/{id}/manifest", tag = "share-tokens",
    params(("id" = String, Path), ManifestParams, CommonHeaders),
    security(("api_key" = ["share_token.read"])),
    responses((status = 200, body = Document<crate::schema::Resource<Manifest, crate::schema::NoRelationships>>), (status = 400, body = ErrorDocument), (status = 403, body = ErrorDocument), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = ctx.query(Accepts {
        extra: &["inquiry-template-id", "destination-id", "field-mappings"],
        ..Default::default()
    })?;
    let id = path_id(ShareTokenId::parse, &id, "share token")?;
    let request = crate::federation::preview(&ctx.state, ctx.scope(), &id, request(&q)?)
        .await
        .map_err(|e| at_parameter(e.into()))?;
    let manifest = ctx
        .read(share_tokens::manifest(
            ctx.scope().clone(),
            id.clone(),
            request,
        ))
        .await
        .map_err(at_parameter)?;
    ctx.respond(
        StatusCode::OK,
        Doc::one(resource(&id, manifest).to_value()),
        Some(&q),
    )
}
