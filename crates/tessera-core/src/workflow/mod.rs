//! Workflows: automation that runs steps when an event happens, inside one organization and
//! environment. A definition is a [`Trigger`] and a list of [`Step`]s, validated completely when
//! it is saved; each matching event makes a [`run::WorkflowRun`] that the worker executes.
//!
//! Runs cannot run away (see [`Cause`]): the events a run causes never start its own workflow
//! again, a chain of runs causing runs is at most [`MAX_DEPTH`] deep, and one chain makes at most
//! [`MAX_RUNS_PER_CHAIN`] runs.

mod condition;
mod members;
pub mod run;
mod step;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

pub use condition::{Condition, Op, Trigger, is_json_pointer};
pub use step::{Input, Step, TYPES as STEP_TYPES};

use crate::error::{Error, codes};
use crate::id::{WorkflowId, WorkflowRunId};
use crate::jsonapi::{NoRelationships, Resource};
use crate::time::Timestamp;

/// Most steps of a workflow, and most conditions of its trigger.
pub const MAX_STEPS: usize = 10;
pub const MAX_CONDITIONS: usize = 20;
/// Most workflows per environment.
pub const MAX_WORKFLOWS_PER_ENVIRONMENT: i64 = 50;
/// Longest name.
pub const MAX_NAME_LEN: usize = 200;
/// How deep a chain of runs may go: a run started by an event that no run caused has depth 1;
/// a run started by an event that a run of depth `d` caused has depth `d + 1`, and is not
/// started beyond this.
pub const MAX_DEPTH: u32 = 5;
/// Most runs one chain (everything that follows from one event no run caused) may make.
pub const MAX_RUNS_PER_CHAIN: i64 = 100;
/// Attempts of an `http-request` step before it fails.
pub const HTTP_STEP_ATTEMPTS: u32 = crate::retry::WORKFLOW_HTTP_STEP.max_attempts;

/// The status of a workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowStatus {
    Active,
    Inactive,
}

impl WorkflowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowStatus::Active => "active",
            WorkflowStatus::Inactive => "inactive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
}

/// Why a unit of work runs: on behalf of a step of a workflow run. Set on the unit's transaction
/// by the worker (and carried through the jobs a step starts), read where events are emitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Cause {
    pub workflow_id: WorkflowId,
    pub run_id: WorkflowRunId,
    /// The chain the run belongs to (see [`MAX_RUNS_PER_CHAIN`]).
    pub chain: String,
    /// The run's depth (see [`MAX_DEPTH`]).
    pub depth: u32,
}

/// A workflow (its secret never leaves the store but to sign).
#[derive(Debug, Clone)]
pub struct Workflow {
    pub id: WorkflowId,
    pub name: Option<String>,
    pub status: WorkflowStatus,
    pub trigger: Trigger,
    pub steps: Vec<Step>,
    pub secret: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Checks a workflow's name: trimmed, 1 to [`MAX_NAME_LEN`] characters.
pub fn check_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            format!("name is 1 to {MAX_NAME_LEN} characters"),
        )
        .at("name"));
    }
    Ok(name.to_owned())
}

/// Parses `steps` (1 to [`MAX_STEPS`]).
pub fn parse_steps(value: &Value) -> Result<Vec<Step>, Error> {
    let pointer = "steps";
    let list = condition::expect_array(value, pointer)?;
    if list.is_empty() || list.len() > MAX_STEPS {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            format!("a workflow has 1 to {MAX_STEPS} steps"),
        )
        .at(pointer));
    }
    list.iter()
        .enumerate()
        .map(|(i, s)| Step::parse(s, &format!("{pointer}/{i}")))
        .collect()
}

/// Parses `trigger`.
pub fn parse_trigger(value: &Value) -> Result<Trigger, Error> {
    Trigger::parse(value, "trigger")
}

/// Refuses a step whose input the trigger's event cannot provide (e.g. `redeem-share-token` on
/// `inquiry.approved`), pointing at the step's type.
pub fn check_inputs(trigger: &Trigger, steps: &[Step]) -> Result<(), Error> {
    for (i, step) in steps.iter().enumerate() {
        let input = step.input();
        if !input.provided_by_event(&trigger.event) {
            return Err(Error::invalid(
                codes::STEP_INPUT_UNAVAILABLE,
                format!(
                    "{} needs {}, which {} events do not carry",
                    step.kind(),
                    input.describe(),
                    trigger.event
                ),
            )
            .at(format!("steps/{i}/type")));
        }
    }
    Ok(())
}

/// Attributes of a `workflow` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct WorkflowAttributes {
    pub name: Option<String>,
    pub status: WorkflowStatus,
    pub trigger: Trigger,
    /// `[{"type": "create-share-token", "connection-id": "cxn_…"}, …]`.
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<Value>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A `workflow` resource.
pub type WorkflowResource = Resource<WorkflowAttributes, NoRelationships>;

impl Workflow {
    pub fn to_resource(&self) -> WorkflowResource {
        Resource::new(
            "workflow",
            self.id.as_str(),
            WorkflowAttributes {
                name: self.name.clone(),
                status: self.status,
                trigger: self.trigger.clone(),
                steps: self.steps.iter().map(Step::to_value).collect(),
                created_at: self.created_at,
                updated_at: self.updated_at,
            },
            NoRelationships {},
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_need_what_the_trigger_carries() {
        let trigger = parse_trigger(&json!({"event": "inquiry.approved"}));
        let steps = parse_steps(&json!([{"type": "tag-inquiry", "tag": "x"},
            {"type": "redeem-share-token"}]));
        let (Ok(trigger), Ok(steps)) = (trigger, steps) else {
            panic!("valid definition refused");
        };
        let e = check_inputs(&trigger, &steps).err();
        assert!(e.is_some_and(|e| e.is(codes::STEP_INPUT_UNAVAILABLE)
            && e.location == Some(crate::error::Source::Attribute("steps/1/type".into()))));
        assert!(check_inputs(&trigger, &steps[..1]).is_ok());
    }

    #[test]
    fn step_counts_are_bounded() {
        assert!(parse_steps(&json!([])).is_err());
        let many: Vec<Value> = (0..=MAX_STEPS)
            .map(|_| json!({"type": "approve-inquiry"}))
            .collect();
        assert!(parse_steps(&Value::Array(many)).is_err());
        assert!(parse_steps(&json!({"type": "approve-inquiry"})).is_err());
    }
}
