//! An in-process executor of the Amazon States Language, for local runs and tests: it runs a
//! definition file as written (Task, Choice, Pass, Wait, Succeed, Fail, Parallel, Map; Retry
//! and Catch; InputPath, Parameters, ResultSelector, ResultPath, OutputPath; the intrinsic
//! functions we use) and hands Task states to a [`TaskRunner`] that calls the same step
//! handlers the Lambdas run. [`check`] validates a definition statically.

pub mod path;

use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// A parsed state machine (or the branch of a Parallel/Map).
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

/// What a static check needs to know about the world.
pub struct CheckContext<'a> {
    /// Resolves a Task's resource to whether it names a known function or integration.
    pub resource_ok: &'a dyn Fn(&str, &Value) -> Result<(), String>,
    /// Error names handlers can raise (plus `States.*` and `Lambda.*`).
    pub known_errors: &'a BTreeSet<String>,
}

/// Checks a definition: StartAt and every Next/Default/Catch target exist, every state is
/// reachable, terminal states are terminal, Task resources are known, Retry/Catch errors are
/// ones our handlers raise, and paths parse.
pub fn check(def: &Value, ctx: &CheckContext) -> Vec<String> {
    let mut problems = Vec::new();
    check_machine(def, ctx, "", &mut problems);
    problems
}

const STATES_ERRORS: [&str; 10] = [
    "States.ALL",
    "States.Timeout",
    "States.TaskFailed",
    "States.Permissions",
    "States.ResultPathMatchFailure",
    "States.ParameterPathFailure",
    "States.BranchFailed",
    "States.NoChoiceMatched",
    "States.IntrinsicFailure",
    "States.HeartbeatTimeout",
];

fn check_machine(def: &Value, ctx: &CheckContext, prefix: &str, problems: &mut Vec<String>) {
    let m = match Machine::parse(def) {
        Ok(m) => m,
        Err(e) => {
            problems.push(format!("{prefix}{e}"));
            return;
        }
    };
    if !m.states.contains_key(&m.start_at) {
        problems.push(format!("{prefix}StartAt {} is not a state", m.start_at));
    }
    let mut reachable = BTreeSet::from([m.start_at.clone()]);
    for (name, s) in &m.states {
        let at = format!("{prefix}{name}");
        let ty = s.get("Type").and_then(Value::as_str).unwrap_or("");
        let mut targets: Vec<String> = Vec::new();
        if let Some(n) = s.get("Next").and_then(Value::as_str) {
            targets.push(n.to_owned());
        }
        let end = s.get("End").and_then(Value::as_bool).unwrap_or(false);
        match ty {
            "Task" | "Pass" | "Wait" | "Parallel" | "Map" => {
                if end == s.get("Next").is_some() {
                    problems.push(format!("{at}: needs exactly one of Next or End"));
                }
            }
            "Choice" => {
                let choices = s.get("Choices").and_then(Value::as_array).cloned().unwrap_or_default();
                if choices.is_empty() {
                    problems.push(format!("{at}: Choice without Choices"));
                }
                for c in choices {
                    match c.get("Next").and_then(Value::as_str) {
                        Some(n) => targets.push(n.to_owned()),
                        None => problems.push(format!("{at}: a choice rule has no Next")),
                    }
                }
                if let Some(d) = s.get("Default").and_then(Value::as_str) {
                    targets.push(d.to_owned());
                }
            }
            "Succeed" | "Fail" => {
                if s.get("Next").is_some() {
                    problems.push(format!("{at}: {ty} cannot have Next"));
                }
            }
            other => problems.push(format!("{at}: unknown state type {other:?}")),
        }
        if ty == "Task" {
            match s.get("Resource").and_then(Value::as_str) {
                Some(r) => {
                    if let Err(e) = (ctx.resource_ok)(r, s) {
                        problems.push(format!("{at}: {e}"));
                    }
                }
                None => problems.push(format!("{at}: Task without Resource")),
            }
        }
        for (field, list) in [("Retry", s.get("Retry")), ("Catch", s.get("Catch"))] {
            for rule in list.and_then(Value::as_array).cloned().unwrap_or_default() {
                for e in rule.get("ErrorEquals").and_then(Value::as_array).cloned().unwrap_or_default() {
                    let e = e.as_str().unwrap_or("");
                    let ok = STATES_ERRORS.contains(&e) || e.starts_with("Lambda.") || ctx.known_errors.contains(e);
                    if !ok {
                        problems.push(format!("{at}: {field} matches {e:?}, which no handler raises"));
                    }
                }
                if field == "Catch" {
                    match rule.get("Next").and_then(Value::as_str) {
                        Some(n) => targets.push(n.to_owned()),
                        None => problems.push(format!("{at}: Catch without Next")),
                    }
                }
            }
        }
        for p in ["InputPath", "OutputPath", "ResultPath", "ItemsPath"] {
            if let Some(v) = s.get(p).and_then(Value::as_str)
                && let Err(e) = path::read(v, &Value::Null, &Value::Null)
                    .map(|_| ())
                    .or_else(|e| if e.contains("not found") { Ok(()) } else { Err(e) })
            {
                problems.push(format!("{at}: {p}: {e}"));
            }
        }
        for t in targets {
            if !m.states.contains_key(&t) {
                problems.push(format!("{at}: Next {t:?} is not a state"));
            }
            reachable.insert(t);
        }
        if ty == "Parallel" {
            for (i, b) in s.get("Branches").and_then(Value::as_array).cloned().unwrap_or_default().iter().enumerate() {
                check_machine(b, ctx, &format!("{at}/branch{i}/"), problems);
            }
        }
        if ty == "Map" {
            match s.get("ItemProcessor").or_else(|| s.get("Iterator")) {
                Some(p) => check_machine(p, ctx, &format!("{at}/items/"), problems),
                None => problems.push(format!("{at}: Map without ItemProcessor")),
            }
        }
    }
    for name in m.states.keys() {
        if !reachable.contains(name) {
            problems.push(format!("{prefix}{name}: unreachable"));
        }
    }
}

/// One entry in an execution's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub state: String,
    pub kind: String,
}

/// Runs executions of one definition.
pub struct Executor {
    machine: Machine,
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

struct Run {
    runner: Arc<dyn TaskRunner>,
    context: Value,
    history: Mutex<Vec<Event>>,
    time_scale: f64,
}

fn err(e: &str, c: impl Into<String>) -> TaskError {
    TaskError::new(e, c)
}

impl Executor {
    pub fn new(definition: &Value, runner: Arc<dyn TaskRunner>) -> Result<Self, String> {
        Ok(Executor { machine: Machine::parse(definition)?, runner, time_scale: 1.0 })
    }

    pub async fn execute(&self, input: Value) -> Execution {
        let id = ulid::Ulid::new().to_string();
        let run = Run {
            runner: self.runner.clone(),
            context: json!({"Execution": {"Id": format!("local:{id}"), "Input": input.clone(), "StartTime": chrono::Utc::now().to_rfc3339()}}),
            history: Mutex::new(Vec::new()),
            time_scale: self.time_scale,
        };
        let result = run.machine(&self.machine, input).await;
        let history = run.history.lock().map(|h| h.clone()).unwrap_or_default();
        Execution { id, result, history }
    }
}

fn matches(rule: &Value, error: &str) -> bool {
    rule.get("ErrorEquals").and_then(Value::as_array).is_some_and(|l| {
        l.iter().any(|e| {
            e == "States.ALL" || e.as_str() == Some(error) || (e == "States.TaskFailed" && error != "States.Timeout")
        })
    })
}

impl Run {
    fn log(&self, state: &str, kind: &str) {
        if let Ok(mut h) = self.history.lock() {
            h.push(Event { state: state.to_owned(), kind: kind.to_owned() });
        }
    }

    fn machine<'a>(
        &'a self,
        m: &'a Machine,
        input: Value,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, TaskError>> + Send + 'a>> {
        Box::pin(async move {
            let mut current = m.start_at.clone();
            let mut data = input;
            loop {
                let state =
                    m.states.get(&current).ok_or_else(|| err("States.Runtime", format!("no state {current}")))?.clone();
                self.log(&current, "entered");
                let ty = state.get("Type").and_then(Value::as_str).unwrap_or("");
                let (output, next) = match ty {
                    "Succeed" => return self.output_path(&state, data),
                    "Fail" => {
                        let e = state.get("Error").and_then(Value::as_str).unwrap_or("States.Fail");
                        let c = state.get("Cause").and_then(Value::as_str).unwrap_or("");
                        return Err(err(e, c));
                    }
                    "Choice" => {
                        let effective = self.input_path(&state, data.clone())?;
                        let next = self.choose(&state, &effective)?;
                        (self.output_path(&state, data)?, Some(next))
                    }
                    _ => match self.step(&current, &state, data.clone()).await {
                        Ok(out) => (out, state.get("Next").and_then(Value::as_str).map(str::to_owned)),
                        Err(e) => {
                            let catcher = state
                                .get("Catch")
                                .and_then(Value::as_array)
                                .and_then(|c| c.iter().find(|r| matches(r, &e.error)).cloned());
                            match catcher {
                                Some(c) => {
                                    self.log(&current, &format!("caught {}", e.error));
                                    let rp = c.get("ResultPath").and_then(Value::as_str).unwrap_or("$");
                                    let out = path::write(rp, data, json!({"Error": e.error, "Cause": e.cause}))
                                        .map_err(|x| err("States.ResultPathMatchFailure", x))?;
                                    (out, c.get("Next").and_then(Value::as_str).map(str::to_owned))
                                }
                                None => return Err(e),
                            }
                        }
                    },
                };
                data = output;
                match next {
                    Some(n) => current = n,
                    None => return Ok(data),
                }
            }
        })
    }

    fn input_path(&self, state: &Value, data: Value) -> Result<Value, TaskError> {
        match state.get("InputPath") {
            Some(Value::Null) => Ok(json!({})),
            Some(Value::String(p)) => path::read(p, &data, &self.context).map_err(|e| err("States.Runtime", e)),
            _ => Ok(data),
        }
    }

    fn output_path(&self, state: &Value, data: Value) -> Result<Value, TaskError> {
        match state.get("OutputPath") {
            Some(Value::Null) => Ok(json!({})),
            Some(Value::String(p)) => path::read(p, &data, &self.context).map_err(|e| err("States.Runtime", e)),
            _ => Ok(data),
        }
    }

    /// Resolves a Parameters/ResultSelector template: `key.$` fields are paths or intrinsics.
    fn template(&self, t: &Value, input: &Value) -> Result<Value, TaskError> {
        match t {
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, v) in m {
                    if let Some(key) = k.strip_suffix(".$") {
                        let expr = v.as_str().ok_or_else(|| err("States.Runtime", format!("{k} must be a string")))?;
                        out.insert(key.to_owned(), self.expression(expr, input)?);
                    } else {
                        out.insert(k.clone(), self.template(v, input)?);
                    }
                }
                Ok(Value::Object(out))
            }
            Value::Array(a) => Ok(Value::Array(a.iter().map(|x| self.template(x, input)).collect::<Result<_, _>>()?)),
            other => Ok(other.clone()),
        }
    }

    fn expression(&self, expr: &str, input: &Value) -> Result<Value, TaskError> {
        if expr.starts_with('$') {
            return path::read(expr, input, &self.context).map_err(|e| err("States.ParameterPathFailure", e));
        }
        intrinsic(expr, &|p| path::read(p, input, &self.context).map_err(|e| err("States.ParameterPathFailure", e)))
    }

    async fn step(&self, name: &str, state: &Value, data: Value) -> Result<Value, TaskError> {
        let ty = state.get("Type").and_then(Value::as_str).unwrap_or("");
        let effective = self.input_path(state, data.clone())?;
        let params = match state.get("Parameters").or_else(|| state.get("ItemSelector").filter(|_| ty != "Map")) {
            Some(t) => self.template(t, &effective)?,
            None => effective.clone(),
        };
        let result = match ty {
            "Pass" => state.get("Result").cloned().unwrap_or(params),
            "Wait" => {
                let secs = match (state.get("Seconds"), state.get("SecondsPath")) {
                    (Some(s), _) => s.as_f64().unwrap_or(0.0),
                    (None, Some(Value::String(p))) => {
                        path::read(p, &effective, &self.context).ok().and_then(|v| v.as_f64()).unwrap_or(0.0)
                    }
                    _ => 0.0,
                };
                tokio::time::sleep(Duration::from_secs_f64((secs * self.time_scale).max(0.0))).await;
                params
            }
            "Task" => self.task(name, state, params).await?,
            "Parallel" => {
                let branches = state.get("Branches").and_then(Value::as_array).cloned().unwrap_or_default();
                let mut outs = Vec::new();
                let machines: Vec<Machine> = branches
                    .iter()
                    .map(Machine::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|e| err("States.Runtime", e))?;
                let futs = machines.iter().map(|m| self.machine(m, params.clone()));
                for r in futures_join(futs.collect()).await {
                    outs.push(r.map_err(|e| err(&e.error, e.cause))?);
                }
                Value::Array(outs)
            }
            "Map" => {
                let items_path = state.get("ItemsPath").and_then(Value::as_str).unwrap_or("$");
                let items = path::read(items_path, &effective, &self.context).map_err(|e| err("States.Runtime", e))?;
                let items =
                    items.as_array().cloned().ok_or_else(|| err("States.Runtime", "ItemsPath is not an array"))?;
                let proc_def = state
                    .get("ItemProcessor")
                    .or_else(|| state.get("Iterator"))
                    .ok_or_else(|| err("States.Runtime", "Map without ItemProcessor"))?;
                let m = Machine::parse(proc_def).map_err(|e| err("States.Runtime", e))?;
                let mut inputs = Vec::new();
                for (i, item) in items.into_iter().enumerate() {
                    let v = match state.get("ItemSelector").or_else(|| state.get("Parameters")) {
                        Some(t) => {
                            let mut ctx_input = effective.clone();
                            if let Value::Object(o) = &mut ctx_input {
                                o.insert("__item".into(), item.clone());
                                o.insert("__index".into(), json!(i));
                            }
                            let t = rewrite_map_refs(t);
                            self.template(&t, &ctx_input)?
                        }
                        None => item,
                    };
                    inputs.push(v);
                }
                let futs = inputs.into_iter().map(|v| self.machine(&m, v)).collect();
                let mut outs = Vec::new();
                for r in futures_join(futs).await {
                    outs.push(r?);
                }
                Value::Array(outs)
            }
            other => return Err(err("States.Runtime", format!("unsupported state type {other}"))),
        };
        let selected = match state.get("ResultSelector") {
            Some(t) => self.template(t, &result)?,
            None => result,
        };
        let combined = match state.get("ResultPath") {
            Some(Value::Null) => data,
            Some(Value::String(p)) => {
                path::write(p, data, selected).map_err(|e| err("States.ResultPathMatchFailure", e))?
            }
            _ => selected,
        };
        self.output_path(state, combined)
    }

    async fn task(&self, name: &str, state: &Value, params: Value) -> Result<Value, TaskError> {
        let resource = state.get("Resource").and_then(Value::as_str).unwrap_or("").to_owned();
        let retriers = state.get("Retry").and_then(Value::as_array).cloned().unwrap_or_default();
        let timeout = state.get("TimeoutSeconds").and_then(Value::as_u64).unwrap_or(60);
        let mut attempts: HashMap<usize, u64> = HashMap::new();
        loop {
            let call = self.runner.run(&resource, name, params.clone());
            let res = match tokio::time::timeout(Duration::from_secs(timeout), call).await {
                Ok(r) => r,
                Err(_) => Err(err("States.Timeout", format!("{name} timed out"))),
            };
            let e = match res {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let Some((idx, rule)) = retriers.iter().enumerate().find(|(_, r)| matches(r, &e.error)) else {
                return Err(e);
            };
            let n = attempts.entry(idx).or_insert(0);
            let max = rule.get("MaxAttempts").and_then(Value::as_u64).unwrap_or(3);
            if *n >= max {
                return Err(e);
            }
            let interval = rule.get("IntervalSeconds").and_then(Value::as_f64).unwrap_or(1.0);
            let rate = rule.get("BackoffRate").and_then(Value::as_f64).unwrap_or(2.0);
            let mut delay = interval * rate.powi(i32::try_from(*n).unwrap_or(30));
            if let Some(max_delay) = rule.get("MaxDelaySeconds").and_then(Value::as_f64) {
                delay = delay.min(max_delay);
            }
            if rule.get("JitterStrategy").and_then(Value::as_str) == Some("FULL") {
                delay *= rand::random::<f64>();
            }
            *n += 1;
            self.log(name, &format!("retry {} after {}", *n, e.error));
            tokio::time::sleep(Duration::from_secs_f64((delay * self.time_scale).max(0.0))).await;
        }
    }

    fn choose(&self, state: &Value, input: &Value) -> Result<String, TaskError> {
        for c in state.get("Choices").and_then(Value::as_array).cloned().unwrap_or_default() {
            if self.rule(&c, input)? {
                return c
                    .get("Next")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| err("States.Runtime", "choice without Next"));
            }
        }
        state
            .get("Default")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| err("States.NoChoiceMatched", "no choice matched"))
    }

    fn rule(&self, r: &Value, input: &Value) -> Result<bool, TaskError> {
        if let Some(list) = r.get("And").and_then(Value::as_array) {
            return list.iter().try_fold(true, |acc, x| Ok(acc && self.rule(x, input)?));
        }
        if let Some(list) = r.get("Or").and_then(Value::as_array) {
            return list.iter().try_fold(false, |acc, x| Ok(acc || self.rule(x, input)?));
        }
        if let Some(x) = r.get("Not") {
            return Ok(!self.rule(x, input)?);
        }
        let var = r
            .get("Variable")
            .and_then(Value::as_str)
            .ok_or_else(|| err("States.Runtime", "choice rule without Variable"))?;
        if let Some(want) = r.get("IsPresent").and_then(Value::as_bool) {
            return Ok(path::exists(var, input, &self.context) == want);
        }
        let v = match path::read(var, input, &self.context) {
            Ok(v) => v,
            Err(_) => return Ok(false),
        };
        for (op, arg) in r.as_object().into_iter().flatten() {
            let (op, arg) = match op.strip_suffix("Path") {
                Some(base) if op != "IsPresent" => (
                    base.to_owned(),
                    path::read(arg.as_str().unwrap_or("$"), input, &self.context).unwrap_or(Value::Null),
                ),
                _ => (op.clone(), arg.clone()),
            };
            let res = match op.as_str() {
                "StringEquals" | "NumericEquals" | "BooleanEquals" | "TimestampEquals" => {
                    Some(v == arg || (v.as_f64().is_some() && v.as_f64() == arg.as_f64()))
                }
                "NumericLessThan" => Some(v.as_f64() < arg.as_f64()),
                "NumericGreaterThan" => Some(v.as_f64() > arg.as_f64()),
                "NumericLessThanEquals" => Some(v.as_f64() <= arg.as_f64()),
                "NumericGreaterThanEquals" => Some(v.as_f64() >= arg.as_f64()),
                "StringLessThan" => Some(v.as_str() < arg.as_str()),
                "StringGreaterThan" => Some(v.as_str() > arg.as_str()),
                "IsNull" => Some(v.is_null() == arg.as_bool().unwrap_or(true)),
                "IsString" => Some(v.is_string() == arg.as_bool().unwrap_or(true)),
                "IsNumeric" => Some(v.is_number() == arg.as_bool().unwrap_or(true)),
                "IsBoolean" => Some(v.is_boolean() == arg.as_bool().unwrap_or(true)),
                "StringMatches" => Some(glob(v.as_str().unwrap_or(""), arg.as_str().unwrap_or(""))),
                _ => None,
            };
            if let Some(b) = res {
                return Ok(b);
            }
        }
        Err(err("States.Runtime", format!("unsupported choice rule {r}")))
    }
}

/// Map's ItemSelector refers to the current item as `$$.Map.Item.Value`; the executor keeps
/// it under `$.__item`.
fn rewrite_map_refs(t: &Value) -> Value {
    match t {
        Value::String(s) => {
            Value::String(s.replace("$$.Map.Item.Value", "$.__item").replace("$$.Map.Item.Index", "$.__index"))
        }
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), rewrite_map_refs(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(rewrite_map_refs).collect()),
        other => other.clone(),
    }
}

fn glob(s: &str, pattern: &str) -> bool {
    match pattern.split_once('*') {
        None => s == pattern,
        Some((head, tail)) => {
            s.starts_with(head)
                && (0..=s.len() - head.len()).any(|i| s.get(head.len() + i..).is_some_and(|rest| glob(rest, tail)))
        }
    }
}

async fn futures_join<'a, T>(futs: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>>) -> Vec<T> {
    let mut out = Vec::with_capacity(futs.len());
    // Branches run one after another: the order of side effects is deterministic locally,
    // and concurrency is not what these tests are about.
    for f in futs {
        out.push(f.await);
    }
    out
}

/// The intrinsic functions our definitions use: States.Format, States.StringToJson,
/// States.JsonToString, States.Array, States.UUID.
fn intrinsic(expr: &str, read: &dyn Fn(&str) -> Result<Value, TaskError>) -> Result<Value, TaskError> {
    let open = expr.find('(').ok_or_else(|| err("States.IntrinsicFailure", format!("not an intrinsic: {expr}")))?;
    let name = &expr[..open];
    let inner =
        expr[open + 1..].strip_suffix(')').ok_or_else(|| err("States.IntrinsicFailure", "unclosed intrinsic"))?;
    let args = split_args(inner)?
        .into_iter()
        .map(|a| {
            let a = a.trim();
            if let Some(s) = a.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
                Ok(Value::String(s.replace("\\'", "'")))
            } else if a.starts_with('$') {
                read(a)
            } else if a.starts_with("States.") {
                intrinsic(a, read)
            } else {
                serde_json::from_str(a).map_err(|_| err("States.IntrinsicFailure", format!("bad argument {a}")))
            }
        })
        .collect::<Result<Vec<Value>, TaskError>>()?;
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match name {
        "States.Format" => {
            let fmt = args
                .first()
                .and_then(Value::as_str)
                .ok_or_else(|| err("States.IntrinsicFailure", "Format needs a template"))?;
            let mut out = String::new();
            let mut rest = args[1..].iter();
            let mut parts = fmt.split("{}").peekable();
            while let Some(p) = parts.next() {
                out.push_str(p);
                if parts.peek().is_some() {
                    out.push_str(
                        &rest
                            .next()
                            .map(text)
                            .ok_or_else(|| err("States.IntrinsicFailure", "too few Format arguments"))?,
                    );
                }
            }
            Ok(Value::String(out))
        }
        "States.StringToJson" => serde_json::from_str(args.first().and_then(Value::as_str).unwrap_or("null"))
            .map_err(|e| err("States.IntrinsicFailure", e.to_string())),
        "States.JsonToString" => Ok(Value::String(args.first().map(|v| v.to_string()).unwrap_or_default())),
        "States.Array" => Ok(Value::Array(args)),
        "States.UUID" => Ok(Value::String(ulid::Ulid::new().to_string())),
        other => Err(err("States.IntrinsicFailure", format!("unsupported intrinsic {other}"))),
    }
}

fn split_args(s: &str) -> Result<Vec<String>, TaskError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    let mut quoted = false;
    let mut prev = ' ';
    for c in s.chars() {
        match c {
            '\'' if prev != '\\' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(std::mem::take(&mut cur));
                prev = c;
                continue;
            }
            _ => {}
        }
        cur.push(c);
        prev = c;
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Flaky {
        calls: AtomicU32,
    }

    #[async_trait::async_trait]
    impl TaskRunner for Flaky {
        async fn run(&self, resource: &str, _state: &str, input: Value) -> Result<Value, TaskError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            match resource {
                "flaky" if n == 0 => Err(TaskError::new("Transient", "first call fails")),
                "boom" => Err(TaskError::new("Business", "no")),
                _ => Ok(json!({"echo": input})),
            }
        }
    }

    fn def() -> Value {
        json!({
            "StartAt": "A",
            "States": {
                "A": {"Type": "Task", "Resource": "flaky", "Parameters": {"id.$": "$.id", "msg.$": "States.Format('order {}', $.id)"},
                      "ResultPath": "$.a", "Retry": [{"ErrorEquals": ["Transient"], "IntervalSeconds": 1, "MaxAttempts": 2}], "Next": "C"},
                "C": {"Type": "Choice", "Choices": [{"Variable": "$.go", "StringEquals": "boom", "Next": "B"}], "Default": "Done"},
                "B": {"Type": "Task", "Resource": "boom", "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handled"}], "End": true},
                "Handled": {"Type": "Pass", "Parameters": {"caught.$": "$.error.Error"}, "End": true},
                "Done": {"Type": "Succeed"}
            }
        })
    }

    #[tokio::test]
    async fn retries_then_chooses_and_catches() {
        let mut ex = Executor::new(&def(), Arc::new(Flaky { calls: AtomicU32::new(0) })).unwrap();
        ex.time_scale = 0.001;
        let out = ex.execute(json!({"id": "o1", "go": "boom"})).await;
        assert_eq!(out.result.unwrap(), json!({"caught": "Business"}));
        assert!(out.history.iter().any(|e| e.kind.starts_with("retry 1")));
        let ok = ex.execute(json!({"id": "o2", "go": "no"})).await.result.unwrap();
        assert_eq!(ok["a"]["echo"], json!({"id": "o2", "msg": "order o2"}));
    }

    #[test]
    fn check_reports_missing_targets_unknown_errors_and_unreachable_states() {
        let mut d = def();
        d["States"]["A"]["Next"] = json!("Nowhere");
        d["States"]["B"]["Catch"][0]["ErrorEquals"] = json!(["Mystery"]);
        d["States"]["Orphan"] = json!({"Type": "Succeed"});
        let known = BTreeSet::from(["Transient".to_owned()]);
        let problems = check(&d, &CheckContext { resource_ok: &|_, _| Ok(()), known_errors: &known });
        assert!(problems.iter().any(|p| p.contains("\"Nowhere\" is not a state")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("Mystery")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("Orphan: unreachable")), "{problems:?}");
    }
}
