//! Cold start and size. Every function is built for arm64 with cargo-lambda (release profile,
//! zipped as Lambda takes it) and for this machine (same profile), and the native binary is
//! started against a Lambda Runtime API served here, as Lambda starts a `provided.al2023`
//! function: spawn → first `GET /invocation/next` is *init* (clients built, DynamoDB connection
//! opened), → first response posted is *first response* (one sample event from `events/`,
//! handled against DynamoDB Local). Peak memory is the process's `VmHWM`. A Python peer
//! (`dev/bench/peer/handler.py`, boto3) doing the same first request as `placement` is started
//! the same way in the same run.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Function crate, the sample event its first request replays.
const FUNCTIONS: [(&str, &str); 12] = [
    ("placement", "apigw/orders-list.json"),
    ("returns", "apigw/returns-list.json"),
    ("tracking-webhook", "webhooks/carrier-tracker-updated.json"),
    ("payment-webhook", "webhooks/payment-dispute-created.json"),
    ("validate-order", "steps/validate-order.json"),
    ("allocate-order", "steps/allocate-order.json"),
    ("authorize-payment", "steps/authorize-payment.json"),
    ("create-labels", "steps/create-labels.json"),
    ("compensate-order", "steps/compensate-order.json"),
    ("tracking-consumer", "sqs/tracking-batch.json"),
    ("notifier", "sqs/notifications-batch.json"),
    ("cart-reminders", "scheduled/cart-reminders.json"),
];

const GOAL_INIT_MS: f64 = 20.0;
const GOAL_ZIP_BYTES: u64 = 5_000_000;
const GOAL_PEAK_MB: f64 = 40.0;

#[derive(Default)]
struct Invocation {
    event: Bytes,
    served: bool,
    next_at: Option<Instant>,
    responded_at: Option<Instant>,
    error: bool,
    init_error: bool,
}

type Shared = Arc<Mutex<Invocation>>;

async fn next(State(s): State<Shared>) -> (HeaderMap, Bytes) {
    let event = {
        let mut inv = s.lock().unwrap_or_else(|e| e.into_inner());
        if inv.served {
            None
        } else {
            inv.served = true;
            inv.next_at = Some(Instant::now());
            Some(inv.event.clone())
        }
    };
    let Some(event) = event else {
        // One invocation per start: the second poll waits until the process is stopped.
        return std::future::pending().await;
    };
    let mut h = HeaderMap::new();
    let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
    h.insert("lambda-runtime-aws-request-id", HeaderValue::from_static("8476a536-e9f4-11e8-9739-2dfe598c3fcd"));
    h.insert("lambda-runtime-deadline-ms", HeaderValue::from(deadline));
    h.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:oms-cold-start"),
    );
    h.insert("lambda-runtime-trace-id", HeaderValue::from_static("Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700"));
    h.insert("content-type", HeaderValue::from_static("application/json"));
    (h, event)
}

/// Records the end of the invocation: a response, a handler error or an init error.
fn finish(s: &Shared, error: bool, init_error: bool) -> axum::http::StatusCode {
    let mut inv = s.lock().unwrap_or_else(|e| e.into_inner());
    inv.error |= error;
    inv.init_error |= init_error;
    inv.responded_at.get_or_insert_with(Instant::now);
    axum::http::StatusCode::ACCEPTED
}

async fn response(State(s): State<Shared>) -> axum::http::StatusCode {
    finish(&s, false, false)
}

async fn error(State(s): State<Shared>) -> axum::http::StatusCode {
    finish(&s, true, false)
}

async fn init_error(State(s): State<Shared>) -> axum::http::StatusCode {
    finish(&s, false, true)
}

#[derive(Debug, Clone)]
struct Start {
    init_ms: f64,
    first_response_ms: f64,
    peak_rss_mb: f64,
    handler_error: bool,
}

fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// Starts `program` once against a fresh runtime API and measures it.
async fn start_once(program: &[String], env: &BTreeMap<String, String>, event: &[u8]) -> anyhow::Result<Start> {
    let state: Shared = Arc::new(Mutex::new(Invocation { event: Bytes::copy_from_slice(event), ..Default::default() }));
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut cmd = tokio::process::Command::new(&program[0]);
    cmd.args(&program[1..])
        .env_clear()
        .envs(env)
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let t0 = Instant::now();
    let mut child = cmd.spawn()?;
    let pid = child.id().unwrap_or(0);
    let mut peak_kb = 0;
    let result = loop {
        peak_kb = peak_kb.max(peak_rss_kb(pid).unwrap_or(0));
        let done = {
            let inv = state.lock().unwrap_or_else(|e| e.into_inner());
            inv.responded_at.map(|r| (inv.next_at, r, inv.error, inv.init_error))
        };
        if let Some((next_at, responded_at, error, init_error)) = done {
            anyhow::ensure!(!init_error, "{} reported an init error", program[0]);
            let next_at = next_at.unwrap_or(responded_at);
            break Start {
                init_ms: (next_at - t0).as_secs_f64() * 1000.0,
                first_response_ms: (responded_at - t0).as_secs_f64() * 1000.0,
                peak_rss_mb: 0.0,
                handler_error: error,
            };
        }
        if let Ok(Some(status)) = child.try_wait() {
            anyhow::bail!("{} exited before responding: {status}", program[0]);
        }
        anyhow::ensure!(t0.elapsed() < Duration::from_secs(30), "{} did not respond in 30 s", program[0]);
        tokio::time::sleep(Duration::from_micros(500)).await;
    };
    // The high-water mark is kept by the kernel: read it once more after the response.
    peak_kb = peak_kb.max(peak_rss_kb(pid).unwrap_or(0));
    let _ = child.kill().await;
    server.abort();
    Ok(Start { peak_rss_mb: peak_kb as f64 / 1024.0, ..result })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

fn summarize(starts: &[Start]) -> Value {
    json!({
        "initMsMedian": median(starts.iter().map(|s| s.init_ms).collect()),
        "firstResponseMsMedian": median(starts.iter().map(|s| s.first_response_ms).collect()),
        "peakRssMbMax": starts.iter().map(|s| s.peak_rss_mb).fold(0.0, f64::max),
        "initMs": starts.iter().map(|s| (s.init_ms * 10.0).round() / 10.0).collect::<Vec<_>>(),
        "firstResponseMs": starts.iter().map(|s| (s.first_response_ms * 10.0).round() / 10.0).collect::<Vec<_>>(),
        "handlerReturnedError": starts.iter().any(|s| s.handler_error),
    })
}

fn run_cmd(root: &Path, program: &str, args: &[&str], path_prefix: Option<&Path>) -> anyhow::Result<()> {
    let mut cmd = std::process::Command::new(program);
    cmd.current_dir(root).args(args);
    if let Some(p) = path_prefix {
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", p.display()));
    }
    eprintln!("cold-start: {program} {}", args.join(" "));
    let status = cmd.status()?;
    anyhow::ensure!(status.success(), "{program} failed: {status}");
    Ok(())
}

pub async fn run(runs: usize, build: bool) -> anyhow::Result<()> {
    let root = oms_harness::repo_root();
    let mut packages: Vec<&str> = Vec::new();
    for (f, _) in FUNCTIONS {
        packages.extend(["-p", f]);
    }
    if build {
        let venv_bin = root.join(".venv/bin");
        let cargo_lambda = venv_bin.join("cargo-lambda");
        anyhow::ensure!(cargo_lambda.exists(), "cargo-lambda not found: run ./dev/setup.sh first");
        let mut args = vec!["lambda", "build", "--release", "--arm64", "--output-format", "zip", "--locked"];
        args.extend(&packages);
        run_cmd(&root, &cargo_lambda.to_string_lossy(), &args, Some(&venv_bin))?;
        let mut args = vec!["build", "--release", "--locked"];
        args.extend(&packages);
        run_cmd(&root, "cargo", &args, None)?;
    }
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root.join("target"));

    let table = format!("oms-cold-{}", ulid::Ulid::new().to_string().to_lowercase());
    let local = oms_local::start(
        &table,
        oms_local::Options { stream: false, workers: false, seed: true, ..Default::default() },
    )
    .await?;
    let prices: Value = serde_json::from_str(&std::fs::read_to_string(root.join("dev/bench/prices.json"))?)?;
    let memory = prices["lambdaMemoryMb"].as_u64().unwrap_or(256).to_string();
    let mut env: BTreeMap<String, String> = [
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "local".into()),
        ("AWS_SECRET_ACCESS_KEY", "local".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
        ("RUST_LOG", "warn".into()),
        ("TABLE_NAME", local.table.clone()),
        ("DYNAMODB_ENDPOINT", local.dynamodb_endpoint.clone()),
        ("SQS_ENDPOINT", local.moto_endpoint.clone()),
        ("SES_ENDPOINT", local.moto_endpoint.clone()),
        ("EVENTS_ENDPOINT", local.moto_endpoint.clone()),
        ("EVENT_BUS_NAME", format!("{}-events", local.table)),
        ("WEBHOOK_QUEUE_URL", local.queues.get("WebhookQueue").cloned().unwrap_or_default()),
        ("NOTIFICATIONS_QUEUE_URL", local.queues.get("NotificationsQueue").cloned().unwrap_or_default()),
        ("TRACKING_QUEUE_URL", local.queues.get("TrackingQueue").cloned().unwrap_or_default()),
        ("WEBHOOK_SECRETS", oms_local::WEBHOOK_SECRET.into()),
        ("PAYMENT_WEBHOOK_SECRETS", oms_local::PAYMENT_WEBHOOK_SECRET.into()),
        ("SES_FROM", oms_local::MAIL_FROM.into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();

    let mut functions = serde_json::Map::new();
    for (f, event_file) in FUNCTIONS {
        let event = std::fs::read(root.join("events").join(event_file))?;
        let zip = target.join("lambda").join(f).join("bootstrap.zip");
        let binary = target.join("release").join(f);
        env.insert("AWS_LAMBDA_FUNCTION_NAME".into(), f.to_owned());
        let mut starts = Vec::new();
        for _ in 0..runs {
            starts.push(start_once(&[binary.to_string_lossy().into_owned()], &env, &event).await?);
        }
        let mut v = summarize(&starts);
        v["arm64ZipBytes"] = json!(std::fs::metadata(&zip).map(|m| m.len()).ok());
        v["nativeBinaryBytes"] = json!(std::fs::metadata(&binary).map(|m| m.len()).ok());
        v["event"] = json!(event_file);
        eprintln!("cold-start: {f}: {v}");
        functions.insert(f.to_owned(), v);
    }

    // The peer: Python 3 + boto3 (from the project's venv), the same first request as placement.
    let python = root.join(".venv/bin/python");
    let handler = root.join("dev/bench/peer/handler.py");
    env.insert("AWS_LAMBDA_FUNCTION_NAME".into(), "python-peer".into());
    let event = std::fs::read(root.join("events/apigw/orders-list.json"))?;
    let mut starts = Vec::new();
    for _ in 0..runs {
        starts.push(
            start_once(&[python.to_string_lossy().into_owned(), handler.to_string_lossy().into_owned()], &env, &event)
                .await?,
        );
    }
    let mut peer = summarize(&starts);
    peer["event"] = json!("apigw/orders-list.json");
    peer["runtime"] = json!(
        String::from_utf8_lossy(&std::process::Command::new(&python).arg("--version").output()?.stdout)
            .trim()
            .to_owned()
    );
    eprintln!("cold-start: python peer: {peer}");

    let worst = |k: &str| functions.values().filter_map(|v| v[k].as_f64()).fold(0.0, f64::max);
    let report = json!({
        "runsPerFunction": runs,
        "machine": format!("{} ({} cores), native {} builds timed; sizes from arm64 (aarch64-unknown-linux-gnu) zips", std::env::consts::ARCH, std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1), std::env::consts::ARCH),
        "goals": {"initMs": GOAL_INIT_MS, "zipBytes": GOAL_ZIP_BYTES, "peakRssMb": GOAL_PEAK_MB},
        "worst": {
            "initMsMedian": worst("initMsMedian"),
            "firstResponseMsMedian": worst("firstResponseMsMedian"),
            "peakRssMbMax": worst("peakRssMbMax"),
            "arm64ZipBytes": functions.values().filter_map(|v| v["arm64ZipBytes"].as_u64()).max(),
        },
        "functions": functions,
        "pythonPeer": peer,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    std::fs::write(crate::out_dir().join("cold-start.json"), serde_json::to_string_pretty(&report)?)?;
    Ok(())
}
