//! Rows as both backends read them, and their conversion to domain types. Column types
//! line up across SQLite and PostgreSQL (UUIDs, UTC timestamps, integers, text), so one
//! definition serves both; only the SQL differs.

use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use comanda_domain::{
    DisplayName, Login, Store, StoreCode, StoreId, StoreName, Timezone, User, UserId,
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
        "id, login, display_name, password_hash, role, all_stores, must_change_password, disabled_at, version"
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
}

impl UserRow {
    pub fn into_user(self, store_ids: Vec<Uuid>) -> Result<User> {
        Ok(User {
            id: UserId::from_uuid(self.id),
            login: Login::parse("login", &self.login).map_err(corrupt("users"))?,
            display_name: DisplayName::parse("display_name", &self.display_name)
                .map_err(corrupt("users"))?,
            password_hash: comanda_domain::PasswordHash(self.password_hash),
            role: self
                .role
                .parse()
                .map_err(|()| corrupt_value("users", "role", &self.role))?,
            all_stores: self.all_stores,
            store_ids: store_ids.into_iter().map(StoreId::from_uuid).collect(),
            must_change_password: self.must_change_password,
            disabled: self.disabled_at.is_some(),
            version: self.version,
        })
    }
}

fn corrupt(table: &'static str) -> impl Fn(comanda_domain::ValidationError) -> StoreError {
    move |e| StoreError::Internal(format!("unreadable row in {table}: {e}"))
}

fn corrupt_value(table: &str, column: &str, value: &str) -> StoreError {
    StoreError::Internal(format!("unreadable row in {table}: {column} = {value:?}"))
}

/// The columns of sqlx's migration history that tell whether the schema is current.
pub const APPLIED_MIGRATIONS_SQL: &str =
    "SELECT version, checksum, success, installed_on FROM _sqlx_migrations ORDER BY version";

#[derive(sqlx::FromRow)]
pub struct AppliedMigrationRow {
    pub version: i64,
    pub checksum: Vec<u8>,
    pub success: bool,
    pub installed_on: DateTime<Utc>,
}

impl From<AppliedMigrationRow> for crate::AppliedMigration {
    fn from(row: AppliedMigrationRow) -> Self {
        Self {
            version: row.version,
            checksum: row.checksum,
            success: row.success,
            applied_at: row.installed_on,
        }
    }
}

/// A uniqueness rule, named the way each backend reports its violation.
pub struct UniqueKey {
    /// SQLite says `UNIQUE constraint failed: <table>.<column>`.
    pub sqlite: &'static str,
    /// PostgreSQL names the constraint.
    pub postgres: &'static str,
    pub entity: &'static str,
    pub field: &'static str,
}

pub const UNIQUE_KEYS: &[UniqueKey] = &[
    UniqueKey {
        sqlite: "stores.code",
        postgres: "stores_code_key",
        entity: "store",
        field: "code",
    },
    UniqueKey {
        sqlite: "users.login",
        postgres: "users_login_key",
        entity: "user",
        field: "login",
    },
];

/// The conflict for a violated uniqueness rule; an unknown rule is a bug, not a conflict.
pub fn unique_violation(matches: impl Fn(&UniqueKey) -> bool, detail: &str) -> StoreError {
    UNIQUE_KEYS
        .iter()
        .find(|k| matches(k))
        .map(|k| StoreError::Conflict {
            entity: k.entity,
            field: k.field,
        })
        .unwrap_or_else(|| {
            StoreError::Internal(format!("unexpected uniqueness violation: {detail}"))
        })
}
