//! Repository tests on DynamoDB Local: every access pattern in docs/data-model.md.

mod common;
use common::*;
use oms_shared::adapters::dynamo::store::*;
use oms_shared::adapters::dynamo::{DynamoStore, StoreError};
use oms_shared::domain::*;

#[tokio::test]
async fn products_round_trip_and_batch_get() -> anyhow::Result<()> {
    let st = store().await?;
    for i in 0..120 {
        st.put_product(&product(&format!("P-{i}"), 100 + i)).await?;
    }
    assert_eq!(st.get_product(&sku("P-7")).await?.unwrap().price, usd(107));
    assert_eq!(st.get_product(&sku("NOPE")).await?, None);
    let skus: Vec<Sku> = (0..120).map(|i| sku(&format!("P-{i}"))).chain([sku("NOPE")]).collect();
    let got = st.get_products(&skus).await?;
    assert_eq!(got.len(), 120);
    Ok(())
}

#[tokio::test]
async fn locations_are_listed() -> anyhow::Result<()> {
    let st = store().await?;
    st.put_location(&warehouse("WH-A")).await?;
    st.put_location(&warehouse("WH-B")).await?;
    assert_eq!(st.get_location(&loc_id("WH-A")).await?.unwrap().id, loc_id("WH-A"));
    let all = st.list_locations().await?;
    assert_eq!(all.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(), vec!["WH-A", "WH-B"]);
    Ok(())
}

#[tokio::test]
async fn fifty_concurrent_holds_on_ten_units_exactly_ten_succeed() -> anyhow::Result<()> {
    let st = store().await?;
    let (s, l) = (sku("HOT-1"), loc_id("WH-A"));
    st.set_on_hand(&s, &l, 10).await?;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (st, s, l) = (st.clone(), s.clone(), l.clone());
            tokio::spawn(async move { st.apply_stock_move(&s, &l, StockMove::Hold, 1).await })
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

#[tokio::test]
async fn stock_moves_keep_conservation_and_refuse_impossible_moves() -> anyhow::Result<()> {
    let st = store().await?;
    let (s, l) = (sku("MUG"), loc_id("WH-A"));
    st.set_on_hand(&s, &l, 5).await?;
    st.apply_stock_move(&s, &l, StockMove::Hold, 3).await?;
    st.apply_stock_move(&s, &l, StockMove::Allocate, 2).await?;
    st.apply_stock_move(&s, &l, StockMove::Ship, 1).await?;
    st.apply_stock_move(&s, &l, StockMove::ReleaseHold, 1).await?;
    st.apply_stock_move(&s, &l, StockMove::ReleaseAllocation, 1).await?;
    st.apply_stock_move(&s, &l, StockMove::Restock, 2).await?;
    let level = st.get_stock(&s, &l).await?.unwrap().level;
    assert_eq!(level, StockLevel { on_hand: 6, available: 6, held: 0, allocated: 0 });
    assert!(level.is_conserved());
    assert!(matches!(st.apply_stock_move(&s, &l, StockMove::Ship, 1).await, Err(StoreError::StockPrecondition(_))));
    assert!(matches!(
        st.apply_stock_move(&s, &l, StockMove::ReleaseHold, 1).await,
        Err(StoreError::StockPrecondition(_))
    ));
    assert!(matches!(st.apply_stock_move(&sku("NONE"), &l, StockMove::Hold, 1).await, Err(StoreError::OutOfStock(_))));
    // A count below what is committed is refused.
    st.apply_stock_move(&s, &l, StockMove::Hold, 4).await?;
    assert!(matches!(st.set_on_hand(&s, &l, 3).await, Err(StoreError::StockPrecondition(_))));
    assert_eq!(
        st.set_on_hand(&s, &l, 10).await?.level,
        StockLevel { on_hand: 10, available: 6, held: 4, allocated: 0 }
    );
    Ok(())
}

#[tokio::test]
async fn stock_of_a_sku_across_locations() -> anyhow::Result<()> {
    let st = store().await?;
    st.set_on_hand(&sku("A"), &loc_id("WH-1"), 3).await?;
    st.set_on_hand(&sku("A"), &loc_id("WH-2"), 4).await?;
    st.set_on_hand(&sku("B"), &loc_id("WH-1"), 9).await?;
    let recs = st.stock_for_sku(&sku("A")).await?;
    assert_eq!(
        recs.iter().map(|r| (r.location_id.as_str(), r.level.available)).collect::<Vec<_>>(),
        vec![("WH-1", 3), ("WH-2", 4)]
    );
    Ok(())
}

#[tokio::test]
async fn carts_by_id_by_customer_and_idle() -> anyhow::Result<()> {
    let st = store().await?;
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

async fn place(st: &DynamoStore, o: &Order) -> Result<(), StoreError> {
    let ev =
        TimelineEvent::new(o.created_at, "order.placed", Actor::Customer(o.customer.to_string())).with_status(o.status);
    st.transact(vec![st.put_new(&order_item(o))?, st.put_new(&timeline_item(&o.id, &ev))?]).await
}

#[tokio::test]
async fn order_collection_customer_status_and_email_patterns() -> anyhow::Result<()> {
    let st = store().await?;
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
    let p1 = st.orders_of_customer(&cust, 2, None).await?;
    assert_eq!(p1.items.iter().map(|o| o.id.clone()).collect::<Vec<_>>(), vec![ids[4].clone(), ids[3].clone()]);
    let p2 = st.orders_of_customer(&cust, 2, p1.next_cursor.as_deref()).await?;
    assert_eq!(p2.items.iter().map(|o| o.id.clone()).collect::<Vec<_>>(), vec![ids[2].clone(), ids[1].clone()]);
    let p3 = st.orders_of_customer(&cust, 2, p2.next_cursor.as_deref()).await?;
    assert_eq!(p3.items.len(), 1);
    assert!(p3.next_cursor.is_none());
    assert!(matches!(st.orders_of_customer(&cust, 2, Some("garbage!")).await, Err(StoreError::BadCursor)));

    // By status across shards, paginated.
    let s1 = st.orders_by_status(OrderStatus::Placed, None, 4, None).await?;
    assert_eq!(s1.items.len(), 4);
    let s2 = st.orders_by_status(OrderStatus::Placed, None, 4, s1.next_cursor.as_deref()).await?;
    assert_eq!(s2.items.len(), 2);
    assert!(st.orders_by_status(OrderStatus::Shipped, None, 4, None).await?.items.is_empty());

    // By e-mail (case-insensitive), with a date filter.
    let e = Email::parse("ann@EXAMPLE.com")?;
    assert_eq!(st.orders_by_email(&e, None, 10, None).await?.items.len(), 5);
    let future = chrono::Utc::now() + chrono::Duration::hours(1);
    assert!(st.orders_by_email(&e, Some(future), 10, None).await?.items.is_empty());
    assert_eq!(st.count_orders_by_email_since(&e, chrono::Utc::now() - chrono::Duration::hours(1)).await?, 5);
    Ok(())
}

#[tokio::test]
async fn order_updates_are_optimistic() -> anyhow::Result<()> {
    let st = store().await?;
    let o = order("cust-1", "a@b.co");
    place(&st, &o).await?;
    assert!(matches!(place(&st, &o).await, Err(StoreError::AlreadyExists)));
    let mut next = o.clone();
    next.apply(OrderEvent::Validate, chrono::Utc::now())?;
    next.version = 2;
    st.transact(vec![st.put_versioned(&order_item(&next), 1)?]).await?;
    // A second writer still holding version 1 loses.
    assert!(matches!(st.transact(vec![st.put_versioned(&order_item(&next), 1)?]).await, Err(StoreError::StaleVersion)));
    let stored = st.get_order(&o.id).await?.unwrap();
    assert_eq!((stored.status, stored.version), (OrderStatus::Validated, 2));
    // Status index follows the status.
    assert_eq!(st.orders_by_status(OrderStatus::Validated, None, 10, None).await?.items.len(), 1);
    assert!(st.orders_by_status(OrderStatus::Placed, None, 10, None).await?.items.is_empty());
    Ok(())
}

#[tokio::test]
async fn shipments_by_order_and_by_tracking_number() -> anyhow::Result<()> {
    let st = store().await?;
    let o = order("cust-1", "a@b.co");
    let now = chrono::Utc::now();
    let sh = Shipment {
        id: ShipmentId::generate(),
        order_id: o.id.clone(),
        location_id: loc_id("WH-A"),
        lines: vec![ShipmentLine { line_id: "L1".into(), sku: sku("A"), quantity: 1 }],
        status: ShipmentStatus::LabelCreated,
        service_level: ServiceLevel::Standard,
        carrier: Some("sandbox".into()),
        tracking_number: Some("SBX0001".into()),
        label_id: Some("lbl_1".into()),
        estimated_delivery: None,
        shipped_at: None,
        delivered_at: None,
        captured: None,
        version: 0,
        created_at: now,
        updated_at: now,
    };
    st.transact(vec![st.put_new(&order_item(&o))?, st.put_new(&shipment_item(&sh))?]).await?;
    assert_eq!(st.shipments_of_order(&o.id).await?, vec![sh.clone()]);
    assert_eq!(st.shipment_by_tracking("sandbox", "SBX0001").await?, Some(sh.clone()));
    assert_eq!(st.shipment_by_tracking("sandbox", "NOPE").await?, None);
    assert_eq!(st.get_order_view(&o.id).await?.unwrap().shipments.len(), 1);
    Ok(())
}

#[tokio::test]
async fn idempotency_records_and_webhook_dedupe() -> anyhow::Result<()> {
    let st = store().await?;
    let cust = CustomerId::parse("cust-1").unwrap();
    let r = IdempotencyRecord {
        request_hash: "abc".into(),
        order_id: OrderId::generate(),
        status_code: 201,
        response: "{\"ok\":true}".into(),
        created_at: chrono::Utc::now(),
    };
    st.transact(vec![st.put_idempotency(&cust, "k1", &r)?]).await?;
    assert!(matches!(
        st.transact(vec![st.put_idempotency(&cust, "k1", &r)?]).await,
        Err(StoreError::IdempotencyKeyUsed)
    ));
    assert_eq!(st.get_idempotency(&cust, "k1").await?, Some(r));
    assert_eq!(st.get_idempotency(&cust, "k2").await?, None);
    assert!(st.record_webhook_event("easypost", "evt_1", 7).await?);
    assert!(!st.record_webhook_event("easypost", "evt_1", 7).await?);
    Ok(())
}

#[tokio::test]
async fn timeline_of_an_order_in_time_order() -> anyhow::Result<()> {
    let st = store().await?;
    let o = order("cust-1", "a@b.co");
    place(&st, &o).await?;
    let later =
        TimelineEvent::new(o.created_at + chrono::Duration::seconds(5), "note.added", Actor::Agent("agent-1".into()))
            .with_note("called");
    st.append_timeline(&o.id, &later).await?;
    let t = st.timeline(&o.id).await?;
    assert_eq!(t.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), vec!["order.placed", "note.added"]);
    assert_eq!(st.get_label(&o.id, &ShipmentId::generate()).await?, None);
    Ok(())
}
