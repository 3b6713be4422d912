//! Shared by the conformance tests: a task runner that plays the Lambda functions of the AWS
//! documentation's examples, and helpers to load and run a definition.
#![allow(dead_code)]

use oms_asl::{CheckContext, Execution, Executor, TaskError, TaskRunner};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Plays the functions the examples name, by the end of the resource ARN:
/// `HelloFunction` returns `"Hello, <who>!"` (the getting-started tutorial's function),
/// `FailFunction` fails with `HandledError`, `sleep10` sleeps ten seconds, `Add`/`Subtract`
/// add or subtract the two numbers of their input, `Errors` fails with the errors in
/// `errors` in turn; every other resource echoes its input.
#[derive(Default)]
pub struct Functions {
    pub calls: Mutex<Vec<(String, Value)>>,
    pub errors: Mutex<Vec<&'static str>>,
}

impl Functions {
    pub fn failing_with(errors: &[&'static str]) -> Arc<Self> {
        Arc::new(Functions { errors: Mutex::new(errors.iter().rev().copied().collect()), ..Default::default() })
    }

    pub fn inputs(&self) -> Vec<Value> {
        self.calls.lock().unwrap().iter().map(|(_, v)| v.clone()).collect()
    }
}

#[async_trait::async_trait]
impl TaskRunner for Functions {
    async fn run(&self, resource: &str, state: &str, input: Value) -> Result<Value, TaskError> {
        self.calls.lock().unwrap().push((state.to_owned(), input.clone()));
        let function = resource.rsplit(':').next().unwrap_or_default();
        match function {
            "HelloFunction" => Ok(json!(format!("Hello, {}!", input["who"].as_str().unwrap_or_default()))),
            "FailFunction" => Err(TaskError::new("HandledError", "error")),
            "sleep10" => {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok(json!(null))
            }
            "Add" => Ok(json!(input[0].as_i64().unwrap() + input[1].as_i64().unwrap())),
            "Subtract" => Ok(json!(input[0].as_i64().unwrap() - input[1].as_i64().unwrap())),
            "Errors" => match self.errors.lock().unwrap().pop() {
                Some(e) => Err(TaskError::new(e, "injected")),
                None => Ok(json!("done")),
            },
            _ => Ok(input),
        }
    }
}

/// Loads a definition (the executor parses it) with retry and wait delays not waited for.
pub fn load(def: &Value, functions: Arc<Functions>) -> Executor {
    let mut ex = Executor::new(def, functions).unwrap_or_else(|e| panic!("{e}\n{def:#}"));
    ex.time_scale = 0.0;
    ex
}

pub async fn run(def: Value, input: Value) -> Execution {
    load(&def, Arc::new(Functions::default())).execute(input).await
}

/// Runs a definition to its output.
pub async fn output(def: Value, input: Value) -> Value {
    let ex = run(def, input).await;
    ex.result.unwrap_or_else(|e| panic!("{e}: {:?}", ex.history))
}

/// One state named `S` that ends the machine.
pub fn single(mut state: Value) -> Value {
    state["End"] = json!(true);
    json!({"StartAt": "S", "States": {"S": state}})
}

/// Why loading the definition fails: the executor's message, which the checker reports too.
pub fn refused(def: &Value) -> String {
    let message = match Executor::new(def, Arc::new(Functions::default())) {
        Ok(_) => panic!("loaded: {def:#}"),
        Err(e) => e,
    };
    let known = BTreeSet::new();
    let problems = oms_asl::check(def, &CheckContext { resource_ok: &|_, _| Ok(()), known_errors: &known });
    assert!(problems.contains(&message), "{problems:?} lacks {message}");
    message
}

/// The retry events of an execution's history (`retry 1 after ErrorA (1s)`).
pub fn retries(ex: &Execution) -> Vec<String> {
    ex.history.iter().filter(|e| e.kind.starts_with("retry")).map(|e| e.kind.clone()).collect()
}
