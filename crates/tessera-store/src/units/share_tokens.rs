//! Units of work on share tokens: each runs the op of the same name in `crate::ops::share_tokens`
//! (or, for `redeem`, `crate::ops::share_token_redemption`) as one transaction. The types they
//! take and return are re-exported from there.

pub use crate::ops::share_tokens::*;

pub use crate::ops::manifest::ManifestRequest;
pub use tessera_core::share_token::copy::Manifest;

use crate::ops::manifest;
use crate::ops::receipts;
pub use crate::ops::receipts::Receipt;
use crate::ops::share_token_redemption as redemption;
use crate::ops::share_tokens as op;
use crate::paging::{Page, PageRequest};
use tessera_core::id::ShareTokenId;
use tessera_core::share_token::{RedeemParams, ShareToken, TokenSpec};
use tessera_core::tenancy::{Actor, Scope};

crate::work::units! { op;
    Write create(scope: Scope, spec: TokenSpec, creator: Actor) -> ShareToken = create(&scope, &spec, creator);
    Read get(scope: Scope, id: ShareTokenId) -> ShareToken = get(&scope, &id);
    Write expire(scope: Scope, id: ShareTokenId) -> ShareToken = expire(&scope, &id);
    Write sweep_expired(limit: i64) -> usize = sweep_expired(limit);
    Read list(scope: Scope, filter: ShareTokenFilter, page: PageRequest) -> Page<ShareToken> = list(&scope, &filter, &page);
}

crate::work::units! { manifest;
    Read manifest(scope: Scope, id: ShareTokenId, request: ManifestRequest) -> Manifest = of_token(&scope, &id, &request);
}

crate::work::units! { receipts;
    /// The signed receipt of a redeemed token, for either side.
    Read receipt(scope: Scope, id: ShareTokenId) -> Receipt = get(&scope, &id);
}

crate::work::units! { redemption;
    Write redeem(scope: Scope, id: ShareTokenId, params: RedeemParams) -> ShareToken = redeem(&scope, &id, params);
}

/// A share token as its reader is shown it (see [`show`]).
#[derive(Debug, Clone)]
pub struct Shown {
    pub token: ShareToken,
    /// The related objects asked for that the reader may see.
    pub included: Vec<crate::units::related::Related>,
    /// Persona's `source-data`, when asked for and the reader may peek.
    pub source_data: Option<serde_json::Value>,
    /// Beside `source-data`: the preview manifest (none when the source was redacted, as its
    /// redemption would fail).
    pub manifest: Option<Manifest>,
}

/// Reads a token with the related objects `include` asks for that the caller may see (see
/// [`crate::units::related::ShareTokenIncludes`]) and, when `peek` asks for it, Persona's
/// `source-data` (the masked peek at its source, limited to what the token discloses) with the
/// preview manifest for `peek`'s template and destination: present only for the destination while
/// the token is `created`, else `None` (no error). The API's `peek-source-data` and the
/// dashboard's inbound token page read it here.
pub fn show(
    scope: Scope,
    id: ShareTokenId,
    include: crate::units::related::ShareTokenIncludes,
    peek: Option<ManifestRequest>,
) -> crate::Read<Shown> {
    crate::Read::new(move |tx| {
        Box::pin(async move {
            let token = op::get(tx, &scope, &id).await?;
            let included = crate::ops::related::of_share_token(tx, &scope, &token, include).await?;
            let (source_data, manifest) = match peek {
                // A peer's token without its instance's answer: nothing to show here.
                Some(request)
                    if request.remote.is_none()
                        && crate::ops::peer_messages::home_of(tx, &token.source_org)
                            .await?
                            .is_some() =>
                {
                    (None, None)
                }
                Some(request) if crate::ops::source_data::peekable(tx, &scope, &token) => {
                    let data = match &request.remote {
                        Some(remote) => remote.source_data.clone(),
                        None => crate::ops::source_data::document(tx, &token).await?,
                    };
                    let manifest =
                        match crate::ops::manifest::manifest(tx, &scope, &token, &request).await {
                            Ok(m) => Some(m),
                            Err(e) if e.is(tessera_core::codes::SOURCE_REDACTED) => None,
                            Err(e) => return Err(e),
                        };
                    (Some(data), manifest)
                }
                _ => (None, None),
            };
            Ok(Shown {
                token,
                included,
                source_data,
                manifest,
            })
        })
    })
}

/// `unit` (a change to one token: [`create`], [`redeem`], [`expire`]), then, in the same
/// transaction, the related objects of the token it returns that `include` asks for and the
/// caller (`scope`) may see.
pub fn with_related(
    unit: crate::Write<ShareToken>,
    scope: Scope,
    include: crate::units::related::ShareTokenIncludes,
) -> crate::Write<(ShareToken, Vec<crate::units::related::Related>)> {
    crate::Write::new(move |tx| {
        Box::pin(async move {
            let token = unit.run(tx).await?;
            let included = crate::ops::related::of_share_token(tx, &scope, &token, include).await?;
            Ok((token, included))
        })
    })
}
