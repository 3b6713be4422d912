//! Invoices and credit notes: one per payment captured (an invoice) or refunded (a credit
//! note), numbered without gaps per series (kind and year: `INV-2026-000001`). The number is
//! taken in the same write that records the document, so a failed write takes none and a
//! written document keeps its number; the document's content is fixed when it is issued.

use super::ids::{CustomerId, OrderId};
use super::money::{Money, MoneyError};
use super::order::{Order, OrderLine, ShipmentLine};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Invoice,
    CreditNote,
}

impl DocumentKind {
    pub fn prefix(&self) -> &'static str {
        match self {
            DocumentKind::Invoice => "INV",
            DocumentKind::CreditNote => "CN",
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            DocumentKind::Invoice => "Invoice",
            DocumentKind::CreditNote => "Credit note",
        }
    }
}

/// The series a document issued at `at` is numbered in: its kind and year.
pub fn series(kind: DocumentKind, at: DateTime<Utc>) -> String {
    format!("{}-{}", kind.prefix(), at.year())
}

/// The document number: the series and the sequence, six digits at least.
pub fn number(series: &str, sequence: u64) -> String {
    format!("{series}-{sequence:06}")
}

/// Seller or buyer as printed on the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Party {
    pub name: String,
    pub lines: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLine {
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub quantity: u32,
    pub unit_price: Money,
    pub net: Money,
    pub tax: Money,
    pub total: Money,
    /// Deducted from the total (a credit from a return the order replaces), not added.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deduct: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    pub number: String,
    pub series: String,
    pub sequence: u64,
    pub kind: DocumentKind,
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub issued_at: DateTime<Utc>,
    /// When it is to be paid (payment terms); `None`: paid (a card capture).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_on: Option<NaiveDate>,
    pub seller: Party,
    pub buyer: Party,
    pub lines: Vec<InvoiceLine>,
    pub net: Money,
    pub tax: Money,
    pub total: Money,
    /// The payment ledger entry it documents (the capture's or refund's key).
    pub reference: String,
    /// A credit note: the invoices of the order it corrects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corrects: Vec<String>,
}

/// What the order keeps of a document issued for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentRef {
    pub number: String,
    pub kind: DocumentKind,
    pub reference: String,
    pub total: Money,
    pub issued_at: DateTime<Utc>,
}

/// A document to record with a change: the number is taken from its series, whose last number
/// must still be `previous` (0: none issued yet) when the change commits, and its reference is
/// recorded under the order, once per (kind, ledger entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentIssue {
    pub invoice: Invoice,
    pub previous: u64,
}

fn line_of(l: &OrderLine, quantity: u32) -> Result<InvoiceLine, MoneyError> {
    // What was paid for the units: their share of the line after its discounts.
    let (net, tax) = if quantity == l.quantity {
        (l.net(), l.tax)
    } else {
        (l.net().share(quantity, l.quantity.max(1))?, l.tax.share(quantity, l.quantity.max(1))?)
    };
    let description = match l.discount {
        Some(d) if d.amount() > 0 => format!("{} (discount {d} on the line)", l.name),
        _ => l.name.clone(),
    };
    Ok(InvoiceLine {
        description,
        sku: Some(l.sku.to_string()),
        quantity,
        unit_price: l.unit_price,
        net,
        tax,
        total: net.checked_add(tax)?,
        deduct: false,
    })
}

fn adjustment(description: &str, amount: Money, deduct: bool) -> InvoiceLine {
    InvoiceLine {
        description: description.into(),
        sku: None,
        quantity: 1,
        unit_price: amount,
        net: amount,
        tax: Money::zero(amount.currency()),
        total: amount,
        deduct,
    }
}

/// An invoice's lines for `amount` captured: the goods of `shipped` (all the order's lines when
/// `None`: a pickup collected in one go) at the order's prices, then shipping (or credit from a
/// return) so the lines add up to exactly what was captured.
pub fn invoice_lines(
    order: &Order,
    shipped: Option<&[ShipmentLine]>,
    amount: Money,
) -> Result<Vec<InvoiceLine>, MoneyError> {
    let mut lines = Vec::new();
    for l in &order.lines {
        let quantity = match shipped {
            None => l.quantity,
            Some(s) => s.iter().filter(|x| x.line_id == l.line_id).map(|x| x.quantity).sum(),
        };
        if quantity > 0 {
            lines.push(line_of(l, quantity)?);
        }
    }
    let goods = Money::sum(amount.currency(), lines.iter().map(|l| l.total))?;
    let rest = amount.amount().checked_sub(goods.amount()).ok_or(MoneyError::Overflow)?;
    if rest > 0 {
        lines.push(adjustment("Shipping", Money::new(rest, amount.currency())?, false));
    } else if rest < 0 {
        let what = if order.credit.is_some() { "Credit from your return" } else { "Already paid" };
        lines.push(adjustment(what, Money::new(-rest, amount.currency())?, true));
    }
    Ok(lines)
}

/// A credit note's lines for `amount` refunded: one line, its tax in the order's proportion.
pub fn credit_lines(order: &Order, amount: Money, why: &str) -> Result<Vec<InvoiceLine>, MoneyError> {
    let total = order.totals.total.amount().max(1);
    let tax_part =
        i64::try_from(i128::from(amount.amount()) * i128::from(order.totals.tax.amount()) / i128::from(total))
            .map_err(|_| MoneyError::Overflow)?;
    let tax = Money::new(tax_part, amount.currency())?;
    let net = amount.checked_sub(tax)?;
    Ok(vec![InvoiceLine {
        description: why.into(),
        sku: None,
        quantity: 1,
        unit_price: net,
        net,
        tax,
        total: amount,
        deduct: false,
    }])
}

impl Invoice {
    /// Net, tax and total from the lines (deducted lines taken off).
    pub fn totals(
        lines: &[InvoiceLine],
        currency: super::money::Currency,
    ) -> Result<(Money, Money, Money), MoneyError> {
        let sum = |f: fn(&InvoiceLine) -> Money| -> Result<Money, MoneyError> {
            let plus = Money::sum(currency, lines.iter().filter(|l| !l.deduct).map(f))?;
            let minus = Money::sum(currency, lines.iter().filter(|l| l.deduct).map(f))?;
            plus.checked_sub(minus)
        };
        Ok((sum(|l| l.net)?, sum(|l| l.tax)?, sum(|l| l.total)?))
    }

    pub fn reference(&self) -> DocumentRef {
        DocumentRef {
            number: self.number.clone(),
            kind: self.kind,
            reference: self.reference.clone(),
            total: self.total,
            issued_at: self.issued_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_per_kind_and_year_and_sort_by_sequence() {
        let at: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        assert_eq!(series(DocumentKind::Invoice, at), "INV-2026");
        assert_eq!(series(DocumentKind::CreditNote, at), "CN-2026");
        assert_eq!(number("INV-2026", 42), "INV-2026-000042");
        assert!(number("INV-2026", 9) < number("INV-2026", 10));
    }
}
