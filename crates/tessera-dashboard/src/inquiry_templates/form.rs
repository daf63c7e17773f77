//! The template form: what was typed, read into the parts of a template (whose values the
//! template parser checks), and a refusal placed on the input it is about.

use axum::http::StatusCode;
use tessera_core::Error;
use tessera_core::error::Source;
use tessera_core::source_status::OnSourceRedaction;
use tessera_core::template::{
    RequiredVerification, Template as InquiryTemplate, TemplatePatch, TemplateSpec,
};
use tessera_core::verification::VerificationKind;

use crate::form::Fields;
use crate::page::form_error;
use crate::page::{PageError, sentence};

/// The kinds a template may require: every kind but `share-token` (made by redemption).
pub(super) fn kinds() -> impl Iterator<Item = VerificationKind> {
    VerificationKind::ALL
        .into_iter()
        .filter(|k| *k != VerificationKind::ShareToken)
}

/// One verification kind on the form: required or not, and its maximum age as typed.
pub struct KindInput {
    pub kind: &'static str,
    pub required: bool,
    pub max_age_days: String,
    /// The names of its two inputs.
    pub require_name: String,
    pub max_age_name: String,
}

impl KindInput {
    fn new(kind: VerificationKind, required: bool, max_age_days: String) -> Self {
        Self {
            kind: kind.as_str(),
            required,
            max_age_days,
            require_name: format!("require_{}", kind.as_str()),
            max_age_name: format!("max_age_{}", kind.as_str()),
        }
    }
}

/// The form as typed (or as the template is, on an edit form not yet sent).
#[derive(Default)]
pub struct Typed {
    pub name: String,
    pub required_fields: String,
    pub kinds: Vec<KindInput>,
    pub minimum_age: String,
    pub allowed_countries: String,
    /// `keep` or `redact` (empty reads as `keep`).
    pub on_source_redaction: String,
}

impl Typed {
    pub(super) fn sent(form: &Fields) -> Self {
        Self {
            name: form.text("name"),
            required_fields: form.text("required_fields"),
            kinds: kinds()
                .map(|k| {
                    let blank = KindInput::new(k, false, String::new());
                    let required = form.get(&blank.require_name).is_some();
                    KindInput::new(k, required, form.text(&blank.max_age_name))
                })
                .collect(),
            minimum_age: form.text("minimum_age"),
            allowed_countries: form.text("allowed_countries"),
            on_source_redaction: form.text("on_source_redaction"),
        }
    }

    /// A template's definition on the form. A kind required twice (possible through the API)
    /// shows once, with the strictest age: the checks hold the same.
    pub(super) fn of(t: &InquiryTemplate) -> Self {
        let kinds = kinds()
            .map(|k| {
                let of_kind: Vec<_> = t
                    .required_verifications
                    .iter()
                    .filter(|r| r.kind == k)
                    .collect();
                let max_age_days = of_kind.iter().filter_map(|r| r.max_age_days).min();
                KindInput::new(
                    k,
                    !of_kind.is_empty(),
                    max_age_days.map(|d| d.to_string()).unwrap_or_default(),
                )
            })
            .collect();
        Self {
            name: t.name.clone(),
            required_fields: t.required_fields.join(", "),
            kinds,
            minimum_age: t.minimum_age.map(|a| a.to_string()).unwrap_or_default(),
            allowed_countries: t
                .allowed_countries
                .as_ref()
                .map(|c| c.join(", "))
                .unwrap_or_default(),
            on_source_redaction: t.on_source_redaction.as_str().to_owned(),
        }
    }

    /// The parts of a template, read from the form; the parser checks their values.
    pub(super) fn read(&self) -> Result<Parts, Refusal> {
        let list = |s: &str, separators: &[char]| -> Vec<String> {
            s.split(separators)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let mut required_verifications = Vec::new();
        for k in &self.kinds {
            let max_age_days = match k.max_age_days.as_str() {
                "" => None,
                typed => Some(typed.parse::<u32>().map_err(|_| {
                    Refusal::at(
                        &k.max_age_name,
                        format!(
                            "The maximum age of a {} verification is a whole number of days.",
                            k.kind
                        ),
                    )
                })?),
            };
            if !k.required {
                if max_age_days.is_some() {
                    return Err(Refusal::at(
                        &k.max_age_name,
                        format!("Tick {} to require it, or clear its maximum age.", k.kind),
                    ));
                }
                continue;
            }
            if let Some(kind) = VerificationKind::parse(k.kind) {
                required_verifications.push(RequiredVerification { kind, max_age_days });
            }
        }
        let minimum_age = match self.minimum_age.as_str() {
            "" => None,
            typed => Some(typed.parse::<u32>().map_err(|_| {
                Refusal::at(
                    "minimum_age",
                    "The minimum age is a whole number of years (or empty: no age limit).",
                )
            })?),
        };
        let countries = list(&self.allowed_countries, &[',', ' ', '\n', '\r', '\t']);
        let on_source_redaction = match self.on_source_redaction.as_str() {
            "" => OnSourceRedaction::Keep,
            typed => OnSourceRedaction::parse(typed, "on-source-redaction").map_err(|_| {
                Refusal::at(
                    "on_source_redaction",
                    "When the source redacts, the copy is kept or redacted.",
                )
            })?,
        };
        Ok(Parts {
            name: self.name.clone(),
            required_fields: list(&self.required_fields, &[',', '\n', '\r']),
            required_verifications,
            minimum_age,
            allowed_countries: (!countries.is_empty()).then_some(countries),
            on_source_redaction,
        })
    }
}

/// A template's parts as the form gives them (every part: an edit replaces the whole
/// definition). Empty minimum age and countries mean no limit.
pub(super) struct Parts {
    pub name: String,
    pub required_fields: Vec<String>,
    pub required_verifications: Vec<RequiredVerification>,
    pub minimum_age: Option<u32>,
    pub allowed_countries: Option<Vec<String>>,
    pub on_source_redaction: OnSourceRedaction,
}

impl Parts {
    /// A new template's definition, checked.
    pub(super) fn spec(self) -> Result<TemplateSpec, Error> {
        TemplateSpec::parse(
            self.name,
            self.required_fields,
            self.required_verifications,
            self.minimum_age,
            self.allowed_countries,
        )
        .map(|spec| spec.on_source_redaction(self.on_source_redaction))
    }

    /// The change that replaces every part (checked by the store's unit of work).
    pub(super) fn patch(self) -> TemplatePatch {
        TemplatePatch {
            on_source_redaction: Some(self.on_source_redaction),
            ..TemplatePatch::replacing(
                self.name,
                self.required_fields,
                self.required_verifications,
                self.minimum_age,
                self.allowed_countries,
            )
        }
    }
}

/// Why a form was refused: the message and the input it is about.
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
    pub field: String,
}

impl Refusal {
    fn at(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: message.into(),
            field: field.into(),
        }
    }

    /// The parser's (or the store's) error, on the input its attribute path names
    /// (`required` are the verifications as read, which its indexes count).
    pub(super) fn of(e: Error, required: &[RequiredVerification]) -> Result<Self, PageError> {
        if e.status == tessera_core::Status::NotFound {
            return Err(PageError::not_found());
        }
        let path = match &e.location {
            Some(Source::Attribute(p)) => p.clone(),
            _ => String::new(),
        };
        let mut parts = path.split('/');
        let (field, about) = match parts.next().unwrap_or("") {
            "name" => (String::from("name"), None),
            "required-fields" => (String::from("required_fields"), None),
            "minimum-age" => (String::from("minimum_age"), None),
            "allowed-countries" => (String::from("allowed_countries"), None),
            "required-verifications" => {
                let kind = parts
                    .next()
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| required.get(i))
                    .map(|r| r.kind.as_str());
                let input = if path.ends_with("max-age-days") {
                    "max_age"
                } else {
                    "require"
                };
                (
                    kind.map_or_else(String::new, |k| format!("{input}_{k}")),
                    kind,
                )
            }
            _ => (String::new(), None),
        };
        let detail = e.detail.clone();
        let (status, message) = form_error(e)?;
        let message = match about {
            Some(kind) => sentence(&format!("{kind}: {detail}")),
            None => message,
        };
        Ok(Self {
            status,
            message,
            field,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(pairs: &[(&str, &str)]) -> Typed {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Typed::sent(&Fields::parse(body.as_bytes()))
    }

    #[test]
    fn a_form_is_read_into_the_parts_of_a_template() {
        let parts = sent(&[
            ("name", " Bank "),
            ("required_fields", "name-first,\nbirthdate, "),
            ("require_government-id", "on"),
            ("max_age_government-id", "365"),
            ("require_selfie", "on"),
            ("minimum_age", "18"),
            ("allowed_countries", "de, FR nl"),
        ])
        .read()
        .unwrap_or_else(|r| panic!("{}", r.message));
        assert_eq!(parts.required_fields, ["name-first", "birthdate"]);
        let kinds: Vec<_> = parts
            .required_verifications
            .iter()
            .map(|r| (r.kind.as_str(), r.max_age_days))
            .collect();
        assert_eq!(kinds, [("government-id", Some(365)), ("selfie", None)]);
        assert_eq!(parts.minimum_age, Some(18));
        assert_eq!(parts.on_source_redaction, OnSourceRedaction::Keep);
        let spec = parts.spec().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(spec.name, "Bank");
        assert_eq!(
            spec.allowed_countries,
            Some(vec!["DE".into(), "FR".into(), "NL".into()])
        );
        let none = sent(&[("name", "x")]).read().unwrap_or_else(|_| panic!());
        assert_eq!((none.minimum_age, none.allowed_countries), (None, None));
    }

    #[test]
    fn refusals_name_the_input() {
        let field = |pairs: &[(&str, &str)]| match sent(pairs).read() {
            Err(r) => r.field,
            Ok(parts) => {
                let required = parts.required_verifications.clone();
                match parts.spec() {
                    Err(e) => Refusal::of(e, &required)
                        .map(|r| r.field)
                        .unwrap_or_default(),
                    Ok(_) => String::from("accepted"),
                }
            }
        };
        assert_eq!(
            field(&[("name", "x"), ("minimum_age", "adult")]),
            "minimum_age"
        );
        assert_eq!(
            field(&[("name", "x"), ("minimum_age", "151")]),
            "minimum_age"
        );
        assert_eq!(
            field(&[("name", "x"), ("max_age_selfie", "30")]),
            "max_age_selfie"
        );
        assert_eq!(
            field(&[
                ("name", "x"),
                ("require_document", "on"),
                ("require_selfie", "on"),
                ("max_age_selfie", "0")
            ]),
            "max_age_selfie"
        );
        assert_eq!(field(&[("name", " ")]), "name");
        assert_eq!(
            field(&[("name", "x"), ("on_source_redaction", "erase")]),
            "on_source_redaction"
        );
        assert_eq!(
            field(&[("name", "x"), ("on_source_redaction", "redact")]),
            "accepted"
        );
        assert_eq!(
            field(&[("name", "x"), ("allowed_countries", "DEU")]),
            "allowed_countries"
        );
    }
}
