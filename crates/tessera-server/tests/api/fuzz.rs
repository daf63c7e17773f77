//! Property-based fuzzing of every parser of untrusted input, through the real router (issue 8,
//! part 3): query strings (filters, sparse fields, pagination cursors), the `Idempotency-Key` and
//! `Key-Inflection` headers, JSON bodies of every create and update in any inflection (valid
//! documents mutated, arbitrary JSON, arbitrary bytes, wrong content types), and multipart
//! uploads. Properties: never a 5xx, and every refusal is the contract's error document (its
//! `status` is the HTTP status, a snake_case `code`, a `title`, a `details`); valid input is
//! accepted, an idempotent retry replays its first answer.
//!
//! Parsers do not depend on the storage backend: these run on SQLite. Cases per property:
//! `PROPTEST_CASES` (default 256).

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, Uri};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};
use tessera_core::inflect::{Inflection, inflect_document};
use tessera_store::testing::Backend;

use crate::support::{App, Org, Resp};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// The contract for any answer to any input: no 5xx; a refusal is an error document.
#[track_caller]
fn assert_contract(what: &str, r: &Resp) {
    let status = r.status.as_u16();
    assert!(
        status < 500,
        "{what}: a server error: {status} {}",
        String::from_utf8_lossy(&r.bytes)
    );
    if status >= 400 {
        let ct = r.header("content-type").unwrap_or("");
        assert!(
            ct.starts_with("application/json") || ct.starts_with("application/vnd.api+json"),
            "{what}: {status} with content type {ct}"
        );
        let errors = r.json["errors"].as_array();
        assert!(
            errors.is_some_and(|e| !e.is_empty()),
            "{what}: {status} is not an error document: {}",
            String::from_utf8_lossy(&r.bytes)
        );
        for e in errors.into_iter().flatten() {
            assert_eq!(e["status"].as_u64(), Some(u64::from(status)), "{what}: {e}");
            let code = e["code"].as_str().unwrap_or("");
            assert!(
                !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{what}: code {code:?}"
            );
            assert!(
                e["title"].as_str().is_some_and(|t| !t.is_empty()),
                "{what}: {e}"
            );
            assert!(e["details"].is_string(), "{what}: {e}");
        }
    }
}

/// Counts answers by property and status: the record of what was checked. A case that made no
/// request (its generated parts are not an HTTP request at all) checked nothing and is not
/// counted, so [`run`] can tell a property that checked too little.
#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, usize>>);

impl Tally {
    fn add(&self, property: &str, r: &Resp) {
        *self
            .0
            .lock()
            .unwrap()
            .entry(format!("{property} → {}", r.status.as_u16()))
            .or_default() += 1;
    }

    /// How many cases of `property` were answered (and so checked).
    fn checked(&self, property: &str) -> usize {
        let prefix = format!("{property} → ");
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, n)| n)
            .sum()
    }
}

/// The share of a property's cases that must reach the server and be checked: a property whose
/// inputs mostly cannot be sent would pass having checked almost nothing.
const MIN_CHECKED_PERCENT: usize = 25;

/// An error when fewer than [`MIN_CHECKED_PERCENT`] of `ran` cases were checked.
fn enough_checked(name: &str, checked: usize, ran: usize) -> Result<(), String> {
    if ran > 0 && checked * 100 >= ran * MIN_CHECKED_PERCENT {
        return Ok(());
    }
    Err(format!(
        "fuzz {name}: only {checked} of {ran} cases were checked (skipped: {}); at least \
         {MIN_CHECKED_PERCENT}% must reach the server",
        ran - checked.min(ran)
    ))
}

struct World {
    app: App,
    org: Org,
    inquiry: String,
    completed: String,
    connection: String,
}

impl World {
    async fn new() -> Self {
        let app = App::new(Backend::Sqlite).await;
        let org = app.org("Fuzz").await;
        let other = app.org("Other").await;
        let inquiry = app
            .inquiry(&org.sandbox, json!({"name-first": "Ada"}))
            .await;
        let completed = app
            .completed_inquiry(&org.sandbox, json!({"name-first": "Grace"}))
            .await;
        let connection = app.active_connection(&org, &other).await;
        Self {
            app,
            org,
            inquiry,
            completed,
            connection,
        }
    }

    /// A request built from raw parts; `None` when they do not make an HTTP request at all (an
    /// invalid URI or header value never reaches the router).
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, Vec<u8>)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Option<Resp> {
        let uri = Uri::try_from(path_and_query).ok()?;
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {}", self.org.sandbox));
        for (name, value) in headers {
            req = req.header(*name, HeaderValue::from_bytes(value).ok()?);
        }
        let body = match body {
            Some((ct, bytes)) => {
                req = req.header("content-type", ct);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        Some(self.app.send_request(req.body(body).ok()?).await)
    }
}

/// Runs a property over generated inputs, each case an async check against the world.
fn run<S: Strategy>(
    name: &str,
    world: &World,
    tally: &Tally,
    strategy: S,
    check: impl AsyncFn(&World, &Tally, S::Value),
) where
    S::Value: std::fmt::Debug,
{
    let handle = tokio::runtime::Handle::current();
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 100,
        ..Config::default()
    };
    let ran = std::cell::Cell::new(0usize);
    let result = tokio::task::block_in_place(|| {
        TestRunner::new(config).run(&strategy, |input| {
            ran.set(ran.get() + 1);
            handle.block_on(check(world, tally, input));
            Ok(())
        })
    });
    let checked = tally.checked(name);
    eprintln!("fuzz {name}: {} cases, {checked} checked", ran.get());
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    if let Err(e) = enough_checked(name, checked, ran.get()) {
        panic!("{e}");
    }
}

#[test]
fn a_property_that_checked_too_little_fails() {
    assert_eq!(enough_checked("all checked", 256, 256), Ok(()));
    assert_eq!(enough_checked("a quarter checked", 64, 256), Ok(()));
    for (checked, ran) in [(63, 256), (0, 256), (0, 0)] {
        assert!(
            enough_checked("p", checked, ran).is_err(),
            "{checked} of {ran} must fail"
        );
    }
}

fn query_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("page[size]".to_owned()),
        Just("page[after]".to_owned()),
        Just("page[before]".to_owned()),
        Just("page%5Bafter%5D".to_owned()),
        Just("filter[status]".to_owned()),
        Just("filter[referenceId]".to_owned()),
        Just("filter[direction]".to_owned()),
        Just("filter[inquiry-template-id]".to_owned()),
        Just("filter[object-id]".to_owned()),
        Just("filter[name]".to_owned()),
        Just("fields[inquiry]".to_owned()),
        Just("include".to_owned()),
        Just("peek-source-data".to_owned()),
        "[a-z\\[\\]%]{0,12}",
    ]
}

fn query_value(w: &World) -> impl Strategy<Value = String> + use<> {
    let ids = vec![
        w.inquiry.clone(),
        w.completed.clone(),
        w.connection.clone(),
        "inq_".into(),
        "cxn_0000000000000000000000".into(),
    ];
    prop_oneof![
        (0u64..200).prop_map(|n| n.to_string()),
        "-?[0-9]{1,25}",
        proptest::sample::select(ids),
        "[a-zA-Z0-9_,.-]{0,20}",
        "(%[0-9A-Fa-f]{2}){0,6}",
        "[ -~]{0,30}",
        "\\PC{0,12}",
    ]
}

/// A query string of encoded pairs, or raw characters.
fn query_string(w: &World) -> impl Strategy<Value = String> + use<> {
    let pairs =
        proptest::collection::vec((query_key(), query_value(w), 0u8..3), 0..5).prop_map(|pairs| {
            pairs
                .into_iter()
                .map(|(k, v, how)| match how {
                    0 => k,
                    1 => format!("{k}={v}"),
                    _ => format!(
                        "{k}={}",
                        url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                    ),
                })
                .collect::<Vec<_>>()
                .join("&")
        });
    prop_oneof![4 => pairs, 1 => "[ -~]{0,40}"]
}

const LISTS: &[&str] = &[
    "/api/v1/inquiries",
    "/api/v1/connect/connections",
    "/api/v1/connect/share-tokens",
    "/api/v1/events",
    "/api/v1/webhooks",
    "/api/v1/workflows",
    "/api/v1/workflow-runs",
    "/api/v1/inquiry-templates",
    "/api/v1/api-keys",
];

/// Field names as clients spell them, in every inflection, and odd ones.
fn attribute_name() -> impl Strategy<Value = String> {
    let known = vec![
        "name",
        "fields",
        "reference-id",
        "note",
        "tags",
        "inquiry-template-id",
        "destination-organization-id",
        "connection-id",
        "source-id",
        "expires-in-seconds",
        "url",
        "enabled-events",
        "api-key-inflection",
        "trigger",
        "steps",
        "status",
        "type",
        "inquiry-id",
        "checks",
        "attributes",
        "required-fields",
        "minimum-age",
        "allowed-countries",
        "permissions",
        "expires-at",
        "object-id",
    ];
    prop_oneof![
        3 => proptest::sample::select(known.clone()).prop_map(str::to_owned),
        1 => proptest::sample::select(known.clone()).prop_map(|k| tessera_core::inflect::from_kebab(k, Inflection::Camel)),
        1 => proptest::sample::select(known).prop_map(|k| k.replace('-', "_")),
        1 => "[a-zA-Z_-]{1,12}",
    ]
}

fn json_leaf(w: &World) -> impl Strategy<Value = Value> + use<> {
    let ids = vec![
        w.inquiry.clone(),
        w.completed.clone(),
        w.connection.clone(),
        w.org.id.clone(),
    ];
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (0i64..4_000_000).prop_map(Value::from),
        proptest::sample::select(ids).prop_map(Value::String),
        "\\PC{0,20}".prop_map(Value::String),
        "https://[a-z]{1,8}\\.example/[a-z]{0,5}".prop_map(Value::String),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]{8,12}Z)?".prop_map(Value::String),
        proptest::sample::select(vec![
            "*",
            "inquiry.completed",
            "kebab",
            "camel",
            "passed",
            "selfie",
            "active",
            "created"
        ])
        .prop_map(Value::from),
    ]
}

fn json_value(w: &World) -> impl Strategy<Value = Value> + use<> {
    json_leaf(w).prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(attribute_name(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A request document: mostly `{"data": {"attributes": {…}}}` of plausible attributes, some
/// with `type`, `id`, `meta` or unknown members, in any inflection; sometimes any JSON at all.
fn document(w: &World) -> impl Strategy<Value = Value> + use<> {
    let attributes = proptest::collection::btree_map(attribute_name(), json_value(w), 0..5)
        .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>()));
    let wrapped = (
        attributes,
        proptest::option::of(json_leaf(w)),
        proptest::option::of(json_value(w)),
        0u8..3,
    )
        .prop_map(|(attributes, kind, meta, inflection)| {
            let mut data = json!({"attributes": attributes});
            if let Some(k) = kind {
                data["type"] = k;
            }
            let mut doc = json!({"data": data});
            if let Some(m) = meta {
                doc["meta"] = m;
            }
            let inflection =
                [Inflection::Kebab, Inflection::Camel, Inflection::Snake][usize::from(inflection)];
            inflect_document(doc, inflection)
        });
    prop_oneof![5 => wrapped, 1 => json_value(w)]
}

/// Where JSON bodies go: every create, update and action that reads a body.
fn body_target(w: &World) -> impl Strategy<Value = (Method, String)> + use<> {
    let inquiry = w.inquiry.clone();
    let targets = vec![
        (Method::POST, "/api/v1/inquiries".to_owned()),
        (Method::PATCH, format!("/api/v1/inquiries/{inquiry}")),
        (Method::POST, format!("/api/v1/inquiries/{inquiry}/approve")),
        (Method::POST, "/api/v1/verifications".to_owned()),
        (Method::POST, "/api/v1/inquiry-templates".to_owned()),
        (Method::POST, "/api/v1/connect/connections".to_owned()),
        (Method::POST, "/api/v1/connect/share-tokens".to_owned()),
        (Method::POST, "/api/v1/webhooks".to_owned()),
        (Method::POST, "/api/v1/workflows".to_owned()),
        (Method::POST, "/api/v1/api-keys".to_owned()),
    ];
    proptest::sample::select(targets)
}

/// A multipart body: parts named `kind`, `file` or anything, with odd headers, filenames and
/// content types; sometimes truncated or with a boundary that does not match.
fn multipart() -> impl Strategy<Value = (String, Vec<u8>)> {
    let part = (
        prop_oneof![
            Just("kind".to_owned()),
            Just("file".to_owned()),
            "[a-z]{0,6}"
        ],
        proptest::option::of("[ -~]{0,20}"),
        proptest::option::of(prop_oneof![
            Just("image/png".to_owned()),
            Just("application/pdf".to_owned()),
            "[ -~]{0,20}"
        ]),
        prop_oneof![
            Just(b"selfie".to_vec()),
            Just(b"passport-front".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..64)
        ],
    );
    (
        "[a-zA-Z0-9'()+_,-./:=?]{1,40}",
        proptest::collection::vec(part, 0..4),
        any::<bool>(),
        0usize..8,
    )
        .prop_map(|(boundary, parts, declared_matches, truncate)| {
            let mut body = Vec::new();
            for (name, filename, ct, bytes) in parts {
                body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
                if let Some(f) = filename {
                    disposition.push_str(&format!("; filename=\"{f}\""));
                }
                body.extend_from_slice(disposition.as_bytes());
                body.extend_from_slice(b"\r\n");
                if let Some(ct) = ct {
                    body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
                }
                body.extend_from_slice(b"\r\n");
                body.extend_from_slice(&bytes);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            body.truncate(body.len().saturating_sub(truncate * 7));
            let declared = if declared_matches {
                boundary
            } else {
                format!("{boundary}x")
            };
            (
                format!("multipart/form-data; boundary=\"{declared}\""),
                body,
            )
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_input_never_breaks_the_contract() {
    let w = World::new().await;
    let tally = Tally::default();

    run(
        "query strings",
        &w,
        &tally,
        (proptest::sample::select(LISTS), query_string(&w)),
        async |w, t, (path, qs)| {
            let Some(r) = w
                .send(Method::GET, &format!("{path}?{qs}"), &[], None)
                .await
            else {
                return;
            };
            assert_contract(&format!("GET {path}?{qs}"), &r);
            assert!(
                matches!(r.status.as_u16(), 200 | 400),
                "GET {path}?{qs}: {}",
                r.status
            );
            if r.status == 200 {
                // A page's links are themselves valid queries of the same list.
                for name in ["next", "prev"] {
                    if let Some(link) = r.json["links"][name].as_str() {
                        let again = w.send(Method::GET, link, &[], None).await;
                        assert!(again.is_some_and(|a| a.status == 200), "{link}");
                    }
                }
            }
            t.add("query strings", &r);
        },
    );

    run(
        "Idempotency-Key",
        &w,
        &tally,
        prop_oneof![
            "[!-~]{1,255}".prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..300),
        ],
        async |w, t, key| {
            let body = json!({"data": {"attributes": {"reference-id": "fuzz"}}}).to_string();
            let headers = [("idempotency-key", key.clone())];
            let send = async || {
                w.send(
                    Method::POST,
                    "/api/v1/inquiries",
                    &headers,
                    Some(("application/json", body.clone().into_bytes())),
                )
                .await
            };
            let Some(first) = send().await else { return };
            assert_contract("Idempotency-Key", &first);
            let valid = !key.is_empty()
                && key.len() <= 255
                && key.iter().all(|b| (0x21..=0x7e).contains(b));
            if valid {
                assert_eq!(first.status, 201, "{key:?}");
                let again = send().await.unwrap_or_else(|| unreachable!());
                assert_eq!(again.bytes, first.bytes, "a retry replays the first answer");
                assert_eq!(again.header("idempotent-replayed"), Some("true"));
            } else {
                assert_eq!(first.status, 400, "{key:?}: {}", first.json);
                assert_eq!(first.code(), "invalid_header");
            }
            t.add("Idempotency-Key", &first);
        },
    );

    run(
        "Key-Inflection",
        &w,
        &tally,
        prop_oneof![
            proptest::sample::select(vec!["kebab", "camel", "snake", "Camel", "SNAKE", ""])
                .prop_map(|s| s.as_bytes().to_vec()),
            proptest::collection::vec(any::<u8>(), 0..20),
        ],
        async |w, t, value| {
            let path = format!("/api/v1/inquiries/{}", w.inquiry);
            let Some(r) = w
                .send(
                    Method::GET,
                    &path,
                    &[("key-inflection", value.clone())],
                    None,
                )
                .await
            else {
                return;
            };
            assert_contract("Key-Inflection", &r);
            assert!(
                matches!(r.status.as_u16(), 200 | 400),
                "{value:?}: {}",
                r.status
            );
            t.add("Key-Inflection", &r);
        },
    );

    run(
        "JSON bodies",
        &w,
        &tally,
        (body_target(&w), document(&w)),
        async |w, t, ((method, path), doc)| {
            let bytes = doc.to_string().into_bytes();
            let Some(r) = w
                .send(
                    method.clone(),
                    &path,
                    &[],
                    Some(("application/json", bytes)),
                )
                .await
            else {
                return;
            };
            assert_contract(&format!("{method} {path} {doc}"), &r);
            t.add("JSON bodies", &r);
        },
    );

    run(
        "raw bodies",
        &w,
        &tally,
        (
            body_target(&w),
            prop_oneof![
                Just("application/json".to_owned()),
                Just("application/vnd.api+json; charset=utf-8".to_owned()),
                Just("text/plain".to_owned()),
                "[ -~]{0,30}",
            ],
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..200),
                "[{}\\[\\]\":,a-z0-9 ]{0,80}".prop_map(String::into_bytes),
            ],
        ),
        async |w, t, ((method, path), ct, bytes)| {
            let Some(r) = w.send(method.clone(), &path, &[], Some((&ct, bytes))).await else {
                return;
            };
            assert_contract(&format!("{method} {path} ({ct})"), &r);
            t.add("raw bodies", &r);
        },
    );

    run(
        "multipart uploads",
        &w,
        &tally,
        multipart(),
        async |w, t, (ct, body)| {
            let path = format!("/api/v1/inquiries/{}/documents", w.inquiry);
            let Some(r) = w
                .send(Method::POST, &path, &[], Some((&ct, body.clone())))
                .await
            else {
                return;
            };
            assert_contract(
                &format!("upload {ct} {:?}", String::from_utf8_lossy(&body)),
                &r,
            );
            t.add("multipart uploads", &r);
        },
    );

    eprintln!(
        "fuzz outcomes: {:#?}",
        tally.0.into_inner().unwrap_or_default()
    );
}
