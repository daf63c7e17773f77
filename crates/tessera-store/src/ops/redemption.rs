//! The copy made by a redemption, in one unit of work with the token's final status: clone (a
//! new destination inquiry) or hydrate (fill one), copy fields (each under its own name and, when
//! a field mapping names it, also under the mapped name), verifications with their original
//! `completed-at`, documents with their bytes; verify the copy against the destination's
//! template; mark the token `redeemed`; emit the events. A token that shares one verification is
//! cloned into a new inquiry holding only the copy of that verification. A crash anywhere before
//! the commit leaves the token `pending` and the job due again.

use tessera_core::Error;
use tessera_core::event::names;
use tessera_core::id::{DocumentId, FileId, InquiryId, ShareTokenId, VerificationId};
use tessera_core::inquiry::{Inquiry, InquiryStatus, SharedFrom};
use tessera_core::share_token::copy::{Copy, DocumentBytes};
use tessera_core::share_token::{ShareToken, ShareTokenStatus, failure};
use tessera_core::verification::{Verification, VerificationKind, VerificationStatus};

use crate::ops::{
    documents, inquiries, manifest, receipts, share_token_redemption, share_tokens, verifications,
};
use crate::tx::Tx;

/// What a redemption job did.
#[derive(Debug)]
pub enum Outcome {
    Redeemed(ShareToken),
    Failed(ShareToken),
    /// The token was not pending (already finished by an earlier run): nothing to do.
    Nothing,
}

/// Runs the redemption of a `pending` token.
pub(crate) async fn run(tx: &mut Tx, token_id: &ShareTokenId) -> Result<Outcome, Error> {
    let token = match share_tokens::get_unscoped_for_update(tx, token_id).await {
        Ok(t) => t,
        Err(e) if e.is(tessera_core::codes::NOT_FOUND) => return Ok(Outcome::Nothing),
        Err(e) => return Err(e),
    };
    if token.status != ShareTokenStatus::Pending {
        return Ok(Outcome::Nothing);
    }
    match source_copy(tx, &token).await? {
        Ok((copy, bytes)) => land(tx, token, &copy, bytes, None).await,
        Err(reason) => Ok(Outcome::Failed(
            share_token_redemption::fail(tx, token, reason).await?,
        )),
    }
}

/// What `token`'s redemption copies from its source as it is now, with the documents' bytes (in
/// order), or why it cannot be redeemed (a failure code): the source inquiry was redacted, or the
/// one verification it shares is gone. Planned before anything is written (the manifest plans
/// the same way).
pub(crate) async fn source_copy(
    tx: &mut Tx,
    token: &ShareToken,
) -> Result<Result<(Copy, DocumentBytes), &'static str>, Error> {
    let source_scope = token.source_scope();
    let params = token.redeem_params.clone().unwrap_or_default();
    let source = inquiries::get(tx, &source_scope, &token.source_inquiry_id).await?;
    if source.redacted_at.is_some() {
        return Ok(Err(failure::SOURCE_REDACTED));
    }
    let copy = manifest::plan(tx, token, &source, &params.field_mappings).await?;
    if token.source_verification.is_some() && copy.verifications.is_empty() {
        return Ok(Err(failure::SOURCE_NOT_FOUND));
    }
    let mut bytes = Vec::with_capacity(copy.documents.len());
    for d in &copy.documents {
        bytes.push(match &d.file_id {
            Some(_) => Some(documents::file(tx, &source_scope, &d.id).await?.1),
            None => None,
        });
    }
    Ok(Ok((copy, bytes)))
}

/// Writes `copy` (its documents' bytes in `bytes`, in order) into the destination of the
/// `pending` token, verifies it against the destination's template, marks the token `redeemed`
/// and keeps the receipt: `receipt`, signed by the source's instance when the source is a peer's
/// organization, else one this instance signs now.
pub(crate) async fn land(
    tx: &mut Tx,
    token: ShareToken,
    copy: &Copy,
    bytes: DocumentBytes,
    receipt: Option<String>,
) -> Result<Outcome, Error> {
    let dest_scope = token.destination_scope();
    let params = token.redeem_params.clone().unwrap_or_default();
    let now = tx.now();
    let shares_verification = token.source_verification.is_some();
    // The destination inquiry: hydrate one that is still being filled, or clone.
    let (mut dest, cloned) = match &params.destination_id {
        Some(id) => {
            let d = match inquiries::get_for_update(tx, &dest_scope, id).await {
                Ok(d) if manifest::fillable(&d) => d,
                Ok(_) => {
                    return Ok(Outcome::Failed(
                        share_token_redemption::fail(tx, token, failure::DESTINATION_NOT_FILLABLE)
                            .await?,
                    ));
                }
                Err(e) if e.is(tessera_core::codes::NOT_FOUND) => {
                    return Ok(Outcome::Failed(
                        share_token_redemption::fail(tx, token, failure::DESTINATION_NOT_FILLABLE)
                            .await?,
                    ));
                }
                Err(e) => return Err(e),
            };
            (d, false)
        }
        None => (
            Inquiry {
                template_id: params.inquiry_template_id.clone(),
                ..Inquiry::new(InquiryId::generate(), token.id.to_string(), now)
            },
            true,
        ),
    };
    let existing = if cloned {
        Vec::new()
    } else {
        verifications::for_inquiry(tx, &dest_scope, &dest.id).await?
    };
    let template_id = params
        .inquiry_template_id
        .clone()
        .or_else(|| dest.template_id.clone());
    let template = manifest::template(tx, &dest_scope, template_id.as_ref()).await?;
    let checks = copy.checks(
        template.as_ref(),
        manifest::existing((!cloned).then_some((&dest, existing.as_slice()))),
        now,
    );

    dest.fields
        .extend(copy.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    dest.shared_from = Some(SharedFrom {
        organization_id: token.source_org.clone(),
        inquiry_id: token.source_inquiry_id.clone(),
        share_token_id: token.id.clone(),
    });
    dest.share_token_id = Some(token.id.clone());
    dest.updated_at = now;
    if cloned {
        inquiries::insert(tx, &dest_scope, &dest).await?;
    } else {
        inquiries::save(tx, &dest_scope, &dest).await?;
    }

    // Verifications, with their original completion times.
    let mut copied_verification = None;
    for v in &copy.verifications {
        let c = Verification {
            id: VerificationId::generate(),
            inquiry_id: dest.id.clone(),
            created_at: now,
            ..v.clone()
        };
        verifications::insert(tx, &dest_scope, &c).await?;
        dest.verifications.push((c.kind, c.id.clone()));
        copied_verification = Some(c.id);
    }

    // Documents, with their bytes.
    for (d, bytes) in copy.documents.iter().zip(bytes) {
        let c = tessera_core::document::Document {
            id: DocumentId::generate(),
            inquiry_id: dest.id.clone(),
            file_id: bytes.as_ref().map(|_| FileId::generate()),
            created_at: now,
            ..d.clone()
        };
        documents::insert(tx, &dest_scope, &c, bytes).await?;
        dest.documents.push((c.kind, c.id.clone()));
    }
    if cloned {
        inquiries::emit(tx, &dest_scope, names::INQUIRY_CREATED, &dest).await?;
    }

    // The copy's verification against the destination's requirements.
    let passed = tessera_core::checks::all_pass(&checks);
    let verification = Verification {
        id: VerificationId::generate(),
        inquiry_id: dest.id.clone(),
        kind: VerificationKind::ShareToken,
        status: if passed {
            VerificationStatus::Passed
        } else {
            VerificationStatus::Failed
        },
        checks,
        attributes: Default::default(),
        completed_at: now,
        created_at: now,
    };
    verifications::insert(tx, &dest_scope, &verification).await?;
    dest.verifications
        .push((verification.kind, verification.id.clone()));

    let (status, event) = if passed {
        (InquiryStatus::Completed, names::INQUIRY_COMPLETED)
    } else {
        (InquiryStatus::NeedsReview, names::INQUIRY_MARKED_FOR_REVIEW)
    };
    inquiries::set_status(&mut dest, status, now);
    inquiries::save(tx, &dest_scope, &dest).await?;
    inquiries::emit_status(tx, &dest_scope, event, &dest).await?;

    let copied = copied_verification.filter(|_| shares_verification);
    let digest = copy.digest();
    let mut redeemed =
        share_token_redemption::mark_redeemed(tx, token, Some(&dest.id), copied.as_ref(), &digest)
            .await?;
    redeemed.receipt = Some(match receipt {
        Some(jws) => receipts::keep(tx, &redeemed, jws, copy).await?,
        None => receipts::issue(tx, &redeemed, copy).await?,
    });
    Ok(Outcome::Redeemed(redeemed))
}

/// Ends a token whose redemption kept failing: `failed` with `redemption_error` (shown as
/// `failure-reason: unrecoverable_error`).
pub(crate) async fn give_up(tx: &mut Tx, token_id: &ShareTokenId) -> Result<(), Error> {
    // A token that is gone has nothing to give up: the job is still buried.
    let token = match share_tokens::get_unscoped_for_update(tx, token_id).await {
        Err(e) if e.is(tessera_core::codes::NOT_FOUND) => return Ok(()),
        other => other?,
    };
    if token.status == ShareTokenStatus::Pending {
        share_token_redemption::fail(tx, token, failure::REDEMPTION_ERROR).await?;
    }
    Ok(())
}

/// A redemption job's unit: runs the redemption and completes job `job` with it.
pub(crate) async fn redeem(
    tx: &mut Tx,
    job: &tessera_core::id::JobId,
    token_id: &ShareTokenId,
) -> Result<Outcome, Error> {
    let outcome = run(tx, token_id).await?;
    crate::ops::jobs::complete(tx, job).await?;
    Ok(outcome)
}
