//! §3.3 documents: multipart uploads, metadata, and the stored bytes.

use serde_json::json;
use sha2::{Digest, Sha256};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{App, BOUNDARY, Part, multipart};

const MIB: usize = 1024 * 1024;

async fn an_upload_is_stored_and_served_back(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let inq = app.inquiry(k, json!({})).await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let r = app
        .upload(
            k,
            &inq,
            &[
                Part::text("kind", "government-id-front"),
                Part::file("../../scans/id front.png", "image/png", bytes.clone()),
            ],
        )
        .await
        .expect(201);
    let doc = r.id();
    assert!(doc.starts_with("doc_"));
    assert_eq!(r.json["data"]["type"], "document/government-id");
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let a = &r.json["data"]["attributes"];
    assert_eq!(a["kind"], "government-id-front");
    assert_eq!(a["filename"], "id front.png");
    assert_eq!(a["content-type"], "image/png");
    assert_eq!(a["byte-size"], 70_000);
    assert_eq!(a["sha256"], sha.as_str());
    assert_eq!(
        r.json["data"]["relationships"]["inquiry"]["data"]["id"],
        inq.as_str()
    );
    let shown = app
        .get(&format!("/api/v1/documents/{doc}"))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_eq!(shown.json, r.json);
    let f = app
        .get(&format!("/api/v1/documents/{doc}/file"))
        .key(k)
        .send()
        .await;
    assert_eq!(f.status, 200);
    assert_eq!(f.bytes, bytes);
    assert_eq!(f.header("content-type"), Some("image/png"));
    assert_eq!(f.header("x-content-type-options"), Some("nosniff"));
    assert!(
        f.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    assert!(f.header("request-id").is_some());
    let i = app.show_inquiry(k, &inq).await;
    assert_eq!(
        i.json["data"]["relationships"]["documents"]["data"],
        json!([{"type": "document/government-id", "id": doc}])
    );
    assert_eq!(
        app.event_names(k, None).await,
        ["document.created", "inquiry.created"]
    );
    // A file part without a content type is stored as octet-stream; text kinds are trimmed.
    let r = app
        .upload(
            k,
            &inq,
            &[
                Part::text("kind", " selfie "),
                Part {
                    name: "file",
                    filename: None,
                    content_type: None,
                    bytes: b"<html>".to_vec(),
                },
            ],
        )
        .await
        .expect(201);
    assert_eq!(r.attr("content-type"), "application/octet-stream");
    assert_eq!(r.attr("filename"), &serde_json::Value::Null);
    let f = app
        .get(&format!("/api/v1/documents/{}/file", r.id()))
        .key(k)
        .send()
        .await;
    assert_eq!(f.header("content-type"), Some("application/octet-stream"));
    // So is a file part whose content type is not a media type.
    let r = app
        .upload(
            k,
            &inq,
            &[
                Part::text("kind", "other"),
                Part::file("x.html", "text html<script>", b"x".to_vec()),
            ],
        )
        .await
        .expect(201);
    assert_eq!(r.attr("content-type"), "application/octet-stream");
    app.get("/api/v1/documents/doc_0000000000000000000000")
        .key(k)
        .send()
        .await
        .expect(404);
    app.get("/api/v1/documents/doc_0000000000000000000000/file")
        .key(k)
        .send()
        .await
        .expect(404);
}

async fn malformed_uploads_are_refused(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let other = app.org("Other").await;
    let k = &org.sandbox;
    let inq = app.inquiry(k, json!({})).await;
    let path = format!("/api/v1/inquiries/{inq}/documents");
    let file = || Part::file("a.png", "image/png", b"png".to_vec());
    let r = app
        .post(&path)
        .key(k)
        .json(json!({"kind": "selfie"}))
        .send()
        .await
        .expect(415);
    assert_eq!(r.code(), "unsupported_media_type");
    app.post(&path).key(k).send().await.expect(415);
    let cases: Vec<(Vec<Part<'_>>, u16, &str, &str)> = vec![
        (vec![file()], 422, "missing_attribute", "/kind"),
        (
            vec![Part::text("kind", "selfie")],
            422,
            "missing_attribute",
            "/file",
        ),
        (
            vec![Part::text("kind", "passport"), file()],
            422,
            "invalid_attribute",
            "/kind",
        ),
        (
            vec![
                Part::text("kind", "selfie"),
                Part::file("e.png", "image/png", Vec::new()),
            ],
            422,
            "invalid_attribute",
            "/file",
        ),
        (
            vec![
                Part::text("kind", "selfie"),
                file(),
                Part::text("note", "x"),
            ],
            400,
            "invalid_multipart",
            "",
        ),
        (
            vec![Part::text("kind", "selfie"), file(), file()],
            400,
            "invalid_multipart",
            "",
        ),
        (
            vec![
                Part::text("kind", "selfie"),
                Part::text("kind", "other"),
                file(),
            ],
            400,
            "invalid_multipart",
            "",
        ),
    ];
    for (parts, status, code, pointer) in cases {
        let r = app.upload(k, &inq, &parts).await.expect(status);
        assert_eq!((r.code(), r.pointer()), (code, pointer));
    }
    // A body cut short, and one without its boundary.
    let (ct, body) = multipart(&[Part::text("kind", "selfie"), file()]);
    app.post(&path)
        .key(k)
        .raw(&ct, body[..body.len() - 20].to_vec())
        .send()
        .await
        .expect(400);
    app.post(&path)
        .key(k)
        .raw("multipart/form-data", body)
        .send()
        .await
        .expect(400);
    // Another organization's inquiry, a closed one.
    let r = app
        .upload(
            &other.sandbox,
            &inq,
            &[Part::text("kind", "selfie"), file()],
        )
        .await
        .expect(404);
    assert_eq!(r.code(), "not_found");
    let closed = app.inquiry(k, json!({})).await;
    app.act(k, &closed, "fail").await.expect(200);
    let r = app
        .upload(k, &closed, &[Part::text("kind", "selfie"), file()])
        .await
        .expect(409);
    assert_eq!(r.code(), "inquiry_not_open");
    for i in [&inq, &closed] {
        let shown = app.show_inquiry(k, i).await;
        assert_eq!(
            shown.json["data"]["relationships"]["documents"]["data"],
            json!([])
        );
    }
    assert!(
        !app.event_names(k, None)
            .await
            .iter()
            .any(|n| n == "document.created")
    );
}

async fn files_are_at_most_10_mib(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let inq = app.inquiry(k, json!({})).await;
    let path = format!("/api/v1/inquiries/{inq}/documents");
    let body = |size: usize| {
        multipart(&[
            Part::text("kind", "other"),
            Part::file("big.bin", "application/pdf", vec![7u8; size]),
        ])
    };
    for key in [None, Some("too-big")] {
        let (ct, b) = body(10 * MIB + 1);
        let mut call = app.post(&path).key(k).raw(&ct, b);
        if let Some(key) = key {
            call = call.header("idempotency-key", key);
        }
        let r = call.send().await.expect(413);
        assert_eq!(r.code(), "payload_too_large");
    }
    let (ct, b) = body(30 * MIB);
    app.post(&path).key(k).raw(&ct, b).send().await.expect(413);
    let (ct, b) = body(10 * MIB);
    let len = b.len().to_string();
    app.post(&path)
        .key(k)
        .header("content-length", &len)
        .header("idempotency-key", "at-the-limit")
        .raw(&ct, b)
        .send()
        .await
        .expect(201);
    let docs =
        app.show_inquiry(k, &inq).await.json["data"]["relationships"]["documents"]["data"].clone();
    assert_eq!(docs.as_array().unwrap().len(), 1);
    let doc = docs[0]["id"].as_str().unwrap();
    let f = app
        .get(&format!("/api/v1/documents/{doc}/file"))
        .key(k)
        .send()
        .await;
    assert_eq!(f.bytes.len(), 10 * MIB);
    let _ = BOUNDARY;
}

on_both_backends!(
    an_upload_is_stored_and_served_back,
    malformed_uploads_are_refused,
    files_are_at_most_10_mib,
);
