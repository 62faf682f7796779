//! Rows as both backends read them, and their conversion to domain types. Column types
//! line up across SQLite and PostgreSQL (UUIDs, UTC timestamps, integers, text), so one
//! definition serves both; only the SQL differs.

use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use comanda_domain::identity::{ApiKey, Device, SecurityEvent, Session};
use comanda_domain::{
    ApiKeyId, CompanyId, DeviceId, DisplayName, EventId, Login, PasswordHash, Permission,
    PermissionSet, Sealed, SessionId, Store, StoreCode, StoreId, StoreName, Timezone, User, UserId,
};
use uuid::Uuid;

/// The columns every query for a store selects, as a literal for `concat!` (queries
/// must be `&'static str` so none is ever built from input).
#[macro_export]
macro_rules! store_columns {
    () => {
        "id, code, name, currency, timezone, locale, version, created_at, updated_at"
    };
}

#[derive(Debug, sqlx::FromRow)]
pub struct StoreRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub currency: String,
    pub timezone: String,
    pub locale: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<StoreRow> for Store {
    type Error = StoreError;

    fn try_from(row: StoreRow) -> Result<Self> {
        Ok(Store {
            id: StoreId::from_uuid(row.id),
            code: StoreCode::parse("code", &row.code).map_err(corrupt("stores"))?,
            name: StoreName::parse("name", &row.name).map_err(corrupt("stores"))?,
            currency: row
                .currency
                .parse()
                .map_err(|()| corrupt_value("stores", "currency", &row.currency))?,
            timezone: Timezone::parse("timezone", &row.timezone).map_err(corrupt("stores"))?,
            locale: row
                .locale
                .parse()
                .map_err(|()| corrupt_value("stores", "locale", &row.locale))?,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[macro_export]
macro_rules! user_columns {
    () => {
        "id, login, display_name, password_hash, role, all_stores, must_change_password, disabled_at, version, \
         totp_secret, totp_pending_secret, totp_last_step, pin_hash, company_id, locale, created_at"
    };
}

#[derive(sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub login: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub all_stores: bool,
    pub must_change_password: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub totp_secret: Option<String>,
    pub totp_pending_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    pub pin_hash: Option<String>,
    pub company_id: Option<Uuid>,
    pub locale: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl UserRow {
    pub fn into_user(self, store_ids: Vec<Uuid>) -> Result<User> {
        Ok(User {
            id: UserId::from_uuid(self.id),
            login: Login::parse("login", &self.login).map_err(corrupt("users"))?,
            display_name: DisplayName::parse("display_name", &self.display_name)
                .map_err(corrupt("users"))?,
            password_hash: PasswordHash(self.password_hash),
            role: self
                .role
                .parse()
                .map_err(|()| corrupt_value("users", "role", &self.role))?,
            all_stores: self.all_stores,
            store_ids: store_ids.into_iter().map(StoreId::from_uuid).collect(),
            must_change_password: self.must_change_password,
            company_id: self.company_id.map(CompanyId::from_uuid),
            disabled: self.disabled_at.is_some(),
            version: self.version,
            totp_secret: self.totp_secret.map(Sealed::from_stored),
            totp_pending_secret: self.totp_pending_secret.map(Sealed::from_stored),
            totp_last_step: self.totp_last_step,
            pin_hash: self.pin_hash.map(PasswordHash),
            locale: self
                .locale
                .map(|tag| {
                    tag.parse()
                        .map_err(|()| corrupt_value("users", "locale", &tag))
                })
                .transpose()?,
            created_at: self.created_at,
        })
    }
}

#[macro_export]
macro_rules! session_columns {
    () => {
        "id, user_id, kind, device_id, mfa_verified, created_at, last_used_at, expires_at, revoked_at, ip, user_agent"
    };
}

#[derive(sqlx::FromRow)]
pub struct SessionRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub device_id: Option<Uuid>,
    pub mfa_verified: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self> {
        Ok(Session {
            id: SessionId::from_uuid(row.id),
            user_id: UserId::from_uuid(row.user_id),
            kind: row
                .kind
                .parse()
                .map_err(|()| corrupt_value("sessions", "kind", &row.kind))?,
            device_id: row.device_id.map(DeviceId::from_uuid),
            mfa_verified: row.mfa_verified,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
            ip: row.ip,
            user_agent: row.user_agent,
        })
    }
}

#[macro_export]
macro_rules! device_columns {
    () => {
        "id, store_id, name, created_by, created_at, revoked_at"
    };
}

#[derive(sqlx::FromRow)]
pub struct DeviceRow {
    pub id: Uuid,
    pub store_id: Uuid,
    pub name: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<DeviceRow> for Device {
    fn from(row: DeviceRow) -> Self {
        Device {
            id: DeviceId::from_uuid(row.id),
            store_id: StoreId::from_uuid(row.store_id),
            name: row.name,
            created_by: UserId::from_uuid(row.created_by),
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        }
    }
}

#[macro_export]
macro_rules! api_key_columns {
    () => {
        "id, name, permissions, all_stores, created_by, created_at, expires_at, last_used_at, revoked_at"
    };
}

#[derive(sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub name: String,
    pub permissions: String,
    pub all_stores: bool,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Permissions are stored by name, so renumbering the enum never changes a key's rights.
pub fn permissions_to_text(set: PermissionSet) -> String {
    set.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",")
}

impl ApiKeyRow {
    pub fn into_api_key(self, store_ids: Vec<Uuid>) -> Result<ApiKey> {
        let permissions = self
            .permissions
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<Permission>()
                    .map_err(|()| corrupt_value("api_keys", "permissions", p))
            })
            .collect::<Result<PermissionSet>>()?;
        Ok(ApiKey {
            id: ApiKeyId::from_uuid(self.id),
            name: self.name,
            permissions,
            all_stores: self.all_stores,
            store_ids: store_ids.into_iter().map(StoreId::from_uuid).collect(),
            created_by: UserId::from_uuid(self.created_by),
            created_at: self.created_at,
            expires_at: self.expires_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
        })
    }
}

#[macro_export]
macro_rules! security_event_columns {
    () => {
        "id, at, kind, actor_user_id, actor_api_key_id, store_id, subject_user_id, login, ip, request_id, details"
    };
}

#[derive(sqlx::FromRow)]
pub struct SecurityEventRow {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub actor_user_id: Option<Uuid>,
    pub actor_api_key_id: Option<Uuid>,
    pub store_id: Option<Uuid>,
    pub subject_user_id: Option<Uuid>,
    pub login: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub details: String,
}

impl TryFrom<SecurityEventRow> for SecurityEvent {
    type Error = StoreError;

    fn try_from(row: SecurityEventRow) -> Result<Self> {
        Ok(SecurityEvent {
            id: EventId::from_uuid(row.id),
            at: row.at,
            kind: row
                .kind
                .parse()
                .map_err(|()| corrupt_value("security_events", "kind", &row.kind))?,
            actor_user_id: row.actor_user_id.map(UserId::from_uuid),
            actor_api_key_id: row.actor_api_key_id.map(ApiKeyId::from_uuid),
            store_id: row.store_id.map(StoreId::from_uuid),
            subject_user_id: row.subject_user_id.map(UserId::from_uuid),
            login: row.login,
            ip: row.ip,
            request_id: row.request_id,
            details: serde_json::from_str(&row.details).map_err(|e| {
                StoreError::Internal(format!("unreadable security event details: {e}"))
            })?,
        })
    }
}

pub(crate) fn corrupt(
    table: &'static str,
) -> impl Fn(comanda_domain::ValidationError) -> StoreError {
    move |e| StoreError::Internal(format!("unreadable row in {table}: {e}"))
}

pub(crate) fn corrupt_value(table: &str, column: &str, value: &str) -> StoreError {
    StoreError::Internal(format!("unreadable row in {table}: {column} = {value:?}"))
}

/// The columns of sqlx's migration history that tell whether the schema is current.
pub const APPLIED_MIGRATIONS_SQL: &str = "SELECT version, description, checksum, success, installed_on FROM _sqlx_migrations ORDER BY version";

#[derive(sqlx::FromRow)]
pub struct AppliedMigrationRow {
    pub version: i64,
    pub description: String,
    pub checksum: Vec<u8>,
    pub success: bool,
    pub installed_on: DateTime<Utc>,
}

impl From<AppliedMigrationRow> for crate::AppliedMigration {
    fn from(row: AppliedMigrationRow) -> Self {
        Self {
            version: row.version,
            description: row.description,
            checksum: row.checksum,
            success: row.success,
            applied_at: row.installed_on,
        }
    }
}

/// A uniqueness rule of the schema, as `table(column, ...)`, with the names a client
/// is told when a write breaks it.
pub struct UniqueKey {
    pub rule: &'static str,
    pub entity: &'static str,
    pub field: &'static str,
}

/// Every uniqueness rule of the schema (primary keys too: some ids come from clients),
/// so no violation is ever an unexplained 500. A test on each backend reads the schema
/// and fails on a rule missing here.
pub const UNIQUE_KEYS: &[UniqueKey] = &[
    UniqueKey {
        rule: "stores(code)",
        entity: "store",
        field: "code",
    },
    UniqueKey {
        rule: "users(login)",
        entity: "user",
        field: "login",
    },
    UniqueKey {
        rule: "product_variants(store_id, sku)",
        entity: "variant",
        field: "sku",
    },
    UniqueKey {
        rule: "product_variants(store_id, barcode)",
        entity: "variant",
        field: "barcode",
    },
    UniqueKey {
        rule: "dining_tables(store_id, name)",
        entity: "table",
        field: "name",
    },
    UniqueKey {
        rule: "shifts(store_id, device_id)",
        entity: "shift",
        field: "device_id",
    },
    UniqueKey {
        rule: "shifts(store_id, number)",
        entity: "shift",
        field: "number",
    },
    UniqueKey {
        rule: "orders(store_id, number)",
        entity: "order",
        field: "number",
    },
    UniqueKey {
        rule: "z_reports(store_id, number)",
        entity: "Z report",
        field: "number",
    },
    UniqueKey {
        rule: "user_stores(user_id, store_id)",
        entity: "person's store",
        field: "store_ids",
    },
    UniqueKey {
        rule: "api_key_stores(api_key_id, store_id)",
        entity: "key's store",
        field: "store_ids",
    },
    UniqueKey {
        rule: "kitchen_stations(store_id, code)",
        entity: "station",
        field: "code",
    },
    UniqueKey {
        rule: "product_overrides(store_id, product_id)",
        entity: "override",
        field: "product_id",
    },
    UniqueKey {
        rule: "stock_levels(store_id, variant_id)",
        entity: "stock level",
        field: "variant_id",
    },
    UniqueKey {
        rule: "stock_holds(order_id, variant_id)",
        entity: "stock hold",
        field: "variant_id",
    },
    UniqueKey {
        rule: "service_days(contract_id, day)",
        entity: "service day",
        field: "date",
    },
    UniqueKey {
        rule: "processor_events(provider, event_id)",
        entity: "processor event",
        field: "id",
    },
    UniqueKey {
        rule: "idempotency_keys(id)",
        entity: "idempotency key",
        field: "key",
    },
    UniqueKey {
        rule: "recovery_codes(user_id, code_hash)",
        entity: "recovery code",
        field: "code",
    },
    UniqueKey {
        rule: "order_events(store_id, seq)",
        entity: "order event",
        field: "seq",
    },
    UniqueKey {
        rule: "outbox_events(store_id, seq)",
        entity: "outbox event",
        field: "seq",
    },
    UniqueKey {
        rule: "outbox_events(id)",
        entity: "outbox event",
        field: "id",
    },
    UniqueKey {
        rule: "webhook_deliveries(webhook_id, seq)",
        entity: "delivery",
        field: "seq",
    },
    UniqueKey {
        rule: "sales_totals(store_id, day, dimension, key)",
        entity: "sales total",
        field: "key",
    },
    UniqueKey {
        rule: "server_secrets(name)",
        entity: "server secret",
        field: "name",
    },
    UniqueKey {
        rule: "stores(id)",
        entity: "store",
        field: "id",
    },
    UniqueKey {
        rule: "users(id)",
        entity: "user",
        field: "id",
    },
    UniqueKey {
        rule: "devices(id)",
        entity: "terminal",
        field: "id",
    },
    UniqueKey {
        rule: "sessions(id)",
        entity: "session",
        field: "id",
    },
    UniqueKey {
        rule: "refresh_tokens(id)",
        entity: "refresh token",
        field: "id",
    },
    UniqueKey {
        rule: "api_keys(id)",
        entity: "API key",
        field: "id",
    },
    UniqueKey {
        rule: "security_events(id)",
        entity: "security event",
        field: "id",
    },
    UniqueKey {
        rule: "tax_rates(id)",
        entity: "tax rate",
        field: "id",
    },
    UniqueKey {
        rule: "categories(id)",
        entity: "category",
        field: "id",
    },
    UniqueKey {
        rule: "products(id)",
        entity: "product",
        field: "id",
    },
    UniqueKey {
        rule: "product_variants(id)",
        entity: "variant",
        field: "id",
    },
    UniqueKey {
        rule: "modifier_groups(id)",
        entity: "modifier group",
        field: "id",
    },
    UniqueKey {
        rule: "modifier_options(id)",
        entity: "modifier option",
        field: "id",
    },
    UniqueKey {
        rule: "stock_movements(id)",
        entity: "stock movement",
        field: "id",
    },
    UniqueKey {
        rule: "service_areas(id)",
        entity: "area",
        field: "id",
    },
    UniqueKey {
        rule: "dining_tables(id)",
        entity: "table",
        field: "id",
    },
    UniqueKey {
        rule: "orders(id)",
        entity: "order",
        field: "id",
    },
    UniqueKey {
        rule: "shifts(id)",
        entity: "shift",
        field: "id",
    },
    UniqueKey {
        rule: "webhooks(id)",
        entity: "webhook",
        field: "id",
    },
    UniqueKey {
        rule: "webhook_deliveries(id)",
        entity: "delivery",
        field: "id",
    },
    UniqueKey {
        rule: "companies(id)",
        entity: "company",
        field: "id",
    },
    UniqueKey {
        rule: "contracts(id)",
        entity: "contract",
        field: "id",
    },
    UniqueKey {
        rule: "bootstrap(id)",
        entity: "first-run record",
        field: "id",
    },
    UniqueKey {
        rule: "catalog_revisions(store_id)",
        entity: "catalog revision",
        field: "store_id",
    },
    UniqueKey {
        rule: "catalog_settings(store_id)",
        entity: "catalog settings",
        field: "store_id",
    },
    UniqueKey {
        rule: "catalog_follows(store_id)",
        entity: "catalog source",
        field: "store_id",
    },
    UniqueKey {
        rule: "order_log_heads(store_id)",
        entity: "order log",
        field: "store_id",
    },
    UniqueKey {
        rule: "packing_dictionaries(number)",
        entity: "packing dictionary",
        field: "number",
    },
    UniqueKey {
        rule: "order_settings(store_id)",
        entity: "order settings",
        field: "store_id",
    },
    UniqueKey {
        rule: "sales_positions(store_id)",
        entity: "sales position",
        field: "store_id",
    },
    UniqueKey {
        rule: "outbox_heads(store_id)",
        entity: "outbox",
        field: "store_id",
    },
];

/// The rule a backend reports as violated, as `table(column, ...)`.
pub fn unique_rule<'a>(table: &str, columns: impl IntoIterator<Item = &'a str>) -> String {
    let columns: Vec<&str> = columns.into_iter().map(str::trim).collect();
    format!("{table}({})", columns.join(", "))
}

/// The conflict for a violated uniqueness rule. A rule missing from [`UNIQUE_KEYS`] is
/// still a conflict with a row that exists, never a server failure: it is answered as
/// one, and logged as the omission it is.
pub fn unique_violation(rule: &str, detail: &str) -> StoreError {
    match UNIQUE_KEYS.iter().find(|k| k.rule == rule) {
        Some(k) => StoreError::Conflict {
            entity: k.entity,
            field: k.field,
        },
        None => {
            tracing::error!(rule, detail, "a uniqueness rule with no name for clients");
            StoreError::Conflict {
                entity: "record",
                field: "id",
            }
        }
    }
}
