//! Connect › Share tokens: the list (both directions, filtered, paged), creating a token on an
//! active outbound connection, redeeming an inbound token, expiring, and a token's page with its
//! timeline and links.
//!
//! One idea a file: this one holds the token row and what both pages read; `list` (the list
//! page with its create and redeem forms), `token` (a token's page: its timeline and the masked
//! preview of its source), `manifest` (what a token discloses, its manifest's dry run) and
//! `actions` (create, redeem, expire).

mod actions;
mod list;
mod manifest;
mod token;

pub use actions::{create, expire, receipt, redeem, redeem_by_id};
pub use list::{LIFETIMES, list};
pub use token::{Preview, Step, show};

use tessera_core::id::OrganizationId;
use tessera_core::share_token::ShareToken;
use tessera_core::{Error, Timestamp};
use tessera_store::units::sessions::Session;
use tessera_store::units::templates;
use tessera_store::{PageRequest, Store};

use crate::view::{Badge, Choice, When, badge, when};

const SECTION: &str = "share-tokens";
const BASE: &str = "/dashboard/share-tokens";

pub struct TokenRow {
    pub id: String,
    pub status: Badge,
    pub direction: Badge,
    pub partner: String,
    pub source_id: String,
    pub created: When,
    pub expires: When,
    /// An inbound token that can still be redeemed (a batch redeem may select it).
    pub redeemable: bool,
}

/// A token as a list row; the connection page shows its tokens the same way.
pub(crate) fn row(t: &ShareToken, session: &Session, partner: String, now: Timestamp) -> TokenRow {
    TokenRow {
        id: t.id.to_string(),
        status: badge(t.status_at(now).as_str()),
        direction: badge(t.direction_for(&session.scope).as_str()),
        partner,
        // Like the API's `source-id`: the source organization's id, shown to the source only.
        source_id: if t.is_source(&session.scope) {
            t.source_id().to_owned()
        } else {
            String::new()
        },
        created: when(t.created_at, now),
        expires: when(t.expires_at, now),
        redeemable: t.is_destination(&session.scope)
            && t.status_at(now) == tessera_core::share_token::ShareTokenStatus::Created,
    }
}

/// The organization on the other side of a token.
fn partner_of(t: &ShareToken, session: &Session) -> OrganizationId {
    if t.is_source(&session.scope) {
        t.destination_org.clone()
    } else {
        t.source_org.clone()
    }
}

/// The templates of the scope, for the redeem forms.
async fn template_choices(
    store: &Store,
    session: &Session,
    current: &str,
) -> Result<Vec<Choice>, Error> {
    let list = store
        .read(templates::list(
            session.scope.clone(),
            PageRequest {
                size: 100,
                cursor: None,
            },
        ))
        .await?;
    let mut out = vec![Choice {
        value: String::new(),
        label: String::from("No template (the copy's own requirements)"),
        selected: current.is_empty(),
    }];
    out.extend(list.items.into_iter().map(|t| Choice {
        selected: t.id.as_str() == current,
        value: t.id.to_string(),
        label: format!("{} ({})", t.name, t.id),
    }));
    Ok(out)
}

/// The messages shown after an action (`?done=…`); only these, never text from the URL.
fn notice_for(done: &str) -> Option<String> {
    Some(String::from(match done {
        "created" => "Share token created. Send its id to your partner: only they can redeem it.",
        "redeeming" => {
            "Redemption started: the copy is being made and verified. This page updates when it is done."
        }
        "expired" => "The share token has expired; it can no longer be redeemed.",
        _ => return None,
    }))
}
