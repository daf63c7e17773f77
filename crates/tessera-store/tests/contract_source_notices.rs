//! The store contract for notices after redemption: a source's redaction or deactivation writes
//! one `notify_source_change` job per affected token in its own unit (none for a token not yet
//! redeemed, none when the unit is refused), and the job's unit marks the copy once, emits to the
//! destination, applies its policy and completes the job. Each scenario runs on SQLite and
//! PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{claim_jobs, events_about, job_counts, now, read, refused, write};
use serde_json::json;
use tessera_core::connection::ConnectionAction;
use tessera_core::fields::{FieldType, FieldValue};
use tessera_core::id::{ApiKeyId, ConnectionId, InquiryId, JobId, ShareTokenId, VerificationId};
use tessera_core::inquiry::InquiryAction;
use tessera_core::job::{Job, NotifySourceChange};
use tessera_core::share_token::{RedeemParams, ShareTokenStatus, SourceId, TokenSpec};
use tessera_core::source_status::{OnSourceRedaction, SourceChange, SourceStatus};
use tessera_core::template::TemplateSpec;
use tessera_core::tenancy::{Actor, Scope};
use tessera_core::verification::{VerificationKind, VerificationStatus};
use tessera_core::{Timestamp, codes};
use tessera_store::testing::{Backend, TestDb};
use tessera_store::units::source_notices::{self, Notice};
use tessera_store::units::{
    connections, inquiries, redemption, share_tokens, templates, verifications,
};
use tessera_store::{Store, on_both_backends};

/// A source and a destination over an active connection, and a completed inquiry of the source
/// with a field and a passed verification.
struct Shared {
    source: Scope,
    destination: Scope,
    connection: ConnectionId,
    inquiry: InquiryId,
    verification: VerificationId,
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
        fields: vec![(
            "name-first".into(),
            Some(FieldValue {
                kind: FieldType::String,
                value: json!("Ada"),
            }),
        )],
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

impl Shared {
    /// A token of the inquiry, `created`.
    async fn token(&self, store: &Store) -> ShareTokenId {
        let source = SourceId::Inquiry(self.inquiry.clone());
        write(
            store,
            share_tokens::create(
                self.source.clone(),
                TokenSpec::new(self.connection.clone(), source, 600),
                creator(),
            ),
        )
        .await
        .id
    }

    /// A token redeemed with `params` (its redemption job run); returns it and its copy.
    async fn redeemed(&self, store: &Store, params: RedeemParams) -> (ShareTokenId, InquiryId) {
        let id = self.token(store).await;
        write(
            store,
            share_tokens::redeem(self.destination.clone(), id.clone(), params),
        )
        .await;
        let (job, payload) = only_job(store).await;
        let Job::RedeemShareToken(p) = payload else {
            panic!("a redemption job")
        };
        let redemption::Outcome::Redeemed(t) = write(store, redemption::redeem(job, p)).await
        else {
            panic!("redeemed")
        };
        (id, t.destination_inquiry_id.expect("a copy"))
    }
}

/// The one job due now, claimed.
async fn only_job(store: &Store) -> (JobId, Job) {
    let mut jobs = claim_jobs(store).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    jobs.remove(0)
}

/// The notices due now, claimed: (job, payload), in the order they were written.
async fn notices(store: &Store) -> Vec<(JobId, NotifySourceChange)> {
    claim_jobs(store)
        .await
        .into_iter()
        .map(|(id, job)| match job {
            Job::NotifySourceChange(p) => (id, p),
            other => panic!("not a notice: {other:?}"),
        })
        .collect()
}

async fn a_source_change_writes_one_notice_per_redeemed_or_pending_token(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let (redeemed, _) = s.redeemed(store, RedeemParams::default()).await;
    let pending = s.token(store).await;
    write(
        store,
        share_tokens::redeem(
            s.destination.clone(),
            pending.clone(),
            RedeemParams::default(),
        ),
    )
    .await;
    only_job(store).await; // its redemption, leased and left running
    let _created = s.token(store).await;

    // A refused redaction (another organization's verification) writes nothing.
    let e = refused(
        store,
        verifications::redact_showing(s.destination.clone(), s.verification.clone(), false),
    )
    .await;
    assert!(e.is(codes::NOT_FOUND));
    assert_eq!(job_counts(store).await.queued, 0);

    let at = now(store);
    write(
        store,
        inquiries::redact(s.source.clone(), s.inquiry.clone()),
    )
    .await;
    let written = notices(store).await;
    // The notices are written in no particular order: compare them as a set.
    let mut tokens: Vec<_> = written
        .iter()
        .map(|(_, p)| p.share_token_id.to_string())
        .collect();
    tokens.sort();
    let mut expected = [redeemed.to_string(), pending.to_string()];
    expected.sort();
    assert_eq!(tokens, expected, "the created token has no copy to tell");
    for (_, p) in &written {
        assert_eq!(
            (p.change, p.changed_at, &p.cause),
            (SourceChange::Redacted, at, &None)
        );
    }
    // Redacting again (inquiry or verification) writes no notice again.
    write(
        store,
        inquiries::redact(s.source.clone(), s.inquiry.clone()),
    )
    .await;
    write(
        store,
        verifications::redact_showing(s.source.clone(), s.verification.clone(), false),
    )
    .await;
    assert_eq!(job_counts(store).await.queued, 0);
}

async fn a_notice_marks_the_copy_once_and_completes_its_job(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let (token, copy) = s.redeemed(store, RedeemParams::default()).await;
    let before = read(store, inquiries::get(s.destination.clone(), copy.clone())).await;
    assert_eq!(before.shown_source_status(), Some(SourceStatus::Current));
    let at = now(store);
    write(
        store,
        verifications::redact_showing(s.source.clone(), s.verification.clone(), false),
    )
    .await;
    let (job, p) = notices(store).await.remove(0);
    db.clock.advance_seconds(30);
    let done = write(store, source_notices::notify(job.clone(), p.clone())).await;
    assert_eq!(
        done,
        Notice::Marked {
            copy: copy.clone(),
            status: SourceStatus::Redacted,
            redacted: false
        }
    );
    assert_eq!(
        job_counts(store).await.queued + job_counts(store).await.running,
        0
    );
    let after = read(store, inquiries::get(s.destination.clone(), copy.clone())).await;
    assert_eq!(after.source_status, Some(SourceStatus::Redacted));
    assert_eq!(
        after.source_status_changed_at,
        Some(at),
        "when the source changed"
    );
    assert_eq!(after.fields, before.fields, "keep: the copy stays");
    let about = events_about(store, &s.destination, copy.as_str()).await;
    assert_eq!(
        about.last().map(String::as_str),
        Some("inquiry.source-redacted")
    );
    // Run again: nothing changes, nothing is emitted.
    let again = write(store, source_notices::notify(job, p)).await;
    assert_eq!(again, Notice::Unchanged);
    assert_eq!(
        events_about(store, &s.destination, copy.as_str()).await,
        about
    );
    // The source's own events know nothing of the destination's copy.
    assert!(
        events_about(store, &s.source, copy.as_str())
            .await
            .is_empty()
    );
    let _ = token;
}

async fn a_notice_for_a_pending_token_makes_its_copy_first(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let token = s.token(store).await;
    write(
        store,
        share_tokens::redeem(
            s.destination.clone(),
            token.clone(),
            RedeemParams::default(),
        ),
    )
    .await;
    let (redeem_job, Job::RedeemShareToken(r)) = only_job(store).await else {
        panic!("a redemption job")
    };
    write(
        store,
        connections::act(
            s.source.clone(),
            s.connection.clone(),
            ConnectionAction::Deactivate,
        ),
    )
    .await;
    let (job, p) = notices(store).await.remove(0);
    assert_eq!(p.change, SourceChange::Revoked);
    // The notice runs before the redemption's job: it makes the copy, then tells it.
    let Notice::Marked { copy, status, .. } = write(store, source_notices::notify(job, p)).await
    else {
        panic!("marked")
    };
    assert_eq!(status, SourceStatus::Revoked);
    let t = read(
        store,
        share_tokens::get(s.destination.clone(), token.clone()),
    )
    .await;
    assert_eq!(
        (t.status, t.destination_inquiry_id.as_ref()),
        (ShareTokenStatus::Redeemed, Some(&copy))
    );
    let about = events_about(store, &s.destination, token.as_str()).await;
    assert_eq!(
        about[about.len() - 2..],
        [
            "connect/share-token.inbound-redeemed",
            "connect/share-token.source-revoked"
        ]
    );
    let c = read(store, inquiries::get(s.destination.clone(), copy)).await;
    assert_eq!(c.source_status, Some(SourceStatus::Revoked));
    // The redemption's own job then finds nothing to do: one copy.
    let done = write(store, redemption::redeem(redeem_job, r)).await;
    assert!(matches!(done, redemption::Outcome::Nothing), "{done:?}");
    assert_eq!(
        job_counts(store).await.queued + job_counts(store).await.running,
        0
    );
}

async fn only_the_source_revokes_and_a_token_without_a_copy_tells_no_one(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    s.redeemed(store, RedeemParams::default()).await;
    let t = s.token(store).await;
    write(
        store,
        connections::act(
            s.destination.clone(),
            s.connection.clone(),
            ConnectionAction::Deactivate,
        ),
    )
    .await;
    assert!(
        claim_jobs(store).await.is_empty(),
        "the destination ended it"
    );
    // A notice for a token that never made a copy tells no one.
    let p = NotifySourceChange {
        share_token_id: t.clone(),
        change: SourceChange::Revoked,
        changed_at: Timestamp::from_millis(0),
        cause: None,
    };
    let created = read(store, share_tokens::get(s.source.clone(), t)).await;
    assert_eq!(created.status, ShareTokenStatus::Created);
    assert_eq!(
        write(store, source_notices::notify(JobId::generate(), p)).await,
        Notice::NoCopy
    );
}

async fn the_redact_policy_redacts_the_copy_in_the_notices_unit(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let s = shared(store).await;
    let spec = TemplateSpec::parse("Strict".into(), vec![], vec![], None, None)
        .unwrap()
        .on_source_redaction(OnSourceRedaction::Redact);
    let strict = write(store, templates::create(s.destination.clone(), spec)).await;
    assert_eq!(strict.on_source_redaction, OnSourceRedaction::Redact);
    let params = RedeemParams {
        inquiry_template_id: Some(strict.id.clone()),
        ..Default::default()
    };
    let (_, copy) = s.redeemed(store, params).await;
    write(
        store,
        inquiries::redact(s.source.clone(), s.inquiry.clone()),
    )
    .await;
    let (job, p) = notices(store).await.remove(0);
    let done = write(store, source_notices::notify(job, p)).await;
    assert_eq!(
        done,
        Notice::Marked {
            copy: copy.clone(),
            status: SourceStatus::Redacted,
            redacted: true
        }
    );
    let c = read(store, inquiries::get(s.destination.clone(), copy.clone())).await;
    assert!(c.redacted_at.is_some());
    assert!(c.fields.values().all(|f| f.value.is_null()));
    let about = events_about(store, &s.destination, copy.as_str()).await;
    assert_eq!(
        about[about.len() - 2..],
        ["inquiry.source-redacted", "inquiry.redacted"]
    );
}

on_both_backends!(
    a_source_change_writes_one_notice_per_redeemed_or_pending_token,
    a_notice_marks_the_copy_once_and_completes_its_job,
    a_notice_for_a_pending_token_makes_its_copy_first,
    only_the_source_revokes_and_a_token_without_a_copy_tells_no_one,
    the_redact_policy_redacts_the_copy_in_the_notices_unit,
);
