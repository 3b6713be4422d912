use crate::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
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

pub(super) fn def() -> Value {
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

/// Echoes its input, tagged with the resource.
struct Echo;

#[async_trait::async_trait]
impl TaskRunner for Echo {
    async fn run(&self, resource: &str, _state: &str, input: Value) -> Result<Value, TaskError> {
        match resource {
            "fail" => Err(TaskError::new("Business", "no")),
            _ => Ok(json!({"resource": resource, "input": input})),
        }
    }
}

async fn run(def: Value, input: Value) -> Result<Value, TaskError> {
    let mut ex = Executor::new(&def, Arc::new(Echo)).unwrap();
    ex.time_scale = 0.0;
    ex.execute(input).await.result
}

#[tokio::test]
async fn parallel_map_wait_and_data_flow() {
    let d = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "InputPath": "$.in", "ResultSelector": {"first.$": "$[0]", "n.$": "$[1].input.n"},
              "ResultPath": "$.par", "Next": "M", "Branches": [
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.n", "Next": "X"},
                                         "X": {"Type": "Pass", "Result": {"fixed": true}, "End": true}}},
            {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "r", "End": true}}}]},
        "M": {"Type": "Map", "ItemsPath": "$.items", "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index", "k.$": "$.k"},
              "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "OutputPath": "$.v", "End": true}}},
              "ResultPath": "$.mapped", "OutputPath": "$..mapped", "Next": "Out"},
        "Out": {"Type": "Pass", "Parameters": {"par.$": "$.par", "mapped.$": "$.mapped", "ctx.$": "States.Array($$.Execution.Input.k)"},
                "ResultPath": null, "Next": "End"},
        "End": {"Type": "Succeed", "OutputPath": null}
    }});
    // OutputPath `$..mapped` does not parse as a path.
    assert!(Executor::new(&d, Arc::new(Echo)).is_err());
    let mut d = d;
    d["States"]["M"]["OutputPath"] = json!("$");
    d["States"]["End"]["OutputPath"] = json!("$.mapped");
    let out = run(d.clone(), json!({"in": {"n": 0}, "items": [1, 2], "k": "K"})).await.unwrap();
    assert_eq!(out, json!([1, 2]));
    d["States"]["End"] = json!({"Type": "Succeed"});
    let out = run(d.clone(), json!({"in": {"n": 0}, "items": ["a"], "k": "K"})).await.unwrap();
    assert_eq!(out["par"], json!({"first": {"fixed": true}, "n": 0}));
    d["States"]["End"]["OutputPath"] = json!(null);
    assert_eq!(run(d, json!({"in": {"n": 0}, "items": [], "k": 1})).await.unwrap(), json!({}));
}

#[tokio::test]
async fn runtime_failures_and_catches() {
    let d = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "fail", "Catch": [{"ErrorEquals": ["Other"], "Next": "F"},
              {"ErrorEquals": ["States.TaskFailed"], "ResultPath": null, "Next": "F"}], "End": true},
        "F": {"Type": "Pass", "End": true}
    }});
    // A Catch's ResultPath works like a state's: null discards the error output and passes
    // the state's input on (as on AWS; this executor used to pass the error output instead).
    assert_eq!(run(d.clone(), json!({"a": 1})).await.unwrap(), json!({"a": 1}));
    let mut d = d;
    d["States"]["T"]["Catch"][1].as_object_mut().unwrap().remove("ResultPath");
    assert_eq!(run(d, json!({"a": 1})).await.unwrap(), json!({"Error": "Business", "Cause": "no"}));
    let d = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 1, "Next": "E"}]},
        "E": {"Type": "Fail", "Error": "Low", "Cause": "n < 1"}
    }});
    assert_eq!(run(d.clone(), json!({"n": 0})).await.unwrap_err(), TaskError::new("Low", "n < 1"));
    assert_eq!(run(d, json!({"n": 5})).await.unwrap_err().error, "States.NoChoiceMatched");
    let d = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "r", "Parameters": {"x.$": "$.missing"}, "End": true}}});
    assert_eq!(run(d, json!({})).await.unwrap_err().error, "States.ParameterPathFailure");
}
