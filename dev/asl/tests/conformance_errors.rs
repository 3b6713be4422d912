//! Conformance, errors: Retry, Catch and timeouts, on the examples of the AWS Step Functions
//! Developer Guide (docs/asl-conformance.md). Retry delays are read from the history
//! (`retry 2 after HandledError (2s)`), not waited for.

mod common;

use common::*;
use serde_json::{Value, json};
use std::sync::Arc;

const FAIL: &str = "arn:aws:lambda:us-east-1:123456789012:function:FailFunction";
const SLEEP10: &str = "arn:aws:lambda:us-east-1:123456789012:function:sleep10";
const ERRORS: &str = "arn:aws:states:us-east-1:123456789012:task:Errors";

fn hello_world(task: Value, fallback: bool) -> Value {
    let mut def = json!({"Comment": "A Hello World example of the Amazon States Language using an AWS Lambda function",
        "StartAt": "HelloWorld", "States": {"HelloWorld": task}});
    def["States"]["HelloWorld"]["Type"] = json!("Task");
    def["States"]["HelloWorld"]["End"] = json!(true);
    if fallback {
        def["States"]["fallback"] = json!({"Type": "Pass", "Result": "Hello, AWS Step Functions!", "End": true});
    }
    def
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (Handling a failure using Retry)
#[tokio::test]
async fn retry_an_error_twice_with_backoff() {
    for error in ["HandledError", "States.TaskFailed"] {
        let def = hello_world(
            json!({"Resource": FAIL, "Retry": [{"ErrorEquals": [error], "IntervalSeconds": 1,
                                                                   "MaxAttempts": 2, "BackoffRate": 2.0}]}),
            false,
        );
        let functions = Arc::new(Functions::default());
        let ex = load(&def, functions.clone()).execute(json!({})).await;
        assert_eq!(ex.result.as_ref().unwrap_err().error, "HandledError", "{error}");
        assert_eq!(functions.inputs().len(), 3, "{error}");
        assert_eq!(retries(&ex), ["retry 1 after HandledError (1s)", "retry 2 after HandledError (2s)"], "{error}");
    }
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (retrier fields:
// "makes 2 retry attempts after waiting for 3 and 4.5 seconds")
#[tokio::test]
async fn retry_interval_and_backoff_rate() {
    let task = json!({"Type": "Task", "Resource": ERRORS,
        "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 3, "MaxAttempts": 2, "BackoffRate": 1.5}]});
    let functions = Functions::failing_with(&["States.Timeout", "States.Timeout", "States.Timeout"]);
    let ex = load(&single(task), functions).execute(json!({})).await;
    assert_eq!(ex.result.as_ref().unwrap_err().error, "States.Timeout");
    assert_eq!(retries(&ex), ["retry 1 after States.Timeout (3s)", "retry 2 after States.Timeout (4.5s)"]);
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html ("retries any
// error except States.Timeout": MaxAttempts 0, then States.ALL)
#[tokio::test]
async fn retry_max_attempts_zero_and_states_all() {
    let task = json!({"Type": "Task", "Resource": ERRORS,
        "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"]}]});
    let functions = Functions::failing_with(&["States.Timeout"]);
    let ex = load(&single(task.clone()), functions.clone()).execute(json!({})).await;
    assert_eq!(ex.result.as_ref().unwrap_err().error, "States.Timeout");
    assert_eq!((functions.inputs().len(), retries(&ex).len()), (1, 0));
    let functions = Functions::failing_with(&["Other", "Other"]);
    let ex = load(&single(task), functions.clone()).execute(json!({})).await;
    assert_eq!(ex.result.as_ref().unwrap(), &json!("done"));
    assert_eq!(retries(&ex), ["retry 1 after Other (1s)", "retry 2 after Other (2s)"]);
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (Complex retry scenarios)
#[tokio::test]
async fn retriers_count_attempts_across_errors() {
    let def = json!({"StartAt": "X", "States": {
        "X": {"Type": "Task", "Resource": ERRORS, "Next": "Y",
              "Retry": [{"ErrorEquals": ["ErrorA", "ErrorB"], "IntervalSeconds": 1, "BackoffRate": 2.0, "MaxAttempts": 2},
                        {"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Z"}]},
        "Y": {"Type": "Succeed"}, "Z": {"Type": "Pass", "End": true}}});
    let functions = Functions::failing_with(&["ErrorA", "ErrorB", "ErrorC", "ErrorB"]);
    let ex = load(&def, functions.clone()).execute(json!({})).await;
    assert_eq!(retries(&ex), ["retry 1 after ErrorA (1s)", "retry 2 after ErrorB (2s)", "retry 1 after ErrorC (5s)"]);
    assert_eq!(functions.inputs().len(), 4, "the fourth error finds the first retrier spent");
    assert_eq!(ex.result.unwrap(), json!({"Error": "ErrorB", "Cause": "injected"}));
    assert_eq!(ex.history.last().unwrap().state, "Z");
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (Handling a failure using Catch)
#[tokio::test]
async fn catch_an_error_to_a_fallback_state() {
    for error in ["HandledError", "States.TaskFailed"] {
        let def = hello_world(json!({"Resource": FAIL, "Catch": [{"ErrorEquals": [error], "Next": "fallback"}]}), true);
        assert_eq!(output(def, json!({})).await, json!("Hello, AWS Step Functions!"), "{error}");
    }
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (Fallback states:
// catchers in order, a catcher's ResultPath; the default `$` sends the error output alone)
#[tokio::test]
async fn catchers_in_order_with_their_result_paths() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": ERRORS, "End": true, "Catch": [
            {"ErrorEquals": ["java.lang.Exception"], "ResultPath": "$.error-info", "Next": "RecoveryState"},
            {"ErrorEquals": ["States.ALL"], "Next": "EndState"}]},
        "RecoveryState": {"Type": "Pass", "End": true}, "EndState": {"Type": "Pass", "End": true}}});
    let ex = load(&def, Functions::failing_with(&["java.lang.Exception"])).execute(json!({"foo": "bar"})).await;
    let expected = json!({"foo": "bar", "error-info": {"Error": "java.lang.Exception", "Cause": "injected"}});
    assert_eq!(ex.result.unwrap(), expected);
    let ex = load(&def, Functions::failing_with(&["Other"])).execute(json!({"foo": "bar"})).await;
    assert_eq!(ex.result.unwrap(), json!({"Error": "Other", "Cause": "injected"}));
    assert_eq!(ex.history.last().unwrap().state, "EndState");
}

// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html (error and input in a Catch)
#[tokio::test]
async fn catch_resultpath_keeps_the_input_with_the_error() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": ERRORS, "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "NextTask", "ResultPath": "$.error"}]},
        "NextTask": {"Type": "Pass", "End": true}}});
    let out = load(&def, Functions::failing_with(&["Error here"])).execute(json!({"foo": "bar"})).await.result.unwrap();
    assert_eq!((&out["foo"], &out["error"]["Error"]), (&json!("bar"), &json!("Error here")));
    // ResultPath null works as a state's: the input goes on, the error output is dropped.
    let mut def = def;
    def["States"]["T"]["Catch"][0]["ResultPath"] = json!(null);
    let out = load(&def, Functions::failing_with(&["Error here"])).execute(json!({"foo": "bar"})).await.result.unwrap();
    assert_eq!(out, json!({"foo": "bar"}));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (Handling a timeout using Catch)
#[tokio::test]
async fn task_timeout_is_caught() {
    let def = hello_world(
        json!({"Resource": SLEEP10, "TimeoutSeconds": 2,
                                 "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "fallback"}]}),
        true,
    );
    assert_eq!(output(def, json!({})).await, json!("Hello, AWS Step Functions!"));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (Handling a timeout using Retry)
#[tokio::test]
async fn task_timeout_is_retried() {
    let def = hello_world(
        json!({"Resource": SLEEP10, "TimeoutSeconds": 2, "Retry": [{"ErrorEquals": ["States.Timeout"],
                                 "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2.0}]}),
        false,
    );
    let functions = Arc::new(Functions::default());
    let ex = load(&def, functions.clone()).execute(json!({})).await;
    assert_eq!(ex.result.as_ref().unwrap_err().error, "States.Timeout");
    assert_eq!(functions.inputs().len(), 3);
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (error names:
// States.TaskFailed matches any error but States.Timeout)
#[tokio::test]
async fn states_taskfailed_does_not_match_a_timeout() {
    let task = json!({"Type": "Task", "Resource": ERRORS, "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "C"}], "Next": "C"});
    let def = json!({"StartAt": "T", "States": {"T": task, "C": {"Type": "Succeed"}}});
    let ex = load(&def, Functions::failing_with(&["States.Timeout"])).execute(json!({})).await;
    assert_eq!(ex.result.as_ref().unwrap_err().error, "States.Timeout");
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (States.Runtime:
// "A retry or catch on States.ALL will not catch States.Runtime errors")
#[tokio::test]
async fn states_all_does_not_catch_a_runtime_error() {
    let task = json!({"Type": "Task", "Resource": ERRORS, "InputPath": "$.missing", "Next": "C",
        "Retry": [{"ErrorEquals": ["States.ALL"]}], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}]});
    let def = json!({"StartAt": "T", "States": {"T": task, "C": {"Type": "Succeed"}}});
    let ex = load(&def, Arc::new(Functions::default())).execute(json!({})).await;
    assert_eq!(ex.result.as_ref().unwrap_err().error, "States.Runtime");
    assert!(retries(&ex).is_empty());
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (error names:
// States.ParameterPathFailure, States.ResultPathMatchFailure, States.Runtime for an OutputPath)
#[tokio::test]
async fn paths_that_select_nothing_at_run_time() {
    let cases = [
        (json!({"Type": "Pass", "Parameters": {"x.$": "$.missing"}}), "States.ParameterPathFailure"),
        (json!({"Type": "Pass", "ResultPath": "$.a.b"}), "States.ResultPathMatchFailure"),
        (json!({"Type": "Pass", "OutputPath": "$.missing"}), "States.Runtime"),
    ];
    for (state, error) in cases {
        assert_eq!(run(single(state.clone()), json!({"a": "x"})).await.result.unwrap_err().error, error, "{state}");
    }
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html (Retry on a Map: "the
// retry policy applies to all the Map state iterations"); Parallel states retry likewise.
#[tokio::test]
async fn map_and_parallel_retry_every_iteration() {
    let processor = json!({"StartAt": "I", "States": {"I": {"Type": "Task", "Resource": ERRORS, "End": true}}});
    let retry = json!([{"ErrorEquals": ["Transient"]}]);
    let map = json!({"Type": "Map", "Retry": retry, "ItemProcessor": processor});
    let functions = Functions::failing_with(&["Transient"]);
    let ex = load(&single(map), functions.clone()).execute(json!([1, 2, 3])).await;
    assert_eq!(ex.result.unwrap(), json!(["done", "done", "done"]));
    assert_eq!(functions.inputs(), [json!(1), json!(1), json!(2), json!(3)]);
    let parallel = json!({"Type": "Parallel", "Retry": retry, "Branches": [processor, processor]});
    let functions = Functions::failing_with(&["Transient"]);
    let ex = load(&single(parallel), functions.clone()).execute(json!({})).await;
    assert_eq!(ex.result.as_ref().unwrap(), &json!(["done", "done"]));
    assert_eq!((functions.inputs().len(), retries(&ex).len()), (3, 1));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html (TimeoutSeconds:
// "If it runs longer than the specified time, the execution fails with a States.Timeout")
#[tokio::test]
async fn execution_timeout() {
    let mut def = hello_world(json!({"Resource": SLEEP10, "TimeoutSeconds": 5}), false);
    def["TimeoutSeconds"] = json!(1);
    let started = std::time::Instant::now();
    assert_eq!(run(def, json!({})).await.result.unwrap_err().error, "States.Timeout");
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
}
