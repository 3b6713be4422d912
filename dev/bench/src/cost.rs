//! Cost per order: complete journeys on the local stack, every billable request metered.
//! Each stage is driven explicitly (the API through the gateway emulation, the workflow by the
//! ASL executor, queues drained by the consumers' batch handlers) so every request is counted.

use oms_local::{Local, Options};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

#[derive(Default, Debug, Clone)]
struct Meter {
    api_requests: u64,
    pipe_events: u64,
    express_executions: u64,
    express_billed_ms: u64,
    transitions: u64,
    sqs_requests: u64,
    /// Integration events put on the bus (each under 64 KB: one billed event).
    bus_events: u64,
    /// function -> (invocations, total microseconds)
    lambda: BTreeMap<String, (u64, u128)>,
}

impl Meter {
    fn lambda(&mut self, f: &str, micros: u128) {
        let e = self.lambda.entry(f.to_owned()).or_default();
        e.0 += 1;
        e.1 += micros;
    }
}

struct Bench {
    local: Local,
    router: axum::Router,
    m: Meter,
}

impl Bench {
    async fn api(
        &mut self,
        function: &str,
        method: &str,
        path: &str,
        who: (&str, &str),
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<(u16, Value)> {
        let mut headers = HashMap::from([("content-type".to_owned(), "application/json".to_owned())]);
        for (k, v) in extra {
            headers.insert((*k).to_owned(), (*v).to_owned());
        }
        let claims = HashMap::from([("sub".to_owned(), who.0.to_owned()), ("scope".to_owned(), who.1.to_owned())]);
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let event = oms_local::gateway::apigw_event(method, path, query, &headers, &bytes, Some(&claims));
        let t = Instant::now();
        let res = oms_local::gateway::invoke(&self.router, &event).await;
        let status = res.status().as_u16();
        let body = http_body_util::BodyExt::collect(res.into_body()).await?.to_bytes();
        self.m.lambda(function, t.elapsed().as_micros());
        self.m.api_requests += 1;
        Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
    }

    async fn webhook(&mut self, tracking: &str, status: &str) -> anyhow::Result<()> {
        let body = oms_local::carrier_event(&format!("evt_{}", ulid::Ulid::new()), tracking, status, None).to_string();
        let sig = oms_shared::app::webhooks::sign(oms_local::WEBHOOK_SECRET, body.as_bytes());
        let headers = HashMap::from([
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-hmac-signature".to_owned(), sig),
        ]);
        let event = oms_local::gateway::apigw_event(
            "POST",
            "/v1/webhooks/carriers/sandbox",
            "",
            &headers,
            body.as_bytes(),
            None,
        );
        let t = Instant::now();
        let res = oms_local::gateway::invoke(&self.router, &event).await;
        anyhow::ensure!(res.status().is_success(), "webhook {}", res.status());
        self.m.lambda("tracking-webhook", t.elapsed().as_micros());
        self.m.api_requests += 1;
        self.m.sqs_requests += 1; // the enqueue
        Ok(())
    }

    /// Drains a queue through its consumer: one receive and one batch delete per batch.
    async fn drain(&mut self, queue: &str) -> anyhow::Result<()> {
        // Effects committed changes recorded (the stream would hand them to the effects function).
        let t = Instant::now();
        let dispatched = self.local.dispatch_committed().await?;
        if dispatched > 0 {
            self.m.lambda("effects", t.elapsed().as_micros());
            self.m.sqs_requests += dispatched as u64;
        }
        let url = self.local.queues[queue].clone();
        loop {
            let ev = oms_local::workers::receive_batch(&self.local.sqs, &url, "arn:bench", 30).await?;
            if ev.records.is_empty() {
                // An empty long poll is the queue's fixed cost (the event source mapping polls
                // whether or not orders come), not a cost per order.
                return Ok(());
            }
            self.m.sqs_requests += 1;
            let t = Instant::now();
            let res = match queue {
                "TrackingQueue" => oms_runtime::tracking_batch(&self.local.tracking, ev.clone()).await,
                _ => oms_runtime::notifier_batch(&self.local.notifier, ev.clone()).await,
            };
            self.m.lambda(
                if queue == "TrackingQueue" { "tracking-consumer" } else { "notifier" },
                t.elapsed().as_micros(),
            );
            oms_local::workers::settle(&self.local.sqs, &url, &ev, &res).await?;
            // One DeleteMessageBatch for the processed messages.
            self.m.sqs_requests += u64::from(ev.records.len() > res.batch_item_failures.len());
        }
    }

    /// The integration events an order's changes announced, published as the effects function
    /// does from the stream (the stream read itself is free; the order reads are metered).
    async fn publish_events(&mut self, id: &str) -> anyhow::Result<()> {
        let items = oms_local::change_records(&self.local, id).await?;
        for item in items {
            let s_of = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
            let (Some(types), Some(pk), Some(sk)) = (s_of("events"), s_of("PK"), s_of("SK")) else { continue };
            let Some((order, change_id)) = oms_shared::adapters::dynamo::keys::parse_outbox(&pk, &sk) else { continue };
            let c = oms_shared::app::events::ChangeEvents {
                order,
                change_id,
                types: types.split_whitespace().map(str::to_owned).collect(),
                sequence: item.get("sequence").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()),
                occurred_at: chrono::Utc::now(),
            };
            let t = Instant::now();
            let n = self.local.effects.publish(&c).await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
            self.m.lambda("effects", t.elapsed().as_micros());
            self.m.bus_events += n as u64;
        }
        Ok(())
    }

    /// The analytics consumer over one batch of events (one per order of the wave, as the
    /// queue's event source mapping hands them over in batches): one SQS receive and one
    /// batch delete per ten messages, one invocation per batch.
    async fn analytics(&mut self, ids: &[String]) -> anyhow::Result<()> {
        let orders = ids.iter().map(|id| oms_shared::domain::OrderId::parse(id)).collect::<Result<Vec<_>, _>>()?;
        for batch in orders.chunks(10) {
            let t = Instant::now();
            for r in self.local.analytics.record_many(batch).await {
                r.map_err(|e| anyhow::anyhow!(e.to_string()))?;
            }
            self.m.lambda("analytics", t.elapsed().as_micros());
            self.m.sqs_requests += 2;
        }
        Ok(())
    }

    /// `inventory.changed` for each SKU and location of the order's reservations, as the
    /// effects function publishes it from the stock items' stream records (holds and restocks
    /// move available units; allocation and shipping do not).
    async fn inventory(&mut self, id: &str) -> anyhow::Result<()> {
        use oms_shared::ports::OrderRepository;
        // The bench's own read, outside the meter (the function reads no order for this).
        let unmetered = oms_shared::adapters::dynamo::DynamoStore::new(
            oms_harness::dynamodb_client(&self.local.dynamodb_endpoint).await,
            &self.local.table,
        );
        let Some(o) = unmetered.get_order(&oms_shared::domain::OrderId::parse(id)?).await? else {
            return Ok(());
        };
        let mut seen = Vec::new();
        for r in &o.reservations {
            if seen.contains(&(&r.sku, &r.location_id)) {
                continue;
            }
            seen.push((&r.sku, &r.location_id));
            let t = Instant::now();
            if self
                .local
                .effects
                .publish_inventory(&r.sku, &r.location_id)
                .await
                .map_err(|e| anyhow::anyhow!(e.to_string()))?
            {
                self.m.bus_events += 1;
            }
            self.m.lambda("effects", t.elapsed().as_micros());
        }
        Ok(())
    }

    /// Journeys run side by side in waves, stage by stage (placement, workflow, carrier scans,
    /// return), as a busy shop's orders overlap: queues and the analytics consumer get batches
    /// of the wave's messages, never two events of one order in one batch.
    async fn wave(&mut self, js: &[(usize, Kind, bool)]) -> anyhow::Result<()> {
        let mut ids = Vec::new();
        for &(i, kind, _) in js {
            ids.push(self.place(i, kind).await?);
        }
        self.analytics(&ids).await?; // order.placed
        for id in &ids {
            self.inventory(id).await?; // the holds
            self.workflow(id).await?;
        }
        self.drain("NotificationsQueue").await?;
        self.analytics(&ids).await?; // order.ready_to_ship
        let mut tracking = Vec::new();
        for (id, &(i, _, _)) in ids.iter().zip(js) {
            let (_, order) = self
                .api("placement", "GET", &format!("/v1/orders/{id}"), (&format!("bench-{i}"), ""), None, &[])
                .await?;
            // A pickup order: the customer shows the code at the store, staff hand it over.
            if let Some(code) = order["pickup"]["code"].as_str() {
                let path = format!("/v1/admin/orders/{id}/collected");
                let body = Some(json!({"code": code}));
                let (status, r) = self.api("placement", "POST", &path, ("store-1", "oms/warehouse"), body, &[]).await?;
                anyhow::ensure!(status == 200, "collect {status}: {r}");
            }
            tracking.extend(
                order["shipments"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s["trackingNumber"].as_str().map(str::to_owned)),
            );
        }
        for st in ["in_transit", "delivered"] {
            for t in &tracking {
                self.webhook(t, st).await?;
            }
            self.drain("TrackingQueue").await?;
            self.drain("NotificationsQueue").await?;
        }
        self.analytics(&ids).await?; // shipment.delivered, order.collected
        let returning: Vec<(String, usize)> =
            ids.iter().zip(js).filter(|(_, j)| j.2).map(|(id, j)| (id.clone(), j.0)).collect();
        if !returning.is_empty() {
            let mut rmas = Vec::new();
            for (id, i) in &returning {
                let (status, rma) = self
                    .api("returns", "POST", &format!("/v1/orders/{id}/returns"), (&format!("bench-{i}"), ""), Some(json!({"lines": [{"lineId": "L1", "quantity": 1, "reason": "does_not_fit"}], "resolution": "refund"})), &[])
                    .await?;
                anyhow::ensure!(status == 201, "return {status}: {rma}");
                rmas.push(rma);
            }
            let returned: Vec<String> = returning.iter().map(|(id, _)| id.clone()).collect();
            self.analytics(&returned).await?; // return.requested
            for rma in &rmas {
                self.webhook(rma["label"]["trackingNumber"].as_str().unwrap_or_default(), "delivered").await?;
            }
            self.drain("TrackingQueue").await?;
            for rma in &rmas {
                let rma_id = rma["id"].as_str().unwrap_or_default();
                let (status, _) = self
                    .api(
                        "returns",
                        "POST",
                        &format!("/v1/admin/returns/{rma_id}/receive"),
                        ("agent-1", "oms/admin"),
                        Some(json!({"lines": [{"lineId": "L1", "quantity": 1, "condition": "resellable"}]})),
                        &[],
                    )
                    .await?;
                anyhow::ensure!(status == 200, "receive {status}");
            }
            self.drain("NotificationsQueue").await?;
            self.analytics(&returned).await?; // return.refunded
            for id in &returned {
                self.inventory(id).await?; // the restock
            }
        }
        for id in &ids {
            self.publish_events(id).await?;
        }
        Ok(())
    }

    /// Places one order; the body's stream record reaches the effects function, which records
    /// the customer's profile (every journey here is a new customer).
    async fn place(&mut self, i: usize, kind: Kind) -> anyhow::Result<String> {
        let sub = format!("bench-{i}");
        let mut body = json!({"lines": kind.lines(),
            "shippingAddress": {"name": "Ann Lee", "line1": "350 5th Ave", "city": "New York", "region": "NY", "postalCode": "10118", "country": "US"},
            "email": format!("bench-{i}@example.com"), "serviceLevel": "standard", "paymentToken": "tok_visa", "channel": "web"});
        if kind == Kind::Pickup {
            body.as_object_mut().map(|o| o.remove("serviceLevel"));
            body["deliveryOptionId"] = json!("pickup-STORE-NYC");
        }
        let key = format!("bench-{i}");
        let (status, placed) =
            self.api("placement", "POST", "/v1/orders", (&sub, ""), Some(body), &[("idempotency-key", &key)]).await?;
        anyhow::ensure!(status == 201, "placement {status}: {placed}");
        let id = placed["orderId"].as_str().unwrap_or_default().to_owned();
        let t = Instant::now();
        let oid = oms_shared::domain::OrderId::parse(&id)?;
        self.local.effects.record_customer(&oid).await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
        self.m.lambda("effects", t.elapsed().as_micros());
        Ok(id)
    }

    /// The order's stream record goes through the pipe into one Express execution.
    async fn workflow(&mut self, id: &str) -> anyhow::Result<()> {
        self.m.pipe_events += 1;
        let before = self.local.workflow.tasks.invocations.lock().map(|v| v.len()).unwrap_or(0);
        let t = Instant::now();
        let ex = self.local.workflow.run(id).await;
        let ms = t.elapsed().as_millis() as u64;
        anyhow::ensure!(ex.result.is_ok(), "workflow: {:?}", ex.result);
        self.m.express_executions += 1;
        self.m.express_billed_ms += ms.div_ceil(100).max(1) * 100;
        self.m.transitions += ex.transitions() as u64;
        let inv: Vec<_> =
            self.local.workflow.tasks.invocations.lock().map(|v| v[before..].to_vec()).unwrap_or_default();
        for (state, _, micros, is_lambda) in inv {
            if is_lambda {
                self.m.lambda(&format!("step:{state}"), micros);
            } else {
                self.m.sqs_requests += 1;
            }
        }
        Ok(())
    }
}

/// Journeys in waves of this many orders.
const WAVE: usize = 10;

/// The order kinds the cost table is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    OneLine,
    TwoLines,
    TwoLinesSplit,
    Pickup,
}

impl Kind {
    fn lines(self) -> Value {
        match self {
            Kind::OneLine | Kind::Pickup => json!([{"sku": "TSHIRT-BLK-M", "quantity": 1}]),
            Kind::TwoLines => json!([{"sku": "TSHIRT-BLK-M", "quantity": 2}, {"sku": "SOCKS-3PK", "quantity": 1}]),
            // The lamp is only in Dallas: two shipments.
            Kind::TwoLinesSplit => json!([{"sku": "TSHIRT-BLK-M", "quantity": 1}, {"sku": "DESK-LAMP", "quantity": 1}]),
        }
    }
}

/// What a set of journeys cost, from meter snapshots before and after.
fn costs(
    prices: &Value,
    m: &Meter,
    units: ((u64, u64), (u64, u64)),
    n: f64,
) -> (f64, f64, BTreeMap<&'static str, f64>) {
    let p = |k: &str| prices[k].as_f64().unwrap_or(0.0);
    let ((r0, w0), (r1, w1)) = units;
    let rru = (r1 - r0) as f64 / 1000.0 / n;
    let wru = (w1 - w0) as f64 / 1000.0 / n;
    let per_order = |x: f64| x / n;
    let invocations: u64 = m.lambda.values().map(|(c, _)| c).sum();
    let lambda_seconds: f64 = m.lambda.values().map(|(_, us)| *us as f64 / 1e6).sum();
    let million = 1_000_000.0;
    let cost = BTreeMap::from([
        ("dynamodb_writes", wru * p("dynamodbPerMillionWriteRequestUnits")),
        ("dynamodb_reads", rru * p("dynamodbPerMillionReadRequestUnits")),
        ("lambda_requests", per_order(invocations as f64) * p("lambdaPerMillionRequests")),
        (
            "lambda_duration",
            per_order(lambda_seconds) * p("lambdaMemoryMb") / 1024.0 * p("lambdaArmPerGbSecond") * million,
        ),
        ("sqs", per_order(m.sqs_requests as f64) * p("sqsStandardPerMillionRequests")),
        (
            "step_functions_express",
            per_order(m.express_executions as f64) * p("stepFunctionsExpressPerMillionRequests")
                + per_order(m.express_billed_ms as f64 / 1000.0)
                    * (p("stepFunctionsExpressMemoryMb") / 1024.0)
                    * p("stepFunctionsExpressPerGbSecond")
                    * million,
        ),
        ("api_gateway", per_order(m.api_requests as f64) * p("apiGatewayHttpPerMillionRequests")),
        ("eventbridge_pipes", per_order(m.pipe_events as f64) * p("eventBridgePipesPerMillionRequests")),
        ("eventbridge_events", per_order(m.bus_events as f64) * p("eventBridgePerMillionCustomEvents")),
    ]);
    (wru, rru, cost)
}

fn meter_delta(after: &Meter, before: &Meter) -> Meter {
    Meter {
        api_requests: after.api_requests - before.api_requests,
        pipe_events: after.pipe_events - before.pipe_events,
        bus_events: after.bus_events - before.bus_events,
        express_executions: after.express_executions - before.express_executions,
        express_billed_ms: after.express_billed_ms - before.express_billed_ms,
        transitions: after.transitions - before.transitions,
        sqs_requests: after.sqs_requests - before.sqs_requests,
        lambda: after
            .lambda
            .iter()
            .map(|(k, (c, us))| {
                let (c0, us0) = before.lambda.get(k).copied().unwrap_or_default();
                (k.clone(), (c - c0, us - us0))
            })
            .collect(),
    }
}

/// Each order kind on its own: units and dollars per order.
async fn per_kind(b: &mut Bench, prices: &Value, each: usize) -> anyhow::Result<Vec<Value>> {
    let mut rows = Vec::new();
    let kinds = [
        ("one line", Kind::OneLine, false),
        ("two lines, one shipment", Kind::TwoLines, false),
        ("two lines split over two warehouses", Kind::TwoLinesSplit, false),
        ("store pickup", Kind::Pickup, false),
        ("two lines, one returned", Kind::TwoLines, true),
    ];
    for (k, (name, kind, with_return)) in kinds.into_iter().enumerate() {
        let m0 = b.m.clone();
        let u0 = b.local.meter.milli_units();
        let mails0 = oms_local::mail(&b.local.moto_endpoint).await?.as_array().map(|a| a.len()).unwrap_or(0);
        let js: Vec<_> = (0..each).map(|i| (10_000 * (k + 1) + i, kind, with_return)).collect();
        for wave in js.chunks(WAVE) {
            b.wave(wave).await?;
        }
        let u1 = b.local.meter.milli_units();
        let mails = oms_local::mail(&b.local.moto_endpoint).await?.as_array().map(|a| a.len()).unwrap_or(0) - mails0;
        let m = meter_delta(&b.m, &m0);
        let n = each.max(1) as f64;
        let (wru, rru, cost) = costs(prices, &m, (u0, u1), n);
        let total: f64 = cost.values().sum();
        rows.push(json!({"kind": name, "orders": each, "writeUnitsPerOrder": wru, "readUnitsPerOrder": rru,
            "sqsRequestsPerOrder": m.sqs_requests as f64 / n, "mailsPerOrder": mails as f64 / n,
            "dollarsPerMillionWithoutEmail": total, "breakdown": cost}));
    }
    Ok(rows)
}

pub async fn run(orders: usize, return_share_pct: u64) -> anyhow::Result<()> {
    let prices: Value =
        serde_json::from_str(&std::fs::read_to_string(oms_harness::repo_root().join("dev/bench/prices.json"))?)?;
    let table = format!("oms-bench-{}", ulid::Ulid::new().to_string().to_lowercase());
    let local =
        oms_local::start(&table, Options { stream: false, workers: false, metered: true, ..Default::default() })
            .await?;
    for (sku, loc) in
        [("TSHIRT-BLK-M", "WH-NJ"), ("SOCKS-3PK", "WH-NJ"), ("DESK-LAMP", "WH-TX"), ("TSHIRT-BLK-M", "STORE-NYC")]
    {
        local
            .oms
            .set_stock(
                oms_shared::domain::Sku::parse(sku)?,
                oms_shared::domain::LocationId::parse(loc)?,
                oms_shared::app::catalog::StockInput {
                    on_hand: Some(1_000_000),
                    shards: None,
                    sequence: None,
                    safety_stock: None,
                    channel_safety_stock: None,
                    reorder_point: None,
                    reorder_quantity: None,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let router = oms_local::functions_router(&local);
    let mut b = Bench { local, router, m: Meter::default() };
    // Transactions billed from item images as AWS bills them (DynamoDB Local's figures for
    // TransactWriteItems do not follow the billing rules).
    b.local.meter.bill_transactions_exactly(
        oms_shared::adapters::dynamo::meter::billing_model(b.local.dynamo.client(), b.local.dynamo.table())
            .await
            .map_err(|e| anyhow::anyhow!(e))?,
    );
    let local_tx0 = b.local.meter.local_reported_tx_milli();
    let (r0, w0) = b.local.meter.milli_units();
    let kinds0 = b.local.meter.writes_by_kind();
    let reads0 = b.local.meter.reads_by_kind();
    let mails0 = oms_local::mail(&b.local.moto_endpoint).await?.as_array().map(|a| a.len()).unwrap_or(0);
    // Spread the returns evenly: order i returns when the running share crosses a whole order.
    let js: Vec<_> = (0..orders)
        .map(|i| (i, Kind::TwoLines, (i as u64 * return_share_pct / 100) != ((i as u64 + 1) * return_share_pct / 100)))
        .collect();
    let returns = js.iter().filter(|j| j.2).count();
    for wave in js.chunks(WAVE) {
        b.wave(wave).await?;
    }
    let (r1, w1) = b.local.meter.milli_units();
    let n = orders.max(1) as f64;
    let by_kind = per_order_by_kind(b.local.meter.writes_by_kind(), &kinds0, n);
    let reads_by_kind = per_order_by_kind(b.local.meter.reads_by_kind(), &reads0, n);
    let mails = oms_local::mail(&b.local.moto_endpoint).await?.as_array().map(|a| a.len()).unwrap_or(0) - mails0;
    let local_tx = (b.local.meter.local_reported_tx_milli() - local_tx0) as f64 / 1000.0 / n;
    let tx_billed: f64 = by_kind.iter().filter(|(k, _, _)| k.starts_with("tx[")).map(|(_, _, u)| u).sum();
    let p = |k: &str| prices[k].as_f64().unwrap_or(0.0);
    let invocations: u64 = b.m.lambda.values().map(|(c, _)| c).sum();
    let lambda_seconds: f64 = b.m.lambda.values().map(|(_, us)| *us as f64 / 1e6).sum();
    let per_order = |x: f64| x / n;
    let (wru, rru, cost) = costs(&prices, &b.m, ((r0, w0), (r1, w1)), n);
    let without_email: f64 = cost.values().sum();
    let ses = per_order(mails as f64) * p("sesPerThousandEmails") * 1000.0;
    let standard_alternative = without_email - cost["step_functions_express"]
        + per_order(b.m.transitions as f64) * p("stepFunctionsStandardPerThousandTransitions") * 1000.0;
    let baseline: Value =
        serde_json::from_str(&std::fs::read_to_string(oms_harness::repo_root().join("dev/bench/cost-baseline.json"))?)?;
    let mut report = json!({
        "defaultMix": format!("{orders} orders of two lines from one warehouse, {return_share_pct}% of them with one line returned, in waves of {WAVE} orders side by side"),
        "baseline": baseline,
        "orders": orders,
        "ordersWithReturn": returns,
        "perOrder": {
            "dynamodbReadUnits": rru, "dynamodbWriteUnits": wru,
            "dynamodbWriteUnitsIfLocalTransactionFiguresWereUsed": wru - tx_billed + local_tx,
            "apiRequests": per_order(b.m.api_requests as f64), "sqsRequests": per_order(b.m.sqs_requests as f64),
            "lambdaInvocations": per_order(invocations as f64), "lambdaSeconds": per_order(lambda_seconds),
            "stateTransitions": per_order(b.m.transitions as f64), "expressExecutions": per_order(b.m.express_executions as f64),
            "mails": per_order(mails as f64), "pipeEvents": per_order(b.m.pipe_events as f64),
            "busEvents": per_order(b.m.bus_events as f64),
        },
        "writeUnitsByKind": by_kind.iter().map(|(k, c, u)| json!({"write": k, "requestsPerOrder": c, "unitsPerOrder": u})).collect::<Vec<_>>(),
        "readUnitsByKind": reads_by_kind.iter().map(|(k, c, u)| json!({"read": k, "requestsPerOrder": c, "unitsPerOrder": u})).collect::<Vec<_>>(),
        "itemSizes": item_sizes(&b.local).await?,
        "lambdaByFunction": b.m.lambda.iter().map(|(k, (c, us))| (k.clone(), json!({"invocationsPerOrder": *c as f64 / n, "meanMs": *us as f64 / 1000.0 / (*c).max(1) as f64}))).collect::<serde_json::Map<_, _>>(),
        "dollarsPerMillionOrders": {
            "breakdown": cost,
            "totalWithoutEmail": without_email,
            "ses": ses,
            "totalWithEmail": without_email + ses,
            "withStandardWorkflowInsteadOfExpress": standard_alternative,
        },
        "goals": {"dollarsPerMillionWithoutEmail": 30.0, "writeUnitsPerOrder": 24.0, "readUnitsPerOrder": 12.0},
        "prices": prices["asOf"],
    });
    // Then each kind on its own (after the mix's figures are taken).
    report["perKind"] = Value::Array(per_kind(&mut b, &prices, 8).await?);
    println!("{}", serde_json::to_string_pretty(&report)?);
    std::fs::write(crate::out_dir().join("cost.json"), serde_json::to_string_pretty(&report)?)?;
    Ok(())
}

/// Requests and units per order by kind since `before`, most units first.
fn per_order_by_kind(
    now: BTreeMap<String, (u64, u64)>,
    before: &BTreeMap<String, (u64, u64)>,
    n: f64,
) -> Vec<(String, f64, f64)> {
    let mut out: Vec<(String, f64, f64)> = now
        .into_iter()
        .map(|(k, (c, m))| {
            let (c0, m0) = before.get(&k).copied().unwrap_or_default();
            (k, (c - c0) as f64 / n, (m - m0) as f64 / 1000.0 / n)
        })
        .filter(|(_, c, _)| *c > 0.0)
        .collect();
    out.sort_by(|a, b| b.2.total_cmp(&a.2));
    out
}

/// Mean stored size per entity kind (the sort key's first segment), after the run.
async fn item_sizes(local: &oms_local::Local) -> anyhow::Result<Value> {
    let client = local.dynamo.client();
    let mut by_kind: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(local.dynamo.table())
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("scan: {e:?}"))?;
        for item in out.items() {
            let sk = item.get("SK").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let kind = match item.get("entity").and_then(|v| v.as_s().ok()) {
                Some(e) => e.clone(),
                None => sk.split('#').next().unwrap_or_default().to_owned(),
            };
            let size = oms_shared::adapters::dynamo::billing::item_size(item);
            let e = by_kind.entry(kind).or_default();
            e.0 += 1;
            e.1 += size as u64;
        }
        start = out.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    Ok(Value::Object(
        by_kind.into_iter().map(|(k, (c, b))| (k, json!({"items": c, "meanBytes": b / c.max(1)}))).collect(),
    ))
}
