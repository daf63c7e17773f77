//! Units of work on redemption: each runs the op of the same name in `crate::ops::redemption` as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::redemption::*;

use crate::ops::redemption as op;
use tessera_core::id::ShareTokenId;

crate::work::units! { op;
    Write run(token_id: ShareTokenId) -> Outcome = run(&token_id);
    Write give_up(token_id: ShareTokenId) -> () = give_up(&token_id);
}

/// The redemption job `job`: the copy, the verification and the token's final status in one
/// unit with the job's completion. The workflow run that started the redemption, if one did, is
/// its cause: the copy's events count as that run's (depth, chain, not its own workflow).
pub fn redeem(
    job: tessera_core::id::JobId,
    p: tessera_core::job::RedeemShareToken,
) -> crate::Write<Outcome> {
    let token = p.share_token_id;
    crate::Write::new(move |tx| Box::pin(async move { op::redeem(tx, &job, &token).await }))
        .acting_for(p.cause)
}
