//! Conformance, intrinsic functions and Choice rules: the examples of the AWS Step Functions
//! Developer Guide, with the outputs the pages give (docs/asl-conformance.md).

mod common;

use common::*;
use serde_json::{Value, json};

/// Runs `expr` as the `out.$` field of a Pass state's Parameters.
async fn intrinsic(expr: &str, input: Value) -> Value {
    output(single(json!({"Type": "Pass", "Parameters": {"out.$": expr}})), input).await["out"].take()
}

// https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html, one row per
// example of the page (name, expression, input, output).
#[tokio::test]
async fn intrinsic_functions() {
    let nine = json!({"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]});
    let rows = [
        (
            "States.Format literal template",
            "States.Format('Hello, my name is {}.', $.name)",
            json!({"name": "Arnav", "template": "Hello, my name is {}."}),
            json!("Hello, my name is Arnav."),
        ),
        (
            "States.Format path template",
            "States.Format($.template, $.name)",
            json!({"name": "Arnav", "template": "Hello, my name is {}."}),
            json!("Hello, my name is Arnav."),
        ),
        // The reserved characters section: \' \{ \} stand for ' { } (JSON doubles the backslash).
        (
            "States.Format escapes",
            "States.Format('It\\'s \\{\\} {}', $.name)",
            json!({"name": "Arnav"}),
            json!("It's {} Arnav"),
        ),
        (
            "States.StringToJson",
            "States.StringToJson($.escapedJsonString)",
            json!({"escapedJsonString": "{\"foo\": \"bar\"}"}),
            json!({"foo": "bar"}),
        ),
        (
            "States.JsonToString",
            "States.JsonToString($.unescapedJson)",
            json!({"unescapedJson": {"foo": "bar"}}),
            json!("{\"foo\":\"bar\"}"),
        ),
        (
            "States.Array",
            "States.Array('Foo', 2020, $.someJson, null)",
            json!({"someJson": {"random": "abcdefg"}, "zebra": "stripe"}),
            json!(["Foo", 2020, {"random": "abcdefg"}, null]),
        ),
        (
            "States.ArrayPartition",
            "States.ArrayPartition($.inputArray,4)",
            nine.clone(),
            json!([[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
        ),
        (
            "States.ArrayContains",
            "States.ArrayContains($.inputArray, $.lookingFor)",
            json!({"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5}),
            json!(true),
        ),
        ("States.ArrayRange", "States.ArrayRange(1, 9, 2)", json!({}), json!([1, 3, 5, 7, 9])),
        (
            "States.ArrayGetItem",
            "States.ArrayGetItem($.inputArray, $.index)",
            json!({"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5}),
            json!(6),
        ),
        ("States.ArrayLength", "States.ArrayLength($.inputArray)", nine, json!(9)),
        (
            "States.ArrayUnique",
            "States.ArrayUnique($.inputArray)",
            json!({"inputArray": [1, 2, 3, 3, 3, 3, 3, 3, 4]}),
            json!([1, 2, 3, 4]),
        ),
        (
            "States.JsonMerge",
            "States.JsonMerge($.json1, $.json2, false)",
            json!({"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}}),
            json!({"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3}),
        ),
        ("States.MathAdd", "States.MathAdd($.value1, $.step)", json!({"value1": 111, "step": -1}), json!(110)),
        (
            "States.StringSplit",
            "States.StringSplit($.inputString, $.splitter)",
            json!({"inputString": "1,2,3,4,5", "splitter": ","}),
            json!(["1", "2", "3", "4", "5"]),
        ),
        // The note on fields: "KeyId.$": "States.Array($.Id)".
        ("States.Array of a path", "States.Array($.Id)", json!({"Id": 123456}), json!([123456])),
    ];
    for (name, expr, input, expected) in rows {
        assert_eq!(intrinsic(expr, input).await, expected, "{name}: {expr}");
    }
}

// https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html (States.UUID)
#[tokio::test]
async fn intrinsic_uuid_is_a_version_4_uuid() {
    let uuid = intrinsic("States.UUID()", json!({})).await;
    let uuid = uuid.as_str().unwrap();
    let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "{uuid} (like ca4c1140-dcc1-40cd-ad05-7b4aa23df4a8)");
    assert!(uuid.chars().all(|c| c == '-' || c.is_ascii_hexdigit()) && uuid.as_bytes()[14] == b'4', "{uuid}");
    assert!(matches!(uuid.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "{uuid}");
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (States.IntrinsicFailure)
#[tokio::test]
async fn intrinsic_failure_at_run_time() {
    let def = single(json!({"Type": "Pass", "Parameters": {"out.$": "States.StringToJson($.notJson)"}}));
    assert_eq!(run(def, json!({"notJson": "{"})).await.result.unwrap_err().error, "States.IntrinsicFailure");
}

/// The example Choice state of the page, its targets made Pass states that output their name.
fn choice_state_x() -> Value {
    let target = |name: &str| json!({"Type": "Pass", "Result": name, "End": true});
    json!({"StartAt": "ChoiceStateX", "States": {
        "ChoiceStateX": {"Type": "Choice", "Choices": [
            {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
            {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
            {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20}, {"Variable": "$.value", "NumericLessThan": 30}],
             "Next": "ValueInTwenties"}],
            "Default": "DefaultState"},
        "Public": target("Public"), "ValueIsZero": target("ValueIsZero"), "ValueInTwenties": target("ValueInTwenties"),
        "DefaultState": {"Type": "Fail", "Cause": "No Matches!"}}})
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html (Choice state example)
#[tokio::test]
async fn choice_state_example() {
    assert_eq!(output(choice_state_x(), json!({"type": "Private", "value": 22})).await, json!("ValueInTwenties"));
    assert_eq!(output(choice_state_x(), json!({"type": "Public", "value": 22})).await, json!("Public"));
    assert_eq!(output(choice_state_x(), json!({"type": "Private", "value": 0})).await, json!("ValueIsZero"));
    let e = run(choice_state_x(), json!({"type": "Private", "value": 5})).await.result.unwrap_err();
    assert_eq!(e.cause, "No Matches!");
    // "If the state input doesn't contain the $.type field, the execution fails."
    assert_eq!(run(choice_state_x(), json!({"value": 22})).await.result.unwrap_err().error, "States.Runtime");
    // Without a Default, no match fails the execution with States.NoChoiceMatched.
    let mut no_default = choice_state_x();
    no_default["States"]["ChoiceStateX"].as_object_mut().unwrap().remove("Default");
    let e = run(no_default, json!({"type": "Private", "value": 5})).await.result.unwrap_err();
    assert_eq!(e.error, "States.NoChoiceMatched");
}

/// Whether `rule` (a top-level choice rule without Next) matches `input`.
async fn matches(rule: &Value, input: Value) -> bool {
    let mut rule = rule.clone();
    rule["Next"] = json!("Yes");
    let def = json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [rule], "Default": "No"},
        "Yes": {"Type": "Pass", "Result": true, "End": true}, "No": {"Type": "Pass", "Result": false, "End": true}}});
    output(def, input).await.as_bool().unwrap()
}

// https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html (Choice Rules): the
// page's examples, then the other operators of its list, each true and false once.
#[tokio::test]
async fn choice_rules() {
    let rows = [
        ("NumericEquals", json!({"Variable": "$.foo", "NumericEquals": 1}), json!({"foo": 1}), json!({"foo": 2})),
        (
            "StringEquals",
            json!({"Variable": "$.foo", "StringEquals": "MyString"}),
            json!({"foo": "MyString"}),
            json!({"foo": "x"}),
        ),
        (
            "StringGreaterThan",
            json!({"Variable": "$.foo", "StringGreaterThan": "MyStringABC"}),
            json!({"foo": "MyStringABD"}),
            json!({"foo": "MyStringABB"}),
        ),
        (
            "IsNull",
            json!({"Variable": "$.possiblyNullValue", "IsNull": true}),
            json!({"possiblyNullValue": null}),
            json!({"possiblyNullValue": 42}),
        ),
        (
            "IsPresent guards a comparison",
            json!({"And": [{"Variable": "$.keyThatMightNotExist", "IsPresent": true},
            {"Variable": "$.keyThatMightNotExist", "StringEquals": "foo"}]}),
            json!({"keyThatMightNotExist": "foo"}),
            json!({}),
        ),
        (
            "StringMatches",
            json!({"Variable": "$.foo", "StringMatches": "log-*.txt"}),
            json!({"foo": "log-2024.txt"}),
            json!({"foo": "log.txt"}),
        ),
        (
            "StringMatches escaped *",
            json!({"Variable": "$.foo", "StringMatches": "a\\*"}),
            json!({"foo": "a*"}),
            json!({"foo": "ab"}),
        ),
        (
            "TimestampEquals",
            json!({"Variable": "$.foo", "TimestampEquals": "2001-01-01T12:00:00Z"}),
            json!({"foo": "2001-01-01T12:00:00Z"}),
            json!({"foo": "2001-01-01T12:00:01Z"}),
        ),
        (
            "StringEqualsPath",
            json!({"Variable": "$.foo", "StringEqualsPath": "$.bar"}),
            json!({"foo": "x", "bar": "x"}),
            json!({"foo": "x", "bar": "y"}),
        ),
        (
            "Or",
            json!({"Or": [{"Variable": "$.a", "BooleanEquals": true}, {"Variable": "$.b", "BooleanEquals": true}]}),
            json!({"a": false, "b": true}),
            json!({"a": false, "b": false}),
        ),
        (
            "Not",
            json!({"Not": {"Variable": "$.type", "StringEquals": "Private"}}),
            json!({"type": "Public"}),
            json!({"type": "Private"}),
        ),
        (
            "BooleanEqualsPath",
            json!({"Variable": "$.a", "BooleanEqualsPath": "$.b"}),
            json!({"a": true, "b": true}),
            json!({"a": true, "b": false}),
        ),
        (
            "NumericEqualsPath",
            json!({"Variable": "$.a", "NumericEqualsPath": "$.b"}),
            json!({"a": 1, "b": 1.0}),
            json!({"a": 1, "b": 2}),
        ),
        ("NumericGreaterThan", json!({"Variable": "$.a", "NumericGreaterThan": 1}), json!({"a": 1.5}), json!({"a": 1})),
        (
            "NumericLessThanEquals",
            json!({"Variable": "$.a", "NumericLessThanEquals": 1}),
            json!({"a": 1}),
            json!({"a": 2}),
        ),
        (
            "NumericLessThan on a string",
            json!({"Variable": "$.a", "NumericLessThan": 1}),
            json!({"a": 0}),
            json!({"a": "0"}),
        ),
        (
            "NumericGreaterThanPath",
            json!({"Variable": "$.a", "NumericGreaterThanPath": "$.b"}),
            json!({"a": 2, "b": 1}),
            json!({"a": 1, "b": 2}),
        ),
        ("StringLessThan", json!({"Variable": "$.a", "StringLessThan": "b"}), json!({"a": "a"}), json!({"a": "b"})),
        (
            "StringLessThanEquals",
            json!({"Variable": "$.a", "StringLessThanEquals": "b"}),
            json!({"a": "b"}),
            json!({"a": "c"}),
        ),
        (
            "StringGreaterThanEquals",
            json!({"Variable": "$.a", "StringGreaterThanEquals": "b"}),
            json!({"a": "b"}),
            json!({"a": "a"}),
        ),
        (
            "TimestampLessThan",
            json!({"Variable": "$.t", "TimestampLessThan": "2016-08-18T17:33:00Z"}),
            json!({"t": "2016-08-18T17:32:59Z"}),
            json!({"t": "2016-08-18T17:33:00Z"}),
        ),
        (
            "TimestampGreaterThanEquals",
            json!({"Variable": "$.t", "TimestampGreaterThanEquals": "2016-08-18T17:33:00Z"}),
            json!({"t": "2016-08-18T19:33:00+02:00"}),
            json!({"t": "2016-08-18T17:00:00Z"}),
        ),
        (
            "TimestampLessThanEqualsPath",
            json!({"Variable": "$.t", "TimestampLessThanEqualsPath": "$.u"}),
            json!({"t": "2016-08-18T17:33:00Z", "u": "2016-08-18T17:33:00Z"}),
            json!({"t": "2016-08-18T17:33:01Z", "u": "2016-08-18T17:33:00Z"}),
        ),
        (
            "TimestampGreaterThan",
            json!({"Variable": "$.t", "TimestampGreaterThan": "2016-08-18T17:33:00Z"}),
            json!({"t": "2017-01-01T00:00:00Z"}),
            json!({"t": "not a timestamp"}),
        ),
        ("IsNumeric", json!({"Variable": "$.a", "IsNumeric": true}), json!({"a": 1}), json!({"a": "1"})),
        ("IsString", json!({"Variable": "$.a", "IsString": true}), json!({"a": "1"}), json!({"a": 1})),
        ("IsBoolean false", json!({"Variable": "$.a", "IsBoolean": false}), json!({"a": 1}), json!({"a": true})),
        (
            "IsTimestamp",
            json!({"Variable": "$.a", "IsTimestamp": true}),
            json!({"a": "2016-08-18T17:33:00Z"}),
            json!({"a": "2016-08-18"}),
        ),
        ("IsPresent false", json!({"Variable": "$.a", "IsPresent": false}), json!({}), json!({"a": null})),
    ];
    for (name, rule, yes, no) in rows {
        assert!(matches(&rule, yes.clone()).await, "{name} should match {yes}");
        assert!(!matches(&rule, no.clone()).await, "{name} should not match {no}");
    }
}
