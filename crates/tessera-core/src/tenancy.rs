//! Tenancy: organizations, their two environments, API keys, and who is acting.

use crate::id::{ApiKeyId, EnvironmentId, OrganizationId, UserId, WorkflowId};
use crate::jsonapi::{Ref, Relationship, Resource};
use crate::permission::Permissions;
use crate::time::Timestamp;

/// The kind of an environment. Data never crosses environment kinds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum EnvKind {
    Sandbox,
    Production,
}

impl EnvKind {
    pub const ALL: [EnvKind; 2] = [EnvKind::Sandbox, EnvKind::Production];

    pub fn as_str(self) -> &'static str {
        match self {
            EnvKind::Sandbox => "sandbox",
            EnvKind::Production => "production",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sandbox" => Some(EnvKind::Sandbox),
            "production" => Some(EnvKind::Production),
            _ => None,
        }
    }
}

/// The tenant a piece of work runs in: one organization, one of its environments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub org: OrganizationId,
    pub env: EnvironmentId,
    pub kind: EnvKind,
}

/// Who performs an action (a share token's `creator`, for instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    ApiKey(ApiKeyId),
    User(UserId),
    Workflow(WorkflowId),
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::ApiKey(_) => "api-key",
            Actor::User(_) => "user",
            Actor::Workflow(_) => "workflow",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Actor::ApiKey(id) => id.as_str(),
            Actor::User(id) => id.as_str(),
            Actor::Workflow(id) => id.as_str(),
        }
    }

    /// Rebuilds an actor from its stored kind and id.
    pub fn from_db(kind: &str, id: String) -> Option<Self> {
        match kind {
            "api-key" => Some(Actor::ApiKey(ApiKeyId::from_db(id))),
            "user" => Some(Actor::User(UserId::from_db(id))),
            "workflow" => Some(Actor::Workflow(WorkflowId::from_db(id))),
            _ => None,
        }
    }

    pub fn to_ref(&self) -> Ref {
        Ref::new(self.kind(), self.id())
    }
}

/// An environment of an organization.
#[derive(Debug, Clone)]
pub struct Environment {
    pub id: EnvironmentId,
    pub kind: EnvKind,
}

/// An organization (tenant).
#[derive(Debug, Clone)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    pub created_at: Timestamp,
    pub environments: Vec<Environment>,
}

impl Organization {
    pub fn environment(&self, kind: EnvKind) -> Option<&Environment> {
        self.environments.iter().find(|e| e.kind == kind)
    }

    pub fn scope(&self, kind: EnvKind) -> Option<Scope> {
        self.environment(kind).map(|e| Scope {
            org: self.id.clone(),
            env: e.id.clone(),
            kind,
        })
    }
}

/// Attributes of an `organization` resource.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct OrganizationAttributes {
    pub name: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// Relationships of an `organization` resource.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct OrganizationRelationships {
    pub environments: Relationship,
}

/// An `organization` resource.
pub type OrganizationResource = Resource<OrganizationAttributes, OrganizationRelationships>;

impl Organization {
    pub fn to_resource(&self) -> OrganizationResource {
        Resource::new(
            "organization",
            self.id.as_str(),
            OrganizationAttributes {
                name: self.name.clone(),
                created_at: self.created_at,
            },
            OrganizationRelationships {
                environments: Relationship::many(
                    self.environments
                        .iter()
                        .map(|e| Ref::new("environment", e.id.as_str())),
                ),
            },
        )
    }
}

/// An API key (never its secret).
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub scope: Scope,
    pub name: String,
    pub hint: String,
    pub permissions: Permissions,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

impl ApiKey {
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|t| t > now)
    }
}

/// Attributes of an `api-key` resource.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ApiKeyAttributes {
    pub name: String,
    /// `sandbox` or `production`.
    pub environment: EnvKind,
    pub permissions: Vec<&'static str>,
    /// `active` or `expired`.
    pub status: &'static str,
    /// A recognisable, non-secret part of the key: `tsk_sandbox_…Ab12`.
    pub hint: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

/// An `api-key` resource.
pub type ApiKeyResource = Resource<ApiKeyAttributes, crate::jsonapi::NoRelationships>;

impl ApiKey {
    pub fn to_resource(&self, now: Timestamp) -> ApiKeyResource {
        Resource::new(
            "api-key",
            self.id.as_str(),
            ApiKeyAttributes {
                name: self.name.clone(),
                environment: self.scope.kind,
                permissions: self.permissions.names(),
                status: if self.is_active(now) {
                    "active"
                } else {
                    "expired"
                },
                hint: self.hint.clone(),
                created_at: self.created_at,
                expires_at: self.expires_at,
            },
            crate::jsonapi::NoRelationships {},
        )
    }
}
