//! The rules of comanda, free of I/O so they can be tested exhaustively and shared by
//! every backend and front end.

pub mod catalog;
pub mod catering;
pub mod identity;
pub mod ids;
pub mod locale;
pub mod money;
pub mod permissions;
pub mod pin;
pub mod reports;
pub mod role;
pub mod rounding;
pub mod shifts;
pub mod stores;
pub mod tax;
pub mod users;
pub mod validation;
pub mod webhooks;

pub use ids::{
    ApiKeyId, CategoryId, CompanyId, ContractId, DeliveryId, DeviceId, EventId, ModifierGroupId,
    ModifierOptionId, OrderId, OrderLineId, OutboxEventId, PaymentId, ProductId, RefundId,
    ServiceAreaId, SessionId, ShiftId, StockMovementId, StoreId, TableId, TaxRateId, UserId,
    VariantId, WebhookId,
};
pub use locale::Locale;
pub use money::{Currency, Money, MoneyError};
pub use permissions::{Permission, PermissionSet};
pub use role::Role;
pub use stores::{NewStore, Store, StoreCode, StoreName, StorePatch, Timezone};
pub use users::{DisplayName, Login, NewUser, PasswordHash, User, UserPatch};
pub use validation::ValidationError;
pub mod clock;
pub mod password_policy;
pub mod secret;

pub use secret::{Sealed, Secret};
pub mod orders;
