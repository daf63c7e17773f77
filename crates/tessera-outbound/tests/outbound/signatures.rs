//! Signatures made by `tessera_core::signing` verify with implementations that share no code
//! with it: the official Standard Webhooks library (Python, from PyPI) and an independent
//! Stripe-style `t=,v1=` verifier, both in `verify_signatures.py`. Tampered bodies, wrong secrets,
//! empty, truncated and stale signatures must be rejected by them too.
//!
//! The Python interpreter with `standardwebhooks` installed comes from `TESSERA_TEST_PYTHON`
//! (set by `scripts/test`; `scripts/python-venv` makes it), or `.ci/venv` when that exists.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use tessera_core::signing::{
    persona_signature_header, standard_signature_header, standard_webhooks_secret,
};

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TESSERA_TEST_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/venv/bin/python");
    assert!(
        venv.exists(),
        "the signature tests need Python with the `standardwebhooks` package: run \
         `scripts/python-venv` (CI's .ci/run does) and use `scripts/test`, or set \
         TESSERA_TEST_PYTHON to such an interpreter"
    );
    venv
}

fn unix_now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

struct Signed {
    persona: String,
    standard: String,
    id: &'static str,
    t: i64,
}

fn sign(secrets: &[&str], id: &'static str, t: i64, body: &str) -> Signed {
    Signed {
        persona: persona_signature_header(secrets, t, body.as_bytes()),
        standard: standard_signature_header(secrets, id, t, body.as_bytes()),
        id,
        t,
    }
}

fn case(name: &str, secret: &str, body: &str, s: &Signed) -> Value {
    json!({
        "name": name,
        "secret": secret,
        "whsec": standard_webhooks_secret(secret),
        "body": body,
        "headers": {
            "persona-signature": s.persona,
            "webhook-id": s.id,
            "webhook-timestamp": s.t.to_string(),
            "webhook-signature": s.standard,
        },
    })
}

fn run_verifier(cases: Vec<Value>) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/outbound/verify_signatures.py");
    let python = python();
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
    let input = serde_json::to_vec(&json!({ "cases": cases })).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "verify_signatures.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn independent_verifiers_accept_our_signatures_and_reject_bad_ones() {
    let new = "wbhsec_NewSecret0123456789abcdefghijklmnopqrstuvw";
    let old = "wbhsec_OldSecret0123456789abcdefghijklmnopqrstuvw";
    let body = r#"{"data":{"type":"event","id":"evt_1","attributes":{"name":"inquiry.approved","note":"é ✓"}}}"#;
    let now = unix_now();
    let good = sign(&[new, old], "evt_1", now, body);

    let truncated = Signed {
        persona: good.persona[..good.persona.find(' ').unwrap() - 3].to_owned(),
        standard: good.standard[..good.standard.find(' ').unwrap() - 3].to_owned(),
        ..sign(&[new], "evt_1", now, body)
    };
    let empty = Signed {
        persona: String::new(),
        standard: String::new(),
        ..sign(&[new], "evt_1", now, body)
    };
    let stale = sign(&[new], "evt_1", now - 600, body);
    let tampered_body = body.replace("approved", "declined");

    let cases = vec![
        case("rotation-new-secret", new, body, &good),
        case("rotation-old-secret", old, body, &good),
        case(
            "single-secret",
            new,
            body,
            &sign(&[new], "evt_1", now, body),
        ),
        case("tampered-body", new, &tampered_body, &good),
        case("wrong-secret", "wbhsec_wrong", body, &good),
        case("empty-signature", new, body, &empty),
        case("truncated-signature", new, body, &truncated),
        case("stale-timestamp", new, body, &stale),
    ];
    let verdicts = run_verifier(cases);

    for (name, accepted) in [
        ("rotation-new-secret", true),
        ("rotation-old-secret", true),
        ("single-secret", true),
        ("tampered-body", false),
        ("wrong-secret", false),
        ("empty-signature", false),
        ("truncated-signature", false),
        ("stale-timestamp", false),
    ] {
        let v = &verdicts[name];
        assert_eq!(
            v["standard"],
            json!(accepted),
            "Standard Webhooks library on {name}: {v}"
        );
        assert_eq!(
            v["persona"],
            json!(accepted),
            "Persona verifier on {name}: {v}"
        );
        assert_eq!(v["whsec_matches"], json!(true), "whsec form on {name}");
    }
}
