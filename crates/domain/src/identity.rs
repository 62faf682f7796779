//! Sessions, terminals, API keys and the security log: the records behind sign-in.

use crate::ids::{ApiKeyId, DeviceId, EventId, SessionId, StoreId, UserId};
use crate::permissions::PermissionSet;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a session was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// Login and password (and TOTP where required).
    Password,
    /// Staff PIN on a registered terminal; scoped to that terminal's store.
    Pin,
}

impl SessionKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionKind::Password => "password",
            SessionKind::Pin => "pin",
        }
    }
}

impl FromStr for SessionKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "password" => Ok(SessionKind::Password),
            "pin" => Ok(SessionKind::Pin),
            _ => Err(()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub kind: SessionKind,
    pub device_id: Option<DeviceId>,
    /// A second factor was presented when the session opened (or enrolled in it).
    pub mfa_verified: bool,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub kind: SessionKind,
    pub device_id: Option<DeviceId>,
    pub mfa_verified: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Session {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// A refresh token as stored: only the SHA-256 of its secret, found by its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRefreshToken {
    pub id: uuid::Uuid,
    pub secret_hash: [u8; 32],
    pub expires_at: DateTime<Utc>,
}

/// A registered POS terminal; its token is stored hashed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Device {
    pub id: DeviceId,
    pub store_id: StoreId,
    pub name: String,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDevice {
    pub id: DeviceId,
    pub store_id: StoreId,
    pub name: String,
    pub secret_hash: [u8; 32],
    pub created_by: UserId,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub secret_hash: [u8; 32],
    pub permissions: PermissionSet,
    pub all_stores: bool,
    pub store_ids: Vec<StoreId>,
    pub created_by: UserId,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub permissions: PermissionSet,
    pub all_stores: bool,
    pub store_ids: Vec<StoreId>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|t| t > now)
    }
}

/// What the security log records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecurityEventKind {
    LoginSucceeded,
    LoginFailed,
    LoginThrottled,
    PinLoginSucceeded,
    PinLoginFailed,
    RefreshTokenReused,
    LoggedOut,
    SessionRevoked,
    PasswordChanged,
    PasswordReset,
    TotpEnrolled,
    TotpDisabled,
    TotpReset,
    RecoveryCodeUsed,
    PinSet,
    PermissionDenied,
    UserCreated,
    UserUpdated,
    UserDisabled,
    UserEnabled,
    StoreCreated,
    StoreUpdated,
    DeviceRegistered,
    DeviceRevoked,
    ApiKeyCreated,
    ApiKeyRevoked,
    /// A manager approved a cashier's action with their PIN on the cashier's terminal.
    ApprovalGranted,
    ApprovalFailed,
    /// Outbound webhooks send the store's data out: who pointed them where is kept.
    WebhookCreated,
    WebhookUpdated,
    WebhookDeleted,
}

impl SecurityEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::LoginThrottled => "login_throttled",
            Self::PinLoginSucceeded => "pin_login_succeeded",
            Self::PinLoginFailed => "pin_login_failed",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::LoggedOut => "logged_out",
            Self::SessionRevoked => "session_revoked",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::TotpEnrolled => "totp_enrolled",
            Self::TotpDisabled => "totp_disabled",
            Self::TotpReset => "totp_reset",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::PinSet => "pin_set",
            Self::PermissionDenied => "permission_denied",
            Self::UserCreated => "user_created",
            Self::UserUpdated => "user_updated",
            Self::UserDisabled => "user_disabled",
            Self::UserEnabled => "user_enabled",
            Self::StoreCreated => "store_created",
            Self::StoreUpdated => "store_updated",
            Self::DeviceRegistered => "device_registered",
            Self::DeviceRevoked => "device_revoked",
            Self::ApiKeyCreated => "api_key_created",
            Self::ApiKeyRevoked => "api_key_revoked",
            Self::ApprovalGranted => "approval_granted",
            Self::ApprovalFailed => "approval_failed",
            Self::WebhookCreated => "webhook_created",
            Self::WebhookUpdated => "webhook_updated",
            Self::WebhookDeleted => "webhook_deleted",
        }
    }
}

impl fmt::Display for SecurityEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SecurityEventKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| ())
    }
}

/// An entry of the security log: who did what, from where, to whom.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SecurityEvent {
    pub id: EventId,
    pub at: DateTime<Utc>,
    pub kind: SecurityEventKind,
    pub actor_user_id: Option<UserId>,
    pub actor_api_key_id: Option<ApiKeyId>,
    pub store_id: Option<StoreId>,
    pub subject_user_id: Option<UserId>,
    /// The login typed, for failed sign-ins of unknown accounts.
    pub login: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub details: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_kinds_round_trip_through_their_names() {
        for kind in [
            SecurityEventKind::LoginFailed,
            SecurityEventKind::RefreshTokenReused,
            SecurityEventKind::ApiKeyRevoked,
        ] {
            assert_eq!(kind.as_str().parse(), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).expect("serialises"),
                kind.as_str()
            );
        }
    }

    #[test]
    fn sessions_expire_and_revoke() {
        let now = Utc::now();
        let mut s = Session {
            id: SessionId::new(),
            user_id: UserId::new(),
            kind: SessionKind::Password,
            device_id: None,
            mfa_verified: false,
            created_at: now,
            last_used_at: now,
            expires_at: now + chrono::Duration::hours(1),
            revoked_at: None,
            ip: None,
            user_agent: None,
        };
        assert!(s.is_active(now));
        assert!(!s.is_active(now + chrono::Duration::hours(2)));
        s.revoked_at = Some(now);
        assert!(!s.is_active(now));
    }
}
