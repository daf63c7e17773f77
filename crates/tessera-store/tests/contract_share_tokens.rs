//! The store contract for share tokens: creation (with its refusals), reads and the list from
//! both sides, the redeem compare-and-set and its job, expiry by call and by the sweep, the
//! views, and the redemption job itself (the copy, its events and the job's completion). Each
//! scenario runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    all, claim_jobs, event_names, inquiry, job_counts, org, read, read_refused, refused, rows,
    write,
};
use serde_json::json;
use tessera_core::codes;
use tessera_core::connection::{ConnectionAction, Direction};
use tessera_core::document::DocumentKind;
use tessera_core::fields::{FieldType, FieldValue};
use tessera_core::id::{ApiKeyId, InquiryId, JobId, ShareTokenId};
use tessera_core::inquiry::{InquiryAction, InquiryStatus};
use tessera_core::job::{Job, RedeemShareToken};
use tessera_core::retry::{INTERNAL_JOB, RetryPolicy};
use tessera_core::share_token::{
    Disclosure, FieldMapping, RedeemMode, RedeemParams, ShareToken, ShareTokenStatus, SourceId,
    TokenSpec, failure,
};
use tessera_core::tenancy::{Actor, Scope};
use tessera_core::verification::{VerificationKind, VerificationStatus};
use tessera_store::testing::{Backend, TestDb};
use tessera_store::units::related::{Related, ShareTokenIncludes};
use tessera_store::units::{
    connections, documents, inquiries, jobs, redemption, share_tokens, verifications,
};
use tessera_store::{Store, on_both_backends};

/// Two organizations with an active connection from `source` to `destination`, and a completed
/// inquiry of the source with a field, a passed verification and a document.
struct Shared {
    source: Scope,
    destination: Scope,
    connection: tessera_core::id::ConnectionId,
    inquiry: InquiryId,
    verification: tessera_core::id::VerificationId,
}

fn creator() -> Actor {
    Actor::ApiKey(ApiKeyId::generate())
}

async fn shared(store: &Store) -> Shared {
    let common::Connected {
        source,
        destination,
        connection,
    } = common::connected(store).await;
    let new = inquiries::NewInquiry {
        fields: vec![
            (
                "name-first".into(),
                Some(FieldValue {
                    kind: FieldType::String,
                    value: json!("Ada"),
                }),
            ),
            (
                "name-last".into(),
                Some(FieldValue {
                    kind: FieldType::String,
                    value: json!("Lovelace"),
                }),
            ),
        ],
        ..Default::default()
    };
    let i = write(store, inquiries::create(source.clone(), new)).await;
    let v = write(
        store,
        verifications::record(
            source.clone(),
            verifications::NewVerification {
                inquiry_id: i.id.clone(),
                kind: VerificationKind::GovernmentId,
                status: VerificationStatus::Passed,
                checks: Vec::new(),
                attributes: Default::default(),
                completed_at: None,
            },
        ),
    )
    .await;
    write(
        store,
        documents::create(
            source.clone(),
            i.id.clone(),
            documents::NewDocument {
                kind: DocumentKind::Selfie,
                filename: Some("me.jpg".into()),
                content_type: "image/jpeg".into(),
                bytes: b"jpeg".to_vec(),
                sha256: "ef".repeat(32),
            },
        ),
    )
    .await;
    write(
        store,
        inquiries::transition(source.clone(), i.id.clone(), InquiryAction::Complete),
    )
    .await;
    Shared {
        source,
        destination,
        connection,
        inquiry: i.id,
        verification: v.id,
    }
}

async fn token(store: &Store, s: &Shared, expires_in: i64) -> ShareToken {
    write(
        store,
        share_tokens::create(
            s.source.clone(),
            TokenSpec::new(
                s.connection.clone(),
                SourceId::Inquiry(s.inquiry.clone()),
                expires_in,
            ),
            creator(),
        ),
    )
    .await
}

fn clone_params() -> RedeemParams {
    RedeemParams::default()
}

/// The one job queued: the redemption of `token`.
async fn the_redemption_job(store: &Store, token: &ShareTokenId) -> (JobId, RedeemShareToken) {
    let jobs = claim_jobs(store).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let (id, job) = jobs.into_iter().next().unwrap();
    let Job::RedeemShareToken(p) = job else {
        panic!("{job:?}")
    };
    assert_eq!(&p.share_token_id, token);
    (id, p)
}

async fn a_token_is_created_with_an_event_on_each_side(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let source_before = event_names(store, &s.source).await;
    let by = creator();
    let t = write(
        store,
        share_tokens::create(
            s.source.clone(),
            TokenSpec::new(
                s.connection.clone(),
                SourceId::Inquiry(s.inquiry.clone()),
                600,
            ),
            by.clone(),
        ),
    )
    .await;
    assert_eq!(t.status, ShareTokenStatus::Created);
    assert_eq!(t.source_inquiry_id, s.inquiry);
    assert_eq!(t.expires_at, common::now(store).plus_seconds(600));
    assert_eq!(t.creator, Some(by));
    for scope in [&s.source, &s.destination] {
        let got = read(store, share_tokens::get(scope.clone(), t.id.clone())).await;
        assert_eq!(got.status, ShareTokenStatus::Created);
        assert_eq!(got.expires_at, t.expires_at);
    }
    let source_after = event_names(store, &s.source).await;
    assert_eq!(
        source_after[source_before.len()..],
        ["connect/share-token.outbound-created"]
    );
    assert_eq!(
        event_names(store, &s.destination)
            .await
            .last()
            .map(String::as_str),
        Some("connect/share-token.inbound-created")
    );
    // A verification may be shared on its own.
    let tv = write(
        store,
        share_tokens::create(
            s.source.clone(),
            TokenSpec::new(
                s.connection.clone(),
                SourceId::Verification(s.verification.clone()),
                600,
            ),
            creator(),
        ),
    )
    .await;
    assert_eq!(
        tv.source_verification,
        Some((VerificationKind::GovernmentId, s.verification.clone()))
    );
    assert_eq!(tv.source_inquiry_id, s.inquiry);
    // Nothing was queued: a token waits to be redeemed.
    assert_eq!(job_counts(store).await.queued, 0);
}

async fn token_creation_refusals_leave_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let open = inquiry(store, &s.source).await;
    let (x, _) = org(store, "X").await;
    let foreign = inquiry(store, &x).await;
    let pending = write(
        store,
        connections::create(x.clone(), s.destination.org.clone(), None, creator()),
    )
    .await;
    let before = (
        event_names(store, &s.source).await,
        event_names(store, &s.destination).await,
    );
    let create = |scope: &Scope, connection, source| {
        share_tokens::create(
            scope.clone(),
            TokenSpec::new(connection, source, 600),
            creator(),
        )
    };
    let cases = [
        // The destination cannot create one.
        (
            create(
                &s.destination,
                s.connection.clone(),
                SourceId::Inquiry(s.inquiry.clone()),
            ),
            codes::WRONG_SIDE,
        ),
        // Only completed or approved inquiries are shared.
        (
            create(&s.source, s.connection.clone(), SourceId::Inquiry(open)),
            codes::SOURCE_NOT_SHAREABLE,
        ),
        // Another organization's inquiry is an unknown reference.
        (
            create(&s.source, s.connection.clone(), SourceId::Inquiry(foreign)),
            codes::REFERENCE_NOT_FOUND,
        ),
        // The connection must be active.
        (
            create(
                &x,
                pending.id.clone(),
                SourceId::Inquiry(inquiry(store, &x).await),
            ),
            codes::CONNECTION_NOT_ACTIVE,
        ),
    ];
    for (unit, code) in cases {
        let e = refused(store, unit).await;
        assert!(e.is(code), "{e:?} is not {code}");
    }
    assert_eq!(rows(store, "share_tokens").await, 0);
    assert_eq!(
        (
            event_names(store, &s.source).await,
            event_names(store, &s.destination).await
        ),
        before
    );
}

async fn redeem_starts_one_redemption_with_its_job(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let t = token(store, &s, 600).await;
    // The source cannot redeem.
    let e = refused(
        store,
        share_tokens::redeem(s.source.clone(), t.id.clone(), clone_params()),
    )
    .await;
    assert!(e.is(codes::WRONG_SIDE));
    assert_eq!(job_counts(store).await.queued, 0);
    let before = event_names(store, &s.destination).await;
    let pending = write(
        store,
        share_tokens::redeem(s.destination.clone(), t.id.clone(), clone_params()),
    )
    .await;
    assert_eq!(pending.status, ShareTokenStatus::Pending);
    assert_eq!(pending.redeem_mode, Some(RedeemMode::Clone));
    let got = read(store, share_tokens::get(s.source.clone(), t.id.clone())).await;
    assert_eq!(got.status, ShareTokenStatus::Pending);
    assert_eq!(got.pending_at, Some(common::now(store)));
    assert_eq!(got.redeem_params, Some(clone_params()));
    // No event until the copy is made; one job makes it.
    assert_eq!(event_names(store, &s.destination).await, before);
    assert_eq!(job_counts(store).await.queued, 1);
    // A second redeem is refused and queues nothing more.
    let e = refused(
        store,
        share_tokens::redeem(s.destination.clone(), t.id.clone(), clone_params()),
    )
    .await;
    assert!(e.is(codes::SHARE_TOKEN_NOT_REDEEMABLE));
    let (_, job) = the_redemption_job(store, &t.id).await;
    assert_eq!(job.cause, None);
}

async fn redeem_refuses_expired_tokens_and_inactive_connections(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let short = token(store, &s, 60).await;
    let other = token(store, &s, 600).await;
    db.clock.advance_seconds(61);
    let e = refused(
        store,
        share_tokens::redeem(s.destination.clone(), short.id.clone(), clone_params()),
    )
    .await;
    assert!(e.is(codes::SHARE_TOKEN_EXPIRED));
    write(
        store,
        connections::act(
            s.source.clone(),
            s.connection.clone(),
            ConnectionAction::Deactivate,
        ),
    )
    .await;
    let e = refused(
        store,
        share_tokens::redeem(s.destination.clone(), other.id.clone(), clone_params()),
    )
    .await;
    assert!(e.is(codes::CONNECTION_NOT_ACTIVE));
    // A hydrate of an inquiry the destination cannot see is not found.
    write(
        store,
        connections::act(
            s.source.clone(),
            s.connection.clone(),
            ConnectionAction::Reactivate,
        ),
    )
    .await;
    write(
        store,
        connections::act(
            s.destination.clone(),
            s.connection.clone(),
            ConnectionAction::Activate,
        ),
    )
    .await;
    let hydrate_foreign = RedeemParams {
        destination_id: Some(s.inquiry.clone()),
        ..Default::default()
    };
    let e = refused(
        store,
        share_tokens::redeem(s.destination.clone(), other.id.clone(), hydrate_foreign),
    )
    .await;
    assert!(e.is(codes::NOT_FOUND));
    for t in [&short, &other] {
        let got = read(
            store,
            share_tokens::get(s.destination.clone(), t.id.clone()),
        )
        .await;
        assert!(got.pending_at.is_none());
    }
    assert_eq!(job_counts(store).await.queued, 0);
}

async fn expire_by_call_and_by_the_sweep(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let by_call = token(store, &s, 600).await;
    let by_time = token(store, &s, 60).await;
    let lasting = token(store, &s, 6000).await;
    let expired = write(
        store,
        share_tokens::expire(s.destination.clone(), by_call.id.clone()),
    )
    .await;
    assert_eq!(expired.status, ShareTokenStatus::Expired);
    assert_eq!(expired.expires_at, common::now(store));
    let e = refused(
        store,
        share_tokens::expire(s.source.clone(), by_call.id.clone()),
    )
    .await;
    assert!(e.is(codes::INVALID_STATUS_TRANSITION));
    // Nor is a token being redeemed.
    let pending = token(store, &s, 600).await;
    write(
        store,
        share_tokens::redeem(s.destination.clone(), pending.id.clone(), clone_params()),
    )
    .await;
    let e = refused(
        store,
        share_tokens::expire(s.source.clone(), pending.id.clone()),
    )
    .await;
    assert!(e.is(codes::INVALID_STATUS_TRANSITION));
    assert_eq!(
        read(
            store,
            share_tokens::get(s.source.clone(), pending.id.clone())
        )
        .await
        .status,
        ShareTokenStatus::Pending
    );
    // Past its time a token reads as expired before the sweep persists it, and cannot be
    // expired by call.
    db.clock.advance_seconds(61);
    let got = read(
        store,
        share_tokens::get(s.source.clone(), by_time.id.clone()),
    )
    .await;
    assert_eq!(got.status_at(common::now(store)), ShareTokenStatus::Expired);
    let e = refused(
        store,
        share_tokens::expire(s.source.clone(), by_time.id.clone()),
    )
    .await;
    assert!(e.is(codes::INVALID_STATUS_TRANSITION));
    let expired_filter = share_tokens::ShareTokenFilter {
        statuses: vec![ShareTokenStatus::Expired],
        ..Default::default()
    };
    let listed: Vec<_> = read(
        store,
        share_tokens::list(s.source.clone(), expired_filter, all()),
    )
    .await
    .items
    .into_iter()
    .map(|t| t.id)
    .collect();
    assert_eq!(listed, vec![by_time.id.clone(), by_call.id.clone()]);
    let outbound_expired = |names: Vec<String>| {
        names
            .iter()
            .filter(|n| *n == "connect/share-token.outbound-expired")
            .count()
    };
    assert_eq!(outbound_expired(event_names(store, &s.source).await), 1);
    // The sweep persists it, at its own expiry time, with its events.
    assert_eq!(write(store, share_tokens::sweep_expired(10)).await, 1);
    let got = read(
        store,
        share_tokens::get(s.destination.clone(), by_time.id.clone()),
    )
    .await;
    assert_eq!(got.status, ShareTokenStatus::Expired);
    assert_eq!(got.expires_at, by_time.expires_at);
    assert_eq!(outbound_expired(event_names(store, &s.source).await), 2);
    let inbound = event_names(store, &s.destination).await;
    assert_eq!(
        inbound
            .iter()
            .filter(|n| *n == "connect/share-token.inbound-expired")
            .count(),
        2
    );
    assert_eq!(write(store, share_tokens::sweep_expired(10)).await, 0);
    assert_eq!(
        read(
            store,
            share_tokens::get(s.source.clone(), lasting.id.clone())
        )
        .await
        .status,
        ShareTokenStatus::Created
    );
}

async fn the_list_shows_each_side_its_tokens(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let one = token(store, &s, 600).await;
    let two = token(store, &s, 600).await;
    write(
        store,
        share_tokens::redeem(s.destination.clone(), two.id.clone(), clone_params()),
    )
    .await;
    let ids = |scope: Scope, filter: share_tokens::ShareTokenFilter| async move {
        read(store, share_tokens::list(scope, filter, all()))
            .await
            .items
            .into_iter()
            .map(|t| t.id)
            .collect::<Vec<_>>()
    };
    let both = vec![two.id.clone(), one.id.clone()];
    assert_eq!(ids(s.source.clone(), Default::default()).await, both);
    assert_eq!(ids(s.destination.clone(), Default::default()).await, both);
    let inbound = share_tokens::ShareTokenFilter {
        direction: Some(Direction::Inbound),
        ..Default::default()
    };
    assert!(ids(s.source.clone(), inbound.clone()).await.is_empty());
    assert_eq!(ids(s.destination.clone(), inbound).await, both);
    let pending = share_tokens::ShareTokenFilter {
        statuses: vec![ShareTokenStatus::Pending],
        ..Default::default()
    };
    assert_eq!(ids(s.source.clone(), pending).await, vec![two.id.clone()]);
    let created = share_tokens::ShareTokenFilter {
        statuses: vec![ShareTokenStatus::Created],
        connection_id: Some(s.connection.clone()),
        ..Default::default()
    };
    assert_eq!(ids(s.source.clone(), created).await, vec![one.id.clone()]);
    let (x, _) = org(store, "X").await;
    assert!(ids(x.clone(), Default::default()).await.is_empty());
    let e = read_refused(store, share_tokens::get(x, one.id.clone())).await;
    assert!(e.is(codes::NOT_FOUND));
}

async fn views_show_each_side_what_it_may_see(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let t = token(store, &s, 600).await;
    let everything = ShareTokenIncludes {
        connection: true,
        source: true,
        destination: true,
    };
    let kinds = |related: &[Related]| -> Vec<&'static str> {
        related
            .iter()
            .map(|r| match r {
                Related::Connection(_) => "connection",
                Related::Inquiry(_) => "inquiry",
                Related::Verification(_) => "verification",
                Related::Document(_) => "document",
                Related::Template(_) => "template",
            })
            .collect()
    };
    // The destination may peek at the source while the token is created.
    let shown = read(
        store,
        share_tokens::show(
            s.destination.clone(),
            t.id.clone(),
            everything,
            Some(Default::default()),
        ),
    )
    .await;
    assert_eq!(shown.token.id, t.id);
    assert_eq!(kinds(&shown.included), vec!["connection"]);
    let peek = shown.source_data.expect("the destination peeks");
    assert_eq!(peek["type"], json!("connect/source-data/inquiry"));
    assert_eq!(peek["id"], json!(s.inquiry));
    assert!(peek["peekable-attributes"]["fields"]["name-first"].is_object());
    // The source sees its inquiry, never a peek.
    let shown = read(
        store,
        share_tokens::show(
            s.source.clone(),
            t.id.clone(),
            everything,
            Some(Default::default()),
        ),
    )
    .await;
    assert_eq!(kinds(&shown.included), vec!["connection", "inquiry"]);
    assert!(shown.source_data.is_none());
    let shown = read(
        store,
        share_tokens::show(s.source.clone(), t.id.clone(), Default::default(), None),
    )
    .await;
    assert!(shown.included.is_empty() && shown.source_data.is_none());
    // A change with its related objects: once redeemed, no more peeking.
    let (pending, related) = write(
        store,
        share_tokens::with_related(
            share_tokens::redeem(s.destination.clone(), t.id.clone(), clone_params()),
            s.destination.clone(),
            everything,
        ),
    )
    .await;
    assert_eq!(pending.status, ShareTokenStatus::Pending);
    assert_eq!(kinds(&related), vec!["connection"]);
    let shown = read(
        store,
        share_tokens::show(
            s.destination.clone(),
            t.id.clone(),
            everything,
            Some(Default::default()),
        ),
    )
    .await;
    assert!(shown.source_data.is_none());
}

async fn the_redemption_job_makes_the_copy_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let t = token(store, &s, 600).await;
    let params = RedeemParams {
        field_mappings: vec![
            FieldMapping {
                source_field_name: "name-first".into(),
                destination_field_name: "first".into(),
            },
            // A source field of the mapped name is copied under its own name and wins.
            FieldMapping {
                source_field_name: "name-first".into(),
                destination_field_name: "name-last".into(),
            },
        ],
        ..Default::default()
    };
    write(
        store,
        share_tokens::redeem(s.destination.clone(), t.id.clone(), params),
    )
    .await;
    let (job, payload) = the_redemption_job(store, &t.id).await;
    let source_before = event_names(store, &s.source).await;
    let dest_before = event_names(store, &s.destination).await;
    let redemption::Outcome::Redeemed(done) =
        write(store, redemption::redeem(job.clone(), payload.clone())).await
    else {
        panic!("the redemption makes the copy")
    };
    assert_eq!(done.status, ShareTokenStatus::Redeemed);
    let copy_id = done.destination_inquiry_id.clone().expect("a copy");
    // The copy: the fields (under their name and the mapped one), the verification and the
    // document, and the share-token verification; completed (no template requires anything).
    let copy = read(
        store,
        inquiries::get(s.destination.clone(), copy_id.clone()),
    )
    .await;
    assert_eq!(copy.status, InquiryStatus::Completed);
    assert_eq!(copy.fields["name-first"].value, json!("Ada"));
    assert_eq!(copy.fields["first"].value, json!("Ada"));
    assert_eq!(copy.fields["name-last"].value, json!("Lovelace"));
    assert_eq!(
        copy.shared_from.as_ref().map(|f| f.inquiry_id.clone()),
        Some(s.inquiry.clone())
    );
    let kinds: Vec<_> = read(
        store,
        verifications::for_inquiry(s.destination.clone(), copy_id.clone()),
    )
    .await
    .into_iter()
    .map(|v| (v.kind, v.status))
    .collect();
    assert_eq!(
        kinds,
        vec![
            (VerificationKind::GovernmentId, VerificationStatus::Passed),
            (VerificationKind::ShareToken, VerificationStatus::Passed)
        ]
    );
    let docs = read(
        store,
        documents::for_inquiry(s.destination.clone(), copy_id.clone()),
    )
    .await;
    assert_eq!(docs.len(), 1);
    let (_, bytes) = read(
        store,
        documents::file(s.destination.clone(), docs[0].id.clone()),
    )
    .await;
    assert_eq!(bytes, b"jpeg");
    // Its events, on each side; the job is done.
    assert_eq!(
        event_names(store, &s.destination).await[dest_before.len()..],
        [
            "inquiry.created",
            "inquiry.completed",
            "inquiry.transitioned",
            "connect/share-token.inbound-redeemed"
        ]
    );
    assert_eq!(
        event_names(store, &s.source).await[source_before.len()..],
        ["connect/share-token.outbound-redeemed"]
    );
    assert_eq!(job_counts(store).await, Default::default());
    let got = read(store, share_tokens::get(s.source.clone(), t.id.clone())).await;
    assert_eq!(got.status, ShareTokenStatus::Redeemed);
    assert!(got.redeemed_at.is_some());
    // The same job run again (a retried delivery of it) does nothing.
    let again = write(store, redemption::redeem(job, payload)).await;
    assert!(matches!(again, redemption::Outcome::Nothing), "{again:?}");
    assert_eq!(rows(store, "inquiries").await, 2);
    assert_eq!(
        event_names(store, &s.destination).await.len(),
        dest_before.len() + 4
    );
    let again = write(store, redemption::run(t.id.clone())).await;
    assert!(matches!(again, redemption::Outcome::Nothing), "{again:?}");
}

async fn a_hydrate_fills_the_destinations_inquiry(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let t = token(store, &s, 600).await;
    let target = inquiry(store, &s.destination).await;
    let params = RedeemParams {
        destination_id: Some(target.clone()),
        ..Default::default()
    };
    let pending = write(
        store,
        share_tokens::redeem(s.destination.clone(), t.id.clone(), params),
    )
    .await;
    assert_eq!(pending.redeem_mode, Some(RedeemMode::Hydrate));
    assert_eq!(pending.destination_inquiry_id, Some(target.clone()));
    let redemption::Outcome::Redeemed(done) = write(store, redemption::run(t.id.clone())).await
    else {
        panic!("the redemption fills the inquiry")
    };
    assert_eq!(done.destination_inquiry_id, Some(target.clone()));
    let filled = read(store, inquiries::get(s.destination.clone(), target)).await;
    assert_eq!(filled.fields["name-first"].value, json!("Ada"));
    assert_eq!(filled.status, InquiryStatus::Completed);
    assert_eq!(rows(store, "inquiries").await, 2, "no new inquiry");
    // `run` does not complete a job: the redemption job is still queued.
    assert_eq!(job_counts(store).await.queued, 1);
}

async fn a_redemption_fails_when_the_source_is_redacted_or_given_up(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let redacted = token(store, &s, 600).await;
    let stuck = token(store, &s, 600).await;
    for t in [&redacted, &stuck] {
        write(
            store,
            share_tokens::redeem(s.destination.clone(), t.id.clone(), clone_params()),
        )
        .await;
    }
    write(
        store,
        inquiries::redact(s.source.clone(), s.inquiry.clone()),
    )
    .await;
    let redemption::Outcome::Failed(failed) =
        write(store, redemption::run(redacted.id.clone())).await
    else {
        panic!("a redacted source fails the redemption")
    };
    assert_eq!(
        failed.failure_reason.as_deref(),
        Some(failure::SOURCE_REDACTED)
    );
    let got = read(
        store,
        share_tokens::get(s.destination.clone(), redacted.id.clone()),
    )
    .await;
    assert_eq!(got.status, ShareTokenStatus::Failed);
    assert!(got.failed_at.is_some());
    // Giving up on a redemption fails it too, once.
    write(store, redemption::give_up(stuck.id.clone())).await;
    let got = read(store, share_tokens::get(s.source.clone(), stuck.id.clone())).await;
    assert_eq!(got.status, ShareTokenStatus::Failed);
    assert_eq!(
        got.failure_reason.as_deref(),
        Some(failure::REDEMPTION_ERROR)
    );
    write(store, redemption::give_up(stuck.id.clone())).await;
    let failed_events = event_names(store, &s.destination)
        .await
        .into_iter()
        .filter(|n| n == "connect/share-token.inbound-failed")
        .count();
    assert_eq!(failed_events, 2);
    assert_eq!(
        event_names(store, &s.source)
            .await
            .into_iter()
            .filter(|n| n == "connect/share-token.outbound-failed")
            .count(),
        2
    );
    assert_eq!(rows(store, "inquiries").await, 1, "no copy was made");
}

async fn a_redemption_job_out_of_attempts_fails_its_token(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let t = token(store, &s, 600).await;
    write(
        store,
        share_tokens::redeem(s.destination.clone(), t.id.clone(), clone_params()),
    )
    .await;
    let claimed = common::claim_all(store).await.pop().unwrap();
    let before = event_names(store, &s.destination).await;
    // Attempts left: released, the token still pending.
    write(
        store,
        jobs::fail(claimed.clone(), INTERNAL_JOB, 0.5, "copy failed".into()),
    )
    .await;
    let got = read(store, share_tokens::get(s.source.clone(), t.id.clone())).await;
    assert_eq!(got.status, ShareTokenStatus::Pending);
    assert_eq!(job_counts(store).await.queued, 1);
    assert_eq!(event_names(store, &s.destination).await, before);
    // Its last attempt: the token fails (`redemption_error`) with its events; the job is buried.
    let last = RetryPolicy {
        max_attempts: 1,
        ..INTERNAL_JOB
    };
    write(store, jobs::fail(claimed, last, 0.5, "copy failed".into())).await;
    let got = read(store, share_tokens::get(s.source.clone(), t.id.clone())).await;
    assert_eq!(got.status, ShareTokenStatus::Failed);
    assert_eq!(
        got.failure_reason.as_deref(),
        Some(failure::REDEMPTION_ERROR)
    );
    assert_eq!(
        event_names(store, &s.destination).await[before.len()..],
        ["connect/share-token.inbound-failed"]
    );
    assert_eq!(
        job_counts(store).await,
        jobs::Counts {
            queued: 0,
            running: 0,
            dead: 1
        }
    );
}

/// The manifest is the redemption's plan unwritten: its dry run and digest are what the
/// redemption records, a disclosure limits both, and a mapping cannot reach past it.
async fn the_manifest_is_the_copy_a_redemption_makes(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let spec = TokenSpec {
        disclosure: Disclosure {
            fields: Some(vec!["name-first".into()]),
            documents: Some(vec![]),
            ..Default::default()
        },
        ..TokenSpec::new(
            s.connection.clone(),
            SourceId::Inquiry(s.inquiry.clone()),
            600,
        )
    };
    let t = write(
        store,
        share_tokens::create(s.source.clone(), spec, creator()),
    )
    .await;
    let request = share_tokens::ManifestRequest::default();
    let e = read_refused(
        store,
        share_tokens::manifest(s.source.clone(), t.id.clone(), request.clone()),
    )
    .await;
    assert_eq!(e.code, codes::WRONG_SIDE);
    let m = read(
        store,
        share_tokens::manifest(s.destination.clone(), t.id.clone(), request),
    )
    .await;
    let names: Vec<&str> = m.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["name-first"], "name-last is not disclosed");
    assert_eq!(m.verifications.len(), 1);
    assert!(m.documents.is_empty(), "no document kind is disclosed");

    let mapped = RedeemParams {
        field_mappings: vec![FieldMapping {
            source_field_name: "name-last".into(),
            destination_field_name: "surname".into(),
        }],
        ..Default::default()
    };
    let e = refused(
        store,
        share_tokens::redeem(s.destination.clone(), t.id.clone(), mapped),
    )
    .await;
    assert_eq!(e.code, codes::FIELD_NOT_DISCLOSED);

    let params = RedeemParams {
        manifest_digest: Some(m.digest.clone()),
        ..Default::default()
    };
    write(
        store,
        share_tokens::redeem(s.destination.clone(), t.id.clone(), params),
    )
    .await;
    let redemption::Outcome::Redeemed(done) = write(store, redemption::run(t.id.clone())).await
    else {
        panic!("the redemption copies")
    };
    assert_eq!(done.copy_digest.as_deref(), Some(m.digest.as_str()));
    assert_eq!(done.manifest_matched, Some(true));
    let copy = read(
        store,
        inquiries::get(
            s.destination.clone(),
            done.destination_inquiry_id.clone().unwrap(),
        ),
    )
    .await;
    assert_eq!(copy.fields.keys().collect::<Vec<_>>(), ["name-first"]);
    assert!(copy.documents.is_empty());
}

on_both_backends!(
    the_manifest_is_the_copy_a_redemption_makes,
    a_redemption_job_out_of_attempts_fails_its_token,
    a_token_is_created_with_an_event_on_each_side,
    token_creation_refusals_leave_nothing,
    redeem_starts_one_redemption_with_its_job,
    redeem_refuses_expired_tokens_and_inactive_connections,
    expire_by_call_and_by_the_sweep,
    the_list_shows_each_side_its_tokens,
    views_show_each_side_what_it_may_see,
    the_redemption_job_makes_the_copy_once,
    a_hydrate_fills_the_destinations_inquiry,
    a_redemption_fails_when_the_source_is_redacted_or_given_up,
);
