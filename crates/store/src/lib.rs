//! Storage for comanda. The server holds an `Arc<dyn Storage>`; each backend crate
//! (SQLite, PostgreSQL) implements the per-area traits below and must pass the same
//! [conformance] suite. Handlers never see SQL.
//!
//! The persistence trait is called `Storage` rather than `Store` because "store" already
//! means a shop in this product (`/api/v1/stores/{store_id}`).

pub mod audit;
pub mod catalog;
pub mod catalog_rows;
pub mod catalog_share;
pub mod catering;
pub mod devices;
#[doc(hidden)]
pub mod documents;
pub mod error;
#[doc(hidden)]
pub mod group_commit;
pub mod idempotency;
pub mod log_tail;
pub mod migrations;
pub mod ops;
pub mod orders;
pub mod outbox;
pub mod packed;
pub mod page;
pub mod reports;
pub mod rows;
pub mod sessions;
pub mod sql;
pub mod stores;
pub mod users;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use audit::{AuditRepo, EventFilter, SecretRepo};
pub use catalog::{
    CatalogRepo, ImportPlan, ImportProduct, ImportSummary, MenuData, ProductFilter, StockFilter,
    StockRepo, Transfer, TransferLine,
};
pub use catalog_share::CatalogShareRepo;
pub use catering::{CateringRepo, CompanyFilter};
pub use devices::{ApiKeyRepo, DeviceRepo};
pub use error::StoreError;
pub use idempotency::{ClaimOutcome, IdempotencyClaim, IdempotencyRepo, StoredResponse};
pub use migrations::{
    AppliedMigration, KnownMigration, MigrationState, MigrationStatus, known_migrations,
    migrate_error,
};
pub use ops::{Backend, Ops, PoolStats};
pub use orders::{
    CommitOutcome, DiningTable, OrderCommit, OrderFilter, OrderRepo, OrderWrite, Respond,
    ServiceArea, StockHold, TableDraft,
};
pub use outbox::{
    Attempt, Delivery, DeliveryStatus, LeasedWebhook, NewOutboxEvent, OutboxEvent, OutboxRepo,
    Replay, Webhook,
};
pub use page::{Limit, Page};
pub use reports::{ReportRepo, SalesPosition, ZReport};
pub use sessions::{Rotation, SessionRepo};
pub use stores::StoreRepo;
pub use users::{Bootstrap, BootstrapOutcome, UserFilter, UserRepo};

/// Everything the server needs from a database.
pub trait Storage:
    Ops
    + StoreRepo
    + UserRepo
    + Bootstrap
    + SessionRepo
    + DeviceRepo
    + ApiKeyRepo
    + AuditRepo
    + SecretRepo
    + CatalogRepo
    + StockRepo
    + CatalogShareRepo
    + IdempotencyRepo
    + OrderRepo
    + ReportRepo
    + OutboxRepo
    + CateringRepo
{
}

impl<T> Storage for T where
    T: Ops
        + StoreRepo
        + UserRepo
        + Bootstrap
        + SessionRepo
        + DeviceRepo
        + ApiKeyRepo
        + AuditRepo
        + SecretRepo
        + CatalogRepo
        + StockRepo
        + CatalogShareRepo
        + IdempotencyRepo
        + OrderRepo
        + ReportRepo
        + OutboxRepo
        + CateringRepo
{
}

/// For the shared SQL, expanded in the backend crates.
#[doc(hidden)]
pub use futures::future::try_join;
#[doc(hidden)]
pub use serde_json;
#[doc(hidden)]
pub use tokio;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
