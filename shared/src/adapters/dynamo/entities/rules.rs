//! The rules' versions (`SETTINGS / RULES#V#<version, 10 digits>`): each save is a new item put
//! on condition it does not exist, so two saves from the same version cannot both land; the
//! current version is the last key. Reads are cached like the catalog (`cache`): placement and
//! validation read the rules for every order, and a saved version never changes.

use super::super::cache;
use super::super::errors::{mapping, sdk};
use super::super::item::{Item, from_attrs, s};
use super::super::keys;
use super::super::table::{Condition, DynamoStore};
use super::ENTITY_RULES;
use crate::domain::confirmation::ConfirmationRule;
use crate::domain::rules::Rules;
use crate::ports::{SettingsRepository, StoreError};

const CURRENT_CACHE_KEY: &str = "settings:rules";
const PREFIX: &str = "RULES#V#";

impl DynamoStore {
    async fn latest_rules(&self, max: usize) -> Result<Vec<Rules>, StoreError> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :p)")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#sk", keys::SK)
            .expression_attribute_values(":pk", s("SETTINGS"))
            .expression_attribute_values(":p", s(PREFIX))
            .scan_index_forward(false)
            .limit(i32::try_from(max).unwrap_or(i32::MAX))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|a| from_attrs::<Rules>(a).map(|i| i.data).map_err(mapping))
            .collect()
    }
}

#[async_trait::async_trait]
impl SettingsRepository for DynamoStore {
    async fn current_rules(&self) -> Result<Rules, StoreError> {
        if let Some(r) = cache::get::<Rules>(self.table(), CURRENT_CACHE_KEY) {
            return Ok(r);
        }
        let r = match self.latest_rules(1).await?.pop() {
            Some(r) => r,
            // Before the first save: the defaults, with a confirmation-call rule saved by a
            // release before rules were versioned.
            None => {
                let legacy = self.get::<ConfirmationRule>(&keys::settings("CONFIRMATION_CALLS"), false).await?;
                let mut r = Rules::default();
                if let Some(l) = legacy {
                    r.set.confirmation_calls = l.data;
                }
                r
            }
        };
        cache::put(self.table(), CURRENT_CACHE_KEY, &r);
        Ok(r)
    }

    async fn rules_version(&self, version: u32) -> Result<Option<Rules>, StoreError> {
        if version == 0 {
            return Ok(Some(Rules::default()));
        }
        let key = format!("settings:rules:{version}");
        if let Some(r) = cache::get::<Rules>(self.table(), &key) {
            return Ok(Some(r));
        }
        let r = self.get::<Rules>(&keys::rules_version(version), false).await?.map(|i| i.data);
        if let Some(r) = &r {
            cache::put(self.table(), &key, r);
        }
        Ok(r)
    }

    async fn put_rules(&self, r: &Rules) -> Result<(), StoreError> {
        if r.version == 0 {
            return Err(StoreError::StaleVersion);
        }
        let item = Item::new(keys::rules_version(r.version), ENTITY_RULES, r);
        self.put(item.to_attrs().map_err(mapping)?, Condition::new("attribute_not_exists(PK)")).await?;
        cache::put(self.table(), CURRENT_CACHE_KEY, r);
        Ok(())
    }

    async fn rules_history(&self, max: usize) -> Result<Vec<Rules>, StoreError> {
        self.latest_rules(max.clamp(1, 100)).await
    }
}
