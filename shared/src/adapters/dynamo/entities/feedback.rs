//! After-delivery surveys (`ORDER#<id> / FEEDBACK`): in the due index (GSI2
//! `FEEDBACKDUE#<shard>`, by due time) until sent, then in no index, then once answered in the
//! month's answers (GSI2 `FEEDBACK#<yyyy-mm>`, by answer time).

use super::super::item::Item;
use super::super::keys;
use super::super::table::DynamoStore;
use super::ENTITY_FEEDBACK;
use crate::domain::OrderId;
use crate::domain::feedback::Feedback;
use crate::ports::{FeedbackRepository, StoreError};
use chrono::{DateTime, Datelike, Months, Utc};

pub fn feedback_item(f: &Feedback) -> Item<&Feedback> {
    let item = Item::new(keys::feedback(&f.order_id), ENTITY_FEEDBACK, f);
    match f.answered_at {
        Some(at) => item.gsi2(
            keys::feedback_answered_gsi2pk(&at.format("%Y-%m").to_string()),
            format!("{}#{}", keys::timestamp(&at), f.order_id),
        ),
        None if f.is_due() => {
            item.gsi2(keys::feedback_due_gsi2pk(&f.order_id), format!("{}#{}", keys::timestamp(&f.due_at), f.order_id))
        }
        None => item,
    }
}

#[async_trait::async_trait]
impl FeedbackRepository for DynamoStore {
    async fn get_feedback(&self, order: &OrderId) -> Result<Option<Feedback>, StoreError> {
        Ok(self.get::<Feedback>(&keys::feedback(order), true).await?.map(|i| i.data))
    }

    async fn due_feedback(&self, cutoff: DateTime<Utc>) -> Result<Vec<Feedback>, StoreError> {
        let upper = keys::timestamp(&cutoff);
        let mut entries = Vec::new();
        for shard in 0..keys::STATUS_SHARDS {
            let pk = keys::feedback_due_gsi2pk_shard(shard);
            entries.extend(self.query_all_below(keys::GSI2, (keys::GSI2PK, &pk), (keys::GSI2SK, &upper)).await?);
        }
        let all: Vec<Feedback> = Self::all(self.hydrate(entries).await?)?;
        Ok(all.into_iter().filter(Feedback::is_due).collect())
    }

    async fn answered_feedback(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Feedback>, StoreError> {
        let upper = keys::timestamp(&to);
        let mut entries = Vec::new();
        let mut month = from.date_naive().with_day(1).unwrap_or(from.date_naive());
        while month <= to.date_naive() {
            let pk = keys::feedback_answered_gsi2pk(&month.format("%Y-%m").to_string());
            entries.extend(self.query_all_below(keys::GSI2, (keys::GSI2PK, &pk), (keys::GSI2SK, &upper)).await?);
            match month.checked_add_months(Months::new(1)) {
                Some(m) => month = m,
                None => break,
            }
        }
        let all: Vec<Feedback> = Self::all(self.hydrate(entries).await?)?;
        Ok(all.into_iter().filter(|f| f.answered_at.is_some_and(|a| a >= from && a < to)).collect())
    }
}
