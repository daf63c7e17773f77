//! The store contract for what is recorded on an inquiry: verifications and documents (with
//! their bytes). Each scenario runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{event_names, events_about, inquiry, org, read, read_refused, refused, rows, write};
use serde_json::json;
use tessera_core::codes;
use tessera_core::document::DocumentKind;
use tessera_core::error::Source;
use tessera_core::id::InquiryId;
use tessera_core::inquiry::{InquiryAction, InquiryStatus};
use tessera_core::tenancy::Scope;
use tessera_core::verification::{VerificationKind, VerificationStatus};
use tessera_store::testing::{Backend, TestDb};
use tessera_store::units::{documents, inquiries, verifications};
use tessera_store::{Store, on_both_backends};

fn verification(inquiry: &InquiryId, status: VerificationStatus) -> verifications::NewVerification {
    verifications::NewVerification {
        inquiry_id: inquiry.clone(),
        kind: VerificationKind::GovernmentId,
        status,
        checks: Vec::new(),
        attributes: serde_json::Map::from_iter([("country".into(), json!("FR"))]),
        completed_at: None,
    }
}

fn document(bytes: &[u8]) -> documents::NewDocument {
    documents::NewDocument {
        kind: DocumentKind::ProofOfAddress,
        filename: Some("bill.pdf".into()),
        content_type: "application/pdf".into(),
        bytes: bytes.to_vec(),
        sha256: "cd".repeat(32),
    }
}

async fn approved_inquiry(store: &Store, scope: &Scope) -> InquiryId {
    let id = inquiry(store, scope).await;
    for action in [InquiryAction::Complete, InquiryAction::Approve] {
        write(
            store,
            inquiries::transition(scope.clone(), id.clone(), action),
        )
        .await;
    }
    id
}

async fn the_first_verification_starts_the_inquiry(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let id = inquiry(store, &a).await;
    let at = common::now(store).plus_seconds(-3600);
    let first = write(
        store,
        verifications::record(
            a.clone(),
            verifications::NewVerification {
                completed_at: Some(at),
                ..verification(&id, VerificationStatus::Passed)
            },
        ),
    )
    .await;
    assert_eq!(first.completed_at, at);
    assert_eq!(first.inquiry_id, id);
    let second = write(
        store,
        verifications::record(a.clone(), verification(&id, VerificationStatus::Failed)),
    )
    .await;
    assert_eq!(second.completed_at, common::now(store));
    let i = read(store, inquiries::get(a.clone(), id.clone())).await;
    assert_eq!(i.status, InquiryStatus::Pending);
    assert_eq!(
        i.verifications,
        vec![
            (first.kind, first.id.clone()),
            (second.kind, second.id.clone())
        ]
    );
    assert_eq!(
        events_about(store, &a, id.as_str()).await,
        vec!["inquiry.created", "inquiry.started", "inquiry.transitioned"]
    );
    assert_eq!(
        events_about(store, &a, first.id.as_str()).await,
        vec!["verification.passed"]
    );
    assert_eq!(
        events_about(store, &a, second.id.as_str()).await,
        vec!["verification.failed"]
    );
    // Read back one by one, and for the inquiry in order.
    let got = read(store, verifications::get(a.clone(), first.id.clone())).await;
    assert_eq!(got.status, VerificationStatus::Passed);
    assert_eq!(got.attributes["country"], json!("FR"));
    let ids: Vec<_> = read(store, verifications::for_inquiry(a.clone(), id.clone()))
        .await
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(ids, vec![first.id.clone(), second.id.clone()]);
    // With its inquiry, when asked.
    let (v, parent) = read(
        store,
        verifications::show(a.clone(), first.id.clone(), true),
    )
    .await;
    assert_eq!(v.id, first.id);
    assert_eq!(parent.map(|i| i.id), Some(id.clone()));
    let (_, parent) = read(
        store,
        verifications::show(a.clone(), first.id.clone(), false),
    )
    .await;
    assert!(parent.is_none());
    let (third, parent) = write(
        store,
        verifications::record_showing(
            a.clone(),
            verification(&id, VerificationStatus::Passed),
            true,
        ),
    )
    .await;
    assert_eq!(parent.map(|i| i.verifications.len()), Some(3));
    assert_eq!(
        read(store, verifications::get(a.clone(), third.id))
            .await
            .inquiry_id,
        id
    );
}

async fn verifications_are_refused_on_closed_or_unknown_inquiries(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let closed = approved_inquiry(store, &a).await;
    let before = event_names(store, &a).await;
    let e = refused(
        store,
        verifications::record(a.clone(), verification(&closed, VerificationStatus::Passed)),
    )
    .await;
    assert!(e.is(codes::INQUIRY_NOT_OPEN));
    // Another tenant's inquiry is not found, at the attribute that names it.
    let (b, _) = org(store, "B").await;
    let theirs = inquiry(store, &b).await;
    let e = refused(
        store,
        verifications::record(a.clone(), verification(&theirs, VerificationStatus::Passed)),
    )
    .await;
    assert!(e.is(codes::NOT_FOUND));
    assert_eq!(e.location, Some(Source::Attribute("inquiry-id".into())));
    assert_eq!(rows(store, "verifications").await, 0);
    assert_eq!(event_names(store, &a).await, before);
    assert_eq!(
        read(store, inquiries::get(b.clone(), theirs.clone()))
            .await
            .status,
        InquiryStatus::Created
    );
    // A verification of another tenant is not found either.
    let v = write(
        store,
        verifications::record(b.clone(), verification(&theirs, VerificationStatus::Passed)),
    )
    .await;
    let e = read_refused(store, verifications::get(a.clone(), v.id)).await;
    assert!(e.is(codes::NOT_FOUND));
    assert!(
        read(store, verifications::for_inquiry(a, theirs))
            .await
            .is_empty()
    );
}

async fn documents_keep_their_bytes(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let id = inquiry(store, &a).await;
    let before = read(store, inquiries::get(a.clone(), id.clone())).await;
    db.clock.advance_seconds(5);
    let d = write(
        store,
        documents::create(a.clone(), id.clone(), document(b"%PDF-1")),
    )
    .await;
    assert_eq!(d.inquiry_id, id);
    assert_eq!(d.byte_size, 6);
    assert_eq!(d.filename.as_deref(), Some("bill.pdf"));
    assert!(d.file_id.is_some());
    let (meta, bytes) = read(store, documents::file(a.clone(), d.id.clone())).await;
    assert_eq!(meta.id, d.id);
    assert_eq!(bytes, b"%PDF-1");
    let got = read(store, documents::get(a.clone(), d.id.clone())).await;
    assert_eq!(got.content_type, "application/pdf");
    assert_eq!(got.sha256, Some("cd".repeat(32)));
    // The inquiry lists it and was touched; `document.created` is emitted (the status stays).
    let after = read(store, inquiries::get(a.clone(), id.clone())).await;
    assert_eq!(after.documents, vec![(d.kind, d.id.clone())]);
    assert!(after.updated_at > before.updated_at);
    assert_eq!(after.status, InquiryStatus::Created);
    assert_eq!(
        events_about(store, &a, d.id.as_str()).await,
        vec!["document.created"]
    );
    let (second, parent) = write(
        store,
        documents::create_showing(a.clone(), id.clone(), document(b"two"), true),
    )
    .await;
    assert_eq!(parent.map(|i| i.documents.len()), Some(2));
    let ids: Vec<_> = read(store, documents::for_inquiry(a.clone(), id.clone()))
        .await
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(ids, vec![d.id.clone(), second.id.clone()]);
    let (shown, parent) = read(store, documents::show(a.clone(), d.id.clone(), true)).await;
    assert_eq!(shown.id, d.id);
    assert_eq!(parent.map(|i| i.id), Some(id.clone()));
    let (_, parent) = read(store, documents::show(a.clone(), d.id.clone(), false)).await;
    assert!(parent.is_none());
    // Another tenant sees neither the document nor its bytes.
    let (b, _) = org(store, "B").await;
    let e = read_refused(store, documents::file(b.clone(), d.id.clone())).await;
    assert!(e.is(codes::NOT_FOUND));
    let e = read_refused(store, documents::get(b, d.id)).await;
    assert!(e.is(codes::NOT_FOUND));
}

async fn documents_are_refused_on_closed_inquiries(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let (a, _) = org(store, "A").await;
    let closed = approved_inquiry(store, &a).await;
    let before = event_names(store, &a).await;
    let e = refused(
        store,
        documents::create(a.clone(), closed.clone(), document(b"x")),
    )
    .await;
    assert!(e.is(codes::INQUIRY_NOT_OPEN));
    let (b, _) = org(store, "B").await;
    let theirs = inquiry(store, &b).await;
    let e = refused(store, documents::create(a.clone(), theirs, document(b"x"))).await;
    assert!(e.is(codes::NOT_FOUND));
    assert_eq!(rows(store, "documents").await, 0);
    assert_eq!(rows(store, "files").await, 0);
    assert_eq!(event_names(store, &a).await, before);
}

on_both_backends!(
    the_first_verification_starts_the_inquiry,
    verifications_are_refused_on_closed_or_unknown_inquiries,
    documents_keep_their_bytes,
    documents_are_refused_on_closed_inquiries,
);
