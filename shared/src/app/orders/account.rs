//! Orders on account (B2B): a buyer of a company orders with a purchase-order number instead of
//! a card; the order draws the company's credit in its own commit (the company's version is a
//! condition of it) and gives it back when cancelled; finance records the company's payments.
//! Staff set accounts up: credit limit, buyers, payment terms (net 30 by default).

use super::super::{AppError, Caller, Oms, Permission};
use crate::domain::company::{Company, CreditError, MAX_BUYERS, MAX_TERMS_DAYS, TermsPayment};
use crate::domain::*;
use crate::ports::StoreError;
use serde::Deserialize;

/// `purchaseOrder` on a placement: the company ordered for and its PO number.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PurchaseOrderInput {
    pub company_id: String,
    pub number: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompanyInput {
    pub name: String,
    pub credit_limit: Money,
    pub buyers: Vec<String>,
    #[serde(default = "net_30")]
    pub payment_terms_days: u32,
}

fn net_30() -> u32 {
    30
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompanyPaymentInput {
    pub amount: Money,
}

/// The contract's largest amount (minor units).
const MAX_MONEY: i64 = 1_000_000_000_000;

fn company_id(id: &str) -> Result<&str, AppError> {
    if Company::is_valid_id(id) { Ok(id) } else { Err(AppError::NotFound) }
}

impl Oms {
    /// The terms of a purchase order placed by `buyer`, checked against the company.
    pub(crate) async fn purchase_terms(
        &self,
        buyer: &CustomerId,
        po: &PurchaseOrderInput,
    ) -> Result<(Company, TermsPayment), AppError> {
        let number = po.number.trim();
        if number.is_empty() || number.len() > 40 || !number.bytes().all(|b| b.is_ascii_graphic() && b != b'#') {
            return Err(AppError::invalid_field("purchaseOrder.number", "1-40 visible ASCII characters, no '#'"));
        }
        // Unknown company or not one of its buyers: the same answer (no account probing).
        let company = match Company::is_valid_id(&po.company_id) {
            true => self.store.get_company(&po.company_id).await?,
            false => None,
        }
        .filter(|c| c.buyers.contains(buyer))
        .ok_or_else(|| AppError::invalid_field("purchaseOrder.companyId", "not a company you order for"))?;
        let terms = TermsPayment {
            company_id: company.id.clone(),
            purchase_order: number.to_owned(),
            net_days: company.payment_terms_days,
        };
        Ok((company, terms))
    }

    /// The company with the order's amount drawn, as the order's commit writes it.
    pub(crate) fn draw_credit(
        company: &Company,
        amount: Money,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Write<Company>, AppError> {
        match company.draw(amount, now) {
            Ok(next) => Ok(Write::Update { value: next, expected_version: company.version }),
            Err(CreditError::Currency(c)) => {
                Err(AppError::invalid_field("purchaseOrder.companyId", format!("the account is in {c}")))
            }
            Err(CreditError::OverLimit { available }) => Err(AppError::UnprocessableField {
                kind: "credit-limit-exceeded",
                detail: format!("purchaseOrder: the order is over the company's credit limit ({available} available)"),
                field: "purchaseOrder",
            }),
        }
    }

    /// The company write giving back a cancelled order's credit, if it was on account.
    pub(crate) async fn release_credit(
        &self,
        order: &Order,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Write<Company>>, AppError> {
        let PaymentMethod::Terms(t) = &order.payment.method else { return Ok(None) };
        let Some(company) = self.store.get_company(&t.company_id).await? else { return Ok(None) };
        let owed = order.payable().amount() - order.payment.captured.map_or(0, |c| c.amount());
        Ok(Some(Write::Update { value: company.release(owed, now), expected_version: company.version }))
    }

    pub async fn get_company(&self, caller: &Caller, id: &str) -> Result<Company, AppError> {
        if !caller.may(Permission::Companies) {
            return Err(AppError::Forbidden);
        }
        self.store.get_company(company_id(id)?).await?.ok_or(AppError::NotFound)
    }

    /// Creates or updates an account (its exposure stays what its orders drew).
    pub async fn put_company(&self, caller: &Caller, id: &str, input: CompanyInput) -> Result<Company, AppError> {
        if !caller.may(Permission::Companies) {
            return Err(AppError::Forbidden);
        }
        if !Company::is_valid_id(id) {
            return Err(AppError::invalid_field("companyId", "1-40 lowercase letters, digits and '-'"));
        }
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(AppError::invalid_field("name", "1-200 characters"));
        }
        if !(0..=MAX_MONEY).contains(&input.credit_limit.amount()) || !limits::sold_in(input.credit_limit.currency()) {
            return Err(AppError::invalid_field(
                "creditLimit",
                format!("0 to {MAX_MONEY} minor units in a currency the shop sells in"),
            ));
        }
        if input.payment_terms_days == 0 || input.payment_terms_days > MAX_TERMS_DAYS {
            return Err(AppError::invalid_field("paymentTermsDays", format!("1 to {MAX_TERMS_DAYS} days")));
        }
        if input.buyers.len() > MAX_BUYERS {
            return Err(AppError::invalid_field("buyers", format!("at most {MAX_BUYERS}")));
        }
        let mut buyers = Vec::new();
        for b in &input.buyers {
            let ok = (1..=128).contains(&b.len()) && b.bytes().all(|c| c.is_ascii_graphic());
            let id = CustomerId::parse(b)
                .ok()
                .filter(|_| ok)
                .ok_or_else(|| AppError::invalid_field("buyers", "customer ids"))?;
            if !buyers.contains(&id) {
                buyers.push(id);
            }
        }
        for _ in 0..5 {
            let now = self.clock.now();
            let current = self.store.get_company(id).await?;
            if current
                .as_ref()
                .is_some_and(|c| c.credit_limit.currency() != input.credit_limit.currency() && c.exposure > 0)
            {
                return Err(AppError::invalid_field(
                    "creditLimit",
                    "the account's currency, while orders are open on it",
                ));
            }
            let next = Company {
                id: id.to_owned(),
                name: name.to_owned(),
                credit_limit: input.credit_limit,
                exposure: current.as_ref().map_or(0, |c| c.exposure),
                buyers: buyers.clone(),
                payment_terms_days: input.payment_terms_days,
                version: current.as_ref().map_or(1, |c| c.version + 1),
                updated_at: now,
            };
            match self.store.put_company(&next, current.as_ref().map_or(0, |c| c.version)).await {
                Ok(()) => return Ok(next),
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::StaleVersion)
    }

    /// A payment received from the company: its exposure goes down by the amount.
    pub async fn record_company_payment(
        &self,
        caller: &Caller,
        id: &str,
        input: CompanyPaymentInput,
    ) -> Result<Company, AppError> {
        if !caller.may(Permission::Companies) {
            return Err(AppError::Forbidden);
        }
        if !(1..=MAX_MONEY).contains(&input.amount.amount()) {
            return Err(AppError::invalid_field("amount", format!("1 to {MAX_MONEY} minor units")));
        }
        for _ in 0..5 {
            let c = self.store.get_company(company_id(id)?).await?.ok_or(AppError::NotFound)?;
            if c.credit_limit.currency() != input.amount.currency() {
                return Err(AppError::UnprocessableField {
                    kind: "currency-mismatch",
                    detail: format!("amount: the account's currency, {}", c.credit_limit.currency()),
                    field: "amount",
                });
            }
            // What the account owes is the most a payment settles: an excess would vanish
            // (exposure stops at 0) with no credit recorded anywhere.
            if input.amount.amount() > c.exposure {
                return Err(AppError::UnprocessableField {
                    kind: "overpayment",
                    detail: format!(
                        "amount: the account owes {} minor units; record at most that (an excess is refunded to the company outside the OMS)",
                        c.exposure
                    ),
                    field: "amount",
                });
            }
            let next = c.release(input.amount.amount(), self.clock.now());
            match self.store.put_company(&next, c.version).await {
                Ok(()) => return Ok(next),
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::StaleVersion)
    }
}
