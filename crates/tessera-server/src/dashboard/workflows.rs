//! Workflows: a placeholder until the workflow store and API are part of this build. The page
//! says so, and says what workflows will do, rather than showing an empty list that suggests
//! they exist.

use askama::Template;
use axum::http::StatusCode;

use crate::dashboard::page::{Chrome, PageResult, render};
use crate::dashboard::session::Signed;

#[derive(Template)]
#[template(path = "workflows.html")]
struct Placeholder {
    chrome: Chrome,
}

/// The workflows section.
pub async fn index(Signed(session): Signed) -> PageResult {
    let page = Placeholder {
        chrome: Chrome::new(&session, "workflows", "Workflows"),
    };
    Ok(render(StatusCode::OK, &page))
}
