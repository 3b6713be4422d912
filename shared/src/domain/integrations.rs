//! What the ERP, the CRM and the loyalty programme are sent for an integration event, as pure
//! code: ERP transaction documents (a sales order per order with its goods and service lines,
//! revised as the order changes; a credit note per refund), a CRM activity per event, loyalty
//! points accrued on delivery and reversed on a return's refund. Every document carries a key
//! derived from the order and the event or ledger entry, so a redelivered event sends the same
//! document again and the receiver keeps one.

use super::events::DomainEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The event types each consumer's rule passes (the template's `EventPattern`s list them too).
pub const ERP_TYPES: [&str; 8] = [
    "order.placed",
    "order.edited",
    "order.adjusted",
    "order.cancelled",
    "shipment.shipped",
    "shipment.delivered",
    "order.collected",
    "payment.refunded",
];
/// Points for goods delivered (by a carrier, or collected at a store), back for refunds.
pub const LOYALTY_TYPES: [&str; 3] = ["shipment.delivered", "order.collected", "return.refunded"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentLine {
    pub line_id: String,
    pub sku: String,
    pub description: String,
    /// `goods` or `service`.
    pub kind: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub tax: i64,
    pub amount: i64,
}

/// A sales order in the ERP: one per order (`SO-<order id>`), replaced by each later revision
/// (the event's sequence; the ERP keeps the highest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesOrder {
    pub document_number: String,
    pub revision: u64,
    pub order_id: String,
    pub customer_id: String,
    pub channel: String,
    pub status: String,
    pub currency: String,
    pub order_date: String,
    pub lines: Vec<DocumentLine>,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
}

/// A credit note for one refund (`CN-<ledger reference>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditNote {
    pub document_number: String,
    pub sales_order: String,
    pub order_id: String,
    pub currency: String,
    pub amount: i64,
    /// `return` (a return's units) or `goodwill`.
    pub reason: String,
    pub date: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "documentType", rename_all = "snake_case")]
pub enum ErpDocument {
    SalesOrder(SalesOrder),
    CreditNote(CreditNote),
}

/// A customer's activity in the CRM: one per event (its id is the idempotency key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrmActivity {
    pub external_id: String,
    pub customer_id: String,
    pub activity_type: String,
    pub order_id: String,
    pub occurred_at: String,
    pub status: String,
    pub total: Option<i64>,
    pub currency: Option<String>,
}

/// Points for a member: accrued on delivery (`accrue-<order id>`), reversed per refund of a
/// return (`reverse-<ledger reference>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoyaltyTransaction {
    pub reference: String,
    pub member_id: String,
    /// `accrue` or `reverse`.
    #[serde(rename = "type")]
    pub kind: String,
    pub points: i64,
    pub order_id: String,
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}
fn amount(v: &Value) -> i64 {
    v["amount"].as_i64().unwrap_or(0)
}

/// Whole currency units of an amount in minor units (points are per unit of currency).
fn whole(minor: i64, currency: &str) -> i64 {
    let exp = crate::domain::Currency::parse(currency).map(|c| c.minor_unit_exponent()).unwrap_or(2);
    minor / 10_i64.pow(u32::from(exp))
}

/// The refunds in an event's payment ledger: (reference, amount, currency, at).
fn refunds(e: &DomainEvent) -> Vec<(String, i64, String, String)> {
    e.data["payment"]["ledger"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["kind"] == "refunded")
        .map(|l| (s(&l["reference"]), amount(&l["amount"]), s(&l["amount"]["currency"]), s(&l["at"])))
        .collect()
}

/// Whether a refund is a return's (a receipt refunds under `refund-<return id>-...`; goodwill
/// under `goodwill-...`).
fn of_return(reference: &str) -> bool {
    reference.starts_with("refund-")
}

/// The ERP documents of an event.
pub fn erp_documents(e: &DomainEvent) -> Vec<ErpDocument> {
    let o = &e.data["order"];
    if e.kind == "payment.refunded" {
        return refunds(e)
            .into_iter()
            .map(|(reference, amount, currency, date)| {
                ErpDocument::CreditNote(CreditNote {
                    document_number: format!("CN-{reference}"),
                    sales_order: format!("SO-{}", e.order_id),
                    order_id: e.order_id.to_string(),
                    currency,
                    amount,
                    reason: if of_return(&reference) { "return" } else { "goodwill" }.into(),
                    date,
                })
            })
            .collect();
    }
    if !ERP_TYPES.contains(&e.kind.as_str()) || o.is_null() {
        return Vec::new();
    }
    let lines = o["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| DocumentLine {
            line_id: s(&l["lineId"]),
            sku: s(&l["sku"]),
            description: s(&l["name"]),
            kind: s(&l["kind"]),
            quantity: l["quantity"].as_i64().unwrap_or(0),
            unit_price: amount(&l["unitPrice"]),
            tax: amount(&l["tax"]),
            // What is charged for the line: its price after promotions and adjustments.
            amount: amount(&l["subtotal"]) - amount(&l["discount"]),
        })
        .collect();
    vec![ErpDocument::SalesOrder(SalesOrder {
        document_number: format!("SO-{}", e.order_id),
        revision: e.sequence,
        order_id: e.order_id.to_string(),
        customer_id: e.customer_id.to_string(),
        channel: s(&o["channel"]),
        status: s(&o["status"]),
        currency: s(&o["totals"]["total"]["currency"]),
        order_date: s(&o["createdAt"]),
        lines,
        shipping: amount(&o["totals"]["shipping"]),
        tax: amount(&o["totals"]["tax"]),
        total: amount(&o["totals"]["total"]),
    })]
}

/// The CRM activity of an event.
pub fn crm_activity(e: &DomainEvent) -> CrmActivity {
    let o = &e.data["order"];
    let total = &o["totals"]["total"];
    CrmActivity {
        external_id: e.id.clone(),
        customer_id: e.customer_id.to_string(),
        activity_type: e.kind.clone(),
        order_id: e.order_id.to_string(),
        occurred_at: e.occurred_at.to_rfc3339(),
        status: s(&o["status"]),
        total: total["amount"].as_i64(),
        currency: total["currency"].as_str().map(str::to_owned),
    }
}

/// The loyalty transactions of an event: points for the goods on delivery, points back for
/// each refund of a return (never for a goodwill refund).
pub fn loyalty_transactions(e: &DomainEvent) -> Vec<LoyaltyTransaction> {
    let member = e.customer_id.to_string();
    match e.kind.as_str() {
        "shipment.delivered" | "order.collected" => {
            let o = &e.data["order"];
            let goods: i64 = o["lines"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|l| l["kind"] == "goods")
                .map(|l| amount(&l["subtotal"]))
                .sum();
            let points = whole(goods, o["totals"]["total"]["currency"].as_str().unwrap_or("USD"));
            if points <= 0 {
                return Vec::new();
            }
            vec![LoyaltyTransaction {
                reference: format!("accrue-{}", e.order_id),
                member_id: member,
                kind: "accrue".into(),
                points,
                order_id: e.order_id.to_string(),
            }]
        }
        "return.refunded" => refunds(e)
            .into_iter()
            .filter(|(reference, ..)| of_return(reference))
            .map(|(reference, amount, currency, _)| LoyaltyTransaction {
                reference: format!("reverse-{reference}"),
                member_id: member.clone(),
                kind: "reverse".into(),
                points: whole(amount, &currency),
                order_id: e.order_id.to_string(),
            })
            .filter(|t| t.points > 0)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(kind: &str) -> DomainEvent {
        let text =
            std::fs::read_to_string(format!("{}/../events/domain/{kind}.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn documents_from_the_samples() {
        let placed = sample("order.placed");
        let docs = erp_documents(&placed);
        let [ErpDocument::SalesOrder(so)] = &docs[..] else { panic!("{docs:?}") };
        assert_eq!(so.document_number, format!("SO-{}", placed.order_id));
        assert_eq!(so.revision, placed.sequence);
        assert!(!so.lines.is_empty() && so.total > 0);
        let refunded = sample("return.refunded");
        let notes = erp_documents(&DomainEvent { kind: "payment.refunded".into(), ..refunded.clone() });
        assert!(
            matches!(&notes[..], [ErpDocument::CreditNote(c)] if c.reason == "return" && c.amount > 0),
            "{notes:?}"
        );
        let back = loyalty_transactions(&refunded);
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].kind, "reverse");
        let delivered = loyalty_transactions(&sample("shipment.delivered"));
        assert!(delivered[0].points > back[0].points, "{delivered:?} {back:?}");
        assert_eq!(delivered[0].reference, format!("accrue-{}", refunded.order_id));
        assert!(loyalty_transactions(&placed).is_empty());
        assert_eq!(crm_activity(&placed).external_id, placed.id);
    }
}
