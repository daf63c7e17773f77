//! Workflow runs: one execution of a workflow's steps, snapshotted when the run is made (later
//! edits of the workflow do not change it). Each step's record says how far it got; the worker
//! resumes a run at its first unfinished step.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::Step;
use crate::error::Error;
use crate::id::{EventId, WorkflowId, WorkflowRunId};
use crate::jsonapi::{Ref, Relationship, Resource};
use crate::time::Timestamp;

/// The status of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Pending,
    Running,
    Completed,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "running" => Some(Self::Running),
            "completed" => Some(Self::Completed),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, RunStatus::Completed | RunStatus::Failed)
    }
}

/// The status of one step of a run. `skipped`: an earlier step failed, so this one never ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Skipped,
}

/// Why a step failed, in the vocabulary of API errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StepError {
    /// The HTTP status the same action would have answered through the API.
    pub status: u16,
    pub code: String,
    pub details: String,
}

impl StepError {
    pub fn from_error(e: &Error) -> Self {
        Self {
            status: e.status.code(),
            code: e.code.to_string(),
            details: e.detail.clone(),
        }
    }
}

/// How far one step of a run got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StepRecord {
    pub status: StepStatus,
    /// What the step made or did, e.g. `{"share-token-id": "cnst_…"}`.
    #[serde(default)]
    pub output: Option<Value>,
    #[serde(default)]
    pub error: Option<StepError>,
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    #[serde(default)]
    pub finished_at: Option<Timestamp>,
    /// Attempts made (`http-request` steps may take several).
    #[serde(default)]
    pub attempts: u32,
}

impl StepRecord {
    pub fn pending() -> Self {
        Self {
            status: StepStatus::Pending,
            output: None,
            error: None,
            started_at: None,
            finished_at: None,
            attempts: 0,
        }
    }

    pub fn is_finished(&self) -> bool {
        matches!(
            self.status,
            StepStatus::Completed | StepStatus::Failed | StepStatus::Skipped
        )
    }
}

/// A run of a workflow.
#[derive(Debug, Clone)]
pub struct WorkflowRun {
    pub id: WorkflowRunId,
    pub workflow_id: WorkflowId,
    pub status: RunStatus,
    /// The workflow's steps when the run was made.
    pub steps: Vec<Step>,
    /// One per step.
    pub records: Vec<StepRecord>,
    /// The object the run acts on: its resource type and id.
    pub object_type: String,
    pub object_id: String,
    /// The event that started the run; `None` for a manual trigger.
    pub trigger_event_id: Option<EventId>,
    pub chain: String,
    pub depth: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub completed_at: Option<Timestamp>,
}

impl WorkflowRun {
    /// The first step that has not finished, if any.
    pub fn next_step(&self) -> Option<usize> {
        self.records.iter().position(|r| !r.is_finished())
    }

    /// What a step of this run acts on behalf of.
    pub fn cause(&self) -> super::Cause {
        super::Cause {
            workflow_id: self.workflow_id.clone(),
            run_id: self.id.clone(),
            chain: self.chain.clone(),
            depth: self.depth,
        }
    }
}

/// One step of a `workflow-run` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct RunStepAttributes {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub status: StepStatus,
    #[schema(value_type = Option<Object>)]
    pub output: Option<Value>,
    pub error: Option<StepError>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
}

/// Attributes of a `workflow-run` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct RunAttributes {
    pub status: RunStatus,
    pub steps: Vec<RunStepAttributes>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Timestamp>,
}

/// Relationships of a `workflow-run` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct RunRelationships {
    pub workflow: Relationship,
    /// Null for a manual trigger.
    pub trigger_event: Relationship,
    /// The inquiry, share token or connection the run acts on.
    pub object: Relationship,
}

/// A `workflow-run` resource.
pub type RunResource = Resource<RunAttributes, RunRelationships>;

impl WorkflowRun {
    pub fn to_resource(&self) -> RunResource {
        Resource::new(
            "workflow-run",
            self.id.as_str(),
            RunAttributes {
                status: self.status,
                steps: self
                    .steps
                    .iter()
                    .zip(&self.records)
                    .map(|(s, r)| RunStepAttributes {
                        kind: s.kind(),
                        status: r.status,
                        output: r.output.clone(),
                        error: r.error.clone(),
                        started_at: r.started_at,
                        finished_at: r.finished_at,
                    })
                    .collect(),
                created_at: self.created_at,
                updated_at: self.updated_at,
                completed_at: self.completed_at,
            },
            RunRelationships {
                workflow: Relationship::one(Ref::new("workflow", self.workflow_id.as_str())),
                trigger_event: Relationship::optional(
                    self.trigger_event_id
                        .as_ref()
                        .map(|e| Ref::new("event", e.as_str())),
                ),
                object: Relationship::one(Ref::new(&self.object_type, &self.object_id)),
            },
        )
    }
}
