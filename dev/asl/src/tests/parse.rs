use super::exec::def;
use crate::choice::{ChoiceRule, Operand, Operator};
use crate::model::*;
use crate::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

fn parse_err(d: &Value) -> ParseError {
    Definition::parse(d).unwrap_err()
}

#[test]
fn parses_the_example_into_the_model() {
    let d = Definition::parse(&def()).unwrap();
    assert_eq!(d.start_at, "A");
    assert_eq!(d.states.keys().collect::<Vec<_>>(), ["A", "B", "C", "Done", "Handled"]);
    let State::Task(a) = &d.states["A"] else { panic!("A is a Task") };
    assert_eq!(a.resource, "flaky");
    assert_eq!(a.timeout_seconds, None);
    assert_eq!(a.step.transition, Transition::Next("C".into()));
    assert_eq!(a.step.result_path, PathField::Path(path::JsonPath::parse("$.a").unwrap()));
    assert_eq!(a.step.input_path, PathField::Default);
    assert_eq!(a.step.parameters.as_ref().unwrap()["id.$"], "$.id");
    let r = &a.retry[0];
    assert_eq!(
        (r.error_equals.as_slice(), r.interval_seconds, r.max_attempts),
        (&["Transient".to_owned()][..], 1.0, 2)
    );
    assert_eq!((r.backoff_rate, r.max_delay_seconds, r.jitter), (2.0, None, Jitter::None));
    let State::Choice(c) = &d.states["C"] else { panic!("C is a Choice") };
    assert_eq!(c.default.as_deref(), Some("Done"));
    assert_eq!(c.choices[0].next, "B");
    let ChoiceRule::Compare { variable, operator, operand } = &c.choices[0].rule else { panic!("a comparison") };
    assert_eq!(
        (variable.as_str(), *operator, operand),
        ("$.go", Operator::StringEquals, &Operand::Literal(json!("boom")))
    );
    let State::Task(b) = &d.states["B"] else { panic!("B is a Task") };
    assert_eq!(b.step.transition, Transition::End);
    assert_eq!(b.step.catch[0].next, "Handled");
    assert!(b.step.catch[0].matches("Anything"));
    assert_eq!(d.states["A"].targets(), ["C"]);
    assert_eq!(d.states["C"].targets(), ["B", "Done"]);
    assert_eq!(d.states["B"].targets(), ["Handled"]);
    assert!(matches!(d.states["Done"], State::Succeed(_)));
}

#[test]
fn a_bad_next_is_a_parse_error() {
    let mut d = def();
    d["States"]["A"]["Next"] = json!(5);
    let e = parse_err(&d);
    assert_eq!(e, ParseError::WrongType { state: "A".into(), field: "Next".into(), expected: "a string" });
    assert_eq!(e.to_string(), "A: Next must be a string");

    let mut d = def();
    d["States"]["A"]["End"] = json!(true);
    assert_eq!(parse_err(&d), ParseError::Transition { state: "A".into() });
    d["States"]["A"].as_object_mut().unwrap().retain(|k, _| k != "Next" && k != "End");
    assert_eq!(parse_err(&d).to_string(), "A: needs exactly one of Next or End");

    let mut d = def();
    d["States"]["C"]["Choices"][0].as_object_mut().unwrap().remove("Next");
    let e = parse_err(&d);
    assert_eq!((e.state(), e.field()), ("C", "Choices[0].Next"));

    let mut d = def();
    d["States"]["Done"]["Next"] = json!("A");
    assert_eq!(parse_err(&d).to_string(), "Done: Succeed cannot have Next");
}

#[test]
fn a_next_to_no_state_parses_and_the_checker_reports_it() {
    let mut d = def();
    d["States"]["B"]["Catch"][0]["Next"] = json!("Nowhere");
    let model = Definition::parse(&d).unwrap();
    assert_eq!(model.states["B"].targets(), ["Nowhere"]);
    let known = BTreeSet::from(["Transient".to_owned()]);
    let problems = check_definition(&model, &CheckContext { resource_ok: &|_, _| Ok(()), known_errors: &known });
    assert_eq!(problems, ["B: Next \"Nowhere\" is not a state", "Handled: unreachable"]);
}

#[test]
fn an_unknown_state_type_is_a_parse_error() {
    let mut d = def();
    d["States"]["Handled"]["Type"] = json!("Pas");
    let e = parse_err(&d);
    assert_eq!(e, ParseError::UnknownType { state: "Handled".into(), ty: "Pas".into() });
    assert_eq!(e.field(), "Type");
    let err = Executor::new(&d, Arc::new(Noop)).err().unwrap();
    assert_eq!(err, "Handled: unknown state type \"Pas\"");
    d["States"]["Done"].as_object_mut().unwrap().remove("Type");
    assert_eq!(
        Definition::parse_all(&d).unwrap_err(),
        [
            ParseError::Missing { state: "Done".into(), field: "Type".into() },
            ParseError::UnknownType { state: "Handled".into(), ty: "Pas".into() },
        ]
    );
}

#[test]
fn a_malformed_retry_is_a_parse_error() {
    let cases = [
        (
            json!({"ErrorEquals": ["Transient"], "MaxAttempts": "3"}),
            "A: Retry[0].MaxAttempts must be a non-negative integer",
        ),
        (
            json!({"ErrorEquals": ["Transient"], "MaxAttempts": -1}),
            "A: Retry[0].MaxAttempts must be a non-negative integer",
        ),
        (json!({"MaxAttempts": 2}), "A: Retry[0].ErrorEquals is missing"),
        (json!({"ErrorEquals": "Transient"}), "A: Retry[0].ErrorEquals must be an array"),
        (json!({"ErrorEquals": [7]}), "A: Retry[0].ErrorEquals[0] must be a string"),
        (json!({"ErrorEquals": ["X"], "BackoffRate": "fast"}), "A: Retry[0].BackoffRate must be a number"),
        (
            json!({"ErrorEquals": ["X"], "JitterStrategy": "HALF"}),
            "A: Retry[0].JitterStrategy: unknown strategy \"HALF\"",
        ),
        (json!("Transient"), "A: Retry[0] must be an object"),
    ];
    for (retrier, message) in cases {
        let mut d = def();
        d["States"]["A"]["Retry"] = json!([retrier]);
        assert_eq!(parse_err(&d).to_string(), message);
    }
    let mut d = def();
    d["States"]["A"]["Retry"] = json!({"ErrorEquals": ["Transient"]});
    let e = parse_err(&d);
    assert_eq!((e.state(), e.field()), ("A", "Retry"));
    let mut d = def();
    d["States"]["A"]["Retry"][0]["JitterStrategy"] = json!("FULL");
    let State::Task(a) = &Definition::parse(&d).unwrap().states["A"] else { panic!("A is a Task") };
    assert_eq!(a.retry[0].jitter, Jitter::Full);
}

#[test]
fn malformed_fields_name_the_state_and_field() {
    let cases = [
        (json!({"StartAt": "A"}), "definition: States is missing"),
        (json!({"States": {}}), "definition: StartAt is missing"),
        (json!([]), "definition: must be a JSON object"),
        (json!({"StartAt": "A", "States": {"A": 1}}), "A: must be a JSON object"),
        (json!({"StartAt": "A", "States": {"A": {"Type": "Task", "End": true}}}), "A: Resource is missing"),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "a.b", "End": true}}}),
            "A: InputPath: path \"a.b\" must start with $",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "OutputPath": 3, "End": true}}}),
            "A: OutputPath must be a path or null",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x": {"y.$": 1}}, "End": true}}}),
            "A: Parameters: y.$ must be a string",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "r", "End": true, "Catch": [{"ErrorEquals": ["X"]}]}}}),
            "A: Catch[0].Next is missing",
        ),
        (json!({"StartAt": "A", "States": {"A": {"Type": "Wait", "End": true}}}), "A: Seconds is missing"),
        (json!({"StartAt": "A", "States": {"A": {"Type": "Map", "End": true}}}), "A: ItemProcessor is missing"),
        (
            json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}},
                {"StartAt": "Y", "States": {"Y": {"Type": "Task", "Resource": "r"}}}]}}}),
            "P/branch1/Y: needs exactly one of Next or End",
        ),
        (
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "Iterator": {"States": {}}}}}),
            "M/items: StartAt is missing",
        ),
    ];
    for (d, message) in cases {
        assert_eq!(parse_err(&d).to_string(), message, "{d}");
        let problems = check(&d, &CheckContext { resource_ok: &|_, _| Ok(()), known_errors: &BTreeSet::new() });
        assert_eq!(problems, [message]);
    }
}

struct Noop;

#[async_trait::async_trait]
impl TaskRunner for Noop {
    async fn run(&self, _: &str, _: &str, input: Value) -> Result<Value, TaskError> {
        Ok(input)
    }
}
