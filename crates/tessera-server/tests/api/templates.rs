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
               "minimum-age": 18, "allowed-countries": ["US", "DE"],
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

on_both_backends!(
    templates_are_created_listed_and_shown,
    invalid_templates_point_at_the_problem,
);
