//! Confirmation calls on the in-memory store with a clock the test moves: the rule queues
//! matching orders, an agent's confirm starts fulfillment, and orders nobody confirmed are
//! released or cancelled when the wait runs out (stock back on a cancel).

mod common;
use common::*;
use oms_shared::adapters::memory::MemoryStore;
use oms_shared::adapters::sandbox::SandboxCarrier;
use oms_shared::app::catalog::StockInput;
use oms_shared::app::confirmations::ConfirmRequest;
use oms_shared::app::orders::PlaceOrderRequest;
use oms_shared::app::{AppError, Caller, Oms};
use oms_shared::domain::confirmation::{ConfirmationRule, OnTimeout};
use oms_shared::domain::*;
use oms_shared::ports::*;
use std::sync::{Arc, Mutex};

struct ManualClock(Mutex<chrono::DateTime<chrono::Utc>>);

impl Clock for ManualClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().unwrap()
    }
}

impl ManualClock {
    fn advance(&self, minutes: i64) {
        *self.0.lock().unwrap() += chrono::Duration::minutes(minutes);
    }
}

async fn world() -> anyhow::Result<(Oms, MemoryStore, Arc<ManualClock>)> {
    let store = MemoryStore::new();
    let clock = Arc::new(ManualClock(Mutex::new(chrono::Utc::now())));
    let oms = Oms::new(
        Arc::new(store.clone()),
        clock.clone(),
        Arc::new(SandboxCarrier::new()),
        Arc::new(oms_shared::adapters::sandbox::SandboxIntegrations::default()),
    );
    store.put_product(&product("TV", 60_000)).await?;
    store.put_product(&product("MUG", 1_200)).await?;
    store.put_location(&warehouse("WH")).await?;
    for s in ["TV", "MUG"] {
        oms.set_stock(
            sku(s),
            loc_id("WH"),
            StockInput {
                on_hand: Some(5),
                shards: None,
                sequence: None,
                safety_stock: None,
                channel_safety_stock: None,
                reorder_point: None,
                reorder_quantity: None,
            },
        )
        .await?;
    }
    Ok((oms, store, clock))
}

async fn place(oms: &Oms, customer: &str, sku_: &str) -> anyhow::Result<OrderId> {
    let req: PlaceOrderRequest = serde_json::from_value(serde_json::json!({
        "lines": [{"sku": sku_, "quantity": 1}],
        "email": "ann@example.com",
        "shippingAddress": {"name": "Ann Lee", "line1": "1 Main St", "city": "New York", "region": "NY",
                            "postalCode": "10001", "country": "US"},
        "paymentToken": "tok_visa",
        "channel": "web",
    }))?;
    let c = Caller::customer(CustomerId::parse(customer)?);
    let (code, body) = oms.place_order(&c, &ulid::Ulid::new().to_string(), "h", req).await?;
    assert_eq!(code, 201, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body)?;
    Ok(OrderId::parse(v["orderId"].as_str().unwrap_or_default())?)
}

fn supervisor() -> Caller {
    Caller::admin(CustomerId::parse("sup-1").unwrap())
}

#[tokio::test]
async fn the_rule_queues_orders_and_the_timeout_releases_or_cancels_them() -> anyhow::Result<()> {
    let (oms, store, clock) = world().await?;
    let agent_only = Caller {
        customer: CustomerId::parse("agent-1")?,
        roles: oms_shared::app::Roles::NONE.with(oms_shared::app::Role::Agent),
    };
    let rule = ConfirmationRule {
        enabled: true,
        min_total: Some(usd(50_000)),
        timeout_minutes: 60,
        on_timeout: OnTimeout::Release,
        ..Default::default()
    };
    assert!(matches!(oms.set_confirmation_rule(&agent_only, rule.clone()).await, Err(AppError::Forbidden)));
    let bad = ConfirmationRule { timeout_minutes: 1, ..rule.clone() };
    assert!(matches!(oms.set_confirmation_rule(&supervisor(), bad).await, Err(AppError::Invalid { .. })));
    oms.set_confirmation_rule(&supervisor(), rule.clone()).await?;

    let tv = place(&oms, "cust-1", "TV").await?;
    let mug = place(&oms, "cust-1", "MUG").await?;
    assert_eq!(store.get_order(&tv).await?.unwrap().status, OrderStatus::AwaitingConfirmation);
    assert_eq!(store.get_order(&mug).await?.unwrap().status, OrderStatus::Placed, "under the value: no call");
    // The buyer sees a placed order.
    let seen = oms.get_order(&Caller::customer(CustomerId::parse("cust-1")?), &tv).await?;
    assert_eq!(serde_json::to_value(&seen)?["status"], "placed");
    let q = serde_json::to_value(oms.queue(&agent_only, "confirmation-calls").await?)?;
    assert_eq!(q["items"].as_array().map(Vec::len), Some(1));
    assert!(q["items"][0]["confirmBy"].is_string());

    // Confirmed on the call: placed (the stream starts the workflow); a second confirm answers
    // the order; confirming an order that never waited is refused.
    oms.confirm_order(&agent_only, &tv, ConfirmRequest { note: Some("spoke to Ann".into()) }).await?;
    assert_eq!(store.get_order(&tv).await?.unwrap().status, OrderStatus::Placed);
    oms.confirm_order(&agent_only, &tv, ConfirmRequest::default()).await?;
    assert!(matches!(
        oms.confirm_order(&agent_only, &mug, ConfirmRequest::default()).await,
        Err(AppError::InvalidState { .. })
    ));

    // Nobody calls: released after the timeout, not before.
    let waiting = place(&oms, "cust-2", "TV").await?;
    clock.advance(59);
    assert_eq!(oms.expire_confirmations().await?, 0);
    clock.advance(2);
    assert_eq!(oms.expire_confirmations().await?, 1);
    assert_eq!(store.get_order(&waiting).await?.unwrap().status, OrderStatus::Placed);
    let tl = store.timeline(&waiting).await?;
    assert!(tl.iter().any(|e| e.kind == "order.confirmation_timed_out"));

    // The rule says cancel: the order is cancelled and its units come back.
    oms.set_confirmation_rule(&supervisor(), ConfirmationRule { on_timeout: OnTimeout::Cancel, ..rule }).await?;
    let before = store.stock_for_sku(&sku("TV")).await?.iter().map(|r| r.level.available).sum::<i64>();
    let doomed = place(&oms, "cust-3", "TV").await?;
    clock.advance(61);
    assert_eq!(oms.expire_confirmations().await?, 1);
    assert_eq!(store.get_order(&doomed).await?.unwrap().status, OrderStatus::Cancelled);
    let after = store.stock_for_sku(&sku("TV")).await?.iter().map(|r| r.level.available).sum::<i64>();
    assert_eq!(after, before);
    assert!(matches!(
        oms.confirm_order(&agent_only, &doomed, ConfirmRequest::default()).await,
        Err(AppError::InvalidState { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn an_edit_into_the_rule_waits_for_a_call_and_each_order_keeps_its_own_timeout() -> anyhow::Result<()> {
    let (oms, store, clock) = world().await?;
    let rule = ConfirmationRule {
        enabled: true,
        min_total: Some(usd(50_000)),
        timeout_minutes: 30,
        on_timeout: OnTimeout::Cancel,
        ..Default::default()
    };
    oms.set_confirmation_rule(&supervisor(), rule.clone()).await?;
    let c = Caller::customer(CustomerId::parse("cust-e")?);
    // A cheap order, edited up past the rule's value: it waits for a call (fulfillment undone).
    let mug = place(&oms, "cust-e", "MUG").await?;
    let v = store.get_order(&mug).await?.unwrap().version;
    let edit: oms_shared::app::orders::EditOrderRequest =
        serde_json::from_value(serde_json::json!({"lines": [{"sku": "TV", "quantity": 1}]}))?;
    oms.edit_order(&c, &mug, Some(v), edit).await?;
    let o = store.get_order(&mug).await?.unwrap();
    assert_eq!(o.status, OrderStatus::AwaitingConfirmation);
    assert!(o.confirmation.as_ref().is_some_and(|k| k.on_timeout == OnTimeout::Cancel));
    // Confirmed once, a later edit does not ask again.
    oms.confirm_order(&supervisor(), &mug, ConfirmRequest::default()).await?;
    let v = store.get_order(&mug).await?.unwrap().version;
    let edit: oms_shared::app::orders::EditOrderRequest =
        serde_json::from_value(serde_json::json!({"lines": [{"sku": "TV", "quantity": 2}]}))?;
    oms.edit_order(&c, &mug, Some(v), edit).await?;
    assert_eq!(store.get_order(&mug).await?.unwrap().status, OrderStatus::Placed);

    // The rule changes after placement: the waiting order keeps the timeout and outcome it was
    // queued with (cancel after 30 minutes), the new rule applies to later orders.
    let waiting = place(&oms, "cust-f", "TV").await?;
    oms.set_confirmation_rule(
        &supervisor(),
        ConfirmationRule { timeout_minutes: 600, on_timeout: OnTimeout::Release, ..rule },
    )
    .await?;
    let later = place(&oms, "cust-g", "TV").await?;
    clock.advance(31);
    assert_eq!(oms.expire_confirmations().await?, 1);
    assert_eq!(store.get_order(&waiting).await?.unwrap().status, OrderStatus::Cancelled);
    assert_eq!(store.get_order(&later).await?.unwrap().status, OrderStatus::AwaitingConfirmation);
    // The queue lists the oldest first, with each order's own deadline.
    let q = serde_json::to_value(oms.queue(&supervisor(), "confirmation-calls").await?)?;
    assert_eq!(q["items"][0]["orderId"], later.to_string());
    Ok(())
}
