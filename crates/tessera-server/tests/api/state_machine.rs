//! Share tokens and connections as a state machine (issue 8, part 4): random sequences of
//! actions by three organizations — create, activate, deactivate and reactivate connections;
//! create, redeem (also several redemptions at once), and expire share tokens; idempotent retries
//! and reused keys; clock advances, worker drains and expiry sweeps — run against the real router
//! and store and against a small reference model. After every step, the status code and error
//! code of each call and every object's status as each organization sees it (or 404) must equal
//! the model's; at the end of a case, every object's events must too.
//!
//! Bounded so the suite stays fast: `TESSERA_STATE_MACHINE_CASES` (default 32) cases of up to
//! `TESSERA_STATE_MACHINE_STEPS` (default 30) steps, on each backend.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::http::Method;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;
use tessera_core::Clock;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{App, Org, Resp};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Who acts on an object: its source, its destination, or a given organization (often the third,
/// which must see 404).
#[derive(Debug, Clone, Copy)]
enum Who {
    Source,
    Destination,
    Org(usize),
}

/// Which inquiry a new share token names.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// The caller's completed inquiry (shareable).
    Completed,
    /// The caller's inquiry in `created` (422 `source_not_shareable`).
    NotShareable,
    /// Another organization's completed inquiry (422 `reference_not_found`).
    Foreign,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConnAction {
    Activate,
    Deactivate,
    Reactivate,
}

impl ConnAction {
    fn path(self) -> &'static str {
        match self {
            Self::Activate => "activate",
            Self::Deactivate => "deactivate",
            Self::Reactivate => "reactivate",
        }
    }

    fn past(self) -> &'static str {
        match self {
            Self::Activate => "activated",
            Self::Deactivate => "deactivated",
            Self::Reactivate => "reactivated",
        }
    }
}

#[derive(Debug, Clone)]
enum Action {
    CreateConnection {
        actor: usize,
        destination: usize,
        keyed: bool,
    },
    Connection {
        action: ConnAction,
        who: Who,
        conn: usize,
        keyed: bool,
    },
    CreateToken {
        who: Who,
        conn: usize,
        source: Source,
        expires_in: i64,
        keyed: bool,
    },
    Redeem {
        who: Who,
        token: usize,
        keyed: bool,
    },
    /// Several redemptions of one token at once.
    RedeemConcurrently {
        who: Vec<Who>,
        token: usize,
    },
    Expire {
        who: Who,
        token: usize,
        keyed: bool,
    },
    /// The same request again with the same `Idempotency-Key`: replayed byte for byte.
    Retry {
        which: usize,
    },
    /// The key of an earlier request on a different request: 400 `idempotency_key_reused`.
    ReuseKey {
        which: usize,
    },
    AdvanceClock {
        seconds: i64,
    },
    Drain,
    Housekeeping,
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        3 => Just(Who::Source),
        3 => Just(Who::Destination),
        2 => (0usize..3).prop_map(Who::Org),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    let conn_action = prop_oneof![
        2 => Just(ConnAction::Activate),
        2 => Just(ConnAction::Deactivate),
        1 => Just(ConnAction::Reactivate),
    ];
    let source = prop_oneof![
        6 => Just(Source::Completed),
        1 => Just(Source::NotShareable),
        1 => Just(Source::Foreign),
    ];
    prop_oneof![
        3 => (0usize..3, 0usize..3, any::<bool>()).prop_map(|(actor, destination, keyed)| {
            Action::CreateConnection { actor, destination, keyed }
        }),
        5 => (conn_action, who(), any::<usize>(), any::<bool>())
            .prop_map(|(action, who, conn, keyed)| Action::Connection { action, who, conn, keyed }),
        6 => (who(), any::<usize>(), source, prop_oneof![Just(60i64), 60i64..7200], any::<bool>())
            .prop_map(|(who, conn, source, expires_in, keyed)| {
                Action::CreateToken { who, conn, source, expires_in, keyed }
            }),
        4 => (who(), any::<usize>(), any::<bool>())
            .prop_map(|(who, token, keyed)| Action::Redeem { who, token, keyed }),
        1 => (prop::collection::vec(who(), 2..5), any::<usize>())
            .prop_map(|(who, token)| Action::RedeemConcurrently { who, token }),
        2 => (who(), any::<usize>(), any::<bool>())
            .prop_map(|(who, token, keyed)| Action::Expire { who, token, keyed }),
        2 => any::<usize>().prop_map(|which| Action::Retry { which }),
        1 => any::<usize>().prop_map(|which| Action::ReuseKey { which }),
        2 => prop_oneof![1i64..120, 120i64..2400].prop_map(|seconds| Action::AdvanceClock { seconds }),
        2 => Just(Action::Drain),
        1 => Just(Action::Housekeeping),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CStatus {
    Pending,
    Active,
    Inactive,
}

impl CStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TStatus {
    Created,
    Pending,
    Redeemed,
    Expired,
}

impl TStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Pending => "pending",
            Self::Redeemed => "redeemed",
            Self::Expired => "expired",
        }
    }
}

/// Events about one object: (organization whose environment got it, name).
type Events = Vec<(usize, String)>;

fn pair(events: &mut Events, src: usize, dst: usize, object: &str, what: &str) {
    events.push((src, format!("connect/{object}.outbound-{what}")));
    events.push((dst, format!("connect/{object}.inbound-{what}")));
}

#[derive(Debug)]
struct MConn {
    id: String,
    src: usize,
    dst: usize,
    status: CStatus,
    events: Events,
}

#[derive(Debug)]
struct MToken {
    id: String,
    src: usize,
    dst: usize,
    conn: usize,
    status: TStatus,
    expires_at: i64,
    events: Events,
    /// A notice of the source deactivating the connection is queued for it.
    notice_due: bool,
    /// Its destination was told of the revocation (once: a copy's `revoked` is told once).
    told_revoked: bool,
}

impl MToken {
    fn status_at(&self, now: i64) -> TStatus {
        if self.status == TStatus::Created && now >= self.expires_at {
            TStatus::Expired
        } else {
            self.status
        }
    }
}

/// A POST the case sent with an `Idempotency-Key`, and what it answered.
#[derive(Debug)]
struct Keyed {
    actor: usize,
    path: String,
    body: Option<String>,
    key: String,
    status: u16,
    bytes: Vec<u8>,
}

/// What a call must answer: a status and, for errors, a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expect {
    status: u16,
    code: Option<&'static str>,
}

const fn ok(status: u16) -> Expect {
    Expect { status, code: None }
}

const fn err(status: u16, code: &'static str) -> Expect {
    Expect {
        status,
        code: Some(code),
    }
}

/// The reference model.
#[derive(Debug, Default)]
struct Model {
    conns: Vec<MConn>,
    tokens: Vec<MToken>,
    keyed: Vec<Keyed>,
    next_key: usize,
    /// `notify_source_change` jobs queued (the source deactivated a connection with pending or
    /// redeemed tokens on it).
    notices: usize,
}

impl Model {
    /// What a drain of the worker does: every pending token is redeemed (by its job, or by its
    /// notice), then every queued notice tells its token's destination of the revocation, once
    /// per token. Returns how many jobs ran.
    fn drain(&mut self) -> usize {
        let mut ran = std::mem::take(&mut self.notices);
        for t in self.tokens.iter_mut() {
            if t.status == TStatus::Pending {
                t.status = TStatus::Redeemed;
                pair(&mut t.events, t.src, t.dst, "share-token", "redeemed");
                ran += 1;
            }
            if std::mem::take(&mut t.notice_due) && !t.told_revoked {
                t.told_revoked = true;
                t.events
                    .push((t.dst, "connect/share-token.source-revoked".into()));
            }
        }
        ran
    }

    fn open_exists(&self, src: usize, dst: usize) -> bool {
        self.conns
            .iter()
            .any(|c| c.src == src && c.dst == dst && c.status != CStatus::Inactive)
    }
}

/// How many of each outcome the runs saw (to show the sequences reach the interesting states).
#[derive(Debug, Default)]
struct Tally {
    cases: usize,
    steps: usize,
    outcomes: BTreeMap<String, usize>,
}

struct World {
    app: App,
    orgs: Vec<Org>,
    /// Per organization: a completed inquiry and one still `created`.
    completed: Vec<String>,
    created: Vec<String>,
    /// Outcomes seen in this case: "what → status code".
    outcomes: RefCell<BTreeMap<String, usize>>,
}

impl World {
    async fn new(backend: Backend) -> Self {
        let app = App::new(backend).await;
        let mut orgs = Vec::new();
        let mut completed = Vec::new();
        let mut created = Vec::new();
        for name in ["Alpha", "Beta", "Gamma"] {
            let org = app.org(name).await;
            completed.push(
                app.completed_inquiry(&org.sandbox, json!({"name-first": name}))
                    .await,
            );
            created.push(app.inquiry(&org.sandbox, json!({})).await);
            orgs.push(org);
        }
        Self {
            app,
            orgs,
            completed,
            created,
            outcomes: RefCell::default(),
        }
    }

    fn tally(&self, what: &str, e: Expect) {
        let code = e.code.map(|c| format!(" {c}")).unwrap_or_default();
        *self
            .outcomes
            .borrow_mut()
            .entry(format!("{what} → {}{code}", e.status))
            .or_default() += 1;
    }

    fn now(&self) -> i64 {
        self.app.db.clock.now().millis()
    }

    async fn post(&self, actor: usize, path: &str, body: Option<&str>, key: Option<&str>) -> Resp {
        let mut call = self
            .app
            .call(Method::POST, path)
            .key(&self.orgs[actor].sandbox);
        if let Some(k) = key {
            call = call.header("idempotency-key", k);
        }
        if let Some(b) = body {
            call = call.raw("application/json", b.as_bytes().to_vec());
        }
        call.send().await
    }
}

fn resolve(who: Who, src: usize, dst: usize) -> usize {
    match who {
        Who::Source => src,
        Who::Destination => dst,
        Who::Org(o) => o,
    }
}

#[track_caller]
fn check(w: &World, step: usize, what: &str, r: &Resp, e: Expect) {
    assert_eq!(
        r.status.as_u16(),
        e.status,
        "step {step}: {what}: status; body {}",
        r.json
    );
    if let Some(code) = e.code {
        assert_eq!(
            r.code(),
            code,
            "step {step}: {what}: error code; body {}",
            r.json
        );
    }
    w.tally(what, e);
}

/// Sends a POST (with a fresh idempotency key when `keyed`) and records it for retries.
async fn send(
    w: &World,
    m: &mut Model,
    actor: usize,
    path: String,
    body: Option<String>,
    keyed: bool,
) -> Resp {
    let key = keyed.then(|| {
        m.next_key += 1;
        format!("sm-{}", m.next_key)
    });
    let r = w.post(actor, &path, body.as_deref(), key.as_deref()).await;
    if let Some(key) = key {
        m.keyed.push(Keyed {
            actor,
            path,
            body,
            key,
            status: r.status.as_u16(),
            bytes: r.bytes.clone(),
        });
    }
    r
}

async fn step(w: &World, m: &mut Model, i: usize, action: &Action) {
    let now = w.now();
    match action {
        Action::CreateConnection {
            actor,
            destination,
            keyed,
        } => {
            let (src, dst) = (*actor, *destination);
            let expect = if m.open_exists(src, dst) {
                err(409, "connection_exists")
            } else {
                ok(201)
            };
            let body =
                json!({"data": {"attributes": {"destination-organization-id": w.orgs[dst].id}}});
            let r = send(
                w,
                m,
                src,
                "/api/v1/connect/connections".into(),
                Some(body.to_string()),
                *keyed,
            )
            .await;
            check(w, i, "create connection", &r, expect);
            if expect.status == 201 {
                let mut events = Vec::new();
                pair(&mut events, src, dst, "connection", "created");
                m.conns.push(MConn {
                    id: r.id(),
                    src,
                    dst,
                    status: CStatus::Pending,
                    events,
                });
            }
        }
        Action::Connection {
            action,
            who,
            conn,
            keyed,
        } => {
            if m.conns.is_empty() {
                return;
            }
            let ci = conn % m.conns.len();
            let c = &m.conns[ci];
            let actor = resolve(*who, c.src, c.dst);
            let (from, is_src, is_dst) = (c.status, actor == c.src, actor == c.dst);
            let to = match (action, from) {
                (ConnAction::Activate, CStatus::Pending) => Some(CStatus::Active),
                (ConnAction::Deactivate, CStatus::Pending | CStatus::Active) => {
                    Some(CStatus::Inactive)
                }
                (ConnAction::Reactivate, CStatus::Inactive) => Some(CStatus::Pending),
                _ => None,
            };
            let side_ok = match action {
                ConnAction::Activate => is_dst,
                ConnAction::Reactivate => is_src,
                ConnAction::Deactivate => is_src || is_dst,
            };
            let expect = if !is_src && !is_dst {
                err(404, "not_found")
            } else if !side_ok {
                err(403, "wrong_side")
            } else if to.is_none() {
                err(409, "invalid_status_transition")
            } else if *action == ConnAction::Reactivate && m.open_exists(c.src, c.dst) {
                err(409, "connection_exists")
            } else {
                ok(200)
            };
            let path = format!("/api/v1/connect/connections/{}/{}", c.id, action.path());
            let r = send(w, m, actor, path, None, *keyed).await;
            check(w, i, &format!("{} connection", action.path()), &r, expect);
            if let (200, Some(to)) = (expect.status, to) {
                assert_eq!(r.attr("status"), to.as_str(), "step {i}: {}", r.json);
                let c = &mut m.conns[ci];
                c.status = to;
                pair(&mut c.events, c.src, c.dst, "connection", action.past());
                // The source deactivating revokes what it shared: a notice per pending or
                // redeemed token on the connection (TRUST.md §3).
                if *action == ConnAction::Deactivate && is_src {
                    for t in m.tokens.iter_mut().filter(|t| {
                        t.conn == ci && matches!(t.status, TStatus::Pending | TStatus::Redeemed)
                    }) {
                        t.notice_due = true;
                        m.notices += 1;
                    }
                }
            }
        }
        Action::CreateToken {
            who,
            conn,
            source,
            expires_in,
            keyed,
        } => {
            if m.conns.is_empty() {
                return;
            }
            let ci = conn % m.conns.len();
            let c = &m.conns[ci];
            let actor = resolve(*who, c.src, c.dst);
            let inquiry = match source {
                Source::Completed => &w.completed[actor],
                Source::NotShareable => &w.created[actor],
                Source::Foreign => &w.completed[(actor + 1) % 3],
            };
            // A reference the caller cannot see is 422 here (Persona documents no 404).
            let expect = if actor != c.src && actor != c.dst {
                err(422, "reference_not_found")
            } else if actor != c.src {
                err(403, "wrong_side")
            } else if c.status != CStatus::Active {
                err(409, "connection_not_active")
            } else {
                match source {
                    Source::Completed => ok(201),
                    Source::NotShareable => err(422, "source_not_shareable"),
                    Source::Foreign => err(422, "reference_not_found"),
                }
            };
            let body = json!({"data": {"attributes": {
                "connection-id": c.id, "source-id": inquiry, "expires-in-seconds": expires_in}}});
            let (src, dst) = (c.src, c.dst);
            let r = send(
                w,
                m,
                actor,
                "/api/v1/connect/share-tokens".into(),
                Some(body.to_string()),
                *keyed,
            )
            .await;
            check(w, i, "create share token", &r, expect);
            if expect.status == 201 {
                assert_eq!(r.attr("status"), "created");
                let mut events = Vec::new();
                pair(&mut events, src, dst, "share-token", "created");
                m.tokens.push(MToken {
                    id: r.id(),
                    src,
                    dst,
                    conn: ci,
                    status: TStatus::Created,
                    expires_at: now + expires_in * 1000,
                    events,
                    notice_due: false,
                    told_revoked: false,
                });
            }
        }
        Action::Redeem { who, token, keyed } => {
            if m.tokens.is_empty() {
                return;
            }
            let ti = token % m.tokens.len();
            let actor = {
                let t = &m.tokens[ti];
                resolve(*who, t.src, t.dst)
            };
            let expect = redeem_expectation(m, ti, actor, now);
            let path = format!("/api/v1/connect/share-tokens/{}/redeem", m.tokens[ti].id);
            let r = send(w, m, actor, path, None, *keyed).await;
            check(w, i, "redeem", &r, expect);
            if expect.status == 202 {
                assert_eq!(r.attr("status"), "pending", "step {i}: {}", r.json);
                m.tokens[ti].status = TStatus::Pending;
            }
        }
        Action::RedeemConcurrently { who, token } => {
            if m.tokens.is_empty() {
                return;
            }
            let ti = token % m.tokens.len();
            let t = &m.tokens[ti];
            let actors: Vec<usize> = who.iter().map(|w| resolve(*w, t.src, t.dst)).collect();
            let path = format!("/api/v1/connect/share-tokens/{}/redeem", t.id);
            let responses =
                futures::future::join_all(actors.iter().map(|a| w.post(*a, &path, None, None)))
                    .await;
            let expect = redeem_expectation(m, ti, t.dst, now);
            let mut winners = 0;
            for (actor, r) in actors.iter().zip(&responses) {
                if *actor != t.dst {
                    check(
                        w,
                        i,
                        "concurrent redeem",
                        r,
                        redeem_expectation(m, ti, *actor, now),
                    );
                } else if expect.status == 202 && r.status.as_u16() == 202 {
                    winners += 1;
                    w.tally("concurrent redeem", expect);
                } else if expect.status == 202 {
                    check(
                        w,
                        i,
                        "concurrent redeem (lost)",
                        r,
                        err(409, "share_token_not_redeemable"),
                    );
                } else {
                    check(w, i, "concurrent redeem", r, expect);
                }
            }
            let by_destination = actors.iter().filter(|a| **a == t.dst).count();
            if expect.status == 202 && by_destination > 0 {
                assert_eq!(
                    winners, 1,
                    "step {i}: exactly one concurrent redemption wins"
                );
                m.tokens[ti].status = TStatus::Pending;
            }
        }
        Action::Expire { who, token, keyed } => {
            if m.tokens.is_empty() {
                return;
            }
            let ti = token % m.tokens.len();
            let t = &m.tokens[ti];
            let actor = resolve(*who, t.src, t.dst);
            let expect = if actor != t.src && actor != t.dst {
                err(404, "not_found")
            } else if t.status_at(now) != TStatus::Created {
                err(409, "invalid_status_transition")
            } else {
                ok(200)
            };
            let path = format!("/api/v1/connect/share-tokens/{}/expire", t.id);
            let r = send(w, m, actor, path, None, *keyed).await;
            check(w, i, "expire", &r, expect);
            if expect.status == 200 {
                assert_eq!(r.attr("status"), "expired", "step {i}: {}", r.json);
                let t = &mut m.tokens[ti];
                t.status = TStatus::Expired;
                t.expires_at = now;
                pair(&mut t.events, t.src, t.dst, "share-token", "expired");
            }
        }
        Action::Retry { which } => {
            if m.keyed.is_empty() {
                return;
            }
            let k = &m.keyed[which % m.keyed.len()];
            let r = w
                .post(k.actor, &k.path, k.body.as_deref(), Some(&k.key))
                .await;
            assert_eq!(r.status.as_u16(), k.status, "step {i}: replayed status");
            assert_eq!(
                r.bytes, k.bytes,
                "step {i}: a replay answers the first response byte for byte"
            );
            assert_eq!(r.header("idempotent-replayed"), Some("true"), "step {i}");
            w.tally("idempotent retry", ok(k.status));
        }
        Action::ReuseKey { which } => {
            if m.keyed.is_empty() {
                return;
            }
            let k = &m.keyed[which % m.keyed.len()];
            let body = format!("{} ", k.body.as_deref().unwrap_or(""));
            let r = w.post(k.actor, &k.path, Some(&body), Some(&k.key)).await;
            check(
                w,
                i,
                "reused idempotency key",
                &r,
                err(400, "idempotency_key_reused"),
            );
        }
        Action::AdvanceClock { seconds } => {
            w.app.db.clock.advance_seconds(*seconds);
        }
        Action::Drain => {
            let ran = w.app.drain().await;
            assert_eq!(
                ran,
                m.drain(),
                "step {i}: one redemption job per pending token, one notice per queued notice"
            );
        }
        Action::Housekeeping => {
            w.app.worker().housekeeping().await.unwrap();
            for t in m.tokens.iter_mut() {
                if t.status == TStatus::Created && now >= t.expires_at {
                    t.status = TStatus::Expired;
                    pair(&mut t.events, t.src, t.dst, "share-token", "expired");
                }
            }
        }
    }
}

fn redeem_expectation(m: &Model, ti: usize, actor: usize, now: i64) -> Expect {
    let t = &m.tokens[ti];
    if actor != t.src && actor != t.dst {
        return err(404, "not_found");
    }
    if actor != t.dst {
        return err(403, "wrong_side");
    }
    match t.status_at(now) {
        TStatus::Created => {}
        TStatus::Expired => return err(409, "share_token_expired"),
        _ => return err(409, "share_token_not_redeemable"),
    }
    if m.conns[t.conn].status != CStatus::Active {
        return err(409, "connection_not_active");
    }
    ok(202)
}

/// Every object as each organization sees it: its status and direction for its sides, 404 for
/// the others.
async fn assert_observable_state(w: &World, m: &Model, i: usize) {
    let now = w.now();
    for c in &m.conns {
        for o in 0..3 {
            let r = w
                .app
                .get(&format!("/api/v1/connect/connections/{}", c.id))
                .key(&w.orgs[o].sandbox)
                .send()
                .await;
            if o == c.src || o == c.dst {
                assert_eq!(r.status, 200, "step {i}: {}", r.json);
                assert_eq!(
                    r.attr("status"),
                    c.status.as_str(),
                    "step {i}: connection {}",
                    c.id
                );
                let direction = if o == c.src { "outbound" } else { "inbound" };
                assert_eq!(r.attr("direction"), direction, "step {i}");
            } else {
                assert_eq!(r.status, 404, "step {i}: a third organization sees nothing");
            }
        }
    }
    for t in &m.tokens {
        for o in 0..3 {
            let r = w
                .app
                .get(&format!("/api/v1/connect/share-tokens/{}", t.id))
                .key(&w.orgs[o].sandbox)
                .send()
                .await;
            if o == t.src || o == t.dst {
                assert_eq!(r.status, 200, "step {i}: {}", r.json);
                assert_eq!(
                    r.attr("status"),
                    t.status_at(now).as_str(),
                    "step {i}: share token {}",
                    t.id
                );
                let direction = if o == t.src { "outbound" } else { "inbound" };
                assert_eq!(r.attr("direction"), direction, "step {i}");
            } else {
                assert_eq!(r.status, 404, "step {i}: a third organization sees nothing");
            }
        }
    }
}

/// The events about each object, per organization, as a sorted list of names.
async fn assert_events(w: &World, m: &Model) {
    let objects = m
        .conns
        .iter()
        .map(|c| (&c.id, c.src, c.dst, &c.events))
        .chain(m.tokens.iter().map(|t| (&t.id, t.src, t.dst, &t.events)));
    for (id, src, dst, events) in objects {
        for o in [src, dst] {
            let mut want: Vec<&str> = events
                .iter()
                .filter(|(to, _)| *to == o)
                .map(|(_, n)| n.as_str())
                .collect();
            want.sort_unstable();
            let mut got = w.app.event_names(&w.orgs[o].sandbox, Some(id)).await;
            got.sort_unstable();
            assert_eq!(got, want, "events about {id} in organization {o}");
        }
    }
}

/// Every case starts from the same few objects (checked like every other step), so that the
/// random actions find something to act on: an active connection Alpha → Beta with a share token,
/// a pending one Beta → Gamma, and an active one of Gamma to itself.
fn prelude() -> Vec<Action> {
    let create = |actor, destination| Action::CreateConnection {
        actor,
        destination,
        keyed: false,
    };
    let activate = |conn| Action::Connection {
        action: ConnAction::Activate,
        who: Who::Destination,
        conn,
        keyed: false,
    };
    vec![
        create(0, 1),
        activate(0),
        create(1, 2),
        create(2, 2),
        activate(2),
        Action::CreateToken {
            who: Who::Source,
            conn: 0,
            source: Source::Completed,
            expires_in: 3600,
            keyed: true,
        },
    ]
}

async fn run_case(backend: Backend, actions: Vec<Action>, tally: &Mutex<Tally>) {
    let w = World::new(backend).await;
    let mut m = Model::default();
    for (i, a) in prelude().iter().enumerate() {
        step(&w, &mut m, i, a).await;
    }
    assert_eq!(m.conns.len(), 3);
    assert_eq!(m.tokens.len(), 1);
    assert_observable_state(&w, &m, 0).await;
    for (i, a) in actions.iter().enumerate() {
        step(&w, &mut m, i, a).await;
        assert_observable_state(&w, &m, i).await;
    }
    // What is still pending completes; what has expired is swept; then every event is there.
    w.app.drain().await;
    m.drain();
    w.app.worker().housekeeping().await.unwrap();
    let now = w.now();
    for t in &mut m.tokens {
        if t.status == TStatus::Created && now >= t.expires_at {
            t.status = TStatus::Expired;
            pair(&mut t.events, t.src, t.dst, "share-token", "expired");
        }
    }
    assert_observable_state(&w, &m, actions.len()).await;
    assert_events(&w, &m).await;
    let mut t = tally.lock().unwrap();
    t.cases += 1;
    t.steps += actions.len();
    for (k, n) in w.outcomes.take() {
        *t.outcomes.entry(k).or_default() += n;
    }
}

async fn share_tokens_and_connections_follow_the_model(backend: Backend) {
    let cases = env_usize("TESSERA_STATE_MACHINE_CASES", 32);
    let steps = env_usize("TESSERA_STATE_MACHINE_STEPS", 30);
    let config = Config {
        cases: u32::try_from(cases).unwrap_or(u32::MAX),
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    };
    let handle = tokio::runtime::Handle::current();
    let tally = Mutex::new(Tally::default());
    let result = tokio::task::block_in_place(|| {
        let mut runner = TestRunner::new(config);
        runner.run(&prop::collection::vec(action(), 1..=steps), |actions| {
            handle.block_on(run_case(backend, actions, &tally));
            Ok(())
        })
    });
    let t = tally.into_inner().unwrap();
    eprintln!(
        "state machine ({backend:?}): {} cases, {} steps; outcomes: {:#?}",
        t.cases, t.steps, t.outcomes
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

on_both_backends!(share_tokens_and_connections_follow_the_model);
