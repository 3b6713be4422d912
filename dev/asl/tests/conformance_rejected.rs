//! Conformance, refusals: what the executor does not implement, or the language does not
//! allow, fails when the definition is loaded (the executor's parse and the checker), with
//! the state and the field named, rather than being ignored or failing in the middle of a
//! run (docs/asl-conformance.md).

mod common;

use common::*;
use oms_asl::{Definition, UNSUPPORTED_INTRINSICS};
use serde_json::{Value, json};

const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:HelloWorld";

/// A machine of `state` (named `S`, ending it) and a Succeed state `N` to go to.
fn with(state: Value) -> Value {
    let mut def = single(state);
    def["States"]["N"] = json!({"Type": "Succeed"});
    def
}

fn task(extra: Value) -> Value {
    let mut t = json!({"Type": "Task", "Resource": LAMBDA});
    t.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    with(t)
}

fn pass(parameters: Value) -> Value {
    with(json!({"Type": "Pass", "Parameters": parameters}))
}

fn refuses(rows: Vec<(&str, Value, &str)>) {
    for (name, def, message) in rows {
        assert_eq!(refused(&def), message, "{name}");
    }
}

// Timeouts and callbacks:
// https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-task-state.html (Task state timeouts and heartbeat intervals)
// https://docs.aws.amazon.com/step-functions/latest/dg/sfn-stuck-execution.html (the callback example)
#[test]
fn heartbeats_dynamic_timeouts_and_callbacks_are_refused() {
    let activity = json!({"StartAt": "ActivityState", "States": {"ActivityState": {"Type": "Task",
        "Resource": "arn:aws:states:us-east-1:123456789012:activity:HelloWorld", "TimeoutSeconds": 300, "HeartbeatSeconds": 60, "End": true}}});
    let heartbeat = "task heartbeats (activities, callbacks) do not exist locally";
    refuses(vec![
        (
            "HeartbeatSeconds",
            activity,
            &format!("ActivityState: HeartbeatSeconds is not supported by the local executor: {heartbeat}"),
        ),
        (
            "TimeoutSecondsPath",
            task(json!({"TimeoutSecondsPath": "$.params.maxTime"})),
            "S: TimeoutSecondsPath is not supported by the local executor: timeouts come from the definition only (use TimeoutSeconds)",
        ),
        (
            "HeartbeatSecondsPath",
            task(json!({"HeartbeatSecondsPath": "$.params.heartbeat"})),
            &format!("S: HeartbeatSecondsPath is not supported by the local executor: {heartbeat}"),
        ),
        ("TimeoutSeconds 0", task(json!({"TimeoutSeconds": 0})), "S: TimeoutSeconds must be a positive integer"),
        (
            ".waitForTaskToken",
            with(json!({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken"})),
            "S: Resource is not supported by the local executor: the callback pattern (.waitForTaskToken) needs task tokens",
        ),
        (
            "$$.Task.Token",
            task(json!({"Parameters": {"MessageBody": {"myTaskToken.$": "$$.Task.Token"}}})),
            "S: Parameters: myTaskToken.$: the local executor's context object has no $$.Task.Token: it provides \
          $$.Execution.Id, .Input, .Name and .StartTime ($$.Map only in a Map state's ItemSelector)",
        ),
        (
            "Credentials",
            task(json!({"Credentials": {"RoleArn": "arn:aws:iam::123456789012:role/R"}})),
            "S: Credentials is not supported by the local executor: tasks run with the local runner's credentials",
        ),
    ]);
}

// https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html
#[test]
fn unsupported_and_malformed_intrinsics_are_refused() {
    let mut rows: Vec<(&str, Value, String)> = UNSUPPORTED_INTRINSICS
        .iter()
        .map(|f| {
            (
                *f,
                pass(json!({"out.$": format!("{f}($.input)")})),
                format!("S: Parameters: out.$: {f} is not supported by the local executor"),
            )
        })
        .collect();
    rows.extend([
        ("unknown", pass(json!({"out.$": "States.Concat($.a)"})), "S: Parameters: out.$: unknown intrinsic function States.Concat".into()),
        ("arity", pass(json!({"out.$": "States.ArrayLength()"})), "S: Parameters: out.$: States.ArrayLength takes 1 argument(s), not 0".into()),
        // The page's nine-deep example has three {} and two values.
        ("Format holes", pass(json!({"myArn.$": "States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(\
            States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(\
            States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))"})),
         "S: Parameters: myArn.$: States.Format: the template has 3 {} but 2 value(s) follow".into()),
        ("deep merge", pass(json!({"out.$": "States.JsonMerge($.a, $.b, true)"})),
         "S: Parameters: out.$: States.JsonMerge: only the shallow merge (false) exists".into()),
        ("open escape", pass(json!({"out.$": "States.Format('a\\b')"})),
         "S: Parameters: out.$: open escape \\ in \"States.Format('a\\\\b')\"".into()),
        ("not an expression", pass(json!({"out.$": "hello"})),
         "S: Parameters: out.$: \"hello\" is neither a path nor an intrinsic function".into()),
        ("not an object", pass(json!("x")), "S: Parameters: a payload template must be a JSON object".into()),
    ]);
    for (name, def, message) in rows {
        assert_eq!(refused(&def), message, "{name}");
    }
}

// Reference paths only (filters and slices are JSONPath the executor does not evaluate), and
// ResultPath "limited to using reference paths":
// https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html
// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html
#[test]
fn paths_beyond_reference_paths_are_refused() {
    refuses(vec![
        (
            "filter in Parameters",
            pass(json!({"big.$": "$.jar[?(@.a >= 5)]"})),
            "S: Parameters: big.$: bad index in \"$.jar[?(@.a >= 5)]\"",
        ),
        (
            "slice in InputPath",
            with(json!({"Type": "Pass", "InputPath": "$.a[0:2]"})),
            "S: InputPath: bad index in \"$.a[0:2]\"",
        ),
        ("deep scan", with(json!({"Type": "Pass", "OutputPath": "$..a"})), "S: OutputPath: empty segment in \"$..a\""),
        (
            "ResultPath into the context",
            with(json!({"Type": "Pass", "ResultPath": "$$.Execution.Id"})),
            "S: ResultPath: $$.Execution.Id writes the context object; a ResultPath writes into the input",
        ),
        (
            "ResultPath index",
            with(json!({"Type": "Pass", "ResultPath": "$.a[0]"})),
            "S: ResultPath: $.a[0] indexes an array; the local executor writes by keys only",
        ),
        (
            "$$.Map outside a Map",
            pass(json!({"v.$": "$$.Map.Item.Value"})),
            "S: Parameters: v.$: the local executor's context object has no $$.Map.Item.Value: it provides \
          $$.Execution.Id, .Input, .Name and .StartTime ($$.Map only in a Map state's ItemSelector)",
        ),
        (
            "$$.State",
            with(json!({"Type": "Pass", "InputPath": "$$.State.Name"})),
            "S: InputPath: the local executor's context object has no $$.State.Name: it provides \
          $$.Execution.Id, .Input, .Name and .StartTime ($$.Map only in a Map state's ItemSelector)",
        ),
    ]);
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html
#[test]
fn malformed_choice_rules_are_refused() {
    let choice = |rule: Value| json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [rule], "Default": "N"}, "N": {"Type": "Succeed"}}});
    refuses(vec![
        (
            "StringEquals takes a literal string",
            choice(json!({"Variable": "$.type", "StringEquals": 1, "Next": "N"})),
            "C: Choices[0].StringEquals must be a string",
        ),
        (
            "nested Next",
            choice(json!({"Not": {"Variable": "$.type", "StringEquals": "Private", "Next": "N"}, "Next": "N"})),
            "C: Choices[0].Not.Next: only a rule of Choices has Next, not one nested in And, Or or Not",
        ),
        ("empty And", choice(json!({"And": [], "Next": "N"})), "C: Choices[0].And: needs at least one rule"),
        (
            "no Path form",
            choice(json!({"Variable": "$.a", "StringMatchesPath": "$.b", "Next": "N"})),
            "C: Choices[0].StringMatchesPath: StringMatches has no Path form",
        ),
        (
            "unknown operator",
            choice(json!({"Variable": "$.a", "StringContains": "b", "Next": "N"})),
            "C: Choices[0].StringContains: unsupported comparison operator",
        ),
        (
            "JSONata Condition",
            choice(json!({"Condition": "{% $foo = 1 %}", "Next": "N"})),
            "C: Choices[0].Condition is not supported by the local executor: JSONata is not implemented",
        ),
        (
            "no rules",
            json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [], "Default": "N"}, "N": {"Type": "Succeed"}}}),
            "C: Choices: a Choice state has at least one rule",
        ),
        (
            "End",
            json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "N"}],
            "End": true}, "N": {"Type": "Succeed"}}}),
            "C: Choice cannot have End",
        ),
    ]);
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (States.ALL "must
// appear alone in the ErrorEquals array and must appear in the last retrier"; retrier fields)
#[test]
fn malformed_retriers_and_catchers_are_refused() {
    refuses(vec![
        (
            "States.ALL first",
            task(json!({"Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["States.Timeout"]}]})),
            "S: Retry[0].ErrorEquals: States.ALL must appear alone, in the last rule",
        ),
        (
            "States.ALL with others",
            task(json!({"Catch": [{"ErrorEquals": ["States.ALL", "X"], "Next": "N"}]})),
            "S: Catch[0].ErrorEquals: States.ALL must appear alone, in the last rule",
        ),
        (
            "no errors",
            task(json!({"Retry": [{"ErrorEquals": []}]})),
            "S: Retry[0].ErrorEquals: names at least one error",
        ),
        (
            "BackoffRate below 1",
            task(json!({"Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5}]})),
            "S: Retry[0].BackoffRate: must be at least 1.0",
        ),
        (
            "IntervalSeconds 0",
            task(json!({"Retry": [{"ErrorEquals": ["X"], "IntervalSeconds": 0}]})),
            "S: Retry[0].IntervalSeconds must be a positive integer",
        ),
        (
            "unknown retrier field",
            task(json!({"Retry": [{"ErrorEquals": ["X"], "MaxAttempt": 2}]})),
            "S: a retrier cannot have Retry[0].MaxAttempt",
        ),
        (
            "Catch on a Pass",
            with(json!({"Type": "Pass", "Catch": [{"ErrorEquals": ["X"], "Next": "N"}]})),
            "S: Pass cannot have Catch",
        ),
        (
            "Retry on a Wait",
            with(json!({"Type": "Wait", "Seconds": 1, "Retry": [{"ErrorEquals": ["X"]}]})),
            "S: Wait cannot have Retry",
        ),
    ]);
}

// The fields each state type has, and fields the executor does not implement:
// https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-pass-state.html
// https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html ("exactly one of Seconds, Timestamp, SecondsPath, or TimestampPath")
// https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-fail-state.html ("only allows the use of Type and Comment"; no Cause.$)
// https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html (ItemProcessor, ProcessorConfig)
// https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html (Version, top-level fields)
#[test]
fn fields_a_state_cannot_have_or_the_executor_lacks_are_refused() {
    let wait = |fields: Value| {
        let mut w = json!({"Type": "Wait"});
        w.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        with(w)
    };
    let map = |extra: Value| {
        let mut m =
            json!({"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}});
        m.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        with(m)
    };
    let fail = |extra: Value| json!({"StartAt": "F", "States": {"F": extra}});
    refuses(vec![
        ("typo", task(json!({"Resouce": "x"})), "S: Task cannot have Resouce"),
        (
            "Pass ResultSelector",
            with(json!({"Type": "Pass", "ResultSelector": {}})),
            "S: Pass cannot have ResultSelector",
        ),
        ("Wait Parameters", wait(json!({"Seconds": 1, "Parameters": {}})), "S: Wait cannot have Parameters"),
        (
            "Wait two times",
            wait(json!({"Seconds": 10, "Timestamp": "2016-03-14T01:59:00Z"})),
            "S: Timestamp: a Wait state has one of Seconds, SecondsPath, Timestamp, TimestampPath",
        ),
        ("Wait negative", wait(json!({"Seconds": -1})), "S: Seconds must be a non-negative integer"),
        (
            "Wait lowercase t",
            wait(json!({"Timestamp": "2016-03-14t01:59:00z"})),
            "S: Timestamp: \"2016-03-14t01:59:00z\" is not an RFC 3339 timestamp",
        ),
        ("Fail Cause.$", fail(json!({"Type": "Fail", "Cause.$": "$.c"})), "F: Fail cannot have Cause.$"),
        (
            "Fail CausePath",
            fail(json!({"Type": "Fail", "CausePath": "$.c"})),
            "F: CausePath is not supported by the local executor: a Fail state's Cause is written as is",
        ),
        ("Fail InputPath", fail(json!({"Type": "Fail", "InputPath": "$.c"})), "F: Fail cannot have InputPath"),
        (
            "Succeed Next",
            json!({"StartAt": "X", "States": {"X": {"Type": "Succeed", "Next": "X"}}}),
            "X: Succeed cannot have Next",
        ),
        (
            "distributed Map",
            map(json!({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject"}})),
            "S: ItemReader is not supported by the local executor: distributed Map is not implemented",
        ),
        (
            "Map Mode",
            with(
                json!({"Type": "Map", "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}),
            ),
            "S/items: ProcessorConfig.ExecutionType is not supported by the local executor: distributed Map is not implemented",
        ),
        (
            "Map selector twice",
            map(json!({"ItemSelector": {}, "Parameters": {}})),
            "S: Parameters: a Map state has ItemSelector or Parameters",
        ),
        (
            "variables",
            with(json!({"Type": "Pass", "Assign": {"x": 1}})),
            "S: Assign is not supported by the local executor: variables are not implemented",
        ),
        (
            "JSONata state",
            with(json!({"Type": "Pass", "Output": "{% $x %}"})),
            "S: Output is not supported by the local executor: JSONata is not implemented",
        ),
    ]);
    let mut jsonata = task(json!({}));
    jsonata["QueryLanguage"] = json!("JSONata");
    let mut version = task(json!({}));
    version["Version"] = json!("2.0");
    refuses(vec![
        (
            "QueryLanguage",
            jsonata,
            "definition: QueryLanguage is not supported by the local executor: JSONata is not implemented; states use JSONPath",
        ),
        ("Version", version, "definition: Version: the only version is \"1.0\""),
    ]);
}

/// The project's own definitions load (with their `${...}` placeholders, all in strings).
#[test]
fn the_project_definitions_load() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/statemachines");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        Definition::parse(&serde_json::from_str(&text).unwrap()).unwrap();
        n += 1;
    }
    assert!(n > 0);
}
