//! The create and edit forms of a workflow's definition, and the page that shows a new
//! workflow's signing secret, once.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tessera_core::event::names;
use tessera_core::id::WorkflowId;
use tessera_core::workflow::{Step, Workflow};
use tessera_store::units::sessions::Session;
use tessera_store::units::workflows;

use super::definition::{
    DefinitionError, STEP_HELP, StepHelp, current_definition, definition_error, example,
    form_pointer, parse_definition,
};
use super::{BASE, SECTION, WorkflowRow, display_name, parse_id, row};
use crate::form::Form;
use crate::page::{Chrome, PageError, PageResult, render};
use crate::session::Signed;
use tessera_edge::state::AppState;

async fn load(state: &AppState, session: &Session, id: &WorkflowId) -> Result<Workflow, PageError> {
    Ok(state
        .store
        .read(workflows::get(session.scope.clone(), id.clone()))
        .await?)
}

#[derive(Template)]
#[template(path = "workflow_form.html")]
struct FormPage {
    chrome: Chrome,
    /// The workflow being edited; `None` on the create form.
    workflow_id: Option<String>,
    action: String,
    definition: String,
    error: Option<DefinitionError>,
    /// On the create form: whether the example names a real connection.
    has_connection: bool,
    events: &'static [&'static str],
    steps: &'static [StepHelp],
}

fn form_page(
    session: &Session,
    workflow: Option<(&WorkflowId, &str)>,
    definition: String,
    has_connection: bool,
    error: Option<(StatusCode, DefinitionError)>,
) -> Response {
    let (code, error) = error.map_or((StatusCode::OK, None), |(c, e)| (c, Some(e)));
    let (title, action) = match workflow {
        Some((id, name)) => (format!("Edit {name}"), format!("{BASE}/{id}/edit")),
        None => (String::from("New workflow"), BASE.to_owned()),
    };
    let page = FormPage {
        chrome: Chrome::new(session, SECTION, title),
        workflow_id: workflow.map(|(id, _)| id.to_string()),
        action,
        definition,
        error,
        has_connection,
        events: names::ALL,
        steps: STEP_HELP,
    };
    render(code, &page)
}

/// The create form, with an example to start from.
pub async fn new(State(state): State<AppState>, signed: Signed) -> PageResult {
    signed.require_admin()?;
    let (text, has_connection) = example(&state, &signed.0).await?;
    Ok(form_page(&signed.0, None, text, has_connection, None))
}

#[derive(Template)]
#[template(path = "workflow_secret.html")]
struct SecretPage {
    chrome: Chrome,
    w: WorkflowRow,
    secret: String,
    /// Whether a step uses the secret now (an edit can add one later, so it is shown anyway).
    signs_requests: bool,
}

/// Creates a workflow and shows its signing secret, once.
pub async fn create(State(state): State<AppState>, signed: Signed, Form(form): Form) -> PageResult {
    signed.require_admin()?;
    let session = signed.0;
    let text = form.raw("definition").unwrap_or("").to_owned();
    let scope = session.scope.clone();
    let created = match parse_definition(&state, &text).await {
        Ok(d) => {
            state
                .store
                .write(workflows::create(scope, d.into_new()))
                .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(w) => {
            let page = SecretPage {
                chrome: Chrome::new(&session, SECTION, "Workflow signing secret").with_notice(
                    Some(String::from(
                        "Workflow created. Copy its signing secret now: it is shown only once.",
                    )),
                ),
                w: row(&w, state.store.clock().now()),
                secret: w.secret.clone(),
                signs_requests: w
                    .steps
                    .iter()
                    .any(|s| matches!(s, Step::HttpRequest { .. })),
            };
            Ok(render(StatusCode::OK, &page))
        }
        Err(e) => {
            let error = definition_error(e)?;
            Ok(form_page(&session, None, text, true, Some(error)))
        }
    }
}

/// The edit form, holding the current definition.
pub async fn edit(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    signed.require_admin()?;
    let w = load(&state, &signed.0, &id).await?;
    Ok(form_page(
        &signed.0,
        Some((&id, &display_name(&w))),
        current_definition(&w),
        true,
        None,
    ))
}

/// Replaces a workflow's definition. Runs already made keep the steps they were made with.
pub async fn update(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form,
) -> PageResult {
    let id = parse_id(&id)?;
    signed.require_admin()?;
    let session = signed.0;
    // Another organization's workflow is "not found" before anything typed is looked at.
    let w = load(&state, &session, &id).await?;
    let text = form.raw("definition").unwrap_or("").to_owned();
    let scope = session.scope.clone();
    let saved = match parse_definition(&state, &text).await {
        Ok(d) => {
            state
                .store
                .write(workflows::update(scope, id.clone(), d.into_replacement()))
                .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?done=edit")).into_response()),
        Err(e) if e.status == tessera_core::Status::NotFound && form_pointer(&e).is_none() => {
            Err(PageError::not_found())
        }
        Err(e) => {
            let error = definition_error(e)?;
            Ok(form_page(
                &session,
                Some((&id, &display_name(&w))),
                text,
                true,
                Some(error),
            ))
        }
    }
}
