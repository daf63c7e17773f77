//! §3.2 inquiry templates.

use serde_json::{Value, json};
use tessera_core::Clock;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::App;

async fn create(app: &App, key: &str, attributes: Value) -> crate::support::Resp {
    app.post("/api/v1/inquiry-templates")
        .key(key)
        .json(json!({"data": {"attributes": attributes}}))
        .send()
        .await
}

async fn templates_are_created_listed_and_shown(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let r = create(&app, k, json!({"name": "  KYC basic ", "required-fields": ["name_first", "birthdate", "nameFirst", "custom_x"],
        "required-verifications": [{"type": "government-id", "max-age-days": 365}, {"type": "selfie"}],
        "minimum-age": 18, "allowed-countries": ["us", "DE", "US"]}))
    .await
    .expect(201);
    let id = r.id();
    assert!(id.starts_with("itmpl_"));
    assert_eq!(r.json["data"]["type"], "inquiry-template");
    assert_eq!(
        r.json["data"]["attributes"],
        json!({"name": "KYC basic", "required-fields": ["name-first", "birthdate", "custom_x"],
               "required-verifications": [{"type": "government-id", "max-age-days": 365}, {"type": "selfie", "max-age-days": null}],
               "minimum-age": 18, "allowed-countries": ["US", "DE"], "on-source-redaction": "keep",
               "created-at": app.db.clock.now().to_rfc3339()})
    );
    let shown = app
        .get(&format!("/api/v1/inquiry-templates/{id}"))
        .key(k)
        .send()
        .await
        .expect(200);
    assert_eq!(shown.json, r.json);
    let minimal = create(&app, k, json!({"name": "any"})).await.expect(201);
    assert_eq!(minimal.attr("required-fields"), &json!([]));
    assert_eq!(minimal.attr("required-verifications"), &json!([]));
    assert_eq!(minimal.attr("minimum-age"), &Value::Null);
    assert_eq!(minimal.attr("allowed-countries"), &Value::Null);
    assert_eq!(
        app.ids(k, "/api/v1/inquiry-templates").await,
        [minimal.id(), id]
    );
    // Templates are not events.
    assert!(app.event_names(k, None).await.is_empty());
    app.get("/api/v1/inquiry-templates/itmpl_0000000000000000000000")
        .key(k)
        .send()
        .await
        .expect(404);
    app.get("/api/v1/inquiry-templates/inq_0000000000000000000000")
        .key(k)
        .send()
        .await
        .expect(404);
}

async fn invalid_templates_point_at_the_problem(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"name": " "}), 422, "/data/attributes/name"),
        (
            json!({"name": "n".repeat(201)}),
            422,
            "/data/attributes/name",
        ),
        (
            json!({"name": "t", "required-fields": ["ok", ""]}),
            422,
            "/data/attributes/required-fields/1",
        ),
        (
            json!({"name": "t", "required-fields": "name-first"}),
            400,
            "/data/attributes/required-fields",
        ),
        (
            json!({"name": "t", "required-verifications": [{"type": "share-token"}]}),
            422,
            "/data/attributes/required-verifications/0/type",
        ),
        (
            json!({"name": "t", "required-verifications": [{"type": "retina"}]}),
            422,
            "/data/attributes/required-verifications/0/type",
        ),
        (
            json!({"name": "t", "required-verifications": [{"type": "selfie", "max-age-days": 0}]}),
            422,
            "/data/attributes/required-verifications/0/max-age-days",
        ),
        (
            json!({"name": "t", "required-verifications": [{"type": "selfie", "max-age-days": 36501}]}),
            422,
            "/data/attributes/required-verifications/0/max-age-days",
        ),
        (
            json!({"name": "t", "required-verifications": [{"type": "selfie", "extra": 1}]}),
            400,
            "/data/attributes/required-verifications/0/extra",
        ),
        (
            json!({"name": "t", "minimum-age": 151}),
            422,
            "/data/attributes/minimum-age",
        ),
        (
            json!({"name": "t", "minimum-age": -1}),
            422,
            "/data/attributes/minimum-age",
        ),
        (
            json!({"name": "t", "allowed-countries": ["US", "USA"]}),
            422,
            "/data/attributes/allowed-countries/1",
        ),
        (
            json!({"name": "t", "allowed-countries": ["1A"]}),
            422,
            "/data/attributes/allowed-countries/0",
        ),
    ];
    for (attributes, status, pointer) in cases {
        let r = create(&app, k, attributes.clone()).await.expect(status);
        assert_eq!(r.pointer(), pointer, "{attributes}");
    }
    assert!(app.all(k, "/api/v1/inquiry-templates").await.is_empty());
}

async fn patch(app: &App, key: &str, id: &str, attributes: Value) -> crate::support::Resp {
    app.patch(&format!("/api/v1/inquiry-templates/{id}"))
        .key(key)
        .json(json!({"data": {"attributes": attributes}}))
        .send()
        .await
}

async fn show(app: &App, key: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/inquiry-templates/{id}"))
        .key(key)
        .send()
        .await
        .expect(200)
        .json
}

async fn a_patch_changes_what_it_names(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let id = create(
        &app,
        k,
        json!({"name": "KYC", "required-fields": ["name-first"],
        "required-verifications": [{"type": "government-id", "max-age-days": 365}],
        "minimum-age": 18, "allowed-countries": ["DE"]}),
    )
    .await
    .expect(201)
    .id();
    let created_at = show(&app, k, &id).await["data"]["attributes"]["created-at"].clone();
    app.db.clock.advance_seconds(60);

    // Absent members stay; what is named is checked and normalised as on create.
    let r = patch(&app, k, &id, json!({"name": " KYC strict ",
        "required-verifications": [{"type": "government-id", "max-age-days": 30}, {"type": "selfie", "max-age-days": 7}],
        "allowedCountries": ["fr", "de"]}))
    .await
    .expect(200);
    assert_eq!(r.id(), id);
    assert_eq!(
        r.json["data"]["attributes"],
        json!({"name": "KYC strict", "required-fields": ["name-first"],
               "required-verifications": [{"type": "government-id", "max-age-days": 30}, {"type": "selfie", "max-age-days": 7}],
               "minimum-age": 18, "allowed-countries": ["FR", "DE"], "on-source-redaction": "keep",
               "created-at": created_at})
    );
    assert_eq!(show(&app, k, &id).await, r.json);

    // null clears the optional parts; name cannot be cleared.
    let r = patch(
        &app,
        k,
        &id,
        json!({"minimum-age": null, "allowed-countries": null, "required-fields": null}),
    )
    .await
    .expect(200);
    let a = &r.json["data"]["attributes"];
    assert_eq!(
        (
            &a["minimum-age"],
            &a["allowed-countries"],
            &a["required-fields"]
        ),
        (&Value::Null, &Value::Null, &json!([]))
    );
    assert_eq!(a["required-verifications"].as_array().unwrap().len(), 2);
    let r = patch(&app, k, &id, json!({"name": null})).await.expect(422);
    assert_eq!(r.pointer(), "/data/attributes/name");

    // An empty change changes nothing; templates emit no events.
    let before = show(&app, k, &id).await;
    assert_eq!(
        patch(&app, k, &id, json!({})).await.expect(200).json,
        before
    );
    assert!(app.event_names(k, None).await.is_empty());

    // Idempotent under Idempotency-Key, like every write.
    let send = |minimum_age: u32| {
        app.patch(&format!("/api/v1/inquiry-templates/{id}"))
            .key(k)
            .header("idempotency-key", "tighten-1")
            .json(json!({"data": {"attributes": {"minimum-age": minimum_age}}}))
            .send()
    };
    let first = send(21).await.expect(200);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = send(21).await.expect(200);
    assert_eq!(again.bytes, first.bytes);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    send(25).await.refused(400, "idempotency_key_reused");
    assert_eq!(
        show(&app, k, &id).await["data"]["attributes"]["minimum-age"],
        21
    );
}

async fn refused_patches_point_at_the_problem_and_change_nothing(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let id = create(
        &app,
        k,
        json!({"name": "KYC", "required-fields": ["name-first"],
        "required-verifications": [{"type": "selfie", "max-age-days": 30}],
        "minimum-age": 18, "allowed-countries": ["DE"]}),
    )
    .await
    .expect(201)
    .id();
    let before = show(&app, k, &id).await;
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"name": " "}), 422, "/data/attributes/name"),
        (
            json!({"name": "n".repeat(201)}),
            422,
            "/data/attributes/name",
        ),
        (
            json!({"required-fields": ["ok", ""]}),
            422,
            "/data/attributes/required-fields/1",
        ),
        (
            json!({"required-fields": "name-first"}),
            400,
            "/data/attributes/required-fields",
        ),
        (
            json!({"required-verifications": [{"type": "share-token"}]}),
            422,
            "/data/attributes/required-verifications/0/type",
        ),
        (
            json!({"required-verifications": [{"type": "selfie"}, {"type": "retina"}]}),
            422,
            "/data/attributes/required-verifications/1/type",
        ),
        (
            json!({"required-verifications": [{"type": "selfie", "max-age-days": 0}]}),
            422,
            "/data/attributes/required-verifications/0/max-age-days",
        ),
        (
            json!({"required-verifications": [{"type": "selfie", "max-age-days": 36501}]}),
            422,
            "/data/attributes/required-verifications/0/max-age-days",
        ),
        (
            json!({"minimum-age": 151}),
            422,
            "/data/attributes/minimum-age",
        ),
        (
            json!({"minimum-age": -1}),
            422,
            "/data/attributes/minimum-age",
        ),
        (
            json!({"minimum-age": "18"}),
            400,
            "/data/attributes/minimum-age",
        ),
        (
            json!({"allowed-countries": ["FR", "FRA"]}),
            422,
            "/data/attributes/allowed-countries/1",
        ),
        (json!({"colour": "red"}), 400, "/data/attributes/colour"),
        // A valid part does not carry an invalid one: nothing of the change is kept.
        (
            json!({"name": "renamed", "minimum-age": 200}),
            422,
            "/data/attributes/minimum-age",
        ),
    ];
    for (attributes, status, pointer) in cases {
        let r = patch(&app, k, &id, attributes.clone()).await.expect(status);
        assert_eq!(r.pointer(), pointer, "{attributes}");
    }
    assert_eq!(show(&app, k, &id).await, before);
}

async fn another_organizations_template_is_not_found(backend: Backend) {
    let app = App::new(backend).await;
    let owner = app.org("Owner").await;
    let other = app.org("Other").await;
    let id = create(
        &app,
        &owner.sandbox,
        json!({"name": "mine", "minimum-age": 18}),
    )
    .await
    .expect(201)
    .id();
    let before = show(&app, &owner.sandbox, &id).await;
    // Another organization, and the owner's other environment; also with a bad value, which
    // must not tell the caller that the template exists.
    for key in [&other.sandbox, &owner.production] {
        for attributes in [json!({"minimum-age": 21}), json!({"minimum-age": 999})] {
            patch(&app, key, &id, attributes)
                .await
                .refused(404, "not_found");
        }
    }
    for bad in [
        "itmpl_0000000000000000000000",
        "inq_0000000000000000000000",
        "x",
    ] {
        patch(&app, &owner.sandbox, bad, json!({"minimum-age": 21}))
            .await
            .expect(404);
    }
    assert_eq!(show(&app, &owner.sandbox, &id).await, before);
}

on_both_backends!(
    templates_are_created_listed_and_shown,
    invalid_templates_point_at_the_problem,
    a_patch_changes_what_it_names,
    refused_patches_point_at_the_problem_and_change_nothing,
    another_organizations_template_is_not_found,
);
