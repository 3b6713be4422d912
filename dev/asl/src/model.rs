//! The typed model of a state machine definition. [`Definition::parse`] builds it from the
//! definition's JSON; the executor and the checker walk it. Parameters, ResultSelector,
//! ItemSelector and Pass `Result` stay JSON: they are payload templates, not structure (the
//! paths and intrinsic functions of their `key.$` fields are checked when parsed).

use crate::choice::ChoiceRule;
use crate::path::JsonPath;
use serde_json::Value;
use std::collections::BTreeMap;

/// A state machine, or the branch of a Parallel, or the item processor of a Map.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub comment: Option<String>,
    pub start_at: String,
    pub states: BTreeMap<String, State>,
    /// The machine-wide timeout (top level only): the execution fails with `States.Timeout`
    /// when it runs longer.
    pub timeout_seconds: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Task(TaskState),
    Choice(ChoiceState),
    Pass(PassState),
    Parallel(ParallelState),
    Map(MapState),
    Wait(WaitState),
    Succeed(SucceedState),
    Fail(FailState),
}

/// Where a state goes when it is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Next(String),
    End,
}

impl Transition {
    pub fn next(&self) -> Option<&str> {
        match self {
            Transition::Next(n) => Some(n),
            Transition::End => None,
        }
    }
}

/// A path field (InputPath, ResultPath, OutputPath): absent, `null`, or a path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PathField {
    /// Not written: `$` (the whole input or result).
    #[default]
    Default,
    /// Written as `null`: `{}` for InputPath/OutputPath; ResultPath discards the result.
    Null,
    Path(JsonPath),
}

/// The fields shared by the states that do something and move on (Task, Pass, Wait,
/// Parallel, Map): the data flow through the state, its Catch, and its transition.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub input_path: PathField,
    /// The Parameters template (for Map, see [`MapState::item_selector`] instead).
    pub parameters: Option<Value>,
    pub result_selector: Option<Value>,
    pub result_path: PathField,
    pub output_path: PathField,
    pub catch: Vec<Catcher>,
    pub transition: Transition,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskState {
    pub resource: String,
    /// As written; the executor uses 60 seconds when absent (AWS: 99999999).
    pub timeout_seconds: Option<u64>,
    pub retry: Vec<Retrier>,
    pub step: Step,
    /// The state's JSON as written, for checks of integration-specific fields (the
    /// [`crate::CheckContext::resource_ok`] callback); nothing else reads it.
    pub source: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceState {
    pub choices: Vec<Choice>,
    pub default: Option<String>,
    pub input_path: PathField,
    pub output_path: PathField,
}

/// A top-level choice rule and where it leads.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub rule: ChoiceRule,
    pub next: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PassState {
    /// `Result` as written (`Some(Value::Null)` for an explicit `null`).
    pub result: Option<Value>,
    pub step: Step,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParallelState {
    pub branches: Vec<Definition>,
    /// Retries run all branches again.
    pub retry: Vec<Retrier>,
    pub step: Step,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapState {
    /// ItemsPath (`$` when absent).
    pub items_path: Option<JsonPath>,
    /// ItemSelector, or the legacy Parameters.
    pub item_selector: Option<Value>,
    /// ItemProcessor, or the legacy Iterator.
    pub item_processor: Box<Definition>,
    /// As written: the executor runs one item at a time, which every limit allows.
    pub max_concurrency: Option<u64>,
    /// Retries run all items again.
    pub retry: Vec<Retrier>,
    pub step: Step,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WaitState {
    pub wait: WaitFor,
    pub step: Step,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WaitFor {
    Seconds(u64),
    SecondsPath(JsonPath),
    Timestamp(chrono::DateTime<chrono::FixedOffset>),
    TimestampPath(JsonPath),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SucceedState {
    pub input_path: PathField,
    pub output_path: PathField,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailState {
    pub error: Option<String>,
    pub cause: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    #[default]
    None,
    Full,
}

/// A Retry rule, with the ASL defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub jitter: Jitter,
}

/// A Catch rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub result_path: PathField,
    pub next: String,
}

/// Whether an ErrorEquals list matches an error name. `States.ALL` matches any error,
/// `States.TaskFailed` any but `States.Timeout`; nothing matches the terminal
/// `States.Runtime` and `States.DataLimitExceeded`.
pub fn error_matches(error_equals: &[String], error: &str) -> bool {
    if matches!(error, "States.Runtime" | "States.DataLimitExceeded") {
        return false;
    }
    error_equals
        .iter()
        .any(|e| e == "States.ALL" || e == error || (e == "States.TaskFailed" && error != "States.Timeout"))
}

impl Retrier {
    pub fn matches(&self, error: &str) -> bool {
        error_matches(&self.error_equals, error)
    }
}

impl Catcher {
    pub fn matches(&self, error: &str) -> bool {
        error_matches(&self.error_equals, error)
    }
}

impl State {
    /// The `Type` as written in the definition.
    pub fn type_name(&self) -> &'static str {
        match self {
            State::Task(_) => "Task",
            State::Choice(_) => "Choice",
            State::Pass(_) => "Pass",
            State::Parallel(_) => "Parallel",
            State::Map(_) => "Map",
            State::Wait(_) => "Wait",
            State::Succeed(_) => "Succeed",
            State::Fail(_) => "Fail",
        }
    }

    /// The shared fields of Task, Pass, Wait, Parallel and Map.
    pub fn step(&self) -> Option<&Step> {
        match self {
            State::Task(s) => Some(&s.step),
            State::Pass(s) => Some(&s.step),
            State::Parallel(s) => Some(&s.step),
            State::Map(s) => Some(&s.step),
            State::Wait(s) => Some(&s.step),
            State::Choice(_) | State::Succeed(_) | State::Fail(_) => None,
        }
    }

    pub fn retry(&self) -> &[Retrier] {
        match self {
            State::Task(s) => &s.retry,
            State::Parallel(s) => &s.retry,
            State::Map(s) => &s.retry,
            _ => &[],
        }
    }

    pub fn catch(&self) -> &[Catcher] {
        self.step().map(|s| s.catch.as_slice()).unwrap_or_default()
    }

    /// Every state this one can move to: Next, the choices and Default, and Catch targets.
    pub fn targets(&self) -> Vec<&str> {
        let mut out = Vec::new();
        if let Some(n) = self.step().and_then(|s| s.transition.next()) {
            out.push(n);
        }
        if let State::Choice(c) = self {
            out.extend(c.choices.iter().map(|c| c.next.as_str()));
            out.extend(c.default.as_deref());
        }
        out.extend(self.catch().iter().map(|c| c.next.as_str()));
        out
    }

    /// The machines nested in this state, with the name of each in check output
    /// (`branch0`, ..., `items`).
    pub fn nested(&self) -> Vec<(String, &Definition)> {
        match self {
            State::Parallel(p) => p.branches.iter().enumerate().map(|(i, b)| (format!("branch{i}"), b)).collect(),
            State::Map(m) => vec![("items".to_owned(), &*m.item_processor)],
            _ => Vec::new(),
        }
    }
}
