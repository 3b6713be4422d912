//! Use-case tests on the in-memory twins of the storage ports (no DynamoDB Local): each runs in
//! milliseconds. They pin the after-commit rule both ways: a change whose commit fails sends
//! nothing, and effects recorded by a commit are delivered exactly once even when the process
//! dispatching them dies and the dispatcher runs again.

use oms_shared::adapters::memory::{MemoryBus, MemoryMailer, MemoryQueue, MemoryStore};
use oms_shared::adapters::sandbox::{SandboxCarrier, SandboxPayments};
use oms_shared::app::catalog::{LocationInput, ProductInput, StockInput};
use oms_shared::app::effects::Effects;
use oms_shared::app::fulfillment::Fulfillment;
use oms_shared::app::notify::{Notifier, Templates};
use oms_shared::app::orders::PlaceOrderRequest;
use oms_shared::app::{AppError, Caller, Oms};
use oms_shared::domain::pricing::LineRequest;
use oms_shared::domain::*;
use oms_shared::ports::*;
use std::sync::Arc;

mod common;
use std::sync::atomic::{AtomicU32, Ordering};

/// Sandbox payments whose next voids fail transiently (a provider outage mid-dispatch).
struct FlakyVoids {
    inner: Arc<SandboxPayments>,
    fail: AtomicU32,
}

#[async_trait::async_trait]
impl PaymentGateway for FlakyVoids {
    async fn authorize(&self, req: &AuthorizeRequest) -> Result<Authorization, PaymentError> {
        self.inner.authorize(req).await
    }
    async fn capture(&self, a: &str, m: &Money, k: &str, f: bool) -> Result<(), PaymentError> {
        self.inner.capture(a, m, k, f).await
    }
    async fn void(&self, a: &str, k: &str) -> Result<(), PaymentError> {
        if self.fail.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
            return Err(PaymentError::Transient("provider timeout".into()));
        }
        self.inner.void(a, k).await
    }
    async fn refund(&self, a: &str, m: &Money, k: &str) -> Result<String, PaymentError> {
        self.inner.refund(a, m, k).await
    }
}

struct World {
    store: MemoryStore,
    oms: Oms,
    fulfillment: Fulfillment,
    sandbox: Arc<SandboxPayments>,
    payments: Arc<FlakyVoids>,
    queue: Arc<MemoryQueue>,
    mailer: Arc<MemoryMailer>,
    bus: Arc<MemoryBus>,
}

impl World {
    async fn new() -> anyhow::Result<Self> {
        let store = MemoryStore::new();
        let sandbox = Arc::new(SandboxPayments::new());
        let payments = Arc::new(FlakyVoids { inner: sandbox.clone(), fail: AtomicU32::new(0) });
        let carrier = Arc::new(SandboxCarrier::new());
        let oms = Oms::new(
            Arc::new(store.clone()),
            Arc::new(SystemClock),
            carrier.clone(),
            Arc::new(oms_shared::adapters::sandbox::SandboxIntegrations::default()),
        );
        let fulfillment = Fulfillment { oms: oms.clone(), payments: payments.clone(), carrier };
        let usd = |a| Money::new(a, Currency::USD).unwrap();
        oms.upsert_product(
            Sku::parse("MUG")?,
            ProductInput {
                name: "Mug".into(),
                price: usd(1200),
                kind: ProductKind::Goods,
                weight_grams: 400,
                dimensions: Dimensions { length_mm: 100, width_mm: 100, height_mm: 100 },
                returnable: true,
                return_window_days: None,
                category: None,
                active: true,
                service: None,
                warranty_months: None,
                backorder_limit: None,
            },
        )
        .await?;
        oms.upsert_location(
            LocationId::parse("WH-NJ")?,
            LocationInput {
                name: "Newark".into(),
                kind: LocationKind::Warehouse,
                coordinates: GeoPoint::new(40_735_700, -74_172_400)?,
                country: CountryCode::parse("US")?,
                postal_code: "07102".into(),
                ships: true,
                pickup: false,
                active: true,
                address: None,
                packing: false,
                opening_hours: None,
                pickup_lead_minutes: 0,
            },
        )
        .await?;
        oms.set_stock(
            Sku::parse("MUG")?,
            LocationId::parse("WH-NJ")?,
            StockInput {
                on_hand: Some(10),
                shards: None,
                sequence: None,
                safety_stock: None,
                channel_safety_stock: None,
                reorder_point: None,
                reorder_quantity: None,
            },
        )
        .await?;
        Ok(World {
            store,
            oms,
            fulfillment,
            sandbox,
            payments,
            queue: Arc::new(MemoryQueue::default()),
            mailer: Arc::new(MemoryMailer::default()),
            bus: Arc::new(MemoryBus::default()),
        })
    }

    /// The effects dispatcher of one process (a fresh one is a restarted consumer).
    /// What the stream hands the dispatcher since the last call: how many entries' effects all
    /// ran (one that fails is deferred to the drain).
    async fn dispatch(&self) -> anyhow::Result<usize> {
        let fx = self.effects();
        let mut n = 0;
        for (order, id) in self.store.take_stream() {
            n += usize::from(fx.dispatch(&order, &id).await?);
        }
        Ok(n)
    }

    fn effects(&self) -> Effects {
        Effects {
            store: Arc::new(self.store.clone()),
            notifications: self.queue.clone(),
            payments: self.payments.clone(),
            carrier: Arc::new(SandboxCarrier::new()),
            bus: self.bus.clone(),
            webhooks: Arc::new(MemoryQueue::default()),
            invoicing: oms_shared::app::invoices::Invoicing {
                store: Arc::new(self.store.clone()),
                clock: self.oms.clock.clone(),
                seller: oms_shared::domain::invoice::Party {
                    name: "Test Seller".into(),
                    lines: vec!["1 Test Road".into()],
                    tax_id: None,
                },
            },
        }
    }

    fn caller(&self) -> Caller {
        Caller::customer(CustomerId::parse("cust-1").unwrap())
    }

    async fn place(&self, key: &str) -> anyhow::Result<OrderId> {
        let req = self.request()?;
        let (status, body) = self.oms.place_order(&self.caller(), key, key, req).await?;
        anyhow::ensure!(status == 201, "{status} {body}");
        let v: serde_json::Value = serde_json::from_str(&body)?;
        Ok(OrderId::parse(v["orderId"].as_str().unwrap_or_default())?)
    }

    fn request(&self) -> anyhow::Result<PlaceOrderRequest> {
        Ok(PlaceOrderRequest {
            promotion_codes: None,
            cart_id: None,
            lines: Some(vec![LineRequest { sku: Sku::parse("MUG")?, quantity: Quantity::new(2)? }]),
            shipping_address: AddressInput {
                name: "Ann Lee".into(),
                line1: "350 5th Ave".into(),
                line2: None,
                city: "New York".into(),
                region: Some("NY".into()),
                postal_code: "10118".into(),
                country: "US".into(),
                phone: None,
            },
            billing_address: None,
            email: "ann@example.com".into(),
            service_level: None,
            delivery_option_id: None,
            payment_token: Some("tok_visa".into()),
            payment_link: None,
            take_away: None,
            purchase_order: None,
            channel: Channel::Web,
        })
    }

    async fn available(&self) -> anyhow::Result<i64> {
        Ok(self.store.get_stock(&Sku::parse("MUG")?, &LocationId::parse("WH-NJ")?).await?.unwrap().level.available)
    }

    /// An order taken through validation, allocation and authorization.
    async fn authorized(&self, key: &str) -> anyhow::Result<OrderId> {
        let id = self.place(key).await?;
        self.steps(&id, &["validate-order", "allocate-order", "authorize-payment"]).await?;
        Ok(id)
    }

    /// Steps in order, with what the state machine passes along (allocation reads
    /// validation's outcome).
    async fn steps(&self, id: &OrderId, names: &[&str]) -> anyhow::Result<()> {
        let mut validation = serde_json::Value::Null;
        for name in names {
            let input = serde_json::json!({"orderId": id, "validation": validation});
            let out = self.fulfillment.dispatch(name, input).await?;
            if *name == "validate-order" {
                validation = out;
            }
        }
        Ok(())
    }

    fn kinds(&self, messages: &[String]) -> Vec<String> {
        messages.iter().map(|m| serde_json::from_str::<Notification>(m).map(|n| n.kind).unwrap_or_default()).collect()
    }
}

#[tokio::test]
async fn placement_holds_stock_in_the_same_write_and_replays_its_response() -> anyhow::Result<()> {
    let w = World::new().await?;
    let id = w.place("k1").await?;
    assert_eq!(w.available().await?, 8);
    assert_eq!(w.place("k1").await?, id, "the same key replays the same order");
    assert_eq!(w.available().await?, 8, "and holds nothing more");
    assert_eq!(w.store.get_order(&id).await?.unwrap().status, OrderStatus::Placed);
    Ok(())
}

#[tokio::test]
async fn a_cancel_whose_commit_fails_sends_nothing_and_changes_nothing() -> anyhow::Result<()> {
    let w = World::new().await?;
    let id = w.authorized("k1").await?;
    w.store.fail_next_commits(1);
    let r = w.oms.cancel_order(&w.caller(), &id, Actor::Customer("cust-1".into()), None).await;
    assert!(matches!(r, Err(AppError::Unavailable(_))), "{r:?}");
    assert_eq!(w.dispatch().await?, 0, "no effect was recorded");
    assert!(w.queue.take().is_empty(), "no mail");
    assert_eq!(w.sandbox.open_authorizations(), 1, "the authorization is untouched");
    assert_eq!(w.store.get_order(&id).await?.unwrap().status, OrderStatus::PaymentAuthorized);
    assert_eq!(w.available().await?, 8, "stock untouched");
    Ok(())
}

#[tokio::test]
async fn nothing_leaves_before_the_commit_and_everything_after_it_once() -> anyhow::Result<()> {
    let w = World::new().await?;
    let id = w.authorized("k1").await?;
    w.oms.cancel_order(&w.caller(), &id, Actor::Customer("cust-1".into()), Some("changed my mind".into())).await?;
    // Committed, not yet dispatched: the process dies here. Nothing has left.
    assert!(w.queue.take().is_empty());
    assert_eq!(w.sandbox.open_authorizations(), 1);
    assert_eq!(w.available().await?, 10, "the commit released the stock");
    // The consumer runs again (a new process): every effect goes out once.
    assert_eq!(w.dispatch().await?, 1);
    assert_eq!(w.kinds(&w.queue.take()), vec!["order.cancelled"]);
    assert_eq!(w.sandbox.open_authorizations(), 0, "voided after the commit");
    assert_eq!(w.dispatch().await?, 0);
    assert!(w.queue.take().is_empty(), "and not twice");
    Ok(())
}

#[tokio::test]
async fn a_dispatcher_that_dies_midway_still_delivers_one_mail() -> anyhow::Result<()> {
    let w = World::new().await?;
    let id = w.authorized("k1").await?;
    w.oms.cancel_order(&w.caller(), &id, Actor::Customer("cust-1".into()), None).await?;
    // The stream hands the record over: the mail is enqueued, then the provider times out on
    // the void: the entry is deferred to the drain.
    w.payments.fail.store(1, Ordering::SeqCst);
    assert_eq!(w.dispatch().await?, 0);
    assert_eq!(w.sandbox.open_authorizations(), 1);
    assert_eq!(w.store.pending_effects(10).await?.len(), 1);
    // The scheduled drain resumes where the dispatch stopped: the void goes through, the
    // notification (which ran before it) is not enqueued again; the entry leaves the pending
    // list.
    assert_eq!(w.effects().drain().await?, 1);
    assert!(w.store.pending_effects(10).await?.is_empty());
    assert_eq!(w.sandbox.open_authorizations(), 0);
    let messages = w.queue.take();
    assert_eq!(w.kinds(&messages), vec!["order.cancelled"]);
    // The notifier sends one mail per dedupe key: the customer gets exactly one.
    let notifier = Notifier {
        oms: w.oms.clone(),
        mailer: w.mailer.clone(),
        templates: Arc::new(Templates::load().map_err(anyhow::Error::msg)?),
        brand: "Shop".into(),
        links: oms_shared::app::links::Links::new("https://shop.example", "0123456789abcdef0123456789abcdef")
            .map_err(anyhow::Error::msg)?,
        tracking_url: "https://track.example/{tracking}".into(),
        messages: Arc::new(oms_shared::adapters::memory::MemoryMessages::default()),
        queue: w.queue.clone(),
    };
    for m in &messages {
        notifier.handle(&serde_json::from_str(m)?).await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
    }
    let sent = w.mailer.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, "ann@example.com");
    Ok(())
}

/// Payments where a customer's cancel commits while the authorization is in flight.
struct CancelDuringAuthorize {
    inner: Arc<SandboxPayments>,
    store: MemoryStore,
}

#[async_trait::async_trait]
impl PaymentGateway for CancelDuringAuthorize {
    async fn authorize(&self, req: &AuthorizeRequest) -> Result<Authorization, PaymentError> {
        let a = self.inner.authorize(req).await?;
        let order = self.store.get_order(&req.order_id).await.unwrap().unwrap();
        let mut cancelled = order.clone();
        cancelled.apply(OrderEvent::Cancel, chrono::Utc::now()).unwrap();
        self.store.commit(&OrderChange::update(cancelled, order.version, chrono::Utc::now())).await.unwrap();
        Ok(a)
    }
    async fn capture(&self, a: &str, m: &Money, k: &str, f: bool) -> Result<(), PaymentError> {
        self.inner.capture(a, m, k, f).await
    }
    async fn void(&self, a: &str, k: &str) -> Result<(), PaymentError> {
        self.inner.void(a, k).await
    }
    async fn refund(&self, a: &str, m: &Money, k: &str) -> Result<String, PaymentError> {
        self.inner.refund(a, m, k).await
    }
}

#[tokio::test]
async fn a_step_whose_order_is_cancelled_under_it_voids_its_own_authorization() -> anyhow::Result<()> {
    let w = World::new().await?;
    let id = w.place("k1").await?;
    w.steps(&id, &["validate-order", "allocate-order"]).await?;
    let racing = Fulfillment {
        payments: Arc::new(CancelDuringAuthorize { inner: w.sandbox.clone(), store: w.store.clone() }),
        ..w.fulfillment.clone()
    };
    let r = racing.dispatch("authorize-payment", serde_json::json!({"orderId": id})).await;
    assert_eq!(r.map_err(|e| e.name), Err("OrderNotActive"));
    assert_eq!(w.store.get_order(&id).await?.unwrap().status, OrderStatus::Cancelled);
    assert_eq!(w.sandbox.open_authorizations(), 0, "the step voided the authorization it made");
    Ok(())
}

#[tokio::test]
async fn edits_and_holds_go_through_the_same_write_path() -> anyhow::Result<()> {
    let w = World::new().await?;
    let id = w.place("k1").await?;
    let stale = w
        .oms
        .edit_order(
            &w.caller(),
            &id,
            Some(99),
            serde_json::from_value(serde_json::json!({"lines": [{"sku": "MUG", "quantity": 3}]}))?,
        )
        .await;
    assert!(matches!(stale, Err(AppError::StaleVersion)));
    let edited = w
        .oms
        .edit_order(
            &w.caller(),
            &id,
            Some(1),
            serde_json::from_value(serde_json::json!({"lines": [{"sku": "MUG", "quantity": 3}]}))?,
        )
        .await?;
    assert_eq!(edited.version(), 2);
    assert_eq!(w.available().await?, 7, "holds adjusted by the difference");
    let timeline = w.store.timeline(&id).await?;
    assert_eq!(timeline.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), vec!["order.placed", "order.edited"]);
    Ok(())
}

/// Makes a pending entry due now (as if its retry time had passed), keeping what is left.
async fn due_now(w: &World, e: &OutboxEntry) -> anyhow::Result<()> {
    let d = e.left();
    let left = Settlement {
        effects_from: d.effects_from,
        events: d.events,
        attempts: d.attempts,
        retry_at: Some(chrono::Utc::now() - chrono::Duration::seconds(1)),
        parked: false,
    };
    anyhow::ensure!(w.store.settle_effects(e, &left).await?, "settled");
    Ok(())
}

/// A deferred entry the drain cannot finish keeps its progress, waits out a backoff, holds the
/// order's later entries behind it, and is parked after its attempts; deferred again by an
/// operator once the provider is back, it completes, and nothing ran twice.
#[tokio::test]
async fn the_drain_backs_off_keeps_an_orders_order_and_parks_what_never_succeeds() -> anyhow::Result<()> {
    use oms_shared::domain::effects::MAX_DRAIN_ATTEMPTS;
    let w = World::new().await?;
    let id = w.authorized("k1").await?;
    w.oms.cancel_order(&w.caller(), &id, Actor::Customer("cust-1".into()), None).await?;
    w.payments.fail.store(u32::MAX, Ordering::SeqCst);
    assert_eq!(w.dispatch().await?, 0);
    assert_eq!(w.kinds(&w.queue.take()), vec!["order.cancelled"], "the mail ran before the void failed");
    // A later change of the same order, with an effect of its own, deferred behind it.
    let later = OrderChange::for_order(&id).with_effect(Effect::notify(Notification::new("order.delayed", &id, None)));
    // A moment later (records of the same millisecond sort by their random part).
    let soon = w.store.clone().with_clock(Arc::new(At(chrono::Utc::now() + chrono::Duration::milliseconds(5))));
    soon.commit(&later).await?;
    let (_, later_id) = w.store.take_stream().pop().unwrap();
    w.store.defer_effects(&id, &later_id, 0).await?;
    let fx = w.effects();
    let first = |v: Vec<OutboxEntry>| v.into_iter().find(|e| e.id != later_id).unwrap();
    assert_eq!(fx.drain().await?, 0);
    assert!(w.queue.take().is_empty(), "the later entry waits behind the failing one, the mail is not repeated");
    let e = first(w.store.pending_effects(10).await?);
    let d = e.left();
    assert_eq!((d.effects_from, d.attempts, d.parked), (1, 1, false));
    assert!(d.retry_at.unwrap() > chrono::Utc::now() + chrono::Duration::minutes(4), "{:?}", d.retry_at);
    // Not due yet: the next run tries neither.
    assert_eq!(fx.drain().await?, 0);
    assert_eq!(first(w.store.pending_effects(10).await?).left().attempts, 1);
    assert!(w.queue.take().is_empty());
    // Each run past its retry time counts an attempt, until it is parked.
    for n in 2..=MAX_DRAIN_ATTEMPTS {
        due_now(&w, &first(w.store.pending_effects(10).await?)).await?;
        assert_eq!(fx.drain().await?, 0);
        if n < MAX_DRAIN_ATTEMPTS {
            assert_eq!(first(w.store.pending_effects(10).await?).left().attempts, n);
        }
    }
    let parked = w.store.parked_effects(10).await?;
    assert_eq!(parked.len(), 1);
    assert_eq!((parked[0].left().attempts, parked[0].left().effects_from), (MAX_DRAIN_ATTEMPTS, 1));
    assert!(w.queue.take().is_empty());
    // Parked, it no longer holds the order's later entry.
    assert_eq!(fx.drain().await?, 1);
    assert_eq!(w.kinds(&w.queue.take()), vec!["order.delayed"]);
    assert_eq!(w.sandbox.open_authorizations(), 1);
    // The provider is back; an operator retries the parked entry: it resumes where it stopped.
    w.payments.fail.store(0, Ordering::SeqCst);
    w.store.redrive_effects(&id, &parked[0].id, chrono::Utc::now()).await?;
    assert_eq!(fx.drain().await?, 1);
    assert_eq!(w.sandbox.open_authorizations(), 0);
    assert!(w.queue.take().is_empty(), "the cancel mail is not sent again");
    assert!(w.store.pending_effects(10).await?.is_empty() && w.store.parked_effects(10).await?.is_empty());
    Ok(())
}

/// Entries backing off do not fill the drain's page: the listing reads past them to the ones
/// due, and keeps them in it so an order's later entries still wait behind them.
#[tokio::test]
async fn the_pending_list_reads_past_entries_not_due_yet() -> anyhow::Result<()> {
    let w = World::new().await?;
    let id = w.authorized("k1").await?;
    let mut ids = Vec::new();
    for i in 0..3i64 {
        let at = chrono::Utc::now() + chrono::Duration::milliseconds(5 * (i + 1));
        let c = OrderChange::for_order(&id).with_effect(Effect::notify(Notification::new("order.delayed", &id, None)));
        w.store.clone().with_clock(Arc::new(At(at))).commit(&c).await?;
        let (_, e) = w.store.take_stream().pop().unwrap();
        w.store.defer_effects(&id, &e, 0).await?;
        ids.push(e);
    }
    // The two oldest back off.
    for e in w.store.pending_effects(10).await?.into_iter().filter(|e| e.id != ids[2]) {
        let left = Settlement {
            attempts: 1,
            retry_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
            ..Default::default()
        };
        assert!(w.store.settle_effects(&e, &left).await?);
    }
    let page: Vec<String> = w.store.pending_effects(1).await?.into_iter().map(|e| e.id).collect();
    assert_eq!(page, ids, "read past the two not due to the one due");
    // The drain holds the order's due entry behind the ones backing off.
    assert_eq!(w.effects().drain().await?, 0);
    assert!(w.queue.take().iter().all(|m| !m.contains("order.delayed")));
    Ok(())
}

/// A clock stuck at one instant (a commit made long ago).
struct At(chrono::DateTime<chrono::Utc>);
impl Clock for At {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0
    }
}

/// Past the providers' idempotency window a retried refund could be paid twice: the drain parks
/// an entry whose effects are left instead of running them, still publishes its events, and
/// an operator's retry opens a new window.
#[tokio::test]
async fn the_drain_does_not_run_effects_past_the_retry_window() -> anyhow::Result<()> {
    use oms_shared::domain::effects::RETRY_WINDOW_HOURS;
    let w = World::new().await?;
    let id = w.authorized("k1").await?;
    w.queue.take();
    let long_ago = chrono::Utc::now() - chrono::Duration::hours(RETRY_WINDOW_HOURS + 1);
    let old = w.store.clone().with_clock(Arc::new(At(long_ago)));
    let change = OrderChange::for_order(&id)
        .with_event(TimelineEvent::new(long_ago, "order.edited", Actor::Customer("cust-1".into())))
        .with_effect(Effect::notify(Notification::new("order.delayed", &id, None)));
    old.commit(&change).await?;
    let (_, entry_id) = w.store.take_stream().pop().unwrap();
    w.store.defer_effects(&id, &entry_id, 0).await?;
    w.store.defer_events(&id, &entry_id, 1).await?;
    assert_eq!(w.effects().drain().await?, 0);
    assert!(w.queue.take().is_empty(), "the effect is not run past the window");
    assert_eq!(w.bus.take().iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), vec!["order.edited"]);
    let parked = w.store.parked_effects(10).await?;
    assert_eq!(parked.len(), 1);
    assert_eq!((parked[0].left().effects_from, parked[0].left().events), (0, false));
    // An operator checked the provider and retries it: a new window from now.
    w.store.redrive_effects(&id, &entry_id, chrono::Utc::now()).await?;
    assert_eq!(w.effects().drain().await?, 1);
    assert_eq!(w.kinds(&w.queue.take()), vec!["order.delayed"]);
    assert!(w.store.parked_effects(10).await?.is_empty());
    Ok(())
}

/// Events the bus refuses are deferred with the change's record and published by the drain
/// with the same ids; the record's effects are not run again for them.
#[tokio::test]
async fn events_the_bus_refuses_wait_in_the_pending_list_and_the_drain_publishes_them() -> anyhow::Result<()> {
    use oms_shared::app::events::ChangeEvents;
    let w = World::new().await?;
    let id = w.authorized("k1").await?;
    w.queue.take();
    let placed =
        w.store.effects_of_order(&id).await?.into_iter().find(|e| e.events.iter().any(|t| t == "order.placed"));
    let entry = placed.expect("the placement announced order.placed");
    let c = ChangeEvents::of(&entry);
    let fx = w.effects();
    w.bus.fail_next(1);
    assert!(!fx.publish_or_defer(&c, entry.effects.len()).await?, "deferred, not an error");
    assert!(w.bus.take().is_empty());
    let pending = w.store.pending_effects(10).await?;
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].left().events, pending[0].left().effects_from), (true, entry.effects.len()));
    // Still refused: an attempt counted; then published once due.
    w.bus.fail_next(1);
    assert_eq!(fx.drain().await?, 0);
    let e = w.store.pending_effects(10).await?.remove(0);
    assert_eq!((e.left().events, e.left().attempts), (true, 1));
    due_now(&w, &e).await?;
    assert_eq!(fx.drain().await?, 1);
    let published = w.bus.take();
    assert_eq!(published.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), vec!["order.placed"]);
    assert_eq!(published[0].id, oms_shared::domain::events::event_id(&id, &entry.id, "order.placed"));
    assert!(w.queue.take().is_empty(), "the placement's effects are not run again");
    assert!(w.store.pending_effects(10).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_changes_events_carry_the_integration_view_and_the_same_ids_when_published_again() -> anyhow::Result<()> {
    use oms_shared::app::events::ChangeEvents;
    let w = World::new().await?;
    let id = w.authorized("k1").await?;
    let agent = Caller::admin(CustomerId::parse("agent-1")?);
    let note = oms_shared::app::support::NoteRequest { text: "rang from a private number".into() };
    w.oms.add_note(&agent, &id, note).await?;
    let change = ChangeEvents {
        order: id.clone(),
        change_id: "2026-12-01T10:00:00.000000Z#01JDQ0000000000000000000ZZ".into(),
        types: vec!["payment.authorized".into(), "not.an.event".into()],
        sequence: Some(3),
        occurred_at: chrono::Utc::now(),
    };
    w.bus.fail_next(1);
    assert!(w.effects().publish(&change).await.is_err(), "a bus failure is reported (the stream retries)");
    assert_eq!(w.effects().publish(&change).await?, 1, "unknown types are not published");
    assert_eq!(w.effects().publish(&change).await?, 1);
    let events = w.bus.take();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].id, events[1].id, "a redelivery carries the same id");
    let e = &events[0];
    assert_eq!((e.kind.as_str(), e.sequence, e.version), ("payment.authorized", 3, 1));
    assert_eq!(e.customer_id.as_str(), "cust-1");
    assert_eq!(e.data["order"]["orderId"], id.to_string());
    assert_eq!(e.data["order"]["status"], "payment_authorized");
    let text = serde_json::to_string(e)?;
    assert!(!text.contains("private number") && !text.contains("riskScore"), "no notes or fraud signals: {text}");
    let gone = ChangeEvents { order: OrderId::parse("01JDQ0000000000000000000XX")?, ..change };
    assert_eq!(w.effects().publish(&gone).await?, 0, "an order not there publishes nothing");
    Ok(())
}

#[tokio::test]
async fn analytics_batches_commit_together_and_racing_batches_count_each_order_once() -> anyhow::Result<()> {
    use oms_shared::app::analytics::Analytics;
    use oms_shared::domain::analytics::{contribution, fact_of, merge_rows};
    let w = World::new().await?;
    let a = Analytics { store: Arc::new(w.store.clone()), clock: Arc::new(SystemClock) };
    let mut ids = Vec::new();
    for k in ["a1", "a2", "a3"] {
        ids.push(w.place(k).await?);
    }
    // One order recorded ahead, then cancelled: the batch moves it and records the others.
    assert!(a.record(&ids[0]).await?);
    w.oms.cancel_order(&w.caller(), &ids[0], Actor::Customer("cust-1".into()), None).await?;
    // Two consumers with overlapping batches at once: one commits each fact, the other finds
    // its batch refused (a fact moved) and goes order by order; nothing counts twice.
    let twice: Vec<OrderId> = ids.iter().chain(ids.iter()).cloned().collect();
    let (x, y) = tokio::join!(a.record_many(&ids), a.record_many(&twice[1..]));
    assert!(x.iter().chain(y.iter()).all(|r| r.is_ok()), "{x:?} {y:?}");
    assert_eq!(
        a.record_many(&ids).await.into_iter().collect::<Result<Vec<_>, _>>()?,
        vec![false; 3],
        "a late batch writes nothing"
    );
    let mut want = Vec::new();
    for id in &ids {
        let v = w.store.get_order_view(id).await?.unwrap();
        want.push(contribution(&fact_of(&v.order, &v.shipments, &v.timeline, &[], &[])));
    }
    let today = chrono::Utc::now().date_naive();
    // A row whose counters all went back to zero reads empty: it adds nothing.
    let mut rows = w.store.rows(today, today).await?;
    rows.retain(|_, c| !c.is_empty());
    assert_eq!(rows, merge_rows(want.iter()));
    Ok(())
}

/// Invoice numbers stay gapless when issues fail: commits refused by an injected failure take
/// no number, and the dispatcher's retry (here: the loop) issues the same document once.
#[tokio::test]
async fn invoice_numbers_stay_gapless_when_issue_commits_fail_and_are_retried() -> anyhow::Result<()> {
    use oms_shared::app::invoices::Invoicing;
    use oms_shared::domain::invoice::{DocumentKind, Party};
    let st = MemoryStore::new();
    let inv = Invoicing {
        store: Arc::new(st.clone()),
        clock: Arc::new(SystemClock),
        seller: Party { name: "Seller".into(), lines: vec!["1 Road".into()], tax_id: None },
    };
    let mut ids = Vec::new();
    for i in 0..10 {
        let mut o = common::order(&format!("cust-inv-{i}"), "inv@b.co");
        o.payment.capture(Money::new(500 + i, Currency::USD)?, &format!("capture-{i}"), chrono::Utc::now())?;
        st.commit(&OrderChange::create(o.clone())).await?;
        ids.push(o.id);
    }
    st.fail_next_commits(6);
    let tasks: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (inv, id) = (inv.clone(), id.clone());
            tokio::spawn(async move {
                let mut failures = 0;
                loop {
                    match inv.issue(&id, DocumentKind::Invoice, &format!("capture-{i}")).await {
                        Ok(n) => return Ok::<_, anyhow::Error>((n, failures)),
                        Err(_) if failures < 20 => failures += 1,
                        Err(e) => return Err(e.into()),
                    }
                }
            })
        })
        .collect();
    let (mut numbers, mut failed) = (Vec::new(), 0);
    for t in tasks {
        let (n, f) = t.await??;
        numbers.push(n.expect("an invoice"));
        failed += f;
    }
    assert!(failed >= 6, "the injected failures were met ({failed})");
    numbers.sort();
    let series = numbers[0].rsplit_once('-').map(|(s, _)| s.to_owned()).unwrap_or_default();
    assert_eq!(numbers, (1..=10).map(|n| format!("{series}-{n:06}")).collect::<Vec<_>>(), "gapless, none reused");
    for id in &ids {
        assert_eq!(st.documents_of_order(id).await?.len(), 1);
    }
    Ok(())
}

#[tokio::test]
async fn an_unknown_promotion_code_is_refused_when_the_shop_has_no_promotions() -> anyhow::Result<()> {
    let w = World::new().await?;
    let mut req = w.request()?;
    req.promotion_codes = Some(vec!["NOPE".into()]);
    let refused = w.oms.place_order(&w.caller(), "k-promo", "k-promo", req).await;
    assert!(
        matches!(refused, Err(AppError::UnprocessableField { kind: "promotion-unknown", field: "promotionCodes", .. })),
        "{refused:?}"
    );
    let caller = w.caller();
    let orders = w.store.orders_of_customer(&caller.customer, Listing::first(10)).await?;
    assert!(orders.items.is_empty(), "nothing written");
    Ok(())
}

/// Readers after a commit (integration events, mails) read eventually consistently, at half the
/// price, and read again consistently when the replica they hit is behind the change.
#[tokio::test]
async fn readers_after_a_commit_never_see_an_order_older_than_the_change() -> anyhow::Result<()> {
    let w = World::new().await?;
    let id = w.place("k1").await?;
    w.dispatch().await?;
    w.queue.take();
    let before = w.store.get_order_with_shipments(&id).await?.unwrap();
    w.oms.cancel_order(&w.caller(), &id, Actor::Customer("cust-1".into()), None).await?;
    let version = w.store.get_order(&id).await?.unwrap().version;
    // A replica still at the placement.
    w.store.lag_behind(before.clone());
    let named = [("order.cancelled".to_owned(), "evt-1".to_owned())];
    let now = chrono::Utc::now();
    let events = oms_shared::app::events::events_for(&w.store, &id, &named, Some(version), now).await?;
    assert_eq!(events[0].data["order"]["status"], "cancelled", "read again: the replica was behind");
    assert_eq!(events[0].sequence, version);
    // A version the replica has is taken from it (the cheap read was used).
    let older = oms_shared::app::events::events_for(&w.store, &id, &named, Some(before.order.version), now).await?;
    assert_eq!(older[0].data["order"]["status"], serde_json::to_value(before.order.status)?);
    let fresh = w.store.get_order_with_shipments_since(&id, None).await?.unwrap();
    assert_eq!(fresh.order.version, version, "no version known: a consistent read");
    // The cancel's mail carries the version it must render at least.
    w.dispatch().await?;
    let mail: Vec<Notification> = w.queue.take().iter().map(|m| serde_json::from_str(m)).collect::<Result<_, _>>()?;
    let cancelled = mail.iter().find(|n| n.kind == "order.cancelled").expect("the cancel's mail");
    assert_eq!(cancelled.order_version, Some(version));
    Ok(())
}
