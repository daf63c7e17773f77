//! API keys: each belongs to one environment (its scope), made with its secret shown once,
//! found by that secret, listed and expired. An environment holds a bounded number of live ones.

use tessera_core::id::{ApiKeyId, EnvironmentId, OrganizationId};
use tessera_core::permission::Permissions;
use tessera_core::secret::{generate_api_key, hash_secret, key_hint};
use tessera_core::tenancy::{ApiKey, EnvKind, Scope};
use tessera_core::{Error, Timestamp, codes};

use crate::args;
use crate::ops::lock_environment;
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::tx::{Row, Tx, json};

/// Most API keys of an environment that have not expired (each has its own rate limit, so this
/// also bounds what one organization may send).
pub const MAX_API_KEYS_PER_ENVIRONMENT: i64 = 100;

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

/// Inserts a key in a scope, whatever the limit (a new organization's first keys).
pub(crate) async fn insert_api_key(
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
