//! Pure, synchronous domain types and rules. No AWS types, no I/O.

pub mod address;
pub mod adjustment;
pub mod analytics;
pub mod backorder;
pub mod cart;
pub mod catalog;
pub mod change;
pub mod company;
pub mod confirmation;
pub mod customer;
pub mod effects;
pub mod email;
pub mod events;
pub mod feedback;
pub mod figures;
pub mod forecast;
pub mod geo;
pub mod hours;
pub mod ids;
pub mod integrations;
pub mod inventory;
pub mod invoice;
pub mod ledger;
pub mod limits;
pub mod loyalty;
pub mod messaging;
pub mod money;
pub mod order;
pub mod pickup;
pub mod pricing;
pub mod privacy;
pub mod promotion;
pub mod recovery;
pub mod returns;
pub mod rules;
pub mod service;
pub mod shipment;
pub mod sourcing;
pub mod status;
pub mod stock;
pub mod stored;
pub mod support;
pub mod validation;
pub mod visits;
pub mod warranty;
pub mod webhooks;

pub use address::{Address, AddressError, AddressInput, CountryCode};
pub use cart::{Cart, CartError, CartItem};
pub use catalog::{CatalogError, Dimensions, GeoPoint, Location, LocationKind, Product, ProductKind, StreetAddress};
pub use change::{
    Deferral, Effect, IDEMPOTENCY_TTL_HOURS, IdempotencyRecord, LabelDoc, Notification, OrderChange, OutboxEntry,
    ProviderEvent, ReturnLabelDoc, StockDelta, StockMove, StockMovement, Write,
};
pub use email::{Email, EmailError};
pub use ids::{
    CartId, CaseId, CustomerId, EventId, IdError, LocationId, OrderId, Quantity, QuantityError, ReturnId, ShipmentId,
    Sku,
};
pub use ledger::{LedgerEntry, LedgerKind, RefundError};
pub use money::{Currency, Money, MoneyError};
pub use order::{
    Actor, Channel, Delivery, Order, OrderLine, Payment, Reservation, ReservationState, ServiceLevel, Shipment,
    ShipmentLine, ShipmentStatus, StoredBody, TimelineEvent, Totals,
};
pub use pickup::PickupHold;
pub use recovery::{MARKETPLACE_SETTLED, MarketplacePayment, PaymentMethod, PaymentRecovery, TERMS_SETTLED};
pub use shipment::{MAX_PARCEL_GRAMS, MAX_PARCEL_SIDE_MM, PackedParcel};
pub use status::{IllegalTransition, OrderEvent, OrderStatus, transition};
pub use stock::{StockError, StockLevel, StockRecord};
