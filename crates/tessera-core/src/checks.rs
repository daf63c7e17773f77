//! The verification of a redeemed copy against the destination's template: one check per
//! requirement, each `passed`, `failed` or `not_applicable`, with reasons naming what is missing
//! or stale. Pure: the caller supplies the copy and "now".

use serde_json::{Map, Value};

use crate::fields::{Fields, parse_date};
use crate::template::Template;
use crate::time::Timestamp;
use crate::verification::{Check, CheckStatus, Requirement, Verification, VerificationStatus};

/// The names of the checks, in the order they are reported.
pub const CHECK_NAMES: [&str; 6] = [
    "required_fields_present",
    "required_verifications_passed",
    "verification_freshness",
    "document_not_expired",
    "minimum_age",
    "country_allowed",
];

fn check(name: &str, required: bool, failures: Vec<String>) -> Check {
    Check {
        name: name.to_owned(),
        status: if !required {
            CheckStatus::NotApplicable
        } else if failures.is_empty() {
            CheckStatus::Passed
        } else {
            CheckStatus::Failed
        },
        reasons: failures,
        requirement: if required {
            Requirement::Required
        } else {
            Requirement::NotRequired
        },
        metadata: Map::new(),
    }
}

/// A string value from the fields, else from a verification's extracted attributes.
pub(crate) fn value_of(
    name: &str,
    fields: &Fields,
    verifications: &[Verification],
) -> Option<String> {
    fields
        .get(name)
        .and_then(|f| f.value.as_str().map(str::to_owned))
        .or_else(|| {
            verifications
                .iter()
                .filter(|v| v.status == VerificationStatus::Passed)
                .find_map(|v| {
                    v.attributes
                        .get(name)
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
        })
        .filter(|s| !s.trim().is_empty())
}

/// Whole years between `birth` and `today`.
fn age_on(birth: chrono::NaiveDate, today: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Evaluates the copy. With no template every check is `not_applicable`.
pub fn evaluate(
    template: Option<&Template>,
    fields: &Fields,
    verifications: &[Verification],
    now: Timestamp,
) -> Vec<Check> {
    let today = now.date();
    let mut out = Vec::with_capacity(6);

    let required_fields = template
        .map(|t| t.required_fields.as_slice())
        .unwrap_or(&[]);
    let missing = required_fields
        .iter()
        .filter(|f| {
            fields.get(f.as_str()).is_none_or(|v| {
                v.value.is_null() || v.value.as_str().is_some_and(|s| s.trim().is_empty())
            })
        })
        .map(|f| format!("missing field {f}"))
        .collect();
    out.push(check(CHECK_NAMES[0], !required_fields.is_empty(), missing));

    let required = template
        .map(|t| t.required_verifications.as_slice())
        .unwrap_or(&[]);
    let passed_of = |kind| {
        verifications
            .iter()
            .filter(move |v| v.kind == kind && v.status == VerificationStatus::Passed)
    };
    let missing = required
        .iter()
        .filter(|r| passed_of(r.kind).next().is_none())
        .map(|r| format!("no passed {} verification", r.kind.as_str()))
        .collect();
    out.push(check(CHECK_NAMES[1], !required.is_empty(), missing));

    let with_age: Vec<_> = required
        .iter()
        .filter(|r| r.max_age_days.is_some())
        .collect();
    let stale = with_age
        .iter()
        .filter_map(|r| {
            let max_days = i64::from(r.max_age_days.unwrap_or(0));
            let newest = passed_of(r.kind).map(|v| v.completed_at).max();
            match newest {
                None => Some(format!("no passed {} verification to date", r.kind.as_str())),
                Some(done) => {
                    let age_days = (now.millis() - done.millis()).div_euclid(86_400_000);
                    (age_days > max_days).then(|| {
                        format!(
                            "{} verification completed {age_days} days ago (at most {max_days} allowed)",
                            r.kind.as_str()
                        )
                    })
                }
            }
        })
        .collect();
    out.push(check(CHECK_NAMES[2], !with_age.is_empty(), stale));

    // An identity document must be valid when the destination has requirements at all and the
    // copy says when its document expires; without a template nothing is required.
    let expiration = template.and(value_of("expiration-date", fields, verifications));
    let failures = match expiration.as_deref().map(|s| (s, parse_date(s))) {
        None => vec![],
        Some((s, None)) => vec![format!("expiration-date {s} is not a date")],
        Some((s, Some(d))) if d < today => vec![format!("the document expired on {s}")],
        Some(_) => vec![],
    };
    out.push(check(CHECK_NAMES[3], expiration.is_some(), failures));

    let minimum_age = template.and_then(|t| t.minimum_age);
    let failures = match minimum_age {
        None => vec![],
        Some(min) => match value_of("birthdate", fields, verifications)
            .as_deref()
            .and_then(parse_date)
        {
            None => vec![String::from("missing field birthdate")],
            Some(b) if age_on(b, today) < i32::try_from(min).unwrap_or(i32::MAX) => {
                vec![format!("younger than {min}")]
            }
            Some(_) => vec![],
        },
    };
    out.push(check(CHECK_NAMES[4], minimum_age.is_some(), failures));

    let allowed = template.and_then(|t| t.allowed_countries.as_ref());
    let failures = match allowed {
        None => vec![],
        Some(list) => {
            let country = value_of("address-country-code", fields, verifications)
                .or_else(|| value_of("issuing-country", fields, verifications));
            match country {
                None => vec![String::from("missing field address-country-code")],
                Some(c) if !list.iter().any(|a| a.eq_ignore_ascii_case(&c)) => {
                    vec![format!("country {c} is not allowed")]
                }
                Some(_) => vec![],
            }
        }
    };
    out.push(check(CHECK_NAMES[5], allowed.is_some(), failures));
    out
}

/// Whether a verification made of these checks passes: every check passed or did not apply.
pub fn all_pass(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.status != CheckStatus::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{FieldType, FieldValue};
    use crate::id::{InquiryId, TemplateId, VerificationId};
    use crate::template::RequiredVerification;
    use crate::verification::VerificationKind;
    use serde_json::json;

    const DAY: i64 = 86_400_000;
    // 2026-11-28T00:00:00Z
    const NOW: i64 = 1_795_824_000_000;

    fn template() -> Template {
        Template {
            id: TemplateId::generate(),
            name: "t".into(),
            required_fields: vec!["name-first".into(), "birthdate".into()],
            required_verifications: vec![RequiredVerification {
                kind: VerificationKind::GovernmentId,
                max_age_days: Some(365),
            }],
            minimum_age: Some(18),
            allowed_countries: Some(vec!["US".into()]),
            on_source_redaction: Default::default(),
            created_at: Timestamp::from_millis(0),
        }
    }

    fn field(kind: FieldType, v: &str) -> FieldValue {
        FieldValue {
            kind,
            value: json!(v),
        }
    }

    fn gov_id(days_ago: i64) -> Verification {
        Verification {
            id: VerificationId::generate(),
            inquiry_id: InquiryId::generate(),
            kind: VerificationKind::GovernmentId,
            status: VerificationStatus::Passed,
            checks: vec![],
            attributes: Map::new(),
            completed_at: Timestamp::from_millis(NOW - days_ago * DAY),
            created_at: Timestamp::from_millis(NOW),
        }
    }

    fn good_fields() -> Fields {
        let mut f = Fields::new();
        f.insert("name-first".into(), field(FieldType::String, "Jane"));
        f.insert("birthdate".into(), field(FieldType::Date, "1990-04-01"));
        f.insert(
            "address-country-code".into(),
            field(FieldType::String, "US"),
        );
        f.insert(
            "expiration-date".into(),
            field(FieldType::Date, "2030-01-01"),
        );
        f
    }

    fn status(checks: &[Check], name: &str) -> CheckStatus {
        checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.status)
            .unwrap_or(CheckStatus::NotApplicable)
    }

    #[test]
    fn a_complete_fresh_copy_passes() {
        let checks = evaluate(
            Some(&template()),
            &good_fields(),
            &[gov_id(10)],
            Timestamp::from_millis(NOW),
        );
        assert_eq!(checks.len(), 6);
        assert!(
            checks.iter().all(|c| c.status == CheckStatus::Passed),
            "{checks:?}"
        );
        assert!(all_pass(&checks));
    }

    #[test]
    fn each_requirement_fails_with_a_reason() {
        let now = Timestamp::from_millis(NOW);
        let mut f = good_fields();
        f.remove("name-first");
        f.insert("birthdate".into(), field(FieldType::Date, "2015-01-01"));
        f.insert(
            "address-country-code".into(),
            field(FieldType::String, "FR"),
        );
        f.insert(
            "expiration-date".into(),
            field(FieldType::Date, "2020-01-01"),
        );
        let checks = evaluate(Some(&template()), &f, &[gov_id(400)], now);
        for name in [
            "required_fields_present",
            "verification_freshness",
            "document_not_expired",
            "minimum_age",
            "country_allowed",
        ] {
            assert_eq!(status(&checks, name), CheckStatus::Failed, "{name}");
        }
        assert_eq!(
            status(&checks, "required_verifications_passed"),
            CheckStatus::Passed
        );
        let reasons = checks
            .iter()
            .flat_map(|c| c.reasons.clone())
            .collect::<Vec<_>>()
            .join("; ");
        assert!(reasons.contains("missing field name-first"), "{reasons}");
        assert!(reasons.contains("400 days ago"), "{reasons}");
        assert!(!all_pass(&checks));
        let none = evaluate(Some(&template()), &f, &[], now);
        assert_eq!(
            status(&none, "required_verifications_passed"),
            CheckStatus::Failed
        );
    }

    #[test]
    fn freshness_is_measured_against_now() {
        let t = template();
        let v = gov_id(0);
        let at = |days| Timestamp::from_millis(NOW + days * DAY);
        assert_eq!(
            status(
                &evaluate(Some(&t), &good_fields(), std::slice::from_ref(&v), at(365)),
                "verification_freshness"
            ),
            CheckStatus::Passed
        );
        assert_eq!(
            status(
                &evaluate(Some(&t), &good_fields(), &[v], at(366)),
                "verification_freshness"
            ),
            CheckStatus::Failed
        );
    }

    #[test]
    fn without_a_template_nothing_applies() {
        let mut f = Fields::new();
        f.insert("name-first".into(), field(FieldType::String, "J"));
        f.insert(
            "expiration-date".into(),
            field(FieldType::Date, "2020-01-01"),
        );
        let checks = evaluate(None, &f, &[gov_id(4000)], Timestamp::from_millis(NOW));
        assert!(
            checks.iter().all(|c| c.status == CheckStatus::NotApplicable
                && c.requirement == Requirement::NotRequired)
        );
        assert!(all_pass(&checks));
    }

    #[test]
    fn ages_count_whole_years() {
        let d = |s| parse_date(s).unwrap_or_default();
        assert_eq!(age_on(d("2008-11-28"), d("2026-11-28")), 18);
        assert_eq!(age_on(d("2008-11-29"), d("2026-11-28")), 17);
    }
}
