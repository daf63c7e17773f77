//! Secrets at rest: webhook and workflow signing secrets and the instance's private keys are
//! sealed under the master key — never in the database in the clear, bound to their row, refused
//! at start under the wrong key, sealed when found in the clear, sealed again by a rotation — and
//! the instance's signing keys (made once, rotated, published). Each on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{org, read, write};
use tessera_core::inflect::Inflection;
use tessera_core::keys::identity::{verify, verify_jwk};
use tessera_core::keys::{Keyring, MasterKey, sealed_kid};
use tessera_core::tenancy::Scope;
use tessera_core::webhook::{Webhook, WebhookSettings};
use tessera_core::workflow::{Step, Trigger, Workflow, WorkflowStatus};
use tessera_store::testing::{Backend, TestDb, random_keyring, sql};
use tessera_store::units::{keys, webhooks, workflows};
use tessera_store::{MasterKeys, Store, args, on_both_backends};

const WEBHOOK_SECRET: &str = "wbhsec_FirstSecretOfTheWebhookXXXXXXXXXXXXXXXXX";
const ROTATED_SECRET: &str = "wbhsec_SecondSecretOfTheWebhookXXXXXXXXXXXXXXXX";
const WORKFLOW_SECRET: &str = "wflsec_TheWorkflowsSecretXXXXXXXXXXXXXXXXXXXXXX";

async fn webhook(store: &Store, scope: &Scope, secret: &str) -> Webhook {
    let url = "https://hooks.example.com/in";
    let new = webhooks::NewWebhook {
        url: url.into(),
        enabled_events: vec!["inquiry.created".into()],
        inflection: Inflection::Kebab,
        settings: WebhookSettings::defaults(url),
        secret: secret.into(),
    };
    write(store, webhooks::create(scope.clone(), new)).await
}

async fn workflow(store: &Store, scope: &Scope) -> Workflow {
    let new = workflows::NewWorkflow {
        name: Some("wf".into()),
        status: WorkflowStatus::Active,
        trigger: Trigger {
            event: "inquiry.created".into(),
            conditions: Vec::new(),
        },
        steps: vec![Step::HttpRequest {
            url: "https://hooks.example.com/wf".into(),
        }],
        secret: WORKFLOW_SECRET.into(),
    };
    write(store, workflows::create(scope.clone(), new)).await
}

/// A webhook with a rotated secret (both sealed), a workflow and the instance's first key.
async fn secrets(store: &Store) -> (Scope, Webhook, Workflow) {
    let (scope, _) = org(store, "A").await;
    let w = webhook(store, &scope, WEBHOOK_SECRET).await;
    write(
        store,
        webhooks::rotate_secret(scope.clone(), w.id.clone(), ROTATED_SECRET.into(), 3600),
    )
    .await;
    let wf = workflow(store, &scope).await;
    write(store, keys::ensure_identity(keys::Algorithm::EdDSA)).await;
    (scope, w, wf)
}

/// Every stored value of the sealed columns, as text.
async fn stored(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for (table, col) in [
        ("webhooks", "secret"),
        ("webhooks", "previous_secret"),
        ("workflows", "secret"),
        ("signing_keys", "private_key"),
    ] {
        let q = format!("select {col} as v from {table} where {col} is not null order by seq");
        for r in sql::fetch_all(store, &q, args![]).await.unwrap() {
            out.push(r.text("v").unwrap());
        }
    }
    out
}

/// The bytes of the SQLite database and its write-ahead log.
fn sqlite_file_bytes(db: &TestDb) -> Vec<u8> {
    let path = db.url.strip_prefix("sqlite://").unwrap();
    let mut bytes = std::fs::read(path).unwrap();
    if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
        bytes.extend(wal);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn no_secret_is_stored_in_the_clear(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (scope, w, wf) = secrets(store).await;
    let active = read(store, keys::active_signing_key()).await.unwrap();
    let private = active.key.private_bytes();

    // The units hand out the secrets themselves.
    let got = read(store, webhooks::get(scope.clone(), w.id.clone())).await;
    assert_eq!(got.secret, ROTATED_SECRET);
    assert_eq!(got.previous_secret.unwrap().0, WEBHOOK_SECRET);
    let got = read(store, workflows::get(scope.clone(), wf.id.clone())).await;
    assert_eq!(got.secret, WORKFLOW_SECRET);

    // The rows hold sealed values only, under the store's master key.
    let values = stored(store).await;
    assert_eq!(values.len(), 4, "{values:?}");
    let kid = db.keys.current().sealing_kid().to_owned();
    for v in &values {
        assert_eq!(sealed_kid(v), Some(kid.as_str()), "{v}");
        for secret in [WEBHOOK_SECRET, ROTATED_SECRET, WORKFLOW_SECRET] {
            assert!(!v.contains(secret));
        }
    }
    // …and so does the file (SQLite): no secret, no private key, in any encoding.
    if backend == Backend::Sqlite {
        let bytes = sqlite_file_bytes(&db);
        assert!(contains(&bytes, kid.as_bytes()), "the file is read");
        for secret in [WEBHOOK_SECRET, ROTATED_SECRET, WORKFLOW_SECRET] {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "{secret} is in the file"
            );
        }
        assert!(!contains(&bytes, private.as_ref()));
        assert!(!contains(
            &bytes,
            URL_SAFE_NO_PAD.encode(*private).as_bytes()
        ));
    } else {
        // PostgreSQL: every text column of the tables holding secrets, read directly.
        for table in ["webhooks", "workflows", "signing_keys"] {
            let q = format!("select cast(t.* as text) as v from {table} t");
            for r in sql::fetch_all(store, &q, args![]).await.unwrap() {
                let row = r.text("v").unwrap();
                for secret in [WEBHOOK_SECRET, ROTATED_SECRET, WORKFLOW_SECRET] {
                    assert!(!row.contains(secret), "{table}: {row}");
                }
                assert!(!row.contains(&URL_SAFE_NO_PAD.encode(*private)));
                assert!(!row.contains(&hex::encode(*private)));
            }
        }
    }
}

async fn a_wrong_master_key_is_refused_at_start(backend: Backend) {
    let db = TestDb::new(backend).await;
    secrets(&db.store).await;
    let before = stored(&db.store).await;
    let wrong = MasterKeys::new(random_keyring());
    let err = db.reopen(wrong.clone()).await.unwrap_err().to_string();
    let kid = db.keys.current().sealing_kid().to_owned();
    assert!(err.contains(&kid), "{err}");
    assert!(err.contains(wrong.current().sealing_kid()), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(stored(&db.store).await, before, "nothing was overwritten");
    // The right key still opens it.
    let again = db.reopen(db.keys.clone()).await.unwrap();
    assert_eq!(stored(&again).await, before);
}

async fn secrets_in_the_clear_are_sealed_at_start(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (scope, w, wf) = secrets(&db.store).await;
    // As a version before sealing wrote them.
    for (table, col, id, value) in [
        ("webhooks", "secret", w.id.as_str(), ROTATED_SECRET),
        ("webhooks", "previous_secret", w.id.as_str(), WEBHOOK_SECRET),
        ("workflows", "secret", wf.id.as_str(), WORKFLOW_SECRET),
    ] {
        let q = format!("update {table} set {col} = $1 where id = $2");
        sql::execute(&db.store, &q, args![value, id]).await.unwrap();
    }
    // Read as they are meanwhile (a rolling upgrade).
    let got = read(&db.store, webhooks::get(scope.clone(), w.id.clone())).await;
    assert_eq!(got.secret, ROTATED_SECRET);

    let store = db.reopen(db.keys.clone()).await.unwrap();
    let sealed = stored(&store).await;
    let kid = db.keys.current().sealing_kid().to_owned();
    assert!(
        sealed.iter().all(|v| sealed_kid(v) == Some(kid.as_str())),
        "{sealed:?}"
    );
    let got = read(&store, webhooks::get(scope.clone(), w.id.clone())).await;
    assert_eq!(got.secret, ROTATED_SECRET);
    assert_eq!(got.previous_secret.unwrap().0, WEBHOOK_SECRET);
    let got = read(&store, workflows::get(scope.clone(), wf.id.clone())).await;
    assert_eq!(got.secret, WORKFLOW_SECRET);
    // Idempotent: a second start changes nothing.
    assert_eq!(store.seal_at_rest().await.unwrap(), 0);
    assert_eq!(stored(&store).await, sealed);
}

async fn a_sealed_secret_moved_to_another_row_does_not_open(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (scope, w, _) = secrets(store).await;
    let other = webhook(store, &scope, "wbhsec_other").await;
    // Another webhook's sealed secret copied into this one's row…
    sql::execute(
        store,
        "update webhooks set secret = (select secret from webhooks where id = $1) where id = $2",
        args![w.id.as_str(), other.id.as_str()],
    )
    .await
    .unwrap();
    let err = common::read_refused(store, webhooks::get(scope.clone(), other.id.clone())).await;
    assert_eq!(err.status.code(), 500);
    // …and a sealed secret copied into another column of its own row.
    sql::execute(
        store,
        "update webhooks set previous_secret = secret where id = $1",
        args![w.id.as_str()],
    )
    .await
    .unwrap();
    let err = common::read_refused(store, webhooks::get(scope.clone(), w.id.clone())).await;
    assert_eq!(err.status.code(), 500);
}

async fn rotating_the_master_key_seals_everything_again(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (scope, w, wf) = secrets(&db.store).await;
    let old = db.keys.current();
    let rotated = old.with_new_key(MasterKey::generate());
    let new_kid = rotated.sealing_kid().to_owned();
    let store = db.reopen(MasterKeys::new(rotated.clone())).await.unwrap();
    // Both keys open meanwhile; new secrets are sealed under the new one.
    let fresh = webhook(&store, &scope, "wbhsec_fresh").await;
    let counts = read(&store, keys::kids_in_use()).await;
    assert_eq!(counts.get(old.sealing_kid()), Some(&4));
    assert_eq!(counts.get(&new_kid), Some(&1));
    // In batches, until none is left.
    let mut total = 0;
    loop {
        let n = write(&store, keys::reseal(2)).await;
        assert!(n <= 2);
        if n == 0 {
            break;
        }
        total += n;
    }
    assert_eq!(total, 4);
    let counts = read(&store, keys::kids_in_use()).await;
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        vec![(new_kid.clone(), 5)]
    );
    // The old key can go: the new one alone opens everything…
    let only_new = Keyring::parse(rotated.encode().lines().next().unwrap()).unwrap();
    let store = db.reopen(MasterKeys::new(only_new)).await.unwrap();
    let got = read(&store, webhooks::get(scope.clone(), w.id.clone())).await;
    assert_eq!(
        (got.secret.as_str(), got.previous_secret.unwrap().0.as_str()),
        (ROTATED_SECRET, WEBHOOK_SECRET)
    );
    let got = read(&store, workflows::get(scope.clone(), wf.id.clone())).await;
    assert_eq!(got.secret, WORKFLOW_SECRET);
    let got = read(&store, webhooks::get(scope.clone(), fresh.id.clone())).await;
    assert_eq!(got.secret, "wbhsec_fresh");
    assert!(read(&store, keys::active_signing_key()).await.is_some());
    // …and the old one alone no longer does.
    assert!(db.reopen(MasterKeys::new((*old).clone())).await.is_err());
}

async fn a_running_store_learns_a_new_master_key(backend: Backend) {
    let first = random_keyring();
    let source = Arc::new(Mutex::new(first.clone()));
    let from = source.clone();
    let reloading = MasterKeys::reloading(first.clone(), move || Ok(from.lock().unwrap().clone()));
    let db = TestDb::with_keys(backend, reloading, Default::default()).await;
    let (scope, w, _) = secrets(&db.store).await;
    // Another process rotates: a new key first in the shared source, everything sealed again.
    let rotated = first.with_new_key(MasterKey::generate());
    *source.lock().unwrap() = rotated.clone();
    let other = db.reopen(MasterKeys::new(rotated.clone())).await.unwrap();
    while write(&other, keys::reseal(100)).await > 0 {}
    // This store meets a key it lacks, reads its source again, and goes on.
    let got = read(&db.store, webhooks::get(scope.clone(), w.id.clone())).await;
    assert_eq!(got.secret, ROTATED_SECRET);
    assert_eq!(db.keys.current().sealing_kid(), rotated.sealing_kid());
    // A store that cannot reload says which key it lacks.
    let fixed = TestDb::new(backend).await;
    let (scope, w, _) = secrets(&fixed.store).await;
    let rotated = fixed.keys.current().with_new_key(MasterKey::generate());
    let other = fixed
        .reopen(MasterKeys::new(rotated.clone()))
        .await
        .unwrap();
    while write(&other, keys::reseal(100)).await > 0 {}
    let err = common::read_refused(&fixed.store, webhooks::get(scope, w.id)).await;
    assert_eq!(err.status.code(), 500);
    assert!(
        format!("{:?}", err).contains(rotated.sealing_kid()),
        "{err:?}"
    );
}

async fn signing_keys_are_made_once_rotated_and_published(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    assert!(read(store, keys::instance_id()).await.is_none());
    let first = write(store, keys::ensure_identity(keys::Algorithm::EdDSA)).await;
    assert_eq!(
        write(store, keys::ensure_identity(keys::Algorithm::EdDSA)).await,
        first,
        "made once"
    );
    let instance = read(store, keys::instance_id()).await.unwrap();
    assert!(instance.starts_with("ins_"));

    let active = read(store, keys::active_signing_key()).await.unwrap();
    assert_eq!(active.kid, first);
    let published = read(store, keys::published_keys()).await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].jwk.kid, first);
    assert_eq!(
        published[0].jwk.kid,
        tessera_core::keys::jwk_thumbprint("OKP", "Ed25519", &published[0].jwk.x)
    );
    let old_signature = active.key.sign(b"receipt");
    assert!(verify(&published[0].jwk.x, b"receipt", &old_signature));

    let second = write(store, keys::rotate_signing_key(keys::Algorithm::EdDSA)).await;
    assert_ne!(second, first);
    let published = read(store, keys::published_keys()).await;
    let summary: Vec<_> = published
        .iter()
        .map(|k| (k.jwk.kid.clone(), k.active, k.retired_at.is_some()))
        .collect();
    assert_eq!(
        summary,
        vec![(second.clone(), true, false), (first.clone(), false, true)]
    );
    // What the old key signed still verifies against what is published.
    assert!(verify(&published[1].jwk.x, b"receipt", &old_signature));
    let active = read(store, keys::active_signing_key()).await.unwrap();
    assert_eq!(active.kid, second);
    assert!(verify(&published[0].jwk.x, b"x", &active.key.sign(b"x")));
    assert_eq!(
        read(store, keys::instance_id()).await.unwrap(),
        instance,
        "kept"
    );
}

/// An ES256 key (where the operator asks): made at first start or by a rotation, published as an
/// EC JWK, its private half (the P-256 scalar) sealed, read back to sign; what the Ed25519 key
/// before it signed still verifies.
async fn es256_signing_keys_are_made_sealed_and_published(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let first = write(store, keys::ensure_identity(keys::Algorithm::ES256)).await;
    let published = read(store, keys::published_keys()).await;
    assert_eq!(published[0].algorithm, "ES256");
    assert_eq!(published[0].jwk.kty, "EC");
    assert_eq!(published[0].jwk.kid, first);
    assert_eq!(
        published[0].jwk.thumbprint().as_deref(),
        Some(first.as_str())
    );
    let active = read(store, keys::active_signing_key()).await.unwrap();
    assert_eq!(active.key.algorithm(), "ES256");
    assert!(verify_jwk(&published[0].jwk, b"x", &active.key.sign(b"x")));
    let private = active.key.private_bytes();
    let values = stored(store).await;
    assert_eq!(values.len(), 1);
    assert!(sealed_kid(&values[0]).is_some(), "{}", values[0]);
    assert!(!values[0].contains(&URL_SAFE_NO_PAD.encode(*private)));
    if backend == Backend::Sqlite {
        let bytes = sqlite_file_bytes(&db);
        assert!(!contains(&bytes, private.as_ref()));
    }

    // Ed25519 → ES256 → Ed25519: each rotation makes a key of the algorithm asked for.
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let ed = write(store, keys::ensure_identity(keys::Algorithm::EdDSA)).await;
    let old = read(store, keys::active_signing_key()).await.unwrap();
    let old_signature = old.key.sign(b"receipt");
    let es = write(store, keys::rotate_signing_key(keys::Algorithm::ES256)).await;
    let active = read(store, keys::active_signing_key()).await.unwrap();
    assert_eq!(
        (active.kid.as_str(), active.key.algorithm()),
        (es.as_str(), "ES256")
    );
    let published = read(store, keys::published_keys()).await;
    let summary: Vec<_> = published
        .iter()
        .map(|k| {
            (
                k.jwk.kid.clone(),
                k.algorithm.clone(),
                k.jwk.kty.clone(),
                k.active,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (es.clone(), "ES256".into(), "EC".into(), true),
            (ed.clone(), "EdDSA".into(), "OKP".into(), false)
        ]
    );
    assert!(verify_jwk(&published[1].jwk, b"receipt", &old_signature));
    assert!(!verify_jwk(&published[0].jwk, b"receipt", &old_signature));
    write(store, keys::rotate_signing_key(keys::Algorithm::EdDSA)).await;
    let active = read(store, keys::active_signing_key()).await.unwrap();
    assert_eq!(active.key.algorithm(), "EdDSA");
    assert_eq!(read(store, keys::published_keys()).await.len(), 3);
}

on_both_backends!(
    no_secret_is_stored_in_the_clear,
    a_wrong_master_key_is_refused_at_start,
    secrets_in_the_clear_are_sealed_at_start,
    a_sealed_secret_moved_to_another_row_does_not_open,
    rotating_the_master_key_seals_everything_again,
    a_running_store_learns_a_new_master_key,
    signing_keys_are_made_once_rotated_and_published,
    es256_signing_keys_are_made_sealed_and_published,
);
