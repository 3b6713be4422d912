//! Offline ERP, CRM and loyalty receivers: they keep what they were sent, one per key, as the
//! real receivers do (a sales order only by a higher revision). Locally and in tests.

use crate::domain::integrations::{CrmActivity, ErpDocument, LoyaltyTransaction};
use crate::ports::{Crm, Erp, IntegrationError, Loyalty};
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct SandboxIntegrations {
    /// Document number -> the document kept.
    pub documents: Mutex<BTreeMap<String, ErpDocument>>,
    /// External id -> activity.
    pub activities: Mutex<BTreeMap<String, CrmActivity>>,
    /// Reference -> transaction.
    pub points: Mutex<BTreeMap<String, LoyaltyTransaction>>,
    /// Calls received, duplicates included.
    pub calls: Mutex<u64>,
    /// Offers by member (`*`: every member); a member without any gets none.
    pub offers: Mutex<BTreeMap<String, Vec<crate::domain::loyalty::LoyaltyOffer>>>,
}

fn poisoned<T>(_: T) -> IntegrationError {
    IntegrationError::Unavailable("sandbox poisoned".into())
}

impl SandboxIntegrations {
    fn count(&self) -> Result<(), IntegrationError> {
        *self.calls.lock().map_err(poisoned)? += 1;
        Ok(())
    }

    /// A member's balance: accrued less reversed.
    pub fn balance(&self, member: &str) -> i64 {
        self.points
            .lock()
            .map(|p| {
                p.values()
                    .filter(|t| t.member_id == member)
                    .map(|t| if t.kind == "reverse" { -t.points } else { t.points })
                    .sum()
            })
            .unwrap_or(0)
    }
}

#[async_trait::async_trait]
impl Erp for SandboxIntegrations {
    async fn put_document(&self, doc: &ErpDocument) -> Result<(), IntegrationError> {
        self.count()?;
        let mut docs = self.documents.lock().map_err(poisoned)?;
        let number = match doc {
            ErpDocument::SalesOrder(so) => so.document_number.clone(),
            ErpDocument::CreditNote(cn) => cn.document_number.clone(),
        };
        let newer = match (docs.get(&number), doc) {
            (Some(ErpDocument::SalesOrder(old)), ErpDocument::SalesOrder(new)) => new.revision > old.revision,
            (Some(_), _) => false,
            (None, _) => true,
        };
        if newer {
            docs.insert(number, doc.clone());
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Crm for SandboxIntegrations {
    async fn record_activity(&self, a: &CrmActivity) -> Result<(), IntegrationError> {
        self.count()?;
        self.activities.lock().map_err(poisoned)?.entry(a.external_id.clone()).or_insert_with(|| a.clone());
        Ok(())
    }
}

#[async_trait::async_trait]
impl Loyalty for SandboxIntegrations {
    async fn post_transaction(&self, t: &LoyaltyTransaction) -> Result<(), IntegrationError> {
        self.count()?;
        self.points.lock().map_err(poisoned)?.entry(t.reference.clone()).or_insert_with(|| t.clone());
        Ok(())
    }

    /// A member is a customer with points; their tier follows the balance.
    async fn tier(&self, member_id: &str) -> Result<Option<String>, IntegrationError> {
        let known = self.points.lock().map_err(poisoned)?.values().any(|t| t.member_id == member_id);
        if !known {
            return Ok(None);
        }
        let b = self.balance(member_id);
        Ok(Some(
            if b >= 1000 {
                "gold"
            } else if b >= 200 {
                "silver"
            } else {
                "standard"
            }
            .to_owned(),
        ))
    }

    async fn offers(&self, member_id: &str) -> Result<Vec<crate::domain::loyalty::LoyaltyOffer>, IntegrationError> {
        let o = self.offers.lock().map_err(poisoned)?;
        Ok(o.get(member_id).or_else(|| o.get("*")).cloned().unwrap_or_default())
    }
}

impl SandboxIntegrations {
    /// The local programme's standing offers to every member: 20% off the headphones with the
    /// TV, 10% off the mug with the desk lamp.
    pub fn with_standard_offers() -> Self {
        use crate::domain::loyalty::LoyaltyOffer;
        use crate::domain::promotion::Discount;
        let s = SandboxIntegrations::default();
        let sku = |v: &str| crate::domain::Sku::parse(v).ok();
        let offer = |id: &str, title: &str, bp: u32, on: &str, with: &str| LoyaltyOffer {
            offer_id: id.into(),
            title: title.into(),
            discount: Discount::Percent { basis_points: bp },
            sku: sku(on),
            with_skus: sku(with).into_iter().collect(),
            valid_until: None,
        };
        if let Ok(mut o) = s.offers.lock() {
            o.insert(
                "*".into(),
                vec![
                    offer("LOY-TV-AUDIO-20", "20% off the headphones with the TV", 2000, "HEADPHONES-X1", "TV-55"),
                    offer("LOY-MUG-LAMP-10", "10% off the mug with the desk lamp", 1000, "MUG-CLASSIC", "DESK-LAMP"),
                ],
            );
        }
        s
    }
}
