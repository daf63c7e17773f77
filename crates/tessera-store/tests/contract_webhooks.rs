//! The store contract for webhooks: their settings (create, update, status, secret rotation,
//! clone, the limit), the deliveries an event makes in its own unit of work (with their jobs),
//! the worker's attempts, manual retries and giving up. Each scenario runs on SQLite and
//! PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{all, claim_jobs, inquiry, job_counts, org, read, read_refused, refused, rows, write};
use serde_json::json;
use tessera_core::codes;
use tessera_core::id::{DeliveryId, JobId};
use tessera_core::inflect::Inflection;
use tessera_core::inquiry::InquiryAction;
use tessera_core::job::Job;
use tessera_core::retry::{INTERNAL_JOB, RetryPolicy};
use tessera_core::tenancy::Scope;
use tessera_core::webhook::{
    DeliveryStatus, MAX_ATTEMPTS, MAX_WEBHOOKS_PER_ENVIRONMENT, Webhook, WebhookSettings,
    WebhookStatus,
};
use tessera_store::testing::{Backend, TestDb};
use tessera_store::units::{inquiries, jobs, webhooks};
use tessera_store::{Store, on_both_backends};

fn new_webhook(events: &[&str]) -> webhooks::NewWebhook {
    let url = "https://hooks.example.com/in";
    webhooks::NewWebhook {
        url: url.into(),
        enabled_events: events.iter().map(|e| (*e).to_owned()).collect(),
        inflection: Inflection::Kebab,
        settings: WebhookSettings::defaults(url),
        secret: "whsec_1".into(),
    }
}

async fn webhook(store: &Store, scope: &Scope, events: &[&str]) -> Webhook {
    write(store, webhooks::create(scope.clone(), new_webhook(events))).await
}

/// The deliveries the queued jobs are for, claiming them.
async fn delivery_jobs(store: &Store) -> Vec<(JobId, DeliveryId)> {
    claim_jobs(store)
        .await
        .into_iter()
        .map(|(id, job)| match job {
            Job::DeliverWebhook(p) => (id, p.delivery_id),
            other => panic!("{other:?}"),
        })
        .collect()
}

fn failed_attempt(store: &Store, retry_in_ms: Option<i64>) -> webhooks::AttemptResult {
    let now = common::now(store);
    webhooks::AttemptResult {
        started_at: now,
        duration_ms: 12,
        response_status: Some(500),
        error: None,
        response_body: Some("oops".into()),
        succeeded: false,
        retry_at: retry_in_ms.map(|ms| now.plus_millis(ms)),
    }
}

fn good_attempt(store: &Store) -> webhooks::AttemptResult {
    webhooks::AttemptResult {
        response_status: Some(200),
        response_body: None,
        succeeded: true,
        retry_at: None,
        ..failed_attempt(store, None)
    }
}

async fn settings_are_created_updated_and_read(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, a_prod) = org(store, "A").await;
    let w = webhook(store, &a, &["inquiry.created"]).await;
    assert_eq!(w.status, WebhookStatus::Enabled);
    assert_eq!(
        w.settings.name.as_deref(),
        Some("Webhook to hooks.example.com")
    );
    let got = read(store, webhooks::get(a.clone(), w.id.clone())).await;
    assert_eq!(got.url, w.url);
    assert_eq!(got.enabled_events, vec!["inquiry.created".to_owned()]);
    assert_eq!(got.secret, "whsec_1");
    let patch = webhooks::WebhookPatch {
        url: Some("https://hooks.example.com/v2".into()),
        enabled_events: Some(vec!["*".into()]),
        description: Some(Some("all of it".into())),
        payload_filter: Some(Some(json!({"data": {"type": "inquiry"}}))),
        custom_http_headers: Some([("X-Team".to_owned(), "kyc".to_owned())].into()),
        ..Default::default()
    };
    db.clock.advance_seconds(1);
    let updated = write(store, webhooks::update(a.clone(), w.id.clone(), patch)).await;
    assert!(updated.updated_at > w.updated_at);
    let got = read(store, webhooks::get(a.clone(), w.id.clone())).await;
    assert_eq!(got.url, "https://hooks.example.com/v2");
    assert_eq!(got.enabled_events, vec!["*".to_owned()]);
    assert_eq!(got.settings.description.as_deref(), Some("all of it"));
    assert_eq!(
        got.settings.payload_filter,
        Some(json!({"data": {"type": "inquiry"}}))
    );
    assert_eq!(got.settings.custom_http_headers["X-Team"], "kyc");
    assert_eq!(
        got.settings.name, w.settings.name,
        "what the patch leaves stays"
    );
    let second = webhook(store, &a, &["*"]).await;
    let listed: Vec<_> = read(store, webhooks::list(a.clone(), all()))
        .await
        .items
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(listed, vec![second.id, w.id.clone()]);
    let e = read_refused(store, webhooks::get(a_prod, w.id)).await;
    assert!(e.is(codes::NOT_FOUND));
    // Settings emit no event.
    assert!(common::event_names(store, &a).await.is_empty());
}

async fn status_secret_and_clone(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let w = webhook(store, &a, &["*"]).await;
    // Rotation: the old secret signs on for the overlap.
    let rotated = write(
        store,
        webhooks::rotate_secret(a.clone(), w.id.clone(), "whsec_2".into(), 3600),
    )
    .await;
    assert_eq!(rotated.secret, "whsec_2");
    let until = common::now(store).plus_seconds(3600);
    let got = read(store, webhooks::get(a.clone(), w.id.clone())).await;
    assert_eq!(got.previous_secret, Some(("whsec_1".into(), until)));
    // A clone: every setting and the status, a new id and secret.
    write(
        store,
        webhooks::set_status(a.clone(), w.id.clone(), WebhookStatus::Disabled),
    )
    .await;
    let copy = write(
        store,
        webhooks::clone(a.clone(), w.id.clone(), "whsec_c".into()),
    )
    .await;
    assert_ne!(copy.id, w.id);
    assert_eq!(copy.secret, "whsec_c");
    assert_eq!(copy.status, WebhookStatus::Disabled);
    assert_eq!(copy.enabled_events, got.enabled_events);
    assert_eq!(copy.previous_secret, None);
    assert_eq!(
        read(store, webhooks::get(a.clone(), copy.id.clone()))
            .await
            .status,
        WebhookStatus::Disabled
    );
    // Archived: stays archived, refuses every change; its clone is disabled.
    let archived = write(
        store,
        webhooks::set_status(a.clone(), w.id.clone(), WebhookStatus::Archived),
    )
    .await;
    assert_eq!(archived.status, WebhookStatus::Archived);
    for unit in [
        webhooks::set_status(a.clone(), w.id.clone(), WebhookStatus::Enabled),
        webhooks::update(a.clone(), w.id.clone(), Default::default()),
        webhooks::rotate_secret(a.clone(), w.id.clone(), "s".into(), 0),
    ] {
        let e = refused(store, unit).await;
        assert!(e.is(codes::INVALID_STATUS_TRANSITION));
    }
    // Setting the status it has changes nothing.
    let same = write(
        store,
        webhooks::set_status(a.clone(), w.id.clone(), WebhookStatus::Archived),
    )
    .await;
    assert_eq!(same.updated_at, archived.updated_at);
    let copy = write(
        store,
        webhooks::clone(a.clone(), w.id.clone(), "whsec_d".into()),
    )
    .await;
    assert_eq!(copy.status, WebhookStatus::Disabled);
    assert_eq!(
        read(store, webhooks::get(a.clone(), w.id.clone()))
            .await
            .secret,
        "whsec_2"
    );
}

async fn an_environment_holds_a_bounded_number_of_webhooks(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let first = webhook(store, &a, &["*"]).await;
    for _ in 1..MAX_WEBHOOKS_PER_ENVIRONMENT {
        webhook(store, &a, &["*"]).await;
    }
    let e = refused(store, webhooks::create(a.clone(), new_webhook(&["*"]))).await;
    assert!(e.is(codes::WEBHOOK_LIMIT));
    let e = refused(
        store,
        webhooks::clone(a.clone(), first.id.clone(), "s".into()),
    )
    .await;
    assert!(e.is(codes::WEBHOOK_LIMIT));
    assert_eq!(rows(store, "webhooks").await, MAX_WEBHOOKS_PER_ENVIRONMENT);
    // An archived one does not count.
    write(
        store,
        webhooks::set_status(a.clone(), first.id, WebhookStatus::Archived),
    )
    .await;
    webhook(store, &a, &["*"]).await;
}

async fn an_event_makes_a_delivery_per_subscribed_webhook(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let (b, _) = org(store, "B").await;
    let all_events = webhook(store, &a, &["*"]).await;
    let created_only = webhook(store, &a, &["inquiry.created"]).await;
    let other_event = webhook(store, &a, &["inquiry.approved"]).await;
    let disabled = webhook(store, &a, &["*"]).await;
    write(
        store,
        webhooks::set_status(a.clone(), disabled.id.clone(), WebhookStatus::Disabled),
    )
    .await;
    let mut filtered = new_webhook(&["*"]);
    filtered.settings.payload_filter = Some(json!({"data": {"attributes": {"note": "vip"}}}));
    let filtered = write(store, webhooks::create(a.clone(), filtered)).await;
    webhook(store, &b, &["*"]).await;
    let id = inquiry(store, &a).await;
    let event = common::all_events(store, &a).await.pop().unwrap();
    assert_eq!(event.name, "inquiry.created");
    // One delivery (and one job) for each enabled, subscribed webhook whose filter accepts it.
    let jobs = delivery_jobs(store).await;
    assert_eq!(jobs.len(), 2);
    let mut got = Vec::new();
    for (_, delivery) in &jobs {
        let d = read(store, webhooks::delivery(a.clone(), delivery.clone())).await;
        assert_eq!(d.event_id, event.id);
        assert_eq!(d.event_name, "inquiry.created");
        assert_eq!(d.status, DeliveryStatus::Pending);
        assert_eq!(d.attempts_made, 0);
        assert_eq!(d.max_attempts, MAX_ATTEMPTS);
        assert!(d.attempts.is_empty());
        got.push(d.webhook_id);
    }
    got.sort_by_key(|w| w.to_string());
    let mut expected = vec![all_events.id.clone(), created_only.id.clone()];
    expected.sort_by_key(|w| w.to_string());
    assert_eq!(got, expected);
    for w in [&other_event, &disabled, &filtered] {
        let page = read(store, webhooks::deliveries(a.clone(), w.id.clone(), all())).await;
        assert!(page.items.is_empty(), "{}", w.id);
    }
    // The filter lets an event through when the payload matches.
    let patch = inquiries::InquiryPatch {
        note: Some(Some("vip".into())),
        ..Default::default()
    };
    write(store, inquiries::update(a.clone(), id, patch)).await;
    let page = read(
        store,
        webhooks::deliveries(a.clone(), filtered.id.clone(), all()),
    )
    .await;
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].event_name, "inquiry.updated");
    // Another tenant sees neither the webhook's deliveries nor a delivery.
    let e = read_refused(
        store,
        webhooks::deliveries(b.clone(), all_events.id.clone(), all()),
    )
    .await;
    assert!(e.is(codes::NOT_FOUND));
    let e = read_refused(store, webhooks::delivery(b, jobs[0].1.clone())).await;
    assert!(e.is(codes::NOT_FOUND));
}

async fn attempts_move_a_delivery_on(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let w = webhook(store, &a, &["inquiry.created"]).await;
    inquiry(store, &a).await;
    let (job, delivery) = delivery_jobs(store).await.pop().unwrap();
    let plan = read(store, webhooks::plan(delivery.clone()))
        .await
        .expect("a pending delivery has a plan");
    assert_eq!(plan.delivery.id, delivery);
    assert_eq!(plan.webhook.id, w.id);
    assert_eq!(plan.event.name, "inquiry.created");
    // A failed attempt with attempts left: pending, the job paused until the retry.
    let first = failed_attempt(store, Some(30_000));
    let status = write(
        store,
        webhooks::record_attempt(delivery.clone(), job.clone(), first.clone()),
    )
    .await;
    assert_eq!(status, DeliveryStatus::Pending);
    let d = read(store, webhooks::delivery(a.clone(), delivery.clone())).await;
    assert_eq!(d.attempts_made, 1);
    assert_eq!(d.next_attempt_at, first.retry_at);
    assert_eq!(d.first_attempted_at, Some(first.started_at));
    assert_eq!(d.attempts.len(), 1);
    assert_eq!(d.attempts[0].response_status, Some(500));
    assert_eq!(d.attempts[0].response_body.as_deref(), Some("oops"));
    assert!(delivery_jobs(store).await.is_empty(), "paused");
    db.clock.advance_millis(30_000);
    let (job2, again) = delivery_jobs(store).await.pop().expect("due again");
    assert_eq!((job2.clone(), again), (job.clone(), delivery.clone()));
    // A successful attempt: succeeded, the job done.
    let status = write(
        store,
        webhooks::record_attempt(delivery.clone(), job2, good_attempt(store)),
    )
    .await;
    assert_eq!(status, DeliveryStatus::Succeeded);
    let d = read(store, webhooks::delivery(a.clone(), delivery.clone())).await;
    assert_eq!(d.attempts_made, 2);
    assert_eq!(d.next_attempt_at, None);
    assert_eq!(d.first_attempted_at, Some(first.started_at));
    assert_eq!(
        d.attempts.iter().map(|x| x.attempt).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(job_counts(store).await, Default::default());
    // A finished delivery has no plan.
    assert!(read(store, webhooks::plan(delivery)).await.is_none());
}

async fn a_delivery_fails_after_its_last_attempt_and_is_retried_by_hand(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let w = webhook(store, &a, &["inquiry.created"]).await;
    inquiry(store, &a).await;
    let (job, delivery) = delivery_jobs(store).await.pop().unwrap();
    // A pending delivery cannot be retried by hand.
    let e = refused(store, webhooks::retry(a.clone(), delivery.clone())).await;
    assert!(e.is(codes::DELIVERY_NOT_RETRYABLE));
    for n in 1..=MAX_ATTEMPTS {
        let status = write(
            store,
            webhooks::record_attempt(
                delivery.clone(),
                job.clone(),
                failed_attempt(store, Some(0)),
            ),
        )
        .await;
        let expected = if n == MAX_ATTEMPTS {
            DeliveryStatus::Failed
        } else {
            DeliveryStatus::Pending
        };
        assert_eq!(status, expected, "after attempt {n}");
    }
    let d = read(store, webhooks::delivery(a.clone(), delivery.clone())).await;
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.attempts.len(), MAX_ATTEMPTS as usize);
    assert_eq!(
        job_counts(store).await,
        Default::default(),
        "the job is done"
    );
    // By hand: one more attempt, now, with a job of its own.
    let retried = write(store, webhooks::retry(a.clone(), delivery.clone())).await;
    assert_eq!(retried.status, DeliveryStatus::Pending);
    assert_eq!(retried.max_attempts, MAX_ATTEMPTS + 1);
    assert_eq!(retried.next_attempt_at, Some(common::now(store)));
    let (job, again) = delivery_jobs(store)
        .await
        .pop()
        .expect("a job for the retry");
    assert_eq!(again, delivery);
    let status = write(
        store,
        webhooks::record_attempt(delivery.clone(), job, failed_attempt(store, Some(0))),
    )
    .await;
    assert_eq!(status, DeliveryStatus::Failed);
    // Not while the webhook is disabled.
    write(
        store,
        webhooks::set_status(a.clone(), w.id.clone(), WebhookStatus::Disabled),
    )
    .await;
    let e = refused(store, webhooks::retry(a.clone(), delivery.clone())).await;
    assert!(e.is(codes::DELIVERY_NOT_RETRYABLE));
    assert_eq!(job_counts(store).await.queued, 0);
}

async fn disabling_cancels_pending_deliveries(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let w = webhook(store, &a, &["inquiry.created"]).await;
    inquiry(store, &a).await;
    let (job, delivery) = delivery_jobs(store).await.pop().unwrap();
    write(
        store,
        webhooks::set_status(a.clone(), w.id.clone(), WebhookStatus::Disabled),
    )
    .await;
    let d = read(store, webhooks::delivery(a.clone(), delivery.clone())).await;
    assert_eq!(d.status, DeliveryStatus::Canceled);
    assert_eq!(d.next_attempt_at, None);
    assert!(
        read(store, webhooks::plan(delivery.clone()))
            .await
            .is_none()
    );
    // An attempt that was under way is logged; the delivery stays canceled; the job is done.
    let status = write(
        store,
        webhooks::record_attempt(delivery.clone(), job, good_attempt(store)),
    )
    .await;
    assert_eq!(status, DeliveryStatus::Canceled);
    let d = read(store, webhooks::delivery(a.clone(), delivery.clone())).await;
    assert_eq!(d.status, DeliveryStatus::Canceled);
    assert_eq!(d.attempts.len(), 1);
    assert_eq!(job_counts(store).await, Default::default());
    // Enabled again: a canceled delivery can be retried by hand; new events deliver again.
    write(
        store,
        webhooks::set_status(a.clone(), w.id.clone(), WebhookStatus::Enabled),
    )
    .await;
    let retried = write(store, webhooks::retry(a.clone(), delivery)).await;
    assert_eq!(retried.status, DeliveryStatus::Pending);
}

async fn a_delivery_is_given_up(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    webhook(store, &a, &["inquiry.created", "inquiry.completed"]).await;
    let id = inquiry(store, &a).await;
    let (_, by_hand) = delivery_jobs(store).await.pop().unwrap();
    write(store, webhooks::give_up(by_hand.clone())).await;
    let d = read(store, webhooks::delivery(a.clone(), by_hand.clone())).await;
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.next_attempt_at, None);
    // Giving up on a delivery that is not pending changes nothing.
    let before = d.updated_at;
    db.clock.advance_seconds(1);
    write(store, webhooks::give_up(by_hand.clone())).await;
    assert_eq!(
        read(store, webhooks::delivery(a.clone(), by_hand))
            .await
            .updated_at,
        before
    );
    // A delivery job out of attempts gives its delivery up, and is buried.
    write(
        store,
        inquiries::transition(a.clone(), id, InquiryAction::Complete),
    )
    .await;
    let claimed = common::claim_all(store).await.pop().unwrap();
    let Ok(Job::DeliverWebhook(p)) = &claimed.job else {
        panic!("{claimed:?}")
    };
    let delivery = p.delivery_id.clone();
    let last = RetryPolicy {
        max_attempts: 1,
        ..INTERNAL_JOB
    };
    write(store, jobs::fail(claimed, last, 0.5, "internal".into())).await;
    let d = read(store, webhooks::delivery(a.clone(), delivery)).await;
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(job_counts(store).await.dead, 1);
}

on_both_backends!(
    settings_are_created_updated_and_read,
    status_secret_and_clone,
    an_environment_holds_a_bounded_number_of_webhooks,
    an_event_makes_a_delivery_per_subscribed_webhook,
    attempts_move_a_delivery_on,
    a_delivery_fails_after_its_last_attempt_and_is_retried_by_hand,
    disabling_cancels_pending_deliveries,
    a_delivery_is_given_up,
);
