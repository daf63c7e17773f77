//! §1 pagination, filters, sparse fieldsets and includes.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{App, Part};

/// Walks a list with `links.next` from the first page, then back with `links.prev` from the last
/// page; returns the ids in both walks (the backward walk in list order) and the page count.
async fn walk(app: &App, key: &str, path: &str, size: u32) -> (Vec<String>, Vec<String>) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut url = Some(format!("{path}{sep}page[size]={size}"));
    let mut forward = Vec::new();
    let mut last_page = None;
    let mut first = true;
    while let Some(u) = url {
        let r = app.get(&u).key(key).send().await.expect(200);
        if first {
            assert_eq!(r.link("prev"), None, "the first page has no prev: {u}");
            first = false;
        }
        assert!(r.items().len() <= size as usize);
        forward.extend(r.ids());
        url = r.link("next");
        last_page = Some(r);
    }
    let mut pages = vec![last_page.unwrap().ids()];
    let mut prev = app
        .get(&format!(
            "{path}{sep}page[size]={size}&page[before]={}",
            pages[0][0]
        ))
        .key(key)
        .send()
        .await
        .expect(200);
    loop {
        pages.push(prev.ids());
        match prev.link("prev") {
            Some(u) => prev = app.get(&u).key(key).send().await.expect(200),
            None => break,
        }
    }
    pages.reverse();
    (forward, pages.concat())
}

fn assert_walks(forward: &[String], backward: &[String], expected: &[String]) {
    assert_eq!(forward, expected, "forward walk");
    assert_eq!(backward, expected, "backward walk");
}

async fn page_size_is_between_1_and_100(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    for path in [
        "/api/v1/inquiries",
        "/api/v1/inquiry-templates",
        "/api/v1/events",
        "/api/v1/api-keys",
    ] {
        for bad in ["0", "101", "-1", "x", "", "1.5", "99999999999"] {
            let r = app
                .get(&format!("{path}?page[size]={bad}"))
                .key(k)
                .send()
                .await
                .expect(400);
            assert_eq!(
                (r.code(), r.parameter()),
                ("invalid_query_parameter", "page[size]"),
                "{path} {bad}"
            );
        }
        for good in ["1", "100"] {
            app.get(&format!("{path}?page[size]={good}"))
                .key(k)
                .send()
                .await
                .expect(200);
        }
    }
    let r = app
        .get("/admin/v1/organizations?page[size]=101")
        .key(crate::support::ADMIN)
        .send()
        .await
        .expect(400);
    assert_eq!(r.parameter(), "page[size]");
}

async fn lists_walk_newest_first_without_gaps_or_repeats(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let mut inquiries = Vec::new();
    let mut templates = Vec::new();
    let mut keys = vec![app.api_key_id(k).await];
    for i in 0..12 {
        inquiries.push(app.inquiry(k, json!({})).await);
        templates.push(app.template(k, &format!("T{i}")).await);
        keys.push(
            app.post("/api/v1/api-keys")
                .key(k)
                .json(json!({"data": {"attributes": {"name": format!("k{i}")}}}))
                .send()
                .await
                .expect(201)
                .id(),
        );
    }
    for list in [&mut inquiries, &mut templates, &mut keys] {
        list.reverse();
    }
    // The default page is 10, newest first.
    let r = app.get("/api/v1/inquiries").key(k).send().await.expect(200);
    assert_eq!(r.ids(), inquiries[..10]);
    for size in [1, 5, 12, 100] {
        let (f, b) = walk(&app, k, "/api/v1/inquiries", size).await;
        assert_walks(&f, &b, &inquiries);
    }
    let (f, b) = walk(&app, k, "/api/v1/inquiry-templates", 5).await;
    assert_walks(&f, &b, &templates);
    let (f, b) = walk(&app, k, "/api/v1/api-keys", 5).await;
    assert_walks(&f, &b, &keys);
    let events: Vec<String> = app
        .all(k, "/api/v1/events")
        .await
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(events.len(), 12);
    let (f, b) = walk(&app, k, "/api/v1/events", 5).await;
    assert_walks(&f, &b, &events);
    // Filters are kept by the links.
    let some: Vec<String> = inquiries.iter().step_by(3).cloned().collect();
    for id in &some {
        app.act(k, id, "complete").await.expect(200);
    }
    let (f, b) = walk(&app, k, "/api/v1/inquiries?filter[status]=completed", 2).await;
    assert_walks(&f, &b, &some);
    // The operator's organization list pages the same way.
    let mut orgs = vec![org.id.clone()];
    for i in 0..4 {
        orgs.push(app.org(&format!("Org {i}")).await.id);
    }
    orgs.reverse();
    let (f, b) = walk(&app, crate::support::ADMIN, "/admin/v1/organizations", 2).await;
    assert_walks(&f, &b, &orgs);
}

async fn links_keep_the_query(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    for _ in 0..3 {
        app.post("/api/v1/inquiries")
            .key(k)
            .json(json!({"data": {"attributes": {"reference-id": "r"}}}))
            .send()
            .await
            .expect(201);
    }
    let r = app
        .get("/api/v1/inquiries?filter[reference-id]=r&fields[inquiry]=status&page[size]=1")
        .key(k)
        .send()
        .await
        .expect(200);
    let next = r.link("next").unwrap();
    assert!(next.starts_with("/api/v1/inquiries?"), "{next}");
    let r = app.get(&next).key(k).send().await.expect(200);
    assert_eq!(r.items().len(), 1);
    assert_eq!(
        r.items()[0]["attributes"],
        json!({"status": "created"}),
        "sparse fieldsets survive {next}"
    );
    let prev = r.link("prev").unwrap();
    let r = app.get(&prev).key(k).send().await.expect(200);
    assert_eq!(r.items()[0]["attributes"], json!({"status": "created"}));
}

async fn bad_cursors_and_unknown_parameters_are_400(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let other = app.org("Other").await;
    let k = &org.sandbox;
    let mine = app.inquiry(k, json!({})).await;
    let theirs = app.inquiry(&other.sandbox, json!({})).await;
    let sandbox_template = app.template(k, "T").await;
    let cases = [
        (
            "/api/v1/inquiries?page[after]=inq_0000000000000000000000".to_owned(),
            "page[after]",
        ),
        (
            format!("/api/v1/inquiries?page[before]={theirs}"),
            "page[before]",
        ),
        (
            format!("/api/v1/inquiries?page[after]={sandbox_template}"),
            "page[after]",
        ),
        (
            format!("/api/v1/inquiries?page[after]={mine}&page[before]={mine}"),
            "page[before]",
        ),
        ("/api/v1/inquiries?page[after]=".to_owned(), "page[after]"),
        (
            "/api/v1/inquiries?page[number]=2".to_owned(),
            "page[number]",
        ),
        ("/api/v1/inquiries?sort=created-at".to_owned(), "sort"),
        (
            "/api/v1/inquiries?filter[name]=x".to_owned(),
            "filter[name]",
        ),
        (
            "/api/v1/inquiries?filter[status]=nope".to_owned(),
            "filter[status]",
        ),
        (
            "/api/v1/inquiries?page[size]=2&page[size]=3".to_owned(),
            "page[size]",
        ),
        (
            "/api/v1/events?filter[status]=x".to_owned(),
            "filter[status]",
        ),
        (
            "/api/v1/inquiry-templates?filter[name]=x".to_owned(),
            "filter[name]",
        ),
        (
            "/api/v1/inquiries?include=verifications".to_owned(),
            "include",
        ),
        (
            format!("/api/v1/inquiries/{mine}?include=share-token"),
            "include",
        ),
        (format!("/api/v1/inquiries/{mine}?include=bogus"), "include"),
        (
            format!("/api/v1/inquiries/{mine}?page[size]=2"),
            "page[size]",
        ),
        (
            format!("/api/v1/inquiries/{mine}?filter[status]=created"),
            "filter[status]",
        ),
        ("/api/v1/organization?x=1".to_owned(), "x"),
    ];
    for (url, parameter) in cases {
        let r = app.get(&url).key(k).send().await.expect(400);
        assert_eq!(
            (r.code(), r.parameter()),
            ("invalid_query_parameter", parameter),
            "{url}"
        );
    }
    // A cursor from the other environment of the same organization is not part of this list.
    let prod = app.inquiry(&org.production, json!({})).await;
    app.get(&format!("/api/v1/inquiries?page[after]={prod}"))
        .key(k)
        .send()
        .await
        .expect(400);
}

async fn sparse_fieldsets_and_includes(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let inq = app.inquiry(k, json!({"name-first": "Jane"})).await;
    let ver = app
        .verify(k, &inq, "selfie", "passed")
        .await
        .expect(201)
        .id();
    let doc = app
        .upload(
            k,
            &inq,
            &[
                Part::text("kind", "selfie"),
                Part::file("me.png", "image/png", b"png".to_vec()),
            ],
        )
        .await
        .expect(201)
        .id();
    let r = app
        .get("/api/v1/inquiries?fields[inquiry]=status")
        .key(k)
        .send()
        .await
        .expect(200);
    assert_eq!(r.items()[0]["attributes"], json!({"status": "pending"}));
    assert_eq!(r.items()[0]["id"], inq.as_str());
    // Names in any inflection; relationships count as fields.
    let r = app
        .get(&format!(
            "/api/v1/inquiries/{inq}?fields[inquiry]=referenceId,created_at,verifications"
        ))
        .key(k)
        .send()
        .await
        .expect(200);
    let attrs = r.json["data"]["attributes"].as_object().unwrap();
    assert_eq!(
        attrs.keys().collect::<Vec<_>>(),
        ["reference-id", "created-at"]
    );
    let rels = r.json["data"]["relationships"].as_object().unwrap();
    assert_eq!(rels.keys().collect::<Vec<_>>(), ["verifications"]);
    // Without include there is no `included`.
    let r = app
        .get(&format!("/api/v1/inquiries/{inq}"))
        .key(k)
        .send()
        .await
        .expect(200);
    assert!(r.json.get("included").is_none());
    let r = app
        .get(&format!(
            "/api/v1/inquiries/{inq}?include=verifications,documents&fields[document/generic]=kind"
        ))
        .key(k)
        .send()
        .await
        .expect(200);
    let included = r.json["included"].as_array().unwrap();
    let ids: Vec<&str> = included.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [ver.as_str(), doc.as_str()]);
    assert_eq!(included[0]["type"], "verification/selfie");
    assert_eq!(included[1]["attributes"], json!({"kind": "selfie"}));
    let r = app
        .get(&format!("/api/v1/inquiries/{inq}?include=documents"))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_eq!(r.json["included"].as_array().unwrap().len(), 1);
}

on_both_backends!(
    page_size_is_between_1_and_100,
    lists_walk_newest_first_without_gaps_or_repeats,
    links_keep_the_query,
    bad_cursors_and_unknown_parameters_are_400,
    sparse_fieldsets_and_includes,
);
