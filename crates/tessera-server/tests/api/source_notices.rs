//! Notices after redemption (TRUST.md §3): the source redacting what it shared, or deactivating
//! the connection, reaches every destination that redeemed a copy — the copy's `source-status`,
//! the `inquiry.source-redacted` / `connect/share-token.source-revoked` events and their webhooks
//! — once, durably (a job on the internal retry policy), under the destination's own policy.

use std::time::Duration;

use serde_json::{Value, json};
use tessera_core::id::{JobId, ShareTokenId};
use tessera_core::job::NotifySourceChange;
use tessera_core::source_status::SourceChange;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;
use tessera_store::units::source_notices::{self, Notice};

use crate::receiver::Receiver;
use crate::support::{App, Org, Part, Resp};

const REDACTED: &str = "inquiry.source-redacted";
const REVOKED: &str = "connect/share-token.source-revoked";

/// A source and a destination over an active connection, a completed inquiry of the source with
/// a verification and a document, and a webhook of the destination for both notices.
struct Story {
    app: App,
    src: Org,
    dst: Org,
    connection: String,
    inquiry: String,
    verification: String,
    document: String,
    rx: Receiver,
}

impl Story {
    async fn new(backend: Backend) -> Self {
        let app = crate::webhooks::app(backend).await;
        let src = app.org("Source").await;
        let dst = app.org("Destination").await;
        let connection = app.active_connection(&src, &dst).await;
        let inquiry = app
            .inquiry(
                &src.sandbox,
                json!({"name-first": "Janeczka", "birthdate": "1990-04-01"}),
            )
            .await;
        let verification = app
            .verification(
                &src.sandbox,
                &inquiry,
                json!({"type": "government-id", "status": "passed", "attributes": {"name-last": "Kowalska"}}),
            )
            .await;
        let document = app
            .upload(
                &src.sandbox,
                &inquiry,
                &[
                    Part::text("kind", "selfie"),
                    Part::file("me.png", "image/png", b"png bytes".to_vec()),
                ],
            )
            .await
            .expect(201)
            .id();
        app.act(&src.sandbox, &inquiry, "complete")
            .await
            .expect(200);
        let rx = Receiver::start().await;
        app.post("/api/v1/webhooks")
            .key(&dst.sandbox)
            .json(json!({"data": {"attributes": {"url": rx.url(), "enabled-events": [REDACTED, REVOKED]}}}))
            .send()
            .await
            .expect(201);
        Self {
            app,
            src,
            dst,
            connection,
            inquiry,
            verification,
            document,
            rx,
        }
    }

    /// A token of `source` (the inquiry or one of its verifications), not redeemed.
    async fn token(&self, source: &str) -> String {
        self.app
            .share_token(&self.src.sandbox, &self.connection, source)
            .await
    }

    /// Redeems a new token of `source` with `attributes` and runs the copy; returns the token
    /// and the copy's inquiry id.
    async fn copy(&self, source: &str, attributes: Value) -> (String, String) {
        let token = self.token(source).await;
        self.app
            .redeem_with(
                &self.dst.sandbox,
                &token,
                json!({"data": {"attributes": attributes}}),
            )
            .await
            .expect(202);
        self.app.drain().await;
        let t = self
            .app
            .fetch(
                &self.dst.sandbox,
                &format!("/api/v1/connect/share-tokens/{token}"),
            )
            .await;
        assert_eq!(t.attr("status"), "redeemed", "{}", t.json);
        let copy = match t.related("destination") {
            Some(id) if id.starts_with("inq_") => id,
            // A shared verification's copy: its inquiry.
            Some(v) => self
                .app
                .fetch(&self.dst.sandbox, &format!("/api/v1/verifications/{v}"))
                .await
                .related("inquiry")
                .unwrap(),
            None => panic!("no destination: {}", t.json),
        };
        (token, copy)
    }

    async fn show(&self, key: &str, inquiry: &str) -> Resp {
        self.app.show_inquiry(key, inquiry).await
    }

    async fn redact(&self, path: &str) {
        self.app
            .delete(path)
            .key(&self.src.sandbox)
            .send()
            .await
            .expect(200);
    }

    /// Deliveries of `name` the destination's receiver got, by the id of the object they name.
    fn delivered(&self, name: &str) -> Vec<String> {
        self.rx
            .received()
            .iter()
            .map(|r| r.json()["data"]["attributes"].clone())
            .filter(|a| a["name"] == name)
            .map(|a| a["payload"]["data"]["id"].as_str().unwrap_or("").to_owned())
            .collect()
    }
}

fn now_rfc3339(app: &App) -> String {
    use tessera_core::Clock;
    app.db.clock.now().to_rfc3339()
}

async fn a_redaction_after_redemption_reaches_the_destination(backend: Backend) {
    let s = Story::new(backend).await;
    let (_, copy) = s.copy(&s.inquiry, json!({})).await;
    let waiting = s.token(&s.inquiry).await;
    let c = s.show(&s.dst.sandbox, &copy).await;
    assert_eq!(c.attr("source-status"), "current");
    assert!(c.attr("source-status-changed-at").is_null());
    // An inquiry that is no copy has no source status.
    let own = s.show(&s.src.sandbox, &s.inquiry).await;
    assert!(own.attr("source-status").is_null(), "{}", own.json);
    assert!(
        own.json["data"]["attributes"]
            .as_object()
            .unwrap()
            .contains_key("source-status")
    );

    s.app.db.clock.advance_seconds(60);
    let redacted_at = now_rfc3339(&s.app);
    s.redact(&format!("/api/v1/inquiries/{}", s.inquiry)).await;
    s.app.drain().await;

    let c = s.show(&s.dst.sandbox, &copy).await;
    assert_eq!(c.attr("source-status"), "redacted");
    assert_eq!(c.attr("source-status-changed-at"), redacted_at.as_str());
    // `keep` (no template, the default): the copy is the destination's own record.
    assert!(c.attr("redacted-at").is_null());
    assert_eq!(c.attr("fields")["name-first"]["value"], "Janeczka");
    let received = s.rx.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(received.len(), 1, "one notice");
    assert_eq!(s.delivered(REDACTED), std::slice::from_ref(&copy));
    let event = &received[0].json()["data"]["attributes"]["payload"]["data"];
    assert_eq!(event["attributes"]["source-status"], "redacted");
    assert_eq!(s.app.events_named(&s.dst.sandbox, REDACTED).await.len(), 1);
    // The source is not told about its own change, and nobody learns of the unredeemed token.
    assert!(
        s.app
            .events_named(&s.src.sandbox, REDACTED)
            .await
            .is_empty()
    );
    assert!(
        s.app
            .event_names(&s.dst.sandbox, Some(&waiting))
            .await
            .iter()
            .all(|n| n.ends_with("inbound-created"))
    );
    // Redacting again tells no one again.
    s.redact(&format!("/api/v1/inquiries/{}", s.inquiry)).await;
    s.app.drain().await;
    assert_eq!(s.app.events_named(&s.dst.sandbox, REDACTED).await.len(), 1);
}

async fn a_verification_or_document_redaction_is_a_source_redaction(backend: Backend) {
    let s = Story::new(backend).await;
    let (_, whole) = s.copy(&s.inquiry, json!({})).await;
    let (_, of_verification) = s.copy(&s.verification, json!({})).await;

    // Persona's "Redact a Verification": the extracted data goes, the status stays.
    let r = s
        .app
        .delete(&format!(
            "/api/v1/verifications/{}?include=inquiry",
            s.verification
        ))
        .key(&s.src.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(r.attr("status"), "passed");
    assert_eq!(r.attr("attributes"), &json!({}));
    assert!(
        r.attr("name-last").is_null() || r.json["data"]["attributes"].get("name-last").is_none()
    );
    assert_eq!(r.json["included"][0]["id"], s.inquiry.as_str());
    s.app.drain().await;
    for copy in [&whole, &of_verification] {
        let c = s.show(&s.dst.sandbox, copy).await;
        assert_eq!(c.attr("source-status"), "redacted", "{copy}");
    }
    let mut told = s.delivered(REDACTED);
    told.sort();
    let mut both = vec![whole.clone(), of_verification.clone()];
    both.sort();
    assert_eq!(told, both);

    // A document: Tessera's extension. Only the whole inquiry's copy shared it, and it already
    // knows: nothing new is emitted.
    let r = s
        .app
        .delete(&format!("/api/v1/documents/{}", s.document))
        .key(&s.src.sandbox)
        .send()
        .await
        .expect(200);
    assert!(r.attr("files").as_array().unwrap().is_empty());
    s.app
        .get(&format!("/api/v1/documents/{}/file", s.document))
        .key(&s.src.sandbox)
        .send()
        .await
        .refused(410, "document_redacted");
    s.app.drain().await;
    assert_eq!(s.app.events_named(&s.dst.sandbox, REDACTED).await.len(), 2);

    // A fresh copy, then the document alone: its copy is told; the verification's copy is not
    // (a token of one verification shares no documents).
    let s = Story::new(backend).await;
    let (_, whole) = s.copy(&s.inquiry, json!({})).await;
    let (_, of_verification) = s.copy(&s.verification, json!({})).await;
    s.redact(&format!("/api/v1/documents/{}", s.document)).await;
    s.app.drain().await;
    assert_eq!(
        s.show(&s.dst.sandbox, &whole).await.attr("source-status"),
        "redacted"
    );
    assert_eq!(
        s.show(&s.dst.sandbox, &of_verification)
            .await
            .attr("source-status"),
        "current"
    );
    assert_eq!(s.delivered(REDACTED), [whole]);
}

async fn revoking_the_connection_marks_copies_revoked(backend: Backend) {
    let s = Story::new(backend).await;
    let (token, copy) = s.copy(&s.inquiry, json!({})).await;
    s.app.db.clock.advance_seconds(5);
    let revoked_at = now_rfc3339(&s.app);
    s.app
        .connection_action(&s.src.sandbox, &s.connection, "deactivate")
        .await
        .expect(200);
    s.app.drain().await;
    let c = s.show(&s.dst.sandbox, &copy).await;
    assert_eq!(c.attr("source-status"), "revoked");
    assert_eq!(c.attr("source-status-changed-at"), revoked_at.as_str());
    assert_eq!(s.delivered(REVOKED), std::slice::from_ref(&token));
    let events = s.app.events_named(&s.dst.sandbox, REVOKED).await;
    assert_eq!(events.len(), 1);
    let t = &events[0]["attributes"]["payload"]["data"];
    assert_eq!(
        (t["id"].as_str(), t["attributes"]["direction"].as_str()),
        (Some(token.as_str()), Some("inbound"))
    );
    assert!(s.app.events_named(&s.src.sandbox, REVOKED).await.is_empty());

    // A redaction afterwards is news: the data is gone at the source, not only the connection.
    s.redact(&format!("/api/v1/inquiries/{}", s.inquiry)).await;
    s.app.drain().await;
    assert_eq!(
        s.show(&s.dst.sandbox, &copy).await.attr("source-status"),
        "redacted"
    );
    assert_eq!(s.delivered(REDACTED), [copy]);
}

async fn the_destination_ending_a_connection_is_no_revocation(backend: Backend) {
    let s = Story::new(backend).await;
    let (_, copy) = s.copy(&s.inquiry, json!({})).await;
    s.app
        .connection_action(&s.dst.sandbox, &s.connection, "deactivate")
        .await
        .expect(200);
    s.app.drain().await;
    assert_eq!(
        s.show(&s.dst.sandbox, &copy).await.attr("source-status"),
        "current"
    );
    assert!(s.app.events_named(&s.dst.sandbox, REVOKED).await.is_empty());
}

async fn a_token_redeemed_while_the_source_changes_is_still_told(backend: Backend) {
    let s = Story::new(backend).await;
    let token = s.token(&s.inquiry).await;
    s.app
        .redeem_with(&s.dst.sandbox, &token, json!({}))
        .await
        .expect(202);
    // Revoked while the copy is being made: the notice waits for the redemption to end.
    s.app
        .connection_action(&s.src.sandbox, &s.connection, "deactivate")
        .await
        .expect(200);
    s.app.drain().await;
    s.app.db.clock.advance_seconds(2);
    s.app.drain().await;
    let t = s
        .app
        .fetch(
            &s.dst.sandbox,
            &format!("/api/v1/connect/share-tokens/{token}"),
        )
        .await;
    let copy = t.related("destination").unwrap();
    assert_eq!(
        s.show(&s.dst.sandbox, &copy).await.attr("source-status"),
        "revoked"
    );
    assert_eq!(s.delivered(REVOKED), [token]);
}

async fn the_destinations_policy_decides_whether_the_copy_stays(backend: Backend) {
    let s = Story::new(backend).await;
    let redact = s
        .app
        .template_with(
            &s.dst.sandbox,
            json!({"name": "Strict", "on-source-redaction": "redact"}),
        )
        .await;
    let keep = s
        .app
        .template_with(&s.dst.sandbox, json!({"name": "Lenient"}))
        .await;
    let t = s
        .app
        .fetch(&s.dst.sandbox, &format!("/api/v1/inquiry-templates/{keep}"))
        .await;
    assert_eq!(t.attr("on-source-redaction"), "keep");
    let (_, erased) = s
        .copy(&s.inquiry, json!({"inquiry-template-id": redact}))
        .await;
    let (_, kept) = s
        .copy(&s.inquiry, json!({"inquiry-template-id": keep}))
        .await;
    s.redact(&format!("/api/v1/verifications/{}", s.verification))
        .await;
    s.app.drain().await;

    let e = s.show(&s.dst.sandbox, &erased).await;
    assert_eq!(e.attr("source-status"), "redacted");
    assert!(e.attr("redacted-at").is_string(), "{}", e.json);
    assert!(e.attr("fields")["name-first"]["value"].is_null());
    let names = s.app.event_names(&s.dst.sandbox, Some(&erased)).await;
    assert_eq!(
        names[..2],
        ["inquiry.redacted", REDACTED],
        "newest first: {names:?}"
    );
    // The notice delivered for the redacted copy carries no personal data either.
    assert!(!s.rx.received().iter().any(|r| {
        let body = String::from_utf8_lossy(&r.body).into_owned();
        body.contains(erased.as_str()) && body.contains("Janeczka")
    }));

    let k = s.show(&s.dst.sandbox, &kept).await;
    assert_eq!(k.attr("source-status"), "redacted");
    assert!(k.attr("redacted-at").is_null());
    assert_eq!(k.attr("fields")["name-first"]["value"], "Janeczka");

    // The policy is changed like any part of a template, and refused when it is no policy.
    let r = s
        .app
        .patch(&format!("/api/v1/inquiry-templates/{keep}"))
        .key(&s.dst.sandbox)
        .json(json!({"data": {"attributes": {"on-source-redaction": "redact"}}}))
        .send()
        .await
        .expect(200);
    assert_eq!(r.attr("on-source-redaction"), "redact");
    assert_eq!(r.attr("name"), "Lenient");
    s.app
        .post("/api/v1/inquiry-templates")
        .key(&s.dst.sandbox)
        .json(json!({"data": {"attributes": {"name": "x", "on-source-redaction": "erase"}}}))
        .send()
        .await
        .refused(422, "invalid_attribute");
}

async fn the_other_organization_can_neither_see_nor_trigger(backend: Backend) {
    let s = Story::new(backend).await;
    let (_, copy) = s.copy(&s.inquiry, json!({})).await;
    let other = s.app.org("Other").await;
    // Neither the destination nor a stranger can redact the source's objects.
    for key in [&s.dst.sandbox, &other.sandbox] {
        for path in [
            format!("/api/v1/inquiries/{}", s.inquiry),
            format!("/api/v1/verifications/{}", s.verification),
            format!("/api/v1/documents/{}", s.document),
        ] {
            s.app
                .delete(&path)
                .key(key)
                .send()
                .await
                .refused(404, "not_found");
        }
    }
    s.app
        .connection_action(&other.sandbox, &s.connection, "deactivate")
        .await
        .refused(404, "not_found");
    // The source cannot read the copy, nor redact it.
    s.app
        .get(&format!("/api/v1/inquiries/{copy}"))
        .key(&s.src.sandbox)
        .send()
        .await
        .refused(404, "not_found");
    s.app.drain().await;
    assert_eq!(
        s.show(&s.dst.sandbox, &copy).await.attr("source-status"),
        "current"
    );
    assert_eq!(
        s.show(&s.src.sandbox, &s.inquiry).await.attr("redacted-at"),
        &Value::Null
    );
    assert!(
        s.app
            .events_named(&s.dst.sandbox, REDACTED)
            .await
            .is_empty()
    );
    assert!(
        s.app
            .events_named(&other.sandbox, REDACTED)
            .await
            .is_empty()
    );
    // The production environment of the source is another tenant too.
    s.app
        .delete(&format!("/api/v1/verifications/{}", s.verification))
        .key(&s.src.production)
        .send()
        .await
        .refused(404, "not_found");
}

async fn a_notice_is_told_once_and_retried_on_the_internal_policy(backend: Backend) {
    let s = Story::new(backend).await;
    let (token, copy) = s.copy(&s.inquiry, json!({})).await;
    s.redact(&format!("/api/v1/inquiries/{}", s.inquiry)).await;
    // The worker fails once after marking the copy: nothing of it is committed.
    let worker = s.app.worker();
    worker
        .faults
        .fail_source_notices
        .store(1, std::sync::atomic::Ordering::SeqCst);
    worker.drain().await.unwrap();
    assert_eq!(
        s.show(&s.dst.sandbox, &copy).await.attr("source-status"),
        "current"
    );
    assert!(
        s.app
            .events_named(&s.dst.sandbox, REDACTED)
            .await
            .is_empty()
    );
    // INTERNAL_JOB: the second attempt is due 2 s later.
    s.app.db.clock.advance_millis(1_900);
    worker.drain().await.unwrap();
    assert_eq!(
        s.show(&s.dst.sandbox, &copy).await.attr("source-status"),
        "current"
    );
    s.app.db.clock.advance_millis(200);
    worker.drain().await.unwrap();
    assert_eq!(
        s.show(&s.dst.sandbox, &copy).await.attr("source-status"),
        "redacted"
    );
    assert_eq!(s.app.events_named(&s.dst.sandbox, REDACTED).await.len(), 1);

    // The same notice run again (a job run twice) changes nothing and emits nothing.
    let notice = NotifySourceChange {
        share_token_id: ShareTokenId::parse(&token).unwrap(),
        change: SourceChange::Redacted,
        changed_at: tessera_core::Timestamp::from_millis(0),
        cause: None,
    };
    for _ in 0..2 {
        let done = s
            .app
            .db
            .store
            .write(source_notices::notify(JobId::generate(), notice.clone()))
            .await
            .unwrap();
        assert_eq!(done, Notice::Unchanged);
    }
    s.app.drain().await;
    let c = s.show(&s.dst.sandbox, &copy).await;
    assert_ne!(
        c.attr("source-status-changed-at"),
        "1970-01-01T00:00:00.000Z"
    );
    assert_eq!(s.app.events_named(&s.dst.sandbox, REDACTED).await.len(), 1);
    assert_eq!(s.delivered(REDACTED).len(), 1);
}

on_both_backends!(
    a_redaction_after_redemption_reaches_the_destination,
    a_verification_or_document_redaction_is_a_source_redaction,
    revoking_the_connection_marks_copies_revoked,
    the_destination_ending_a_connection_is_no_revocation,
    a_token_redeemed_while_the_source_changes_is_still_told,
    the_destinations_policy_decides_whether_the_copy_stays,
    the_other_organization_can_neither_see_nor_trigger,
    a_notice_is_told_once_and_retried_on_the_internal_policy,
);
