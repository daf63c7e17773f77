//! A webhook's signing secrets: the current one and a rotated-out one still in its overlap.

use serde::Serialize;
use utoipa::ToSchema;

use super::Webhook;
use crate::error::{Error, codes};
use crate::time::Timestamp;

/// `rotate-secret`'s `meta.expires-in-seconds`: how long the old secret may keep signing.
pub const MAX_ROTATION_OVERLAP_SECS: i64 = 7 * 24 * 3600;

impl Webhook {
    /// The secrets that sign at `now`, newest first.
    pub fn signing_secrets(&self, now: Timestamp) -> Vec<&str> {
        let mut s = vec![self.secret.as_str()];
        if let Some((old, until)) = &self.previous_secret
            && *until > now
        {
            s.push(old.as_str());
        }
        s
    }
}

/// One signing secret of a webhook (`webhook-with-secret`'s `secrets[]`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct SecretEntry {
    pub value: String,
    /// When it stops signing; `null` for the current secret.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

impl Webhook {
    /// The secrets that sign at `now` as `webhook-with-secret` lists them: the current one
    /// (`expires-at: null`) first, then a rotated-out one still in its overlap.
    pub fn secret_entries(&self, now: Timestamp) -> Vec<SecretEntry> {
        let mut out = vec![SecretEntry {
            value: self.secret.clone(),
            expires_at: None,
        }];
        if let Some((old, until)) = &self.previous_secret
            && *until > now
        {
            out.push(SecretEntry {
                value: old.clone(),
                expires_at: Some(*until),
            });
        }
        out
    }
}

/// `rotate-secret`'s `meta.expires-in-seconds`: 0 (the old secret stops at once) to
/// [`MAX_ROTATION_OVERLAP_SECS`].
pub fn parse_rotation_overlap(secs: i64) -> Result<i64, Error> {
    if (0..=MAX_ROTATION_OVERLAP_SECS).contains(&secs) {
        Ok(secs)
    } else {
        Err(Error::invalid(
            codes::EXPIRES_IN_OUT_OF_RANGE,
            format!("expires-in-seconds is 0 to {MAX_ROTATION_OVERLAP_SECS}"),
        )
        .at("/meta/expires-in-seconds"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::WebhookId;
    use crate::inflect::Inflection;
    use crate::webhook::{WebhookSettings, WebhookStatus};

    #[test]
    fn a_rotated_secret_signs_until_its_overlap_ends() {
        let w = Webhook {
            id: WebhookId::generate(),
            url: "https://x".into(),
            status: WebhookStatus::Enabled,
            enabled_events: vec!["*".into()],
            inflection: Inflection::Kebab,
            settings: WebhookSettings::defaults("https://x"),
            secret: "new".into(),
            previous_secret: Some(("old".into(), Timestamp::from_millis(1000))),
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        };
        assert_eq!(
            w.signing_secrets(Timestamp::from_millis(999)),
            vec!["new", "old"]
        );
        assert_eq!(w.signing_secrets(Timestamp::from_millis(1000)), vec!["new"]);
    }

    #[test]
    fn the_rotation_overlap_is_bounded() {
        assert!(parse_rotation_overlap(-1).is_err());
        assert!(parse_rotation_overlap(MAX_ROTATION_OVERLAP_SECS + 1).is_err());
    }
}
