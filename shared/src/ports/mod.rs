//! What the use-cases need from the outside world, one file per concern. Storage ports speak
//! domain types only; adapters (`crate::adapters`) implement them.

mod analytics;
mod backorders;
mod carrier;
mod carts;
mod cases;
mod catalog;
mod clock;
mod companies;
mod customers;
mod dedupe;
mod error;
mod events;
mod feedback;
mod idempotency;
mod integrations;
mod invoices;
mod locations;
mod mailer;
mod messages;
mod orders;
mod outbox;
mod payment;
mod privacy;
mod promotions;
mod queue;
mod returns;
mod services;
mod shipments;
mod stock;
mod webhooks;

pub use analytics::{AnalyticsRepository, FactCommit, MAX_FACT_COMMIT_ITEMS};
pub use backorders::BackorderRepository;
pub use carrier::{Carrier, CarrierError, Label, LabelSource, Parcel, Rate};
pub use carts::CartRepository;
pub use cases::CaseRepository;
pub use catalog::{CatalogRepository, SettingsRepository};
pub use clock::{Clock, SystemClock};
pub use companies::CompanyRepository;
pub use customers::{CustomerRepository, PreferenceRepository};
pub use dedupe::{AttemptCounter, MailClaim, MailDedupe, ProviderEventDedupe};
pub use error::StoreError;
pub use events::EventBus;
pub use feedback::FeedbackRepository;
pub use idempotency::IdempotencyRepository;
pub use integrations::{Crm, Erp, IntegrationError, Loyalty};
pub use invoices::InvoiceRepository;
pub use locations::LocationRepository;
pub use mailer::{Attachment, Mail, MailError, Mailer};
pub use messages::{MessageError, MessageSender, OutboundMessage};
pub use orders::{Listing, OrderChanges, OrderFile, OrderRepository, OrderView, Page, is_created_position};
pub use outbox::{Outbox, Settlement};
pub use payment::{Authorization, AuthorizeRequest, PaymentError, PaymentGateway};
pub use privacy::PersonalData;
pub use promotions::PromotionRepository;
pub use queue::Queue;
pub use returns::ReturnRepository;
pub use services::ServiceCapacityRepository;
pub use shipments::{ShipmentRepository, Tracked};
pub use stock::{Counted, StockRepository};
pub use webhooks::{WebhookRepository, WebhookSender};

/// Declares `Store` as every storage port at once, implemented for whatever implements them
/// all, and a prelude that brings their methods into scope; the list is written once.
macro_rules! storage_ports {
    ($($port:ident),+ $(,)?) => {
        /// Every storage port: what a composition root hands to the use-cases. The DynamoDB
        /// single table and the in-memory twin both implement it.
        pub trait Store: $($port +)+ {}

        impl<T> Store for T where T: $($port +)+ {}

        /// The storage traits, for calling their methods on a concrete store.
        pub mod prelude {
            pub use super::{$($port as _),+};
        }
    };
}

storage_ports!(
    OrderRepository,
    OrderChanges,
    ShipmentRepository,
    CartRepository,
    StockRepository,
    CatalogRepository,
    LocationRepository,
    ReturnRepository,
    CaseRepository,
    IdempotencyRepository,
    ProviderEventDedupe,
    MailDedupe,
    AttemptCounter,
    PreferenceRepository,
    CustomerRepository,
    SettingsRepository,
    Outbox,
    PersonalData,
    WebhookRepository,
    AnalyticsRepository,
    InvoiceRepository,
    FeedbackRepository,
    CompanyRepository,
    PromotionRepository,
    ServiceCapacityRepository,
    BackorderRepository,
);
