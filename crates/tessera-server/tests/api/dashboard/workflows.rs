//! The workflow pages: a definition typed as JSON is checked by the API's own check (the error
//! shows the JSON pointer of the offending part and nothing is saved), the secret is shown once,
//! edit, disable and enable, runs with their steps after the worker, manual runs, what members
//! may do, and another organization's workflows and runs are not found.

use axum::http::Method;
use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use super::{Browser, User, form, html, page, user};
use crate::support::{ADMIN, App, Resp};

/// A dashboard user of the same organization with another role.
async fn colleague(app: &App, of: &User, role: &str) -> User {
    let email = format!("{role}-colleague@{}.example", of.org.id.to_lowercase());
    let password = String::from("colleague-password-123");
    app.post(&format!("/admin/v1/organizations/{}/users", of.org.id))
        .key(ADMIN)
        .json(json!({"data": {"attributes": {"email": email, "password": password, "role": role}}}))
        .send()
        .await
        .expect(201);
    User {
        org: of.org.clone(),
        email,
        password,
    }
}

/// The text between `start` and the next `end` after it.
fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let at = body
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in {body}"))
        + start.len();
    body[at..].split(end).next().unwrap()
}

fn definition(name: &str, trigger: Value, steps: Value) -> String {
    serde_json::to_string_pretty(&json!({"name": name, "trigger": trigger, "steps": steps}))
        .unwrap()
}

/// Creates a workflow through the form; returns its id and the secret page.
async fn create(web: &mut Browser<'_>, text: &str) -> (String, String) {
    let body = page(
        &web.post("/dashboard/workflows", &[("definition", text)])
            .await,
        200,
    );
    let id = between(&body, "href=\"/dashboard/workflows/", "\"").to_owned();
    assert!(id.starts_with("wfl_"), "{body}");
    (id, body)
}

async fn api_workflows(app: &App, key: &str) -> Vec<Value> {
    app.all(key, "/api/v1/workflows").await
}

/// A workflow as the API shows it.
async fn api_workflow(app: &App, key: &str, id: &str) -> Resp {
    app.get(&format!("/api/v1/workflows/{id}"))
        .key(key)
        .send()
        .await
        .expect(200)
}

/// How many runs a workflow has, as the API counts them.
async fn api_runs(app: &App, key: &str, id: &str) -> usize {
    app.all(
        key,
        &format!("/api/v1/workflow-runs?filter[workflow-id]={id}"),
    )
    .await
    .len()
}

async fn a_workflow_is_created_edited_and_switched_from_its_pages(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let b = app.org("Bravo").await;
    let connection = app.active_connection(&a.org, &b).await;
    let key = &a.org.sandbox;
    let mut web = Browser::new(&app);
    web.sign_in(&a).await;

    // The empty state says what to do next; the create form starts from a real example.
    let body = page(&web.get("/dashboard/workflows").await, 200);
    assert!(
        body.contains("No workflows yet") && body.contains("/dashboard/workflows/new"),
        "{body}"
    );
    let body = page(&web.get("/dashboard/workflows/new").await, 200);
    let example = between(&body, "<textarea", "</textarea>");
    assert!(
        example.contains(&connection) && example.contains("inquiry.approved"),
        "{example}"
    );
    assert!(body.contains("create-share-token") && body.contains("csrf_token"));

    // Refused definitions: the message, the pointer into the definition, the text as typed,
    // and nothing saved.
    let approved = json!({"event": "inquiry.approved"});
    let cases: Vec<(String, u16, &str, Option<&str>)> = vec![
        (
            definition(
                "typed-name-1",
                approved.clone(),
                json!([{"type": "create-share-token", "connection-id": "cxn_0000000000000000000000"}]),
            ),
            422,
            "connection",
            Some("/steps/0/connection-id"),
        ),
        (
            definition(
                "typed-name-2",
                approved.clone(),
                json!([{"type": "teleport-inquiry"}]),
            ),
            422,
            "teleport-inquiry",
            Some("/steps/0/type"),
        ),
        (
            definition(
                "typed-name-3",
                approved.clone(),
                json!([{"type": "redeem-share-token"}]),
            ),
            422,
            "inbound share token",
            Some("/steps/0/type"),
        ),
        (
            definition(
                "typed-name-4",
                json!({"event": "inquiry.teleported"}),
                json!([{"type": "approve-inquiry"}]),
            ),
            422,
            "inquiry.teleported",
            Some("/trigger/event"),
        ),
        (
            definition(
                "typed-name-5",
                json!({"event": "inquiry.approved", "conditions": [{"path": "nope", "op": "eq", "value": 1}]}),
                json!([{"type": "approve-inquiry"}]),
            ),
            422,
            "JSON pointer",
            Some("/trigger/conditions/0/path"),
        ),
        (
            definition(
                "typed-name-9",
                approved.clone(),
                json!([{"type": "tag-inquiry", "tag": "t"}, {"type": "http-request", "url": "http://10.0.0.1/hook"}]),
            ),
            422,
            "",
            Some("/steps/1/url"),
        ),
        (
            String::from(r#"{"name": "typed-name-6", "trigger": {"event": "inquiry.approved"}}"#),
            422,
            "Steps is required",
            Some("/steps"),
        ),
        (
            String::from(
                r#"{"name": "typed-name-7", "colour": "red", "trigger": {"event": "inquiry.approved"}, "steps": []}"#,
            ),
            400,
            "colour",
            Some("/colour"),
        ),
        (
            String::from(r#"{"name": "typed-name-8", "trigger": "#),
            422,
            "not valid JSON",
            None,
        ),
        (String::from("[1, 2]"), 422, "JSON object", None),
        (String::from("   "), 422, "Type the workflow", None),
    ];
    for (text, status, message, pointer) in &cases {
        let body = page(
            &web.post("/dashboard/workflows", &[("definition", text)])
                .await,
            *status,
        );
        let error = between(&body, "id=\"definition-error\">", "</p>");
        assert!(
            error.contains(message),
            "{text}: {message:?} not in {error}"
        );
        match pointer {
            Some(p) => assert!(
                error.contains(&format!("id=\"error-pointer\">{p}<")),
                "{text}: {p} not in {error}"
            ),
            None => assert!(!error.contains("error-pointer"), "{error}"),
        }
        // The form again, with what was typed.
        assert!(body.contains("<textarea") && body.contains("csrf_token"));
        if let Some(name) = text.split('"').find(|s| s.starts_with("typed-name")) {
            assert!(
                between(&body, "<textarea", "</textarea>").contains(name),
                "{name} not kept"
            );
        }
    }
    assert!(api_workflows(&app, key).await.is_empty(), "nothing saved");

    // A valid definition: created active, its secret shown once.
    let text = definition(
        "Share approved",
        approved.clone(),
        json!([{"type": "create-share-token", "connection-id": connection, "expires-in-seconds": 3600}]),
    );
    let (id, body) = create(&mut web, &text).await;
    let secret = between(&body, "<code data-copy>", "<").to_owned();
    assert!(secret.starts_with("wflsec_"), "{secret}");
    assert!(body.contains("shown only once"));
    assert!(
        body.contains("no <code>http-request</code> step yet"),
        "{body}"
    );
    let shown = page(&web.get(&format!("/dashboard/workflows/{id}")).await, 200);
    assert!(!shown.contains(&secret), "the secret is shown once");
    for expected in [
        "Share approved",
        "s-active",
        "inquiry.approved",
        &connection,
    ] {
        assert!(shown.contains(expected), "{expected} not in {shown}");
    }
    assert!(shown.contains("No runs yet") && shown.contains("id=\"trigger-workflow\""));
    let list = page(&web.get("/dashboard/workflows").await, 200);
    let row = between(&list, &format!("/dashboard/workflows/{id}"), "</tr>");
    for expected in [
        "Share approved",
        "s-active",
        "inquiry.approved",
        "create-share-token",
        "<time",
    ] {
        assert!(row.contains(expected), "{expected} not in {row}");
    }
    assert!(!list.contains(&secret));
    let w = api_workflow(&app, key, &id).await;
    assert_eq!(w.attr("name"), "Share approved");

    // Edit: the form holds the current definition; saving replaces it.
    let body = page(
        &web.get(&format!("/dashboard/workflows/{id}/edit")).await,
        200,
    );
    let current = between(&body, "<textarea", "</textarea>");
    assert!(current.contains("Share approved") && current.contains(&connection));
    let edited = definition(
        "Share and tag",
        approved.clone(),
        json!([{"type": "create-share-token", "connection-id": connection},
               {"type": "tag-inquiry", "tag": "shared"}]),
    );
    let r = web
        .post(
            &format!("/dashboard/workflows/{id}/edit"),
            &[("definition", &edited)],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", html(&r));
    let body = page(&web.get(r.header("location").unwrap()).await, 200);
    assert!(body.contains("Workflow saved") && body.contains("Share and tag"));
    assert!(body.contains("tag-inquiry"));
    // An invalid edit changes nothing and says where.
    let broken = definition(
        "Broken",
        approved.clone(),
        json!([{"type": "tag-inquiry", "tag": ""}]),
    );
    let body = page(
        &web.post(
            &format!("/dashboard/workflows/{id}/edit"),
            &[("definition", &broken)],
        )
        .await,
        422,
    );
    assert!(
        body.contains("id=\"error-pointer\">/steps/0/tag<"),
        "{body}"
    );
    let w = api_workflow(&app, key, &id).await;
    assert_eq!(w.attr("name"), "Share and tag");
    assert_eq!(w.attr("steps").as_array().unwrap().len(), 2);

    // Disable and enable.
    let r = web
        .post(&format!("/dashboard/workflows/{id}/disable"), &[])
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", html(&r));
    let body = page(&web.get(r.header("location").unwrap()).await, 200);
    assert!(body.contains("Workflow disabled") && body.contains("s-inactive"));
    assert!(body.contains("id=\"inactive-note\"") && !body.contains("id=\"trigger-workflow\""));
    assert!(body.contains(&format!("/dashboard/workflows/{id}/enable")));
    let w = api_workflow(&app, key, &id).await;
    assert_eq!(w.attr("status"), "inactive");
    // An inactive workflow cannot be run by hand: the page says so.
    let inquiry = app
        .completed_inquiry(key, json!({"name-first": "Jane"}))
        .await;
    let body = page(
        &web.post(
            &format!("/dashboard/workflows/{id}/trigger"),
            &[("object_id", &inquiry)],
        )
        .await,
        409,
    );
    assert!(body.contains("inactive workflow does not run"), "{body}");
    let r = web
        .post(&format!("/dashboard/workflows/{id}/enable"), &[])
        .await;
    assert_eq!(r.status.as_u16(), 303);
    let body = page(&web.get(r.header("location").unwrap()).await, 200);
    assert!(body.contains("Workflow enabled") && body.contains("s-active"));
    assert_eq!(api_workflows(&app, key).await.len(), 1);

    // A workflow that sends requests: its secret is what signs them.
    let (_, body) = create(
        &mut web,
        &definition(
            "Tell our system",
            json!({"event": "inquiry.declined"}),
            json!([{"type": "http-request", "url": "https://93.184.216.34/hook"}]),
        ),
    )
    .await;
    assert!(between(&body, "<code data-copy>", "<").starts_with("wflsec_"));
    assert!(!body.contains("step yet"), "{body}");
    assert_eq!(api_workflows(&app, key).await.len(), 2);
}

async fn runs_show_their_steps(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let b = app.org("Bravo").await;
    let connection = app.active_connection(&a.org, &b).await;
    let key = &a.org.sandbox;
    let mut web = Browser::new(&app);
    web.sign_in(&a).await;
    let (id, _) = create(
        &mut web,
        &definition(
            "Share approved",
            json!({"event": "inquiry.approved"}),
            json!([{"type": "create-share-token", "connection-id": connection}]),
        ),
    )
    .await;

    // An event starts a run; after the worker, the run's page shows its steps.
    let inquiry = app
        .completed_inquiry(key, json!({"name-first": "Jane"}))
        .await;
    app.act(key, &inquiry, "approve").await.expect(200);
    app.worker().drain().await.unwrap();
    let body = page(&web.get(&format!("/dashboard/workflows/{id}")).await, 200);
    let runs = between(&body, "<table id=\"runs\">", "</table>");
    assert!(
        runs.contains("s-completed") && runs.contains("1 of 1 completed"),
        "{runs}"
    );
    assert!(runs.contains(&format!("/dashboard/inquiries/{inquiry}")));
    let run = between(runs, "/dashboard/workflow-runs/", "\"").to_owned();
    let body = page(
        &web.get(&format!("/dashboard/workflow-runs/{run}")).await,
        200,
    );
    assert!(
        !body.contains("http-equiv"),
        "a finished run does not reload"
    );
    let event = between(&body, "href=\"/dashboard/events/", "\"").to_owned();
    assert!(event.starts_with("evt_"), "{body}");
    let steps = between(&body, "<table id=\"steps\">", "</table>");
    assert!(
        steps.contains("create-share-token") && steps.contains("s-completed"),
        "{steps}"
    );
    let token = between(steps, "href=\"/dashboard/share-tokens/", "\"").to_owned();
    assert!(token.starts_with("cnst_"), "{steps}");
    assert!(steps.matches("<time").count() >= 2, "started and finished");
    // The links lead to the token and the event.
    let t = page(
        &web.get(&format!("/dashboard/share-tokens/{token}")).await,
        200,
    );
    assert!(t.contains(&inquiry));
    let e = page(&web.get(&format!("/dashboard/events/{event}")).await, 200);
    assert!(e.contains("inquiry.approved"));
    // The run's events link back to the run.
    let events = page(
        &web.get("/dashboard/events?name=workflow-run.completed")
            .await,
        200,
    );
    assert!(
        events.contains(&format!("/dashboard/workflow-runs/{run}")),
        "{events}"
    );

    // By hand: a refused object says why, with what was typed.
    for (object, status, message) in [
        ("", 422, "Enter the id"),
        ("nope-not-an-id", 422, "inquiry, share token or connection"),
        (connection.as_str(), 422, "needs an inquiry"),
    ] {
        let body = page(
            &web.post(
                &format!("/dashboard/workflows/{id}/trigger"),
                &[("object_id", object)],
            )
            .await,
            status,
        );
        let error = between(&body, "class=\"error\" role=\"alert\">", "</p>");
        assert!(
            error.contains(message),
            "{object}: {message} not in {error}"
        );
        assert!(
            body.contains(&format!("value=\"{object}\"")),
            "{object} not kept"
        );
    }
    // A run on an inquiry that cannot be shared fails, and its page says why.
    let open = app.inquiry(key, json!({})).await;
    let r = web
        .post(
            &format!("/dashboard/workflows/{id}/trigger"),
            &[("object_id", &open)],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", html(&r));
    let location = r.header("location").unwrap().to_owned();
    let body = page(&web.get(&location).await, 200);
    assert!(body.contains("Run started") && body.contains("s-pending"));
    assert!(body.contains("http-equiv=\"refresh\"") && body.contains("run by hand"));
    app.worker().drain().await.unwrap();
    let body = page(&web.get(&location).await, 200);
    assert!(body.contains("s-failed") && !body.contains("http-equiv"));
    let steps = between(&body, "<table id=\"steps\">", "</table>");
    assert!(steps.contains("class=\"bad\""), "{steps}");

    // Members see the runs and run workflows by hand, but do not change them.
    let m = colleague(&app, &a, "member").await;
    let mut member = Browser::new(&app);
    member.sign_in(&m).await;
    let list = page(&member.get("/dashboard/workflows").await, 200);
    assert!(list.contains(&id) && !list.contains("id=\"new-workflow\""));
    let body = page(
        &member.get(&format!("/dashboard/workflows/{id}")).await,
        200,
    );
    assert!(body.contains("id=\"trigger-workflow\"") && !body.contains("/edit\""));
    assert!(!body.contains(&format!("/dashboard/workflows/{id}/disable")));
    page(&member.get("/dashboard/workflows/new").await, 403);
    page(
        &member.get(&format!("/dashboard/workflows/{id}/edit")).await,
        403,
    );
    for path in [
        "/dashboard/workflows".to_owned(),
        format!("/dashboard/workflows/{id}/edit"),
        format!("/dashboard/workflows/{id}/disable"),
    ] {
        let body = page(&member.post(&path, &[("definition", "{}")]).await, 403);
        assert!(body.contains("Administrators only"), "{path}");
    }
    let again = app
        .completed_inquiry(key, json!({"name-first": "Joe"}))
        .await;
    let r = member
        .post(
            &format!("/dashboard/workflows/{id}/trigger"),
            &[("object_id", &again)],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", html(&r));
    app.worker().drain().await.unwrap();
    let body = page(&member.get(r.header("location").unwrap()).await, 200);
    assert!(body.contains("s-completed") && body.contains("/dashboard/share-tokens/cnst_"));
    let w = api_workflow(&app, key, &id).await;
    assert_eq!(w.attr("status"), "active");
}

async fn another_organizations_workflows_are_not_found(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let b = user(&app, "Bravo", "admin").await;
    let key = &a.org.sandbox;
    let workflow = app
        .post("/api/v1/workflows")
        .key(key)
        .json(json!({"data": {"attributes": {"name": "Alpha's own",
            "trigger": {"event": "inquiry.completed"},
            "steps": [{"type": "tag-inquiry", "tag": "seen"}]}}}))
        .send()
        .await
        .expect(201)
        .id();
    let inquiry = app.inquiry(key, json!({})).await;
    let run = app
        .post(&format!("/api/v1/workflows/{workflow}/trigger"))
        .key(key)
        .json(json!({"data": {"attributes": {"object-id": inquiry}}}))
        .send()
        .await
        .expect(201)
        .id();
    app.worker().drain().await.unwrap();

    let mut web = Browser::new(&app);
    web.sign_in(&b).await;
    for path in [
        format!("/dashboard/workflows/{workflow}"),
        format!("/dashboard/workflows/{workflow}/edit"),
        format!("/dashboard/workflow-runs/{run}"),
        "/dashboard/workflows/wfl_nope".to_owned(),
        "/dashboard/workflow-runs/not-a-run".to_owned(),
    ] {
        let body = page(&web.get(&path).await, 404);
        assert!(
            body.contains("Not found") && !body.contains("Alpha&#39;s own"),
            "{path}"
        );
    }
    let valid = definition(
        "Taken over",
        json!({"event": "inquiry.completed"}),
        json!([{"type": "approve-inquiry"}]),
    );
    for (path, fields) in [
        (
            format!("/dashboard/workflows/{workflow}/edit"),
            vec![("definition", valid.as_str())],
        ),
        (
            format!("/dashboard/workflows/{workflow}/edit"),
            vec![("definition", "{")],
        ),
        (format!("/dashboard/workflows/{workflow}/disable"), vec![]),
        (
            format!("/dashboard/workflows/{workflow}/trigger"),
            vec![("object_id", inquiry.as_str())],
        ),
        (format!("/dashboard/workflows/{workflow}/explode"), vec![]),
    ] {
        let body = page(&web.post(&path, &fields).await, 404);
        assert!(body.contains("Not found"), "{path}: {body}");
    }
    // Alpha's workflow is as it was, with its one run; Bravo's list shows none of it.
    let w = api_workflow(&app, key, &workflow).await;
    assert_eq!(
        (w.attr("name"), w.attr("status")),
        (&json!("Alpha's own"), &json!("active"))
    );
    assert_eq!(api_runs(&app, key, &workflow).await, 1);
    let list = page(&web.get("/dashboard/workflows").await, 200);
    assert!(!list.contains(&workflow) && list.contains("No workflows yet"));
    // Bravo's own workflow cannot use Alpha's objects either.
    let body = page(
        &web.post("/dashboard/workflows", &[("definition", &valid)])
            .await,
        200,
    );
    let mine = between(&body, "href=\"/dashboard/workflows/", "\"").to_owned();
    let body = page(
        &web.post(
            &format!("/dashboard/workflows/{mine}/trigger"),
            &[("object_id", &inquiry)],
        )
        .await,
        404,
    );
    assert!(
        body.contains("class=\"error\"") && body.contains("Run it now"),
        "{body}"
    );
}

async fn workflow_forms_need_the_csrf_token(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let b = user(&app, "Bravo", "admin").await;
    let key = &a.org.sandbox;
    let mut web = Browser::new(&app);
    web.sign_in(&a).await;
    let mut other = Browser::new(&app);
    other.sign_in(&b).await;
    let (id, _) = create(
        &mut web,
        &definition(
            "Tag completed",
            json!({"event": "inquiry.completed"}),
            json!([{"type": "tag-inquiry", "tag": "seen"}]),
        ),
    )
    .await;
    let inquiry = app.inquiry(key, json!({})).await;
    let valid = definition(
        "Forged",
        json!({"event": "inquiry.completed"}),
        json!([{"type": "approve-inquiry"}]),
    );
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/dashboard/workflows".into(), vec![("definition", &valid)]),
        (
            format!("/dashboard/workflows/{id}/edit"),
            vec![("definition", &valid)],
        ),
        (format!("/dashboard/workflows/{id}/disable"), vec![]),
        (
            format!("/dashboard/workflows/{id}/trigger"),
            vec![("object_id", &inquiry)],
        ),
    ];
    for (path, fields) in &forms {
        // No token, an empty one, and another session's.
        for csrf in [None, Some(""), Some(other.csrf.as_str())] {
            let mut all = fields.clone();
            if let Some(c) = csrf {
                all.push(("csrf_token", c));
            }
            let r = web.send(Method::POST, path, Some(form(&all))).await;
            assert!(
                page(&r, 403).contains("This form has expired"),
                "{path} {csrf:?}"
            );
        }
    }
    // Nothing changed: one workflow, as it was, never run.
    let all = api_workflows(&app, key).await;
    assert_eq!(all.len(), 1);
    let w = api_workflow(&app, key, &id).await;
    assert_eq!(
        (w.attr("name"), w.attr("status")),
        (&json!("Tag completed"), &json!("active"))
    );
    assert_eq!(api_runs(&app, key, &id).await, 0);
    // With the session's own token, the same form works.
    let r = web
        .post(&format!("/dashboard/workflows/{id}/disable"), &[])
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", html(&r));
}

on_both_backends!(
    a_workflow_is_created_edited_and_switched_from_its_pages,
    workflow_forms_need_the_csrf_token,
    runs_show_their_steps,
    another_organizations_workflows_are_not_found,
);
