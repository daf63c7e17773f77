//! Documents: multipart upload, metadata, and the stored bytes.

use axum::body::Body as HttpBody;
use axum::extract::{FromRequest, Multipart, Path, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_core::document::{DocumentKind, clean_filename, valid_content_type};
use tessera_core::id::{DocumentId, InquiryId};
use tessera_core::jsonapi::{Document, ErrorDocument};
use tessera_core::{Error, Status, codes};
use tessera_store::units::documents::{self, NewDocument};
use utoipa::ToSchema;

use crate::{CommonHeaders, IdempotencyHeader, single};

/// What `include` accepts here (Persona's document relationships); only `inquiry` is included,
/// the others name objects Tessera does not have.
pub const INCLUDES: &[&str] = &[
    "inquiry",
    "inquiry-template",
    "inquiry-template-version",
    "template",
    "transaction",
    "document-files",
];

/// The `include` parameter of document endpoints.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncludeParams {
    /// Comma-separated: `inquiry` is included; Persona's other names are accepted and add
    /// nothing.
    pub include: Option<String>,
}
use crate::inquiries::{inquiry_included, wants_inquiry};
use tessera_edge::extract::{Ctx, Reply, path_id};
use tessera_edge::render::Doc;

/// The multipart form of an upload.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// `government-id-front`, `government-id-back`, `selfie`, `proof-of-address` or `other`.
    kind: String,
    /// The file; its part's `Content-Type` is stored and served back.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

fn multipart_error(detail: impl Into<String>) -> Error {
    Error::bad_request(codes::INVALID_MULTIPART, detail)
}

fn from_multipart_error(e: axum::extract::multipart::MultipartError) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::new(
            Status::PayloadTooLarge,
            codes::PAYLOAD_TOO_LARGE,
            "the upload is too large",
        )
    } else {
        multipart_error(format!(
            "the multipart body is malformed: {}",
            e.body_text()
        ))
    }
}

async fn read_form(req: Request, limit: usize) -> Result<NewDocument, Error> {
    if !tessera_edge::extract::is_multipart(req.headers()) {
        return Err(Error::new(
            Status::UnsupportedMediaType,
            codes::UNSUPPORTED_MEDIA_TYPE,
            "uploads are multipart/form-data with parts kind and file",
        )
        .at_header("Content-Type"));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit + tessera_edge::config::MULTIPART_OVERHEAD) {
        return Err(Error::new(
            Status::PayloadTooLarge,
            codes::PAYLOAD_TOO_LARGE,
            "the upload is too large",
        ));
    }
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| multipart_error(e.body_text()))?;
    let mut kind = None;
    let mut file: Option<(Option<String>, Option<String>, Vec<u8>)> = None;
    while let Some(field) = form.next_field().await.map_err(from_multipart_error)? {
        match field.name() {
            Some("kind") if kind.is_none() => {
                let text = field.text().await.map_err(from_multipart_error)?;
                kind = Some(DocumentKind::parse(text.trim()).ok_or_else(|| {
                    Error::invalid(
                        codes::INVALID_ATTRIBUTE,
                        format!("unknown document kind {}", text.trim()),
                    )
                    .at("/kind")
                })?);
            }
            Some("file") if file.is_none() => {
                let filename = field.file_name().map(str::to_owned);
                let content_type = field.content_type().map(str::to_owned);
                let mut bytes = Vec::new();
                let mut field = field;
                while let Some(chunk) = field.chunk().await.map_err(from_multipart_error)? {
                    if bytes.len() + chunk.len() > limit {
                        return Err(Error::new(
                            Status::PayloadTooLarge,
                            codes::PAYLOAD_TOO_LARGE,
                            format!("files are at most {limit} bytes"),
                        ));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some((filename, content_type, bytes));
            }
            Some(other) => {
                return Err(multipart_error(format!(
                    "unexpected or repeated part {other}; the parts are kind and file"
                )));
            }
            None => return Err(multipart_error("every part needs a name")),
        }
    }
    let kind = kind.ok_or_else(|| {
        Error::invalid(codes::MISSING_ATTRIBUTE, "the kind part is required").at("/kind")
    })?;
    let (filename, content_type, bytes) = file.ok_or_else(|| {
        Error::invalid(codes::MISSING_ATTRIBUTE, "the file part is required").at("/file")
    })?;
    if bytes.is_empty() {
        return Err(Error::invalid(codes::INVALID_ATTRIBUTE, "the file is empty").at("/file"));
    }
    let content_type = content_type.unwrap_or_else(|| "application/octet-stream".into());
    if !valid_content_type(&content_type) {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            "the file part's Content-Type is not valid",
        )
        .at("/file"));
    }
    let sha256 = tessera_core::document::sha256_hex(&bytes);
    Ok(NewDocument {
        kind,
        filename: filename.as_deref().and_then(clean_filename),
        content_type,
        bytes,
        sha256,
    })
}

#[utoipa::path(post, path = "/api/v1/inquiries/{id}/documents", tag = "documents",
    params(("id" = String, Path), IncludeParams, CommonHeaders, IdempotencyHeader),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    security(("api_key" = ["inquiry.write"])),
    responses((status = 201, body = Document<crate::schema::Resource<crate::schema::DocumentAttributes, crate::schema::DocumentRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 413, body = ErrorDocument), (status = 415, body = ErrorDocument)))]
pub async fn upload(ctx: Ctx, Path(id): Path<String>, req: Request) -> Reply {
    let q = single(&ctx, INCLUDES)?;
    let id = path_id(InquiryId::parse, &id, "inquiry")?;
    let new = read_form(req, ctx.state.config.upload_limit).await?;
    let with_inquiry = wants_inquiry(&q.include);
    ctx.commit(
        StatusCode::CREATED,
        documents::create_showing(ctx.scope().clone(), id, new, with_inquiry),
        |(d, inquiry)| {
            Doc::one(d.to_resource().to_value()).with_included(inquiry_included(inquiry))
        },
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents",
    params(("id" = String, Path), IncludeParams, CommonHeaders),
    security(("api_key" = ["inquiry.read"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::DocumentAttributes, crate::schema::DocumentRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, INCLUDES)?;
    let id = path_id(DocumentId::parse, &id, "document")?;
    let (d, inquiry) = ctx
        .read(documents::show(
            ctx.scope().clone(),
            id,
            wants_inquiry(&q.include),
        ))
        .await?;
    ctx.respond(
        StatusCode::OK,
        Doc::one(d.to_resource().to_value()).with_included(inquiry_included(inquiry)),
        Some(&q),
    )
}

/// The stored bytes, with the stored content type (410 after redaction).
#[utoipa::path(get, path = "/api/v1/documents/{id}/file", tag = "documents",
    params(("id" = String, Path)),
    security(("api_key" = ["inquiry.read"])),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = 404, body = ErrorDocument), (status = 410, body = ErrorDocument)))]
pub async fn file(ctx: Ctx, Path(id): Path<String>) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(DocumentId::parse, &id, "document")?;
    let (doc, bytes) = ctx.read(documents::file(ctx.scope().clone(), id)).await?;
    let mut r: Response = (StatusCode::OK, HttpBody::from(bytes)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&doc.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// Tessera extension (Persona has no document redaction): removes the document's file, name and
/// hash; kind, size and times stay, and its file answers 410. Destinations that redeemed a copy
/// of its inquiry are told (`inquiry.source-redacted`). Irreversible; redacting again changes
/// nothing.
#[utoipa::path(delete, path = "/api/v1/documents/{id}", tag = "documents",
    params(("id" = String, Path), IncludeParams, CommonHeaders, IdempotencyHeader),
    security(("api_key" = ["inquiry.write"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::DocumentAttributes, crate::schema::DocumentRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn redact(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, INCLUDES)?;
    let id = path_id(DocumentId::parse, &id, "document")?;
    let with_inquiry = wants_inquiry(&q.include);
    ctx.commit(
        StatusCode::OK,
        documents::redact_showing(ctx.scope().clone(), id, with_inquiry),
        |(d, inquiry)| {
            Doc::one(d.to_resource().to_value()).with_included(inquiry_included(inquiry))
        },
    )
    .await
}
