//! Parsing a definition's JSON into the typed model ([`crate::model`]). Errors
//! ([`ParseError`]) name the state and the field. A field the executor does not implement
//! ([`ParseError::Unsupported`]) or that the state's type cannot have
//! ([`ParseError::NotAllowed`]) is refused here, so a definition that loads runs as written
//! (docs/asl-conformance.md).

use crate::choice::{ChoiceRule, timestamp};
use crate::fields::Fields;
pub use crate::fields::ParseError;
use crate::model::*;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

const TASK: &[&str] = &[
    "Type",
    "Comment",
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Retry",
    "Catch",
    "Resource",
    "TimeoutSeconds",
];
const PASS: &[&str] =
    &["Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "Result"];
const WAIT: &[&str] = &[
    "Type",
    "Comment",
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "Seconds",
    "SecondsPath",
    "Timestamp",
    "TimestampPath",
];
const PARALLEL: &[&str] = &[
    "Type",
    "Comment",
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Retry",
    "Catch",
    "Branches",
];
const MAP: &[&str] = &[
    "Type",
    "Comment",
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "ResultSelector",
    "ResultPath",
    "Retry",
    "Catch",
    "ItemsPath",
    "ItemSelector",
    "Parameters",
    "ItemProcessor",
    "Iterator",
    "MaxConcurrency",
];
const CHOICE: &[&str] = &["Type", "Comment", "InputPath", "OutputPath", "Choices", "Default"];
const SUCCEED: &[&str] = &["Type", "Comment", "InputPath", "OutputPath"];
const FAIL: &[&str] = &["Type", "Comment", "Error", "Cause"];
const RETRIER: &[&str] =
    &["ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment"];
const CATCHER: &[&str] = &["ErrorEquals", "Next", "ResultPath", "Comment"];
/// The largest IntervalSeconds, MaxAttempts and MaxDelaySeconds AWS accepts.
const MAX_COUNT: u64 = 99_999_999;

/// What a machine is: the definition, a Parallel branch, or a Map's item processor.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Top,
    Branch,
    Processor,
}

impl Definition {
    /// Parses a definition, stopping at its first error.
    pub fn parse(v: &Value) -> Result<Self, ParseError> {
        Self::parse_all(v).map_err(|mut errors| errors.remove(0))
    }

    /// Parses a definition, reporting the first error in every state (never an empty list).
    pub fn parse_all(v: &Value) -> Result<Self, Vec<ParseError>> {
        let mut errors = Vec::new();
        let def = match v.as_object() {
            Some(obj) => machine(obj, "", Kind::Top, &mut errors),
            None => {
                errors.push(ParseError::NotAnObject { state: String::new() });
                None
            }
        };
        match def {
            Some(def) if errors.is_empty() => Ok(def),
            _ if errors.is_empty() => Err(vec![ParseError::NotAnObject { state: String::new() }]),
            _ => Err(errors),
        }
    }
}

impl TryFrom<&Value> for Definition {
    type Error = ParseError;

    fn try_from(v: &Value) -> Result<Self, ParseError> {
        Definition::parse(v)
    }
}

/// The top-level fields of a machine other than its states.
fn head(f: &Fields, kind: Kind) -> Result<(), ParseError> {
    match kind {
        Kind::Top => {
            f.only("a state machine", &["Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"])?;
            if f.str("Version")?.is_some_and(|v| v != "1.0") {
                return Err(f.invalid("Version", "the only version is \"1.0\""));
            }
            if f.str("QueryLanguage")?.is_some_and(|q| q != "JSONPath") {
                return Err(f.unsupported("QueryLanguage", "JSONata is not implemented; states use JSONPath"));
            }
        }
        Kind::Branch => f.only("a branch", &["Comment", "StartAt", "States"])?,
        Kind::Processor => {
            f.only("an item processor", &["Comment", "StartAt", "States", "ProcessorConfig"])?;
            if f.has("ProcessorConfig") {
                let pc = f.object("ProcessorConfig")?;
                if let Some(k) = pc.keys().find(|k| *k != "Mode") {
                    return Err(pc.unsupported(k, "distributed Map is not implemented"));
                }
                if pc.str("Mode")?.is_some_and(|m| m != "INLINE") {
                    return Err(pc.unsupported("Mode", "distributed Map is not implemented (Mode INLINE only)"));
                }
            }
        }
    }
    Ok(())
}

/// A machine whose state names get `prefix` in errors (`""` at the top, `Fan/branch0/`).
/// Returns `None` once it has pushed an error.
fn machine(obj: &Map<String, Value>, prefix: &str, kind: Kind, errors: &mut Vec<ParseError>) -> Option<Definition> {
    let before = errors.len();
    let f = Fields::new(prefix.strip_suffix('/').unwrap_or(prefix), "", obj);
    let head = (|| -> Result<_, ParseError> {
        head(&f, kind)?;
        let states = f.object("States")?.obj;
        Ok((f.req_str("StartAt")?, states, f.positive("TimeoutSeconds")?, f.str("Comment")?))
    })();
    let (start_at, raw_states, timeout_seconds, comment) = match head {
        Ok(h) => h,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let mut states = BTreeMap::new();
    for (name, v) in raw_states {
        let at = format!("{prefix}{name}");
        let parsed = match v.as_object() {
            Some(obj) => state(&Fields::new(&at, "", obj), v, errors),
            None => Err(ParseError::NotAnObject { state: at.clone() }),
        };
        match parsed {
            Ok(Some(s)) => {
                states.insert(name.clone(), s);
            }
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    (errors.len() == before).then(|| Definition {
        comment: comment.map(str::to_owned),
        start_at: start_at.to_owned(),
        states,
        timeout_seconds,
    })
}

/// One state. `Ok(None)`: a nested machine had errors, already pushed.
fn state(f: &Fields, v: &Value, errors: &mut Vec<ParseError>) -> Result<Option<State>, ParseError> {
    let nested = |key: &str, i: Option<usize>, name: &str, kind: Kind, errors: &mut Vec<ParseError>| {
        let obj = match i {
            Some(i) => f.object_at(key, i)?,
            None => f.object(key)?,
        };
        Ok::<_, ParseError>(machine(obj.obj, &format!("{}/{name}/", f.state), kind, errors))
    };
    let ty = f.req_str("Type")?;
    let (fields, type_name): (&[&str], &'static str) = match ty {
        "Task" => (TASK, "Task"),
        "Pass" => (PASS, "Pass"),
        "Wait" => (WAIT, "Wait"),
        "Parallel" => (PARALLEL, "Parallel"),
        "Map" => (MAP, "Map"),
        "Choice" => (CHOICE, "Choice"),
        "Succeed" => (SUCCEED, "Succeed"),
        "Fail" => (FAIL, "Fail"),
        other => return Err(ParseError::UnknownType { state: f.state.to_owned(), ty: other.to_owned() }),
    };
    f.only(type_name, fields)?;
    Ok(Some(match ty {
        "Task" => {
            let resource = f.req_str("Resource")?;
            if resource.ends_with(".waitForTaskToken") {
                return Err(f.unsupported("Resource", "the callback pattern (.waitForTaskToken) needs task tokens"));
            }
            State::Task(TaskState {
                resource: resource.to_owned(),
                timeout_seconds: f.positive("TimeoutSeconds")?,
                retry: retriers(f)?,
                step: step(f, true)?,
                source: v.clone(),
            })
        }
        "Pass" => State::Pass(PassState { result: f.obj.get("Result").cloned(), step: step(f, true)? }),
        "Wait" => State::Wait(WaitState { wait: wait_for(f)?, step: step(f, false)? }),
        "Parallel" => {
            let (retry, step) = (retriers(f)?, step(f, true)?);
            let n = f.array("Branches")?.ok_or_else(|| f.missing("Branches"))?.len();
            let mut branches = Vec::new();
            for i in 0..n {
                branches.extend(nested("Branches", Some(i), &format!("branch{i}"), Kind::Branch, errors)?);
            }
            if branches.len() < n {
                return Ok(None);
            }
            State::Parallel(ParallelState { branches, retry, step })
        }
        "Map" => {
            let (retry, step) = (retriers(f)?, step(f, false)?);
            let items_path = f.path("ItemsPath")?;
            let selector = match (f.has("ItemSelector"), f.has("Parameters")) {
                (true, true) => return Err(f.invalid("Parameters", "a Map state has ItemSelector or Parameters")),
                (true, false) => f.template("ItemSelector", true)?,
                _ => f.template("Parameters", true)?,
            };
            let (key, kind) = match (f.has("ItemProcessor"), f.has("Iterator")) {
                (true, true) => return Err(f.invalid("Iterator", "a Map state has ItemProcessor or Iterator")),
                (false, true) => ("Iterator", Kind::Branch),
                _ => ("ItemProcessor", Kind::Processor),
            };
            let max_concurrency = f.u64("MaxConcurrency")?;
            let Some(item_processor) = nested(key, None, "items", kind, errors)? else { return Ok(None) };
            let item_processor = Box::new(item_processor);
            State::Map(MapState { items_path, item_selector: selector, item_processor, max_concurrency, retry, step })
        }
        "Choice" => {
            let n = f.array("Choices")?.ok_or_else(|| f.missing("Choices"))?.len();
            if n == 0 {
                return Err(f.invalid("Choices", "a Choice state has at least one rule"));
            }
            let choice = |i| -> Result<Choice, ParseError> {
                let c = f.object_at("Choices", i)?;
                Ok(Choice { rule: ChoiceRule::parse(&c, true)?, next: c.req_str("Next")?.to_owned() })
            };
            State::Choice(ChoiceState {
                choices: (0..n).map(choice).collect::<Result<_, ParseError>>()?,
                default: f.str("Default")?.map(str::to_owned),
                input_path: f.path_field("InputPath")?,
                output_path: f.path_field("OutputPath")?,
            })
        }
        "Succeed" => State::Succeed(SucceedState {
            input_path: f.path_field("InputPath")?,
            output_path: f.path_field("OutputPath")?,
        }),
        _ => {
            let text = |k| Ok::<_, ParseError>(f.str(k)?.map(str::to_owned));
            State::Fail(FailState { error: text("Error")?, cause: text("Cause")? })
        }
    }))
}

/// The fields Task, Pass, Wait, Parallel and Map share (those a type cannot have were
/// refused already). `parameters`: whether Parameters is the state's (not a Map's items').
fn step(f: &Fields, parameters: bool) -> Result<Step, ParseError> {
    let transition = match (f.str("Next")?, f.bool("End")?.unwrap_or(false)) {
        (Some(n), false) => Transition::Next(n.to_owned()),
        (None, true) => Transition::End,
        _ => return Err(ParseError::Transition { state: f.state.to_owned() }),
    };
    let n = f.array("Catch")?.map_or(0, Vec::len);
    let mut catch = Vec::new();
    for i in 0..n {
        let c = f.object_at("Catch", i)?;
        c.only("a catcher", CATCHER)?;
        let error_equals = error_equals(&c, i + 1 == n)?;
        catch.push(Catcher {
            error_equals,
            result_path: c.result_path("ResultPath")?,
            next: c.req_str("Next")?.into(),
        });
    }
    Ok(Step {
        input_path: f.path_field("InputPath")?,
        parameters: if parameters { f.template("Parameters", false)? } else { None },
        result_selector: f.template("ResultSelector", false)?,
        result_path: f.result_path("ResultPath")?,
        output_path: f.path_field("OutputPath")?,
        catch,
        transition,
    })
}

/// A retrier's or catcher's ErrorEquals: not empty; `States.ALL` alone and in the last rule.
fn error_equals(r: &Fields, last: bool) -> Result<Vec<String>, ParseError> {
    let errors = r.strings("ErrorEquals")?;
    if errors.is_empty() {
        return Err(r.invalid("ErrorEquals", "names at least one error"));
    }
    if errors.iter().any(|e| e == "States.ALL") && (errors.len() > 1 || !last) {
        return Err(r.invalid("ErrorEquals", "States.ALL must appear alone, in the last rule"));
    }
    Ok(errors)
}

fn retriers(f: &Fields) -> Result<Vec<Retrier>, ParseError> {
    let n = f.array("Retry")?.map_or(0, Vec::len);
    (0..n)
        .map(|i| {
            let r = f.object_at("Retry", i)?;
            r.only("a retrier", RETRIER)?;
            let jitter = match r.str("JitterStrategy")? {
                None | Some("NONE") => Jitter::None,
                Some("FULL") => Jitter::Full,
                Some(other) => return Err(r.invalid("JitterStrategy", format!("unknown strategy {other:?}"))),
            };
            let count = |k| match r.positive(k)? {
                Some(n) if n > MAX_COUNT => Err(r.invalid(k, format!("at most {MAX_COUNT}"))),
                n => Ok(n),
            };
            let max_attempts = r.u64("MaxAttempts")?.unwrap_or(3);
            if max_attempts > MAX_COUNT {
                return Err(r.invalid("MaxAttempts", format!("at most {MAX_COUNT}")));
            }
            let backoff_rate = r.f64("BackoffRate")?.unwrap_or(2.0);
            if backoff_rate < 1.0 {
                return Err(r.invalid("BackoffRate", "must be at least 1.0"));
            }
            Ok(Retrier {
                error_equals: error_equals(&r, i + 1 == n)?,
                interval_seconds: count("IntervalSeconds")?.unwrap_or(1) as f64,
                max_attempts,
                backoff_rate,
                max_delay_seconds: count("MaxDelaySeconds")?.map(|n| n as f64),
                jitter,
            })
        })
        .collect()
}

fn wait_for(f: &Fields) -> Result<WaitFor, ParseError> {
    let given: Vec<&str> =
        ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"].into_iter().filter(|k| f.has(k)).collect();
    match given.as_slice() {
        [] => Err(f.missing("Seconds")),
        ["Seconds"] => Ok(WaitFor::Seconds(f.u64("Seconds")?.unwrap_or_default())),
        ["SecondsPath"] => Ok(WaitFor::SecondsPath(f.req_path("SecondsPath")?)),
        ["Timestamp"] => {
            let t = f.req_str("Timestamp")?;
            timestamp(t)
                .map(WaitFor::Timestamp)
                .ok_or_else(|| f.invalid("Timestamp", format!("{t:?} is not an RFC 3339 timestamp")))
        }
        [_] => Ok(WaitFor::TimestampPath(f.req_path("TimestampPath")?)),
        [_, second, ..] => {
            Err(f.invalid(second, "a Wait state has one of Seconds, SecondsPath, Timestamp, TimestampPath"))
        }
    }
}
