//! Who may do what: the staff roles a token's scopes grant, the permissions each role holds,
//! and which audience projection a caller reads. One table, used by every HTTP function and by
//! the use cases that have a limit inside them (a goodwill refund over an agent's limit).
//!
//! Scopes (space-separated `scope` claim, or API Gateway's `scopes`): `oms/agent`,
//! `oms/supervisor`, `oms/warehouse`, `oms/finance`, `oms/integration`; `oms/admin` holds every
//! role. A token without any of them is a customer: its `sub` owns orders, carts and returns.

use crate::domain::{Actor, CustomerId};

/// A staff role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Call-centre agent: reads customers and orders, notes, holds, cases, re-sends, edits and
    /// cancels for a customer, goodwill refunds within the agent limit.
    Agent,
    /// Everything an agent may, plus refunds over the agent limit and disputes.
    Supervisor,
    /// Stock, locations, receiving returns, labels (pick and pack), pickup orders handed over
    /// at the store counter.
    Warehouse,
    /// Refunds, reconciliation, exports.
    Finance,
    /// Machine clients (ERP, PIM, WMS): catalog, stock and locations in, orders out.
    Integration,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Agent, Role::Supervisor, Role::Warehouse, Role::Finance, Role::Integration];

    pub fn scope(self) -> &'static str {
        match self {
            Role::Agent => "oms/agent",
            Role::Supervisor => "oms/supervisor",
            Role::Warehouse => "oms/warehouse",
            Role::Finance => "oms/finance",
            Role::Integration => "oms/integration",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// What this role may do.
    pub fn grants(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Agent => {
                matches!(
                    p,
                    ReadOrders | ReadCustomers | ActForCustomer | Annotate | Cases | Refund | ReadLabels | Adjust
                )
            }
            Role::Supervisor => matches!(
                p,
                ReadOrders
                    | ReadCustomers
                    | ActForCustomer
                    | Annotate
                    | Cases
                    | Refund
                    | RefundOverLimit
                    | Disputes
                    | ReadLabels
                    | Webhooks
                    | Analytics
                    | Companies
                    | Adjust
                    | ApproveAdjustments
                    | Promotions
                    | Services
            ),
            Role::Warehouse => {
                matches!(p, ReadOrders | Stock | Locations | ReceiveReturns | ReadLabels | Pickups | Pack)
            }
            Role::Finance => {
                matches!(
                    p,
                    ReadOrders
                        | ReadCustomers
                        | Refund
                        | RefundOverLimit
                        | Reconciliation
                        | Disputes
                        | Cases
                        | Analytics
                        | Companies
                )
            }
            Role::Integration => {
                matches!(p, ReadOrders | Catalog | Stock | Locations | Webhooks | ImportOrders | Services)
            }
        }
    }
}

/// The scope that holds every role (today's tokens, the README session and `events/` samples).
pub const ADMIN_SCOPE: &str = "oms/admin";

/// One thing a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read and list any customer's orders and cases.
    ReadOrders,
    /// Search customers and read their profile and customer window.
    ReadCustomers,
    /// Edit, cancel, open returns on a customer's order, on their behalf.
    ActForCustomer,
    /// Notes, holds and their release, cases, re-sent notifications.
    Annotate,
    /// Goodwill refunds up to the agent limit.
    Refund,
    /// Goodwill refunds of any amount.
    RefundOverLimit,
    /// Dispute cases.
    Disputes,
    /// Opening and moving cases (which kinds: `Annotate` for complaints and inquiries,
    /// `Disputes` for disputes, checked by the use case).
    Cases,
    /// Products.
    Catalog,
    /// Stock counts.
    Stock,
    /// Locations.
    Locations,
    /// Receiving returned parcels.
    ReceiveReturns,
    /// Shipping label documents.
    ReadLabels,
    /// The reconciliation report.
    Reconciliation,
    /// Webhook subscriptions: create, rotate, enable, delivery log, replay.
    Webhooks,
    /// Order analytics: figures, time series, customers' lifetime figures, rebuilds.
    Analytics,
    /// Handing pickup orders over at the store counter (against the customer's code).
    Pickups,
    /// Importing marketplace orders (their connector).
    ImportOrders,
    /// Pick lists and packing parcels (warehouse and store staff).
    Pack,
    /// Business accounts: credit limits, buyers, payments received.
    Companies,
    /// Price adjustments on an order up to the agent limit (above it they wait for approval).
    Adjust,
    /// Approving or rejecting adjustments over the agent limit.
    ApproveAdjustments,
    /// Promotions: codes, automatic promotions, their conditions and limits.
    Promotions,
    /// Technicians' capacity and visits' progress (the field-service system, supervisors).
    Services,
}

/// A set of roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Roles(u8);

impl Roles {
    pub const NONE: Roles = Roles(0);

    pub fn all() -> Roles {
        Role::ALL.iter().fold(Roles::NONE, |r, x| r.with(*x))
    }

    pub fn with(self, r: Role) -> Roles {
        Roles(self.0 | r.bit())
    }

    pub fn has(self, r: Role) -> bool {
        self.0 & r.bit() != 0
    }

    /// The roles a token's scopes grant; unknown scopes grant nothing.
    pub fn from_scopes<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Roles {
        scopes.into_iter().fold(Roles::NONE, |acc, s| {
            if s == ADMIN_SCOPE {
                return Roles::all();
            }
            Role::ALL.iter().find(|r| r.scope() == s).map_or(acc, |r| acc.with(*r))
        })
    }

    pub fn is_staff(self) -> bool {
        self.0 != 0
    }

    pub fn may(self, p: Permission) -> bool {
        Role::ALL.iter().any(|r| self.has(*r) && r.grants(p))
    }
}

/// Who reads an order: each gets its own projection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The buyer: their order as a shop shows it, no internal notes, cases, fraud signals or
    /// provider errors.
    Customer,
    /// Staff who act on orders: everything.
    Agent,
    /// Machine clients: the order and its milestones, no notes or reasons.
    Integration,
}

/// Who is calling: the JWT `sub` and the roles its scopes grant.
#[derive(Debug, Clone)]
pub struct Caller {
    pub customer: CustomerId,
    pub roles: Roles,
}

impl Caller {
    pub fn customer(customer: CustomerId) -> Caller {
        Caller { customer, roles: Roles::NONE }
    }

    /// A caller holding every role (the `oms/admin` scope).
    pub fn admin(customer: CustomerId) -> Caller {
        Caller { customer, roles: Roles::all() }
    }

    pub fn is_staff(&self) -> bool {
        self.roles.is_staff()
    }

    pub fn may(&self, p: Permission) -> bool {
        self.roles.may(p)
    }

    /// The caller may read this customer's data: their own, or staff who read orders.
    pub fn reads(&self, owner: &CustomerId) -> bool {
        &self.customer == owner || self.may(Permission::ReadOrders)
    }

    /// The caller may change this customer's order: the owner, or staff acting for them.
    pub fn acts_for(&self, owner: &CustomerId) -> bool {
        &self.customer == owner || self.may(Permission::ActForCustomer)
    }

    /// How the caller appears on the timeline of `owner`'s order.
    pub fn actor_on(&self, owner: &CustomerId) -> Actor {
        if &self.customer == owner {
            Actor::Customer(self.customer.to_string())
        } else {
            Actor::Agent(self.customer.to_string())
        }
    }

    /// Which projection of an order this caller reads.
    pub fn audience(&self) -> Audience {
        if self.may(Permission::Annotate) || self.may(Permission::Refund) || self.roles.has(Role::Warehouse) {
            Audience::Agent
        } else if self.is_staff() {
            Audience::Integration
        } else {
            Audience::Customer
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_scope_holds_every_role_and_unknown_scopes_nothing() {
        assert_eq!(Roles::from_scopes(["oms/admin"]), Roles::all());
        assert_eq!(Roles::from_scopes(["openid", "oms/root"]), Roles::NONE);
        let r = Roles::from_scopes(["oms/warehouse", "email"]);
        assert!(r.may(Permission::Stock) && !r.may(Permission::Refund));
    }

    #[test]
    fn supervisors_hold_everything_agents_do() {
        for p in [
            Permission::ReadOrders,
            Permission::ActForCustomer,
            Permission::Annotate,
            Permission::Refund,
            Permission::ReadLabels,
        ] {
            assert!(Role::Agent.grants(p) && Role::Supervisor.grants(p), "{p:?}");
        }
        assert!(!Role::Agent.grants(Permission::RefundOverLimit));
    }
}
