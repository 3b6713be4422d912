//! Orders, shipments and the timeline, in memory.

use super::{MemoryStore, page};
use crate::domain::*;
use crate::ports::{
    CaseRepository, Listing, OrderFile, OrderRepository, OrderView, Page, ReturnRepository, ShipmentRepository,
    StoreError, Tracked,
};
use chrono::{DateTime, Utc};

fn from_ok(o: &Order, from: Option<DateTime<Utc>>) -> bool {
    from.is_none_or(|f| o.created_at >= f)
}

#[async_trait::async_trait]
impl OrderRepository for MemoryStore {
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.read(|s| s.orders.get(id).cloned())
    }

    async fn get_order_view(&self, id: &OrderId) -> Result<Option<OrderView>, StoreError> {
        let s = self.lock()?;
        let Some(order) = s.orders.get(id).cloned() else { return Ok(None) };
        let shipments = s.shipments.iter().filter(|((o, _), _)| o == id).map(|(_, v)| v.clone()).collect();
        let mut timeline = s.timeline.get(id).cloned().unwrap_or_default();
        timeline.sort_by_key(|e| e.at);
        Ok(Some(OrderView { order, shipments, timeline }))
    }

    async fn get_order_with_shipments_eventually(&self, id: &OrderId) -> Result<Option<OrderView>, StoreError> {
        match self.lagging_view(id) {
            Some(v) => Ok(Some(OrderView { timeline: Vec::new(), ..v })),
            None => self.get_order_with_shipments(id).await,
        }
    }

    async fn get_order_file(&self, id: &OrderId) -> Result<Option<OrderFile>, StoreError> {
        let Some(view) = self.get_order_view(id).await? else { return Ok(None) };
        Ok(Some(OrderFile { view, returns: self.returns_of_order(id).await?, cases: self.cases_of_order(id).await? }))
    }

    async fn orders_of_customer(&self, customer: &CustomerId, l: Listing<'_>) -> Result<Page<Order>, StoreError> {
        let all = self.lock()?.orders.values().filter(|o| &o.customer == customer).cloned().collect();
        page(all, l.limit, l.cursor)
    }

    async fn orders_by_status(&self, status: OrderStatus, l: Listing<'_>) -> Result<Page<Order>, StoreError> {
        let all = self.lock()?.orders.values().filter(|o| o.status == status && from_ok(o, l.from)).cloned().collect();
        page(all, l.limit, l.cursor)
    }

    async fn all_orders(&self, l: Listing<'_>) -> Result<Page<Order>, StoreError> {
        let all = self.lock()?.orders.values().filter(|o| from_ok(o, l.from)).cloned().collect();
        page(all, l.limit, l.cursor)
    }

    async fn orders_by_email(&self, email: &Email, l: Listing<'_>) -> Result<Page<Order>, StoreError> {
        let key = email.lookup_key();
        let s = self.lock()?;
        let all = s.orders.values().filter(|o| o.email.lookup_key() == key && from_ok(o, l.from)).cloned().collect();
        page(all, l.limit, l.cursor)
    }

    async fn count_orders_by_email_since(&self, email: &Email, since: DateTime<Utc>) -> Result<usize, StoreError> {
        let key = email.lookup_key();
        self.read(|s| s.orders.values().filter(|o| o.email.lookup_key() == key && o.created_at >= since).count())
    }

    async fn timeline(&self, order: &OrderId) -> Result<Vec<TimelineEvent>, StoreError> {
        let mut t = self.lock()?.timeline.get(order).cloned().unwrap_or_default();
        t.sort_by_key(|e| e.at);
        Ok(t)
    }

    async fn order_for_payment(&self, authorization_id: &str) -> Result<Option<OrderId>, StoreError> {
        self.read(|s| s.payment_refs.get(authorization_id).cloned())
    }
}

#[async_trait::async_trait]
impl ShipmentRepository for MemoryStore {
    async fn get_shipment(&self, order: &OrderId, id: &ShipmentId) -> Result<Option<Shipment>, StoreError> {
        self.read(|s| s.shipments.get(&(order.clone(), id.clone())).cloned())
    }

    async fn shipments_of_order(&self, order: &OrderId) -> Result<Vec<Shipment>, StoreError> {
        self.read(|s| s.shipments.iter().filter(|((o, _), _)| o == order).map(|(_, v)| v.clone()).collect())
    }

    async fn get_label(&self, order: &OrderId, shipment: &ShipmentId) -> Result<Option<LabelDoc>, StoreError> {
        self.read(|s| s.labels.get(&(order.clone(), shipment.clone())).cloned())
    }

    async fn tracked(&self, carrier: &str, tracking_number: &str) -> Result<Option<Tracked>, StoreError> {
        let s = self.lock()?;
        let ship = s.shipments.values().find(|sh| {
            sh.carrier.as_deref() == Some(carrier) && sh.tracking_number.as_deref() == Some(tracking_number)
        });
        if let Some(sh) = ship {
            return Ok(Some(Tracked::Shipment(sh.clone())));
        }
        Ok(s.rmas
            .values()
            .find(|r| r.label.as_ref().is_some_and(|l| l.carrier == carrier && l.tracking_number == tracking_number))
            .map(|r| Tracked::Return(r.clone())))
    }

    async fn picks(&self, location: &LocationId, limit: usize) -> Result<Vec<Shipment>, StoreError> {
        self.read(|s| {
            let mut v: Vec<Shipment> =
                s.shipments.values().filter(|sh| sh.on_pick_list() && &sh.location_id == location).cloned().collect();
            v.sort_by(|a, b| (a.updated_at, &a.id).cmp(&(b.updated_at, &b.id)));
            v.truncate(limit);
            v
        })
    }
}
