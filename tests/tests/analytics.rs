//! Order analytics from outside: a randomized run of orders (channels, cancellations, labels,
//! deliveries, returns for wrong and unwanted items, complaints), every analytics message
//! delivered again and late, then every figure compared with a recomputation from the orders
//! themselves, a reset rebuild, and the same figures computed by DuckDB over a DynamoDB-style
//! export of the table (the SQL in docs/analytics/queries/, which Athena runs on AWS).

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::AttributeValue;
use oms_shared::domain::analytics::{Counters, RowKey, contribution, fact_of};
use oms_shared::domain::figures;
use oms_shared::domain::{CustomerId, OrderId};
use oms_tests::{Stack, order_body};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;

const SKUS: [&str; 4] = ["TSHIRT-BLK-M", "MUG-CLASSIC", "SOCKS-3PK", "DESK-LAMP"];
const CHANNELS: [&str; 3] = ["web", "app", "call_center"];

/// What the figures must be: each order's fact computed from the order as it is, summed.
async fn recomputed(s: &Stack, ids: &[String]) -> anyhow::Result<BTreeMap<RowKey, Counters>> {
    let store = &s.local.oms.store;
    let mut rows: BTreeMap<RowKey, Counters> = BTreeMap::new();
    for id in ids {
        let id = OrderId::parse(id)?;
        let view = store.get_order_view(&id).await?.ok_or_else(|| anyhow::anyhow!("order {id}"))?;
        let fact = fact_of(
            &view.order,
            &view.shipments,
            &view.timeline,
            &store.returns_of_order(&id).await?,
            &store.cases_of_order(&id).await?,
        );
        for (k, c) in contribution(&fact) {
            let row = rows.entry(k).or_default();
            for (n, v) in c {
                *row.entry(n).or_insert(0) += v;
            }
        }
    }
    Ok(rows)
}

fn analytics_message(order: &str, n: usize) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(format!("dup-{order}-{n}"));
    m.body = Some(json!({"source": "oms", "detail-type": "order.placed", "detail": {"orderId": order}}).to_string());
    m
}

/// The table's analytics facts as a DynamoDB export writes them (JSON lines of
/// `{"Item": <DynamoDB JSON>}`), with every other item of the table beside them.
async fn export(s: &Stack, dir: &std::path::Path) -> anyhow::Result<usize> {
    fn ddb_json(v: &AttributeValue) -> Value {
        match v {
            AttributeValue::S(x) => json!({"S": x}),
            AttributeValue::N(x) => json!({"N": x}),
            AttributeValue::Bool(b) => json!({"BOOL": b}),
            AttributeValue::Null(_) => json!({"NULL": true}),
            AttributeValue::M(m) => {
                json!({"M": m.iter().map(|(k, v)| (k.clone(), ddb_json(v))).collect::<serde_json::Map<_, _>>()})
            }
            AttributeValue::L(l) => json!({"L": l.iter().map(ddb_json).collect::<Vec<_>>()}),
            AttributeValue::Ss(l) => json!({"SS": l}),
            AttributeValue::Ns(l) => json!({"NS": l}),
            _ => Value::Null,
        }
    }
    let client = s.local.dynamo.client();
    let mut start = None;
    let mut lines = Vec::new();
    loop {
        let r = client.scan().table_name(s.local.dynamo.table()).set_exclusive_start_key(start.take()).send().await?;
        for item in r.items.unwrap_or_default() {
            let m: serde_json::Map<String, Value> = item.iter().map(|(k, v)| (k.clone(), ddb_json(v))).collect();
            lines.push(json!({"Item": m}).to_string());
        }
        match r.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => break,
        }
    }
    std::fs::create_dir_all(dir)?;
    // An export's data files are gzip'd; DuckDB and Athena read them either way.
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("part-0001.json"))?);
    for l in &lines {
        writeln!(f, "{l}")?;
    }
    f.flush()?;
    Ok(lines.len())
}

#[tokio::test]
async fn figures_equal_a_recomputation_from_the_orders_after_duplicates_and_agree_with_duckdb() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let seed: u64 = std::env::var("OMS_ANALYTICS_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(rand::random);
    println!("analytics seed {seed} (OMS_ANALYTICS_SEED to replay)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let admin = s.admin_token();
    let mut ids = Vec::new();
    for i in 0..10 {
        let customer = format!("cust-an-{}", i % 4);
        let lines: Vec<Value> = (0..rng.random_range(1..=2))
            .map(|k| json!({"sku": SKUS[(i + k * 2) % SKUS.len()], "quantity": rng.random_range(1..=2)}))
            .collect();
        let mut body = order_body(json!(lines));
        body["channel"] = json!(CHANNELS[rng.random_range(0..CHANNELS.len())]);
        body["email"] = json!(format!("{customer}@example.com"));
        let id = if body["channel"] == "call_center" {
            // Call-centre orders are placed by an agent for the customer.
            let mut staff = body.clone();
            staff["customerId"] = json!(customer);
            let key = ulid::Ulid::new().to_string();
            let agent = s.scoped_token("agent-an", "oms/agent");
            let r =
                s.call("POST", "/v1/admin/orders", Some(&agent), Some(&staff), &[("Idempotency-Key", &key)]).await?;
            anyhow::ensure!(r.status == 201, "call-centre placement: {}", r.text);
            r.json()["orderId"].as_str().unwrap_or_default().to_owned()
        } else {
            s.place(&customer, &body).await?
        };
        let t = s.token(&customer);
        match rng.random_range(0..6) {
            0 => {}
            1 => {
                let r = s.call("POST", &format!("/v1/orders/{id}/cancel"), Some(&t), None, &[]).await?;
                anyhow::ensure!(r.status == 200, "cancel: {}", r.text);
            }
            2 => {
                let ex = s.local.workflow.run(&id).await;
                anyhow::ensure!(ex.result.is_ok(), "workflow: {:?}", ex.result);
            }
            n => {
                let ex = s.local.workflow.run(&id).await;
                anyhow::ensure!(ex.result.is_ok(), "workflow: {:?}", ex.result);
                // The stream's own execution may be the one that buys the labels.
                let o = s.wait_for_status(&customer, &id, "ready_to_ship").await?;
                for sh in o["shipments"].as_array().into_iter().flatten() {
                    let Some(tn) = sh["trackingNumber"].as_str() else { continue };
                    for st in ["in_transit", "delivered"] {
                        s.carrier_event(&format!("evt_{}", ulid::Ulid::new()), tn, st).await?;
                    }
                }
                s.wait_for_status(&customer, &id, "delivered").await?;
                if n == 4 {
                    let reason = ["wrong_item", "no_longer_needed"][rng.random_range(0..2)];
                    let ret =
                        json!({"lines": [{"lineId": "L1", "quantity": 1, "reason": reason}], "resolution": "refund"});
                    let r = s.open_return(&customer, &id, &ret).await?;
                    anyhow::ensure!(r.status == 201, "return: {}", r.text);
                    let rma = r.json()["id"].as_str().unwrap_or_default().to_owned();
                    let got = s
                        .receive_return(&rma, json!([{"lineId": "L1", "quantity": 1, "condition": "resellable"}]))
                        .await?;
                    anyhow::ensure!(got.status == 200, "receive: {}", got.text);
                }
                if n == 5 {
                    let ask = json!({"kind": "complaint", "subject": "Box was crushed", "message": "not happy"});
                    let r = s.call("POST", &format!("/v1/orders/{id}/inquiries"), Some(&t), Some(&ask), &[]).await?;
                    anyhow::ensure!(r.status == 201, "complaint: {}", r.text);
                }
            }
        }
        ids.push(id);
    }
    s.settle_effects().await?;
    // Every order's analytics message again, twice, as a redelivering bus and a retried
    // stream record would bring them (and late: after the later changes).
    for round in 0..2 {
        let mut ev = SqsEvent::default();
        ev.records = ids.iter().map(|id| analytics_message(id, round)).collect();
        let out = oms_runtime::analytics_batch(&s.local.analytics, ev).await;
        assert!(out.batch_item_failures.is_empty(), "duplicates are not failures");
    }

    let today = chrono::Utc::now().date_naive();
    let (from, to) = (today - chrono::Duration::days(1), today + chrono::Duration::days(1));
    let q = format!("from={from}&to={to}");
    let expected = recomputed(&s, &ids).await?;
    let want = serde_json::to_value(figures::totals(expected.iter(), from, to, None).summary(from, to, None))?;
    // Generous: under the whole suite's load the stream poller, moto's bus and the queue are slow.
    let mut got = Value::Null;
    for _ in 0..900 {
        got = s.call("GET", &format!("/v1/admin/analytics/summary?{q}"), Some(&admin), None, &[]).await?.json();
        if got == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(got, want, "the figures after 90 s");
    let orders = want["orders"].as_i64().unwrap_or(0);
    assert_eq!(orders, 10, "{want}");
    // Per channel, and a time series of every metric.
    for ch in CHANNELS {
        let want =
            serde_json::to_value(figures::totals(expected.iter(), from, to, Some(ch)).summary(from, to, Some(ch)))?;
        let got =
            s.call("GET", &format!("/v1/admin/analytics/summary?{q}&channel={ch}"), Some(&admin), None, &[]).await?;
        assert_eq!(got.json(), want, "channel {ch}");
    }
    for metric in figures::METRICS {
        let r = s
            .call("GET", &format!("/v1/admin/analytics/timeseries?{q}&metric={metric}"), Some(&admin), None, &[])
            .await?;
        assert_eq!(r.status, 200, "{metric}: {}", r.text);
        let points = r.json()["points"].as_array().cloned().unwrap_or_default();
        assert_eq!(points.len(), 3, "{metric}: a point per day");
        let day = figures::totals(expected.iter(), today, today, None);
        let currency = figures::is_money(metric).then_some("USD");
        assert_eq!(
            points[1]["value"].as_f64(),
            figures::metric(&day, metric, currency).map(|v| v.as_f64()),
            "{metric} today"
        );
        if let Some(figures::MetricValue::Whole(n)) = figures::metric(&day, metric, currency) {
            assert_eq!(points[1]["value"].as_i64(), Some(n), "{metric}: counts, money and minutes are integers");
        }
        assert_eq!(
            points[0]["value"].as_f64(),
            figures::metric(&Default::default(), metric, currency).map(|v| v.as_f64()),
            "{metric} yesterday"
        );
    }
    // A customer's lifetime figures: orders not cancelled, revenue, first and last order.
    let c = s.call("GET", "/v1/admin/analytics/customers/cust-an-0", Some(&admin), None, &[]).await?.json();
    let mine: Vec<String> = ids.iter().step_by(4).cloned().collect();
    let store = &s.local.oms.store;
    let (mut live, mut revenue) = (0, 0);
    for id in &mine {
        let f = store.order_fact(&OrderId::parse(id)?).await?.ok_or_else(|| anyhow::anyhow!("fact of {id}"))?;
        live += i64::from(!f.cancelled);
        revenue += f.net;
        assert_eq!(f.customer_id, CustomerId::parse("cust-an-0")?);
    }
    assert_eq!(c["orders"], live, "{c}");
    assert_eq!(c["revenue"].get("USD").and_then(Value::as_i64).unwrap_or(0), revenue, "{c}");

    // A reset rebuild from the orders gives the same figures; two at once do not count the
    // orders twice (one waits its turn: 409).
    let reset = json!({"from": from, "to": to, "reset": true});
    let (a, b) = tokio::join!(
        s.call("POST", "/v1/admin/analytics/rebuild", Some(&admin), Some(&reset), &[]),
        s.call("POST", "/v1/admin/analytics/rebuild", Some(&admin), Some(&reset), &[])
    );
    let (a, b) = (a?, b?);
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert!(statuses == [200, 200] || statuses == [200, 409], "{} {} / {} {}", a.status, a.text, b.status, b.text);
    let r = s.call("POST", "/v1/admin/analytics/rebuild", Some(&admin), Some(&reset), &[]).await?;
    assert_eq!((r.status, r.json()["orders"].as_i64()), (200, Some(10)), "{}", r.text);
    let after = s.call("GET", &format!("/v1/admin/analytics/summary?{q}"), Some(&admin), None, &[]).await?.json();
    assert_eq!(after, want, "a rebuild changes no figure");

    // DuckDB over an export of the table, with the queries Athena runs.
    let dir = std::env::temp_dir().join(format!("oms-export-{}", ulid::Ulid::new()));
    let items = export(&s, &dir.join("data")).await?;
    assert!(items > 10);
    std::fs::write(dir.join("summary.json"), serde_json::to_string(&want)?)?;
    let root = oms_harness::repo_root();
    let out = std::process::Command::new(root.join(".venv/bin/python"))
        .arg(root.join("dev/analytics/duckdb_check.py"))
        .args([
            "--export",
            &dir.join("data").to_string_lossy(),
            "--summary",
            &dir.join("summary.json").to_string_lossy(),
        ])
        .args(["--from", &from.to_string(), "--to", &to.to_string()])
        .output()?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "duckdb disagrees with the aggregates:\n{text}");
    assert!(text.contains("duckdb agrees"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[tokio::test]
async fn analytics_is_for_supervisors_and_finance_and_refuses_bad_ranges() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    for (scope, status) in [
        ("oms/agent", 403),
        ("oms/warehouse", 403),
        ("oms/integration", 403),
        ("oms/finance", 200),
        ("oms/supervisor", 200),
    ] {
        let t = s.scoped_token("staff", scope);
        let r = s.call("GET", "/v1/admin/analytics/summary", Some(&t), None, &[]).await?;
        assert_eq!(r.status, status, "{scope}: {}", r.text);
    }
    let r = s.call("GET", "/v1/admin/analytics/summary", Some(&s.token("cust-x")), None, &[]).await?;
    assert_eq!(r.status, 403);
    let admin = s.admin_token();
    for (query, field) in [
        ("summary?from=2026-13-01", "from"),
        ("summary?from=2026-12-02&to=2026-12-01", "from"),
        ("summary?from=2020-01-01&to=2026-12-01", "from"),
        ("summary?channel=fax", "channel"),
        ("timeseries?metric=profit", "metric"),
        ("timeseries", "metric"),
        ("timeseries?metric=orders&interval=hour", "interval"),
        ("summary?to=-262143-01-05", "to"),
        ("summary?from=%2B2026-12-01", "from"),
        ("summary?from=2026-1-1", "from"),
        ("summary?from=2026-12-01%20", "from"),
        ("summary?from=9999-12-31&to=9999-12-31", "to"),
        ("timeseries?metric=netSales&currency=usd", "currency"),
        ("timeseries?metric=netSales&currency=", "currency"),
        ("summary?channel=web&channel=app", "channel"),
        ("summary?x=1", "x"),
    ] {
        let r = s.call("GET", &format!("/v1/admin/analytics/{query}"), Some(&admin), None, &[]).await?;
        assert_eq!(r.status, 400, "{query}: {}", r.text);
        assert_eq!(r.content_type(), "application/problem+json");
        assert!(r.text.contains(field), "{query} names {field}: {}", r.text);
    }
    let r = s.call("GET", "/v1/admin/analytics/summary?from=2026-01-01&to=2026-01-31", Some(&admin), None, &[]).await?;
    assert_eq!(
        (r.json()["orders"].as_i64(), r.json()["aov"].clone()),
        (Some(0), json!([])),
        "an empty range: {}",
        r.text
    );
    for body in [json!({"from": "-262143-01-01", "to": "-262143-01-05"}), json!({"from": "2026-12-01"})] {
        let r = s.call("POST", "/v1/admin/analytics/rebuild", Some(&admin), Some(&body), &[]).await?;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.json()["field"].is_string(), "names the field: {}", r.text);
    }
    let r = s.call("GET", "/v1/admin/analytics/customers/nobody", Some(&admin), None, &[]).await?;
    assert_eq!(r.status, 404);
    Ok(())
}
