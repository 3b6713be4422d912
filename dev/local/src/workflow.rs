//! The fulfillment workflow, locally: the definition file from `infra/statemachines/` with its
//! `DefinitionSubstitutions` resolved against local resources, run by the ASL executor, whose
//! Task states call the same step handlers the Lambdas run.

use anyhow::{Context, bail};
use oms_asl::{Execution, Executor, TaskError, TaskRunner};
use oms_harness::SubRef;
use oms_shared::app::fulfillment::Fulfillment;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const STATE_MACHINE: &str = "FulfillmentStateMachine";
const SQS_SEND: &str = "arn:aws:states:::sqs:sendMessage";

/// A failure injected around a state (tests): before the handler runs, or after its side
/// effects are done.
#[derive(Debug, Clone)]
pub struct Fault {
    pub state: String,
    pub after: bool,
    pub error: String,
    pub times: u32,
}

pub struct LocalTasks {
    fulfillment: Fulfillment,
    sqs: aws_sdk_sqs::Client,
    /// Function ARN -> cargo binary (step function name).
    functions: HashMap<String, String>,
    pub faults: Mutex<Vec<Fault>>,
    /// Every Task invocation: (state, ok, microseconds, is a Lambda function).
    pub invocations: Mutex<Vec<(String, bool, u128, bool)>>,
}

impl LocalTasks {
    fn fault(&self, state: &str, after: bool) -> Option<TaskError> {
        let mut faults = self.faults.lock().ok()?;
        let f = faults.iter_mut().find(|f| f.state == state && f.after == after && f.times > 0)?;
        f.times -= 1;
        Some(TaskError::new(f.error.clone(), format!("injected {} {state}", if after { "after" } else { "before" })))
    }
}

#[async_trait::async_trait]
impl TaskRunner for LocalTasks {
    async fn run(&self, resource: &str, state: &str, input: Value) -> Result<Value, TaskError> {
        if let Some(e) = self.fault(state, false) {
            return Err(e);
        }
        let started = std::time::Instant::now();
        let out = if resource == SQS_SEND {
            let url = input.get("QueueUrl").and_then(Value::as_str).unwrap_or_default();
            let body = match input.get("MessageBody") {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => return Err(TaskError::new("States.Runtime", "MessageBody missing")),
            };
            let res = self.sqs.send_message().queue_url(url).message_body(body).send().await;
            res.map(|r| json!({"MessageId": r.message_id}))
                .map_err(|e| TaskError::new("SQS.SdkClientException", e.to_string()))
        } else {
            let function = self
                .functions
                .get(resource)
                .ok_or_else(|| TaskError::new("States.Runtime", format!("unknown resource {resource}")))?;
            self.fulfillment.dispatch(function, input).await.map_err(|e| TaskError::new(e.name, e.message))
        };
        if let Ok(mut inv) = self.invocations.lock() {
            inv.push((state.to_owned(), out.is_ok(), started.elapsed().as_micros(), resource != SQS_SEND));
        }
        if out.is_ok()
            && let Some(e) = self.fault(state, true)
        {
            return Err(e);
        }
        out
    }
}

pub struct Workflow {
    pub executor: Executor,
    pub tasks: Arc<LocalTasks>,
    pub executions: Mutex<Vec<Execution>>,
}

impl Workflow {
    /// Loads the definition named in the template and binds it to local resources.
    pub fn load(
        fulfillment: Fulfillment,
        sqs: aws_sdk_sqs::Client,
        queue_urls: &HashMap<String, String>,
    ) -> anyhow::Result<Self> {
        let sm = oms_harness::state_machines()?
            .into_iter()
            .find(|s| s.logical_id == STATE_MACHINE)
            .context("FulfillmentStateMachine missing from the template")?;
        let mut subs = HashMap::new();
        let mut functions = HashMap::new();
        for (name, r) in &sm.substitutions {
            let value = match r {
                SubRef::GetAtt(logical, attr) if attr == "Arn" => {
                    let binary =
                        oms_harness::function_binary(logical)?.with_context(|| format!("{logical} has no Binary"))?;
                    let arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{binary}");
                    functions.insert(arn.clone(), binary);
                    arn
                }
                SubRef::Ref(logical) => {
                    queue_urls.get(logical).cloned().with_context(|| format!("no local resource for {logical}"))?
                }
                other => bail!("unsupported substitution {name}: {other:?}"),
            };
            subs.insert(name.clone(), value);
        }
        let text = std::fs::read_to_string(&sm.definition_path)?;
        let def: Value = serde_json::from_str(&oms_asl::substitute(&text, &subs))?;
        let tasks = Arc::new(LocalTasks {
            fulfillment,
            sqs,
            functions,
            faults: Mutex::new(Vec::new()),
            invocations: Mutex::new(Vec::new()),
        });
        let mut executor = Executor::new(&def, tasks.clone()).map_err(anyhow::Error::msg)?;
        // Retry delays run at 1/100 speed locally: the same attempts, without the waiting.
        executor.time_scale = 0.01;
        Ok(Workflow { executor, tasks, executions: Mutex::new(Vec::new()) })
    }

    /// Runs one execution to its end and records it.
    pub async fn run(&self, order_id: &str) -> Execution {
        let ex = self.executor.execute(json!({"orderId": order_id})).await;
        match &ex.result {
            Ok(_) => tracing::info!(order_id, transitions = ex.transitions(), "workflow succeeded"),
            Err(e) => tracing::info!(order_id, error = %e.error, "workflow ended in failure"),
        }
        if let Ok(mut all) = self.executions.lock() {
            all.push(ex.clone());
        }
        ex
    }
}
