//! Running executions: walks the typed model, hands Task states to the [`TaskRunner`].

use crate::model::*;
use crate::template::{resolve, rewrite_map_refs};
use crate::{TaskError, TaskRunner};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One entry in an execution's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub state: String,
    pub kind: String,
}

/// Runs executions of one definition.
pub struct Executor {
    definition: Definition,
    runner: Arc<dyn TaskRunner>,
    /// Multiplies Retry and Wait delays (1.0 on AWS timing; small in tests).
    pub time_scale: f64,
}

/// The outcome of one execution.
#[derive(Debug, Clone)]
pub struct Execution {
    pub id: String,
    pub result: Result<Value, TaskError>,
    pub history: Vec<Event>,
}

impl Execution {
    /// State transitions, as Step Functions counts them for billing (Standard workflows).
    pub fn transitions(&self) -> usize {
        self.history.iter().filter(|e| e.kind == "entered").count()
    }
}

/// Task states without TimeoutSeconds time out after this long locally.
const DEFAULT_TASK_TIMEOUT: u64 = 60;

struct Run {
    runner: Arc<dyn TaskRunner>,
    context: Value,
    history: Mutex<Vec<Event>>,
    time_scale: f64,
}

fn err(e: &str, c: impl Into<String>) -> TaskError {
    TaskError::new(e, c)
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Executor {
    /// Parses the definition (see [`Definition::parse`]); the error names the state and field.
    pub fn new(definition: &Value, runner: Arc<dyn TaskRunner>) -> Result<Self, String> {
        let definition = Definition::parse(definition).map_err(|e| e.to_string())?;
        Ok(Self::from_definition(definition, runner))
    }

    pub fn from_definition(definition: Definition, runner: Arc<dyn TaskRunner>) -> Self {
        Executor { definition, runner, time_scale: 1.0 }
    }

    pub fn definition(&self) -> &Definition {
        &self.definition
    }

    pub async fn execute(&self, input: Value) -> Execution {
        let id = ulid::Ulid::new().to_string();
        let run = Run {
            runner: self.runner.clone(),
            context: json!({"Execution": {"Id": format!("local:{id}"), "Input": input.clone(), "StartTime": chrono::Utc::now().to_rfc3339()}}),
            history: Mutex::new(Vec::new()),
            time_scale: self.time_scale,
        };
        let result = run.machine(&self.definition, input).await;
        let history = run.history.lock().map(|h| h.clone()).unwrap_or_default();
        Execution { id, result, history }
    }
}

impl Run {
    fn log(&self, state: &str, kind: &str) {
        if let Ok(mut h) = self.history.lock() {
            h.push(Event { state: state.to_owned(), kind: kind.to_owned() });
        }
    }

    fn machine<'a>(&'a self, m: &'a Definition, input: Value) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            let mut current = m.start_at.as_str();
            let mut data = input;
            loop {
                let state =
                    m.states.get(current).ok_or_else(|| err("States.Runtime", format!("no state {current}")))?;
                self.log(current, "entered");
                let (output, next) = match state {
                    State::Succeed(s) => return self.path_field(&s.output_path, data),
                    State::Fail(f) => {
                        let e = f.error.as_deref().unwrap_or("States.Fail");
                        return Err(err(e, f.cause.as_deref().unwrap_or("")));
                    }
                    State::Choice(c) => {
                        let effective = self.path_field(&c.input_path, data.clone())?;
                        let next = self.choose(c, &effective)?;
                        (self.path_field(&c.output_path, data)?, Some(next))
                    }
                    _ => {
                        let step = state.step().ok_or_else(|| err("States.Runtime", "not a step"))?;
                        match self.step(current, state, step, data.clone()).await {
                            Ok(out) => (out, step.transition.next()),
                            Err(e) => match step.catch.iter().find(|c| c.matches(&e.error)) {
                                Some(c) => {
                                    self.log(current, &format!("caught {}", e.error));
                                    // A Catch's ResultPath null replaces the input with the error,
                                    // like `$` (this executor has always done so).
                                    let error = json!({"Error": e.error, "Cause": e.cause});
                                    let out = match &c.result_path {
                                        PathField::Path(p) => p.write(data, error),
                                        PathField::Default | PathField::Null => Ok(error),
                                    };
                                    (out.map_err(|x| err("States.ResultPathMatchFailure", x))?, Some(c.next.as_str()))
                                }
                                None => return Err(e),
                            },
                        }
                    }
                };
                data = output;
                match next {
                    Some(n) => current = n,
                    None => return Ok(data),
                }
            }
        })
    }

    /// InputPath/OutputPath: `null` gives `{}`.
    fn path_field(&self, p: &PathField, data: Value) -> Result<Value, TaskError> {
        match p {
            PathField::Null => Ok(json!({})),
            PathField::Path(p) => p.read(&data, &self.context).map_err(|e| err("States.Runtime", e)),
            PathField::Default => Ok(data),
        }
    }

    fn template(&self, t: &Value, input: &Value) -> Result<Value, TaskError> {
        resolve(t, input, &self.context)
    }

    async fn step(&self, name: &str, state: &State, step: &Step, data: Value) -> Result<Value, TaskError> {
        let effective = self.path_field(&step.input_path, data.clone())?;
        let params = match &step.parameters {
            Some(t) => self.template(t, &effective)?,
            None => effective.clone(),
        };
        let result = match state {
            State::Pass(p) => p.result.clone().unwrap_or(params),
            State::Wait(w) => {
                let secs = match &w.wait {
                    WaitFor::Seconds(s) => *s,
                    WaitFor::SecondsPath(p) => {
                        p.read(&effective, &self.context).ok().and_then(|v| v.as_f64()).unwrap_or(0.0)
                    }
                    WaitFor::Timestamp(_) | WaitFor::TimestampPath(_) => 0.0,
                };
                tokio::time::sleep(Duration::from_secs_f64((secs * self.time_scale).max(0.0))).await;
                params
            }
            State::Task(t) => self.task(name, t, params).await?,
            State::Parallel(p) => {
                let futs = p.branches.iter().map(|m| self.machine(m, params.clone()));
                let mut outs = Vec::new();
                for r in futures_join(futs.collect()).await {
                    outs.push(r?);
                }
                Value::Array(outs)
            }
            State::Map(m) => self.map(m, &effective).await?,
            State::Choice(_) | State::Succeed(_) | State::Fail(_) => {
                return Err(err("States.Runtime", format!("{} is not a step", state.type_name())));
            }
        };
        let selected = match &step.result_selector {
            Some(t) => self.template(t, &result)?,
            None => result,
        };
        let combined = match &step.result_path {
            PathField::Null => data,
            PathField::Path(p) => p.write(data, selected).map_err(|e| err("States.ResultPathMatchFailure", e))?,
            PathField::Default => selected,
        };
        self.path_field(&step.output_path, combined)
    }

    async fn map(&self, m: &MapState, effective: &Value) -> Result<Value, TaskError> {
        let items = match &m.items_path {
            Some(p) => p.read(effective, &self.context).map_err(|e| err("States.Runtime", e))?,
            None => effective.clone(),
        };
        let items = items.as_array().cloned().ok_or_else(|| err("States.Runtime", "ItemsPath is not an array"))?;
        let selector = m.item_selector.as_ref().map(rewrite_map_refs);
        let mut inputs = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let v = match &selector {
                Some(t) => {
                    let mut ctx_input = effective.clone();
                    if let Value::Object(o) = &mut ctx_input {
                        o.insert("__item".into(), item.clone());
                        o.insert("__index".into(), json!(i));
                    }
                    self.template(t, &ctx_input)?
                }
                None => item,
            };
            inputs.push(v);
        }
        let futs = inputs.into_iter().map(|v| self.machine(&m.item_processor, v)).collect();
        let mut outs = Vec::new();
        for r in futures_join(futs).await {
            outs.push(r?);
        }
        Ok(Value::Array(outs))
    }

    async fn task(&self, name: &str, t: &TaskState, params: Value) -> Result<Value, TaskError> {
        let timeout = t.timeout_seconds.unwrap_or(DEFAULT_TASK_TIMEOUT);
        let mut attempts: HashMap<usize, u64> = HashMap::new();
        loop {
            let call = self.runner.run(&t.resource, name, params.clone());
            let res = match tokio::time::timeout(Duration::from_secs(timeout), call).await {
                Ok(r) => r,
                Err(_) => Err(err("States.Timeout", format!("{name} timed out"))),
            };
            let e = match res {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let Some((idx, rule)) = t.retry.iter().enumerate().find(|(_, r)| r.matches(&e.error)) else {
                return Err(e);
            };
            let n = attempts.entry(idx).or_insert(0);
            if *n >= rule.max_attempts {
                return Err(e);
            }
            let mut delay = rule.interval_seconds * rule.backoff_rate.powi(i32::try_from(*n).unwrap_or(30));
            if let Some(max_delay) = rule.max_delay_seconds {
                delay = delay.min(max_delay);
            }
            if rule.jitter == Jitter::Full {
                delay *= rand::random::<f64>();
            }
            *n += 1;
            self.log(name, &format!("retry {} after {}", *n, e.error));
            tokio::time::sleep(Duration::from_secs_f64((delay * self.time_scale).max(0.0))).await;
        }
    }

    fn choose<'m>(&self, c: &'m ChoiceState, input: &Value) -> Result<&'m str, TaskError> {
        match c.choices.iter().find(|choice| choice.rule.eval(input, &self.context)) {
            Some(choice) => Ok(&choice.next),
            None => c.default.as_deref().ok_or_else(|| err("States.NoChoiceMatched", "no choice matched")),
        }
    }
}

async fn futures_join<'a, T>(futs: Vec<BoxFuture<'a, T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(futs.len());
    // Branches run one after another: the order of side effects is deterministic locally,
    // and concurrency is not what these tests are about.
    for f in futs {
        out.push(f.await);
    }
    out
}
