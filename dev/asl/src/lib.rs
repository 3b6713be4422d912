//! An in-process executor of the Amazon States Language, for local runs and tests: it runs a
//! definition file as written (Task, Choice, Pass, Wait, Succeed, Fail, Parallel, Map; Retry
//! and Catch; InputPath, Parameters, ResultSelector, ResultPath, OutputPath; most intrinsic
//! functions) and hands Task states to a [`TaskRunner`] that calls the same step handlers the
//! Lambdas run. [`check`] validates a definition statically.
//!
//! Both first parse the definition into the typed model of [`model`] ([`Definition::parse`]),
//! and walk that. What the executor does not implement is refused by the parser, so a
//! definition that loads runs as written: docs/asl-conformance.md lists both, with the tests
//! (tests/conformance*.rs) that hold the executor to the AWS documentation's examples.

mod check;
pub mod choice;
mod exec;
mod fields;
mod intrinsic;
pub mod model;
mod parse;
pub mod path;
mod template;
#[cfg(test)]
mod tests;

pub use check::{CheckContext, check, check_definition};
pub use choice::{ChoiceRule, Operand, Operator};
pub use exec::{Event, Execution, Executor};
pub use intrinsic::UNSUPPORTED_INTRINSICS;
pub use model::{Definition, State};
pub use parse::ParseError;

use serde_json::{Map, Value};
use std::collections::HashMap;

/// A failure with an ASL error name, as Retry/Catch see it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct TaskError {
    pub error: String,
    pub cause: String,
}

impl TaskError {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        TaskError { error: error.into(), cause: cause.into() }
    }
}

/// Runs a Task state's resource.
#[async_trait::async_trait]
pub trait TaskRunner: Send + Sync {
    async fn run(&self, resource: &str, state: &str, input: Value) -> Result<Value, TaskError>;
}

/// Replaces `${Name}` placeholders (DefinitionSubstitutions).
pub fn substitute(text: &str, subs: &HashMap<String, String>) -> String {
    let mut out = text.to_owned();
    for (k, v) in subs {
        out = out.replace(&format!("${{{k}}}"), v);
    }
    out
}

/// The untyped top of a state machine (or of the branch of a Parallel/Map): StartAt and the
/// states as JSON. The executor and the checker use the typed [`Definition`] instead.
#[derive(Debug, Clone)]
pub struct Machine {
    pub start_at: String,
    pub states: Map<String, Value>,
}

impl Machine {
    pub fn parse(v: &Value) -> Result<Self, String> {
        let start_at = v.get("StartAt").and_then(Value::as_str).ok_or("StartAt missing")?.to_owned();
        let states = v.get("States").and_then(Value::as_object).ok_or("States missing")?.clone();
        Ok(Machine { start_at, states })
    }
}
