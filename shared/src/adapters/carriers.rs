//! Several carriers at once: their rates are shopped together (each rate names its carrier),
//! a label is bought from the carrier of the chosen rate, and voids and documents go back to
//! the carrier that sold the label. Label ids of every carrier but the first carry its name
//! (`<carrier>:<id>`), so a void finds its carrier from the id alone; the first carrier's ids
//! stay as it issued them (a deployment that adds a carrier keeps its labels working).

use crate::ports::{Carrier, CarrierError, Label, LabelSource, Parcel, Rate};
use std::sync::Arc;

pub struct CarrierSet {
    carriers: Vec<Arc<dyn Carrier>>,
}

impl CarrierSet {
    /// The carriers, the primary (default) first; one carrier is returned as it is.
    pub fn of(carriers: Vec<Arc<dyn Carrier>>) -> Result<Arc<dyn Carrier>, String> {
        match carriers.len() {
            0 => Err("at least one carrier".into()),
            1 => Ok(carriers.into_iter().next().ok_or("at least one carrier")?),
            _ => {
                let mut names: Vec<&str> = carriers.iter().map(|c| c.name()).collect();
                names.sort_unstable();
                if names.windows(2).any(|w| w[0] == w[1]) {
                    return Err("each carrier once".into());
                }
                Ok(Arc::new(CarrierSet { carriers }))
            }
        }
    }

    fn by_name(&self, name: &str) -> Result<&Arc<dyn Carrier>, CarrierError> {
        self.carriers
            .iter()
            .find(|c| c.name() == name)
            .ok_or_else(|| CarrierError::Rejected(format!("carrier {name} is not configured")))
    }

    /// The carrier of a label id, and the id as that carrier knows it.
    fn by_label<'a>(&self, label_id: &'a str) -> (&Arc<dyn Carrier>, &'a str) {
        if let Some((name, id)) = label_id.split_once(':')
            && let Some(c) = self.carriers.iter().skip(1).find(|c| c.name() == name)
        {
            return (c, id);
        }
        (&self.carriers[0], label_id)
    }
}

#[async_trait::async_trait]
impl Carrier for CarrierSet {
    fn name(&self) -> &str {
        self.carriers[0].name()
    }

    /// Every carrier's rates; a carrier that does not answer is left out (the others' rates
    /// still serve), and only when none answers is the shopping an error.
    async fn rates(&self, parcel: &Parcel) -> Result<Vec<Rate>, CarrierError> {
        let answers = futures::future::join_all(self.carriers.iter().map(|c| c.rates(parcel))).await;
        let mut rates = Vec::new();
        let mut first_error = None;
        for a in answers {
            match a {
                Ok(r) => rates.extend(r),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if rates.is_empty() => Err(e),
            _ => Ok(rates),
        }
    }

    async fn buy_label(&self, parcel: &Parcel, rate: &Rate, idempotency_key: &str) -> Result<Label, CarrierError> {
        let carrier = self.by_name(&rate.carrier)?;
        let mut label = carrier.buy_label(parcel, rate, idempotency_key).await?;
        if carrier.name() != self.carriers[0].name() {
            label.id = format!("{}:{}", carrier.name(), label.id);
        }
        label.carrier = carrier.name().to_owned();
        Ok(label)
    }

    async fn void_label(&self, label_id: &str) -> Result<(), CarrierError> {
        let (carrier, id) = self.by_label(label_id);
        carrier.void_label(id).await
    }

    async fn label_document(&self, label: &LabelSource) -> Result<Vec<u8>, CarrierError> {
        self.by_name(&label.carrier).unwrap_or(&self.carriers[0]).label_document(label).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::sandbox::SandboxCarrier;
    use crate::adapters::sandbox::carrier::ECONOMY;
    use crate::domain::{Address, AddressInput, ShipmentId};

    fn parcel(weight: u32) -> Parcel {
        let a = Address::parse(&AddressInput {
            name: "Ann Lee".into(),
            line1: "350 5th Ave".into(),
            line2: None,
            city: "New York".into(),
            region: Some("NY".into()),
            postal_code: "10118".into(),
            country: "US".into(),
            phone: None,
        })
        .unwrap();
        Parcel {
            shipment_id: ShipmentId::generate(),
            from: a.clone(),
            to: a,
            weight_grams: weight,
            dimensions_mm: None,
            reference: "t".into(),
        }
    }

    #[tokio::test]
    async fn rates_of_both_are_shopped_and_labels_go_back_to_their_carrier() {
        let primary = Arc::new(SandboxCarrier::new());
        let economy = Arc::new(SandboxCarrier::named(ECONOMY));
        let set = CarrierSet::of(vec![primary.clone(), economy.clone()]).unwrap();
        let p = parcel(3000);
        let rates = set.rates(&p).await.unwrap();
        assert!(rates.iter().any(|r| r.carrier == "sandbox") && rates.iter().any(|r| r.carrier == ECONOMY));
        let cheapest = rates.iter().min_by_key(|r| r.cost.amount()).unwrap().clone();
        assert_eq!(cheapest.carrier, ECONOMY, "{rates:?}");
        let label = set.buy_label(&p, &cheapest, "k1").await.unwrap();
        assert_eq!(label.carrier, ECONOMY);
        assert!(label.id.starts_with("sandbox-economy:lbl_eco"), "{}", label.id);
        set.void_label(&label.id).await.unwrap();
        assert!(economy.voided(label.id.trim_start_matches("sandbox-economy:")));
        // The primary's ids stay as issued.
        let ground = rates.iter().find(|r| r.carrier == "sandbox" && r.service == "ground").unwrap();
        let l2 = set.buy_label(&p, ground, "k2").await.unwrap();
        assert!(l2.id.starts_with("lbl_sbx"), "{}", l2.id);
        set.void_label(&l2.id).await.unwrap();
        assert!(primary.voided(&l2.id));
        assert!(CarrierSet::of(vec![primary.clone(), primary]).is_err(), "each carrier once");
    }
}
