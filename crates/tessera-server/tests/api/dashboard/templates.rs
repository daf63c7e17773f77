//! The template pages: create and edit a template's policy through forms read by the API's own
//! parser (a refused form comes back as typed, with the message and the input marked, and
//! nothing saved), CSRF on both forms, and another organization's templates not found.

use axum::http::Method;
use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use super::{Browser, form, html, page, user};
use crate::support::App;

async fn api_template(app: &App, key: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/inquiry-templates/{id}"))
        .key(key)
        .send()
        .await
        .expect(200)
        .json["data"]["attributes"]
        .clone()
}

/// The bank's policy, as typed in the form.
const BANK: &[(&str, &str)] = &[
    ("name", "Retail onboarding"),
    ("required_fields", "name_first, name-last,\nbirthdate"),
    ("require_government-id", "on"),
    ("max_age_government-id", "365"),
    ("require_selfie", "on"),
    ("max_age_selfie", "30"),
    ("minimum_age", "18"),
    ("allowed_countries", "de, fr NL"),
];

/// `BANK` with one value replaced (or added).
fn bank_with(name: &'static str, value: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut fields: Vec<_> = BANK.iter().copied().filter(|(k, _)| *k != name).collect();
    fields.push((name, value));
    fields
}

/// A form that must be refused: what is sent, then the message, the input marked and a value
/// that must be kept.
type Refused = (
    Vec<(&'static str, &'static str)>,
    &'static str,
    &'static str,
    &'static str,
);

/// A refused form: the message, the input marked, and what was typed kept.
#[track_caller]
fn refused(body: &str, message: &str, input: &str, kept: &str) {
    let error = body
        .split("id=\"template-error\">")
        .nth(1)
        .and_then(|s| s.split("</p>").next())
        .unwrap_or_else(|| panic!("no error in {body}"));
    assert!(error.contains(message), "{message:?} not in {error}");
    let marked = format!("name=\"{input}\"");
    let at = body
        .find(&marked)
        .unwrap_or_else(|| panic!("no {input}: {body}"));
    let tag_end = body[at..].find('>').unwrap() + at;
    assert!(
        body[at..tag_end].contains("aria-invalid=\"true\""),
        "{input} not marked: {}",
        &body[at..tag_end]
    );
    assert!(body.contains(kept), "{kept:?} not kept");
    assert!(body.contains("csrf_token") && body.contains("id=\"template-form\""));
}

async fn a_template_is_created_and_edited_from_its_pages(backend: Backend) {
    let app = App::new(backend).await;
    // Any user may change templates (a key with `inquiry.write` may): a member here.
    let a = user(&app, "Alpha", "member").await;
    let key = &a.org.sandbox;
    let mut web = Browser::new(&app);
    web.sign_in(&a).await;

    let body = page(&web.get("/dashboard/templates").await, 200);
    assert!(
        body.contains("href=\"/dashboard/templates\" aria-current=\"page\"")
            && body.contains("id=\"no-templates\""),
        "{body}"
    );
    let body = page(&web.get("/dashboard/templates/new").await, 200);
    assert!(body.contains("name=\"max_age_selfie\"") && body.contains("verification_freshness"));

    // Refused forms: the message, the input marked, the values as typed, nothing saved.
    let cases: Vec<Refused> = vec![
        (
            bank_with("name", ""),
            "Name is 1 to 200 characters",
            "name",
            "name_first, name-last",
        ),
        (
            bank_with("minimum_age", "adult"),
            "whole number of years",
            "minimum_age",
            "adult",
        ),
        (
            bank_with("minimum_age", "151"),
            "between 0 and 150",
            "minimum_age",
            "151",
        ),
        (
            bank_with("max_age_selfie", "0"),
            "Selfie: max-age-days is between 1 and 36500",
            "max_age_selfie",
            "de, fr NL",
        ),
        (
            bank_with("max_age_database", "7"),
            "Tick database",
            "max_age_database",
            "Retail onboarding",
        ),
        (
            bank_with("allowed_countries", "DE, DEU"),
            "alpha-2",
            "allowed_countries",
            "DE, DEU",
        ),
    ];
    for (fields, message, input, kept) in &cases {
        let body = page(&web.post("/dashboard/templates", fields).await, 422);
        refused(&body, message, input, kept);
    }
    assert!(app.all(key, "/api/v1/inquiry-templates").await.is_empty());

    // Created: read as the API reads a create.
    let r = web.post("/dashboard/templates", BANK).await;
    assert_eq!(r.status.as_u16(), 303, "{}", html(&r));
    let to = r.header("location").unwrap().to_owned();
    let id = to
        .strip_prefix("/dashboard/templates/")
        .and_then(|s| s.strip_suffix("?done=created"))
        .unwrap()
        .to_owned();
    let mut attributes = api_template(&app, key, &id).await;
    attributes.as_object_mut().unwrap().remove("created-at");
    assert_eq!(
        attributes,
        json!({"name": "Retail onboarding", "required-fields": ["name-first", "name-last", "birthdate"],
               "required-verifications": [{"type": "government-id", "max-age-days": 365}, {"type": "selfie", "max-age-days": 30}],
               "minimum-age": 18, "allowed-countries": ["DE", "FR", "NL"],
               "on-source-redaction": "keep"})
    );
    // Its page is the edit form, holding the template.
    let body = page(&web.get(&to).await, 200);
    assert!(body.contains("Template created"), "{body}");
    assert!(
        body.contains("value=\"name-first, name-last, birthdate\""),
        "{body}"
    );
    assert!(
        body.contains("name=\"max_age_selfie\" value=\"30\""),
        "{body}"
    );
    assert!(
        body.contains("name=\"require_selfie\" value=\"on\" checked"),
        "{body}"
    );
    assert!(body.contains("value=\"DE, FR, NL\""), "{body}");

    // Edited: every part replaced; empty minimum age and countries clear them.
    let path = format!("/dashboard/templates/{id}");
    let edit = [
        ("name", "Retail onboarding v2"),
        ("required_fields", "name-first"),
        ("require_government-id", "on"),
        ("max_age_government-id", "180"),
        ("minimum_age", ""),
        ("allowed_countries", ""),
    ];
    let r = web.post(&path, &edit).await;
    assert_eq!(r.status.as_u16(), 303, "{}", html(&r));
    assert_eq!(
        r.header("location"),
        Some(format!("{path}?done=saved").as_str())
    );
    let saved = api_template(&app, key, &id).await;
    assert_eq!(
        (
            &saved["name"],
            &saved["required-verifications"],
            &saved["minimum-age"],
            &saved["allowed-countries"]
        ),
        (
            &json!("Retail onboarding v2"),
            &json!([{"type": "government-id", "max-age-days": 180}]),
            &Value::Null,
            &Value::Null
        )
    );
    // A refused edit keeps what was typed and changes nothing.
    let mut bad = edit.to_vec();
    bad.push(("require_selfie", "on"));
    bad.push(("max_age_selfie", "forever"));
    let body = page(&web.post(&path, &bad).await, 422);
    refused(&body, "whole number of days", "max_age_selfie", "forever");
    assert!(body.contains("Retail onboarding v2"));
    assert_eq!(api_template(&app, key, &id).await, saved);

    let body = page(&web.get("/dashboard/templates").await, 200);
    assert!(
        body.contains(&id) && body.contains("government-id (≤ 180 days)"),
        "{body}"
    );
}

async fn template_forms_need_the_csrf_token(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let b = user(&app, "Bravo", "admin").await;
    let key = &a.org.sandbox;
    let id = app.template(key, "kept").await;
    let before = api_template(&app, key, &id).await;
    let mut web = Browser::new(&app);
    web.sign_in(&a).await;
    let mut other = Browser::new(&app);
    other.sign_in(&b).await;
    for path in [
        "/dashboard/templates".to_owned(),
        format!("/dashboard/templates/{id}"),
    ] {
        // No token, an empty one, and another session's.
        for csrf in [None, Some(""), Some(other.csrf.as_str())] {
            let mut all = BANK.to_vec();
            if let Some(c) = csrf {
                all.push(("csrf_token", c));
            }
            let r = web.send(Method::POST, &path, Some(form(&all))).await;
            assert!(
                page(&r, 403).contains("This form has expired"),
                "{path} {csrf:?}"
            );
        }
    }
    assert_eq!(app.all(key, "/api/v1/inquiry-templates").await.len(), 1);
    assert_eq!(api_template(&app, key, &id).await, before);
}

async fn another_organizations_template_is_not_found(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let b = user(&app, "Bravo", "admin").await;
    let id = app.template(&a.org.sandbox, "Alpha's policy").await;
    let before = api_template(&app, &a.org.sandbox, &id).await;
    let mut web = Browser::new(&app);
    web.sign_in(&b).await;
    let path = format!("/dashboard/templates/{id}");
    page(&web.get(&path).await, 404);
    page(&web.post(&path, BANK).await, 404);
    page(
        &web.get("/dashboard/templates/itmpl_0000000000000000000000")
            .await,
        404,
    );
    page(&web.get("/dashboard/templates/nonsense").await, 404);
    let body = page(&web.get("/dashboard/templates").await, 200);
    assert!(!body.contains(&id) && !body.contains("Alpha"), "{body}");
    assert_eq!(api_template(&app, &a.org.sandbox, &id).await, before);
    // Nor in the owner's other environment.
    let mut own = Browser::new(&app);
    own.sign_in(&a).await;
    own.post(
        "/dashboard/environment",
        &[
            ("environment", "production"),
            ("return_to", "/dashboard/templates"),
        ],
    )
    .await;
    page(&own.get(&path).await, 404);
}

on_both_backends!(
    a_template_is_created_and_edited_from_its_pages,
    template_forms_need_the_csrf_token,
    another_organizations_template_is_not_found,
);
