//! Conformance, data flow and state types: each test runs an example of the AWS Step Functions
//! Developer Guide and expects the output the page gives (docs/asl-conformance.md).

mod common;

use common::*;
use serde_json::json;
use std::sync::Arc;

const HELLO: &str = "arn:aws:lambda:us-east-1:123456789012:function:HelloFunction";
const ECHO: &str = "arn:aws:lambda:us-east-1:123456789012:function:Echo";

fn tutorial_input() -> serde_json::Value {
    json!({"comment": "This is a test of the input and output of a Task state.", "details": "Default example", "who": "AWS Step Functions"})
}

// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html (InputPath)
#[tokio::test]
async fn inputpath_selects_part_of_the_input() {
    let input = json!({"comment": "Example for InputPath.", "dataset1": {"val1": 1, "val2": 2, "val3": 3},
                       "dataset2": {"val1": "a", "val2": "b", "val3": "c"}});
    let out = output(single(json!({"Type": "Task", "Resource": ECHO, "InputPath": "$.dataset2"})), input).await;
    assert_eq!(out, json!({"val1": "a", "val2": "b", "val3": "c"}));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html (Parameters)
#[tokio::test]
async fn parameters_select_values_and_add_static_ones() {
    let input = json!({"comment": "Example for Parameters.", "product": {"details": {"color": "blue", "size": "small",
                       "material": "cotton"}, "availability": "in stock", "sku": "2317", "cost": "$23"}});
    let parameters = json!({"comment": "Selecting what I care about.",
        "MyDetails": {"size.$": "$.product.details.size", "exists.$": "$.product.availability", "StaticValue": "foo"}});
    let out = output(single(json!({"Type": "Task", "Resource": ECHO, "Parameters": parameters})), input).await;
    let expected = json!({"comment": "Selecting what I care about.",
                          "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"}});
    assert_eq!(out, expected);
}

// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html (ResultSelector)
#[tokio::test]
async fn resultselector_shapes_the_result_before_resultpath() {
    // The echoing task returns the createCluster.sync result of the example.
    let result = json!({"resourceType": "elasticmapreduce", "resource": "createCluster.sync", "output": {
        "SdkHttpMetadata": {"HttpHeaders": {"Content-Length": "1112"}, "HttpStatusCode": 200},
        "SdkResponseMetadata": {"RequestId": "1234-5678-9012"}, "ClusterId": "AKIAIOSFODNN7EXAMPLE"}});
    let state = json!({"Type": "Task", "Resource": ECHO, "Parameters": result,
        "ResultSelector": {"ClusterId.$": "$.output.ClusterId", "ResourceType.$": "$.resourceType"},
        "ResultPath": "$.EMROutput"});
    let out = output(single(state), json!({"OtherDataFromInput": {}})).await;
    let expected = json!({"OtherDataFromInput": {},
                          "EMROutput": {"ResourceType": "elasticmapreduce", "ClusterId": "AKIAIOSFODNN7EXAMPLE"}});
    assert_eq!(out, expected);
}

async fn hello_with_result_path(result_path: Option<serde_json::Value>, input: serde_json::Value) -> serde_json::Value {
    let mut state = json!({"Type": "Task", "Resource": HELLO});
    if let Some(p) = result_path {
        state["ResultPath"] = p;
    }
    output(single(state), input).await
}

// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html (replace the input)
#[tokio::test]
async fn resultpath_default_and_dollar_replace_the_input() {
    assert_eq!(hello_with_result_path(None, tutorial_input()).await, json!("Hello, AWS Step Functions!"));
    assert_eq!(hello_with_result_path(Some(json!("$")), tutorial_input()).await, json!("Hello, AWS Step Functions!"));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html (discard the result)
#[tokio::test]
async fn resultpath_null_keeps_the_input() {
    assert_eq!(hello_with_result_path(Some(json!(null)), tutorial_input()).await, tutorial_input());
}

// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html (include the result)
#[tokio::test]
async fn resultpath_adds_the_result_to_the_input() {
    let out = hello_with_result_path(Some(json!("$.taskresult")), tutorial_input()).await;
    let mut expected = tutorial_input();
    expected["taskresult"] = json!("Hello, AWS Step Functions!");
    assert_eq!(out, expected);
    let input = json!({"comment": "An input comment.", "strings": {"string1": "foo", "string2": "bar", "string3": "baz"},
                       "who": "AWS Step Functions"});
    let out = hello_with_result_path(Some(json!("$.strings.lambdaresult")), input).await;
    let expected = json!({"comment": "An input comment.", "strings": {"string1": "foo", "string2": "bar",
        "string3": "baz", "lambdaresult": "Hello, AWS Step Functions!"}, "who": "AWS Step Functions"});
    assert_eq!(out, expected);
}

// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html (update a node)
#[tokio::test]
async fn resultpath_updates_a_node_of_the_input() {
    let out = hello_with_result_path(Some(json!("$.comment")), tutorial_input()).await;
    assert_eq!(
        out,
        json!({"comment": "Hello, AWS Step Functions!", "details": "Default example", "who": "AWS Step Functions"})
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-example.html
#[tokio::test]
async fn inputpath_resultpath_and_outputpath_together() {
    let state = json!({"Type": "Task", "Resource": HELLO, "InputPath": "$.lambda",
                       "ResultPath": "$.data.lambdaresult", "OutputPath": "$.data"});
    let input = json!({"comment": "An input comment.", "data": {"val1": 23, "val2": 17}, "extra": "foo",
                       "lambda": {"who": "AWS Step Functions"}});
    let functions = Arc::new(Functions::default());
    let out = load(&single(state), functions.clone()).execute(input).await.result.unwrap();
    assert_eq!(functions.inputs(), [json!({"who": "AWS Step Functions"})]);
    assert_eq!(out, json!({"val1": 23, "val2": 17, "lambdaresult": "Hello, AWS Step Functions!"}));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html (reference paths)
#[tokio::test]
async fn reference_paths_select_one_node() {
    let input = json!({"foo": 123, "bar": ["a", "b", "c"], "car": {"cdr": true}});
    let parameters =
        json!({"foo.$": "$.foo", "bar.$": "$.bar", "cdr.$": "$.car.cdr", "b.$": "$.bar[1]", "q.$": "$['car']"});
    let out = output(single(json!({"Type": "Pass", "Parameters": parameters})), input).await;
    assert_eq!(out, json!({"foo": 123, "bar": ["a", "b", "c"], "cdr": true, "b": "b", "q": {"cdr": true}}));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html (Execution)
#[tokio::test]
async fn context_object_execution_fields() {
    let queue = json!({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "Parameters": {
        "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/flight-purchase",
        "MessageBody": {"From": "YVR", "To": "SEA", "Execution.$": "$$.Execution.Id"}}, "Next": "Get execution context data"});
    let pass = json!({"Type": "Pass", "Parameters": {"startTime.$": "$$.Execution.StartTime", "execName.$": "$$.Execution.Name"},
                      "ResultPath": "$.executionContext", "End": true});
    let def = json!({"StartAt": "Order Flight Ticket Queue", "States": {"Order Flight Ticket Queue": queue, "Get execution context data": pass}});
    let ex = run(def, json!({"key": "value"})).await;
    let out = ex.result.unwrap();
    assert_eq!(out["MessageBody"], json!({"From": "YVR", "To": "SEA", "Execution": format!("local:{}", ex.id)}));
    assert_eq!(out["executionContext"]["execName"], json!(ex.id));
    let started = out["executionContext"]["startTime"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(started).is_ok(), "{started}");
}

// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html (Map states)
#[tokio::test]
async fn map_context_item_index_and_value() {
    let def = json!({"StartAt": "ExampleMapState", "States": {"ExampleMapState": {"Type": "Map",
        "Parameters": {"ContextIndex.$": "$$.Map.Item.Index", "ContextValue.$": "$$.Map.Item.Value"},
        "Iterator": {"StartAt": "TestPass", "States": {"TestPass": {"Type": "Pass", "End": true}}}, "End": true}}});
    let out = output(def, json!([{"who": "bob"}, {"who": "meg"}, {"who": "joe"}])).await;
    let expected = json!([{"ContextIndex": 0, "ContextValue": {"who": "bob"}}, {"ContextIndex": 1, "ContextValue": {"who": "meg"}},
                          {"ContextIndex": 2, "ContextValue": {"who": "joe"}}]);
    assert_eq!(out, expected);
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html (Map with ItemSelector / Parameters)
#[tokio::test]
async fn map_runs_the_processor_per_item_with_its_selector() {
    let shipped = json!([{"prod": "R31", "dest-code": 9511, "quantity": 1344}, {"prod": "S39", "dest-code": 9511, "quantity": 40},
        {"prod": "R31", "dest-code": 9833, "quantity": 12}, {"prod": "R40", "dest-code": 9860, "quantity": 887},
        {"prod": "R40", "dest-code": 9511, "quantity": 1220}]);
    let input = json!({"ship-date": "2016-03-14T01:59:00Z", "detail": {"delivery-partner": "UQS", "shipped": shipped}});
    let state = json!({"Type": "Map", "InputPath": "$.detail", "ItemsPath": "$.shipped", "MaxConcurrency": 0,
        "ResultPath": "$.detail.shipped", "ItemSelector": {"parcel.$": "$$.Map.Item.Value", "courier.$": "$.delivery-partner"},
        "ItemProcessor": {"StartAt": "Validate", "States": {"Validate": {"Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:ship-val", "End": true}}}});
    let functions = Arc::new(Functions::default());
    let out = load(&single(state), functions.clone()).execute(input).await.result.unwrap();
    let inputs = functions.inputs();
    assert_eq!(inputs.len(), 5);
    assert_eq!(inputs[0], json!({"parcel": {"prod": "R31", "dest-code": 9511, "quantity": 1344}, "courier": "UQS"}));
    assert_eq!(out["detail"]["shipped"], json!(inputs));
    assert_eq!(out["ship-date"], "2016-03-14T01:59:00Z");
}

// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemspath.html
#[tokio::test]
async fn itemspath_selects_the_array_to_iterate() {
    let def = json!({"StartAt": "PiratesSay", "States": {"PiratesSay": {"Type": "Map", "ItemsPath": "$.ThingsPiratesSay",
        "Iterator": {"StartAt": "SayWord", "States": {"SayWord": {"Type": "Pass", "End": true}}}, "End": true}}});
    let input = json!({"ThingsPiratesSay": [{"say": "Avast!"}, {"say": "Yar!"}, {"say": "Walk the Plank!"}],
                       "ThingsGiantsSay": [{"say": "Fee!"}, {"say": "Fi!"}, {"say": "Fo!"}, {"say": "Fum!"}]});
    assert_eq!(output(def, input).await, json!([{"say": "Avast!"}, {"say": "Yar!"}, {"say": "Walk the Plank!"}]));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html (input and output processing)
#[tokio::test]
async fn parallel_gives_each_branch_the_input_and_outputs_an_array() {
    let branch = |name: &str| {
        json!({"StartAt": name, "States": {name: {"Type": "Task",
        "Resource": format!("arn:aws:states:us-east-1:123456789012:activity:{name}"), "End": true}}})
    };
    let def = json!({"Comment": "Parallel Example.", "StartAt": "FunWithMath", "States": {"FunWithMath": {
        "Type": "Parallel", "End": true, "Branches": [branch("Add"), branch("Subtract")]}}});
    assert_eq!(output(def, json!([3, 2])).await, json!([5, 1]));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-pass-state.html
#[tokio::test]
async fn pass_result_goes_where_resultpath_says() {
    let state = json!({"Type": "Pass", "Result": {"x-datum": 0.381018, "y-datum": 622.2269926397355}, "ResultPath": "$.coords"});
    let out = output(single(state), json!({"georefOf": "Home"})).await;
    assert_eq!(out, json!({"georefOf": "Home", "coords": {"x-datum": 0.381018, "y-datum": 622.2269926397355}}));
    // https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html (the example)
    let hello = json!({"Comment": "A Hello World example of the Amazon States Language using a Pass state",
        "StartAt": "HelloWorld", "States": {"HelloWorld": {"Type": "Pass", "Result": "Hello World!", "End": true}}});
    assert_eq!(output(hello, json!({})).await, json!("Hello World!"));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html
#[tokio::test]
async fn wait_seconds_timestamp_and_their_paths() {
    let wait = |fields: serde_json::Value| {
        let mut state = fields;
        state["Type"] = json!("Wait");
        state["Next"] = json!("NextState");
        json!({"StartAt": "wait", "States": {"wait": state, "NextState": {"Type": "Succeed"}}})
    };
    let input = json!({"expirydate": "2016-03-14T01:59:00Z", "delay": 10});
    for fields in [
        json!({"Seconds": 10}),
        json!({"Timestamp": "2016-03-14T01:59:00Z"}),
        json!({"TimestampPath": "$.expirydate"}),
        json!({"SecondsPath": "$.delay"}),
    ] {
        assert_eq!(output(wait(fields.clone()), input.clone()).await, input, "{fields}");
    }
    // The wait happens (scaled: 10 s at 1/1000 is 10 ms).
    let mut ex = load(&wait(json!({"Seconds": 10})), Arc::new(Functions::default()));
    ex.time_scale = 0.001;
    let started = std::time::Instant::now();
    ex.execute(json!({})).await.result.unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(10));
    // A SecondsPath that selects no whole number fails the execution.
    let ex = run(wait(json!({"SecondsPath": "$.expirydate"})), input).await;
    assert_eq!(ex.result.unwrap_err().error, "States.Runtime");
}

// https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-succeed-state.html
#[tokio::test]
async fn succeed_stops_with_its_input() {
    let def = json!({"StartAt": "SuccessState", "States": {"SuccessState": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}}});
    assert_eq!(output(def, json!({"a": {"b": 1}})).await, json!(1));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-fail-state.html
#[tokio::test]
async fn fail_stops_with_its_error_and_cause() {
    let def = json!({"StartAt": "FailState", "States": {"FailState": {"Type": "Fail", "Cause": "Invalid response.", "Error": "ErrorA"}}});
    let e = run(def, json!({})).await.result.unwrap_err();
    assert_eq!((e.error.as_str(), e.cause.as_str()), ("ErrorA", "Invalid response."));
}
