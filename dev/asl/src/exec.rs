//! Running executions: walks the typed model, hands Task states to the [`TaskRunner`].
//! Parallel branches and Map items run one after another (side effects in a deterministic
//! order); Retry and Wait delays are multiplied by [`Executor::time_scale`], timeouts are not.

use crate::choice::timestamp;
use crate::model::*;
use crate::template::resolve;
use crate::{TaskError, TaskRunner};
use serde_json::{Value, json};
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
        let started = chrono::Utc::now().to_rfc3339();
        let run = Run {
            runner: self.runner.clone(),
            context: json!({"Execution": {"Id": format!("local:{id}"), "Name": id, "Input": input.clone(), "StartTime": started}}),
            history: Mutex::new(Vec::new()),
            time_scale: self.time_scale,
        };
        let result = match self.definition.timeout_seconds {
            Some(secs) => tokio::time::timeout(Duration::from_secs(secs), run.machine(&self.definition, input))
                .await
                .unwrap_or_else(|_| {
                    Err(err("States.Timeout", format!("the execution ran longer than {secs} seconds")))
                }),
            None => run.machine(&self.definition, input).await,
        };
        let history = run.history.lock().map(|h| h.clone()).unwrap_or_default();
        Execution { id, result, history }
    }
}

fn runtime(cause: impl Into<String>) -> TaskError {
    err("States.Runtime", cause)
}

/// Sleeps `secs` scaled (never negative, never forever).
async fn sleep(secs: f64, scale: f64) {
    tokio::time::sleep(Duration::try_from_secs_f64((secs * scale).max(0.0)).unwrap_or(Duration::MAX)).await;
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
                let state = m.states.get(current).ok_or_else(|| runtime(format!("no state {current}")))?;
                self.log(current, "entered");
                let (output, next) = match state {
                    State::Succeed(s) => {
                        let effective = self.path_field(&s.input_path, data)?;
                        return self.path_field(&s.output_path, effective);
                    }
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
                        let step = state.step().ok_or_else(|| runtime("not a step"))?;
                        match self.step(current, state, step, data.clone()).await {
                            Ok(out) => (out, step.transition.next()),
                            Err(e) => match step.catch.iter().find(|c| c.matches(&e.error)) {
                                Some(c) => {
                                    self.log(current, &format!("caught {}", e.error));
                                    // The error output goes where the catcher's ResultPath says,
                                    // into the state's input, like a state's result.
                                    let error = json!({"Error": e.error, "Cause": e.cause});
                                    let out = match &c.result_path {
                                        PathField::Default => Ok(error),
                                        PathField::Null => Ok(data),
                                        PathField::Path(p) => p.write(data, error),
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

    /// InputPath/OutputPath: `null` gives `{}`; a path that selects nothing is a run-time error.
    fn path_field(&self, p: &PathField, data: Value) -> Result<Value, TaskError> {
        match p {
            PathField::Null => Ok(json!({})),
            PathField::Path(p) => p.read(&data, &self.context).map_err(runtime),
            PathField::Default => Ok(data),
        }
    }

    async fn step(&self, name: &str, state: &State, step: &Step, data: Value) -> Result<Value, TaskError> {
        let effective = self.path_field(&step.input_path, data.clone())?;
        let params = match &step.parameters {
            Some(t) => resolve(t, &effective, &self.context)?,
            None => effective.clone(),
        };
        let result = match state {
            State::Pass(p) => p.result.clone().unwrap_or(params),
            State::Wait(w) => {
                self.wait(&w.wait, &effective).await?;
                params
            }
            State::Task(t) => self.retrying(name, &t.retry, || self.task(name, t, params.clone())).await?,
            State::Parallel(p) => self.retrying(name, &p.retry, || self.parallel(p, params.clone())).await?,
            State::Map(m) => self.retrying(name, &m.retry, || self.map(m, &effective)).await?,
            State::Choice(_) | State::Succeed(_) | State::Fail(_) => {
                return Err(runtime(format!("{} is not a step", state.type_name())));
            }
        };
        let selected = match &step.result_selector {
            Some(t) => resolve(t, &result, &self.context)?,
            None => result,
        };
        let combined = match &step.result_path {
            PathField::Null => data,
            PathField::Path(p) => p.write(data, selected).map_err(|e| err("States.ResultPathMatchFailure", e))?,
            PathField::Default => selected,
        };
        self.path_field(&step.output_path, combined)
    }

    /// Runs `attempt` until it succeeds or no retrier applies: the first retrier whose
    /// ErrorEquals matches decides, with its own count of attempts.
    async fn retrying<F, Fut>(&self, name: &str, retry: &[Retrier], mut attempt: F) -> Result<Value, TaskError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Value, TaskError>>,
    {
        let mut counts = vec![0u64; retry.len()];
        loop {
            let e = match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let Some(i) = retry.iter().position(|r| r.matches(&e.error)) else { return Err(e) };
            let rule = &retry[i];
            if counts[i] >= rule.max_attempts {
                return Err(e);
            }
            let mut delay =
                rule.interval_seconds * rule.backoff_rate.powi(i32::try_from(counts[i]).unwrap_or(i32::MAX));
            if let Some(max_delay) = rule.max_delay_seconds {
                delay = delay.min(max_delay);
            }
            if rule.jitter == Jitter::Full {
                delay *= rand::random::<f64>();
            }
            counts[i] += 1;
            self.log(name, &format!("retry {} after {} ({delay}s)", counts[i], e.error));
            sleep(delay, self.time_scale).await;
        }
    }

    async fn task(&self, name: &str, t: &TaskState, params: Value) -> Result<Value, TaskError> {
        let timeout = t.timeout_seconds.unwrap_or(DEFAULT_TASK_TIMEOUT);
        let call = self.runner.run(&t.resource, name, params);
        match tokio::time::timeout(Duration::from_secs(timeout), call).await {
            Ok(r) => r,
            Err(_) => Err(err("States.Timeout", format!("{name} ran longer than {timeout} seconds"))),
        }
    }

    async fn parallel(&self, p: &ParallelState, input: Value) -> Result<Value, TaskError> {
        let mut outs = Vec::with_capacity(p.branches.len());
        for branch in &p.branches {
            outs.push(self.machine(branch, input.clone()).await?);
        }
        Ok(Value::Array(outs))
    }

    /// Each item's input is the item, or the ItemSelector resolved against the state's
    /// effective input with `$$.Map.Item.Index` and `$$.Map.Item.Value` in the context.
    async fn map(&self, m: &MapState, effective: &Value) -> Result<Value, TaskError> {
        let items = match &m.items_path {
            Some(p) => p.read(effective, &self.context).map_err(runtime)?,
            None => effective.clone(),
        };
        let Value::Array(items) = items else { return Err(runtime("ItemsPath does not select an array")) };
        let mut outs = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let input = match &m.item_selector {
                Some(t) => {
                    let mut context = self.context.clone();
                    context["Map"] = json!({"Item": {"Index": i, "Value": item}});
                    resolve(t, effective, &context)?
                }
                None => item,
            };
            outs.push(self.machine(&m.item_processor, input).await?);
        }
        Ok(Value::Array(outs))
    }

    async fn wait(&self, w: &WaitFor, input: &Value) -> Result<(), TaskError> {
        let until = |t: chrono::DateTime<chrono::FixedOffset>| {
            (t.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds() as f64 / 1000.0
        };
        let secs = match w {
            WaitFor::Seconds(s) => *s as f64,
            WaitFor::Timestamp(t) => until(*t),
            WaitFor::SecondsPath(p) => {
                let v = p.read(input, &self.context).map_err(runtime)?;
                v.as_u64().ok_or_else(|| runtime(format!("SecondsPath {p}: {v} is not a whole number of seconds")))?
                    as f64
            }
            WaitFor::TimestampPath(p) => {
                let v = p.read(input, &self.context).map_err(runtime)?;
                let t = v.as_str().and_then(timestamp);
                until(t.ok_or_else(|| runtime(format!("TimestampPath {p}: {v} is not a timestamp")))?)
            }
        };
        sleep(secs, self.time_scale).await;
        Ok(())
    }

    fn choose<'m>(&self, c: &'m ChoiceState, input: &Value) -> Result<&'m str, TaskError> {
        for choice in &c.choices {
            if choice.rule.eval(input, &self.context).map_err(runtime)? {
                return Ok(&choice.next);
            }
        }
        c.default.as_deref().ok_or_else(|| err("States.NoChoiceMatched", "no choice matched"))
    }
}
