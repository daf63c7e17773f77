//! Units of work on tenancy: each runs the op of the same name in `crate::ops::tenancy`
//! (organizations, scopes, users, the operator token) or `crate::ops::api_keys` as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::api_keys::*;
pub use crate::ops::tenancy::*;

use crate::ops::api_keys as keys;
use crate::ops::tenancy as op;
use crate::paging::{Page, PageRequest};
use tessera_core::Timestamp;
use tessera_core::id::{ApiKeyId, OrganizationId};
use tessera_core::permission::Permissions;
use tessera_core::tenancy::{ApiKey, EnvKind, Organization, Scope};

crate::work::units! { op;
    Write create_organization(name: String) -> CreatedOrganization = create_organization(name);
    Read get_organization(id: OrganizationId) -> Organization = get_organization(&id);
    /// One of this instance's own organizations (404 for the stand-in of a peer's organization).
    Read get_local_organization(id: OrganizationId) -> Organization = local_organization(&id);
    Read list_organizations(page: PageRequest) -> Page<Organization> = list_organizations(&page);
    Read scope_of(org: OrganizationId, kind: EnvKind) -> Scope = scope_of(&org, kind);
    Write create_user(org: OrganizationId, email: String, password_hash: String, role: String) -> User = create_user(&org, email, password_hash, role);
    Read find_user_by_email(email: String) -> Option<(User, String)> = find_user_by_email(&email);
    Read operator_token_hash() -> Option<String> = operator_token_hash();
    Write set_operator_token_hash(hash: String) -> String = set_operator_token_hash(hash);
}

crate::work::units! { keys;
    Write create_api_key(scope: Scope, name: String, permissions: Permissions, expires_at: Option<Timestamp>) -> (ApiKey, String) = create_api_key(&scope, name, permissions, expires_at);
    Read find_api_key_by_secret(secret: String) -> Option<ApiKey> = find_api_key_by_secret(&secret);
    Read list_api_keys(scope: Scope, page: PageRequest) -> Page<ApiKey> = list_api_keys(&scope, &page);
    Write expire_api_key(scope: Scope, id: ApiKeyId) -> ApiKey = expire_api_key(&scope, &id);
}

/// Creates an API key in organization `org`'s environment of `kind` (the operator API and the
/// CLI); returns it with its secret, shown once.
pub fn create_api_key_for(
    org: OrganizationId,
    kind: EnvKind,
    name: String,
    permissions: Permissions,
    expires_at: Option<Timestamp>,
) -> crate::Write<(ApiKey, String)> {
    crate::Write::new(move |tx| {
        Box::pin(async move {
            op::create_api_key_for(tx, &org, kind, name, permissions, expires_at).await
        })
    })
}
