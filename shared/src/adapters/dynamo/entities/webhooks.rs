//! Webhook subscriptions (`WEBHOOKS` / `SUB#<id>`, versioned) and their delivery log
//! (`WEBHOOK#<subscription>` / `DELIVERY#<occurred at>#<event id>`, kept 30 days by TTL).

use super::super::errors::sdk;
use super::super::item::{Item, n, s};
use super::super::keys;
use super::super::table::{Condition, DynamoStore};
use crate::adapters::dynamo::errors::mapping;
use crate::domain::Write;
use crate::domain::webhooks::{DELIVERY_LOG_DAYS, Delivery, Subscription};
use crate::ports::{StoreError, WebhookRepository};
use chrono::{DateTime, Utc};

const ENTITY_SUBSCRIPTION: &str = "webhook_subscription";
const ENTITY_DELIVERY: &str = "webhook_delivery";
/// A replay request: the effects function's stream filter passes its insert.
pub const ENTITY_REPLAY: &str = "webhook_replay";

fn delivery_item(d: &Delivery) -> Item<&Delivery> {
    Item::new(keys::webhook_delivery(&d.subscription_id, &d.occurred_at, &d.event_id), ENTITY_DELIVERY, d)
        .ttl((d.created_at + chrono::Duration::days(DELIVERY_LOG_DAYS)).timestamp())
}

#[async_trait::async_trait]
impl WebhookRepository for DynamoStore {
    async fn put_subscription(&self, w: &Write<Subscription>) -> Result<(), StoreError> {
        let v = w.value();
        let attrs = Item::new(keys::webhook_subscription(&v.id), ENTITY_SUBSCRIPTION, v).to_attrs().map_err(mapping)?;
        let condition = match w {
            Write::Create(_) => Condition::new("attribute_not_exists(PK)"),
            Write::Update { expected_version, .. } => Condition::new("version = :v").value(":v", n(*expected_version)),
            Write::Replace(_) => Condition::default(),
        };
        self.put(attrs, condition).await.map_err(|e| match (e, w) {
            (StoreError::StaleVersion, Write::Create(_)) => StoreError::AlreadyExists,
            (e, _) => e,
        })
    }

    async fn get_subscription(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        Ok(self.get::<Subscription>(&keys::webhook_subscription(id), true).await?.map(|i| i.data))
    }

    async fn list_subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
        let items = self.query_all("", keys::PK, keys::WEBHOOKS_PK, Some((keys::SK, "SUB#")), true).await?;
        Self::all(items)
    }

    async fn delete_subscription(&self, id: &str) -> Result<(), StoreError> {
        self.delete(&keys::webhook_subscription(id)).await
    }

    async fn create_delivery(&self, d: &Delivery) -> Result<(), StoreError> {
        let attrs = delivery_item(d).to_attrs().map_err(mapping)?;
        self.put(attrs, Condition::new("attribute_not_exists(PK)")).await.map_err(|e| match e {
            StoreError::StaleVersion => StoreError::AlreadyExists,
            e => e,
        })
    }

    async fn save_delivery(&self, d: &Delivery) -> Result<(), StoreError> {
        self.put_item(&delivery_item(d)).await
    }

    async fn get_delivery(&self, sub: &str, at: DateTime<Utc>, event: &str) -> Result<Option<Delivery>, StoreError> {
        Ok(self.get::<Delivery>(&keys::webhook_delivery(sub, &at, event), true).await?.map(|i| i.data))
    }

    async fn request_replay(&self, sub: &str, since: DateTime<Utc>) -> Result<(), StoreError> {
        let r = crate::domain::webhooks::ReplayRequest { subscription_id: sub.to_owned(), since };
        let now = self.clock.now();
        let item = Item::new(keys::webhook_replay(sub, &ulid::Ulid::new().to_string()), ENTITY_REPLAY, &r)
            .ttl((now + chrono::Duration::days(1)).timestamp());
        self.put(item.to_attrs().map_err(mapping)?, Condition::new("attribute_not_exists(PK)")).await
    }

    async fn deliveries(&self, sub: &str, since: DateTime<Utc>, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        while out.len() < limit {
            let res = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(keys::webhook_deliveries_pk(sub)))
                .expression_attribute_values(":from", s(keys::webhook_deliveries_from(&since)))
                .expression_attribute_values(":to", s("DELIVERY#~".to_owned()))
                .limit(i32::try_from(limit - out.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk)?;
            out.extend(Self::all::<Delivery>(res.items.unwrap_or_default())?);
            match res.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}
