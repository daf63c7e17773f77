//! Units of work of notices after redemption: the `notify_source_change` job (the op of the same
//! name in `crate::ops::source_notices`). The notices themselves are written by the source's own
//! units (an inquiry, verification or document redaction, a connection's deactivation).

pub use crate::ops::source_notices::*;

/// The notice job `job`: marks the copy of the token named in `p`, emits the event to its
/// destination and applies the destination's policy, with the job's completion (or, while the
/// token's redemption is running, puts the job back to wait for it). The workflow run that
/// changed the source, if one did, is its cause.
pub fn notify(
    job: tessera_core::id::JobId,
    p: tessera_core::job::NotifySourceChange,
) -> crate::Write<Notice> {
    let cause = p.cause.clone();
    crate::Write::new(move |tx| {
        Box::pin(async move { crate::ops::source_notices::notify(tx, &job, &p).await })
    })
    .acting_for(cause)
}
