//! A workflow's trigger: an event name and conditions that must all hold, each testing a JSON
//! pointer into the event payload (`{"data": <the object>}`, kebab-case keys, as stored).
//!
//! A path that does not resolve reads as `null`: `eq null` and `ne "x"` hold for it, `exists`
//! does not.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::MAX_CONDITIONS;
use super::members::{Members, wrong_type};
use crate::error::{Error, codes};
use crate::event::names;

/// Longest condition path, and most values an `in` list may hold.
pub const MAX_PATH_LEN: usize = 1024;
pub const MAX_IN_VALUES: usize = 100;

/// What a condition tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// The value at the path equals `value`.
    Eq,
    /// It does not.
    Ne,
    /// It equals one of the items of `value` (an array).
    In,
    /// It is an array holding `value`, or a string holding the string `value`.
    Contains,
    /// It is present and not null (`value: false` inverts this).
    Exists,
}

impl Op {
    pub const ALL: [Op; 5] = [Op::Eq, Op::Ne, Op::In, Op::Contains, Op::Exists];

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::In => "in",
            Op::Contains => "contains",
            Op::Exists => "exists",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// One condition of a trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Condition {
    /// A JSON pointer into the event payload, e.g. `/data/attributes/tags`.
    pub path: String,
    pub op: Op,
    /// Compared with the value at `path` (absent for `exists`).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    #[schema(value_type = Object)]
    pub value: Value,
}

/// When a workflow runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Trigger {
    /// An event name.
    pub event: String,
    /// All must hold.
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// Whether a string is a JSON pointer (RFC 6901): empty, or `/`-separated tokens in which `~` is
/// only ever followed by `0` or `1`.
pub fn is_json_pointer(s: &str) -> bool {
    if !(s.is_empty() || s.starts_with('/')) {
        return false;
    }
    let b = s.as_bytes();
    b.iter()
        .enumerate()
        .all(|(i, &c)| c != b'~' || matches!(b.get(i + 1), Some(b'0' | b'1')))
}

fn invalid(pointer: String, detail: impl Into<String>) -> Error {
    Error::invalid(codes::INVALID_CONDITION, detail).at(pointer)
}

impl Condition {
    /// Parses the condition at `pointer`.
    pub fn parse(value: &Value, pointer: &str) -> Result<Self, Error> {
        let m = Members::of(value, pointer)?;
        m.deny_unknown(&["path", "op", "value"])?;
        let path = m.required_string("path")?;
        if path.len() > MAX_PATH_LEN || !is_json_pointer(path) {
            return Err(invalid(
                m.at("path"),
                "path must be a JSON pointer into the event payload, such as /data/attributes/status",
            ));
        }
        let op_name = m.required_string("op")?;
        let op = Op::parse(op_name).ok_or_else(|| {
            invalid(
                m.at("op"),
                format!("unknown op {op_name}; ops: eq, ne, in, contains, exists"),
            )
        })?;
        // `value: null` is a value (eq null), unlike an absent member.
        let given = value.get("value").cloned();
        let value = match (op, given) {
            (Op::Exists, None) => Value::Null,
            (Op::Exists, Some(Value::Bool(b))) => Value::Bool(b),
            (Op::Exists, Some(_)) => {
                return Err(invalid(
                    m.at("value"),
                    "exists takes no value, or true or false",
                ));
            }
            (Op::In, Some(Value::Array(items))) if items.len() <= MAX_IN_VALUES => {
                Value::Array(items)
            }
            (Op::In, Some(Value::Array(_))) => {
                return Err(invalid(
                    m.at("value"),
                    format!("in takes at most {MAX_IN_VALUES} values"),
                ));
            }
            (Op::In, Some(_)) => return Err(invalid(m.at("value"), "in needs an array of values")),
            (_, Some(v)) => v,
            (_, None) => return Err(m.missing("value")),
        };
        Ok(Self {
            path: path.to_owned(),
            op,
            value,
        })
    }

    /// Whether the condition holds for an event payload.
    pub fn holds(&self, payload: &Value) -> bool {
        let target = payload.pointer(&self.path).unwrap_or(&Value::Null);
        match self.op {
            Op::Eq => json_eq(target, &self.value),
            Op::Ne => !json_eq(target, &self.value),
            Op::In => self
                .value
                .as_array()
                .is_some_and(|items| items.iter().any(|i| json_eq(target, i))),
            Op::Contains => match (target, &self.value) {
                (Value::Array(items), v) => items.iter().any(|i| json_eq(i, v)),
                (Value::String(s), Value::String(sub)) => s.contains(sub.as_str()),
                _ => false,
            },
            Op::Exists => {
                let present = !target.is_null();
                present == self.value.as_bool().unwrap_or(true)
            }
        }
    }
}

/// JSON equality in which numbers compare by value (`1 == 1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

impl Trigger {
    /// Parses `trigger` at `pointer`: a known event name and at most [`MAX_CONDITIONS`]
    /// conditions.
    pub fn parse(value: &Value, pointer: &str) -> Result<Self, Error> {
        let m = Members::of(value, pointer)?;
        m.deny_unknown(&["event", "conditions"])?;
        let event = m.required_string("event")?;
        if !names::is_known(event) {
            return Err(Error::invalid(
                codes::UNKNOWN_EVENT,
                format!("unknown event name {event}"),
            )
            .at(m.at("event")));
        }
        let list = m.array("conditions")?.map_or(&[][..], Vec::as_slice);
        if list.len() > MAX_CONDITIONS {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                format!("a trigger has at most {MAX_CONDITIONS} conditions"),
            )
            .at(m.at("conditions")));
        }
        let base = m.at("conditions");
        let conditions = list
            .iter()
            .enumerate()
            .map(|(i, c)| Condition::parse(c, &format!("{base}/{i}")))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            event: event.to_owned(),
            conditions,
        })
    }

    /// Whether an event named `name` with this payload starts a run.
    pub fn matches(&self, name: &str, payload: &Value) -> bool {
        self.event == name && self.conditions.iter().all(|c| c.holds(payload))
    }
}

/// Refuses a definition member that is not an array (for `steps`).
pub(crate) fn expect_array<'a>(value: &'a Value, pointer: &str) -> Result<&'a Vec<Value>, Error> {
    value
        .as_array()
        .ok_or_else(|| wrong_type(pointer, "an array"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cond(c: Value) -> Condition {
        Condition::parse(&c, "/c").unwrap_or_else(|e| panic!("{c}: {e}"))
    }

    fn payload() -> Value {
        json!({"data": {"type": "inquiry", "id": "inq_1", "attributes": {
            "status": "approved", "tags": ["share", "vip"], "note": "hello world",
            "reference-id": null, "fields": {"age": {"type": "number", "value": 30}}}}})
    }

    #[test]
    fn every_op_holds_and_fails_as_documented() {
        let p = payload();
        let cases = [
            (
                json!({"path": "/data/attributes/status", "op": "eq", "value": "approved"}),
                true,
            ),
            (
                json!({"path": "/data/attributes/status", "op": "eq", "value": "declined"}),
                false,
            ),
            (
                json!({"path": "/data/attributes/fields/age/value", "op": "eq", "value": 30.0}),
                true,
            ),
            (
                json!({"path": "/data/attributes/reference-id", "op": "eq", "value": null}),
                true,
            ),
            (
                json!({"path": "/data/nope", "op": "eq", "value": null}),
                true,
            ),
            (
                json!({"path": "/data/attributes/status", "op": "ne", "value": "declined"}),
                true,
            ),
            (
                json!({"path": "/data/attributes/status", "op": "ne", "value": "approved"}),
                false,
            ),
            (
                json!({"path": "/data/attributes/status", "op": "in", "value": ["x", "approved"]}),
                true,
            ),
            (
                json!({"path": "/data/attributes/status", "op": "in", "value": ["x"]}),
                false,
            ),
            (
                json!({"path": "/data/attributes/tags", "op": "contains", "value": "share"}),
                true,
            ),
            (
                json!({"path": "/data/attributes/tags", "op": "contains", "value": "nope"}),
                false,
            ),
            (
                json!({"path": "/data/attributes/note", "op": "contains", "value": "world"}),
                true,
            ),
            (
                json!({"path": "/data/attributes/status", "op": "contains", "value": 1}),
                false,
            ),
            (
                json!({"path": "/data/attributes/note", "op": "exists"}),
                true,
            ),
            (
                json!({"path": "/data/attributes/reference-id", "op": "exists"}),
                false,
            ),
            (
                json!({"path": "/data/attributes/nope", "op": "exists"}),
                false,
            ),
            (
                json!({"path": "/data/attributes/nope", "op": "exists", "value": false}),
                true,
            ),
            (json!({"path": "", "op": "exists"}), true),
        ];
        for (c, expected) in cases {
            assert_eq!(cond(c.clone()).holds(&p), expected, "{c}");
        }
    }

    #[test]
    fn bad_conditions_point_at_their_member() {
        let cases = [
            (
                json!({"path": "data/status", "op": "eq", "value": 1}),
                "/c/path",
                422,
            ),
            (
                json!({"path": "/a~2", "op": "eq", "value": 1}),
                "/c/path",
                422,
            ),
            (
                json!({"path": "/a", "op": "like", "value": 1}),
                "/c/op",
                422,
            ),
            (
                json!({"path": "/a", "op": "in", "value": "x"}),
                "/c/value",
                422,
            ),
            (json!({"path": "/a", "op": "eq"}), "/c/value", 422),
            (
                json!({"path": "/a", "op": "exists", "value": 1}),
                "/c/value",
                422,
            ),
            (json!({"op": "eq", "value": 1}), "/c/path", 422),
            (json!({"path": 1, "op": "eq", "value": 1}), "/c/path", 400),
            (
                json!({"path": "/a", "op": "eq", "value": 1, "x": 1}),
                "/c/x",
                400,
            ),
        ];
        for (c, pointer, status) in cases {
            let e = Condition::parse(&c, "/c")
                .err()
                .unwrap_or_else(|| panic!("{c}"));
            assert_eq!(
                e.location,
                Some(crate::error::Source::Pointer(pointer.into())),
                "{c}"
            );
            assert_eq!(e.status.code(), status, "{c}");
        }
    }

    #[test]
    fn triggers_need_a_known_event_and_few_conditions() {
        let t = Trigger::parse(&json!({"event": "inquiry.approved"}), "/t").ok();
        assert!(t.is_some_and(|t| t.matches("inquiry.approved", &payload())));
        let e = Trigger::parse(&json!({"event": "inquiry.nope"}), "/t").err();
        assert!(e.is_some_and(|e| e.is(codes::UNKNOWN_EVENT)));
        let many: Vec<Value> = (0..=MAX_CONDITIONS)
            .map(|_| json!({"path": "/a", "op": "exists"}))
            .collect();
        let e = Trigger::parse(
            &json!({"event": "inquiry.approved", "conditions": many}),
            "/t",
        );
        assert!(e.is_err());
    }

    #[test]
    fn stored_conditions_round_trip() {
        let c = cond(json!({"path": "/a", "op": "eq", "value": null}));
        let back: Condition = serde_json::from_value(serde_json::to_value(&c).unwrap_or_default())
            .unwrap_or(c.clone());
        assert_eq!(back, c);
    }
}
