//! Organizations, environments, API keys, dashboard users and the operator token.

use tessera_core::id::{ApiKeyId, EnvironmentId, OrganizationId, UserId};
use tessera_core::permission::Permissions;
use tessera_core::secret::{generate_api_key, hash_secret, key_hint};
use tessera_core::tenancy::{ApiKey, EnvKind, Environment, Organization, Scope};
use tessera_core::{Error, Timestamp, codes};

use crate::args;
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::tx::{Row, Tx, json};

/// A new organization with one all-permission key per environment (secrets shown once).
#[derive(Debug)]
pub struct CreatedOrganization {
    pub organization: Organization,
    pub keys: Vec<(ApiKey, String)>,
}

/// Longest organization name.
pub const MAX_NAME_LEN: usize = 200;

/// Most API keys of an environment that have not expired (each has its own rate limit, so this
/// also bounds what one organization may send).
pub const MAX_API_KEYS_PER_ENVIRONMENT: i64 = 100;

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
        keys.push(insert_api_key(tx, &scope, "default".into(), Permissions::all(), None).await?);
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
        Filter::new(),
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

const KEY_COLUMNS: &str = "k.id, k.organization_id, k.environment_id, e.kind, k.name, k.hint, k.permissions, k.created_at, k.expires_at";

fn api_key_from_row(r: &Row) -> Result<ApiKey, Error> {
    let names: Vec<String> = r.json("permissions")?;
    Ok(ApiKey {
        id: ApiKeyId::from_db(r.text("id")?),
        scope: Scope {
            org: OrganizationId::from_db(r.text("organization_id")?),
            env: EnvironmentId::from_db(r.text("environment_id")?),
            kind: EnvKind::parse(&r.text("kind")?).unwrap_or(EnvKind::Sandbox),
        },
        name: r.text("name")?,
        hint: r.text("hint")?,
        permissions: Permissions::parse_names(&names).unwrap_or(Permissions::none()),
        created_at: r.time("created_at")?,
        expires_at: r.opt_time("expires_at")?,
    })
}

async fn insert_api_key(
    tx: &mut Tx,
    scope: &Scope,
    name: String,
    permissions: Permissions,
    expires_at: Option<Timestamp>,
) -> Result<(ApiKey, String), Error> {
    let secret = generate_api_key(scope.kind);
    let key = ApiKey {
        id: ApiKeyId::generate(),
        scope: scope.clone(),
        name,
        hint: key_hint(&secret),
        permissions,
        created_at: tx.now(),
        expires_at,
    };
    tx.execute(
        "insert into api_keys (id, organization_id, environment_id, name, secret_hash, hint, permissions, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        args![
            &key.id,
            &scope.org,
            &scope.env,
            &key.name,
            hash_secret(&secret),
            &key.hint,
            json(&permissions.names()),
            key.created_at,
            key.expires_at
        ],
    )
    .await?;
    Ok((key, secret))
}

/// Creates an API key in a scope; the secret is returned once.
pub(crate) async fn create_api_key(
    tx: &mut Tx,
    scope: &Scope,
    name: String,
    permissions: Permissions,
    expires_at: Option<Timestamp>,
) -> Result<(ApiKey, String), Error> {
    lock_environment(tx, scope).await?;
    let now = tx.now();
    let row = tx
        .fetch_one(
            "select count(*) as n from api_keys
             where environment_id = $1 and (expires_at is null or expires_at > $2)",
            args![&scope.env, now],
        )
        .await?;
    if row.i64("n")? >= MAX_API_KEYS_PER_ENVIRONMENT {
        return Err(Error::invalid(
            codes::API_KEY_LIMIT,
            format!(
                "an environment has at most {MAX_API_KEYS_PER_ENVIRONMENT} API keys that have not expired; expire one first"
            ),
        ));
    }
    insert_api_key(tx, scope, name, permissions, expires_at).await
}

/// The key a secret belongs to, whatever its expiry.
pub(crate) async fn find_api_key_by_secret(
    tx: &mut Tx,
    secret: &str,
) -> Result<Option<ApiKey>, Error> {
    let row = tx
        .fetch_optional(
            &format!("select {KEY_COLUMNS} from api_keys k join environments e on e.id = k.environment_id where k.secret_hash = $1"),
            args![hash_secret(secret)],
        )
        .await?;
    row.as_ref().map(api_key_from_row).transpose()
}

/// An API key of the scope.
pub(crate) async fn get_api_key(
    tx: &mut Tx,
    scope: &Scope,
    id: &ApiKeyId,
) -> Result<ApiKey, Error> {
    let row = tx
        .fetch_optional(
            &format!("select {KEY_COLUMNS} from api_keys k join environments e on e.id = k.environment_id where k.id = $1 and k.environment_id = $2"),
            args![id, &scope.env],
        )
        .await?
        .ok_or_else(|| Error::not_found("api key"))?;
    api_key_from_row(&row)
}

/// The keys of a scope, newest first.
pub(crate) async fn list_api_keys(
    tx: &mut Tx,
    scope: &Scope,
    page: &PageRequest,
) -> Result<Page<ApiKey>, Error> {
    // A derived table, so the page's cursor lookup (`id = …`) names one column.
    let rows = fetch_page(
        tx,
        &format!(
            "(select k.seq, {KEY_COLUMNS} from api_keys k join environments e on e.id = k.environment_id) keys"
        ),
        "id, organization_id, environment_id, kind, name, hint, permissions, created_at, expires_at",
        Filter::new().and("environment_id = ?", &scope.env),
        page,
    )
    .await?;
    rows.try_map(|r| api_key_from_row(&r))
}

/// Expires a key now (it stops working at once). Expiring an expired key changes nothing.
pub(crate) async fn expire_api_key(
    tx: &mut Tx,
    scope: &Scope,
    id: &ApiKeyId,
) -> Result<ApiKey, Error> {
    let now = tx.now();
    tx.execute(
        "update api_keys set expires_at = $1 where id = $2 and environment_id = $3 and (expires_at is null or expires_at > $1)",
        args![now, id, &scope.env],
    )
    .await?;
    get_api_key(tx, scope, id).await
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
    get_organization(tx, org).await?;
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
    let scope = scope_of(tx, org, kind).await?;
    create_api_key(tx, &scope, name, permissions, expires_at).await
}
