//! Connections: "source may share with destination", one direction, one environment kind.
//! Which side the caller is decides what it may do and what `direction` it sees.

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, codes};
use crate::event::names;
use crate::id::{ConnectionId, EnvironmentId, OrganizationId};
use crate::jsonapi::{Relationship, Resource};
use crate::tenancy::{Actor, EnvKind, Scope};
use crate::time::Timestamp;

/// The status of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Pending,
    Active,
    Inactive,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Pending => "pending",
            ConnectionStatus::Active => "active",
            ConnectionStatus::Inactive => "inactive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "active" => Some(Self::Active),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
}

/// Which side of a connection (or share token) a caller is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The caller is the source.
    Outbound,
    /// The caller is the destination.
    Inbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "outbound" => Some(Self::Outbound),
            "inbound" => Some(Self::Inbound),
            _ => None,
        }
    }
}

/// A change to a connection requested by one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionAction {
    Activate,
    Deactivate,
    Reactivate,
}

impl ConnectionAction {
    /// Checks the side (403) and the status (409); returns the new status and the event pair
    /// `(outbound event, inbound event)`.
    pub fn apply(
        self,
        from: ConnectionStatus,
        caller_is_source: bool,
        caller_is_destination: bool,
    ) -> Result<(ConnectionStatus, &'static str, &'static str), Error> {
        let side_ok = match self {
            ConnectionAction::Activate => caller_is_destination,
            ConnectionAction::Reactivate => caller_is_source,
            ConnectionAction::Deactivate => caller_is_source || caller_is_destination,
        };
        if !side_ok {
            let who = if self == ConnectionAction::Activate {
                "destination"
            } else {
                "source"
            };
            return Err(Error::forbidden(
                codes::WRONG_SIDE,
                format!("only the {who} organization of a connection may do this"),
            ));
        }
        use ConnectionStatus as S;
        let (to, out, inb) = match (self, from) {
            (ConnectionAction::Activate, S::Pending) => (
                S::Active,
                names::CONNECTION_OUTBOUND_ACTIVATED,
                names::CONNECTION_INBOUND_ACTIVATED,
            ),
            (ConnectionAction::Deactivate, S::Pending | S::Active) => (
                S::Inactive,
                names::CONNECTION_OUTBOUND_DEACTIVATED,
                names::CONNECTION_INBOUND_DEACTIVATED,
            ),
            (ConnectionAction::Reactivate, S::Inactive) => (
                S::Pending,
                names::CONNECTION_OUTBOUND_REACTIVATED,
                names::CONNECTION_INBOUND_REACTIVATED,
            ),
            _ => {
                return Err(Error::conflict(
                    codes::INVALID_STATUS_TRANSITION,
                    format!(
                        "a {} connection cannot be {}",
                        from.as_str(),
                        self.past_tense()
                    ),
                ));
            }
        };
        Ok((to, out, inb))
    }

    /// The action's name: `activate`, `deactivate`, `reactivate`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionAction::Activate => "activate",
            ConnectionAction::Deactivate => "deactivate",
            ConnectionAction::Reactivate => "reactivate",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Activate, Self::Deactivate, Self::Reactivate]
            .into_iter()
            .find(|a| a.as_str() == s)
    }

    fn past_tense(self) -> &'static str {
        match self {
            ConnectionAction::Activate => "activated",
            ConnectionAction::Deactivate => "deactivated",
            ConnectionAction::Reactivate => "reactivated",
        }
    }
}

/// A connection.
#[derive(Debug, Clone)]
pub struct Connection {
    pub id: ConnectionId,
    pub kind: EnvKind,
    pub source_org: OrganizationId,
    pub source_env: EnvironmentId,
    pub destination_org: OrganizationId,
    pub destination_env: EnvironmentId,
    pub status: ConnectionStatus,
    pub name: Option<String>,
    pub creator: Option<Actor>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub activated_at: Option<Timestamp>,
    pub deactivated_at: Option<Timestamp>,
    /// The instance the other side's organization lives on, when it is an organization of a
    /// peer instance (federation); `None` between two organizations of this instance.
    pub peer_instance: Option<String>,
}

impl Connection {
    pub fn is_source(&self, scope: &Scope) -> bool {
        self.source_env == scope.env
    }

    pub fn is_destination(&self, scope: &Scope) -> bool {
        self.destination_env == scope.env
    }

    /// The direction a caller in `scope` sees (outbound when it is both sides).
    pub fn direction_for(&self, scope: &Scope) -> Direction {
        if self.is_source(scope) {
            Direction::Outbound
        } else {
            Direction::Inbound
        }
    }

    pub fn source_scope(&self) -> Scope {
        Scope {
            org: self.source_org.clone(),
            env: self.source_env.clone(),
            kind: self.kind,
        }
    }

    pub fn destination_scope(&self) -> Scope {
        Scope {
            org: self.destination_org.clone(),
            env: self.destination_env.clone(),
            kind: self.kind,
        }
    }
}

/// Attributes of a `connect/connection` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ConnectionAttributes {
    pub status: ConnectionStatus,
    pub direction: Direction,
    pub name: Option<String>,
    #[schema(value_type = String)]
    pub source_organization_id: OrganizationId,
    #[schema(value_type = String)]
    pub destination_organization_id: OrganizationId,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub activated_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deactivated_at: Option<Timestamp>,
    /// Tessera extension, present only across instances: the instance id of the peer the other
    /// side's organization lives on (its organization id is then an id on that instance).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_instance_id: Option<String>,
}

/// Relationships of a `connect/connection` resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionRelationships {
    /// The source's view only: the creator is an actor of the source organization (Persona's
    /// schema has no null creator, so the destination's view leaves the member out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<Relationship>,
}

/// A `connect/connection` resource.
pub type ConnectionResource = Resource<ConnectionAttributes, ConnectionRelationships>;

impl Connection {
    /// The connection as seen from `direction`.
    pub fn to_resource(&self, direction: Direction) -> ConnectionResource {
        Resource::new(
            "connect/connection",
            self.id.as_str(),
            ConnectionAttributes {
                status: self.status,
                direction,
                name: self.name.clone(),
                source_organization_id: self.source_org.clone(),
                destination_organization_id: self.destination_org.clone(),
                created_at: self.created_at,
                updated_at: self.updated_at,
                activated_at: self.activated_at,
                deactivated_at: self.deactivated_at,
                peer_instance_id: self.peer_instance.clone(),
            },
            ConnectionRelationships {
                creator: self
                    .creator
                    .as_ref()
                    .filter(|_| direction == Direction::Outbound)
                    .map(|a| Relationship::one(a.to_ref())),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnectionAction as A;
    use ConnectionStatus as S;

    #[test]
    fn sides_and_statuses() {
        assert_eq!(
            A::Activate.apply(S::Pending, false, true).map(|r| r.0).ok(),
            Some(S::Active)
        );
        assert_eq!(
            A::Activate
                .apply(S::Pending, true, false)
                .err()
                .map(|e| e.status.code()),
            Some(403)
        );
        assert_eq!(
            A::Activate
                .apply(S::Active, false, true)
                .err()
                .map(|e| e.status.code()),
            Some(409)
        );
        assert_eq!(
            A::Deactivate
                .apply(S::Active, true, false)
                .map(|r| r.0)
                .ok(),
            Some(S::Inactive)
        );
        assert_eq!(
            A::Deactivate
                .apply(S::Pending, false, true)
                .map(|r| r.0)
                .ok(),
            Some(S::Inactive)
        );
        assert_eq!(
            A::Deactivate
                .apply(S::Inactive, true, false)
                .err()
                .map(|e| e.status.code()),
            Some(409)
        );
        assert_eq!(
            A::Reactivate
                .apply(S::Inactive, true, false)
                .map(|r| r.0)
                .ok(),
            Some(S::Pending)
        );
        assert_eq!(
            A::Reactivate
                .apply(S::Inactive, false, true)
                .err()
                .map(|e| e.status.code()),
            Some(403)
        );
        assert_eq!(
            A::Reactivate
                .apply(S::Pending, true, false)
                .err()
                .map(|e| e.status.code()),
            Some(409)
        );
    }
}
