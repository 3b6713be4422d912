//! The real definition, `infra/statemachines/fulfillment.asl.json`, with dummy resources.

use crate::model::*;
use crate::*;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

const QUEUE_URL: &str = "http://localhost:4566/000000000000/notifications";

fn definition() -> Value {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/statemachines/fulfillment.asl.json");
    let text = std::fs::read_to_string(file).unwrap();
    let names: BTreeSet<&str> =
        text.split("${").skip(1).map(|part| part.split('}').next().unwrap_or_default()).collect();
    assert!(names.contains("ValidateOrderFunctionArn") && names.contains("NotificationsQueueUrl"), "{names:?}");
    let subs: HashMap<String, String> = names
        .iter()
        .map(|n| {
            let value = match n.strip_suffix("Arn") {
                Some(function) => format!("arn:aws:lambda:us-east-1:000000000000:function:{function}"),
                None => QUEUE_URL.to_owned(),
            };
            (n.to_string(), value)
        })
        .collect();
    // As written (with its placeholders), it parses too: they are all in string fields.
    Definition::parse(&serde_json::from_str(&text).unwrap()).unwrap();
    let text = substitute(&text, &subs);
    assert!(!text.contains("${"));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_fulfillment_definition_parses_and_checks_clean() {
    let def = definition();
    let model = Definition::parse(&def).unwrap();
    assert_eq!(model.start_at, "Validate");
    assert_eq!(model.states.len(), 15);
    let State::Task(validate) = &model.states["Validate"] else { panic!("Validate is a Task") };
    assert_eq!(validate.resource, "arn:aws:lambda:us-east-1:000000000000:function:ValidateOrderFunction");
    assert_eq!(validate.timeout_seconds, Some(20));
    assert_eq!(validate.retry[0].max_attempts, 4);
    assert_eq!(validate.retry[0].max_delay_seconds, Some(8.0));
    assert_eq!(validate.retry[0].jitter, Jitter::Full);
    assert_eq!(validate.step.catch.len(), 2);
    let State::Task(enqueue) = &model.states["EnqueueConfirmation"] else { panic!("EnqueueConfirmation is a Task") };
    assert_eq!(enqueue.step.result_path, PathField::Null);
    assert_eq!(enqueue.step.parameters.as_ref().unwrap()["QueueUrl"], QUEUE_URL);
    assert!(matches!(&model.states["Held?"], State::Choice(c) if c.choices.len() == 1));
    assert!(matches!(&model.states["Paid?"], State::Choice(c) if c.choices.len() == 1));
    assert!(matches!(&model.states["Failed"], State::Fail(f) if f.error.as_deref() == Some("OrderNotFulfilled")));

    let resources = Mutex::new(Vec::new());
    let resource_ok = |resource: &str, state: &Value| {
        resources.lock().unwrap().push((resource.to_owned(), state["Parameters"]["QueueUrl"].clone()));
        Ok(())
    };
    let known: BTreeSet<String> =
        ["StoreTransient", "PaymentTransient", "CarrierTransient", "OrderNotActive"].map(String::from).into();
    let problems = check(&def, &CheckContext { resource_ok: &resource_ok, known_errors: &known });
    assert!(problems.is_empty(), "{problems:#?}");
    let resources = resources.into_inner().unwrap();
    assert_eq!(resources.len(), 6);
    assert!(resources.contains(&("arn:aws:states:::sqs:sendMessage".to_owned(), json!(QUEUE_URL))));

    // Without the transient errors, the checker names them.
    let problems = check(&def, &CheckContext { resource_ok: &|_, _| Ok(()), known_errors: &BTreeSet::new() });
    assert!(problems.iter().any(|p| p.starts_with("Validate: Retry matches \"StoreTransient\"")), "{problems:#?}");
}

/// Every step succeeds, except `fail_at` (raising `error`) when set.
struct Steps {
    fail_at: Option<(&'static str, &'static str)>,
    calls: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl TaskRunner for Steps {
    async fn run(&self, _resource: &str, state: &str, input: Value) -> Result<Value, TaskError> {
        self.calls.lock().unwrap().push(state.to_owned());
        match self.fail_at {
            Some((at, error)) if at == state => Err(TaskError::new(error, "injected")),
            _ if state == "Validate" => Ok(json!({"outcome": input["orderId"]})),
            // The payment step always names its outcome (the choice after it reads it).
            _ if state == "AuthorizePayment" && input["orderId"] == "declined" => {
                Ok(json!({"outcome": "payment_required"}))
            }
            _ if state == "AuthorizePayment" => Ok(json!({"outcome": "authorized", "authorizationId": "pi_1"})),
            // So does the labels step (parcels waiting to be packed end the run).
            _ if state == "CreateLabels" && input["orderId"] == "packing" => Ok(json!({"outcome": "awaiting_pack"})),
            _ if state == "CreateLabels" => Ok(json!({"outcome": "labelled", "ok": true})),
            _ => Ok(json!({"ok": true})),
        }
    }
}

async fn run(fail_at: Option<(&'static str, &'static str)>, order_id: &str) -> (Execution, Vec<String>) {
    let steps = Arc::new(Steps { fail_at, calls: Mutex::new(Vec::new()) });
    let mut ex = Executor::new(&definition(), steps.clone()).unwrap();
    ex.time_scale = 0.0;
    let out = ex.execute(json!({"orderId": order_id})).await;
    let calls = steps.calls.lock().unwrap().clone();
    (out, calls)
}

#[tokio::test]
async fn the_fulfillment_definition_runs() {
    let (ok, calls) = run(None, "o1").await;
    let out = ok.result.unwrap();
    assert_eq!(calls, ["Validate", "Allocate", "AuthorizePayment", "CreateLabels", "EnqueueConfirmation"]);
    assert_eq!(out["labels"], json!({"outcome": "labelled", "ok": true}));
    // At a packing location the run ends after the confirmation, waiting for the packers.
    let (packing, calls) = run(None, "packing").await;
    assert_eq!(calls, ["Validate", "Allocate", "AuthorizePayment", "CreateLabels", "EnqueueConfirmation"]);
    assert_eq!(packing.history.last().map(|h| h.state.clone()), Some("AwaitingPack".to_owned()));
    assert_eq!(packing.result.unwrap()["labels"]["outcome"], "awaiting_pack");
    assert!(out.get("EnqueueConfirmation").is_none());
    assert_eq!(ok.history.last().unwrap().state, "ReadyToShip");

    let (held, calls) = run(None, "hold").await;
    assert_eq!(calls, ["Validate"]);
    assert_eq!(held.history.last().unwrap().state, "OnHold");

    let (declined, calls) = run(None, "declined").await;
    assert_eq!(calls, ["Validate", "Allocate", "AuthorizePayment"]);
    assert_eq!(declined.history.last().unwrap().state, "AwaitingPayment");
    assert_eq!(declined.result.unwrap()["payment"]["outcome"], "payment_required");

    let (failed, calls) = run(Some(("AuthorizePayment", "PaymentDeclined")), "o2").await;
    assert_eq!(failed.result.unwrap_err().error, "OrderNotFulfilled");
    assert_eq!(calls, ["Validate", "Allocate", "AuthorizePayment", "Compensate"]);

    let (retried, calls) = run(Some(("Allocate", "StoreTransient")), "o3").await;
    assert_eq!(retried.result.unwrap_err().error, "OrderNotFulfilled");
    assert_eq!(calls.iter().filter(|c| *c == "Allocate").count(), 5, "{calls:?}");

    let (inactive, _) = run(Some(("CreateLabels", "OrderNotActive")), "o4").await;
    assert_eq!(inactive.result.unwrap()["error"], json!({"Error": "OrderNotActive", "Cause": "injected"}));
}
