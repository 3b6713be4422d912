//! Parsing a definition's JSON into the typed model ([`crate::model`]). Errors
//! ([`ParseError`]) name the state and the field.

use crate::choice::ChoiceRule;
use crate::fields::Fields;
pub use crate::fields::ParseError;
use crate::model::*;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

impl Definition {
    /// Parses a definition, stopping at its first error.
    pub fn parse(v: &Value) -> Result<Self, ParseError> {
        Self::parse_all(v).map_err(|mut errors| errors.remove(0))
    }

    /// Parses a definition, reporting the first error in every state (never an empty list).
    pub fn parse_all(v: &Value) -> Result<Self, Vec<ParseError>> {
        let mut errors = Vec::new();
        let def = match v.as_object() {
            Some(obj) => machine(obj, "", &mut errors),
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

/// A machine whose state names get `prefix` in errors (`""` at the top, `Fan/branch0/`).
/// Returns `None` once it has pushed an error.
fn machine(obj: &Map<String, Value>, prefix: &str, errors: &mut Vec<ParseError>) -> Option<Definition> {
    let before = errors.len();
    let f = Fields::new(prefix.strip_suffix('/').unwrap_or(prefix), "", obj);
    let head = (|| -> Result<_, ParseError> {
        let states = f.object("States")?.obj;
        Ok((f.req_str("StartAt")?, states, f.u64("TimeoutSeconds")?, f.str("Comment")?))
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
    let nested = |key: &str, i: Option<usize>, name: &str, errors: &mut Vec<ParseError>| {
        let obj = match i {
            Some(i) => f.object_at(key, i)?,
            None => f.object(key)?,
        };
        Ok::<_, ParseError>(machine(obj.obj, &format!("{}/{name}/", f.state), errors))
    };
    Ok(Some(match f.req_str("Type")? {
        "Task" => State::Task(TaskState {
            resource: f.req_str("Resource")?.to_owned(),
            timeout_seconds: f.u64("TimeoutSeconds")?,
            retry: retriers(f)?,
            step: step(f, true)?,
            source: v.clone(),
        }),
        "Pass" => State::Pass(PassState { result: f.obj.get("Result").cloned(), step: step(f, true)? }),
        "Wait" => State::Wait(WaitState { wait: wait_for(f)?, step: step(f, true)? }),
        "Parallel" => {
            let (retry, step) = (retriers(f)?, step(f, true)?);
            let n = f.array("Branches")?.ok_or_else(|| f.missing("Branches"))?.len();
            let mut branches = Vec::new();
            for i in 0..n {
                branches.extend(nested("Branches", Some(i), &format!("branch{i}"), errors)?);
            }
            if branches.len() < n {
                return Ok(None);
            }
            State::Parallel(ParallelState { branches, retry, step })
        }
        "Map" => {
            let (retry, step) = (retriers(f)?, step(f, false)?);
            let items_path = f.path("ItemsPath")?;
            let item_selector =
                if f.has("ItemSelector") { f.template("ItemSelector")? } else { f.template("Parameters")? };
            let key = if f.has("ItemProcessor") || !f.has("Iterator") { "ItemProcessor" } else { "Iterator" };
            let Some(item_processor) = nested(key, None, "items", errors)? else { return Ok(None) };
            State::Map(MapState { items_path, item_selector, item_processor: Box::new(item_processor), retry, step })
        }
        "Choice" => {
            let n = f.array("Choices")?.ok_or_else(|| f.missing("Choices"))?.len();
            let choice = |i| -> Result<Choice, ParseError> {
                let c = f.object_at("Choices", i)?;
                Ok(Choice { rule: ChoiceRule::parse(&c)?, next: c.req_str("Next")?.to_owned() })
            };
            State::Choice(ChoiceState {
                choices: (0..n).map(choice).collect::<Result<_, ParseError>>()?,
                default: f.str("Default")?.map(str::to_owned),
                input_path: f.path_field("InputPath")?,
                output_path: f.path_field("OutputPath")?,
            })
        }
        ty @ ("Succeed" | "Fail") => {
            if f.has("Next") {
                let ty = if ty == "Fail" { "Fail" } else { "Succeed" };
                return Err(ParseError::NotAllowed { state: f.state.to_owned(), ty, field: "Next".into() });
            }
            if ty == "Fail" {
                let text = |k| Ok::<_, ParseError>(f.str(k)?.map(str::to_owned));
                State::Fail(FailState { error: text("Error")?, cause: text("Cause")? })
            } else {
                State::Succeed(SucceedState { output_path: f.path_field("OutputPath")? })
            }
        }
        other => return Err(ParseError::UnknownType { state: f.state.to_owned(), ty: other.to_owned() }),
    }))
}

fn step(f: &Fields, parameters: bool) -> Result<Step, ParseError> {
    let transition = match (f.str("Next")?, f.bool("End")?.unwrap_or(false)) {
        (Some(n), false) => Transition::Next(n.to_owned()),
        (None, true) => Transition::End,
        _ => return Err(ParseError::Transition { state: f.state.to_owned() }),
    };
    let mut catch = Vec::new();
    for i in 0..f.array("Catch")?.map_or(0, Vec::len) {
        let c = f.object_at("Catch", i)?;
        let error_equals = c.strings("ErrorEquals")?;
        catch.push(Catcher { error_equals, result_path: c.path_field("ResultPath")?, next: c.req_str("Next")?.into() });
    }
    Ok(Step {
        input_path: f.path_field("InputPath")?,
        parameters: if parameters { f.template("Parameters")? } else { None },
        result_selector: f.template("ResultSelector")?,
        result_path: f.path_field("ResultPath")?,
        output_path: f.path_field("OutputPath")?,
        catch,
        transition,
    })
}

fn retriers(f: &Fields) -> Result<Vec<Retrier>, ParseError> {
    let n = f.array("Retry")?.map_or(0, Vec::len);
    (0..n)
        .map(|i| {
            let r = f.object_at("Retry", i)?;
            let jitter = match r.str("JitterStrategy")? {
                None | Some("NONE") => Jitter::None,
                Some("FULL") => Jitter::Full,
                Some(other) => return Err(r.invalid("JitterStrategy", format!("unknown strategy {other:?}"))),
            };
            Ok(Retrier {
                error_equals: r.strings("ErrorEquals")?,
                interval_seconds: r.f64("IntervalSeconds")?.unwrap_or(1.0),
                max_attempts: r.u64("MaxAttempts")?.unwrap_or(3),
                backoff_rate: r.f64("BackoffRate")?.unwrap_or(2.0),
                max_delay_seconds: r.f64("MaxDelaySeconds")?,
                jitter,
            })
        })
        .collect()
}

fn wait_for(f: &Fields) -> Result<WaitFor, ParseError> {
    if let Some(s) = f.f64("Seconds")? {
        return Ok(WaitFor::Seconds(s));
    }
    if let Some(p) = f.path("SecondsPath")? {
        return Ok(WaitFor::SecondsPath(p));
    }
    if let Some(t) = f.str("Timestamp")? {
        return Ok(WaitFor::Timestamp(t.to_owned()));
    }
    f.path("TimestampPath")?.map(WaitFor::TimestampPath).ok_or_else(|| f.missing("Seconds"))
}
