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
    /// A field of the language the local executor does not implement: refused when the
    /// definition is loaded, rather than ignored or failing in the middle of a run.
    #[error("{}: {field} is not supported by the local executor: {reason}", place(.state))]
    Unsupported { state: String, field: String, reason: String },
}

/// Fields of the language the executor does not implement, and why.
const UNSUPPORTED: [(&str, &str); 21] = [
    ("HeartbeatSeconds", "task heartbeats (activities, callbacks) do not exist locally"),
    ("HeartbeatSecondsPath", "task heartbeats (activities, callbacks) do not exist locally"),
    ("TimeoutSecondsPath", "timeouts come from the definition only (use TimeoutSeconds)"),
    ("Credentials", "tasks run with the local runner's credentials"),
    ("Assign", "variables are not implemented"),
    ("Arguments", "JSONata is not implemented"),
    ("Output", "JSONata is not implemented"),
    ("Items", "JSONata is not implemented"),
    ("Condition", "JSONata is not implemented"),
    ("QueryLanguage", "JSONata is not implemented; states use JSONPath"),
    ("ItemReader", "distributed Map is not implemented"),
    ("ItemBatcher", "distributed Map is not implemented"),
    ("ResultWriter", "distributed Map is not implemented"),
    ("ToleratedFailurePercentage", "distributed Map is not implemented"),
    ("ToleratedFailurePercentagePath", "distributed Map is not implemented"),
    ("ToleratedFailureCount", "distributed Map is not implemented"),
    ("ToleratedFailureCountPath", "distributed Map is not implemented"),
    ("Label", "distributed Map is not implemented"),
    ("MaxConcurrencyPath", "Map concurrency comes from the definition only"),
    ("ErrorPath", "a Fail state's Error is written as is"),
    ("CausePath", "a Fail state's Cause is written as is"),
];

/// Machine-level errors have an empty state (the root) or the nested machine's path.
fn place(state: &str) -> &str {
    if state.is_empty() { "definition" } else { state }
}

/// Why the executor refuses a field of the language (`None`: not one it knows to refuse).
pub(crate) fn unsupported_reason(field: &str) -> Option<&'static str> {
    UNSUPPORTED.iter().find(|(f, _)| *f == field).map(|(_, reason)| *reason)
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
            | ParseError::Invalid { state, .. }
            | ParseError::Unsupported { state, .. } => state,
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
            | ParseError::Invalid { field, .. }
            | ParseError::Unsupported { field, .. } => field,
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

    pub(crate) fn unsupported(&self, key: &str, reason: impl Into<String>) -> ParseError {
        ParseError::Unsupported { state: self.state.to_owned(), field: self.name(key), reason: reason.into() }
    }

    /// Refuses any field not in `allowed`: one the executor does not implement, or one that
    /// `ty` (`Wait`, `a retrier`, ...) cannot have.
    pub(crate) fn only(&self, ty: &'static str, allowed: &[&str]) -> Result<(), ParseError> {
        let Some(key) = self.keys().find(|k| !allowed.contains(k)) else { return Ok(()) };
        match unsupported_reason(key) {
            Some(reason) => Err(self.unsupported(key, reason)),
            None => Err(ParseError::NotAllowed { state: self.state.to_owned(), ty, field: self.name(key) }),
        }
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

    /// A whole number of seconds or attempts, at least 1.
    pub(crate) fn positive(&self, key: &str) -> Result<Option<u64>, ParseError> {
        match self.u64(key) {
            Ok(Some(0)) | Err(_) => Err(self.wrong(key, "a positive integer")),
            other => other,
        }
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

    /// A path; into the context object (`$$`) only where the executor provides it.
    pub(crate) fn path(&self, key: &str) -> Result<Option<JsonPath>, ParseError> {
        let bad = |reason| ParseError::BadPath { state: self.state.to_owned(), field: self.name(key), reason };
        let parse = |p| JsonPath::parse(p).and_then(|p| p.check_context(false).map(|()| p)).map_err(bad);
        self.str(key)?.map(parse).transpose()
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

    /// A ResultPath: a path field whose path writes into the input by keys.
    pub(crate) fn result_path(&self, key: &str) -> Result<PathField, ParseError> {
        let field = self.path_field(key)?;
        if let PathField::Path(p) = &field {
            let bad = |reason| ParseError::BadPath { state: self.state.to_owned(), field: self.name(key), reason };
            p.check_writable().map_err(bad)?;
        }
        Ok(field)
    }

    /// A payload template: a JSON object whose `key.$` fields hold a path or an intrinsic
    /// function the executor implements (see [`crate::template::check`]).
    pub(crate) fn template(&self, key: &str, in_map: bool) -> Result<Option<Value>, ParseError> {
        let Some(t) = self.obj.get(key) else { return Ok(None) };
        crate::template::check(t, in_map).map_err(|reason| self.invalid(key, reason))?;
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
