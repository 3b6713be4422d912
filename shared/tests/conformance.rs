//! The storage conformance suite: every test runs against the in-memory twin and against
//! DynamoDB Local (the table from `infra/template.yaml`), so the two cannot drift. Together
//! they cover every access pattern in docs/data-model.md and the conditions of the one write
//! path.

mod common;
use common::*;
use oms_shared::domain::*;
use oms_shared::ports::*;

/// Generates `memory::name` and `dynamo::name` for a test body generic over the store.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test]
            async fn $name() -> anyhow::Result<()> {
                super::$name(oms_shared::adapters::memory::MemoryStore::new()).await
            })*
        }
        mod dynamo {
            $(#[tokio::test]
            async fn $name() -> anyhow::Result<()> {
                super::$name(super::common::store().await?).await
            })*
        }
    };
}

conformance!(
    products_round_trip_and_batch_get,
    locations_are_listed,
    fifty_concurrent_holds_on_ten_units_exactly_ten_succeed,
    stock_moves_keep_conservation_and_refuse_impossible_moves,
    stock_of_a_sku_across_locations,
    sharded_stock_sums_moves_per_shard_and_rebalances,
    changes_of_more_stock_items_than_one_write_holds_are_all_or_nothing,
    carts_by_id_by_customer_and_idle,
    order_collection_customer_status_and_email_patterns,
    order_updates_are_optimistic,
    shipments_by_order_and_by_tracking_number,
    pick_lists_hold_the_shipments_released_for_picking,
    company_credit_moves_with_the_order_on_its_version,
    promotion_uses_hold_their_limits_under_concurrent_orders,
    approvals_are_decided_once_with_the_order,
    service_windows_are_never_overbooked_and_keep_their_bookings,
    backorders_stay_within_their_limit_in_arrival_order,
    idempotency_records_and_webhook_dedupe,
    timeline_of_an_order_in_time_order,
    a_refused_change_writes_nothing,
    a_change_reports_each_refusal_by_its_kind,
    effects_are_recorded_with_the_change_and_completed_once,
    returns_cases_payments_and_labels,
    mail_claims_and_preferences,
    failed_attempts_count_within_their_window,
    erasure_scrubs_what_quotes_the_buyer_and_deletes_documents,
    customer_profiles_are_versioned_and_found_by_their_keys,
    webhook_subscriptions_are_versioned_and_deliveries_logged_once,
    analytics_facts_commit_with_their_rows_once,
    documents_are_numbered_without_gaps_under_concurrent_and_repeated_issues,
    surveys_are_found_when_due_and_answered_once,
);

async fn products_round_trip_and_batch_get<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    for i in 0..120 {
        st.put_product(&product(&format!("P-{i}"), 100 + i)).await?;
    }
    assert_eq!(st.get_product(&sku("P-7")).await?.unwrap().price, usd(107));
    assert_eq!(st.get_product(&sku("NOPE")).await?, None);
    let skus: Vec<Sku> = (0..120).map(|i| sku(&format!("P-{i}"))).chain([sku("NOPE")]).collect();
    let got = st.get_products(&skus).await?;
    assert_eq!(got.len(), 120);
    assert_eq!(st.list_products().await?.len(), 120);
    Ok(())
}

async fn locations_are_listed<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    st.put_location(&warehouse("WH-A")).await?;
    st.put_location(&warehouse("WH-B")).await?;
    assert_eq!(st.get_location(&loc_id("WH-A")).await?.unwrap().id, loc_id("WH-A"));
    let all = st.list_locations().await?;
    assert_eq!(all.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(), vec!["WH-A", "WH-B"]);
    Ok(())
}

async fn fifty_concurrent_holds_on_ten_units_exactly_ten_succeed<S: Store + Clone + 'static>(
    st: S,
) -> anyhow::Result<()> {
    let (s, l) = (sku("HOT-1"), loc_id("WH-A"));
    st.set_on_hand(&s, &l, 10).await?;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (st, s, l) = (st.clone(), s.clone(), l.clone());
            tokio::spawn(async move { st.apply_stock_move(&mv(&s, &l, StockMove::Hold, 1)).await })
        })
        .collect();
    let mut ok = 0;
    let mut out_of_stock = 0;
    for t in tasks {
        match t.await? {
            Ok(()) => ok += 1,
            Err(StoreError::OutOfStock(v)) => {
                assert_eq!(v, vec![(s.clone(), l.clone())]);
                out_of_stock += 1
            }
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!((ok, out_of_stock), (10, 40));
    let rec = st.get_stock(&s, &l).await?.unwrap();
    assert_eq!(rec.level, StockLevel { on_hand: 10, available: 0, held: 10, allocated: 0 });
    Ok(())
}

async fn stock_moves_keep_conservation_and_refuse_impossible_moves<S: Store + Clone + 'static>(
    st: S,
) -> anyhow::Result<()> {
    let (s, l) = (sku("MUG"), loc_id("WH-A"));
    st.set_on_hand(&s, &l, 5).await?;
    st.apply_stock_move(&mv(&s, &l, StockMove::Hold, 3)).await?;
    st.apply_stock_move(&mv(&s, &l, StockMove::Allocate, 2)).await?;
    st.apply_stock_move(&mv(&s, &l, StockMove::Ship, 1)).await?;
    st.apply_stock_move(&mv(&s, &l, StockMove::ReleaseHold, 1)).await?;
    st.apply_stock_move(&mv(&s, &l, StockMove::ReleaseAllocation, 1)).await?;
    st.apply_stock_move(&mv(&s, &l, StockMove::Restock, 2)).await?;
    let level = st.get_stock(&s, &l).await?.unwrap().level;
    assert_eq!(level, StockLevel { on_hand: 6, available: 6, held: 0, allocated: 0 });
    assert!(level.is_conserved());
    assert!(matches!(
        st.apply_stock_move(&mv(&s, &l, StockMove::Ship, 1)).await,
        Err(StoreError::StockPrecondition(_))
    ));
    assert!(matches!(
        st.apply_stock_move(&mv(&s, &l, StockMove::ReleaseHold, 1)).await,
        Err(StoreError::StockPrecondition(_))
    ));
    assert!(matches!(
        st.apply_stock_move(&mv(&sku("NONE"), &l, StockMove::Hold, 1)).await,
        Err(StoreError::OutOfStock(_))
    ));
    // A count below what is committed is refused.
    st.apply_stock_move(&mv(&s, &l, StockMove::Hold, 4)).await?;
    assert!(matches!(st.set_on_hand(&s, &l, 3).await, Err(StoreError::StockPrecondition(_))));
    assert_eq!(
        st.set_on_hand(&s, &l, 10).await?.level,
        StockLevel { on_hand: 10, available: 6, held: 4, allocated: 0 }
    );
    Ok(())
}

async fn sharded_stock_sums_moves_per_shard_and_rebalances<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    let (s, l) = (sku("HOT"), loc_id("WH-A"));
    st.set_on_hand(&s, &l, 10).await?;
    let r = st.set_shards(&s, &l, 4).await?;
    assert_eq!((r.shards, r.level), (4, StockLevel { on_hand: 10, available: 10, held: 0, allocated: 0 }));
    let items = st.stock_for_sku(&s).await?;
    let mut per: Vec<(u16, i64)> = items.iter().map(|r| (r.shard, r.level.available)).collect();
    per.sort_unstable();
    assert_eq!(per, vec![(0, 3), (1, 3), (2, 2), (3, 2)]);
    // A movement lands on its shard; another shard's shortage is its own.
    let on = |k: u16, m: StockMove, q: u32| StockMovement { shard: k, ..mv(&s, &l, m, q) };
    st.apply_stock_move(&on(2, StockMove::Hold, 2)).await?;
    assert!(matches!(st.apply_stock_move(&on(2, StockMove::Hold, 1)).await, Err(StoreError::OutOfStock(_))));
    assert!(matches!(
        st.apply_stock_move(&on(1, StockMove::ReleaseHold, 1)).await,
        Err(StoreError::StockPrecondition(_))
    ));
    let change = OrderChange::default().with_reservation(
        &Reservation { sku: s.clone(), location_id: l.clone(), quantity: 3, state: ReservationState::Held, shard: 3 },
        StockMove::Hold,
    );
    assert!(matches!(st.commit(&change).await, Err(StoreError::OutOfStock(_))), "shard 3 has 2");
    let total = st.get_stock(&s, &l).await?.unwrap();
    assert_eq!((total.shards, total.level), (4, StockLevel { on_hand: 10, available: 8, held: 2, allocated: 0 }));
    // A count keeps held units on their shard and spreads the rest.
    let r = st.set_on_hand(&s, &l, 14).await?;
    assert_eq!(r.level, StockLevel { on_hand: 14, available: 12, held: 2, allocated: 0 });
    assert!(st.stock_for_sku(&s).await?.iter().all(|r| r.level.is_conserved()));
    // Fewer shards: refused while a going shard holds units, then allowed.
    assert!(matches!(st.set_shards(&s, &l, 2).await, Err(StoreError::StockPrecondition(_))));
    st.apply_stock_move(&on(2, StockMove::ReleaseHold, 2)).await?;
    let r = st.set_shards(&s, &l, 2).await?;
    assert_eq!((r.shards, r.level.on_hand, r.level.available), (2, 14, 14));
    assert_eq!(st.stock_for_sku(&s).await?.len(), 2);
    Ok(())
}

async fn changes_of_more_stock_items_than_one_write_holds_are_all_or_nothing<S: Store + Clone + 'static>(
    st: S,
) -> anyhow::Result<()> {
    let l = loc_id("WH-A");
    use futures::StreamExt;
    // 160 stock items: more than one write holds, so part of them are taken ahead.
    let skus: Vec<Sku> = (0..160).map(|i| sku(&format!("BIG-{i}"))).collect();
    futures::stream::iter(skus.iter().map(|s| st.set_on_hand(s, &l, 3)))
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let level = |a, h, al| StockLevel { on_hand: a + h + al, available: a, held: h, allocated: al };
    let all_at = |st: S, want: StockLevel| async move {
        let skus: Vec<Sku> = (0..160).map(|i| sku(&format!("BIG-{i}"))).collect();
        let l = loc_id("WH-A");
        let got =
            futures::stream::iter(skus.iter().map(|s| st.get_stock(s, &l))).buffered(16).collect::<Vec<_>>().await;
        for (s, g) in skus.iter().zip(got) {
            let g = g?.unwrap().level;
            anyhow::ensure!(g == want, "{s}: {g:?}, expected {want:?}");
        }
        anyhow::Ok(())
    };
    // 160 holds with an order: two writes on the table, one outcome.
    let o = order("cust-1", "a@b.co");
    let mut c = OrderChange::create(o.clone()).with_event(TimelineEvent::new(
        o.created_at,
        "order.placed",
        Actor::System("t".into()),
    ));
    for s in &skus {
        c = c.with_stock(s, &l, StockMove::Hold, 2);
    }
    st.commit(&c).await?;
    all_at(st.clone(), level(1, 2, 0)).await?;
    assert!(st.get_order(&o.id).await?.is_some());
    // One item short: nothing moves, whatever part it falls in; the order is not written.
    for short_at in [5, 150] {
        let o2 = order("cust-2", "b@b.co");
        let mut c = OrderChange::create(o2.clone());
        for (i, s) in skus.iter().enumerate() {
            c = c.with_stock(s, &l, StockMove::Hold, if i == short_at { 2 } else { 1 });
        }
        assert!(matches!(st.commit(&c).await, Err(StoreError::OutOfStock(_))), "short at {short_at}");
        all_at(st.clone(), level(1, 2, 0)).await?;
        assert!(st.get_order(&o2.id).await?.is_none());
    }
    // A stale version refuses the whole change after its takes were applied ahead: undone.
    let mut stale = OrderChange::update(o.clone(), 7, chrono::Utc::now());
    for s in &skus {
        stale = stale.with_stock(s, &l, StockMove::Allocate, 2);
    }
    assert!(matches!(st.commit(&stale).await, Err(StoreError::StaleVersion)));
    all_at(st.clone(), level(1, 2, 0)).await?;
    // Allocation, then a release of everything: units given back after the commit.
    let mut alloc = OrderChange::update(o.clone(), 1, chrono::Utc::now());
    for s in &skus {
        alloc = alloc.with_stock(s, &l, StockMove::Allocate, 2);
    }
    st.commit(&alloc).await?;
    all_at(st.clone(), level(1, 0, 2)).await?;
    let mut release = OrderChange::update(alloc.next_order().unwrap().clone(), 2, chrono::Utc::now());
    for s in &skus {
        release = release.with_stock(s, &l, StockMove::ReleaseAllocation, 2);
    }
    st.commit(&release).await?;
    all_at(st.clone(), level(3, 0, 0)).await?;
    assert_eq!(st.get_order(&o.id).await?.unwrap().version, 3);
    // Give-backs and takes in one change: 150 releases wait for the commit, 10 takes go in it.
    let v3 = st.get_order(&o.id).await?.unwrap();
    let mut hold = OrderChange::update(v3.clone(), 3, chrono::Utc::now());
    for s in &skus {
        hold = hold.with_stock(s, &l, StockMove::Hold, 1);
    }
    st.commit(&hold).await?;
    let mut both = OrderChange::update(hold.next_order().unwrap().clone(), 4, chrono::Utc::now());
    for (i, s) in skus.iter().enumerate() {
        both = if i < 150 {
            both.with_stock(s, &l, StockMove::ReleaseHold, 1)
        } else {
            both.with_stock(s, &l, StockMove::Hold, 2)
        };
    }
    st.commit(&both).await?;
    for (i, s) in skus.iter().enumerate() {
        let got = st.get_stock(s, &l).await?.unwrap().level;
        let want = if i < 150 { level(3, 0, 0) } else { level(0, 3, 0) };
        assert_eq!(got, want, "{s}");
    }
    assert_eq!(st.finish_interrupted(chrono::Utc::now()).await?, 0, "nothing left half done");
    Ok(())
}

/// One movement of `q` units.
fn mv(s: &Sku, l: &LocationId, movement: StockMove, q: u32) -> StockMovement {
    StockMovement::new(s, l, movement, q)
}

async fn stock_of_a_sku_across_locations<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    st.set_on_hand(&sku("A"), &loc_id("WH-1"), 3).await?;
    st.set_on_hand(&sku("A"), &loc_id("WH-2"), 4).await?;
    st.set_on_hand(&sku("B"), &loc_id("WH-1"), 9).await?;
    let recs = st.stock_for_sku(&sku("A")).await?;
    assert_eq!(
        recs.iter().map(|r| (r.location_id.as_str(), r.level.available)).collect::<Vec<_>>(),
        vec![("WH-1", 3), ("WH-2", 4)]
    );
    // Many SKUs at once at the shop's locations, by key (a few locations) and by query (more
    // locations than reading by key pays for); a hot SKU's shards come too.
    st.set_on_hand(&sku("HOT"), &loc_id("WH-2"), 8).await?;
    st.set_shards(&sku("HOT"), &loc_id("WH-2"), 3).await?;
    let skus = [sku("A"), sku("B"), sku("HOT"), sku("NONE")];
    let few = [loc_id("WH-1"), loc_id("WH-2")];
    let many: Vec<LocationId> = (0..30).map(|i| loc_id(&format!("X-{i}"))).chain(few.iter().cloned()).collect();
    let rows = |v: Vec<StockRecord>| {
        let mut k: Vec<_> =
            v.into_iter().map(|r| format!("{} {} {} {}", r.sku, r.location_id, r.shard, r.level.available)).collect();
        k.sort();
        k
    };
    let all = ["A WH-1 0 3", "A WH-2 0 4", "B WH-1 0 9", "HOT WH-2 0 3", "HOT WH-2 1 3", "HOT WH-2 2 2"];
    assert_eq!(rows(st.stock_for_skus(&skus, &few).await?), all);
    assert_eq!(rows(st.stock_for_skus(&skus, &many).await?), all);
    assert_eq!(rows(st.stock_for_skus(&skus, &[loc_id("WH-1")]).await?), ["A WH-1 0 3", "B WH-1 0 9"]);
    Ok(())
}

async fn carts_by_id_by_customer_and_idle<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    let t0 = chrono::Utc::now() - chrono::Duration::hours(6);
    let cust = CustomerId::parse("cust-1").unwrap();
    let mut c = Cart::new(CartId::generate(), cust.clone(), t0);
    st.save_cart(&mut c).await?;
    let mut stale = c.clone();
    c.set_quantity(sku("A"), 2, t0)?;
    c.email = Some(Email::parse("a@b.co")?);
    st.save_cart(&mut c).await?;
    // A second device still holding the old version loses instead of overwriting.
    stale.set_quantity(sku("B"), 1, t0)?;
    assert!(matches!(st.save_cart(&mut stale).await, Err(StoreError::StaleVersion)));
    assert_eq!(st.get_cart(&c.id).await?.unwrap().items.len(), 1);
    assert_eq!(st.carts_of_customer(&cust).await?.len(), 1);
    let idle = st.idle_carts(chrono::Utc::now() - chrono::Duration::hours(4)).await?;
    assert_eq!(idle.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), vec![c.id.clone()]);
    assert!(st.idle_carts(t0 - chrono::Duration::hours(1)).await?.is_empty());
    Ok(())
}

async fn place<S: Store>(st: &S, o: &Order) -> Result<(), StoreError> {
    let ev =
        TimelineEvent::new(o.created_at, "order.placed", Actor::Customer(o.customer.to_string())).with_status(o.status);
    st.commit(&OrderChange::create(o.clone()).with_event(ev)).await
}

async fn order_collection_customer_status_and_email_patterns<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut o = order("cust-1", "Ann@Example.com");
        o.created_at += chrono::Duration::milliseconds(i);
        place(&st, &o).await?;
        ids.push(o.id.clone());
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    place(&st, &order("cust-2", "bob@example.com")).await?;

    let view = st.get_order_view(&ids[0]).await?.unwrap();
    assert_eq!(view.order.id, ids[0]);
    assert_eq!(view.timeline.len(), 1);

    // Customer's orders newest first, paginated.
    let cust = CustomerId::parse("cust-1").unwrap();
    let p1 = st.orders_of_customer(&cust, Listing::first(2).after(None)).await?;
    assert_eq!(p1.items.iter().map(|o| o.id.clone()).collect::<Vec<_>>(), vec![ids[4].clone(), ids[3].clone()]);
    let p2 = st.orders_of_customer(&cust, Listing::first(2).after(p1.next_cursor.as_deref())).await?;
    assert_eq!(p2.items.iter().map(|o| o.id.clone()).collect::<Vec<_>>(), vec![ids[2].clone(), ids[1].clone()]);
    let p3 = st.orders_of_customer(&cust, Listing::first(2).after(p2.next_cursor.as_deref())).await?;
    assert_eq!(p3.items.len(), 1);
    assert!(p3.next_cursor.is_none());
    assert!(matches!(
        st.orders_of_customer(&cust, Listing::first(2).after(Some("garbage!"))).await,
        Err(StoreError::BadCursor)
    ));

    // By status across shards, paginated.
    let s1 = st.orders_by_status(OrderStatus::Placed, Listing::first(4).after(None)).await?;
    assert_eq!(s1.items.len(), 4);
    let s2 = st.orders_by_status(OrderStatus::Placed, Listing::first(4).after(s1.next_cursor.as_deref())).await?;
    assert_eq!(s2.items.len(), 2);
    assert!(st.orders_by_status(OrderStatus::Shipped, Listing::first(4).after(None)).await?.items.is_empty());
    // Cursors the store did not issue: well-formed base64 of the wrong shape is refused too.
    use base64::Engine;
    for forged in [
        "2xyz",
        "ORDER#not-an-id",
        "2026-01-01T00:00:00.000Z#bad",
        "2026-13-45T00:00:00.000Z#01JD0000000000000000000000",
    ] {
        let c = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged);
        let by_status = st.orders_by_status(OrderStatus::Placed, Listing::first(4).after(Some(&c))).await;
        assert!(matches!(by_status, Err(StoreError::BadCursor)), "{forged}: {by_status:?}");
        let by_customer = st.orders_of_customer(&cust, Listing::first(2).after(Some(&c))).await;
        assert!(matches!(by_customer, Err(StoreError::BadCursor)), "{forged}: {by_customer:?}");
    }

    // By e-mail (case-insensitive), with a date filter.
    let e = Email::parse("ann@EXAMPLE.com")?;
    assert_eq!(st.orders_by_email(&e, Listing::first(10).since(None)).await?.items.len(), 5);
    let future = chrono::Utc::now() + chrono::Duration::hours(1);
    assert!(st.orders_by_email(&e, Listing::first(10).since(Some(future))).await?.items.is_empty());
    assert_eq!(st.count_orders_by_email_since(&e, chrono::Utc::now() - chrono::Duration::hours(1)).await?, 5);
    Ok(())
}

async fn order_updates_are_optimistic<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    let o = order("cust-1", "a@b.co");
    place(&st, &o).await?;
    assert!(matches!(place(&st, &o).await, Err(StoreError::AlreadyExists)));
    let mut next = o.clone();
    next.apply(OrderEvent::Validate, chrono::Utc::now())?;
    let change = OrderChange::update(next, 1, chrono::Utc::now());
    st.commit(&change).await?;
    // A second writer still holding version 1 loses.
    assert!(matches!(st.commit(&change).await, Err(StoreError::StaleVersion)));
    let stored = st.get_order(&o.id).await?.unwrap();
    assert_eq!((stored.status, stored.version), (OrderStatus::Validated, 2));
    // Status index follows the status.
    assert_eq!(st.orders_by_status(OrderStatus::Validated, Listing::first(10).after(None)).await?.items.len(), 1);
    assert!(st.orders_by_status(OrderStatus::Placed, Listing::first(10).after(None)).await?.items.is_empty());
    Ok(())
}

async fn shipments_by_order_and_by_tracking_number<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    let o = order("cust-1", "a@b.co");
    let now = chrono::Utc::now();
    let lines = vec![ShipmentLine { line_id: "L1".into(), sku: sku("A"), quantity: 1 }];
    let sh = Shipment {
        status: ShipmentStatus::LabelCreated,
        carrier: Some("sandbox".into()),
        tracking_number: Some("SBX0001".into()),
        label_id: Some("lbl_1".into()),
        ..Shipment::pending(&o.id, loc_id("WH-A"), lines, ServiceLevel::Standard, now)
    };
    let mut change = OrderChange::create(o.clone());
    change.shipments.push(Write::Create(sh.clone()));
    st.commit(&change).await?;
    assert_eq!(st.shipments_of_order(&o.id).await?, vec![sh.clone()]);
    assert!(matches!(st.tracked("sandbox", "SBX0001").await?, Some(Tracked::Shipment(x)) if x == sh));
    assert!(st.tracked("sandbox", "NOPE").await?.is_none());
    assert_eq!(st.get_order_view(&o.id).await?.unwrap().shipments.len(), 1);
    // Read eventually consistently, and at least at a version: the same order and shipments
    // once the write has settled.
    let cheap = st.get_order_with_shipments_eventually(&o.id).await?.expect("the order");
    assert_eq!((cheap.order.version, cheap.shipments.clone()), (o.version, vec![sh.clone()]));
    let since = st.get_order_with_shipments_since(&o.id, Some(o.version)).await?.expect("the order");
    assert_eq!((since.order.version, since.shipments), (o.version, vec![sh]));
    assert!(st.get_order_with_shipments_since(&OrderId::generate(), Some(1)).await?.is_none());
    Ok(())
}

async fn pick_lists_hold_the_shipments_released_for_picking<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    let o = order("cust-1", "a@b.co");
    let t0 = chrono::Utc::now();
    let lines = || vec![ShipmentLine { line_id: "L1".into(), sku: sku("A"), quantity: 1 }];
    let picking = |loc: &str, at: chrono::DateTime<chrono::Utc>| Shipment {
        status: ShipmentStatus::Picking,
        updated_at: at,
        ..Shipment::pending(&o.id, loc_id(loc), lines(), ServiceLevel::Standard, at)
    };
    let (a, b, other) = (picking("WH-A", t0 + chrono::Duration::seconds(2)), picking("WH-A", t0), picking("WH-B", t0));
    let pending = Shipment::pending(&o.id, loc_id("WH-A"), lines(), ServiceLevel::Standard, t0);
    let mut change = OrderChange::create(o.clone());
    for sh in [&a, &b, &other, &pending] {
        change.shipments.push(Write::Create(sh.clone()));
    }
    st.commit(&change).await?;
    let ids = |v: Vec<Shipment>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids(st.picks(&loc_id("WH-A"), 10).await?), vec![b.id.clone(), a.id.clone()], "oldest release first");
    assert_eq!(ids(st.picks(&loc_id("WH-A"), 1).await?), vec![b.id.clone()]);
    assert_eq!(ids(st.picks(&loc_id("WH-B"), 10).await?), vec![other.id.clone()]);
    // Packed: still listed until its label is bought; labelled: off the list.
    let mut packed = b.clone();
    packed.status = ShipmentStatus::Packed;
    packed.version = b.version + 1;
    let mut change = OrderChange::for_order(&o.id);
    change.shipments.push(Write::Update { value: packed.clone(), expected_version: b.version });
    st.commit(&change).await?;
    assert_eq!(ids(st.picks(&loc_id("WH-A"), 10).await?), vec![b.id.clone(), a.id.clone()]);
    let mut labelled = packed.clone();
    labelled.status = ShipmentStatus::LabelCreated;
    labelled.tracking_number = Some("SBX9".into());
    labelled.carrier = Some("sandbox".into());
    labelled.version = packed.version + 1;
    let mut change = OrderChange::for_order(&o.id);
    change.shipments.push(Write::Update { value: labelled, expected_version: packed.version });
    st.commit(&change).await?;
    assert_eq!(ids(st.picks(&loc_id("WH-A"), 10).await?), vec![a.id.clone()]);
    Ok(())
}

async fn company_credit_moves_with_the_order_on_its_version<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    use oms_shared::domain::company::Company;
    let now = chrono::Utc::now();
    let c = Company {
        id: format!("co-{}", ulid::Ulid::new().to_string().to_lowercase()),
        name: "Acme".into(),
        credit_limit: Money::new(10_000, Currency::USD)?,
        exposure: 0,
        buyers: vec![CustomerId::parse("cust-1")?],
        payment_terms_days: 30,
        version: 1,
        updated_at: now,
    };
    st.put_company(&c, 0).await?;
    assert!(matches!(st.put_company(&c, 0).await, Err(StoreError::StaleVersion)), "created once");
    let drawn = c.draw(Money::new(4_000, Currency::USD)?, now)?;
    let mut first = OrderChange::create(order("cust-1", "a@b.co"));
    first.company = Some(Write::Update { value: drawn.clone(), expected_version: c.version });
    st.commit(&first).await?;
    // A second order drawing from the version the first one read loses, and writes nothing.
    let mut second = OrderChange::create(order("cust-1", "a@b.co"));
    second.company = Some(Write::Update { value: drawn.clone(), expected_version: c.version });
    assert!(matches!(st.commit(&second).await, Err(StoreError::StaleVersion)));
    assert!(st.get_order(&second.next_order().unwrap().id).await?.is_none());
    let now_c = st.get_company(&c.id).await?.unwrap();
    assert_eq!((now_c.exposure, now_c.version), (4_000, 2));
    Ok(())
}

async fn promotion_uses_hold_their_limits_under_concurrent_orders<S: Store + Clone + 'static>(
    st: S,
) -> anyhow::Result<()> {
    use oms_shared::domain::promotion::{Discount, Promotion, PromotionUse, Target};
    let id = format!("p-{}", ulid::Ulid::new().to_string().to_lowercase());
    let p = Promotion {
        id: id.clone(),
        name: "Five".into(),
        codes: vec!["FIVE".into()],
        discount: Discount::Percent { basis_points: 500 },
        target: Target::Order {},
        min_spend: None,
        channels: vec![],
        customer_groups: vec![],
        starts_at: None,
        ends_at: None,
        stackable: false,
        usage_limit: Some(5),
        per_customer_limit: Some(2),
        active: true,
        version: 1,
        updated_at: chrono::Utc::now(),
    };
    st.put_promotion(&p, 0).await?;
    assert!(matches!(st.put_promotion(&p, 0).await, Err(StoreError::StaleVersion)), "created once");
    assert!(st.list_promotions().await?.iter().any(|x| x.id == id));
    // Twelve customers at once for five uses: exactly five orders are written.
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let (st, p) = (st.clone(), p.clone());
            tokio::spawn(async move {
                let o = order(&format!("cust-{i}"), "a@b.co");
                let mut c = OrderChange::create(o.clone());
                c.promotion_uses = vec![PromotionUse::hold(&p, &o.customer)];
                (st.commit(&c).await, o.id)
            })
        })
        .collect();
    let mut won = Vec::new();
    for t in tasks {
        match t.await? {
            (Ok(()), id) => won.push(id),
            (Err(StoreError::PromotionExhausted(x)), id) => {
                assert_eq!(x, p.id);
                assert!(st.get_order(&id).await?.is_none(), "a refused order is not written");
            }
            (Err(StoreError::Conflict), _) => {}
            (other, _) => anyhow::bail!("unexpected {other:?}"),
        }
    }
    assert_eq!(won.len(), 5);
    assert_eq!(st.promotion_uses(&id, None).await?.0, 5);
    // Given back: one more may hold it; a customer never past their own limit.
    let one = CustomerId::parse("cust-solo")?;
    let back = OrderChange {
        promotion_uses: vec![PromotionUse::release(&id, &CustomerId::parse("cust-0")?)],
        ..Default::default()
    };
    st.commit(&back).await?;
    let mut relaxed = p.clone();
    relaxed.usage_limit = None;
    for n in 0..3 {
        let mut c = OrderChange::create(order("cust-solo", "a@b.co"));
        c.promotion_uses = vec![PromotionUse::hold(&relaxed, &one)];
        let r = st.commit(&c).await;
        assert_eq!(r.is_ok(), n < 2, "use {n} of 2 per customer: {r:?}");
    }
    assert_eq!(st.promotion_uses(&id, Some(&one)).await?.1, 2);
    Ok(())
}

async fn service_windows_are_never_overbooked_and_keep_their_bookings<S: Store + Clone + 'static>(
    st: S,
) -> anyhow::Result<()> {
    use oms_shared::domain::service::{SlotBooking, SlotId, Window};
    let region = format!("US-{}", &ulid::Ulid::new().to_string()[18..]);
    let date = chrono::NaiveDate::from_ymd_opt(2031, 3, 4).ok_or(anyhow::anyhow!("date"))?;
    let w = |start: u16, cap: u32, booked: u32| Window {
        slot: SlotId { region: region.clone(), date, start },
        end: start + 240,
        capacity_minutes: cap,
        booked_minutes: booked,
        skills: vec!["tv-mount".into()],
    };
    st.put_day(&[], &[w(480, 240, 0), w(780, 120, 0)]).await?;
    assert!(matches!(st.put_day(&[], &[w(480, 240, 0)]).await, Err(StoreError::StaleVersion)), "created once");
    assert_eq!(st.windows(&region, date, date).await?.len(), 2);
    let morning = w(480, 240, 0).slot;
    let afternoon = w(780, 120, 0).slot;
    let hold = |slot: &SlotId, hold: bool| SlotBooking { slot: slot.clone(), minutes: 120, hold };
    // Six orders at once for room for two visits: exactly two are written.
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let (st, b) = (st.clone(), hold(&morning, true));
            tokio::spawn(async move {
                let o = order(&format!("cust-{i}"), "a@b.co");
                let mut c = OrderChange::create(o.clone());
                c.slot_bookings = vec![b];
                (st.commit(&c).await, o.id)
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        match t.await? {
            (Ok(()), _) => won += 1,
            (Err(StoreError::SlotFull(x)), id) => {
                assert_eq!(x, morning.to_string());
                assert!(st.get_order(&id).await?.is_none(), "a refused order is not written");
            }
            (Err(StoreError::Conflict), _) => {}
            (other, _) => anyhow::bail!("unexpected {other:?}"),
        }
    }
    assert_eq!(won, 2);
    assert_eq!(st.window(&morning).await?.map(|w| w.booked_minutes), Some(240));
    // A change that frees and takes minutes in one window moves only the difference; a move to
    // another window frees one and takes the other.
    st.commit(&OrderChange { slot_bookings: vec![hold(&morning, false), hold(&morning, true)], ..Default::default() })
        .await?;
    st.commit(&OrderChange {
        slot_bookings: vec![hold(&morning, false), hold(&afternoon, true)],
        ..Default::default()
    })
    .await?;
    assert_eq!(st.window(&morning).await?.map(|w| w.booked_minutes), Some(120));
    assert_eq!(st.window(&afternoon).await?.map(|w| w.free_minutes()), Some(0));
    let full = OrderChange { slot_bookings: vec![hold(&afternoon, true)], ..Default::default() };
    assert!(matches!(st.commit(&full).await, Err(StoreError::SlotFull(_))));
    // Capacity set again keeps what is booked; a stale read or removing a booked window is refused.
    let read = st.windows(&region, date, date).await?;
    assert!(matches!(st.put_day(&[w(480, 240, 0)], &[w(480, 480, 0)]).await, Err(StoreError::StaleVersion)));
    assert!(matches!(st.put_day(&read, &[w(480, 480, 120)]).await, Err(StoreError::StaleVersion)), "booked afternoon");
    st.put_day(&read, &[w(480, 480, 120), w(780, 120, 120)]).await?;
    assert_eq!(st.window(&morning).await?.map(|w| w.free_minutes()), Some(360));
    Ok(())
}

async fn backorders_stay_within_their_limit_in_arrival_order<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    use oms_shared::domain::backorder::{Backorder, BackorderStatus};
    let sku = Sku::parse(&format!("BO-{}", &ulid::Ulid::new().to_string()[16..]))?;
    let now = chrono::Utc::now();
    let template = order("cust-0", "a@b.co");
    let request = |i: usize, q: u32| Backorder {
        backorder_id: ulid::Ulid::new().to_string(),
        sku: sku.clone(),
        quantity: q,
        customer: CustomerId::parse(&format!("cust-{i}")).unwrap_or_else(|_| template.customer.clone()),
        email: template.email.clone(),
        shipping_address: template.shipping_address.clone(),
        service_level: ServiceLevel::Standard,
        payment_token: "tok_visa".into(),
        channel: Channel::Web,
        status: BackorderStatus::Waiting,
        order_id: None,
        reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    // Ten customers at once for a limit of six units, two each: exactly three are written.
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (st, b) = (st.clone(), request(i, 2));
            tokio::spawn(async move { st.add_backorder(&b, 6).await })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        match t.await? {
            Ok(()) => won += 1,
            Err(StoreError::BackorderFull(x)) => assert_eq!(x, sku.to_string()),
            Err(StoreError::Conflict) => {}
            Err(e) => anyhow::bail!("unexpected {e:?}"),
        }
    }
    assert_eq!(won, 3);
    assert_eq!(st.backordered_units(&sku).await?, 6);
    let all = st.backorders(&sku).await?;
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| w[0].backorder_id < w[1].backorder_id), "in arrival order");
    // Settled once: its units stop counting; a stale settle is refused.
    let next = all[0].settled(BackorderStatus::Cancelled, None, None, now);
    st.settle_backorder(&next, 1).await?;
    assert!(matches!(st.settle_backorder(&next, 1).await, Err(StoreError::StaleVersion)));
    assert_eq!(st.backordered_units(&sku).await?, 4);
    assert_eq!(st.get_backorder(&sku, &all[0].backorder_id).await?.map(|b| b.status), Some(BackorderStatus::Cancelled));
    st.add_backorder(&request(11, 2), 6).await?;
    assert!(matches!(st.add_backorder(&request(12, 1), 6).await, Err(StoreError::BackorderFull(_))));
    Ok(())
}

async fn approvals_are_decided_once_with_the_order<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    use oms_shared::domain::adjustment::{Adjustment, Approval, ApprovalStatus};
    use oms_shared::domain::promotion::Discount;
    let o = order("cust-1", "a@b.co");
    st.commit(&OrderChange::create(o.clone())).await?;
    let now = chrono::Utc::now();
    let a = Approval {
        id: format!("APR-{}", ulid::Ulid::new()),
        order_id: o.id.clone(),
        adjustment: Adjustment {
            id: "ADJ-1".into(),
            discount: Discount::Percent { basis_points: 2000 },
            sku: None,
            reason: "late".into(),
            requested_by: "agent-1".into(),
            approved_by: None,
            base: None,
            requires: Vec::new(),
            amount: Money::new(100, Currency::USD)?,
            at: now,
        },
        status: ApprovalStatus::Pending,
        decided_by: None,
        decided_at: None,
        note: None,
        created_at: now,
        version: 1,
    };
    let mut create = OrderChange::for_order(&o.id);
    create.approval = Some(Write::Create(a.clone()));
    st.commit(&create).await?;
    assert!(st.approvals(ApprovalStatus::Pending, 100).await?.iter().any(|x| x.id == a.id));
    let mut decided = a.clone();
    decided.status = ApprovalStatus::Approved;
    decided.version = 2;
    let mut next = o.clone();
    next.status_reason = Some("adjusted".into());
    let mut approve = OrderChange::update(next.clone(), o.version, now);
    approve.approval = Some(Write::Update { value: decided.clone(), expected_version: 1 });
    st.commit(&approve).await?;
    // The same decision again, from the version read before: refused whole.
    let mut again = OrderChange::update(next, o.version + 1, now);
    again.approval = Some(Write::Update { value: decided, expected_version: 1 });
    assert!(matches!(st.commit(&again).await, Err(StoreError::StaleVersion)));
    assert_eq!(st.get_order(&o.id).await?.unwrap().version, o.version + 1);
    assert!(!st.approvals(ApprovalStatus::Pending, 100).await?.iter().any(|x| x.id == a.id));
    assert!(st.approvals(ApprovalStatus::Approved, 100).await?.iter().any(|x| x.id == a.id));
    Ok(())
}

async fn idempotency_records_and_webhook_dedupe<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    let cust = CustomerId::parse("cust-1").unwrap();
    let r = IdempotencyRecord {
        request_hash: "abc".into(),
        order_id: OrderId::generate(),
        status_code: 201,
        response: "{\"ok\":true}".into(),
        created_at: chrono::Utc::now(),
    };
    let mut first = OrderChange::create(order("cust-1", "a@b.co"));
    first.idempotency = Some((cust.clone(), "k1".into(), r.clone()));
    st.commit(&first).await?;
    let mut again = OrderChange::create(order("cust-1", "a@b.co"));
    again.idempotency = Some((cust.clone(), "k1".into(), r.clone()));
    assert!(matches!(st.commit(&again).await, Err(StoreError::IdempotencyKeyUsed)));
    assert!(st.get_order(&again.next_order().unwrap().id).await?.is_none(), "the refused order was not written");
    assert_eq!(st.get_idempotency(&cust, "k1").await?, Some(r));
    assert_eq!(st.get_idempotency(&cust, "k2").await?, None);
    assert!(st.record_webhook_event("easypost", "evt_1", 7).await?);
    assert!(!st.record_webhook_event("easypost", "evt_1", 7).await?);
    Ok(())
}

async fn timeline_of_an_order_in_time_order<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    let o = order("cust-1", "a@b.co");
    place(&st, &o).await?;
    let later =
        TimelineEvent::new(o.created_at + chrono::Duration::seconds(5), "note.added", Actor::Agent("agent-1".into()))
            .with_note("called");
    st.commit(&OrderChange::for_order(&o.id).with_event(later)).await?;
    let t = st.timeline(&o.id).await?;
    assert_eq!(t.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), vec!["order.placed", "note.added"]);
    // Entries of one change at one instant keep the order they were written in.
    let at = o.created_at + chrono::Duration::seconds(9);
    let mut change = OrderChange::for_order(&o.id);
    let kinds: Vec<String> = (0..12).map(|i| format!("step.{i:02}")).collect();
    for k in &kinds {
        change = change.with_event(TimelineEvent::new(at, k, Actor::System("test".into())));
    }
    st.commit(&change).await?;
    let t = st.timeline(&o.id).await?;
    assert_eq!(t[2..].iter().map(|e| e.kind.clone()).collect::<Vec<_>>(), kinds);
    assert_eq!(st.get_label(&o.id, &ShipmentId::generate()).await?, None);
    Ok(())
}

fn stocked_order(customer: &str, s: &Sku, l: &LocationId, q: u32) -> Order {
    let mut o = order(customer, "a@b.co");
    o.reservations = vec![Reservation {
        sku: s.clone(),
        location_id: l.clone(),
        quantity: q,
        state: ReservationState::Held,
        shard: 0,
    }];
    o
}

async fn a_refused_change_writes_nothing<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    let (s, l) = (sku("ATOM"), loc_id("WH-A"));
    st.set_on_hand(&s, &l, 5).await?;
    let o = stocked_order("cust-1", &s, &l, 2);
    let placed = OrderChange::create(o.clone()).with_stock(&s, &l, StockMove::Hold, 2).with_event(TimelineEvent::new(
        o.created_at,
        "order.placed",
        Actor::System("t".into()),
    ));
    st.commit(&placed).await?;
    // A change read at a stale version, with a stock movement, a timeline entry and an effect:
    // the version refuses it, and none of its parts is written.
    let mut next = o.clone();
    next.apply(OrderEvent::Cancel, chrono::Utc::now())?;
    let stale = OrderChange::update(next, 7, chrono::Utc::now())
        .with_stock(&s, &l, StockMove::ReleaseHold, 2)
        .with_event(TimelineEvent::new(chrono::Utc::now(), "order.cancelled", Actor::System("t".into())))
        .with_effect(Effect::notify(Notification::new("order.cancelled", &o.id, None)));
    assert_eq!(st.commit(&stale).await, Err(StoreError::StaleVersion));
    assert_eq!(
        st.get_stock(&s, &l).await?.unwrap().level,
        StockLevel { on_hand: 5, available: 3, held: 2, allocated: 0 }
    );
    assert_eq!(st.timeline(&o.id).await?.len(), 1);
    assert_eq!(st.get_order(&o.id).await?.unwrap().status, OrderStatus::Placed);
    assert!(st.pending_effects(100).await?.iter().all(|e| e.order_id != o.id));
    // A hold beyond what is available refuses the whole placement, naming the stock item.
    let big = stocked_order("cust-2", &s, &l, 4);
    let refused = OrderChange::create(big.clone()).with_stock(&s, &l, StockMove::Hold, 4);
    assert_eq!(st.commit(&refused).await, Err(StoreError::OutOfStock(vec![(s.clone(), l.clone())])));
    assert!(st.get_order(&big.id).await?.is_none());
    assert_eq!(st.get_stock(&s, &l).await?.unwrap().level.available, 3);
    Ok(())
}

async fn a_change_reports_each_refusal_by_its_kind<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    let (s, l) = (sku("KIND"), loc_id("WH-A"));
    st.set_on_hand(&s, &l, 1).await?;
    // A movement whose precondition fails (nothing allocated to ship).
    let o = order("cust-1", "a@b.co");
    st.commit(&OrderChange::create(o.clone())).await?;
    let ship = OrderChange::update(o.clone(), 1, chrono::Utc::now()).with_stock(&s, &l, StockMove::Ship, 1);
    assert_eq!(st.commit(&ship).await, Err(StoreError::StockPrecondition(vec![(s.clone(), l.clone())])));
    // A new order that exists already.
    assert_eq!(st.commit(&OrderChange::create(o.clone())).await, Err(StoreError::AlreadyExists));
    // A cart converted since it was read.
    let cust = CustomerId::parse("cust-1")?;
    let mut cart = Cart::new(CartId::generate(), cust.clone(), chrono::Utc::now());
    st.save_cart(&mut cart).await?;
    let read_at = cart.version;
    let mut converted = cart.clone();
    converted.converted_order = Some(o.id.clone());
    converted.version = read_at + 1;
    let mut first = OrderChange::create(order("cust-1", "a@b.co"));
    first.cart = Some((converted.clone(), read_at));
    st.commit(&first).await?;
    let mut second = OrderChange::create(order("cust-1", "a@b.co"));
    second.cart = Some((converted, read_at));
    assert_eq!(st.commit(&second).await, Err(StoreError::CartConverted));
    // A provider event applied twice: the second is refused by its own dedupe record.
    let ev = ProviderEvent { provider: "stripe".into(), event_id: "evt_dup".into() };
    let mut a = OrderChange::for_order(&o.id).with_event(TimelineEvent::new(
        chrono::Utc::now(),
        "dispute.opened",
        Actor::System("stripe".into()),
    ));
    a.provider_event = Some(ev.clone());
    st.commit(&a).await?;
    assert_eq!(st.commit(&a).await, Err(StoreError::DuplicateEvent));
    assert_eq!(st.timeline(&o.id).await?.len(), 1, "the duplicate wrote nothing");
    assert!(st.webhook_seen("stripe", "evt_dup").await?);
    // Too many items for one atomic write.
    let mut huge = OrderChange::for_order(&o.id);
    for i in 0..101 {
        huge.payment_refs.push(format!("pi_huge_{i}"));
    }
    assert_eq!(st.commit(&huge).await, Err(StoreError::TooLarge(101)));
    Ok(())
}

async fn effects_are_recorded_with_the_change_and_completed_once<S: Store + Clone + 'static>(
    st: S,
) -> anyhow::Result<()> {
    use oms_shared::ports::Settlement;
    let o = order("cust-fx", "fx@b.co");
    let n = Notification::new("order.placed", &o.id, None);
    let change = OrderChange::create(o.clone())
        .with_event(TimelineEvent::new(chrono::Utc::now(), "order.placed", Actor::Customer("cust-fx".into())))
        .with_effect(Effect::notify(n.clone()))
        .with_effect(Effect::VoidAuthorization { authorization_id: "pi_1".into(), idempotency_key: "void-1".into() });
    st.commit(&change).await?;
    // Recorded with the change, delivered by the stream: not pending.
    let recorded = st.effects_of_order(&o.id).await?;
    assert_eq!(recorded.len(), 1, "one outbox entry per change");
    assert_eq!(recorded[0].effects, change.effects);
    assert_eq!(recorded[0].events, vec!["order.placed".to_owned()]);
    assert_eq!(recorded[0].deferral, None);
    let entry = st.get_outbox_entry(&o.id, &recorded[0].id).await?.unwrap();
    assert_eq!(entry, recorded[0]);
    let mine =
        |v: Vec<oms_shared::domain::OutboxEntry>| v.into_iter().filter(|e| e.order_id == o.id).collect::<Vec<_>>();
    assert!(mine(st.pending_effects(100).await?).is_empty());
    // A dispatch that failed at the second effect defers it from there (twice is once).
    st.defer_effects(&o.id, &entry.id, 1).await?;
    st.defer_effects(&o.id, &entry.id, 1).await?;
    let pending = mine(st.pending_effects(100).await?);
    assert_eq!(pending.len(), 1);
    let first = pending[0].clone();
    let d = first.left();
    assert_eq!((d.effects_from, d.events, d.attempts, d.retry_at, d.parked), (1, false, 0, None, false));
    // The bus refused its events meanwhile: they join what is left, the effects stay where
    // they were, and a drain's progress on the copy read before is refused.
    st.defer_events(&o.id, &entry.id, 2).await?;
    let later = Settlement { effects_from: 2, attempts: 1, ..Default::default() };
    assert!(!st.settle_effects(&first, &later).await?, "a deferral moved it since");
    let second = mine(st.pending_effects(100).await?).remove(0);
    assert_eq!((second.left().effects_from, second.left().events), (1, true));
    // Progress recorded: the effects ran, the events failed, a retry time.
    let at = chrono::Utc::now() + chrono::Duration::minutes(5);
    let progress = Settlement { effects_from: 2, events: true, attempts: 1, retry_at: Some(at), parked: false };
    assert!(st.settle_effects(&second, &progress).await?);
    let third = mine(st.pending_effects(100).await?).remove(0);
    let d = third.left();
    assert_eq!((d.effects_from, d.events, d.attempts, d.parked), (2, true, 1, false));
    assert_eq!(d.retry_at.map(|t| t.timestamp_millis()), Some(at.timestamp_millis()));
    // A stream deferral that knows nothing ran (0), or less than the drain got, keeps the
    // progress and the attempts.
    st.defer_effects(&o.id, &entry.id, 0).await?;
    st.defer_effects(&o.id, &entry.id, 1).await?;
    let third = mine(st.pending_effects(100).await?).remove(0);
    let d = third.left();
    assert_eq!((d.effects_from, d.events, d.attempts), (2, true, 1));
    // Only a parked entry can be retried by an operator.
    let now = chrono::Utc::now();
    assert_eq!(st.redrive_effects(&o.id, &entry.id, now).await, Err(StoreError::NotFound));
    // Parked: out of the pending list, in the parked one; retried, it is pending again, due,
    // with its attempts counted afresh and its retry window from now.
    assert!(st.settle_effects(&third, &Settlement { parked: true, ..progress.clone() }).await?);
    assert!(mine(st.pending_effects(100).await?).is_empty());
    let parked = mine(st.parked_effects(100).await?);
    assert_eq!(parked.len(), 1);
    assert!(parked[0].left().parked);
    assert!(st.parked_count().await? >= 1);
    st.redrive_effects(&o.id, &entry.id, now).await?;
    assert!(mine(st.parked_effects(100).await?).is_empty());
    let fourth = mine(st.pending_effects(100).await?).remove(0);
    let d = fourth.left();
    assert_eq!((d.effects_from, d.events, d.attempts, d.retry_at, d.parked), (2, true, 0, None, false));
    assert_eq!(d.redriven_at.map(|t| t.timestamp_millis()), Some(now.timestamp_millis()));
    // Nothing left: off the pending list; the record stays, and a stale settle changes nothing.
    assert!(st.settle_effects(&fourth, &Settlement { effects_from: 2, ..Default::default() }).await?);
    assert!(!st.settle_effects(&fourth, &Settlement { effects_from: 0, ..Default::default() }).await?);
    assert!(mine(st.pending_effects(100).await?).is_empty());
    assert!(mine(st.parked_effects(100).await?).is_empty());
    assert_eq!(st.get_outbox_entry(&o.id, &entry.id).await?, Some(entry.clone()));
    // A change with events and no effect is an entry too (its events may be deferred).
    let next = OrderChange::for_order(&o.id).with_event(TimelineEvent::new(
        chrono::Utc::now() + chrono::Duration::milliseconds(5),
        "order.cancelled",
        Actor::Customer("cust-fx".into()),
    ));
    st.commit(&next).await?;
    let both = st.effects_of_order(&o.id).await?;
    assert_eq!(both.len(), 2);
    let quiet = both.iter().find(|e| e.effects.is_empty()).unwrap().clone();
    assert_eq!(quiet.events, vec!["order.cancelled".to_owned()]);
    assert!(mine(st.pending_effects(100).await?).is_empty());
    st.defer_events(&o.id, &quiet.id, 0).await?;
    let waiting = mine(st.pending_effects(100).await?);
    assert_eq!(waiting.len(), 1);
    assert_eq!((waiting[0].id.clone(), waiting[0].left().events), (quiet.id.clone(), true));
    assert!(st.settle_effects(&waiting[0], &Settlement::default()).await?);
    assert!(mine(st.pending_effects(100).await?).is_empty());
    // Deferring an entry that was never committed is refused, and creates nothing.
    let ghost = "2020-01-01T00:00:00.000Z#01JDQ0000000000000000000ZZ";
    assert_eq!(st.defer_effects(&o.id, ghost, 0).await, Err(StoreError::NotFound));
    assert_eq!(st.defer_events(&o.id, ghost, 0).await, Err(StoreError::NotFound));
    assert_eq!(st.effects_of_order(&o.id).await?.len(), 2);
    Ok(())
}

async fn returns_cases_payments_and_labels<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    use oms_shared::domain::returns::*;
    use oms_shared::domain::support::*;
    let o = order("cust-r", "r@b.co");
    let now = chrono::Utc::now();
    let rma = Rma {
        id: ReturnId::generate(),
        order_id: o.id.clone(),
        customer: o.customer.clone(),
        lines: vec![],
        resolution: Resolution::Refund,
        exchange_lines: vec![],
        status: ReturnStatus::Issued,
        location_id: loc_id("WH-A"),
        label: Some(ReturnLabel {
            carrier: "sandbox".into(),
            tracking_number: "SBXR1".into(),
            label_id: "l1".into(),
            service: None,
            document_url: None,
        }),
        exchange_order_id: None,
        credit_returned_at: None,
        receipt_keys: Vec::new(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let case = Case {
        id: CaseId::generate(),
        order_id: o.id.clone(),
        kind: CaseKind::Complaint,
        status: CaseStatus::Open,
        subject: "late".into(),
        description: None,
        resolution: None,
        external_ref: None,
        opened_by: "agent-1".into(),
        due_by: None,
        messages: vec![],
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let label = LabelDoc {
        order_id: o.id.clone(),
        shipment_id: ShipmentId::generate(),
        label_id: "lbl".into(),
        carrier: "sandbox".into(),
        tracking_number: "SBX9".into(),
        pdf_base64: "JVBERi0=".into(),
        created_at: now,
    };
    let mut change = OrderChange::create(o.clone());
    change.returns.push(Write::Create(rma.clone()));
    change.return_labels.push((rma.id.clone(), ReturnLabelDoc { pdf_base64: "JVBERi0=".into() }));
    change.cases.push(Write::Create(case.clone()));
    change.labels.push(label.clone());
    change.payment_refs.push("pi_123".into());
    st.commit(&change).await?;
    assert_eq!(st.get_rma(&rma.id).await?, Some(rma.clone()));
    assert_eq!(st.returns_of_order(&o.id).await?, vec![rma.clone()]);
    assert!(matches!(st.tracked("sandbox", "SBXR1").await?, Some(Tracked::Return(r)) if r.id == rma.id));
    assert!(st.get_return_label(&o.id, &rma.id).await?.is_some());
    assert_eq!(st.get_case(&case.id).await?, Some(case.clone()));
    assert_eq!(st.cases_of_order(&o.id).await?, vec![case.clone()]);
    assert!(st.cases_by_status(CaseStatus::Open).await?.iter().any(|c| c.id == case.id));
    // The order's file: the view with its returns and cases (the return label, the shipping
    // label and the payment reference are not among them).
    let file = st.get_order_file(&o.id).await?.expect("the order's file");
    assert_eq!((file.returns, file.cases), (vec![rma.clone()], vec![case.clone()]));
    let view = st.get_order_view(&o.id).await?.expect("the order's view");
    assert_eq!((file.view.order.id, file.view.shipments.len()), (view.order.id, view.shipments.len()));
    assert_eq!(file.view.timeline.len(), view.timeline.len());
    assert!(st.get_order_file(&OrderId::generate()).await?.is_none());
    assert_eq!(st.get_label(&o.id, &label.shipment_id).await?, Some(label));
    assert_eq!(st.order_for_payment("pi_123").await?, Some(o.id.clone()));
    // Versioned updates of returns and cases.
    let mut r2 = rma.clone();
    r2.status = ReturnStatus::InTransit;
    r2.version = 2;
    let mut up = OrderChange::for_order(&o.id);
    up.returns.push(Write::Update { value: r2.clone(), expected_version: 1 });
    st.commit(&up).await?;
    assert_eq!(st.commit(&up).await, Err(StoreError::StaleVersion));
    assert_eq!(st.get_rma(&rma.id).await?.unwrap().status, ReturnStatus::InTransit);
    Ok(())
}

async fn failed_attempts_count_within_their_window<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    let subject = format!("pickup#{}", ulid::Ulid::new());
    assert_eq!(st.failures(&subject).await?, 0);
    // Concurrent failures each count.
    let counts = futures::future::join_all((0..6).map(|_| st.record_failure(&subject, 600))).await;
    let mut counts: Vec<u32> = counts.into_iter().collect::<Result<_, _>>()?;
    counts.sort_unstable();
    assert_eq!(counts, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(st.failures(&subject).await?, 6);
    // A window that ended counts nothing, and the next failure starts a new one.
    let gone = format!("pickup#{}", ulid::Ulid::new());
    st.record_failure(&gone, -1).await?;
    assert_eq!(st.failures(&gone).await?, 0);
    assert_eq!(st.record_failure(&gone, 600).await?, 1);
    Ok(())
}

async fn mail_claims_and_preferences<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    assert_eq!(st.claim_mail("m1", 60).await?, MailClaim::Claimed);
    assert_eq!(st.claim_mail("m1", 60).await?, MailClaim::InFlight);
    st.mark_mail_sent("m1").await?;
    assert_eq!(st.claim_mail("m1", 60).await?, MailClaim::AlreadySent);
    // A claim whose lease ran out (a crash between send and record) can be taken over.
    assert_eq!(st.claim_mail("m2", -5).await?, MailClaim::Claimed);
    assert_eq!(st.claim_mail("m2", 60).await?, MailClaim::Claimed);
    let c = CustomerId::parse("cust-p")?;
    assert!(st.get_preferences(&c).await?.marketing_emails);
    st.put_preferences(&c, &oms_shared::domain::support::Preferences { marketing_emails: false, ..Default::default() })
        .await?;
    assert!(!st.get_preferences(&c).await?.marketing_emails);
    Ok(())
}

async fn erasure_scrubs_what_quotes_the_buyer_and_deletes_documents<S: Store + Clone + 'static>(
    st: S,
) -> anyhow::Result<()> {
    use oms_shared::domain::support::*;
    let o = order("cust-e", "erin@example.com");
    let now = chrono::Utc::now();
    let case = Case {
        id: CaseId::generate(),
        order_id: o.id.clone(),
        kind: CaseKind::Complaint,
        status: CaseStatus::Open,
        subject: "erin@example.com says late".into(),
        description: Some("call back".into()),
        resolution: None,
        external_ref: None,
        opened_by: "agent-1".into(),
        due_by: None,
        messages: vec![],
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let label = LabelDoc {
        order_id: o.id.clone(),
        shipment_id: ShipmentId::generate(),
        label_id: "lbl".into(),
        carrier: "sandbox".into(),
        tracking_number: "SBXE1".into(),
        pdf_base64: "JVBERi0=".into(),
        created_at: now,
    };
    let record = IdempotencyRecord {
        request_hash: "h".into(),
        order_id: o.id.clone(),
        status_code: 201,
        response: "{\"email\":\"erin@example.com\"}".into(),
        created_at: now,
    };
    let mut change = OrderChange::create(o.clone()).with_event(
        TimelineEvent::new(now, "note.added", Actor::Agent("agent-1".into())).with_note("erin@example.com rang"),
    );
    change.cases.push(Write::Create(case.clone()));
    change.labels.push(label.clone());
    change.idempotency = Some((o.customer.clone(), "k-e".into(), record));
    st.commit(&change).await?;

    let needles = vec!["erin@example.com".to_owned()];
    let changed = st.scrub_order_records(&o.id, &needles).await?;
    assert_eq!(changed, 3, "the note, the case and the deleted label");
    assert_eq!(st.scrub_order_records(&o.id, &needles).await?, 0, "a second run changes nothing");
    assert!(st.rewrite_idempotency(&o.customer, "k-e", "{\"email\":\"[erased]\"}").await?);
    assert!(!st.rewrite_idempotency(&o.customer, "k-none", "{}").await?);
    let view = st.get_order_view(&o.id).await?.unwrap();
    assert_eq!(view.timeline[0].note.as_deref(), Some("[erased] rang"));
    assert_eq!(st.get_case(&case.id).await?.unwrap().subject, "[erased] says late");
    assert_eq!(st.get_label(&o.id, &label.shipment_id).await?, None);
    let stored = st.get_idempotency(&o.customer, "k-e").await?.unwrap();
    assert_eq!(stored.response, "{\"email\":\"[erased]\"}");
    assert_eq!(view.order.email.as_str(), "erin@example.com", "the order itself changes through commit only");
    Ok(())
}

/// A change interrupted between its parts (the process died) is finished by the sweep:
/// units taken ahead of a commit that never happened come back, freed units go back.
#[tokio::test]
async fn dynamo_interrupted_parts_are_finished_by_the_sweep() -> anyhow::Result<()> {
    use oms_shared::adapters::dynamo::parts::{PartKind, StockPart, part_item};
    let st = common::store().await?;
    let (a, b, l) = (sku("CUT-A"), sku("CUT-B"), loc_id("WH-A"));
    st.set_on_hand(&a, &l, 5).await?;
    st.set_on_hand(&b, &l, 5).await?;
    // A part taken ahead (3 of A held) whose commit never came, and a part to give back
    // (2 of B held, to release) whose commit did.
    st.apply_stock_move(&mv(&a, &l, StockMove::Hold, 3)).await?;
    st.apply_stock_move(&mv(&b, &l, StockMove::Hold, 2)).await?;
    let long_ago = chrono::Utc::now() - chrono::Duration::minutes(10);
    let part = |kind, d: StockMovement| StockPart {
        order_id: OrderId::generate(),
        kind,
        deltas: vec![StockDelta::of(&d)],
        applied: 0,
        created_at: long_ago,
        version: 1,
    };
    let ahead = part(PartKind::TakenAhead, mv(&a, &l, StockMove::Hold, 3));
    let after = part(PartKind::GiveAfter, mv(&b, &l, StockMove::ReleaseHold, 2));
    for (i, p) in [&ahead, &after].into_iter().enumerate() {
        let key = oms_shared::adapters::dynamo::keys::stock_part(&p.order_id, "cut", i);
        st.client().put_item().table_name(st.table()).set_item(Some(part_item(&key, p).to_attrs()?)).send().await?;
    }
    // Not yet old enough for a sweep that allows commits 15 minutes.
    assert_eq!(st.finish_interrupted(chrono::Utc::now() - chrono::Duration::minutes(15)).await?, 0);
    assert_eq!(st.finish_interrupted(chrono::Utc::now() - chrono::Duration::minutes(5)).await?, 2);
    assert_eq!(
        st.get_stock(&a, &l).await?.unwrap().level,
        StockLevel { on_hand: 5, available: 5, held: 0, allocated: 0 }
    );
    assert_eq!(
        st.get_stock(&b, &l).await?.unwrap().level,
        StockLevel { on_hand: 5, available: 5, held: 0, allocated: 0 }
    );
    assert_eq!(st.finish_interrupted(chrono::Utc::now()).await?, 0, "each part is finished once");
    Ok(())
}

/// A status change writes the order's small state item only; an edit rewrites its body too.
#[tokio::test]
async fn dynamo_status_changes_leave_the_order_body_alone() -> anyhow::Result<()> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let st = common::store().await?;
    let o = order("cust-1", "a@b.co");
    place(&st, &o).await?;
    let body_key = oms_shared::adapters::dynamo::keys::order_body(&o.id);
    let probe = |st: oms_shared::adapters::dynamo::DynamoStore| {
        let body_key = body_key.clone();
        async move {
            let got = st
                .client()
                .get_item()
                .table_name(st.table())
                .key("PK", AttributeValue::S(body_key.pk.clone()))
                .key("SK", AttributeValue::S(body_key.sk.clone()))
                .consistent_read(true)
                .send()
                .await?;
            anyhow::Ok(got.item.is_some_and(|i| i.contains_key("probe")))
        }
    };
    st.client()
        .update_item()
        .table_name(st.table())
        .key("PK", AttributeValue::S(body_key.pk.clone()))
        .key("SK", AttributeValue::S(body_key.sk.clone()))
        .update_expression("SET probe = :p")
        .expression_attribute_values(":p", AttributeValue::N("1".into()))
        .send()
        .await?;
    let loaded = st.get_order(&o.id).await?.unwrap();
    let mut next = loaded.clone();
    next.status = OrderStatus::Validated;
    st.commit(&OrderChange::update(next, loaded.version, chrono::Utc::now())).await?;
    assert!(probe(st.clone()).await?, "a status change left the body item as it was");
    let loaded = st.get_order(&o.id).await?.unwrap();
    assert_eq!(loaded.status, OrderStatus::Validated);
    let mut edited = loaded.clone();
    edited.placement_key = Some("edited".into());
    st.commit(&OrderChange::update(edited, loaded.version, chrono::Utc::now())).await?;
    assert!(!probe(st.clone()).await?, "an edit rewrote the body");
    assert_eq!(st.get_order(&o.id).await?.unwrap().placement_key.as_deref(), Some("edited"));
    Ok(())
}

/// The state item names the body it was written with: a body from another commit (what a
/// query can catch between the two items of one transaction) is never paired with it.
#[tokio::test]
async fn dynamo_a_state_is_never_read_with_another_commits_body() -> anyhow::Result<()> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let st = common::store().await?;
    let o = order("cust-1", "a@b.co");
    place(&st, &o).await?;
    let body_key = oms_shared::adapters::dynamo::keys::order_body(&o.id);
    st.client()
        .update_item()
        .table_name(st.table())
        .key("PK", AttributeValue::S(body_key.pk.clone()))
        .key("SK", AttributeValue::S(body_key.sk.clone()))
        .update_expression("SET placementKey = :k")
        .expression_attribute_values(":k", AttributeValue::S("from-another-commit".into()))
        .send()
        .await?;
    assert!(matches!(st.get_order(&o.id).await, Err(StoreError::Conflict)));
    Ok(())
}

async fn customer_profiles_are_versioned_and_found_by_their_keys<S: Store + Clone + 'static>(
    st: S,
) -> anyhow::Result<()> {
    use oms_shared::domain::confirmation::ConfirmationRule;
    use oms_shared::domain::customer::{CustomerProfile, Query, SearchKey};
    let id = CustomerId::parse(&format!("cust-{}", ulid::Ulid::new()))?;
    let unique = ulid::Ulid::new().to_string().to_lowercase();
    let mut o = order(id.as_str(), &format!("ann.{unique}@example.com"));
    // Letters only: a name word (digits would make the text an id).
    let word: String =
        unique.chars().map(|c| if c.is_ascii_digit() { (b'a' + (c as u8 - b'0')) as char } else { c }).collect();
    o.shipping_address.name = format!("Annabel Q{word}");
    o.shipping_address.phone = Some("+1 (212) 555-0199".into());
    let now = chrono::Utc::now();
    let mut p = CustomerProfile::new(id.clone(), now);
    assert!(p.merge_order(&o, now));
    assert!(!p.merge_order(&o, now), "merging the same order again changes nothing");
    p.version = 1;
    st.save_customer(&p, None).await?;
    assert!(matches!(st.save_customer(&p, None).await, Err(StoreError::StaleVersion)), "a second create is refused");
    assert_eq!(st.get_customer(&id).await?.as_ref(), Some(&p));
    let find = |q: &str| {
        let st = st.clone();
        let q = Query::parse(q).unwrap();
        async move { st.find_customers(&q.lookup().unwrap(), 10).await }
    };
    assert_eq!(find(&format!("ANN.{unique}@example.com")).await?, vec![id.clone()]);
    assert!(find("212 555 0199").await?.contains(&id), "without the country code");
    let prefix: String = format!("q{word}").chars().take(8).collect();
    assert_eq!(find(&prefix).await?, vec![id.clone()], "a name word's prefix");
    assert!(find(&format!("zz{word}")).await?.is_empty());
    // An update at the version read; a writer that read before it is refused.
    let mut next = p.clone();
    let mut o2 = o.clone();
    o2.email = Email::parse(&format!("annabel.{unique}@example.com"))?;
    assert!(next.merge_order(&o2, now));
    next.version = 2;
    st.save_customer(&next, Some(&p)).await?;
    assert!(matches!(st.save_customer(&next, Some(&p)).await, Err(StoreError::StaleVersion)));
    assert_eq!(
        st.find_customers(&SearchKey::Email(format!("annabel.{unique}@example.com")), 5).await?,
        vec![id.clone()]
    );
    st.delete_customer(&id).await?;
    assert_eq!(st.get_customer(&id).await?, None);
    assert!(find(&format!("ann.{unique}@example.com")).await?.is_empty(), "erasure removes the lookups");
    st.delete_customer(&id).await?;
    // Rules: the defaults (version 0, confirmation calls off) until saved; each save is a new
    // version on condition nobody took it; every version stays readable.
    use oms_shared::domain::rules::{RuleSet, Rules};
    let v0 = st.current_rules().await?;
    assert_eq!(v0.version, 0);
    assert!(!v0.set.confirmation_calls.enabled);
    let mut set = RuleSet {
        confirmation_calls: ConfirmationRule { enabled: true, min_total: Some(usd(40_000)), ..Default::default() },
        ..Default::default()
    };
    let v1 = v0.next(set.clone(), "sup-1", chrono::Utc::now());
    st.put_rules(&v1).await?;
    assert!(matches!(
        st.put_rules(&v0.next(RuleSet::default(), "sup-2", chrono::Utc::now())).await,
        Err(StoreError::StaleVersion)
    ));
    set.fraud.hold_score = 40;
    let v2 = v1.next(set, "sup-2", chrono::Utc::now());
    st.put_rules(&v2).await?;
    assert_eq!(st.current_rules().await?, v2);
    assert_eq!(st.rules_version(1).await?, Some(v1.clone()));
    assert_eq!(st.rules_version(0).await?, Some(Rules::default()));
    assert_eq!(st.rules_version(9).await?, None);
    assert_eq!(st.rules_history(10).await?.iter().map(|r| r.version).collect::<Vec<_>>(), vec![2, 1]);
    // A SKU's cover mark: set on condition its crossings are still the ones read.
    use oms_shared::domain::forecast::CoverMark;
    let lamp = sku(&format!("LAMP-{unique}"));
    assert_eq!(st.cover_mark(&lamp).await?, None);
    let low = CoverMark { crossings: 1, low_since: Some(chrono::Utc::now()) };
    assert!(st.put_cover_mark(&lamp, 0, &low).await?);
    assert!(!st.put_cover_mark(&lamp, 0, &low).await?, "a second run's first crossing loses");
    assert!(st.put_cover_mark(&lamp, 1, &CoverMark { crossings: 1, low_since: None }).await?);
    assert_eq!(st.cover_mark(&lamp).await?.map(|m| m.crossings), Some(1));
    // Many SKUs' marks at once (more than one batch of 100): those without one are left out.
    let mut skus: Vec<_> = (0..130).map(|i| sku(&format!("MARK-{i}-{unique}"))).collect();
    for (i, s) in skus.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        assert!(st.put_cover_mark(s, 0, &CoverMark { crossings: i as u64 + 1, low_since: None }).await?);
    }
    skus.push(lamp.clone());
    let marks = st.cover_marks(&skus).await?;
    assert_eq!(marks.len(), 45, "44 of the 130, and the lamp's");
    assert_eq!(marks.get(&skus[3]).map(|m| m.crossings), Some(4));
    assert_eq!(marks.get(&lamp), st.cover_mark(&lamp).await?.as_ref());
    assert!(!marks.contains_key(&skus[1]));
    Ok(())
}

async fn webhook_subscriptions_are_versioned_and_deliveries_logged_once<S: Store + Clone + 'static>(
    st: S,
) -> anyhow::Result<()> {
    use oms_shared::domain::webhooks::*;
    let now = chrono::Utc::now();
    let id = ulid::Ulid::new().to_string();
    let email = Email::parse("ops@example.com")?;
    let sub = Subscription::new(
        id.clone(),
        "https://erp.example/hooks".into(),
        vec!["*".into()],
        email,
        new_secret(&[1; 24]),
        now,
    );
    st.put_subscription(&Write::Create(sub.clone())).await?;
    assert_eq!(st.put_subscription(&Write::Create(sub.clone())).await, Err(StoreError::AlreadyExists));
    let next = Subscription { consecutive_failures: 1, version: 2, ..sub.clone() };
    st.put_subscription(&Write::Update { value: next.clone(), expected_version: 1 }).await?;
    assert_eq!(
        st.put_subscription(&Write::Update { value: next.clone(), expected_version: 1 }).await,
        Err(StoreError::StaleVersion),
        "a writer that read version 1 is refused"
    );
    assert_eq!(st.get_subscription(&id).await?, Some(next.clone()));
    assert!(st.list_subscriptions().await?.iter().any(|s| s.id == id));

    let delivery = |event: &str, at: chrono::DateTime<chrono::Utc>| Delivery {
        subscription_id: id.clone(),
        event_id: event.to_owned(),
        event_type: "order.placed".into(),
        occurred_at: at,
        state: DeliveryState::Pending,
        attempts: vec![],
        next_attempt_at: None,
        order_id: OrderId::parse("01JD0000000000000000000001").unwrap(),
        sequence: 1,
        created_at: now,
    };
    let t0 = now - chrono::Duration::minutes(10);
    for (i, e) in ["e1", "e2", "e3"].iter().enumerate() {
        st.create_delivery(&delivery(e, t0 + chrono::Duration::minutes(i as i64))).await?;
    }
    assert_eq!(
        st.create_delivery(&delivery("e2", t0 + chrono::Duration::minutes(1))).await,
        Err(StoreError::AlreadyExists)
    );
    let mut done = delivery("e2", t0 + chrono::Duration::minutes(1));
    done.state = DeliveryState::Succeeded;
    done.attempts.push(Attempt { at: now, status: Some(204), error: None, duration_ms: 3 });
    st.save_delivery(&done).await?;
    assert_eq!(st.get_delivery(&id, done.occurred_at, "e2").await?, Some(done.clone()));
    let since = st.deliveries(&id, t0 + chrono::Duration::seconds(30), 10).await?;
    assert_eq!(
        since.iter().map(|d| d.event_id.as_str()).collect::<Vec<_>>(),
        ["e2", "e3"],
        "oldest first, from the time"
    );
    assert_eq!(st.deliveries(&id, t0, 1).await?.len(), 1, "at most the limit");
    st.request_replay(&id, t0).await?;
    st.delete_subscription(&id).await?;
    assert_eq!(st.get_subscription(&id).await?, None);
    Ok(())
}

async fn analytics_facts_commit_with_their_rows_once<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    use oms_shared::domain::analytics::*;
    use oms_shared::ports::{FactCommit, MAX_FACT_COMMIT_ITEMS};
    let order = OrderId::parse(&ulid::Ulid::new().to_string())?;
    let customer = CustomerId::parse(&format!("an-{}", ulid::Ulid::new()))?;
    let day = chrono::NaiveDate::from_ymd_opt(2031, 3, 4).unwrap();
    let fact = OrderFact {
        order_id: order.clone(),
        version: 1,
        customer_id: customer.clone(),
        day,
        placed_at: day.and_hms_opt(10, 0, 0).unwrap().and_utc(),
        shard: 2,
        channel: Channel::Web,
        location_id: "WH-A".into(),
        currency: "USD".into(),
        cancelled: false,
        net: 2500,
        units: 3,
        skus: [("TEE".to_owned(), 3)].into(),
        returned: false,
        accurate: true,
        rts_minutes: Some(3),
        delivered_minutes: None,
        on_time: None,
        carrier: None,
    };
    let rows = delta(None, &fact);
    let one = |previous, next| FactCommit { previous, next };
    st.commit_facts(&[one(None, &fact)], &rows).await?;
    assert_eq!(
        st.commit_facts(&[one(None, &fact)], &rows).await,
        Err(StoreError::StaleVersion),
        "a second writer that saw no fact is refused, and adds nothing"
    );
    assert_eq!(st.order_fact(&order).await?, Some(fact.clone()));
    let read = st.rows(day, day).await?;
    assert_eq!(read, rows, "the rows read back are what was added");
    // The order is cancelled and a second order is placed: both facts commit with the rows
    // they add together; a batch with one stale fact writes nothing at all.
    let cancelled = OrderFact {
        version: 2,
        cancelled: true,
        accurate: false,
        net: 0,
        units: 0,
        skus: Default::default(),
        ..fact.clone()
    };
    let other = OrderFact { order_id: OrderId::parse(&ulid::Ulid::new().to_string())?, ..fact.clone() };
    let both = merge_rows([&delta(Some(&fact), &cancelled), &delta(None, &other)]);
    assert_eq!(
        st.commit_facts(&[one(None, &other), one(Some(&cancelled), &cancelled)], &both).await,
        Err(StoreError::StaleVersion),
        "the recorded fact is version 1"
    );
    assert_eq!(st.order_fact(&other.order_id).await?, None, "nothing of a refused batch is written");
    assert_eq!(st.rows(day, day).await?, rows);
    st.commit_facts(&[one(None, &other), one(Some(&fact), &cancelled)], &both).await?;
    assert_eq!(st.order_fact(&order).await?, Some(cancelled.clone()));
    assert_eq!(st.order_fact(&other.order_id).await?, Some(other.clone()));
    let now = st.rows(day, day).await?;
    let dims = now.iter().find(|(k, _)| k.row.starts_with("C#")).map(|(_, c)| c.clone()).unwrap_or_default();
    assert_eq!(
        (dims.get("orders"), dims.get("cancelled"), dims.get("net")),
        (Some(&2), Some(&1), Some(&2500)),
        "{now:?}"
    );
    let too_many: Vec<_> = (0..MAX_FACT_COMMIT_ITEMS).map(|_| one(None, &other)).collect();
    assert!(matches!(st.commit_facts(&too_many, &rows).await, Err(StoreError::TooLarge(_))));
    assert!(st.rows(day.succ_opt().unwrap(), day.succ_opt().unwrap()).await?.is_empty());
    assert!(st.clear_rows(day, day).await? >= 1);
    assert!(st.rows(day, day).await?.is_empty());
    // One reset lease at a time; an expired one can be taken over; only its owner gives it back.
    let later = chrono::Utc::now().timestamp() + 600;
    st.claim_rebuild("a", later).await?;
    assert_eq!(st.claim_rebuild("b", later).await, Err(StoreError::AlreadyExists));
    st.release_rebuild("b").await?;
    assert_eq!(st.claim_rebuild("b", later).await, Err(StoreError::AlreadyExists), "not b's to give back");
    st.release_rebuild("a").await?;
    st.claim_rebuild("b", chrono::Utc::now().timestamp() - 1).await?;
    st.claim_rebuild("c", later).await.expect("an expired lease is taken over");
    st.release_rebuild("c").await?;
    Ok(())
}

/// Invoices for twelve captured orders, issued concurrently, each twice at once (a redelivered
/// effect) and once more after (a retry whose answer was lost): numbers 1 to 12 of the series,
/// each once, each order exactly one invoice; a change that read a stale series is refused.
async fn documents_are_numbered_without_gaps_under_concurrent_and_repeated_issues<S: Store + Clone + 'static>(
    st: S,
) -> anyhow::Result<()> {
    use oms_shared::app::invoices::Invoicing;
    use oms_shared::domain::invoice::{DocumentKind, Party};
    use std::sync::Arc;
    let inv = Invoicing {
        store: Arc::new(st.clone()),
        clock: Arc::new(SystemClock),
        seller: Party { name: "Seller".into(), lines: vec!["1 Road".into()], tax_id: None },
    };
    let mut ids = Vec::new();
    for i in 0..12 {
        let mut o = order(&format!("cust-inv-{i}"), "inv@b.co");
        o.payment.capture(usd(1000 + i), &format!("capture-{i}"), chrono::Utc::now())?;
        st.commit(&OrderChange::create(o.clone())).await?;
        ids.push(o.id);
    }
    let tasks: Vec<_> = ids
        .iter()
        .enumerate()
        .flat_map(|(i, id)| {
            (0..2).map({
                let inv = inv.clone();
                move |_| {
                    let (inv, id) = (inv.clone(), id.clone());
                    tokio::spawn(async move { inv.issue(&id, DocumentKind::Invoice, &format!("capture-{i}")).await })
                }
            })
        })
        .collect();
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await??.expect("an invoice"));
    }
    for (i, id) in ids.iter().enumerate() {
        let pair = &numbers[2 * i..2 * i + 2];
        assert_eq!(pair[0], pair[1], "one invoice per capture, however often issued");
        let again = inv.issue(id, DocumentKind::Invoice, &format!("capture-{i}")).await?;
        assert_eq!(again.as_deref(), Some(pair[0].as_str()), "a retry answers the same number");
        let docs = st.documents_of_order(id).await?;
        assert_eq!(docs.len(), 1, "{docs:?}");
        assert_eq!(st.get_order(id).await?.unwrap().version, 1, "the order is not written");
        let doc = st.get_invoice(&pair[0]).await?.expect("stored");
        assert_eq!((&doc.order_id, doc.total), (id, usd(1000 + i as i64)));
    }
    let mut unique: Vec<String> = numbers.clone();
    unique.sort();
    unique.dedup();
    let series = unique[0].rsplit_once('-').map(|(s, _)| s.to_owned()).unwrap_or_default();
    let expected: Vec<String> = (1..=12).map(|n| format!("{series}-{n:06}")).collect();
    assert_eq!(unique, expected, "gapless and never reused");
    assert_eq!(st.last_number(&series).await?, 12);
    // Nothing to document (no such ledger entry): nothing issued, no number taken.
    assert_eq!(inv.issue(&ids[0], DocumentKind::CreditNote, "refund-none").await?, None);
    assert_eq!(st.last_number(&series).await?, 12);
    // A change built on a stale read of the series is refused and writes nothing.
    let mut doc = st.get_invoice(&expected[0]).await?.unwrap();
    doc.order_id = ids[0].clone();
    doc.sequence = 12;
    doc.number = format!("{series}-000012");
    doc.reference = "capture-other".into();
    let mut stale = OrderChange::for_order(&ids[0]);
    stale.documents.push(oms_shared::domain::invoice::DocumentIssue { invoice: doc.clone(), previous: 11 });
    assert!(matches!(st.commit(&stale).await, Err(StoreError::StaleVersion)), "stale series");
    // A second document for a ledger entry that has one is refused, even with a fresh series.
    doc.sequence = 13;
    doc.number = format!("{series}-000013");
    doc.reference = "capture-0".into();
    let mut twice = OrderChange::for_order(&ids[0]);
    twice.documents.push(oms_shared::domain::invoice::DocumentIssue { invoice: doc, previous: 12 });
    assert!(st.commit(&twice).await.is_err(), "one document per ledger entry");
    assert_eq!(st.last_number(&series).await?, 12);
    assert_eq!(st.documents_of_order(&ids[0]).await?.len(), 1);
    Ok(())
}

/// A survey is in the due index until sent, out of it once sent, in its month once answered;
/// a write on a stale read is refused.
async fn surveys_are_found_when_due_and_answered_once<S: Store + Clone + 'static>(st: S) -> anyhow::Result<()> {
    use oms_shared::domain::feedback::Feedback;
    let o = order("cust-fbk", "fbk@b.co");
    st.commit(&OrderChange::create(o.clone())).await?;
    let t0: chrono::DateTime<chrono::Utc> = "2026-12-04T10:00:00Z".parse()?;
    let f = Feedback::due(&o.id, &o.customer, t0);
    let mut c = OrderChange::for_order(&o.id);
    c.feedback = Some(Write::Create(f.clone()));
    st.commit(&c).await?;
    assert!(st.due_feedback(t0).await?.iter().all(|x| x.order_id != o.id), "not before it is due");
    let due = st.due_feedback(t0 + chrono::Duration::seconds(1)).await?;
    assert!(due.iter().any(|x| x.order_id == o.id), "{due:?}");
    // Made due twice (a repeated delivery write) is refused.
    assert!(st.commit(&c).await.is_err());
    let sent = Feedback { requested_at: Some(t0), version: 2, ..f.clone() };
    let mut c = OrderChange::for_order(&o.id);
    c.feedback = Some(Write::Update { value: sent.clone(), expected_version: 1 });
    st.commit(&c).await?;
    assert!(st.due_feedback(t0 + chrono::Duration::days(1)).await?.iter().all(|x| x.order_id != o.id), "sent");
    let at = t0 + chrono::Duration::hours(5);
    let answered = Feedback { answered_at: Some(at), score: Some(4), comment: Some("ok".into()), version: 3, ..sent };
    let mut c = OrderChange::for_order(&o.id);
    c.feedback = Some(Write::Update { value: answered.clone(), expected_version: 2 });
    st.commit(&c).await?;
    assert!(matches!(st.commit(&c).await, Err(StoreError::StaleVersion)), "answered once");
    let month = st.answered_feedback(t0, t0 + chrono::Duration::days(1)).await?;
    assert_eq!(month.iter().filter(|x| x.order_id == o.id).count(), 1);
    assert!(
        st.answered_feedback(at + chrono::Duration::seconds(1), at + chrono::Duration::days(1))
            .await?
            .iter()
            .all(|x| x.order_id != o.id)
    );
    assert_eq!(st.get_feedback(&o.id).await?, Some(answered));
    Ok(())
}
