//! Typed access to the fields of a definition's JSON objects, and the errors that name the
//! state (qualified for nested machines: `Fan/branch0/Step`) and the field
//! (`Retry[0].MaxAttempts`) when one is missing or malformed.

use crate::model::PathField;
use crate::path::JsonPath;
use serde_json::{Map, Value};

/// Why a definition does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{}: must be a JSON object", place(.state))]
    NotAnObject { state: String },
    #[error("{}: {field} is missing", place(.state))]
    Missing { state: String, field: String },
    #[error("{}: {field} must be {expected}", place(.state))]
    WrongType { state: String, field: String, expected: &'static str },
    #[error("{}: unknown state type {ty:?}", place(.state))]
    UnknownType { state: String, ty: String },
    #[error("{}: needs exactly one of Next or End", place(.state))]
    Transition { state: String },
    #[error("{}: {ty} cannot have {field}", place(.state))]
    NotAllowed { state: String, ty: &'static str, field: String },
    #[error("{}: {field}: {reason}", place(.state))]
    BadPath { state: String, field: String, reason: String },
    #[error("{}: {field}: {reason}", place(.state))]
    Invalid { state: String, field: String, reason: String },
}

/// Machine-level errors have an empty state (the root) or the nested machine's path.
fn place(state: &str) -> &str {
    if state.is_empty() { "definition" } else { state }
}

impl ParseError {
    /// The state the error is in (`""` for the top level of the definition).
    pub fn state(&self) -> &str {
        match self {
            ParseError::NotAnObject { state }
            | ParseError::Missing { state, .. }
            | ParseError::WrongType { state, .. }
            | ParseError::UnknownType { state, .. }
            | ParseError::Transition { state }
            | ParseError::NotAllowed { state, .. }
            | ParseError::BadPath { state, .. }
            | ParseError::Invalid { state, .. } => state,
        }
    }

    /// The field the error is about (`""` when it is the whole state).
    pub fn field(&self) -> &str {
        match self {
            ParseError::NotAnObject { .. } => "",
            ParseError::UnknownType { .. } => "Type",
            ParseError::Transition { .. } => "Next",
            ParseError::Missing { field, .. }
            | ParseError::WrongType { field, .. }
            | ParseError::NotAllowed { field, .. }
            | ParseError::BadPath { field, .. }
            | ParseError::Invalid { field, .. } => field,
        }
    }
}

/// Typed access to the fields of one JSON object in a state (the state itself, or a Retry
/// rule, a choice rule, ...), producing errors that name the state and the field.
pub(crate) struct Fields<'a> {
    pub(crate) state: &'a str,
    prefix: String,
    pub(crate) obj: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(state: &'a str, prefix: &str, obj: &'a Map<String, Value>) -> Self {
        Fields { state, prefix: prefix.to_owned(), obj }
    }

    fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    pub(crate) fn missing(&self, key: &str) -> ParseError {
        ParseError::Missing { state: self.state.to_owned(), field: self.name(key) }
    }

    pub(crate) fn wrong(&self, key: &str, expected: &'static str) -> ParseError {
        ParseError::WrongType { state: self.state.to_owned(), field: self.name(key), expected }
    }

    pub(crate) fn invalid(&self, key: &str, reason: impl Into<String>) -> ParseError {
        ParseError::Invalid { state: self.state.to_owned(), field: self.name(key), reason: reason.into() }
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.obj.contains_key(key)
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.obj.keys().map(String::as_str)
    }

    pub(crate) fn value(&self, key: &str) -> Value {
        self.obj.get(key).cloned().unwrap_or(Value::Null)
    }

    fn typed<T>(
        &self,
        key: &str,
        expected: &'static str,
        get: fn(&'a Value) -> Option<T>,
    ) -> Result<Option<T>, ParseError> {
        self.obj.get(key).map(|v| get(v).ok_or_else(|| self.wrong(key, expected))).transpose()
    }

    pub(crate) fn str(&self, key: &str) -> Result<Option<&'a str>, ParseError> {
        self.typed(key, "a string", Value::as_str)
    }

    pub(crate) fn req_str(&self, key: &str) -> Result<&'a str, ParseError> {
        self.str(key)?.ok_or_else(|| self.missing(key))
    }

    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, ParseError> {
        self.typed(key, "a boolean", Value::as_bool)
    }

    pub(crate) fn u64(&self, key: &str) -> Result<Option<u64>, ParseError> {
        self.typed(key, "a non-negative integer", Value::as_u64)
    }

    pub(crate) fn f64(&self, key: &str) -> Result<Option<f64>, ParseError> {
        self.typed(key, "a number", Value::as_f64)
    }

    pub(crate) fn array(&self, key: &str) -> Result<Option<&'a Vec<Value>>, ParseError> {
        self.typed(key, "an array", Value::as_array)
    }

    /// The object in field `key`, to read its fields in turn.
    pub(crate) fn object(&self, key: &str) -> Result<Fields<'a>, ParseError> {
        let obj = self.typed(key, "an object", Value::as_object)?.ok_or_else(|| self.missing(key))?;
        Ok(Fields { state: self.state, prefix: format!("{}{key}.", self.prefix), obj })
    }

    /// Element `i` of the array in field `key`, which must be an object.
    pub(crate) fn object_at(&self, key: &str, i: usize) -> Result<Fields<'a>, ParseError> {
        let item = format!("{key}[{i}]");
        let obj = self.obj.get(key).and_then(|a| a.get(i)).ok_or_else(|| self.missing(&item))?;
        let obj = obj.as_object().ok_or_else(|| self.wrong(&item, "an object"))?;
        Ok(Fields { state: self.state, prefix: format!("{}{item}.", self.prefix), obj })
    }

    pub(crate) fn path(&self, key: &str) -> Result<Option<JsonPath>, ParseError> {
        let bad = |reason| ParseError::BadPath { state: self.state.to_owned(), field: self.name(key), reason };
        self.str(key)?.map(|p| JsonPath::parse(p).map_err(bad)).transpose()
    }

    pub(crate) fn req_path(&self, key: &str) -> Result<JsonPath, ParseError> {
        self.path(key)?.ok_or_else(|| self.missing(key))
    }

    pub(crate) fn path_field(&self, key: &str) -> Result<PathField, ParseError> {
        match self.obj.get(key) {
            None => Ok(PathField::Default),
            Some(Value::Null) => Ok(PathField::Null),
            Some(Value::String(_)) => Ok(PathField::Path(self.req_path(key)?)),
            Some(_) => Err(self.wrong(key, "a path or null")),
        }
    }

    /// A payload template: any JSON, where every `key.$` field holds a path or intrinsic.
    pub(crate) fn template(&self, key: &str) -> Result<Option<Value>, ParseError> {
        fn dollar_fields_are_strings(v: &Value) -> Result<(), String> {
            match v {
                Value::Object(m) => m.iter().try_for_each(|(k, v)| match (k.ends_with(".$"), v) {
                    (true, Value::String(_)) | (false, _) => dollar_fields_are_strings(v),
                    (true, _) => Err(format!("{k} must be a string")),
                }),
                Value::Array(a) => a.iter().try_for_each(dollar_fields_are_strings),
                _ => Ok(()),
            }
        }
        let Some(t) = self.obj.get(key) else { return Ok(None) };
        dollar_fields_are_strings(t).map_err(|reason| self.invalid(key, reason))?;
        Ok(Some(t.clone()))
    }

    /// A required array of strings (ErrorEquals).
    pub(crate) fn strings(&self, key: &str) -> Result<Vec<String>, ParseError> {
        let list = self.array(key)?.ok_or_else(|| self.missing(key))?;
        let each = |(i, v): (usize, &Value)| {
            v.as_str().map(str::to_owned).ok_or_else(|| self.wrong(&format!("{key}[{i}]"), "a string"))
        };
        list.iter().enumerate().map(each).collect()
    }
}
