//! Verifications recorded on inquiries.

use serde_json::{Map, Value};
use tessera_core::event::names;
use tessera_core::id::{InquiryId, VerificationId};
use tessera_core::inquiry::InquiryStatus;
use tessera_core::tenancy::Scope;
use tessera_core::verification::{Check, Verification, VerificationKind, VerificationStatus};
use tessera_core::{Error, Timestamp};

use crate::args;
use crate::ops::{fanout, inquiries};
use crate::tx::{Row, Tx, json};

const COLUMNS: &str = "id, inquiry_id, kind, status, checks, attributes, completed_at, created_at";

fn from_row(r: &Row) -> Result<Verification, Error> {
    Ok(Verification {
        id: VerificationId::from_db(r.text("id")?),
        inquiry_id: InquiryId::from_db(r.text("inquiry_id")?),
        kind: VerificationKind::parse(&r.text("kind")?)
            .ok_or_else(|| Error::internal(std::io::Error::other("unknown verification kind")))?,
        status: VerificationStatus::parse(&r.text("status")?)
            .ok_or_else(|| Error::internal(std::io::Error::other("unknown verification status")))?,
        checks: r.json("checks")?,
        attributes: r.json("attributes")?,
        completed_at: r.time("completed_at")?,
        created_at: r.time("created_at")?,
    })
}

/// A verification to record.
#[derive(Debug, Clone)]
pub struct NewVerification {
    pub inquiry_id: InquiryId,
    pub kind: VerificationKind,
    pub status: VerificationStatus,
    pub checks: Vec<Check>,
    pub attributes: Map<String, Value>,
    /// When the check was done; defaults to now.
    pub completed_at: Option<Timestamp>,
}

/// Inserts a verification row as given, without events (redemption copies use this).
pub(crate) async fn insert(tx: &mut Tx, scope: &Scope, v: &Verification) -> Result<(), Error> {
    tx.execute(
        &format!("insert into verifications ({COLUMNS}, environment_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
        args![
            &v.id,
            &v.inquiry_id,
            v.kind.as_str(),
            v.status.as_str(),
            json(&v.checks),
            json(&v.attributes),
            v.completed_at,
            v.created_at,
            &scope.env
        ],
    )
    .await?;
    Ok(())
}

/// Records a verification on an open inquiry. The first one moves the inquiry from `created` to
/// `pending` (`inquiry.started`).
pub(crate) async fn record(
    tx: &mut Tx,
    scope: &Scope,
    new: NewVerification,
) -> Result<Verification, Error> {
    let mut inquiry = inquiries::get_referenced(tx, scope, &new.inquiry_id, "inquiry-id").await?;
    inquiry.ensure_open()?;
    let now = tx.now();
    let v = Verification {
        id: VerificationId::generate(),
        inquiry_id: new.inquiry_id,
        kind: new.kind,
        status: new.status,
        checks: new.checks,
        attributes: new.attributes,
        completed_at: new.completed_at.unwrap_or(now),
        created_at: now,
    };
    insert(tx, scope, &v).await?;
    inquiry.verifications.push((v.kind, v.id.clone()));
    inquiry.updated_at = now;
    let started = inquiry.status == InquiryStatus::Created;
    if started {
        inquiries::set_status(&mut inquiry, InquiryStatus::Pending, now);
    }
    inquiries::save(tx, scope, &inquiry).await?;
    if started {
        inquiries::emit_status(tx, scope, names::INQUIRY_STARTED, &inquiry).await?;
    }
    let name = match v.status {
        VerificationStatus::Passed => names::VERIFICATION_PASSED,
        VerificationStatus::Failed => names::VERIFICATION_FAILED,
    };
    fanout::emit(tx, &scope.env, name, v.to_resource().to_value()).await?;
    Ok(v)
}

/// A verification of the scope, or 404.
pub(crate) async fn get(
    tx: &mut Tx,
    scope: &Scope,
    id: &VerificationId,
) -> Result<Verification, Error> {
    let row = tx
        .fetch_optional(
            &format!("select {COLUMNS} from verifications where id = $1 and environment_id = $2"),
            args![id, &scope.env],
        )
        .await?
        .ok_or_else(|| Error::not_found("verification"))?;
    from_row(&row)
}

/// The verifications of an inquiry, oldest first.
pub(crate) async fn for_inquiry(
    tx: &mut Tx,
    scope: &Scope,
    inquiry: &InquiryId,
) -> Result<Vec<Verification>, Error> {
    let rows = tx
        .fetch_all(
            &format!("select {COLUMNS} from verifications where inquiry_id = $1 and environment_id = $2 order by seq"),
            args![inquiry, &scope.env],
        )
        .await?;
    rows.iter().map(from_row).collect()
}
