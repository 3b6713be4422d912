//! The local stand-in for the EventBridge Pipe: polls the table's DynamoDB stream and starts a
//! workflow execution for each record the pipe's filter would pass (an order inserted in
//! `placed`, or moved from `on_hold` back to `placed`). A record is only passed over once the
//! execution has been started.

use crate::workflow::Workflow;
use aws_sdk_dynamodbstreams::types::{AttributeValue, OperationType, ShardIteratorType};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn s<'a>(img: Option<&'a HashMap<String, AttributeValue>>, k: &str) -> Option<&'a str> {
    img?.get(k)?.as_s().ok().map(String::as_str)
}

/// A stream image as DynamoDB JSON (what Lambda hands the effects function).
pub fn image_json(img: &HashMap<String, AttributeValue>) -> serde_json::Value {
    fn one(v: &AttributeValue) -> serde_json::Value {
        use serde_json::json;
        match v {
            AttributeValue::S(s) => json!({ "S": s }),
            AttributeValue::N(n) => json!({ "N": n }),
            AttributeValue::Bool(b) => json!({ "BOOL": b }),
            AttributeValue::Null(b) => json!({ "NULL": b }),
            AttributeValue::Ss(v) => json!({ "SS": v }),
            AttributeValue::Ns(v) => json!({ "NS": v }),
            AttributeValue::L(l) => json!({ "L": l.iter().map(one).collect::<Vec<_>>() }),
            AttributeValue::M(m) => json!({ "M": image_json(m) }),
            _ => serde_json::Value::Null,
        }
    }
    serde_json::Value::Object(img.iter().map(|(k, v)| (k.clone(), one(v))).collect())
}

/// Dispatches the outbox entry a stream record announced: from its image, as the effects
/// function does, or read when the image does not hold it.
async fn dispatch(
    effects: &oms_shared::app::effects::Effects,
    order: &oms_shared::domain::OrderId,
    id: &str,
    new: Option<&HashMap<String, AttributeValue>>,
) -> Result<bool, oms_shared::app::effects::EffectError> {
    let entry = new
        .and_then(|img| oms_shared::adapters::dynamo::entities::outbox::announced_entry(order, id, &image_json(img)));
    effects.dispatch_announced(order, id, entry.as_ref()).await
}

/// The pipe's filter: which stream records start a workflow, and for which order: an order
/// inserted `placed`; a release from `on_hold` back into the workflow (where the hold
/// interrupted it); an edit that sent an order back to `placed`; an order confirmed on its
/// confirmation call; another payment method given for a declined order.
pub fn order_to_start(
    op: Option<&OperationType>,
    new: Option<&HashMap<String, AttributeValue>>,
    old: Option<&HashMap<String, AttributeValue>>,
) -> Option<String> {
    if s(new, "entity") != Some("order") {
        return None;
    }
    let (to, from) = (s(new, "status")?, s(old, "status"));
    let start = match op? {
        OperationType::Insert => to == "placed",
        OperationType::Modify => match from {
            Some("on_hold") => matches!(to, "placed" | "validated" | "allocated" | "payment_authorized"),
            // Another payment method after a decline: authorization is tried again.
            Some("payment_required") if to == "allocated" => true,
            Some(
                "validated"
                | "allocated"
                | "payment_required"
                | "payment_authorized"
                | "ready_to_ship"
                | "ready_for_pickup"
                | "awaiting_confirmation",
            ) => to == "placed",
            _ => false,
        },
        _ => false,
    };
    start.then(|| s(new, "id").map(str::to_owned)).flatten()
}

/// The outbox entry a stream record announces (an inserted change record with effects, or an
/// outbox item of before): order and entry id.
pub fn outbox_entry(
    op: Option<&OperationType>,
    keys: Option<&HashMap<String, AttributeValue>>,
    new: Option<&HashMap<String, AttributeValue>>,
) -> Option<(oms_shared::domain::OrderId, String)> {
    let record = s(new, "dispatch") == Some(oms_shared::adapters::dynamo::entities::records::DISPATCH_EFFECTS);
    let old_item = s(new, "GSI2PK").is_some_and(|p| p.starts_with("OUTBOX#"));
    if op? != &OperationType::Insert || !(record || old_item) {
        return None;
    }
    oms_shared::adapters::dynamo::keys::parse_outbox(s(keys, "PK")?, s(keys, "SK")?)
}

/// An order body written (placed or edited): the order whose customer profile learns from it.
pub fn body_written(
    op: Option<&OperationType>,
    keys: Option<&HashMap<String, AttributeValue>>,
) -> Option<oms_shared::domain::OrderId> {
    if !matches!(op?, OperationType::Insert | OperationType::Modify)
        || s(keys, "SK") != Some(oms_shared::adapters::dynamo::keys::ORDER_BODY_SK)
    {
        return None;
    }
    oms_shared::domain::OrderId::parse(s(keys, "PK")?.strip_prefix("ORDER#")?).ok()
}

/// The integration events a change record announced (an inserted change record with an
/// `events` attribute), as the effects function's stream handler reads them.
pub fn change_events(
    op: Option<&OperationType>,
    keys: Option<&HashMap<String, AttributeValue>>,
    new: Option<&HashMap<String, AttributeValue>>,
) -> Option<oms_shared::app::events::ChangeEvents> {
    if op? != &OperationType::Insert {
        return None;
    }
    let types = s(new, "events")?;
    let (order, change_id) = oms_shared::adapters::dynamo::keys::parse_outbox(s(keys, "PK")?, s(keys, "SK")?)?;
    Some(oms_shared::app::events::ChangeEvents {
        order,
        change_id,
        types: types.split_whitespace().map(str::to_owned).collect(),
        sequence: new?.get("sequence").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()),
        occurred_at: s(new, "createdAt")
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_else(chrono::Utc::now),
    })
}

/// A webhook replay request recorded by the API.
pub fn replay_requested(
    op: Option<&OperationType>,
    new: Option<&HashMap<String, AttributeValue>>,
) -> Option<oms_shared::domain::webhooks::ReplayRequest> {
    if op? != &OperationType::Insert || s(new, "entity") != Some("webhook_replay") {
        return None;
    }
    let since = chrono::DateTime::parse_from_rfc3339(s(new, "since")?).ok()?.with_timezone(&chrono::Utc);
    Some(oms_shared::domain::webhooks::ReplayRequest { subscription_id: s(new, "subscriptionId")?.to_owned(), since })
}

/// A stock item whose available units moved (or a new one): its SKU and location.
pub fn stock_changed(
    op: Option<&OperationType>,
    new: Option<&HashMap<String, AttributeValue>>,
    old: Option<&HashMap<String, AttributeValue>>,
) -> Option<(oms_shared::domain::Sku, oms_shared::domain::LocationId)> {
    if s(new, "entity") != Some("stock") {
        return None;
    }
    let available = |img: Option<&HashMap<String, AttributeValue>>| img?.get("available")?.as_n().ok().cloned();
    match op? {
        OperationType::Insert => {}
        OperationType::Modify if available(new) != available(old) => {}
        _ => return None,
    }
    let sku = oms_shared::domain::Sku::parse(s(new, "sku")?).ok()?;
    Some((sku, oms_shared::domain::LocationId::parse(s(new, "locationId")?).ok()?))
}

/// How far the poller is: complete passes (every shard read to its end), and the work it
/// spawned that has not finished, by spawn number (tests wait for the work of what was
/// committed before they asked, while later work goes on).
#[derive(Debug, Default)]
pub struct Progress {
    passes: AtomicU64,
    next_task: AtomicU64,
    inflight: std::sync::Mutex<std::collections::BTreeSet<u64>>,
}

impl Progress {
    /// Spawns `f`, counted in flight until it ends.
    fn spawn<F: std::future::Future<Output = ()> + Send + 'static>(self: &Arc<Self>, f: F) {
        struct Done(Arc<Progress>, u64);
        impl Drop for Done {
            fn drop(&mut self) {
                if let Ok(mut s) = self.0.inflight.lock() {
                    s.remove(&self.1);
                }
            }
        }
        let n = self.next_task.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut s) = self.inflight.lock() {
            s.insert(n);
        }
        let done = Done(self.clone(), n);
        tokio::spawn(async move {
            let _done = done;
            f.await
        });
    }

    fn pass_done(&self) {
        self.passes.fetch_add(1, Ordering::SeqCst);
    }

    /// Waits until everything committed before the call was read (a complete pass begun after
    /// it) and the work spawned for it ended, for at most `limit`.
    pub async fn caught_up(&self, limit: Duration) -> bool {
        let start = self.passes.load(Ordering::SeqCst);
        let deadline = std::time::Instant::now() + limit;
        let mut last = None;
        while std::time::Instant::now() < deadline {
            if last.is_none() && self.passes.load(Ordering::SeqCst) >= start + 2 {
                last = Some(self.next_task.load(Ordering::SeqCst));
            }
            if let Some(last) = last
                && self.inflight.lock().map(|s| s.range(..last).next().is_none()).unwrap_or(false)
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        false
    }
}

/// Reads the table's stream for change records with effects and dispatches them one after the
/// other, as the effects function's event source mapping does: the harnesses that run without
/// the background poller call it where the stream would have run.
pub struct EffectsReader {
    client: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    iterators: tokio::sync::Mutex<HashMap<String, Option<String>>>,
}

impl EffectsReader {
    pub fn new(client: aws_sdk_dynamodbstreams::Client, stream_arn: String) -> Self {
        EffectsReader { client, stream_arn, iterators: Default::default() }
    }

    /// Dispatches what was committed since the last call; returns how many entries' effects all
    /// ran (a failed one is deferred to the drain).
    pub async fn dispatch(&self, effects: &oms_shared::app::effects::Effects) -> anyhow::Result<usize> {
        let mut iterators = self.iterators.lock().await;
        let desc = self.client.describe_stream().stream_arn(&self.stream_arn).send().await?;
        for shard in desc.stream_description().map(|d| d.shards()).unwrap_or_default() {
            let id = shard.shard_id().unwrap_or_default().to_owned();
            if iterators.contains_key(&id) {
                continue;
            }
            let it = self
                .client
                .get_shard_iterator()
                .stream_arn(&self.stream_arn)
                .shard_id(&id)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await?
                .shard_iterator;
            iterators.insert(id, it);
        }
        let mut dispatched = 0;
        for (shard, it) in iterators.iter_mut() {
            let mut restarts = 0;
            while let Some(current) = it.clone() {
                let res = match self.client.get_records().shard_iterator(&current).limit(100).send().await {
                    Ok(res) => res,
                    // DynamoDB Local under load can trim a shard behind an iterator (or expire it):
                    // read the shard again from its oldest record (dispatching is idempotent).
                    Err(e)
                        if restarts < 3
                            && e.as_service_error().is_some_and(|e| {
                                e.is_trimmed_data_access_exception() || e.is_expired_iterator_exception()
                            }) =>
                    {
                        restarts += 1;
                        tracing::warn!(shard = %shard, "stream iterator trimmed or expired: reading the shard again");
                        *it = self
                            .client
                            .get_shard_iterator()
                            .stream_arn(&self.stream_arn)
                            .shard_id(shard)
                            .shard_iterator_type(ShardIteratorType::TrimHorizon)
                            .send()
                            .await?
                            .shard_iterator;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                for r in res.records() {
                    let Some(d) = r.dynamodb() else { continue };
                    if let Some((order, id)) = outbox_entry(r.event_name(), d.keys(), d.new_image()) {
                        let ran = dispatch(effects, &order, &id, d.new_image())
                            .await
                            .map_err(|e| anyhow::anyhow!(e.to_string()))?;
                        dispatched += usize::from(ran);
                    }
                }
                // A page short of the limit read what there was (DynamoDB Local returns what it has).
                let empty = res.records().len() < 100;
                *it = res.next_shard_iterator;
                if empty {
                    break;
                }
            }
        }
        Ok(dispatched)
    }
}

/// An iterator of `shard` after record `after` (from its oldest record when that is gone or
/// not known); `None` when none could be had.
async fn fresh_iterator(
    client: &aws_sdk_dynamodbstreams::Client,
    stream_arn: &str,
    shard: &str,
    after: Option<&String>,
) -> Option<String> {
    let ask = |kind: ShardIteratorType, seq: Option<&String>| {
        client
            .get_shard_iterator()
            .stream_arn(stream_arn)
            .shard_id(shard)
            .shard_iterator_type(kind)
            .set_sequence_number(seq.cloned())
            .send()
    };
    if let Some(seq) = after
        && let Ok(r) = ask(ShardIteratorType::AfterSequenceNumber, Some(seq)).await
    {
        return r.shard_iterator;
    }
    ask(ShardIteratorType::TrimHorizon, None).await.ok().and_then(|r| r.shard_iterator)
}

pub async fn poll(
    client: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    workflow: Arc<Workflow>,
    effects: oms_shared::app::effects::Effects,
    progress: Arc<Progress>,
) {
    let mut iterators: HashMap<String, Option<String>> = HashMap::new();
    // The last record read of each shard: where to read on from when an iterator expires.
    let mut last_read: HashMap<String, String> = HashMap::new();
    loop {
        // Every shard read up to now (page after page until one is short): a complete pass. A
        // shard whose iterator could not be had is asked for again on the next pass.
        let mut complete = true;
        match client.describe_stream().stream_arn(&stream_arn).send().await {
            Ok(desc) => {
                for shard in desc.stream_description().map(|d| d.shards()).unwrap_or_default() {
                    let id = shard.shard_id().unwrap_or_default().to_owned();
                    if iterators.contains_key(&id) {
                        continue;
                    }
                    // A shard read before (its iterator lost) goes on after its last record read.
                    let after = last_read.get(&id).cloned();
                    let kind = match after {
                        Some(_) => ShardIteratorType::AfterSequenceNumber,
                        None => ShardIteratorType::TrimHorizon,
                    };
                    let it = client
                        .get_shard_iterator()
                        .stream_arn(&stream_arn)
                        .shard_id(&id)
                        .shard_iterator_type(kind)
                        .set_sequence_number(after)
                        .send()
                        .await;
                    match it {
                        Ok(r) => {
                            iterators.insert(id, r.shard_iterator);
                        }
                        Err(e) => {
                            // Trimmed past the last record read: from the oldest there is
                            // (any other error: tried again from the last record next pass).
                            if e.as_service_error().is_some_and(|s| s.is_trimmed_data_access_exception()) {
                                last_read.remove(&id);
                            }
                            complete = false;
                        }
                    }
                }
            }
            Err(_) => complete = false,
        }
        // Shards with no iterator to read on from: asked for again on the next pass.
        let mut lost = Vec::new();
        for (shard, it) in iterators.iter_mut() {
            while let Some(current) = it.clone() {
                match client.get_records().shard_iterator(&current).limit(100).send().await {
                    Ok(res) => {
                        let page = res.records().len();
                        if let Some(seq) =
                            res.records().last().and_then(|r| r.dynamodb()).and_then(|d| d.sequence_number())
                        {
                            last_read.insert(shard.clone(), seq.to_owned());
                        }
                        // Stock levels once per SKU and location per page (the stream batch's debounce).
                        let mut stock = Vec::new();
                        for r in res.records() {
                            let Some(d) = r.dynamodb() else { continue };
                            if let Some(k) = stock_changed(r.event_name(), d.new_image(), d.old_image())
                                && !stock.contains(&k)
                            {
                                stock.push(k);
                            }
                        }
                        for (sku, loc) in stock {
                            let fx = effects.clone();
                            progress.spawn(async move {
                                for attempt in 0..5u64 {
                                    match fx.publish_inventory(&sku, &loc).await {
                                        Ok(_) => return,
                                        Err(e) => tracing::warn!(sku = %sku, error = %e, "inventory not published"),
                                    }
                                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                                }
                            });
                        }
                        for r in res.records() {
                            let Some(d) = r.dynamodb() else { continue };
                            // A record's effects, then its events, in one task, as the effects
                            // function does them (an events deferral must not come first).
                            let outbox = outbox_entry(r.event_name(), d.keys(), d.new_image());
                            let events = change_events(r.event_name(), d.keys(), d.new_image());
                            if outbox.is_some() || events.is_some() {
                                let fx = effects.clone();
                                let image = d.new_image().cloned();
                                progress.spawn(async move {
                                    // The record's image, read once for its effects and its events.
                                    let announced = image.as_ref().map(image_json);
                                    let entry_of = |order: &oms_shared::domain::OrderId, id: &str| {
                                        announced.as_ref().and_then(|img| {
                                            oms_shared::adapters::dynamo::entities::outbox::announced_entry(
                                                order, id, img,
                                            )
                                        })
                                    };
                                    if let Some((order, id)) = &outbox {
                                        // A failure is deferred; the next start (or a drain) retries it.
                                        let entry = entry_of(order, id);
                                        if let Err(e) = fx.dispatch_announced(order, id, entry.as_ref()).await {
                                            tracing::warn!(order_id = %order, error = %e, "effects failed");
                                        }
                                    }
                                    let Some(c) = events else { return };
                                    let n = entry_of(&c.order, &c.change_id).map_or(0, |e| e.effects.len());
                                    // Refused by the bus: deferred to the drain (same event ids);
                                    // retried if even that fails.
                                    for attempt in 0..5u64 {
                                        match fx.publish_or_defer(&c, n).await {
                                            Ok(_) => return,
                                            Err(e) => {
                                                tracing::warn!(order_id = %c.order, error = %e, "events not published")
                                            }
                                        }
                                        tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                                    }
                                });
                            }
                            if let Some(req) = replay_requested(r.event_name(), d.new_image()) {
                                let fx = effects.clone();
                                progress.spawn(async move {
                                    if let Err(e) = fx.request_replay(&req).await {
                                        tracing::warn!(error = %e, "webhook replay not enqueued");
                                    }
                                });
                            }
                            if let Some(order) = body_written(r.event_name(), d.keys()) {
                                let fx = effects.clone();
                                progress.spawn(async move {
                                    if let Err(e) = fx.record_customer(&order).await {
                                        tracing::warn!(order_id = %order, error = %e, "customer profile not recorded");
                                    }
                                });
                            }
                            if let Some(order_id) = order_to_start(r.event_name(), d.new_image(), d.old_image()) {
                                let wf = workflow.clone();
                                tokio::spawn(async move {
                                    wf.run(&order_id).await;
                                });
                            }
                        }
                        *it = res.next_shard_iterator;
                        // Short of the limit: the shard is read up to now.
                        if page < 100 {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(&e), "stream read failed; retrying");
                        complete = false;
                        // An iterator DynamoDB Local expired or trimmed is never good again: the
                        // shard is read on from its last record read (else from its oldest; the
                        // work is idempotent) instead of failing on every pass.
                        if e.as_service_error()
                            .is_some_and(|e| e.is_trimmed_data_access_exception() || e.is_expired_iterator_exception())
                        {
                            *it = fresh_iterator(&client, &stream_arn, shard, last_read.get(shard)).await;
                            if it.is_none() {
                                lost.push(shard.clone());
                            }
                        }
                        break;
                    }
                }
            }
        }
        for shard in lost {
            iterators.remove(&shard);
        }
        if complete {
            progress.pass_done();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
