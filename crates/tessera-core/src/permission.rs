//! API key permissions. A key carries a set of them (default: all); a route requires one.

/// One permission a key may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    InquiryRead,
    InquiryWrite,
    ConnectionRead,
    ConnectionWrite,
    ShareTokenRead,
    ShareTokenWrite,
    ShareTokenRedeem,
    EventRead,
    WebhookRead,
    WebhookWrite,
    WorkflowRead,
    WorkflowWrite,
    WorkflowTrigger,
    ApiKeyRead,
    ApiKeyWrite,
}

impl Permission {
    pub const ALL: [Permission; 15] = [
        Permission::InquiryRead,
        Permission::InquiryWrite,
        Permission::ConnectionRead,
        Permission::ConnectionWrite,
        Permission::ShareTokenRead,
        Permission::ShareTokenWrite,
        Permission::ShareTokenRedeem,
        Permission::EventRead,
        Permission::WebhookRead,
        Permission::WebhookWrite,
        Permission::WorkflowRead,
        Permission::WorkflowWrite,
        Permission::WorkflowTrigger,
        Permission::ApiKeyRead,
        Permission::ApiKeyWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::InquiryRead => "inquiry.read",
            Permission::InquiryWrite => "inquiry.write",
            Permission::ConnectionRead => "connection.read",
            Permission::ConnectionWrite => "connection.write",
            Permission::ShareTokenRead => "share_token.read",
            Permission::ShareTokenWrite => "share_token.write",
            Permission::ShareTokenRedeem => "share_token.redeem",
            Permission::EventRead => "event.read",
            Permission::WebhookRead => "webhook.read",
            Permission::WebhookWrite => "webhook.write",
            Permission::WorkflowRead => "workflow.read",
            Permission::WorkflowWrite => "workflow.write",
            Permission::WorkflowTrigger => "workflow.trigger",
            Permission::ApiKeyRead => "api_key.read",
            Permission::ApiKeyWrite => "api_key.write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permissions(u32);

impl Permissions {
    pub fn all() -> Self {
        Self(Permission::ALL.iter().fold(0, |acc, p| acc | p.bit()))
    }

    pub fn none() -> Self {
        Self(0)
    }

    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    pub fn is_subset_of(self, other: Permissions) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }

    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }

    /// Parses a list of names; the first unknown name is the error.
    pub fn parse_names<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let mut set = Self::none();
        for n in names {
            let p = Permission::parse(n.as_ref()).ok_or_else(|| n.as_ref().to_owned())?;
            set.0 |= p.bit();
        }
        Ok(set)
    }
}

impl FromIterator<Permission> for Permissions {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |acc, p| acc | p.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sets_compare() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        let read: Permissions = [Permission::InquiryRead].into_iter().collect();
        assert!(read.is_subset_of(Permissions::all()));
        assert!(!Permissions::all().is_subset_of(read));
        assert_eq!(Permissions::parse_names(&["inquiry.read"]), Ok(read));
        assert_eq!(Permissions::parse_names(&["nope"]), Err("nope".to_owned()));
        assert_eq!(Permissions::all().names().len(), 15);
    }
}
