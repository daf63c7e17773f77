//! The store contract for tenancy (organizations, scopes, API keys, dashboard users, the operator
//! token) and dashboard sessions. Each scenario runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{all, read, read_refused, refused, rows, write};
use tessera_core::codes;
use tessera_core::permission::{Permission, Permissions};
use tessera_core::tenancy::EnvKind;
use tessera_store::on_both_backends;
use tessera_store::testing::{Backend, TestDb};
use tessera_store::units::{sessions, tenancy};

async fn an_organization_is_made_with_its_environments_and_keys(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let created = write(store, tenancy::create_organization("Acme".into())).await;
    let org = &created.organization;
    assert_eq!(org.name, "Acme");
    let mut kinds: Vec<EnvKind> = org.environments.iter().map(|e| e.kind).collect();
    kinds.sort_by_key(|k| k.as_str());
    assert_eq!(kinds, vec![EnvKind::Production, EnvKind::Sandbox]);
    // One all-permission key per environment, whose secret finds it.
    assert_eq!(created.keys.len(), 2);
    for (key, secret) in &created.keys {
        assert_eq!(key.permissions, Permissions::all());
        assert_eq!(key.scope.org, org.id);
        let found = read(store, tenancy::find_api_key_by_secret(secret.clone()))
            .await
            .expect("the key's secret finds it");
        assert_eq!(found.id, key.id);
        assert_eq!(found.scope, key.scope);
    }
    // Read back: the organization with both environments, and the scopes they make.
    let got = read(store, tenancy::get_organization(org.id.clone())).await;
    assert_eq!(got.name, "Acme");
    assert_eq!(got.environments.len(), 2);
    for kind in [EnvKind::Sandbox, EnvKind::Production] {
        let scope = read(store, tenancy::scope_of(org.id.clone(), kind)).await;
        assert_eq!(Some(scope), org.scope(kind));
    }
    // Listed newest first, each with its environments.
    let other = write(store, tenancy::create_organization("Beta".into())).await;
    let list = read(store, tenancy::list_organizations(all())).await.items;
    let ids: Vec<_> = list.iter().map(|o| o.id.clone()).collect();
    assert_eq!(ids, vec![other.organization.id.clone(), org.id.clone()]);
    assert!(list.iter().all(|o| o.environments.len() == 2));
    // An organization that does not exist is not found.
    let missing = tessera_core::id::OrganizationId::generate();
    let e = read_refused(store, tenancy::get_organization(missing.clone())).await;
    assert!(e.is(codes::NOT_FOUND));
    let e = read_refused(store, tenancy::scope_of(missing, EnvKind::Sandbox)).await;
    assert!(e.is(codes::NOT_FOUND));
}

async fn api_keys_are_made_listed_found_and_expired(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let created = write(store, tenancy::create_organization("Acme".into())).await;
    let org = created.organization.id.clone();
    let sandbox = created.organization.scope(EnvKind::Sandbox).unwrap();
    let read_only: Permissions = [Permission::InquiryRead].into_iter().collect();
    let later = common::now(store).plus_seconds(3600);
    let (key, secret) = write(
        store,
        tenancy::create_api_key(sandbox.clone(), "ci".into(), read_only, Some(later)),
    )
    .await;
    assert_eq!(key.name, "ci");
    assert_eq!(key.permissions, read_only);
    assert_eq!(key.expires_at, Some(later));
    assert_eq!(key.scope, sandbox);
    let found = read(store, tenancy::find_api_key_by_secret(secret.clone()))
        .await
        .expect("found by its secret");
    assert_eq!(found.id, key.id);
    assert_eq!(found.permissions, read_only);
    assert!(
        read(store, tenancy::find_api_key_by_secret("tsk_nope".into()))
            .await
            .is_none()
    );
    // `create_api_key_for` makes one in the organization's environment of a kind.
    let (prod_key, _) = write(
        store,
        tenancy::create_api_key_for(
            org.clone(),
            EnvKind::Production,
            "ops".into(),
            Permissions::all(),
            None,
        ),
    )
    .await;
    assert_eq!(prod_key.scope.kind, EnvKind::Production);
    assert_eq!(prod_key.scope.org, org);
    // The sandbox lists its own keys, newest first: not the production one.
    let listed: Vec<_> = read(store, tenancy::list_api_keys(sandbox.clone(), all()))
        .await
        .items
        .into_iter()
        .map(|k| k.id)
        .collect();
    let default_key = created
        .keys
        .iter()
        .find(|(k, _)| k.scope == sandbox)
        .map(|(k, _)| k.id.clone())
        .unwrap();
    assert_eq!(listed, vec![key.id.clone(), default_key]);
    // Expiring stops the key now; expiring again changes nothing.
    let expired = write(
        store,
        tenancy::expire_api_key(sandbox.clone(), key.id.clone()),
    )
    .await;
    let at = common::now(store);
    assert_eq!(expired.expires_at, Some(at));
    db.clock.advance_seconds(10);
    let again = write(
        store,
        tenancy::expire_api_key(sandbox.clone(), key.id.clone()),
    )
    .await;
    assert_eq!(again.expires_at, Some(at));
    // Another environment's key is not found from this one.
    let (other_sandbox, _) = common::org(store, "Other").await;
    let e = refused(
        store,
        tenancy::expire_api_key(other_sandbox, key.id.clone()),
    )
    .await;
    assert!(e.is(codes::NOT_FOUND));
}

async fn an_environment_holds_a_bounded_number_of_live_keys(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (sandbox, _) = common::org(store, "Acme").await;
    // One key exists already (the default one).
    for i in 1..tenancy::MAX_API_KEYS_PER_ENVIRONMENT {
        write(
            store,
            tenancy::create_api_key(sandbox.clone(), format!("k{i}"), Permissions::all(), None),
        )
        .await;
    }
    let before = rows(store, "api_keys").await;
    let e = refused(
        store,
        tenancy::create_api_key(
            sandbox.clone(),
            "one too many".into(),
            Permissions::all(),
            None,
        ),
    )
    .await;
    assert!(e.is(codes::API_KEY_LIMIT));
    assert_eq!(
        rows(store, "api_keys").await,
        before,
        "a refusal adds no key"
    );
    // An expired key does not count.
    let some = read(store, tenancy::list_api_keys(sandbox.clone(), all()))
        .await
        .items[0]
        .id
        .clone();
    write(store, tenancy::expire_api_key(sandbox.clone(), some)).await;
    db.clock.advance_seconds(1);
    write(
        store,
        tenancy::create_api_key(sandbox, "replacement".into(), Permissions::all(), None),
    )
    .await;
}

async fn users_are_made_once_per_email(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let created = write(store, tenancy::create_organization("Acme".into())).await;
    let org = created.organization.id.clone();
    let user = write(
        store,
        tenancy::create_user(
            org.clone(),
            "Ada@Example.com".into(),
            "hash-1".into(),
            "admin".into(),
        ),
    )
    .await;
    assert_eq!(user.email, "ada@example.com");
    assert_eq!(user.organization_id, org);
    assert_eq!(user.role, "admin");
    let (found, hash) = read(store, tenancy::find_user_by_email("ADA@example.COM".into()))
        .await
        .expect("found by email, whatever its case");
    assert_eq!(found.id, user.id);
    assert_eq!(hash, "hash-1");
    assert!(
        read(store, tenancy::find_user_by_email("bob@example.com".into()))
            .await
            .is_none()
    );
    // The same email again (any case) is refused and leaves the first user as it was.
    let e = refused(
        store,
        tenancy::create_user(
            org.clone(),
            "ada@EXAMPLE.com".into(),
            "hash-2".into(),
            "member".into(),
        ),
    )
    .await;
    assert!(e.is("email_taken"));
    let (_, hash) = read(store, tenancy::find_user_by_email("ada@example.com".into()))
        .await
        .unwrap();
    assert_eq!(hash, "hash-1");
    assert_eq!(rows(store, "users").await, 1);
    // A user of an organization that does not exist is refused.
    let e = refused(
        store,
        tenancy::create_user(
            tessera_core::id::OrganizationId::generate(),
            "eve@example.com".into(),
            "h".into(),
            "member".into(),
        ),
    )
    .await;
    assert!(e.is(codes::NOT_FOUND));
    assert_eq!(rows(store, "users").await, 1);
}

async fn the_operator_token_is_set_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    assert_eq!(read(store, tenancy::operator_token_hash()).await, None);
    let stored = write(store, tenancy::set_operator_token_hash("first".into())).await;
    assert_eq!(stored, "first");
    // A second process generating its own token gets the stored one back.
    let stored = write(store, tenancy::set_operator_token_hash("second".into())).await;
    assert_eq!(stored, "first");
    assert_eq!(
        read(store, tenancy::operator_token_hash()).await,
        Some("first".into())
    );
}

const LIFETIMES: sessions::Lifetimes = sessions::Lifetimes {
    idle_ms: 60_000,
    absolute_ms: 600_000,
};

async fn sessions_live_until_idle_or_ended(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let created = write(store, tenancy::create_organization("Acme".into())).await;
    let org = created.organization.clone();
    let user = write(
        store,
        tenancy::create_user(
            org.id.clone(),
            "ada@example.com".into(),
            "h".into(),
            "admin".into(),
        ),
    )
    .await;
    let id = write(
        store,
        sessions::create(user.clone(), "secret-hash".into(), "csrf".into(), LIFETIMES),
    )
    .await;
    let find = |hash: &'static str| read(store, sessions::find(hash.into(), LIFETIMES));
    let s = find("secret-hash").await.expect("a new session is live");
    assert_eq!(s.id, id);
    assert_eq!(s.user.id, user.id);
    assert_eq!(s.organization_name, "Acme");
    assert_eq!(s.csrf_token, "csrf");
    assert_eq!(Some(s.scope.clone()), org.scope(EnvKind::Sandbox));
    let start = s.created_at;
    assert_eq!(s.expires_at, start.plus_millis(LIFETIMES.absolute_ms));
    assert!(find("other-hash").await.is_none());
    // Touching keeps it from going idle.
    db.clock.advance_millis(50_000);
    write(store, sessions::touch(id.clone())).await;
    db.clock.advance_millis(50_000);
    let s = find("secret-hash").await.expect("touched 50 s ago: live");
    assert_eq!(s.last_seen_at, start.plus_millis(50_000));
    // Switching the environment shows the other scope.
    write(
        store,
        sessions::set_environment(id.clone(), EnvKind::Production),
    )
    .await;
    let s = find("secret-hash").await.unwrap();
    assert_eq!(Some(s.scope), org.scope(EnvKind::Production));
    // Unused for longer than the idle lifetime, it is gone.
    db.clock.advance_millis(LIFETIMES.idle_ms);
    assert!(find("secret-hash").await.is_none());
}

async fn sessions_end_by_sign_out_and_are_purged(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let created = write(store, tenancy::create_organization("Acme".into())).await;
    let user = write(
        store,
        tenancy::create_user(
            created.organization.id.clone(),
            "ada@example.com".into(),
            "h".into(),
            "admin".into(),
        ),
    )
    .await;
    let session =
        |hash: &str| sessions::create(user.clone(), hash.into(), "csrf".into(), LIFETIMES);
    let out = write(store, session("signed-out")).await;
    write(store, session("idle")).await;
    write(store, sessions::delete(out.clone())).await;
    assert!(
        read(store, sessions::find("signed-out".into(), LIFETIMES))
            .await
            .is_none()
    );
    // Deleting again changes nothing.
    write(store, sessions::delete(out)).await;
    // The idle one ends; a fresh one does not: the purge removes only the ended one.
    db.clock.advance_millis(LIFETIMES.idle_ms + 1);
    write(store, session("fresh")).await;
    assert_eq!(rows(store, "dashboard_sessions").await, 2);
    assert_eq!(write(store, sessions::purge(LIFETIMES)).await, 1);
    assert_eq!(rows(store, "dashboard_sessions").await, 1);
    assert!(
        read(store, sessions::find("fresh".into(), LIFETIMES))
            .await
            .is_some()
    );
    // Past its absolute end, even a busy session ends and is purged.
    for _ in 0..12 {
        db.clock.advance_millis(50_000);
        let id = read(store, sessions::find("fresh".into(), LIFETIMES)).await;
        if let Some(s) = id {
            write(store, sessions::touch(s.id)).await;
        }
    }
    assert!(
        read(store, sessions::find("fresh".into(), LIFETIMES))
            .await
            .is_none()
    );
    assert_eq!(write(store, sessions::purge(LIFETIMES)).await, 1);
    assert_eq!(rows(store, "dashboard_sessions").await, 0);
}

on_both_backends!(
    an_organization_is_made_with_its_environments_and_keys,
    api_keys_are_made_listed_found_and_expired,
    an_environment_holds_a_bounded_number_of_live_keys,
    users_are_made_once_per_email,
    the_operator_token_is_set_once,
    sessions_live_until_idle_or_ended,
    sessions_end_by_sign_out_and_are_purged,
);
