//! Contract fuzzing (issue 8, part 3): Schemathesis against `/api/v1/openapi.json` of the real
//! `tessera serve`, on a fresh SQLite database, authenticated with an API key made by
//! `tessera org create`. Every check runs (no 5xx, status codes, content types, headers and
//! bodies as documented, schema-valid requests accepted, invalid ones refused, …), in every phase:
//! the schema's examples, coverage, random fuzzing, and stateful sequences that follow the
//! description's OpenAPI links (create → show, activate, redeem, …). Any failure fails the test.
//!
//! Schemathesis comes from the project's virtualenv (`scripts/python-venv`, found through
//! `TESSERA_TEST_PYTHON` like the signature tests). Bounded in time:
//! `TESSERA_CONTRACT_SECONDS` (default 75) for the whole run, `TESSERA_CONTRACT_EXAMPLES`
//! (default 25) cases per operation and phase; `TESSERA_CONTRACT_SEED` replays a run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::time::Instant;

use support::request;

const ADMIN: &str = "contract-admin-token";

/// The operations left out of the run, and why.
const EXCLUDED: &[&str] = &[
    // Expires an API key by id; the fuzzer can find (by listing) and expire the very key it
    // authenticates with, after which every request is a 401. Covered by the api_keys tests.
    "post-api-keys-id-expire",
];

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TESSERA_TEST_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/venv/bin/python");
    assert!(
        venv.exists(),
        "contract fuzzing needs Python with `schemathesis`: run `scripts/python-venv` (CI's \
         .ci/run does) and use `scripts/test`, or set TESSERA_TEST_PYTHON to such an interpreter"
    );
    venv
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn tessera(dir: &Path, database_url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tessera"));
    c.current_dir(dir)
        .env("TESSERA_DATABASE_URL", database_url)
        .env("TESSERA_ADMIN_TOKEN", ADMIN)
        .env("TESSERA_RATE_LIMIT_PER_MINUTE", "0")
        .env("TESSERA_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

async fn start(dir: &Path, database_url: &str) -> Server {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let child = tessera(dir, database_url)
        .args(["serve", "--listen", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut server = Server { child, addr };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = request(addr, "GET", "/readyz", &[], None).await
            && r.status == 200
        {
            return server;
        }
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("tessera serve exited: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "tessera serve did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How Schemathesis is configured, and why.
///
/// - `Key-Inflection: kebab` on every request (a header given on the command line replaces the
///   generated one): the description documents responses in their default, kebab-case keys;
///   `camel` and `snake` spell the same documents differently, which one JSON Schema cannot
///   describe (the inflection properties in tessera-core and `tests/api/fuzz.rs` cover them).
/// - A schema-valid request may still be refused for what no schema can say: with 400, an
///   `Idempotency-Key` already used for a different request (generated keys repeat), a list
///   cursor that names no object of the list or `page[after]` combined with `page[before]`
///   (OpenAPI cannot say that two parameters exclude each other); with 404, an id that names
///   nothing; with 409, a state that forbids the action; with 422, a rule across values or
///   objects (a source inquiry that is not completed yet, a webhook URL that resolves to a
///   private address). Never with a 5xx.
/// - `use_after_free` is off: `DELETE /inquiries/{id}` redacts the inquiry, which stays visible
///   (API.md §3.3), so a 200 after it is the contract, not a resource that outlived its deletion.
const CONFIG: &str = r#"
[checks.positive_data_acceptance]
expected-statuses = ["2XX", "400", "401", "403", "404", "409", "422"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_contract_violation() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("tessera.db").display());
    let created = tessera(dir.path(), &database_url)
        .args(["org", "create", "--name", "Contract", "--json"])
        .output()
        .await
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let key = created["api-keys"]["sandbox"].as_str().unwrap().to_owned();
    let server = start(dir.path(), &database_url).await;

    let config = dir.path().join("schemathesis.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let seconds = env_u64("TESSERA_CONTRACT_SECONDS", 75);
    let examples = env_u64("TESSERA_CONTRACT_EXAMPLES", 25);
    // A run that failed only because the fuzzer itself crashed on CPython 3.11's AST recursion
    // bug (`SystemError: AST constructor recursion depth mismatch`, raised inside Hypothesis while
    // it describes a strategy for a deeply nested body schema) found nothing about Tessera: it is
    // run once more, with a fresh seed. A contract violation is never retried.
    for attempt in 1..=2 {
        let started = Instant::now();
        let out = run_schemathesis(dir.path(), &config, server.addr, &key, seconds, examples).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // For the record: operations, phases (stateful scenarios and links covered), test cases.
        let summary = stdout
            .find("Coverage (in")
            .map_or(&stdout[..], |at| &stdout[at..]);
        eprintln!(
            "schemathesis ({:.0} s, exit {}, attempt {attempt}):\n{summary}",
            started.elapsed().as_secs_f64(),
            out.status
        );
        let fuzzer_crashed = stdout.contains("AST constructor recursion depth mismatch")
            && !stdout.contains("FAILURES");
        if out.status.success() || !fuzzer_crashed || attempt == 2 {
            assert!(
                out.status.success(),
                "schemathesis found contract violations:\n{stdout}\n{stderr}"
            );
            break;
        }
    }
    drop(server);
}

/// One run of Schemathesis against the server at `addr`.
async fn run_schemathesis(
    dir: &Path,
    config: &Path,
    addr: SocketAddr,
    key: &str,
    seconds: u64,
    examples: u64,
) -> std::process::Output {
    let mut st = Command::new(python());
    st.current_dir(dir)
        .args(["-m", "schemathesis.cli", "--config-file"])
        .arg(config)
        .arg("run")
        .arg(format!("http://{addr}/api/v1/openapi.json"))
        .args(["--checks", "all"])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", &examples.to_string()])
        .args(["--max-time", &seconds.to_string()])
        .args(["--workers", "2"])
        .args(["--request-timeout", "10"])
        .args(["--header", &format!("Authorization: Bearer {key}")])
        .args(["--header", "Key-Inflection: kebab"])
        .args(["--exclude-checks", "use_after_free"])
        .args(["--output-truncate", "false"])
        .args(["--report", "junit"])
        .arg("--report-junit-path")
        .arg(dir.join("junit.xml"))
        .env("NO_COLOR", "1")
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for op in EXCLUDED {
        st.args(["--exclude-operation-id", op]);
    }
    if let Ok(seed) = std::env::var("TESSERA_CONTRACT_SEED") {
        st.args(["--seed", &seed]);
    }
    tokio::time::timeout(Duration::from_secs(seconds + 120), st.output())
        .await
        .expect("schemathesis ran past its time budget")
        .expect("schemathesis could not be started")
}
