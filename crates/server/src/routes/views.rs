//! What the API shows of stored records: never a hash or a secret.

use chrono::{DateTime, Utc};
use comanda_domain::identity::{ApiKey, Device, Session, SessionKind};
use comanda_domain::{
    ApiKeyId, CompanyId, DeviceId, Locale, Permission, Role, SessionId, StoreId, User, UserId,
};
use serde::Serialize;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct UserView {
    pub id: UserId,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub all_stores: bool,
    pub store_ids: Vec<StoreId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_id: Option<CompanyId>,
    pub disabled: bool,
    pub totp_enabled: bool,
    pub has_pin: bool,
    pub must_change_password: bool,
    /// The person's own language; null means the store's.
    pub locale: Option<Locale>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            totp_enabled: u.totp_enabled(),
            has_pin: u.pin_hash.is_some(),
            id: u.id,
            login: u.login.into(),
            display_name: u.display_name.into(),
            role: u.role,
            all_stores: u.all_stores,
            store_ids: u.store_ids,
            company_id: u.company_id,
            disabled: u.disabled,
            must_change_password: u.must_change_password,
            locale: u.locale,
            version: u.version,
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SessionView {
    pub id: SessionId,
    pub kind: SessionKind,
    pub device_id: Option<DeviceId>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session this request was made with.
    pub current: bool,
}

impl SessionView {
    pub fn new(s: Session, current: Option<SessionId>) -> Self {
        Self {
            current: Some(s.id) == current,
            id: s.id,
            kind: s.kind,
            device_id: s.device_id,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            ip: s.ip,
            user_agent: s.user_agent,
        }
    }
}

pub type DeviceView = Device;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ApiKeyView {
    pub id: ApiKeyId,
    pub name: String,
    pub permissions: Vec<Permission>,
    pub all_stores: bool,
    pub store_ids: Vec<StoreId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            permissions: k.permissions.iter().collect(),
            all_stores: k.all_stores,
            store_ids: k.store_ids,
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}
