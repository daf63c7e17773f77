//! Tessera's pure domain: identifiers, statuses and their transitions, field types, checks,
//! event names, errors and the clock. No I/O lives here.

pub mod api_version;
pub mod checks;
pub mod connection;
pub mod document;
pub mod error;
pub mod event;
pub mod federation;
pub mod fields;
pub mod id;
pub mod inflect;
pub mod inquiry;
pub mod job;
pub mod jsonapi;
pub mod keys;
pub mod mask;
pub mod permission;
pub mod persona_events;
pub mod receipt;
pub mod retry;
pub mod secret;
pub mod share_token;
pub mod signing;
pub mod source_status;
pub mod template;
pub mod tenancy;
pub mod time;
pub mod verification;
pub mod webhook;
pub mod workflow;

pub use error::{Error, Result, Status, codes};
pub use time::{Clock, ManualClock, SharedClock, SystemClock, Timestamp};
