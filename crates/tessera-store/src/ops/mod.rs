//! The statements of units of work, one module per idea. Each function takes the
//! [`Tx`](crate::tx::Tx) of the unit it runs in and the caller's tenancy scope; an id alone never
//! finds an object. `crate::units` (the API) calls them; they never call `units`.
//!
//! The modules form a DAG: each uses only modules on lower layers (or its own), never one above
//! it. From the bottom up:
//!
//! 0. this file (`lock`) and `scoped` (the scoped fetch); `tenancy`, `idempotency` and `jobs`
//!    (the queue), which use no other op;
//! 1. `events` (records an event, nothing else), `templates`, `sessions`, `workflows` (stored
//!    definitions, read), `workflow_runs` (a run made, read, locked; no event);
//! 2. `webhooks` (settings, and the deliveries an event makes), `workflow_triggers` (which runs
//!    an event starts, within the rules that bound chains);
//! 3. `fanout`: emitting an event — `events::record`, then its deliveries and its runs, each
//!    run's `workflow-run.created` event emitted as the run and fanned out in turn. Every op
//!    above that reports a change emits through `fanout::emit`; nothing below it emits;
//! 4. `connections`, `inquiries`;
//! 5. `documents`, `verifications` (on an inquiry), `workflow_definitions` (saving a definition,
//!    checked against connections and templates);
//! 6. `share_tokens`, `related` and `source_data` (what is shown beside an object);
//! 7. `redemption` (the copy), `manual_runs`, `workflow_steps` (the effects of steps);
//! 8. `workflow_advance` (a run's units: a step's effect and its record, `http-request` steps);
//! 9. `job_failures` (a job out of attempts, given up per its kind).

pub mod connections;
pub mod documents;
pub mod events;
pub mod fanout;
pub mod idempotency;
pub mod inquiries;
pub mod job_failures;
pub mod jobs;
pub mod manual_runs;
pub mod redemption;
pub mod related;
mod scoped;
pub mod sessions;
pub mod share_tokens;
pub mod source_data;
pub mod templates;
pub mod tenancy;
pub mod verifications;
pub mod webhooks;
pub mod workflow_advance;
pub mod workflow_definitions;
pub mod workflow_runs;
mod workflow_steps;
pub mod workflow_triggers;
pub mod workflows;

use crate::tx::Tx;

/// `for update` on PostgreSQL write transactions (the SQLite writer is already serial).
pub(crate) fn lock(tx: &Tx) -> &'static str {
    match tx.dialect() {
        crate::Dialect::Postgres => " for update",
        crate::Dialect::Sqlite => "",
    }
}
