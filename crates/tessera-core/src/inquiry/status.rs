//! The status machine of an inquiry: its statuses and the transitions the API may request.

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, codes};
use crate::event::names;

/// The status of an inquiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InquiryStatus {
    Created,
    Pending,
    Completed,
    Approved,
    Declined,
    NeedsReview,
    Expired,
    Failed,
}

impl InquiryStatus {
    pub const ALL: [InquiryStatus; 8] = [
        InquiryStatus::Created,
        InquiryStatus::Pending,
        InquiryStatus::Completed,
        InquiryStatus::Approved,
        InquiryStatus::Declined,
        InquiryStatus::NeedsReview,
        InquiryStatus::Expired,
        InquiryStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InquiryStatus::Created => "created",
            InquiryStatus::Pending => "pending",
            InquiryStatus::Completed => "completed",
            InquiryStatus::Approved => "approved",
            InquiryStatus::Declined => "declined",
            InquiryStatus::NeedsReview => "needs_review",
            InquiryStatus::Expired => "expired",
            InquiryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether the inquiry is still being filled (verifications and documents may be added).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            InquiryStatus::Created
                | InquiryStatus::Pending
                | InquiryStatus::Completed
                | InquiryStatus::NeedsReview
        )
    }

    /// Whether an inquiry in this status may be shared with a partner.
    pub fn is_shareable(self) -> bool {
        matches!(self, InquiryStatus::Completed | InquiryStatus::Approved)
    }
}

/// A transition requested through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InquiryAction {
    Complete,
    Approve,
    Decline,
    MarkForReview,
    Expire,
    Fail,
}

impl InquiryAction {
    /// The status this action leads to and the event it emits, or 409 from `from`.
    pub fn apply(self, from: InquiryStatus) -> Result<(InquiryStatus, &'static str), Error> {
        use InquiryStatus as S;
        let allowed = match self {
            InquiryAction::Complete => matches!(from, S::Created | S::Pending),
            // Persona gives no rule for decisions: an inquiry may be decided once it has left
            // `created`, and a decision may not be changed.
            InquiryAction::Approve | InquiryAction::Decline => matches!(
                from,
                S::Pending | S::Completed | S::NeedsReview | S::Failed | S::Expired
            ),
            // "Inquiries that are already approved or declined cannot be marked for review."
            InquiryAction::MarkForReview => !matches!(from, S::Approved | S::Declined),
            InquiryAction::Expire | InquiryAction::Fail => matches!(from, S::Created | S::Pending),
        };
        if !allowed {
            return Err(Error::conflict(
                codes::INVALID_STATUS_TRANSITION,
                format!(
                    "an inquiry in status {} cannot be {}",
                    from.as_str(),
                    self.past_tense()
                ),
            ));
        }
        Ok(match self {
            InquiryAction::Complete => (S::Completed, names::INQUIRY_COMPLETED),
            InquiryAction::Approve => (S::Approved, names::INQUIRY_APPROVED),
            InquiryAction::Decline => (S::Declined, names::INQUIRY_DECLINED),
            InquiryAction::MarkForReview => (S::NeedsReview, names::INQUIRY_MARKED_FOR_REVIEW),
            InquiryAction::Expire => (S::Expired, names::INQUIRY_EXPIRED),
            InquiryAction::Fail => (S::Failed, names::INQUIRY_FAILED),
        })
    }

    fn past_tense(self) -> &'static str {
        match self {
            InquiryAction::Complete => "completed",
            InquiryAction::Approve => "approved",
            InquiryAction::Decline => "declined",
            InquiryAction::MarkForReview => "marked for review",
            InquiryAction::Expire => "expired",
            InquiryAction::Fail => "failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InquiryStatus as S;

    #[test]
    fn transitions_follow_the_contract() {
        use InquiryAction as A;
        // (action, from) pairs that are allowed; everything else is 409.
        let allowed = |action: A, from: S| match action {
            A::Complete | A::Expire | A::Fail => matches!(from, S::Created | S::Pending),
            A::Approve | A::Decline => matches!(
                from,
                S::Pending | S::Completed | S::NeedsReview | S::Failed | S::Expired
            ),
            A::MarkForReview => !matches!(from, S::Approved | S::Declined),
        };
        let target = |action: A| match action {
            A::Complete => S::Completed,
            A::Approve => S::Approved,
            A::Decline => S::Declined,
            A::MarkForReview => S::NeedsReview,
            A::Expire => S::Expired,
            A::Fail => S::Failed,
        };
        for action in [
            A::Complete,
            A::Approve,
            A::Decline,
            A::MarkForReview,
            A::Expire,
            A::Fail,
        ] {
            for from in S::ALL {
                let result = action.apply(from);
                assert_eq!(
                    result.is_ok(),
                    allowed(action, from),
                    "{action:?} from {from:?}"
                );
                match result {
                    Ok((to, _)) => assert_eq!(to, target(action)),
                    Err(e) => {
                        assert_eq!(e.status.code(), 409);
                        assert!(e.is(codes::INVALID_STATUS_TRANSITION));
                    }
                }
            }
        }
        // Persona's rule for mark-for-review, spelled out.
        for from in [S::Created, S::Pending, S::Completed, S::Failed, S::Expired] {
            assert!(A::MarkForReview.apply(from).is_ok());
        }
    }
}
