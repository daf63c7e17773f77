//! §3.6 events: one per change, in its transaction; listed newest first, filtered, per tenant.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{App, Part};

async fn every_change_has_exactly_one_event(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let mut expected: Vec<(String, String)> = Vec::new();
    let inq = app.inquiry(k, json!({"name-first": "Jane"})).await;
    expected.push(("inquiry.created".into(), inq.clone()));
    app.patch(&format!("/api/v1/inquiries/{inq}"))
        .key(k)
        .json(json!({"data": {"attributes": {"tags": ["a"]}}}))
        .send()
        .await
        .expect(200);
    expected.push(("inquiry.updated".into(), inq.clone()));
    // The tags changed: Persona's event for that too.
    expected.push(("inquiry.updated-tags".into(), inq.clone()));
    let v1 = app
        .verify(k, &inq, "selfie", "passed")
        .await
        .expect(201)
        .id();
    expected.push(("inquiry.started".into(), inq.clone()));
    // Every status change is also Persona's `inquiry.transitioned`.
    expected.push(("inquiry.transitioned".into(), inq.clone()));
    expected.push(("verification.passed".into(), v1));
    let v2 = app
        .verify(k, &inq, "database", "failed")
        .await
        .expect(201)
        .id();
    expected.push(("verification.failed".into(), v2));
    let doc = app
        .upload(
            k,
            &inq,
            &[
                Part::text("kind", "other"),
                Part::file("a.txt", "text/plain", b"a".to_vec()),
            ],
        )
        .await
        .expect(201)
        .id();
    expected.push(("document.created".into(), doc));
    for (action, event) in [
        ("complete", "inquiry.completed"),
        ("mark-for-review", "inquiry.marked-for-review"),
        ("decline", "inquiry.declined"),
    ] {
        app.act(k, &inq, action).await.expect(200);
        expected.push((event.into(), inq.clone()));
        expected.push(("inquiry.transitioned".into(), inq.clone()));
    }
    let second = app.inquiry(k, json!({})).await;
    expected.push(("inquiry.created".into(), second.clone()));
    for (action, event) in [
        ("complete", "inquiry.completed"),
        ("approve", "inquiry.approved"),
    ] {
        app.act(k, &second, action).await.expect(200);
        expected.push((event.into(), second.clone()));
        expected.push(("inquiry.transitioned".into(), second.clone()));
    }
    for (action, event) in [("expire", "inquiry.expired"), ("fail", "inquiry.failed")] {
        let i = app.inquiry(k, json!({})).await;
        expected.push(("inquiry.created".into(), i.clone()));
        app.act(k, &i, action).await.expect(200);
        expected.push((event.into(), i.clone()));
        expected.push(("inquiry.transitioned".into(), i));
    }
    app.delete(&format!("/api/v1/inquiries/{second}"))
        .key(k)
        .send()
        .await
        .expect(200);
    expected.push(("inquiry.redacted".into(), second.clone()));
    // Refused and read-only requests leave no event; neither do templates and keys.
    app.act(k, &inq, "approve").await.expect(409);
    app.verify(k, &inq, "selfie", "passed").await.expect(409);
    app.delete(&format!("/api/v1/inquiries/{second}"))
        .key(k)
        .send()
        .await
        .expect(200);
    app.get(&format!("/api/v1/inquiries/{inq}"))
        .key(k)
        .send()
        .await
        .expect(200);
    app.template(k, "T").await;
    app.post("/api/v1/api-keys")
        .key(k)
        .json(json!({"data": {"attributes": {"name": "n"}}}))
        .send()
        .await
        .expect(201);
    let events = app.all(k, "/api/v1/events").await;
    let got: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["attributes"]["name"].as_str().unwrap().to_owned(),
                e["attributes"]["payload"]["data"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    expected.reverse();
    assert_eq!(got, expected);
    // The other environment saw none of it.
    assert!(app.event_names(&org.production, None).await.is_empty());
}

async fn events_are_listed_filtered_and_shown(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let other = app.org("Other").await;
    let k = &org.sandbox;
    let a = app.inquiry(k, json!({})).await;
    app.db.clock.advance_millis(1);
    let b = app.inquiry(k, json!({})).await;
    app.db.clock.advance_millis(1);
    app.act(k, &a, "complete").await.expect(200);
    app.db.clock.advance_millis(1);
    app.act(k, &b, "expire").await.expect(200);
    app.inquiry(&other.sandbox, json!({})).await;
    let everything = app.all(k, "/api/v1/events").await;
    // Each status change also made an `inquiry.transitioned`, at the same moment, after it.
    assert_eq!(everything.len(), 6);
    assert_eq!(everything[0]["attributes"]["name"], "inquiry.transitioned");
    assert_eq!(everything[1]["attributes"]["name"], "inquiry.expired");
    let all: Vec<_> = everything
        .into_iter()
        .filter(|e| e["attributes"]["name"] != "inquiry.transitioned")
        .collect();
    assert_eq!(all.len(), 4);
    let times: Vec<&str> = all
        .iter()
        .map(|e| e["attributes"]["created-at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_unstable_by(|x, y| y.cmp(x));
    sorted.dedup();
    assert_eq!(times, sorted, "newest first, each at its own time");
    let e = &all[0];
    assert!(e["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(e["type"], "event");
    assert_eq!(e["attributes"]["name"], "inquiry.expired");
    assert_eq!(e["attributes"]["payload"]["data"]["type"], "inquiry");
    assert_eq!(
        e["attributes"]["payload"]["data"]["attributes"]["status"],
        "expired"
    );
    let shown = app
        .get(&format!("/api/v1/events/{}", e["id"].as_str().unwrap()))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_eq!(shown.json["data"], *e);
    let names = |q: String| {
        let app = &app;
        async move {
            app.all(k, &format!("/api/v1/events?{q}"))
                .await
                .iter()
                .map(|e| e["attributes"]["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        names("filter[name]=inquiry.created".into()).await,
        ["inquiry.created", "inquiry.created"]
    );
    assert_eq!(
        names("filter[name]=inquiry.completed,inquiry.expired".into()).await,
        ["inquiry.expired", "inquiry.completed"]
    );
    assert!(
        names("filter[name]=inquiry.approved".into())
            .await
            .is_empty()
    );
    assert_eq!(
        names(format!("filter[object-id]={a}")).await,
        [
            "inquiry.transitioned",
            "inquiry.completed",
            "inquiry.created"
        ]
    );
    assert_eq!(
        names(format!(
            "filter[object-id]={b}&filter[name]=inquiry.created"
        ))
        .await,
        ["inquiry.created"]
    );
    // The other organization sees only its own; this one cannot open theirs.
    let theirs = app.all(&other.sandbox, "/api/v1/events").await;
    assert_eq!(theirs.len(), 1);
    app.get(&format!(
        "/api/v1/events/{}",
        theirs[0]["id"].as_str().unwrap()
    ))
    .key(k)
    .send()
    .await
    .expect(404);
    assert!(
        app.all(
            &other.sandbox,
            &format!("/api/v1/events?filter[object-id]={a}")
        )
        .await
        .is_empty()
    );
    app.get("/api/v1/events/evt_0000000000000000000000")
        .key(k)
        .send()
        .await
        .expect(404);
}

on_both_backends!(
    every_change_has_exactly_one_event,
    events_are_listed_filtered_and_shown,
);
