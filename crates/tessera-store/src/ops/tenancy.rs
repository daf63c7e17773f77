//! Organizations and their environments (the scopes units act in), dashboard users and the
//! operator token. API keys are `ops::api_keys`.

use tessera_core::id::{EnvironmentId, OrganizationId, UserId};
use tessera_core::permission::Permissions;
use tessera_core::tenancy::{ApiKey, EnvKind, Environment, Organization, Scope};
use tessera_core::{Error, Timestamp, codes};

use crate::args;
use crate::ops::api_keys;
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::tx::{Row, Tx};

/// A new organization with one all-permission key per environment (secrets shown once).
#[derive(Debug)]
pub struct CreatedOrganization {
    pub organization: Organization,
    pub keys: Vec<(ApiKey, String)>,
}

/// Longest organization name.
pub const MAX_NAME_LEN: usize = 200;

/// Checks an organization or key name.
pub fn check_name(name: &str, pointer: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            format!("name is 1 to {MAX_NAME_LEN} characters"),
        )
        .at(pointer));
    }
    Ok(name.to_owned())
}

pub(crate) async fn create_organization(
    tx: &mut Tx,
    name: String,
) -> Result<CreatedOrganization, Error> {
    let now = tx.now();
    let id = OrganizationId::generate();
    tx.execute(
        "insert into organizations (id, name, created_at) values ($1, $2, $3)",
        args![&id, &name, now],
    )
    .await?;
    let mut environments = Vec::new();
    let mut keys = Vec::new();
    for kind in EnvKind::ALL {
        let env = EnvironmentId::generate();
        tx.execute(
            "insert into environments (id, organization_id, kind, created_at) values ($1, $2, $3, $4)",
            args![&env, &id, kind.as_str(), now],
        )
        .await?;
        environments.push(Environment {
            id: env.clone(),
            kind,
        });
        let scope = Scope {
            org: id.clone(),
            env,
            kind,
        };
        keys.push(
            api_keys::insert_api_key(tx, &scope, "default".into(), Permissions::all(), None)
                .await?,
        );
    }
    Ok(CreatedOrganization {
        organization: Organization {
            id,
            name,
            created_at: now,
            environments,
        },
        keys,
    })
}

async fn environments_of(tx: &mut Tx, org: &OrganizationId) -> Result<Vec<Environment>, Error> {
    let rows = tx
        .fetch_all(
            "select id, kind from environments where organization_id = $1 order by kind desc",
            args![org],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Environment {
                id: EnvironmentId::from_db(r.text("id")?),
                kind: EnvKind::parse(&r.text("kind")?).unwrap_or(EnvKind::Sandbox),
            })
        })
        .collect()
}

fn organization_from_row(r: &Row) -> Result<Organization, Error> {
    Ok(Organization {
        id: OrganizationId::from_db(r.text("id")?),
        name: r.text("name")?,
        created_at: r.time("created_at")?,
        environments: Vec::new(),
    })
}

/// One of this instance's own organizations, or 404: the stand-in of an organization of a peer
/// instance (federation) is not one — no one signs in, holds a key or is administered as it here.
pub(crate) async fn local_organization(
    tx: &mut Tx,
    id: &OrganizationId,
) -> Result<Organization, Error> {
    let local = tx
        .fetch_optional(
            "select id from organizations where id = $1 and home_instance is null",
            args![id],
        )
        .await?;
    match local {
        Some(_) => get_organization(tx, id).await,
        None => Err(Error::not_found("organization")),
    }
}

/// An organization by id, with its environments.
pub(crate) async fn get_organization(
    tx: &mut Tx,
    id: &OrganizationId,
) -> Result<Organization, Error> {
    let row = tx
        .fetch_optional(
            "select id, name, created_at from organizations where id = $1",
            args![id],
        )
        .await?
        .ok_or_else(|| Error::not_found("organization"))?;
    let mut org = organization_from_row(&row)?;
    org.environments = environments_of(tx, id).await?;
    Ok(org)
}

/// Every organization, newest first.
pub(crate) async fn list_organizations(
    tx: &mut Tx,
    page: &PageRequest,
) -> Result<Page<Organization>, Error> {
    let rows = fetch_page(
        tx,
        "organizations",
        "id, name, created_at",
        Filter::new().and_raw("home_instance is null"),
        page,
    )
    .await?;
    let mut page = rows.try_map(|r| organization_from_row(&r))?;
    for org in &mut page.items {
        org.environments = environments_of(tx, &org.id).await?;
    }
    Ok(page)
}

/// The scope of an organization's environment of the given kind.
pub(crate) async fn scope_of(
    tx: &mut Tx,
    org: &OrganizationId,
    kind: EnvKind,
) -> Result<Scope, Error> {
    let row = tx
        .fetch_optional(
            "select id from environments where organization_id = $1 and kind = $2",
            args![org, kind.as_str()],
        )
        .await?
        .ok_or_else(|| Error::not_found("organization"))?;
    Ok(Scope {
        org: org.clone(),
        env: EnvironmentId::from_db(row.text("id")?),
        kind,
    })
}

/// The scope an environment id belongs to.
pub(crate) async fn scope_of_environment(tx: &mut Tx, env: &EnvironmentId) -> Result<Scope, Error> {
    let row = tx
        .fetch_optional(
            "select organization_id, kind from environments where id = $1",
            args![env],
        )
        .await?
        .ok_or_else(|| Error::not_found("environment"))?;
    Ok(Scope {
        org: OrganizationId::from_db(row.text("organization_id")?),
        env: env.clone(),
        kind: EnvKind::parse(&row.text("kind")?).unwrap_or(EnvKind::Sandbox),
    })
}

/// A dashboard user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub organization_id: OrganizationId,
    pub email: String,
    pub role: String,
    pub created_at: Timestamp,
}

/// The roles a dashboard user may have.
pub const ROLES: &[&str] = &["admin", "member"];

/// Creates a dashboard user; the email must be new (409 otherwise).
pub(crate) async fn create_user(
    tx: &mut Tx,
    org: &OrganizationId,
    email: String,
    password_hash: String,
    role: String,
) -> Result<User, Error> {
    local_organization(tx, org).await?;
    let user = User {
        id: UserId::generate(),
        organization_id: org.clone(),
        email: email.to_lowercase(),
        role,
        created_at: tx.now(),
    };
    let inserted = tx
        .execute(
            "insert into users (id, organization_id, email, password_hash, role, created_at)
             values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
            args![
                &user.id,
                org,
                &user.email,
                password_hash,
                &user.role,
                user.created_at
            ],
        )
        .await?;
    if inserted == 0 {
        return Err(
            Error::conflict("email_taken", "a user with this email already exists").at("email"),
        );
    }
    Ok(user)
}

/// A user and their password hash, by email.
pub(crate) async fn find_user_by_email(
    tx: &mut Tx,
    email: &str,
) -> Result<Option<(User, String)>, Error> {
    let row = tx
        .fetch_optional(
            "select id, organization_id, email, role, created_at, password_hash from users where email = $1",
            args![email.to_lowercase()],
        )
        .await?;
    row.map(|r| {
        Ok((
            User {
                id: UserId::from_db(r.text("id")?),
                organization_id: OrganizationId::from_db(r.text("organization_id")?),
                email: r.text("email")?,
                role: r.text("role")?,
                created_at: r.time("created_at")?,
            },
            r.text("password_hash")?,
        ))
    })
    .transpose()
}

/// The stored hash of the generated operator token, if one was generated.
pub(crate) async fn operator_token_hash(tx: &mut Tx) -> Result<Option<String>, Error> {
    let row = tx
        .fetch_optional(
            "select token_hash from operator_tokens where id = 1",
            args![],
        )
        .await?;
    row.map(|r| r.text("token_hash")).transpose()
}

/// Records the hash of a generated operator token unless one exists; returns the stored hash.
pub(crate) async fn set_operator_token_hash(tx: &mut Tx, hash: String) -> Result<String, Error> {
    let now = tx.now();
    tx.execute(
        "insert into operator_tokens (id, token_hash, created_at) values (1, $1, $2) on conflict do nothing",
        args![hash, now],
    )
    .await?;
    operator_token_hash(tx)
        .await?
        .ok_or_else(|| Error::internal(std::io::Error::other("operator token not stored")))
}

/// Creates an API key in organization `org`'s environment of `kind`; returns it with its secret.
pub(crate) async fn create_api_key_for(
    tx: &mut Tx,
    org: &OrganizationId,
    kind: EnvKind,
    name: String,
    permissions: Permissions,
    expires_at: Option<Timestamp>,
) -> Result<(ApiKey, String), Error> {
    local_organization(tx, org).await?;
    let scope = scope_of(tx, org, kind).await?;
    api_keys::create_api_key(tx, &scope, name, permissions, expires_at).await
}
