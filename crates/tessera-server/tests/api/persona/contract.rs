//! The validator: Persona's 2025-12-08 OpenAPI description, relaxed only by removing every
//! `additionalProperties: false` and `unevaluatedProperties: false`, registered whole as the
//! resource `urn:persona`; responses (status, headers, body) and webhook requests are checked by
//! `$ref` into it, so the description's own `$ref`s resolve.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use axum::http::HeaderMap;
use jsonschema::{Draft, Registry, Validator};
use serde_json::{Value, json};

/// The environment variable that overrides where the description is read from.
pub const OVERRIDE: &str = "TESSERA_PERSONA_OPENAPI";

/// The version of Persona's API the description is of (sent as `Persona-Version`).
pub const VERSION: &str = "2025-12-08";

/// The base URI of the registered description.
const BASE: &str = "urn:persona";

pub struct Contract {
    /// The relaxed description.
    pub doc: Value,
    registry: Registry<'static>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

/// Where the description is: `TESSERA_PERSONA_OPENAPI`, or `shared/reference/` beside the
/// repository.
pub fn location() -> PathBuf {
    match std::env::var_os(OVERRIDE) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/reference/persona-openapi-2025-12-08.json"),
    }
}

/// The description, loaded once. Panics (never skips) when it is missing or unreadable.
pub fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let path = location();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "Persona's OpenAPI description is missing at {} ({e}); the contract test needs \
                 it: put it there or point {OVERRIDE} at it",
                path.display()
            )
        });
        let mut doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        assert_eq!(
            doc["info"]["version"].as_str().unwrap_or_default(),
            VERSION,
            "{} is not Persona's {VERSION} description",
            path.display()
        );
        relax(&mut doc);
        discriminate(&mut doc);
        Contract::new(doc)
    })
}

/// Removes every `additionalProperties: false` and `unevaluatedProperties: false`, and nothing
/// else.
pub fn relax(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in ["additionalProperties", "unevaluatedProperties"] {
                if m.get(k) == Some(&Value::Bool(false)) {
                    m.remove(k);
                }
            }
            m.values_mut().for_each(relax);
        }
        Value::Array(a) => a.iter_mut().for_each(relax),
        _ => {}
    }
}

/// Honours OpenAPI's `discriminator`: a `oneOf` whose branches the discriminator maps (all
/// twenty in the description) becomes "the discriminating property is one of the mapped values,
/// and the object matches the branch its value maps to". Closed objects kept the branches of
/// such a `oneOf` apart; once they are open, a branch without a `const` (e.g. `selfie`) matches
/// every object and the plain `oneOf` fails even on Persona's own examples. As a bonus, errors
/// inside the chosen branch are reported with their paths.
pub fn discriminate(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let mapped = m.get("discriminator").and_then(|d| {
                let property = d.get("propertyName")?.as_str()?.to_owned();
                let mapping = d.get("mapping")?.as_object()?.clone();
                let branches = m.get("oneOf")?.as_array()?;
                let mut out = Vec::new();
                for b in branches {
                    let r = b.get("$ref")?.as_str()?;
                    let keys: Vec<&String> = mapping
                        .iter()
                        .filter(|(_, target)| target.as_str() == Some(r))
                        .map(|(k, _)| k)
                        .collect();
                    if keys.is_empty() {
                        return None;
                    }
                    out.push(json!({
                        "if": {"required": [property], "properties": {&property: {"enum": keys}}},
                        "then": {"$ref": r}
                    }));
                }
                let all: Vec<&String> = mapping.keys().collect();
                out.insert(
                    0,
                    json!({"required": [property], "properties": {&property: {"enum": all}}}),
                );
                Some(out)
            });
            if let Some(branches) = mapped {
                m.remove("oneOf");
                match m.get_mut("allOf").and_then(Value::as_array_mut) {
                    Some(all) => all.extend(branches),
                    None => {
                        m.insert("allOf".into(), Value::Array(branches));
                    }
                }
            }
            m.values_mut().for_each(discriminate);
        }
        Value::Array(a) => a.iter_mut().for_each(discriminate),
        _ => {}
    }
}

/// One JSON pointer token, escaped.
pub fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer as a URI fragment (percent-encoding what a fragment may not hold).
fn fragment(pointer: &str) -> String {
    let mut out = String::new();
    for c in pointer.chars() {
        match c {
            'A'..='Z'
            | 'a'..='z'
            | '0'..='9'
            | '-'
            | '.'
            | '_'
            | '~'
            | '/'
            | '!'
            | '$'
            | '&'
            | '\''
            | '('
            | ')'
            | '*'
            | '+'
            | ','
            | ';'
            | '='
            | ':'
            | '@' => out.push(c),
            c => {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

/// The headers whose values Persona documents a prefix for.
fn prefix_of(header: &str) -> Option<&'static str> {
    match header.to_ascii_lowercase().as_str() {
        "request-id" => Some("req_"),
        "persona-environment-id" => Some("env_"),
        "persona-organization-id" => Some("org_"),
        _ => None,
    }
}

impl Contract {
    fn new(doc: Value) -> Self {
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(BASE, Draft::Draft202012.create_resource(doc.clone()))
            .and_then(|b| b.prepare())
            .unwrap_or_else(|e| panic!("cannot register Persona's description: {e}"));
        Self {
            doc,
            registry,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The value at a JSON pointer of the description.
    pub fn at(&self, pointer: &str) -> Option<&Value> {
        self.doc.pointer(pointer)
    }

    /// Follows `$ref`s (internal ones) from the value at `pointer`; returns the final pointer
    /// and value.
    pub fn resolve(&self, pointer: &str) -> Option<(String, &Value)> {
        let mut p = pointer.to_owned();
        for _ in 0..16 {
            let v = self.at(&p)?;
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) => p = r.strip_prefix('#')?.to_owned(),
                None => return Some((p, v)),
            }
        }
        None
    }

    /// The validator of the schema at `pointer` (cached).
    fn validator(&self, pointer: &str) -> Result<Arc<Validator>, String> {
        if let Some(v) = self.validators.lock().unwrap().get(pointer) {
            return Ok(v.clone());
        }
        let schema = json!({"$ref": format!("{BASE}#{}", fragment(pointer))});
        let v = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .offline()
            .build(&schema)
            .map_err(|e| format!("cannot compile the schema at {pointer}: {e}"))?;
        let v = Arc::new(v);
        self.validators
            .lock()
            .unwrap()
            .insert(pointer.to_owned(), v.clone());
        Ok(v)
    }

    /// Every error of `instance` against the schema at `pointer`, each with its instance path.
    pub fn validate(&self, pointer: &str, instance: &Value) -> Vec<String> {
        let v = match self.validator(pointer) {
            Ok(v) => v,
            Err(e) => return vec![e],
        };
        v.iter_errors(instance)
            .map(|e| {
                let path = e.instance_path().as_str().to_owned();
                let path = if path.is_empty() { "/".into() } else { path };
                format!(
                    "{path}: {} (schema {})",
                    shorten(&e.to_string(), 300),
                    shorten(e.schema_path().as_str(), 160)
                )
            })
            .collect()
    }

    /// The operation's path template for a Tessera path under `/api/v1` (query removed): the
    /// Persona path whose segments match, literal segments preferred over parameters.
    pub fn template_for(&self, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap_or_default();
        let path = path.strip_prefix("/api/v1").unwrap_or(path);
        let segs: Vec<&str> = path.split('/').collect();
        let paths = self.doc["paths"].as_object()?;
        paths
            .keys()
            .filter_map(|t| {
                let ts: Vec<&str> = t.split('/').collect();
                if ts.len() != segs.len() {
                    return None;
                }
                let mut literals = 0;
                for (a, b) in ts.iter().zip(&segs) {
                    if a.starts_with('{') && a.ends_with('}') {
                        if b.is_empty() {
                            return None;
                        }
                    } else if a == b {
                        literals += 1;
                    } else {
                        return None;
                    }
                }
                Some((literals, t))
            })
            .max_by_key(|(l, _)| *l)
            .map(|(_, t)| t.clone())
    }

    /// Checks a response of `METHOD template` against the description: the status is one the
    /// operation documents, each header it lists is there with its type, and the body matches
    /// the response's schema. Returns every problem.
    pub fn check_response(
        &self,
        method: &str,
        template: &str,
        status: u16,
        headers: &HeaderMap,
        bytes: &[u8],
    ) -> Vec<String> {
        let op = format!("/paths/{}/{}", token(template), method.to_ascii_lowercase());
        let Some(responses) = self.at(&format!("{op}/responses")) else {
            return vec![format!(
                "Persona documents no operation {} {template}",
                method.to_ascii_uppercase()
            )];
        };
        let key = status.to_string();
        if responses.get(&key).is_none() {
            let documented: Vec<&String> = responses
                .as_object()
                .map(|m| m.keys().collect())
                .unwrap_or_default();
            return vec![format!(
                "status {status} is not documented (documented: {documented:?})"
            )];
        }
        let Some((pointer, response)) = self.resolve(&format!("{op}/responses/{key}")) else {
            return vec![format!("cannot resolve the {status} response")];
        };
        let mut problems = self.check_headers(response.get("headers"), &pointer, headers);
        if response
            .pointer("/content/application~1json/schema")
            .is_some()
        {
            let ct = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !ct.starts_with("application/json") {
                problems.push(format!(
                    "content-type {ct:?} where Persona documents application/json"
                ));
            }
            match serde_json::from_slice::<Value>(bytes) {
                Ok(body) => problems.extend(self.validate(
                    &format!("{pointer}/content/application~1json/schema"),
                    &body,
                )),
                Err(e) => problems.push(format!("the body is not JSON: {e}")),
            }
        }
        problems
    }

    /// Each header listed (a map of name → header object or `$ref`) must be present and parse
    /// as its schema's type (and carry its documented prefix).
    fn check_headers(&self, listed: Option<&Value>, at: &str, headers: &HeaderMap) -> Vec<String> {
        let mut problems = Vec::new();
        let Some(listed) = listed.and_then(Value::as_object) else {
            return problems;
        };
        for name in listed.keys() {
            let Some((_, h)) = self.resolve(&format!("{at}/headers/{}", token(name))) else {
                problems.push(format!("cannot resolve header {name}"));
                continue;
            };
            let ty = self
                .resolve_schema(&h["schema"])
                .and_then(|s| s.get("type").and_then(Value::as_str).map(str::to_owned));
            problems.extend(header_problem(name, ty.as_deref(), headers));
        }
        problems
    }

    fn resolve_schema<'a>(&'a self, schema: &'a Value) -> Option<&'a Value> {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => self.resolve(r.strip_prefix('#')?).map(|(_, v)| v),
            None => Some(schema),
        }
    }

    /// Checks a request body sent to `METHOD template` against the operation's request schema
    /// (used on the scenarios' own requests, so that they are what a Persona client sends).
    pub fn check_request(&self, method: &str, template: &str, body: &Value) -> Vec<String> {
        let op = format!("/paths/{}/{}", token(template), method.to_ascii_lowercase());
        // An operation that documents no body takes any (a generic client may send one).
        let Some((pointer, rb)) = self.resolve(&format!("{op}/requestBody")) else {
            return Vec::new();
        };
        if rb.pointer("/content/application~1json/schema").is_none() {
            return vec![format!("no JSON request schema for {method} {template}")];
        }
        self.validate(&format!("{pointer}/content/application~1json/schema"), body)
    }

    /// Checks a webhook request a receiver got: the event must be one of Persona's top-level
    /// `webhooks`; its documented headers must be present with their types and the body must
    /// match `webhooks.<event>.post.requestBody`. `None` when Persona documents no such event.
    pub fn check_webhook(&self, headers: &HeaderMap, body: &[u8]) -> (String, Option<Vec<String>>) {
        let json: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return (String::new(), Some(vec![format!("body is not JSON: {e}")])),
        };
        let name = json["data"]["attributes"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let op = format!("/webhooks/{}/post", token(&name));
        let Some(hook) = self.at(&op) else {
            return (name, None);
        };
        let mut problems = Vec::new();
        let parameters = hook["parameters"].as_array().map_or(0, Vec::len);
        for i in 0..parameters {
            let Some((_, p)) = self.resolve(&format!("{op}/parameters/{i}")) else {
                problems.push(format!("cannot resolve parameter {i}"));
                continue;
            };
            if p["in"] != "header" {
                continue;
            }
            let header = p["name"].as_str().unwrap_or_default();
            let ty = self
                .resolve_schema(&p["schema"])
                .and_then(|s| s.get("type").and_then(Value::as_str).map(str::to_owned));
            problems.extend(header_problem(header, ty.as_deref(), headers));
        }
        problems.extend(self.validate(
            &format!("{op}/requestBody/content/application~1json/schema"),
            &json,
        ));
        (name, Some(problems))
    }
}

/// Whether a header is present, of its type and prefix.
fn header_problem(name: &str, ty: Option<&str>, headers: &HeaderMap) -> Option<String> {
    let Some(value) = headers.get(name) else {
        return Some(format!("header {name} is missing"));
    };
    let Ok(value) = value.to_str() else {
        return Some(format!("header {name} is not text"));
    };
    let typed = match ty {
        Some("integer") => value.trim().parse::<i64>().is_ok(),
        Some("number") => value.trim().parse::<f64>().is_ok(),
        Some("boolean") => matches!(value.trim(), "true" | "false"),
        _ => true,
    };
    if !typed {
        return Some(format!(
            "header {name}: {value:?} is not of type {}",
            ty.unwrap_or_default()
        ));
    }
    match prefix_of(name) {
        Some(p) if !value.starts_with(p) => {
            Some(format!("header {name}: {value:?} does not start with {p}"))
        }
        _ => None,
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}
