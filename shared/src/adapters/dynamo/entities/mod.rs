//! One module per stored entity: its item builder (keys and index attributes, next to the
//! entity) and the storage ports it serves.

pub mod analytics;
pub mod backorders;
pub mod carts;
pub mod cases;
pub mod catalog;
pub mod companies;
pub mod customers;
pub mod dedupe;
pub mod feedback;
pub mod invoices;
pub mod orders;
pub mod outbox;
pub mod privacy;
pub mod promotions;
pub mod records;
pub mod returns;
pub mod services;
pub mod shipments;
pub mod stock;
pub mod webhooks;

pub const ENTITY_PRODUCT: &str = "product";
pub const ENTITY_COMPANY: &str = "company";
pub const ENTITY_LOCATION: &str = "location";
pub const ENTITY_STOCK: &str = "stock";
pub const ENTITY_CART: &str = "cart";
pub const ENTITY_ORDER: &str = "order";
/// An order's write-once part (lines, addresses, totals); `ENTITY_ORDER` is its state.
pub const ENTITY_ORDER_BODY: &str = "order_body";
pub const ENTITY_SHIPMENT: &str = "shipment";
pub const ENTITY_EVENT: &str = "timeline_event";
pub const ENTITY_TIMELINE: &str = "timeline";
pub const ENTITY_IDEMPOTENCY: &str = "idempotency";
pub const ENTITY_WEBHOOK: &str = "webhook_event";
pub const ENTITY_LABEL: &str = "label";
pub const ENTITY_MAIL: &str = "mail";
pub const ENTITY_ATTEMPTS: &str = "attempts";
pub const ENTITY_RETURN: &str = "return";
pub const ENTITY_RETURN_LABEL: &str = "return_label";
pub const ENTITY_CASE: &str = "case";
pub const ENTITY_PAYMENT: &str = "payment_ref";
pub const ENTITY_PREFERENCES: &str = "preferences";
pub const ENTITY_CUSTOMER: &str = "customer";
pub const ENTITY_OUTBOX: &str = "outbox";
pub const ENTITY_SERIES: &str = "document_series";
pub const ENTITY_INVOICE: &str = "invoice";
pub const ENTITY_DOCUMENT_REF: &str = "document_ref";
pub const ENTITY_FEEDBACK: &str = "feedback";
pub const ENTITY_PROMOTION: &str = "promotion";
pub const ENTITY_PROMOTION_USES: &str = "promotion_uses";
pub const ENTITY_PROMOTION_CODE: &str = "promotion_code";
pub const ENTITY_APPROVAL: &str = "approval";
pub const ENTITY_SERVICE_WINDOW: &str = "service_window";
pub const ENTITY_BACKORDER: &str = "backorder";
pub const ENTITY_BACKORDER_UNITS: &str = "backorder_units";
