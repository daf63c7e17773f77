//! End to end: the master key file is made at first start (mode 0600) and kept; a wrong or
//! missing master key stops the binary with a clear error and changes nothing; `tessera keys
//! rotate` and `rotate-master` work on the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn tessera(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tessera"));
    c.current_dir(dir)
        .args(args)
        .env_remove("TESSERA_MASTER_KEY")
        .env_remove("TESSERA_MASTER_KEY_FILE")
        .env(
            "TESSERA_DATABASE_URL",
            format!("sqlite://{}", dir.join("data/t.db").display()),
        )
        .env("TESSERA_ADMIN_TOKEN", "keys-test-admin")
        .env("TESSERA_LOG", "warn");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn refused(out: Output) -> String {
    assert!(!out.status.success());
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn the_master_key_is_made_once_guarded_and_rotated() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let key_file = dir.join("data/master-key");
    ok(tessera(dir, &["migrate"], &[]));
    let first = std::fs::read_to_string(&key_file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The signing key is made (and sealed) by `keys rotate` here, as `serve` makes it at start.
    let rotated = ok(tessera(dir, &["keys", "rotate"], &[]));
    assert!(
        rotated.contains("is active") && rotated.contains("is retired"),
        "{rotated}"
    );
    ok(tessera(dir, &["migrate"], &[]));
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), first, "kept");

    // A wrong key: refused, naming the key needed; nothing written.
    let other = ok(tessera(dir, &["keys", "generate-master"], &[]));
    let err = refused(tessera(
        dir,
        &["migrate"],
        &[("TESSERA_MASTER_KEY", other.trim())],
    ));
    assert!(err.contains("sealed under master key mk-"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    // No key at all: refused too, and the key file made for the attempt is gone again.
    std::fs::rename(&key_file, dir.join("saved-key")).unwrap();
    let err = refused(tessera(dir, &["migrate"], &[]));
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(!key_file.exists());
    std::fs::rename(dir.join("saved-key"), &key_file).unwrap();
    // Both ways at once: refused.
    let err = refused(tessera(
        dir,
        &["migrate"],
        &[
            ("TESSERA_MASTER_KEY", other.trim()),
            ("TESSERA_MASTER_KEY_FILE", key_file.to_str().unwrap()),
        ],
    ));
    assert!(err.contains("both set"), "{err}");

    // Rotation: the new key first in the file, the old kept; every secret sealed again.
    let out = ok(tessera(dir, &["keys", "rotate-master"], &[]));
    let keys: Vec<String> = std::fs::read_to_string(&key_file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[1], first.trim());
    assert!(out.contains("2 secrets sealed again"), "{out}");
    // The new key alone now opens the database, from the environment.
    let status = ok(tessera(
        dir,
        &["keys", "status"],
        &[("TESSERA_MASTER_KEY", keys[0].as_str())],
    ));
    assert!(status.contains("seals  2 secrets"), "{status}");
    // The old key alone does not.
    refused(tessera(
        dir,
        &["migrate"],
        &[("TESSERA_MASTER_KEY", keys[1].as_str())],
    ));
}

/// The signing key's algorithm: `TESSERA_SIGNING_ALGORITHM` chooses the first key's and the
/// default of `keys rotate`; `--algorithm` overrides it; an unknown one is refused.
#[test]
fn signing_keys_are_of_the_algorithm_asked_for() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(tessera(dir, &["migrate"], &[]));
    // The first key (made as at first start), EdDSA by default; the new one ES256.
    let out = ok(tessera(
        dir,
        &["keys", "rotate", "--algorithm", "ES256"],
        &[],
    ));
    assert!(out.contains("(ES256) is active"), "{out}");
    let status = ok(tessera(dir, &["keys", "status"], &[]));
    let signing: Vec<&str> = status
        .lines()
        .filter(|l| l.starts_with("signing key"))
        .collect();
    assert_eq!(signing.len(), 2, "{status}");
    assert!(signing[0].contains("ES256  active"), "{status}");
    assert!(signing[1].contains("EdDSA  retired"), "{status}");
    // Configured ES256: `keys rotate` without --algorithm makes ES256; --algorithm EdDSA wins.
    let es = [("TESSERA_SIGNING_ALGORITHM", "ES256")];
    assert!(ok(tessera(dir, &["keys", "rotate"], &es)).contains("(ES256) is active"));
    let out = ok(tessera(
        dir,
        &["keys", "rotate", "--algorithm", "EdDSA"],
        &es,
    ));
    assert!(out.contains("(EdDSA) is active"), "{out}");
    let err = refused(tessera(
        dir,
        &["keys", "rotate", "--algorithm", "RS256"],
        &[],
    ));
    assert!(err.contains("RS256"), "{err}");
    let err = refused(tessera(
        dir,
        &["keys", "status"],
        &[("TESSERA_SIGNING_ALGORITHM", "P-256")],
    ));
    assert!(err.contains("TESSERA_SIGNING_ALGORITHM"), "{err}");

    // A fresh instance configured ES256 makes its first key ES256.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(tessera(dir, &["migrate"], &[]));
    ok(tessera(dir, &["keys", "rotate"], &es));
    let status = ok(tessera(dir, &["keys", "status"], &[]));
    assert_eq!(status.matches("ES256").count(), 2, "{status}");
}
