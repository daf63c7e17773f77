//! What a token's page shows of trust at redemption: what the token discloses (both sides), the
//! preview manifest of an inbound token (the dry run of the picked template, the documents and
//! the verifications' ages, the digest), and, once redeemed, the digest of the copy.

use tessera_core::share_token::Disclosure;
use tessera_core::share_token::copy::Manifest;

use crate::view::{Badge, badge};

/// One check of the dry run.
pub struct CheckRow {
    pub name: String,
    pub status: Badge,
    pub reasons: String,
}

/// The manifest as the page shows it.
pub struct ManifestView {
    /// Whether the copy would pass: `passed` or `failed`.
    pub status: Badge,
    pub checks: Vec<CheckRow>,
    /// Type, status, completed (date) and age in days.
    pub verifications: Vec<(String, Badge, String, i64)>,
    /// Kind, size and the expiry the copy states.
    pub documents: Vec<(String, String, String)>,
    pub digest: String,
}

fn size(bytes: i64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / f64::from(1 << 10)),
        b => format!("{b} bytes"),
    }
}

pub fn view(m: &Manifest) -> ManifestView {
    ManifestView {
        status: badge(m.dry_run.status.as_str()),
        checks: m
            .dry_run
            .checks
            .iter()
            .map(|c| CheckRow {
                name: c.name.clone(),
                status: badge(c.status.as_str()),
                reasons: c.reasons.join("; "),
            })
            .collect(),
        verifications: m
            .verifications
            .iter()
            .map(|v| {
                (
                    v.kind.to_owned(),
                    badge(v.status.as_str()),
                    v.completed_at.to_rfc3339()[..10].to_owned(),
                    v.age_days,
                )
            })
            .collect(),
        documents: m
            .documents
            .iter()
            .map(|d| {
                (
                    d.kind.as_str().to_owned(),
                    size(d.byte_size),
                    d.expires_on.clone().unwrap_or_else(|| String::from("—")),
                )
            })
            .collect(),
        digest: m.digest.clone(),
    }
}

/// What a token shares, one line per limited kind; empty when it shares everything.
pub fn disclosure(d: &Disclosure) -> Vec<(&'static str, String)> {
    let joined = |items: Vec<&str>| {
        if items.is_empty() {
            String::from("none")
        } else {
            items.join(", ")
        }
    };
    let mut out = Vec::new();
    if let Some(f) = &d.fields {
        out.push(("Fields", joined(f.iter().map(String::as_str).collect())));
    }
    if let Some(v) = &d.verifications {
        out.push((
            "Verifications",
            joined(v.iter().map(|k| k.as_str()).collect()),
        ));
    }
    if let Some(docs) = &d.documents {
        out.push((
            "Documents",
            joined(docs.iter().map(|k| k.as_str()).collect()),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(512), "512 bytes");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(3 << 20), "3.0 MiB");
    }

    #[test]
    fn a_disclosure_lists_only_what_it_limits() {
        assert!(disclosure(&Disclosure::default()).is_empty());
        let d = Disclosure {
            fields: Some(vec!["birthdate".into(), "name-first".into()]),
            documents: Some(vec![]),
            ..Default::default()
        };
        assert_eq!(
            disclosure(&d),
            [
                ("Fields", String::from("birthdate, name-first")),
                ("Documents", String::from("none"))
            ]
        );
    }
}
