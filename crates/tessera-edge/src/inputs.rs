//! What both faces check the same way before they write: a webhook URL and a workflow definition
//! (including its `http-request` URLs, against the outbound guard), and a dashboard password
//! (hashed once it passes). The API's handlers and the dashboard's forms call these, so a value
//! refused by one is refused by the other, with the same error.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use serde::Deserialize;
use serde_json::Value;
use tessera_core::secret::generate_workflow_secret;
use tessera_core::webhook::MAX_URL_LEN;
use tessera_core::workflow::{
    Step, Trigger, WorkflowStatus, check_inputs, check_name, parse_steps, parse_trigger,
};
use tessera_core::{Error, codes};
use tessera_outbound::OutboundClient;
use tessera_store::units::workflows::{NewWorkflow, WorkflowPatch};
use utoipa::ToSchema;

use crate::body::required;

/// Checks a webhook URL: its length, and that the outbound client may reach it (the dashboard
/// checks with this too).
pub async fn check_url(outbound: &OutboundClient, url: String) -> Result<String, Error> {
    let pointer = "/data/attributes/url";
    if url.len() > MAX_URL_LEN {
        return Err(Error::invalid(
            codes::INVALID_URL,
            format!("a URL is at most {MAX_URL_LEN} characters"),
        )
        .at(pointer));
    }
    outbound
        .check_url(&url)
        .await
        .map_err(|e| Error::invalid(codes::INVALID_URL, e.to_string()).at(pointer))?;
    Ok(url)
}

/// Attributes of a new workflow.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NewWorkflowAttributes {
    /// 1–200 characters.
    pub name: Option<String>,
    /// `{"event": "inquiry.approved", "conditions": [{"path", "op", "value"}]}`.
    #[schema(required = true, value_type = Object)]
    pub trigger: Option<Value>,
    /// 1–10 steps: `[{"type": "create-share-token", "connection-id": "cxn_…"}, …]`.
    #[schema(required = true, value_type = Vec<Object>)]
    pub steps: Option<Value>,
    /// `active` (default) or `inactive`.
    pub status: Option<String>,
}

/// A workflow status attribute (`active` or `inactive`), or 422 pointing at it.
pub fn workflow_status(raw: Option<String>) -> Result<Option<WorkflowStatus>, Error> {
    raw.map(|s| {
        WorkflowStatus::parse(&s).ok_or_else(|| {
            Error::invalid(codes::INVALID_ATTRIBUTE, "status is active or inactive")
                .at("/data/attributes/status")
        })
    })
    .transpose()
}

/// Refuses an `http-request` URL the outbound guard would refuse, as webhooks do.
pub async fn check_urls(outbound: &OutboundClient, steps: &[Step]) -> Result<(), Error> {
    for (i, step) in steps.iter().enumerate() {
        if let Step::HttpRequest { url } = step {
            outbound.check_url(url).await.map_err(|e| {
                Error::invalid(codes::INVALID_URL, e.to_string())
                    .at(format!("/data/attributes/steps/{i}/url"))
            })?;
        }
    }
    Ok(())
}

/// A whole workflow definition, checked.
#[derive(Debug, Clone)]
pub struct Definition {
    pub name: Option<String>,
    pub status: Option<WorkflowStatus>,
    pub trigger: Trigger,
    pub steps: Vec<Step>,
}

impl Definition {
    /// A new workflow of this definition (`active` unless it says otherwise), with a new secret.
    pub fn into_new(self) -> NewWorkflow {
        NewWorkflow {
            name: self.name,
            status: self.status.unwrap_or(WorkflowStatus::Active),
            trigger: self.trigger,
            steps: self.steps,
            secret: generate_workflow_secret(),
        }
    }

    /// A change that replaces a workflow's definition with this one (no name clears the name;
    /// no status keeps the status).
    pub fn into_replacement(self) -> WorkflowPatch {
        WorkflowPatch {
            name: Some(self.name),
            status: self.status,
            trigger: Some(self.trigger),
            steps: Some(self.steps),
        }
    }
}

/// Checks a whole definition as `POST /api/v1/workflows` does — its shape, the inputs its
/// trigger provides, the `http-request` URLs — with errors pointing into
/// `/data/attributes`. The dashboard's create and edit forms call this too; the connections and
/// templates a definition names are checked by the store's unit of work.
pub async fn check_definition(
    outbound: &OutboundClient,
    a: NewWorkflowAttributes,
) -> Result<Definition, Error> {
    let name = a.name.map(|n| check_name(&n)).transpose()?;
    let trigger = parse_trigger(&required(a.trigger, "trigger")?)?;
    let steps = parse_steps(&required(a.steps, "steps")?)?;
    let status = workflow_status(a.status)?;
    check_inputs(&trigger, &steps)?;
    check_urls(outbound, &steps).await?;
    Ok(Definition {
        name,
        status,
        trigger,
        steps,
    })
}

/// Shortest dashboard password.
pub const MIN_PASSWORD_LEN: usize = 10;

/// Hashes a dashboard password with Argon2id.
pub fn hash_password(password: &str) -> Result<String, Error> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_LEN..=1024).contains(&n) {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            format!("passwords are {MIN_PASSWORD_LEN} to 1024 characters"),
        )
        .at("/data/attributes/password"));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(std::io::Error::other(e.to_string())))
}
