//! Share-token batches (issue 18, item 4): a batch create and a batch redeem answer 202 with the
//! batch; the worker processes every item with the single-token unit (the same rules, events and
//! compare-and-set), so a batch racing single redeems still redeems each token once; a retried
//! request with the same `Idempotency-Key` makes nothing new; an invalid body writes nothing; and
//! only the environment that made a batch sees it.

use std::collections::{HashMap, HashSet};

use futures::StreamExt;
use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{App, Connected, Resp};

const BATCH: &str = "/api/v1/connect/share-tokens/batch";
const BATCH_REDEEM: &str = "/api/v1/connect/share-tokens/batch-redeem";

fn batch_path(id: &str) -> String {
    format!("/api/v1/connect/share-token-batches/{id}")
}

/// `n` completed inquiries of the source, made a few at a time.
async fn inquiries(w: &Connected, n: usize) -> Vec<String> {
    futures::stream::iter(0..n)
        .map(|i| {
            w.app
                .completed_inquiry(&w.src.sandbox, json!({"name-first": format!("Person {i}")}))
        })
        .buffered(32)
        .collect()
        .await
}

async fn count(app: &App, table: &str) -> i64 {
    tessera_store::testing::sql::fetch_one(
        &app.db.store,
        &format!("select count(*) as n from {table}"),
        vec![],
    )
    .await
    .and_then(|r| r.i64("n"))
    .unwrap()
}

async fn post(app: &App, key: &str, path: &str, body: Value) -> Resp {
    app.post(path).key(key).json(body).send().await
}

fn create_body(connection: &str, sources: &[String]) -> Value {
    let items: Vec<Value> = sources.iter().map(|s| json!({"source-id": s})).collect();
    json!({"data": {"attributes": {"connection-id": connection, "items": items}}})
}

fn redeem_body(tokens: &[String]) -> Value {
    let items: Vec<Value> = tokens
        .iter()
        .map(|t| json!({"share-token-id": t}))
        .collect();
    json!({"data": {"attributes": {"items": items}}})
}

/// Every item of a batch, in index order.
async fn items(app: &App, key: &str, batch: &str) -> Vec<Value> {
    let items = app.all(key, &format!("{}/items", batch_path(batch))).await;
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["attributes"]["index"], i, "items come in index order");
    }
    items
}

async fn a_thousand_item_batch_creates_a_thousand_tokens(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let sources = inquiries(&w, 1000).await;
    let r = post(
        app,
        &w.src.sandbox,
        BATCH,
        create_body(&w.connection, &sources),
    )
    .await
    .expect(202);
    assert_eq!(r.json["data"]["type"], "connect/share-token-batch");
    assert!(r.id().starts_with("stb_"));
    assert_eq!(r.attr("kind"), "create");
    assert_eq!(r.attr("status"), "pending");
    assert_eq!(
        r.attr("counts"),
        &json!({"total": 1000, "succeeded": 0, "failed": 0, "pending": 1000})
    );
    assert!(r.attr("completed-at").is_null());
    let batch = r.id();
    assert_eq!(
        count(app, "share_tokens").await,
        0,
        "tokens come from the job"
    );
    assert_eq!(app.drain().await, 1, "one job, chunk after chunk");
    let b = app
        .fetch(&w.src.sandbox, &batch_path(&batch))
        .await
        .expect(200);
    assert_eq!(b.attr("status"), "completed");
    assert_eq!(
        b.attr("counts"),
        &json!({"total": 1000, "succeeded": 1000, "failed": 0, "pending": 0})
    );
    assert!(b.attr("completed-at").is_string());
    let all = items(app, &w.src.sandbox, &batch).await;
    assert_eq!(all.len(), 1000);
    let mut tokens = HashSet::new();
    for (item, source) in all.iter().zip(&sources) {
        let a = &item["attributes"];
        assert_eq!(a["status"], "created", "{item}");
        assert_eq!(&a["input-id"], source);
        assert!(a["failure"].is_null());
        tokens.insert(a["share-token-id"].as_str().unwrap().to_owned());
    }
    assert_eq!(tokens.len(), 1000, "one token per item");
    // The same tokens and events as 1,000 single creates.
    let listed: HashSet<String> = app
        .ids(
            &w.dst.sandbox,
            &format!(
                "/api/v1/connect/share-tokens?filter[connection-id]={}",
                w.connection
            ),
        )
        .await
        .into_iter()
        .collect();
    assert_eq!(listed, tokens);
    let created = app
        .events_named(&w.dst.sandbox, "connect/share-token.inbound-created")
        .await;
    assert_eq!(created.len(), 1000);
    assert_eq!(app.drain().await, 0, "nothing left to do");
}

async fn items_fail_with_the_single_creates_reasons(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let open = app.inquiry(&w.src.sandbox, json!({})).await;
    let theirs = app.completed_inquiry(&w.dst.sandbox, json!({})).await;
    let body = json!({"data": {"attributes": {"connection-id": w.connection, "expires-in-seconds": 600,
        "items": [{"source-id": w.inquiry}, {"source-id": open}, {"source-id": theirs, "expires-in-seconds": 60}]}}});
    let batch = post(app, &w.src.sandbox, BATCH, body)
        .await
        .expect(202)
        .id();
    app.drain().await;
    let all = items(app, &w.src.sandbox, &batch).await;
    let status: Vec<&Value> = all.iter().map(|i| &i["attributes"]["status"]).collect();
    assert_eq!(status, ["created", "failed", "failed"]);
    assert_eq!(
        all[1]["attributes"]["failure"],
        json!({"status": 422, "code": "source_not_shareable", "detail": all[1]["attributes"]["failure"]["detail"]})
    );
    assert_eq!(
        all[2]["attributes"]["failure"]["code"],
        "reference_not_found"
    );
    // The token has the batch's default lifetime.
    let token = all[0]["attributes"]["share-token-id"].as_str().unwrap();
    let t = app
        .fetch(&w.src.sandbox, &Connected::token_path(token))
        .await
        .expect(200);
    let (created, expires) = (
        t.attr("created-at").as_str().unwrap(),
        t.attr("expires-at").as_str().unwrap(),
    );
    let secs = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp();
    assert_eq!(secs(expires) - secs(created), 600);
    let b = app.fetch(&w.src.sandbox, &batch_path(&batch)).await;
    assert_eq!(
        b.attr("counts"),
        &json!({"total": 3, "succeeded": 1, "failed": 2, "pending": 0})
    );
    assert_eq!(count(app, "share_tokens").await, 1);
}

async fn a_batch_redeem_racing_single_redeems_redeems_each_token_once(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let sources = inquiries(&w, 1000).await;
    let made = post(
        app,
        &w.src.sandbox,
        BATCH,
        create_body(&w.connection, &sources),
    )
    .await
    .expect(202)
    .id();
    app.drain().await;
    let tokens: Vec<String> = items(app, &w.src.sandbox, &made)
        .await
        .iter()
        .map(|i| {
            i["attributes"]["share-token-id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let batch = post(app, &w.dst.sandbox, BATCH_REDEEM, redeem_body(&tokens))
        .await
        .expect(202);
    assert_eq!(batch.attr("kind"), "redeem");
    let batch = batch.id();
    // Every other token is also redeemed on its own while the worker runs the batch.
    let singles = futures::stream::iter(tokens.iter().step_by(2))
        .map(|t| app.token_action(&w.dst.sandbox, t, "redeem"))
        .buffer_unordered(16)
        .collect::<Vec<Resp>>();
    let worker = app.worker();
    let (singles, _) = futures::join!(singles, worker.drain());
    let mut single_won = 0;
    for r in &singles {
        match r.status.as_u16() {
            202 => single_won += 1,
            409 => assert_eq!(r.code(), "share_token_not_redeemable", "{}", r.json),
            other => panic!("{other}: {}", r.json),
        }
    }
    while app.drain().await > 0 {}
    let all = items(app, &w.dst.sandbox, &batch).await;
    let mut by_status: HashMap<String, usize> = HashMap::new();
    for item in &all {
        let a = &item["attributes"];
        *by_status
            .entry(a["status"].as_str().unwrap().to_owned())
            .or_default() += 1;
        if a["status"] == "failed" {
            assert_eq!(a["failure"]["code"], "share_token_not_redeemable", "{item}");
            assert_eq!(a["failure"]["status"], 409);
            assert!(a["share-token-id"].is_null());
        } else {
            assert_eq!(a["status"], "redeemed", "{item}");
            assert_eq!(a["share-token-id"], a["input-id"]);
        }
    }
    assert_eq!(by_status.get("failed").copied().unwrap_or(0), single_won);
    assert_eq!(
        by_status.get("redeemed").copied().unwrap_or(0),
        1000 - single_won
    );
    let b = app.fetch(&w.dst.sandbox, &batch_path(&batch)).await;
    assert_eq!(b.attr("status"), "completed");
    assert_eq!(
        b.attr("counts"),
        &json!({"total": 1000, "succeeded": 1000 - single_won, "failed": single_won, "pending": 0})
    );
    // Exactly once per token: every token redeemed, one copy and one event each.
    let redeemed = app
        .events_named(&w.dst.sandbox, "connect/share-token.inbound-redeemed")
        .await;
    assert_eq!(redeemed.len(), 1000);
    let once: HashSet<&str> = redeemed
        .iter()
        .map(|e| e["attributes"]["payload"]["data"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(once.len(), 1000);
    let copies = app.ids(&w.dst.sandbox, "/api/v1/inquiries").await;
    assert_eq!(copies.len(), 1000, "one copy per token");
}

/// A redemption that starts and then fails makes its item `failed` with the token's failure
/// code; until then the item is `pending`.
async fn a_redemption_that_fails_fails_its_item(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let kept = w.token().await;
    let other = app.completed_inquiry(&w.src.sandbox, json!({})).await;
    let doomed = app.share_token(&w.src.sandbox, &w.connection, &other).await;
    // Redacted after its token was made: the redeem starts, the copy fails (as for one token).
    app.delete(&format!("/api/v1/inquiries/{other}"))
        .key(&w.src.sandbox)
        .send()
        .await
        .expect(200);
    let batch = post(
        app,
        &w.dst.sandbox,
        BATCH_REDEEM,
        redeem_body(&[kept, doomed.clone()]),
    )
    .await
    .expect(202)
    .id();
    while app.drain().await > 0 {}
    let all = items(app, &w.dst.sandbox, &batch).await;
    assert_eq!(all[0]["attributes"]["status"], "redeemed");
    let failed = &all[1]["attributes"];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["share-token-id"], doomed.as_str());
    assert_eq!(failed["failure"]["code"], "source_redacted");
    assert!(failed["failure"]["status"].is_null());
    let t = app
        .fetch(&w.dst.sandbox, &Connected::token_path(&doomed))
        .await;
    assert_eq!(t.attr("failure-code"), "source_redacted");
    let b = app.fetch(&w.dst.sandbox, &batch_path(&batch)).await;
    assert_eq!(b.attr("status"), "completed");
    assert_eq!(
        b.attr("counts"),
        &json!({"total": 2, "succeeded": 1, "failed": 1, "pending": 0})
    );
}

async fn a_retried_batch_makes_nothing_new(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let sources = inquiries(&w, 20).await;
    let body = create_body(&w.connection, &sources);
    let send = || {
        app.post(BATCH)
            .key(&w.src.sandbox)
            .header("Idempotency-Key", "batch-1")
            .json(body.clone())
            .send()
    };
    let first = send().await.expect(202);
    app.drain().await;
    let again = send().await.expect(202);
    assert_eq!(again.id(), first.id(), "the same batch");
    assert_eq!(again.json, first.json, "the first answer, replayed");
    assert_eq!(app.drain().await, 0, "no new job");
    assert_eq!(count(app, "share_token_batches").await, 1);
    assert_eq!(count(app, "share_tokens").await, 20);
    // The same key for another body is refused.
    app.post(BATCH)
        .key(&w.src.sandbox)
        .header("Idempotency-Key", "batch-1")
        .json(create_body(&w.connection, &sources[..3]))
        .send()
        .await
        .refused(400, "idempotency_key_reused");
    // A batch redeem too.
    let tokens: Vec<String> = items(app, &w.src.sandbox, &first.id())
        .await
        .iter()
        .map(|i| {
            i["attributes"]["share-token-id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let redeem = || {
        app.post(BATCH_REDEEM)
            .key(&w.dst.sandbox)
            .header("Idempotency-Key", "redeem-1")
            .json(redeem_body(&tokens))
            .send()
    };
    let first = redeem().await.expect(202);
    while app.drain().await > 0 {}
    let again = redeem().await.expect(202);
    assert_eq!(again.json, first.json);
    assert_eq!(app.drain().await, 0);
    assert_eq!(count(app, "share_token_batches").await, 2);
    let all = items(app, &w.dst.sandbox, &first.id()).await;
    assert!(all.iter().all(|i| i["attributes"]["status"] == "redeemed"));
    let copies = app.ids(&w.dst.sandbox, "/api/v1/inquiries").await;
    assert_eq!(copies.len(), 20, "one copy per token");
}

/// Every refusal of a body: its status, code and pointer; nothing is written.
async fn an_invalid_batch_writes_nothing(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let good = w.inquiry.clone();
    let c = w.connection.clone();
    let too_many: Vec<Value> = (0..1001).map(|_| json!({"source-id": good})).collect();
    let create_cases = [
        (
            json!({"connection-id": c, "items": []}),
            422,
            "invalid_attribute",
            "/data/attributes/items",
        ),
        (
            json!({"connection-id": c, "items": too_many}),
            422,
            "invalid_attribute",
            "/data/attributes/items",
        ),
        (
            json!({"connection-id": c}),
            422,
            "missing_attribute",
            "/data/attributes/items",
        ),
        (
            json!({"connection-id": c, "items": [{"source-id": good}, "inq_x"]}),
            422,
            "invalid_attribute",
            "/data/attributes/items/1",
        ),
        (
            json!({"connection-id": c, "items": [{"source-id": good}, {}, {"source-id": good}]}),
            422,
            "missing_attribute",
            "/data/attributes/items/1/source-id",
        ),
        (
            json!({"connection-id": c, "items": [{"source-id": good}, {"source-id": "x"}, {"source-id": "y"}, {"source-id": "act_123"}]}),
            422,
            "invalid_source_type",
            "/data/attributes/items/1/source-id",
        ),
        (
            json!({"connection-id": c, "items": [{"source-id": good}, {"source-id": good}]}),
            422,
            "duplicate_item",
            "/data/attributes/items/1/source-id",
        ),
        (
            json!({"connection-id": c, "items": [{"source-id": good, "expires-in-seconds": 5}]}),
            422,
            "expires_in_out_of_range",
            "/data/attributes/items/0/expires-in-seconds",
        ),
        (
            json!({"connection-id": c, "expires-in-seconds": 5, "items": [{"source-id": good}]}),
            422,
            "expires_in_out_of_range",
            "/data/attributes/expires-in-seconds",
        ),
        (
            json!({"connection-id": c, "items": [{"source-id": good, "colour": "red"}]}),
            400,
            "unknown_attribute",
            "/data/attributes/items/0/colour",
        ),
        (
            json!({"connection-id": "cxn_nope", "items": [{"source-id": good}]}),
            422,
            "invalid_id",
            "/data/attributes/connection-id",
        ),
        (
            json!({"items": [{"source-id": good}]}),
            422,
            "missing_attribute",
            "/data/attributes/items/0/connection-id",
        ),
        (
            json!({"connection-id": "cxn_0123456789abcdefABCDEFGH", "items": [{"source-id": good}]}),
            422,
            "reference_not_found",
            "/data/attributes/connection-id",
        ),
    ];
    for (attributes, status, code, pointer) in create_cases {
        let r = post(
            app,
            &w.src.sandbox,
            BATCH,
            json!({"data": {"attributes": attributes}}),
        )
        .await
        .refused(status, code);
        assert_eq!(r.pointer(), pointer, "{}", r.json);
    }
    // The destination is the wrong side to make tokens.
    post(
        app,
        &w.dst.sandbox,
        BATCH,
        create_body(&c, std::slice::from_ref(&good)),
    )
    .await
    .refused(403, "wrong_side");
    let token = w.token().await;
    let redeem_cases = [
        (
            json!({"items": [{"share-token-id": token}, {"share-token-id": "inq_0123456789abcdefABCD"}]}),
            422,
            "invalid_id",
            "/data/attributes/items/1/share-token-id",
        ),
        (
            json!({"items": [{"share-token-id": token}, {"share-token-id": token}]}),
            422,
            "duplicate_item",
            "/data/attributes/items/1/share-token-id",
        ),
        (
            json!({"items": [{}]}),
            422,
            "missing_attribute",
            "/data/attributes/items/0/share-token-id",
        ),
        (
            json!({"items": [{"share-token-id": token, "destination-id": "inq_0123456789abcdefABCD"}]}),
            400,
            "unknown_attribute",
            "/data/attributes/items/0/destination-id",
        ),
        (
            json!({"items": [{"share-token-id": token}], "destination-id": "inq_0123456789abcdefABCD"}),
            422,
            "invalid_attribute",
            "/data/attributes/destination-id",
        ),
        (
            json!({"items": [{"share-token-id": token}], "inquiry-template-id": "itmpl_0123456789abcdefABCD"}),
            422,
            "reference_not_found",
            "/data/attributes/inquiry-template-id",
        ),
        (
            json!({"items": [{"share-token-id": token}], "inquiry-template-id": "x"}),
            422,
            "invalid_id",
            "/data/attributes/inquiry-template-id",
        ),
    ];
    for (attributes, status, code, pointer) in redeem_cases {
        let r = post(
            app,
            &w.dst.sandbox,
            BATCH_REDEEM,
            json!({"data": {"attributes": attributes}}),
        )
        .await
        .refused(status, code);
        assert_eq!(r.pointer(), pointer, "{}", r.json);
    }
    let r = post(
        app,
        &w.dst.sandbox,
        BATCH_REDEEM,
        json!({"data": {"attributes": {"items": [{"share-token-id": token}]}},
               "meta": {"field-mappings": [{"source-field-name": "", "destination-field-name": "x"}]}}),
    )
    .await
    .refused(422, "invalid_attribute");
    assert_eq!(r.pointer(), "/meta/field-mappings/0/source-field-name");
    assert_eq!(count(app, "share_token_batches").await, 0);
    assert_eq!(count(app, "share_token_batch_items").await, 0);
    assert_eq!(app.drain().await, 0, "no job");
    assert_eq!(count(app, "share_tokens").await, 1);
}

/// Only the environment that made a batch sees it: the other side of the connection, another
/// organization and the same organization's other environment get 404.
async fn a_batch_is_its_makers_alone(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let batch = post(
        app,
        &w.src.sandbox,
        BATCH,
        create_body(&w.connection, std::slice::from_ref(&w.inquiry)),
    )
    .await
    .expect(202)
    .id();
    app.drain().await;
    let stranger = app.org("Stranger").await;
    for key in [&w.dst.sandbox, &stranger.sandbox, &w.src.production] {
        for path in [batch_path(&batch), format!("{}/items", batch_path(&batch))] {
            app.get(&path)
                .key(key)
                .send()
                .await
                .refused(404, "not_found");
        }
    }
    app.get(&batch_path("stb_nope"))
        .key(&w.src.sandbox)
        .send()
        .await
        .refused(404, "not_found");
    // Its maker reads it and pages its items.
    let one = app
        .fetch(
            &w.src.sandbox,
            &format!("{}/items?page[size]=1", batch_path(&batch)),
        )
        .await
        .expect(200);
    assert_eq!(one.items().len(), 1);
    assert_eq!(one.items()[0]["type"], "connect/share-token-batch-item");
}

on_both_backends!(
    a_thousand_item_batch_creates_a_thousand_tokens,
    items_fail_with_the_single_creates_reasons,
    a_batch_redeem_racing_single_redeems_redeems_each_token_once,
    a_redemption_that_fails_fails_its_item,
    a_retried_batch_makes_nothing_new,
    an_invalid_batch_writes_nothing,
    a_batch_is_its_makers_alone,
);
