//! Dashboard sessions: who is signed in, to which organization, looking at which environment.
//!
//! The cookie carries a random secret; only its SHA-256 is stored. A session is found by that
//! hash and only while it is neither idle too long nor past its absolute end.

use tessera_core::id::{OrganizationId, SessionId, UserId};
use tessera_core::tenancy::{EnvKind, Scope};
use tessera_core::{Error, Timestamp};

use crate::args;
use crate::ops::tenancy::User;
use crate::tx::{Row, Tx};

/// A live session with its user and the scope the dashboard shows.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: SessionId,
    pub user: User,
    pub organization_name: String,
    /// The organization and the environment the user picked.
    pub scope: Scope,
    /// The token every form of this session must send back.
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
}

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// A session unused this long ends.
    pub idle_ms: i64,
    /// A session ends this long after sign-in, however busy.
    pub absolute_ms: i64,
}

/// Starts a session for a user who just proved their password.
pub(crate) async fn create(
    tx: &mut Tx,
    user: &User,
    secret_hash: String,
    csrf_token: String,
    lifetimes: Lifetimes,
) -> Result<SessionId, Error> {
    let now = tx.now();
    let id = SessionId::generate();
    tx.execute(
        "insert into dashboard_sessions (id, secret_hash, user_id, organization_id, environment, csrf_token, created_at, last_seen_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
        args![
            &id,
            secret_hash,
            &user.id,
            &user.organization_id,
            EnvKind::Sandbox.as_str(),
            csrf_token,
            now,
            now.plus_millis(lifetimes.absolute_ms)
        ],
    )
    .await?;
    Ok(id)
}

fn from_row(r: &Row) -> Result<Session, Error> {
    let kind = EnvKind::parse(&r.text("environment")?).unwrap_or(EnvKind::Sandbox);
    let org = OrganizationId::from_db(r.text("organization_id")?);
    Ok(Session {
        id: SessionId::from_db(r.text("id")?),
        user: User {
            id: UserId::from_db(r.text("user_id")?),
            organization_id: org.clone(),
            email: r.text("email")?,
            role: r.text("role")?,
            created_at: r.time("user_created_at")?,
        },
        organization_name: r.text("organization_name")?,
        scope: Scope {
            org,
            env: tessera_core::id::EnvironmentId::from_db(r.text("environment_id")?),
            kind,
        },
        csrf_token: r.text("csrf_token")?,
        created_at: r.time("created_at")?,
        last_seen_at: r.time("last_seen_at")?,
        expires_at: r.time("expires_at")?,
    })
}

/// The live session a cookie secret's hash names, if any.
pub(crate) async fn find(
    tx: &mut Tx,
    secret_hash: &str,
    lifetimes: Lifetimes,
) -> Result<Option<Session>, Error> {
    let now = tx.now();
    let row = tx
        .fetch_optional(
            "select s.id, s.user_id, s.organization_id, s.environment, s.csrf_token, s.created_at,
                    s.last_seen_at, s.expires_at, u.email, u.role, u.created_at as user_created_at,
                    o.name as organization_name, e.id as environment_id
             from dashboard_sessions s
             join users u on u.id = s.user_id
             join organizations o on o.id = s.organization_id
             join environments e on e.organization_id = s.organization_id and e.kind = s.environment
             where s.secret_hash = $1 and s.expires_at > $2 and s.last_seen_at > $3",
            args![secret_hash, now, now.plus_millis(-lifetimes.idle_ms)],
        )
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Records that the session was used now (keeps it from going idle).
pub(crate) async fn touch(tx: &mut Tx, id: &SessionId) -> Result<(), Error> {
    let now = tx.now();
    tx.execute(
        "update dashboard_sessions set last_seen_at = $1 where id = $2 and last_seen_at < $1",
        args![now, id],
    )
    .await?;
    Ok(())
}

/// Switches the environment the session shows.
pub(crate) async fn set_environment(
    tx: &mut Tx,
    id: &SessionId,
    kind: EnvKind,
) -> Result<(), Error> {
    tx.execute(
        "update dashboard_sessions set environment = $1 where id = $2",
        args![kind.as_str(), id],
    )
    .await?;
    Ok(())
}

/// Ends a session (sign-out). Ending one that is gone changes nothing.
pub(crate) async fn delete(tx: &mut Tx, id: &SessionId) -> Result<(), Error> {
    tx.execute("delete from dashboard_sessions where id = $1", args![id])
        .await?;
    Ok(())
}

/// Deletes sessions that have ended; returns how many.
pub(crate) async fn purge(tx: &mut Tx, lifetimes: Lifetimes) -> Result<u64, Error> {
    let now = tx.now();
    tx.execute(
        "delete from dashboard_sessions where expires_at <= $1 or last_seen_at <= $2",
        args![now, now.plus_millis(-lifetimes.idle_ms)],
    )
    .await
}
