//! The store contract for inquiries: creation, changes, tags, transitions, redaction, the expiry
//! sweep, the list and the views with related objects. Each scenario runs on SQLite and
//! PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{all, event_names, events_about, inquiry, org, read, read_refused, refused, write};
use serde_json::json;
use tessera_core::codes;
use tessera_core::document::DocumentKind;
use tessera_core::fields::{FieldType, FieldValue};
use tessera_core::id::{ApiKeyId, InquiryId, TemplateId};
use tessera_core::inquiry::{InquiryAction, InquiryStatus};
use tessera_core::template::TemplateSpec;
use tessera_core::verification::{Check, CheckStatus, VerificationKind, VerificationStatus};
use tessera_store::on_both_backends;
use tessera_store::testing::{Backend, TestDb};
use tessera_store::units::related::{InquiryIncludes, Related};
use tessera_store::units::{
    documents, events, idempotency, inquiries, templates, tenancy, verifications,
};

fn text(v: &str) -> Option<FieldValue> {
    Some(FieldValue {
        kind: FieldType::String,
        value: json!(v),
    })
}

fn template_spec(name: &str) -> TemplateSpec {
    TemplateSpec {
        name: name.into(),
        required_fields: vec!["name".into()],
        required_verifications: Vec::new(),
        minimum_age: None,
        allowed_countries: None,
        on_source_redaction: Default::default(),
    }
}

async fn inquiries_are_created_with_their_event(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let template = write(store, templates::create(a.clone(), template_spec("KYC"))).await;
    let new = inquiries::NewInquiry {
        template_id: Some(template.id.clone()),
        reference_id: Some("ref-1".into()),
        note: Some("a note".into()),
        tags: vec!["vip".into()],
        fields: vec![("name".into(), text("Ada"))],
        creator: None,
        redirect_uri: Some("https://example.com/back".into()),
        expires_after_seconds: Some(3600),
    };
    let created = write(store, inquiries::create(a.clone(), new)).await;
    assert_eq!(created.status, InquiryStatus::Created);
    assert_eq!(created.creator, "api");
    let now = common::now(store);
    assert_eq!(created.expires_at, Some(now.plus_seconds(3600)));
    let got = read(store, inquiries::get(a.clone(), created.id.clone())).await;
    assert_eq!(got.template_id, Some(template.id));
    assert_eq!(got.reference_id.as_deref(), Some("ref-1"));
    assert_eq!(got.note.as_deref(), Some("a note"));
    assert_eq!(got.tags, vec!["vip".to_owned()]);
    assert_eq!(got.fields["name"].value, json!("Ada"));
    assert_eq!(
        got.redirect_uri.as_deref(),
        Some("https://example.com/back")
    );
    assert_eq!(got.expires_at, created.expires_at);
    let evts = common::all_events(store, &a).await;
    assert_eq!(evts.len(), 1);
    assert_eq!(evts[0].name, "inquiry.created");
    assert_eq!(evts[0].object_id, created.id.to_string());
    assert_eq!(evts[0].payload["data"]["id"], json!(created.id));
    // A template the caller cannot see is refused at its attribute, leaving nothing.
    let (b, _) = org(store, "B").await;
    let foreign = write(store, templates::create(b, template_spec("theirs"))).await;
    let e = refused(
        store,
        inquiries::create(
            a.clone(),
            inquiries::NewInquiry {
                template_id: Some(foreign.id),
                ..Default::default()
            },
        ),
    )
    .await;
    assert!(e.is(codes::NOT_FOUND));
    assert_eq!(
        e.location,
        Some(tessera_core::error::Source::Attribute(
            "inquiry-template-id".into()
        ))
    );
    let listed = read(store, inquiries::list(a.clone(), Default::default(), all())).await;
    assert_eq!(listed.items.len(), 1);
    assert_eq!(event_names(store, &a).await, vec!["inquiry.created"]);
}

async fn updates_emit_updated_and_tag_events(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let id = inquiry(store, &a).await;
    let patch = inquiries::InquiryPatch {
        fields: Some(vec![
            ("name".into(), text("Ada")),
            ("city".into(), text("Paris")),
        ]),
        note: Some(Some("n".into())),
        tags: Some(vec!["t1".into()]),
        redirect_uri: None,
    };
    let updated = write(store, inquiries::update(a.clone(), id.clone(), patch)).await;
    assert_eq!(updated.tags, vec!["t1".to_owned()]);
    let got = read(store, inquiries::get(a.clone(), id.clone())).await;
    assert_eq!(got.fields["city"].value, json!("Paris"));
    assert_eq!(got.note.as_deref(), Some("n"));
    assert_eq!(
        events_about(store, &a, id.as_str()).await,
        vec!["inquiry.created", "inquiry.updated", "inquiry.updated-tags"]
    );
    // The same tags again: updated, but no tag event. A field written as null is removed.
    let patch = inquiries::InquiryPatch {
        fields: Some(vec![("city".into(), None)]),
        tags: Some(vec!["t1".into()]),
        note: Some(None),
        ..Default::default()
    };
    write(store, inquiries::update(a.clone(), id.clone(), patch)).await;
    let got = read(store, inquiries::get(a.clone(), id.clone())).await;
    assert!(!got.fields.contains_key("city"));
    assert_eq!(got.note, None);
    assert_eq!(
        events_about(store, &a, id.as_str()).await,
        vec![
            "inquiry.created",
            "inquiry.updated",
            "inquiry.updated-tags",
            "inquiry.updated"
        ]
    );
    // Another tenant cannot update it.
    let (b, _) = org(store, "B").await;
    let e = refused(
        store,
        inquiries::update(b, id.clone(), inquiries::InquiryPatch::default()),
    )
    .await;
    assert!(e.is(codes::NOT_FOUND));
    assert_eq!(events_about(store, &a, id.as_str()).await.len(), 4);
}

async fn tag_changes_emit_only_when_tags_change(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let id = inquiry(store, &a).await;
    let change = |c: inquiries::TagChange| inquiries::change_tags(a.clone(), id.clone(), c);
    let i = write(store, change(inquiries::TagChange::Add("x".into()))).await;
    assert_eq!(i.tags, vec!["x".to_owned()]);
    // Adding a tag it has, or removing one it has not: nothing changes, nothing is emitted.
    write(store, change(inquiries::TagChange::Add("x".into()))).await;
    write(store, change(inquiries::TagChange::Remove("nope".into()))).await;
    let i = write(
        store,
        change(inquiries::TagChange::Set(vec!["y".into(), "z".into()])),
    )
    .await;
    assert_eq!(i.tags, vec!["y".to_owned(), "z".to_owned()]);
    let i = write(store, change(inquiries::TagChange::Remove("y".into()))).await;
    assert_eq!(i.tags, vec!["z".to_owned()]);
    assert_eq!(
        read(store, inquiries::get(a.clone(), id.clone()))
            .await
            .tags,
        vec!["z".to_owned()]
    );
    assert_eq!(
        events_about(store, &a, id.as_str()).await,
        vec![
            "inquiry.created",
            "inquiry.updated-tags",
            "inquiry.updated-tags",
            "inquiry.updated-tags"
        ]
    );
    // One tag too many is refused and changes nothing.
    let full: Vec<String> = (0..tessera_core::inquiry::MAX_TAGS)
        .map(|i| format!("t{i}"))
        .collect();
    write(store, change(inquiries::TagChange::Set(full.clone()))).await;
    let e = refused(store, change(inquiries::TagChange::Add("extra".into()))).await;
    assert!(e.is(codes::INVALID_ATTRIBUTE));
    assert_eq!(
        read(store, inquiries::get(a.clone(), id.clone()))
            .await
            .tags,
        full
    );
    assert_eq!(events_about(store, &a, id.as_str()).await.len(), 5);
}

async fn transitions_record_status_comment_and_events(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let id = inquiry(store, &a).await;
    let done = write(
        store,
        inquiries::transition(a.clone(), id.clone(), InquiryAction::Complete),
    )
    .await;
    assert_eq!(done.status, InquiryStatus::Completed);
    assert!(done.completed_at.is_some());
    let approved = write(
        store,
        inquiries::transition_with_comment(
            a.clone(),
            id.clone(),
            InquiryAction::Approve,
            Some("looks right".into()),
        ),
    )
    .await;
    assert_eq!(approved.reviewer_comment.as_deref(), Some("looks right"));
    let got = read(store, inquiries::get(a.clone(), id.clone())).await;
    assert_eq!(got.status, InquiryStatus::Approved);
    assert_eq!(got.reviewer_comment.as_deref(), Some("looks right"));
    assert!(got.decisioned_at.is_some());
    let expected = vec![
        "inquiry.created",
        "inquiry.completed",
        "inquiry.transitioned",
        "inquiry.approved",
        "inquiry.transitioned",
    ];
    assert_eq!(events_about(store, &a, id.as_str()).await, expected);
    // A decision may not change: refused, nothing written.
    let e = refused(
        store,
        inquiries::transition_with_comment(
            a.clone(),
            id.clone(),
            InquiryAction::Decline,
            Some("no".into()),
        ),
    )
    .await;
    assert!(e.is(codes::INVALID_STATUS_TRANSITION));
    let got = read(store, inquiries::get(a.clone(), id.clone())).await;
    assert_eq!(got.status, InquiryStatus::Approved);
    assert_eq!(got.reviewer_comment.as_deref(), Some("looks right"));
    assert_eq!(events_about(store, &a, id.as_str()).await, expected);
}

async fn redaction_removes_personal_data_everywhere(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let created = write(store, tenancy::create_organization("A".into())).await;
    let a = created
        .organization
        .scope(tessera_core::tenancy::EnvKind::Sandbox)
        .unwrap();
    let api_key: ApiKeyId = created.keys[0].0.id.clone();
    let new = inquiries::NewInquiry {
        note: Some("secret note".into()),
        tags: vec!["private".into()],
        fields: vec![("name".into(), text("Ada Lovelace"))],
        ..Default::default()
    };
    // Created through an idempotent request, whose stored response shows the inquiry.
    let idempotency::Claim::Fresh(held) = write(
        store,
        idempotency::begin(api_key.clone(), "k".into(), "fp".into(), 60_000),
    )
    .await
    else {
        panic!("a new key is fresh")
    };
    let i = write(
        store,
        idempotency::completing(
            inquiries::create(a.clone(), new),
            api_key.clone(),
            "k".into(),
            held,
            |i| {
                let body = json!({"data": i.to_resource().to_value()}).to_string();
                let response = idempotency::StoredResponse {
                    status: 201,
                    content_type: "application/json".into(),
                    body: body.into_bytes(),
                };
                (response, Some(i.id.to_string()), i)
            },
        ),
    )
    .await;
    let v = write(
        store,
        verifications::record(
            a.clone(),
            verifications::NewVerification {
                inquiry_id: i.id.clone(),
                kind: VerificationKind::GovernmentId,
                status: VerificationStatus::Passed,
                checks: vec![Check {
                    name: "id_check".into(),
                    status: CheckStatus::Passed,
                    reasons: vec!["matched Ada".into()],
                    requirement: Default::default(),
                    metadata: serde_json::Map::from_iter([("seen".into(), json!("Ada"))]),
                }],
                attributes: serde_json::Map::from_iter([("name-first".into(), json!("Ada"))]),
                completed_at: None,
            },
        ),
    )
    .await;
    let d = write(
        store,
        documents::create(
            a.clone(),
            i.id.clone(),
            documents::NewDocument {
                kind: DocumentKind::GovernmentIdFront,
                filename: Some("ada.png".into()),
                content_type: "image/png".into(),
                bytes: b"png bytes".to_vec(),
                sha256: "ab".repeat(32),
            },
        ),
    )
    .await;
    let redacted = write(store, inquiries::redact(a.clone(), i.id.clone())).await;
    assert!(redacted.redacted_at.is_some());
    let got = read(store, inquiries::get(a.clone(), i.id.clone())).await;
    assert_eq!(got.fields["name"].value, serde_json::Value::Null);
    assert_eq!(got.note, None);
    assert!(got.tags.is_empty());
    assert_eq!(got.status, InquiryStatus::Pending, "the status stays");
    let v = read(store, verifications::get(a.clone(), v.id.clone())).await;
    assert!(v.attributes.is_empty());
    assert!(v.checks[0].reasons.is_empty() && v.checks[0].metadata.is_empty());
    assert_eq!(v.checks[0].status, CheckStatus::Passed);
    let doc = read(store, documents::get(a.clone(), d.id.clone())).await;
    assert_eq!(doc.filename, None);
    assert_eq!(doc.sha256, None);
    let e = read_refused(store, documents::file(a.clone(), d.id.clone())).await;
    assert!(e.is(codes::DOCUMENT_REDACTED));
    assert_eq!(common::rows(store, "files").await, 0);
    // Stored events and the stored response no longer hold the data.
    for e in common::all_events(store, &a).await {
        let s = e.payload.to_string();
        assert!(!s.contains("Ada") && !s.contains("secret note"), "{s}");
    }
    let idempotency::Claim::Replay(stored) = write(
        store,
        idempotency::begin(api_key, "k".into(), "fp".into(), 60_000),
    )
    .await
    else {
        panic!("the response was stored")
    };
    let body = String::from_utf8(stored.body).unwrap();
    assert!(
        !body.contains("Ada") && !body.contains("secret note"),
        "{body}"
    );
    let names = events_about(store, &a, i.id.as_str()).await;
    assert_eq!(names.last().map(String::as_str), Some("inquiry.redacted"));
    // Redacting again changes nothing; a redacted inquiry takes no change.
    let before = event_names(store, &a).await;
    write(store, inquiries::redact(a.clone(), i.id.clone())).await;
    assert_eq!(event_names(store, &a).await, before);
    let e = refused(
        store,
        inquiries::update(a.clone(), i.id.clone(), Default::default()),
    )
    .await;
    assert!(e.is(codes::INQUIRY_REDACTED));
    let e = refused(
        store,
        inquiries::change_tags(
            a.clone(),
            i.id.clone(),
            inquiries::TagChange::Add("x".into()),
        ),
    )
    .await;
    assert!(e.is(codes::INQUIRY_REDACTED));
    let e = refused(
        store,
        inquiries::transition(a.clone(), i.id.clone(), InquiryAction::Complete),
    )
    .await;
    assert!(e.is(codes::INQUIRY_REDACTED));
    assert_eq!(event_names(store, &a).await, before);
}

async fn the_sweep_expires_overdue_open_inquiries(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let expiring = |secs| inquiries::NewInquiry {
        expires_after_seconds: Some(secs),
        ..Default::default()
    };
    let soon = write(store, inquiries::create(a.clone(), expiring(60))).await;
    let later = write(store, inquiries::create(a.clone(), expiring(3600))).await;
    let done = write(store, inquiries::create(a.clone(), expiring(60))).await;
    write(
        store,
        inquiries::transition(a.clone(), done.id.clone(), InquiryAction::Complete),
    )
    .await;
    let never = inquiry(store, &a).await;
    assert_eq!(write(store, inquiries::sweep_expired(10)).await, 0);
    db.clock.advance_seconds(61);
    assert_eq!(write(store, inquiries::sweep_expired(10)).await, 1);
    let got = read(store, inquiries::get(a.clone(), soon.id.clone())).await;
    assert_eq!(got.status, InquiryStatus::Expired);
    assert_eq!(got.expired_at, soon.expires_at);
    assert_eq!(
        events_about(store, &a, soon.id.as_str()).await,
        vec!["inquiry.created", "inquiry.expired", "inquiry.transitioned"]
    );
    for (id, status) in [
        (later.id, InquiryStatus::Created),
        (done.id, InquiryStatus::Completed),
        (never, InquiryStatus::Created),
    ] {
        assert_eq!(
            read(store, inquiries::get(a.clone(), id)).await.status,
            status
        );
    }
    // Nothing left to expire: the next sweep does nothing.
    assert_eq!(write(store, inquiries::sweep_expired(10)).await, 0);
}

async fn the_list_filters_within_the_scope(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, a_prod) = org(store, "A").await;
    let one = write(
        store,
        inquiries::create(
            a.clone(),
            inquiries::NewInquiry {
                reference_id: Some("r1".into()),
                note: Some("n1".into()),
                ..Default::default()
            },
        ),
    )
    .await;
    let two = inquiry(store, &a).await;
    write(
        store,
        inquiries::transition(a.clone(), two.clone(), InquiryAction::Complete),
    )
    .await;
    inquiry(store, &a_prod).await;
    let ids = |filter: inquiries::InquiryFilter| {
        let a = a.clone();
        async move {
            read(store, inquiries::list(a, filter, all()))
                .await
                .items
                .into_iter()
                .map(|i| i.id)
                .collect::<Vec<InquiryId>>()
        }
    };
    assert_eq!(
        ids(Default::default()).await,
        vec![two.clone(), one.id.clone()]
    );
    let by_status = inquiries::InquiryFilter {
        statuses: vec![InquiryStatus::Completed],
        ..Default::default()
    };
    assert_eq!(ids(by_status).await, vec![two.clone()]);
    let by_ref = inquiries::InquiryFilter {
        reference_id: Some("r1".into()),
        ..Default::default()
    };
    assert_eq!(ids(by_ref).await, vec![one.id.clone()]);
    let by_note = inquiries::InquiryFilter {
        note: Some("n1".into()),
        ..Default::default()
    };
    assert_eq!(ids(by_note).await, vec![one.id.clone()]);
    let by_id = inquiries::InquiryFilter {
        ids: vec![two.clone()],
        ..Default::default()
    };
    assert_eq!(ids(by_id).await, vec![two.clone()]);
    let nothing = inquiries::InquiryFilter {
        match_nothing: true,
        ..Default::default()
    };
    assert!(ids(nothing).await.is_empty());
}

async fn views_show_the_related_objects_asked_for(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let template = write(store, templates::create(a.clone(), template_spec("KYC"))).await;
    let i = write(
        store,
        inquiries::create(
            a.clone(),
            inquiries::NewInquiry {
                template_id: Some(template.id.clone()),
                ..Default::default()
            },
        ),
    )
    .await;
    let v = write(
        store,
        verifications::record(
            a.clone(),
            verifications::NewVerification {
                inquiry_id: i.id.clone(),
                kind: VerificationKind::Database,
                status: VerificationStatus::Passed,
                checks: Vec::new(),
                attributes: Default::default(),
                completed_at: None,
            },
        ),
    )
    .await;
    let d = write(
        store,
        documents::create(
            a.clone(),
            i.id.clone(),
            documents::NewDocument {
                kind: DocumentKind::Other,
                filename: None,
                content_type: "text/plain".into(),
                bytes: b"x".to_vec(),
                sha256: "00".repeat(32),
            },
        ),
    )
    .await;
    let kinds = |related: &[Related]| -> Vec<String> {
        related
            .iter()
            .map(|r| match r {
                Related::Template(t) => format!("template {}", t.id),
                Related::Verification(v) => format!("verification {}", v.id),
                Related::Document(d) => format!("document {}", d.id),
                Related::Inquiry(i) => format!("inquiry {}", i.id),
                Related::Connection(c) => format!("connection {}", c.id),
            })
            .collect()
    };
    let everything = InquiryIncludes {
        template: true,
        verifications: true,
        documents: true,
    };
    let (shown, related) = read(store, inquiries::show(a.clone(), i.id.clone(), everything)).await;
    assert_eq!(shown.id, i.id);
    assert_eq!(shown.verifications, vec![(v.kind, v.id.clone())]);
    assert_eq!(shown.documents, vec![(d.kind, d.id.clone())]);
    assert_eq!(
        kinds(&related),
        vec![
            format!("template {}", template.id),
            format!("verification {}", v.id),
            format!("document {}", d.id)
        ]
    );
    let (_, none) = read(
        store,
        inquiries::show(a.clone(), i.id.clone(), InquiryIncludes::default()),
    )
    .await;
    assert!(none.is_empty());
    // A change with its related objects, read in the same unit.
    let only_docs = InquiryIncludes {
        documents: true,
        ..Default::default()
    };
    let (changed, related) = write(
        store,
        inquiries::with_related(
            inquiries::change_tags(
                a.clone(),
                i.id.clone(),
                inquiries::TagChange::Add("t".into()),
            ),
            a.clone(),
            only_docs,
        ),
    )
    .await;
    assert_eq!(changed.tags, vec!["t".to_owned()]);
    assert_eq!(kinds(&related), vec![format!("document {}", d.id)]);
    // Another tenant sees none of it.
    let (b, _) = org(store, "B").await;
    let e = read_refused(store, inquiries::show(b, i.id.clone(), everything)).await;
    assert!(e.is(codes::NOT_FOUND));
}

async fn templates_are_created_and_read_in_their_scope(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, a_prod) = org(store, "A").await;
    let mut spec = template_spec("KYC");
    spec.minimum_age = Some(18);
    spec.allowed_countries = Some(vec!["FR".into()]);
    let t = write(store, templates::create(a.clone(), spec)).await;
    let got = read(store, templates::get(a.clone(), t.id.clone())).await;
    assert_eq!(got.name, "KYC");
    assert_eq!(got.required_fields, vec!["name".to_owned()]);
    assert_eq!(got.minimum_age, Some(18));
    assert_eq!(got.allowed_countries, Some(vec!["FR".to_owned()]));
    let second = write(store, templates::create(a.clone(), template_spec("Other"))).await;
    let listed: Vec<TemplateId> = read(store, templates::list(a.clone(), all()))
        .await
        .items
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(listed, vec![second.id, t.id.clone()]);
    assert!(
        read(store, templates::list(a_prod.clone(), all()))
            .await
            .items
            .is_empty()
    );
    let e = read_refused(store, templates::get(a_prod, t.id)).await;
    assert!(e.is(codes::NOT_FOUND));
    // Templates emit no event.
    assert!(event_names(store, &a).await.is_empty());
}

async fn events_are_read_by_id_and_filtered(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let one = inquiry(store, &a).await;
    let two = inquiry(store, &a).await;
    write(
        store,
        inquiries::transition(a.clone(), two.clone(), InquiryAction::Complete),
    )
    .await;
    let all_events = common::all_events(store, &a).await;
    assert_eq!(all_events.len(), 4);
    let first = &all_events[0];
    let got = read(store, events::get(a.clone(), first.id.clone())).await;
    assert_eq!(got.name, "inquiry.created");
    assert_eq!(got.object_id, one.to_string());
    assert_eq!(got.payload, first.payload);
    let names = |f: events::EventFilter| {
        let a = a.clone();
        async move {
            let mut items = read(store, events::list(a, f, all())).await.items;
            items.reverse();
            items.into_iter().map(|e| e.name).collect::<Vec<_>>()
        }
    };
    let by_name = events::EventFilter {
        names: vec!["inquiry.completed".into(), "inquiry.transitioned".into()],
        ..Default::default()
    };
    assert_eq!(
        names(by_name).await,
        vec!["inquiry.completed", "inquiry.transitioned"]
    );
    let by_object = events::EventFilter {
        object_ids: vec![one.to_string()],
        ..Default::default()
    };
    assert_eq!(names(by_object).await, vec!["inquiry.created"]);
    let by_id = events::EventFilter {
        ids: vec![all_events[3].id.to_string()],
        ..Default::default()
    };
    assert_eq!(names(by_id).await, vec!["inquiry.transitioned"]);
    // Another tenant's events are not found.
    let (b, _) = org(store, "B").await;
    let e = read_refused(store, events::get(b, first.id.clone())).await;
    assert!(e.is(codes::NOT_FOUND));
}

on_both_backends!(
    inquiries_are_created_with_their_event,
    updates_emit_updated_and_tag_events,
    tag_changes_emit_only_when_tags_change,
    transitions_record_status_comment_and_events,
    redaction_removes_personal_data_everywhere,
    the_sweep_expires_overdue_open_inquiries,
    the_list_filters_within_the_scope,
    views_show_the_related_objects_asked_for,
    templates_are_created_and_read_in_their_scope,
    events_are_read_by_id_and_filtered,
);
