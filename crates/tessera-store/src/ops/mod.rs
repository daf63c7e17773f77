//! The statements of units of work, one module per idea. Each function takes the
//! [`Tx`](crate::tx::Tx) of the unit it runs in and the caller's tenancy scope; an id alone never
//! finds an object. `crate::units` (the API) calls them; they never call `units`.
//!
//! The modules form a DAG: each uses only modules on lower layers, never one on its own layer or
//! above. From the bottom up:
//!
//! 0. this file (`lock`, `lock_environment`); `scoped` (the scoped fetch), `jobs` (the queue),
//!    `idempotency` and `api_keys`, which use nothing of `ops` but this file; `sealed` (the
//!    columns holding secrets sealed at rest, and the sweeps over them);
//! 1. `events` (records an event, nothing else), `templates`, `tenancy` (organizations, scopes,
//!    users), `webhooks` (settings), `workflows` (stored definitions, read), `signing_keys` (the
//!    instance's id and signing keys);
//! 2. `sessions`, `webhook_deliveries` (the deliveries an event makes, attempts),
//!    `workflow_runs` (a run made with its job, read, locked: no event);
//! 3. `workflow_triggers`: which runs an event starts, within the rules that bound chains;
//! 4. `fanout`: emitting an event — `events::record`, then its deliveries, then its runs, each
//!    run's `workflow-run.created` event emitted as the run and fanned out in turn. Every op
//!    above that reports a change emits through `fanout::emit`; nothing below it emits;
//! 5. `connections`, `inquiries` (stored inquiries, their events);
//! 6. `inquiry_changes`, `inquiry_redaction`, `verifications`, `documents`,
//!    `workflow_definitions` (saving a definition, checked against connections and templates);
//! 7. `share_tokens`, `related` and `source_data` (what is shown beside an object);
//! 8. `share_token_redemption` (the redeem compare-and-set, `redeemed`/`failed`), `manual_runs`,
//!    `manifest` (the copy a redemption would make, planned and dry-run), `receipts` (the signed
//!    receipt of a copy);
//! 9. `redemption` (the copy, as `manifest` plans it), `workflow_steps` (the effects of steps),
//!    `share_token_batches` (a batch and its items, each item processed by the single-token ops);
//! 10. `workflow_advance` (a run's units: a step's effect and its record, `http-request` steps);
//! 11. `job_failures` (a job out of attempts, given up per its kind).
//!
//! Notices after redemption: `source_changes` (layer 1, on `jobs`: the notices a source's change
//! writes, called by `connections` and `inquiry_redaction`) and `source_notices` (layer 10, the
//! notice job's unit: finishes a pending redemption, marks the copy, emits, applies the
//! destination's policy).
//!
//! Peers and federation: `peers` (layer 0: registered peer instances, their pins and accepted
//! JWKS); `peer_messages` (layer 2: which organizations live on a peer — stand-ins — and the
//! outbox of messages to peers, used by `connections`, `share_tokens`, `share_token_redemption`
//! and `source_notices` to tell the other instance); `peer_tokens` (layer 8: the tokens a peer's
//! organization offered, recorded here); `federated_redemption` (layer 10: a redemption served
//! for a peer's destination, and a peer's answer landed); `federation` (layer 11: a received
//! message checked against the nonces and the inbox and acted on, an answer to a sent message,
//! the federation events).
//!
//! `units` sits above them all; `tx`, `sql` and `paging` below.

pub mod api_keys;
pub mod connections;
pub mod documents;
pub mod events;
pub mod fanout;
pub mod federated_redemption;
pub mod federation;
pub mod idempotency;
pub mod inquiries;
pub mod inquiry_changes;
pub mod inquiry_redaction;
pub mod job_failures;
pub mod jobs;
pub mod manifest;
pub mod manual_runs;
pub mod peer_messages;
pub mod peer_tokens;
pub mod peers;
pub mod receipts;
pub mod redemption;
pub mod related;
mod scoped;
pub mod sealed;
pub mod sessions;
pub mod share_token_batches;
pub mod share_token_redemption;
pub mod share_tokens;
pub mod signing_keys;
pub mod source_changes;
pub mod source_data;
pub mod source_notices;
pub mod templates;
pub mod tenancy;
pub mod verifications;
pub mod webhook_deliveries;
pub mod webhooks;
pub mod workflow_advance;
pub mod workflow_definitions;
pub mod workflow_runs;
mod workflow_steps;
pub mod workflow_triggers;
pub mod workflows;

use tessera_core::Error;
use tessera_core::tenancy::Scope;

use crate::args;
use crate::tx::Tx;

/// `for update` on PostgreSQL write transactions (the SQLite writer is already serial).
pub(crate) fn lock(tx: &Tx) -> &'static str {
    match tx.dialect() {
        crate::Dialect::Postgres => " for update",
        crate::Dialect::Sqlite => "",
    }
}

/// Locks an environment's row until the unit of work ends, so that units counting the objects of
/// the environment against a limit (webhooks, workflows, API keys) run one after another:
/// without it, concurrent units on PostgreSQL would each count the same total and all insert.
/// (SQLite runs one writing unit at a time already.)
pub(crate) async fn lock_environment(tx: &mut Tx, scope: &Scope) -> Result<(), Error> {
    if tx.dialect() == crate::Dialect::Postgres {
        tx.fetch_optional(
            "select id from environments where id = $1 for update",
            args![&scope.env],
        )
        .await?;
    }
    Ok(())
}
