//! §3.3 redaction: `DELETE /inquiries/{id}` removes every piece of personal data the inquiry ever
//! had, wherever Tessera kept it, and keeps its skeleton.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tessera_store::on_both_backends;
use tessera_store::testing::{Backend, sql};

use crate::support::{App, Part, multipart};

/// Personal data, each distinct so a leak names its source.
const PII: [&str; 8] = [
    "Zelda-PII-first",
    "1971-02-03",
    "note-PII-one",
    "ID-PII-number",
    "reason-PII-text",
    "META-PII-value",
    "passport-PII.png",
    "note-PII-two",
];
const FILE: &[u8] = b"BYTES-PII-in-the-file";

fn assert_clean(what: &str, text: &str) {
    for pii in PII {
        assert!(!text.contains(pii), "{what} still holds {pii}: {text}");
    }
    assert!(!text.contains("BYTES-PII"), "{what} still holds the file");
    let sha = hex_sha(FILE);
    assert!(!text.contains(&sha), "{what} still holds the file's hash");
}

fn hex_sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Requests sent with idempotency keys, to replay after redaction.
struct Sent {
    method: http::Method,
    path: String,
    key: &'static str,
    content_type: String,
    body: Vec<u8>,
}

async fn send(app: &App, api_key: &str, s: &Sent) -> crate::support::Resp {
    app.call(s.method.clone(), &s.path)
        .key(api_key)
        .header("idempotency-key", s.key)
        .raw(&s.content_type, s.body.clone())
        .send()
        .await
}

async fn redaction_removes_every_piece_of_personal_data(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let json_ct = "application/json".to_owned();
    let create = Sent {
        method: http::Method::POST,
        path: "/api/v1/inquiries".into(),
        key: "create",
        content_type: json_ct.clone(),
        body:
            json!({"data": {"attributes": {"reference-id": "ref-1", "tags": ["vip"], "note": PII[2],
            "fields": {"name-first": PII[0], "birthdate": PII[1], "custom": PII[0]}}}})
            .to_string()
            .into_bytes(),
    };
    let created = send(&app, k, &create).await.expect(201);
    let inq = created.id();
    let mut sent = vec![create];
    sent.push(Sent {
        method: http::Method::POST,
        path: "/api/v1/verifications".into(),
        key: "verify",
        content_type: json_ct.clone(),
        body: json!({"data": {"attributes": {"inquiry-id": inq, "type": "government-id", "status": "passed",
            "attributes": {"name-first": PII[0], "identification-number": PII[3]},
            "checks": [{"name": "id_match", "status": "passed", "reasons": [PII[4]], "metadata": {"raw": PII[5]}}]}}})
        .to_string()
        .into_bytes(),
    });
    let ver = send(&app, k, &sent[1]).await.expect(201).id();
    let (ct, body) = multipart(&[
        Part::text("kind", "government-id-front"),
        Part::file(PII[6], "image/png", FILE.to_vec()),
    ]);
    sent.push(Sent {
        method: http::Method::POST,
        path: format!("/api/v1/inquiries/{inq}/documents"),
        key: "upload",
        content_type: ct,
        body,
    });
    let doc = send(&app, k, &sent[2]).await.expect(201).id();
    app.patch(&format!("/api/v1/inquiries/{inq}"))
        .key(k)
        .header("key-inflection", "camel")
        .json(json!({"data": {"attributes": {"note": PII[7]}}}))
        .send()
        .await
        .expect(200);
    sent.push(Sent {
        method: http::Method::POST,
        path: format!("/api/v1/inquiries/{inq}/complete"),
        key: "complete",
        content_type: json_ct.clone(),
        body: Vec::new(),
    });
    send(&app, k, &sent[3]).await.expect(200);
    // Another inquiry keeps its data.
    let other = app.inquiry(k, json!({"name-first": "Keep-Me"})).await;
    let before = app.show_inquiry(k, &inq).await;

    app.db.clock.advance_seconds(1);
    let r = app
        .delete(&format!("/api/v1/inquiries/{inq}"))
        .key(k)
        .send()
        .await
        .expect(200);
    let a = &r.json["data"]["attributes"];
    // Persona's redaction: the field names stay, their values are null; the tags go.
    let fields = a["fields"].as_object().unwrap();
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        before.json["data"]["attributes"]["fields"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>()
    );
    assert!(fields.values().all(|f| f["value"].is_null()));
    assert_eq!(a["tags"], json!([]));
    assert_eq!(a["note"], Value::Null);
    assert_eq!(
        a["redacted-at"],
        json!(tessera_core::Clock::now(&app.db.clock).to_rfc3339())
    );
    let was = &before.json["data"]["attributes"];
    for kept in ["status", "reference-id", "created-at", "completed-at"] {
        assert_eq!(a[kept], was[kept], "{kept} is kept");
    }
    assert_eq!(
        r.json["data"]["relationships"],
        before.json["data"]["relationships"]
    );
    assert_clean("the DELETE response", &String::from_utf8_lossy(&r.bytes));

    let shown = app
        .get(&format!(
            "/api/v1/inquiries/{inq}?include=verifications,documents"
        ))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_clean("the inquiry", &shown.json.to_string());
    let v = app
        .get(&format!("/api/v1/verifications/{ver}"))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_clean("the verification", &v.json.to_string());
    assert_eq!(v.attr("attributes"), &json!({}));
    assert_eq!(v.attr("status"), "passed");
    assert_eq!(v.attr("checks")[0]["name"], "id_match");
    assert_eq!(v.attr("checks")[0]["status"], "passed");
    let d = app
        .get(&format!("/api/v1/documents/{doc}"))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_clean("the document", &d.json.to_string());
    assert_eq!(
        (d.attr("filename"), d.attr("sha256")),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(
        (d.attr("kind"), d.attr("byte-size")),
        (&json!("government-id-front"), &json!(FILE.len()))
    );
    let f = app
        .get(&format!("/api/v1/documents/{doc}/file"))
        .key(k)
        .send()
        .await
        .expect(410);
    assert_eq!(f.code(), "document_redacted");
    // Every event the organization has.
    let events = app.all(k, "/api/v1/events").await;
    for e in &events {
        assert_clean("an event", &e.to_string());
    }
    let redacted: Vec<_> = events
        .iter()
        .filter(|e| e["attributes"]["name"] == "inquiry.redacted")
        .collect();
    assert_eq!(redacted.len(), 1);
    assert_eq!(
        redacted[0]["attributes"]["payload"]["data"]["id"],
        inq.as_str()
    );
    // Replays of the stored responses.
    for s in &sent {
        let r = send(&app, k, s).await;
        assert_eq!(r.header("idempotent-replayed"), Some("true"), "{}", s.path);
        assert_clean(
            &format!("the replay of {}", s.path),
            &String::from_utf8_lossy(&r.bytes),
        );
    }
    // What the database still holds.
    let store = &app.db.store;
    let mut stored = Vec::new();
    for (query, col) in [
        ("select payload as t from events", "t"),
        ("select fields as t from inquiries", "t"),
        ("select coalesce(note, '') as t from inquiries", "t"),
        ("select attributes as t from verifications", "t"),
        ("select checks as t from verifications", "t"),
        ("select coalesce(filename, '') as t from documents", "t"),
        ("select coalesce(sha256, '') as t from documents", "t"),
    ] {
        for row in sql::fetch_all(store, query, vec![]).await.unwrap() {
            stored.push(row.text(col).unwrap());
        }
    }
    for row in sql::fetch_all(store, "select bytes from files", vec![])
        .await
        .unwrap()
    {
        stored.push(String::from_utf8_lossy(&row.bytes("bytes").unwrap()).into_owned());
    }
    for row in sql::fetch_all(store, "select body from idempotency_keys", vec![])
        .await
        .unwrap()
    {
        if let Some(b) = row.opt_bytes("body").unwrap() {
            stored.push(String::from_utf8_lossy(&b).into_owned());
        }
    }
    for t in stored {
        assert_clean("the database", &t);
    }
    let kept = app.show_inquiry(k, &other).await;
    assert_eq!(kept.attr("fields")["name-first"]["value"], "Keep-Me");
}

async fn a_redacted_inquiry_takes_no_more_data(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let inq = app.inquiry(k, json!({"name-first": "Jane"})).await;
    let first = app
        .delete(&format!("/api/v1/inquiries/{inq}"))
        .key(k)
        .send()
        .await
        .expect(200);
    app.db.clock.advance_seconds(5);
    let again = app
        .delete(&format!("/api/v1/inquiries/{inq}"))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_eq!(again.json, first.json, "redacting twice changes nothing");
    let refused = [
        app.patch(&format!("/api/v1/inquiries/{inq}"))
            .key(k)
            .json(json!({"data": {"attributes": {"note": "x"}}}))
            .send()
            .await,
        app.verify(k, &inq, "selfie", "passed").await,
        app.upload(
            k,
            &inq,
            &[
                Part::text("kind", "selfie"),
                Part::file("a.png", "image/png", b"a".to_vec()),
            ],
        )
        .await,
        app.act(k, &inq, "complete").await,
        app.act(k, &inq, "expire").await,
    ];
    for r in refused {
        let r = r.expect(409);
        assert_eq!(r.code(), "inquiry_redacted");
    }
    assert_eq!(app.show_inquiry(k, &inq).await.json, first.json);
    assert_eq!(
        app.event_names(k, None).await,
        ["inquiry.redacted", "inquiry.created"]
    );
    app.delete("/api/v1/inquiries/inq_0000000000000000000000")
        .key(k)
        .send()
        .await
        .expect(404);
}

on_both_backends!(
    redaction_removes_every_piece_of_personal_data,
    a_redacted_inquiry_takes_no_more_data,
);
