//! What the share-token forms do: create a token (source side), redeem one (destination side,
//! by its id on the list or from its page) and expire one (either side). A refused form shows
//! its page again with the message.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tessera_core::id::{ConnectionId, InquiryId, ShareTokenId, TemplateId};
use tessera_core::share_token::{
    DEFAULT_EXPIRES_IN, Disclosure, DisclosureInput, RedeemParams, ShareToken, SourceId, TokenSpec,
    check_expires_in,
};
use tessera_core::tenancy::Actor;
use tessera_store::units::sessions::Session;
use tessera_store::units::share_tokens;

use super::BASE;
use super::list::{Typed, list_page};
use super::token::show_page;
use crate::form::{Fields, Form};
use crate::page::{PageError, PageResult, form_error, sentence};
use crate::session::Signed;
use tessera_edge::state::AppState;

/// A comma-separated list typed into the form: empty is everything (`None`), `none` nothing.
fn listed(typed: &str) -> Option<Vec<String>> {
    let items: Vec<String> = typed
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    match items.as_slice() {
        [] => None,
        [only] if only.eq_ignore_ascii_case("none") => Some(Vec::new()),
        _ => Some(items),
    }
}

fn invalid(message: &str) -> (StatusCode, String) {
    (StatusCode::UNPROCESSABLE_ENTITY, message.to_owned())
}

/// Creates a token (source side): the same unit of work as `POST /api/v1/connect/share-tokens`,
/// with the signed-in user as its creator.
pub async fn create(
    State(state): State<AppState>,
    Signed(session): Signed,
    Form(form): Form,
) -> PageResult {
    let typed = Typed {
        connection_id: form.text("connection_id"),
        inquiry_id: form.text("inquiry_id"),
        expires_in: form.text("expires_in"),
        allowed_fields: form.text("allowed_fields"),
        allowed_verifications: form.text("allowed_verifications"),
        allowed_documents: form.text("allowed_documents"),
        ..Typed::default()
    };
    let parsed = (|| {
        let connection = ConnectionId::parse(&typed.connection_id)
            .map_err(|_| invalid("Pick an active outbound connection."))?;
        let source = InquiryId::parse(&typed.inquiry_id)
            .map(SourceId::Inquiry)
            .map_err(|_| invalid("Enter the id of one of your inquiries (it starts with inq_)."))?;
        let expires_in = typed
            .expires_in
            .parse::<i64>()
            .ok()
            .or_else(|| typed.expires_in.is_empty().then_some(DEFAULT_EXPIRES_IN))
            .ok_or_else(|| invalid("Pick how long the token lasts."))
            .and_then(|s| check_expires_in(s).map_err(|e| invalid(&sentence(&e.detail))))?;
        let disclosure = Disclosure::parse(DisclosureInput {
            fields: listed(&typed.allowed_fields),
            verifications: listed(&typed.allowed_verifications),
            documents: listed(&typed.allowed_documents),
        })
        .map_err(|e| invalid(&sentence(&e.detail)))?;
        Ok::<_, (StatusCode, String)>((connection, source, expires_in, disclosure))
    })();
    let (connection, source, expires_in, disclosure) = match parsed {
        Ok(p) => p,
        Err(error) => {
            return list_page(&state, session, Fields::default(), typed, None, Some(error)).await;
        }
    };
    let scope = session.scope.clone();
    let actor = Actor::User(session.user.id.clone());
    let created = state
        .store
        .write(share_tokens::create(
            scope,
            TokenSpec {
                connection_id: connection,
                source_id: source,
                expires_in_seconds: expires_in,
                disclosure,
            },
            actor,
        ))
        .await;
    match created {
        Ok(t) => Ok(Redirect::to(&format!("{BASE}/{}?done=created", t.id)).into_response()),
        Err(e) => {
            let error = form_error(e)?;
            list_page(&state, session, Fields::default(), typed, None, Some(error)).await
        }
    }
}

async fn start_redemption(
    state: &AppState,
    session: &Session,
    id: ShareTokenId,
    template: &str,
    manifest_digest: Option<String>,
) -> Result<ShareToken, Result<(StatusCode, String), PageError>> {
    let inquiry_template_id = if template.is_empty() {
        None
    } else {
        Some(TemplateId::parse(template).map_err(|_| Ok(invalid("Pick one of your templates.")))?)
    };
    let params = RedeemParams {
        destination_id: None,
        inquiry_template_id,
        field_mappings: Vec::new(),
        manifest_digest,
    };
    state
        .store
        .write(share_tokens::redeem(session.scope.clone(), id, params))
        .await
        .map_err(form_error)
}

/// Redeems an inbound token by its id, typed into the list page's form.
pub async fn redeem_by_id(
    State(state): State<AppState>,
    Signed(session): Signed,
    Form(form): Form,
) -> PageResult {
    let typed = Typed {
        token_id: form.text("token_id"),
        template_id: form.text("template_id"),
        ..Typed::default()
    };
    let Ok(id) = ShareTokenId::parse(&typed.token_id) else {
        let error =
            invalid("Paste the id of a share token your partner sent you (it starts with cnst_).");
        return list_page(&state, session, Fields::default(), typed, None, Some(error)).await;
    };
    match start_redemption(&state, &session, id, &typed.template_id, None).await {
        Ok(t) => Ok(Redirect::to(&format!("{BASE}/{}?done=redeeming", t.id)).into_response()),
        Err(Ok((status, message))) => {
            // A token of nobody we know reads as "not found", like any other object.
            let message = if status == StatusCode::NOT_FOUND {
                String::from(
                    "There is no share token with that id for this organization and environment.",
                )
            } else {
                message
            };
            list_page(
                &state,
                session,
                Fields::default(),
                typed,
                None,
                Some((status, message)),
            )
            .await
        }
        Err(Err(page)) => Err(page),
    }
}

/// Redeems the token of this page (destination side).
pub async fn redeem(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    Form(form): Form,
) -> PageResult {
    let id = ShareTokenId::parse(&id).map_err(|_| PageError::not_found())?;
    // The page's redeem form carries the digest of the manifest it showed, so the token records
    // whether the copy was what the user previewed (a malformed one is left out).
    let digest = Some(form.text("manifest_digest")).filter(|d| {
        d.strip_prefix("sha256:")
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
    });
    let template = form.text("template_id");
    match start_redemption(&state, &session, id.clone(), &template, digest).await {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?done=redeeming")).into_response()),
        Err(Ok(error)) => show_page(&state, session, id, &template, None, Some(error)).await,
        Err(Err(page)) => Err(page),
    }
}

/// Expires the token of this page (either side).
pub async fn expire(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = ShareTokenId::parse(&id).map_err(|_| PageError::not_found())?;
    let done = state
        .store
        .write(share_tokens::expire(session.scope.clone(), id.clone()))
        .await;
    match done {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?done=expired")).into_response()),
        Err(e) => {
            let error = form_error(e)?;
            show_page(&state, session, id, "", None, Some(error)).await
        }
    }
}

/// The token's signed receipt as a file (either side, once redeemed): the API's receipt
/// document, which `tessera receipt verify` reads as the receipt and as its `--data`.
pub async fn receipt(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    use axum::http::{HeaderValue, header};
    let id = ShareTokenId::parse(&id).map_err(|_| PageError::not_found())?;
    let r = state
        .store
        .read(share_tokens::receipt(session.scope.clone(), id.clone()))
        .await
        .map_err(|e| {
            if e.is(tessera_core::codes::RECEIPT_NOT_AVAILABLE) {
                PageError::not_found()
            } else {
                PageError::from(e)
            }
        })?;
    let doc = serde_json::json!({
        "data": tessera_core::receipt::resource(id.as_str(), r.jws, r.claims, r.data).to_value()
    });
    let mut response = (StatusCode::OK, doc.to_string()).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"receipt-{id}.json\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
