//! Reading one JSON object of a workflow definition member by member, with the contract's error
//! vocabulary: a wrong JSON type or an unknown member is 400, a missing one 422, and every error
//! points at the member.

use serde_json::{Map, Value};

use crate::error::{Error, codes};
use crate::fields::escape_pointer;

/// The members of one object of a definition, and where it sits in the request.
pub(crate) struct Members<'a> {
    map: &'a Map<String, Value>,
    pointer: String,
}

/// 400 `invalid_type` at `pointer`.
pub(crate) fn wrong_type(pointer: &str, what: &str) -> Error {
    Error::bad_request(codes::INVALID_TYPE, format!("expected {what}")).at(pointer)
}

impl<'a> Members<'a> {
    /// The object at `pointer`, or 400 if `value` is not one.
    pub(crate) fn of(value: &'a Value, pointer: &str) -> Result<Self, Error> {
        match value {
            Value::Object(map) => Ok(Self {
                map,
                pointer: pointer.to_owned(),
            }),
            _ => Err(wrong_type(pointer, "an object")),
        }
    }

    /// The pointer of a member.
    pub(crate) fn at(&self, name: &str) -> String {
        format!("{}/{}", self.pointer, escape_pointer(name))
    }

    /// Refuses members other than `allowed` (400 `unknown_attribute`, like every request body).
    pub(crate) fn deny_unknown(&self, allowed: &[&str]) -> Result<(), Error> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            None => Ok(()),
            Some(k) => Err(Error::bad_request(
                codes::UNKNOWN_ATTRIBUTE,
                format!("unknown attribute {k}"),
            )
            .at(self.at(k))),
        }
    }

    /// A member, `None` when absent or null.
    pub(crate) fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// 422 `missing_attribute` for a member.
    pub(crate) fn missing(&self, name: &str) -> Error {
        Error::invalid(codes::MISSING_ATTRIBUTE, format!("{name} is required")).at(self.at(name))
    }

    pub(crate) fn string(&self, name: &str) -> Result<Option<&'a str>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(wrong_type(&self.at(name), "a string")),
        }
    }

    pub(crate) fn required_string(&self, name: &str) -> Result<&'a str, Error> {
        self.string(name)?.ok_or_else(|| self.missing(name))
    }

    pub(crate) fn integer(&self, name: &str) -> Result<Option<i64>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| wrong_type(&self.at(name), "an integer")),
        }
    }

    pub(crate) fn array(&self, name: &str) -> Result<Option<&'a Vec<Value>>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(wrong_type(&self.at(name), "an array")),
        }
    }
}
