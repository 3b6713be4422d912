//! Customer profiles and their lookups, in memory.

use super::MemoryStore;
use crate::domain::CustomerId;
use crate::domain::customer::{CustomerProfile, SearchKey};
use crate::ports::{CustomerRepository, StoreError};

#[async_trait::async_trait]
impl CustomerRepository for MemoryStore {
    async fn get_customer(&self, id: &CustomerId) -> Result<Option<CustomerProfile>, StoreError> {
        self.read(|s| s.customers.get(id).cloned())
    }

    async fn save_customer(&self, p: &CustomerProfile, previous: Option<&CustomerProfile>) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        let current = s.customers.get(&p.customer_id).map(|c| c.version);
        if current != previous.map(|c| c.version) {
            return Err(StoreError::StaleVersion);
        }
        for k in p.search_keys() {
            s.lookups.entry(k.as_lookup()).or_default().insert(p.customer_id.clone());
        }
        s.customers.insert(p.customer_id.clone(), p.clone());
        Ok(())
    }

    async fn find_customers(&self, key: &SearchKey, limit: usize) -> Result<Vec<CustomerId>, StoreError> {
        let k = key.as_lookup();
        self.read(|s| {
            let mut out: Vec<CustomerId> = match key {
                SearchKey::NameToken(_) => s
                    .lookups
                    .range(k.clone()..)
                    .take_while(|(x, _)| x.starts_with(&k))
                    .flat_map(|(_, v)| v)
                    .cloned()
                    .collect(),
                _ => s.lookups.get(&k).into_iter().flatten().cloned().collect(),
            };
            out.dedup();
            out.truncate(limit);
            out
        })
    }

    async fn delete_customer(&self, id: &CustomerId) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        s.customers.remove(id);
        for v in s.lookups.values_mut() {
            v.remove(id);
        }
        s.lookups.retain(|_, v| !v.is_empty());
        Ok(())
    }
}

#[async_trait::async_trait]
impl crate::ports::SettingsRepository for MemoryStore {
    async fn current_rules(&self) -> Result<crate::domain::rules::Rules, StoreError> {
        self.read(|s| s.rules.values().next_back().cloned().unwrap_or_default())
    }

    async fn rules_version(&self, version: u32) -> Result<Option<crate::domain::rules::Rules>, StoreError> {
        if version == 0 {
            return Ok(Some(Default::default()));
        }
        self.read(|s| s.rules.get(&version).cloned())
    }

    async fn put_rules(&self, r: &crate::domain::rules::Rules) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        if r.version == 0 || s.rules.contains_key(&r.version) {
            return Err(StoreError::StaleVersion);
        }
        s.rules.insert(r.version, r.clone());
        Ok(())
    }

    async fn rules_history(&self, max: usize) -> Result<Vec<crate::domain::rules::Rules>, StoreError> {
        self.read(|s| s.rules.values().rev().take(max).cloned().collect())
    }
}
