//! The preview manifest: the copy a redemption of a token would make now, planned from the source
//! as it is (`tessera_core::share_token::copy::plan`) and judged by the destination's template,
//! with nothing written. The redemption (`ops::redemption`) plans its copy here too, so what the
//! manifest shows is what it copies.

use tessera_core::federation::Peeked;
use tessera_core::id::{InquiryId, TemplateId};
use tessera_core::inquiry::{Inquiry, InquiryStatus};
use tessera_core::share_token::copy::{self, Copy, Existing, Manifest};
use tessera_core::share_token::{FieldMapping, RedeemMode, ShareToken};
use tessera_core::template::Template;
use tessera_core::tenancy::Scope;
use tessera_core::verification::Verification;
use tessera_core::{Error, codes};

use crate::ops::{documents, share_tokens, templates, verifications};
use crate::tx::Tx;

/// Plans the copy of `token`'s source inquiry `source` (read in the source's scope).
pub(crate) async fn plan(
    tx: &mut Tx,
    token: &ShareToken,
    source: &Inquiry,
    mappings: &[FieldMapping],
) -> Result<Copy, Error> {
    let scope = token.source_scope();
    let verifications = verifications::for_inquiry(tx, &scope, &source.id).await?;
    let documents = if token.source_verification.is_some() {
        Vec::new()
    } else {
        documents::for_inquiry(tx, &scope, &source.id).await?
    };
    Ok(copy::plan(
        token,
        &source.fields,
        verifications,
        documents,
        mappings,
    ))
}

/// Whether a hydrate may fill `inquiry`: not redacted, still `created` or `pending`.
pub(crate) fn fillable(inquiry: &Inquiry) -> bool {
    inquiry.redacted_at.is_none()
        && matches!(
            inquiry.status,
            InquiryStatus::Created | InquiryStatus::Pending
        )
}

/// What the dry run is asked for: the redeem call's template and destination.
#[derive(Debug, Clone, Default)]
pub struct ManifestRequest {
    pub inquiry_template_id: Option<TemplateId>,
    pub destination_id: Option<InquiryId>,
    pub field_mappings: Vec<FieldMapping>,
    /// For a token whose source is an organization of a peer instance: the source instance's
    /// answer to the preview (asked by the caller before the unit, see
    /// `units::federation::peek_message`), shown instead of a plan made here.
    pub remote: Option<Peeked>,
}

/// The manifest of token `token` for its destination (`scope`), while the token can be redeemed
/// (as the peek). A `destination-id` dry-runs a hydrate of that inquiry (which must be fillable);
/// the template is the given one, else the hydrated inquiry's. Refusals: the source side 403,
/// a token not `created` 409, a redacted source 409 `source_redacted`, a template or
/// destination the caller cannot see 404 at its attribute.
pub(crate) async fn manifest(
    tx: &mut Tx,
    scope: &Scope,
    token: &ShareToken,
    request: &ManifestRequest,
) -> Result<Manifest, Error> {
    if !token.is_destination(scope) {
        return Err(Error::forbidden(
            codes::WRONG_SIDE,
            "only the destination organization can preview a share token",
        ));
    }
    let now = tx.now();
    token.check_redeemable(now)?;
    if let Some(remote) = &request.remote {
        return remote.manifest.clone().ok_or_else(redacted);
    }
    if crate::ops::peer_messages::home_of(tx, &token.source_org)
        .await?
        .is_some()
    {
        return Err(Error::new(
            tessera_core::error::Status::Unavailable,
            codes::PEER_UNREACHABLE,
            "the preview of a token from a peer instance comes from that instance, which did not answer",
        ));
    }
    let source =
        crate::ops::inquiries::get(tx, &token.source_scope(), &token.source_inquiry_id).await?;
    if source.redacted_at.is_some() {
        return Err(redacted());
    }
    let destination = match &request.destination_id {
        None => None,
        Some(id) => {
            if token.source_verification.is_some() {
                return Err(Error::invalid(
                    codes::INVALID_ATTRIBUTE,
                    "a shared verification can only be cloned: leave out destination-id",
                )
                .at("destination-id"));
            }
            let d = crate::ops::inquiries::get(tx, scope, id)
                .await
                .map_err(|e| e.at("destination-id"))?;
            if !fillable(&d) {
                return Err(Error::conflict(
                    codes::INQUIRY_NOT_OPEN,
                    "a redemption can only fill an inquiry that is created or pending and not redacted",
                )
                .at("destination-id"));
            }
            let v = verifications::for_inquiry(tx, scope, id).await?;
            Some((d, v))
        }
    };
    let template_id = request.inquiry_template_id.clone().or_else(|| {
        destination
            .as_ref()
            .and_then(|(d, _)| d.template_id.clone())
    });
    let template = template(tx, scope, template_id.as_ref()).await?;
    token
        .disclosure
        .check_mappings(&request.field_mappings, "field-mappings")?;
    let copy = plan(tx, token, &source, &request.field_mappings).await?;
    let mode = if destination.is_some() {
        RedeemMode::Hydrate
    } else {
        RedeemMode::Clone
    };
    Ok(copy.manifest(
        mode,
        template.as_ref(),
        existing(destination.as_ref().map(|(d, v)| (d, v.as_slice()))),
        now,
    ))
}

fn redacted() -> Error {
    Error::conflict(
        codes::SOURCE_REDACTED,
        "the source inquiry was redacted: a redemption would fail",
    )
}

/// The manifest of a clone of `token`'s source (for its destination on a peer instance, which
/// sent its `template`): 409 `source_redacted` when the source was redacted.
pub(crate) async fn of_clone(
    tx: &mut Tx,
    token: &ShareToken,
    template: Option<&Template>,
    mappings: &[FieldMapping],
) -> Result<Manifest, Error> {
    let source =
        crate::ops::inquiries::get(tx, &token.source_scope(), &token.source_inquiry_id).await?;
    if source.redacted_at.is_some() {
        return Err(redacted());
    }
    let copy = plan(tx, token, &source, mappings).await?;
    Ok(copy.manifest(RedeemMode::Clone, template, None, tx.now()))
}

/// A destination template by id (404 at `inquiry-template-id` when the caller cannot see it).
pub(crate) async fn template(
    tx: &mut Tx,
    scope: &Scope,
    id: Option<&TemplateId>,
) -> Result<Option<Template>, Error> {
    match id {
        Some(t) => Ok(Some(
            templates::get(tx, scope, t)
                .await
                .map_err(|e| e.at("inquiry-template-id"))?,
        )),
        None => Ok(None),
    }
}

/// A hydrated inquiry's fields and verifications as the plan's [`Existing`].
pub(crate) fn existing<'a>(
    destination: Option<(&'a Inquiry, &'a [Verification])>,
) -> Option<Existing<'a>> {
    destination.map(|(d, v)| Existing {
        fields: &d.fields,
        verifications: v,
    })
}

/// The token `id` the caller can see, for [`manifest`].
pub(crate) async fn of_token(
    tx: &mut Tx,
    scope: &Scope,
    id: &tessera_core::id::ShareTokenId,
    request: &ManifestRequest,
) -> Result<Manifest, Error> {
    let token = share_tokens::get(tx, scope, id).await?;
    manifest(tx, scope, &token, request).await
}
