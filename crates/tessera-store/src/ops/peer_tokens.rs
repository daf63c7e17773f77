//! Share tokens a peer instance's organization made for an organization of this one (issue #17):
//! recorded here under the peer's id for them, beside the stand-ins they refer to.

use tessera_core::connection::ConnectionStatus;
use tessera_core::federation::ShareTokenOffered;
use tessera_core::share_token::{ShareToken, ShareTokenStatus};
use tessera_core::tenancy::Scope;
use tessera_core::verification::VerificationStatus;
use tessera_core::{Error, codes};

use crate::ops::{connections, inquiries, share_tokens, verifications};
use crate::tx::Tx;

/// Records the token a peer's organization (`source`, a stand-in here) made on one of its
/// connections to an organization of this instance, under the peer's id for it. Its source
/// inquiry stays on the peer: an empty stand-in of it is kept here, in the source's stand-in
/// environment, for the token to refer to.
pub(crate) async fn offered(
    tx: &mut Tx,
    source: &Scope,
    offered: ShareTokenOffered,
) -> Result<ShareToken, Error> {
    let c = connections::get(tx, source, &offered.connection_id).await?;
    if !c.is_source(source) || c.status != ConnectionStatus::Active {
        return Err(Error::conflict(
            codes::CONNECTION_NOT_ACTIVE,
            "a share token is offered on an active connection of its source",
        ));
    }
    let now = tx.now();
    if inquiries::get(tx, source, &offered.source_inquiry_id)
        .await
        .is_err()
    {
        let stand_in = tessera_core::inquiry::Inquiry::new(
            offered.source_inquiry_id.clone(),
            "peer".to_owned(),
            now,
        );
        inquiries::insert(tx, source, &stand_in).await?;
    }
    // A token sharing one verification refers to it: a stand-in of it (its type), in the
    // stand-in inquiry.
    if let Some(v) = &offered.source_verification
        && verifications::get(tx, source, &v.id).await.is_err()
    {
        let stand_in = tessera_core::verification::Verification {
            id: v.id.clone(),
            inquiry_id: offered.source_inquiry_id.clone(),
            kind: v.kind,
            status: VerificationStatus::Passed,
            checks: Vec::new(),
            attributes: Default::default(),
            completed_at: now,
            created_at: now,
        };
        verifications::insert(tx, source, &stand_in).await?;
    }
    let t = ShareToken {
        id: offered.share_token_id,
        connection_id: c.id.clone(),
        kind: c.kind,
        source_org: c.source_org.clone(),
        source_env: c.source_env.clone(),
        destination_org: c.destination_org.clone(),
        destination_env: c.destination_env.clone(),
        source_inquiry_id: offered.source_inquiry_id,
        source_verification: offered.source_verification.map(|v| (v.kind, v.id)),
        status: ShareTokenStatus::Created,
        creator: None,
        created_at: now,
        updated_at: now,
        pending_at: None,
        redeemed_at: None,
        expires_at: offered.expires_at,
        failed_at: None,
        failure_reason: None,
        destination_inquiry_id: None,
        destination_verification_id: None,
        redeem_mode: None,
        redeem_params: None,
        disclosure: offered.disclosure,
        copy_digest: None,
        manifest_matched: None,
        receipt: None,
    };
    share_tokens::insert(tx, &t).await?;
    Ok(t)
}
