//! People who sign in. Authentication itself (password policy, tokens, 2FA) lives in the
//! Identity work; here are the validated pieces every layer shares.

use crate::Locale;
use crate::ids::{CompanyId, StoreId, UserId};
use crate::role::Role;
use crate::secret::Sealed;
use crate::validation::{ValidationError, bounded_text};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a person types to sign in: a user name or an e-mail address. Stored lower-case so
/// `Maria` and `maria` are one account.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Login(String);

crate::text_newtype!(Login, "login");
crate::text_newtype!(DisplayName, "display_name");

impl Login {
    pub fn parse(field: &str, value: &str) -> Result<Self, ValidationError> {
        let login = value.trim().to_lowercase();
        let len = login.chars().count();
        if !(3..=64).contains(&len) {
            return Err(ValidationError::new(
                field,
                "invalid_length",
                "must be 3 to 64 characters",
            ));
        }
        let allowed = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+');
        if !login.chars().all(allowed) {
            return Err(ValidationError::new(
                field,
                "invalid_format",
                "use letters, digits and . _ - @ + only",
            ));
        }
        Ok(Self(login))
    }
}

/// The name shown on tickets, receipts and reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(field: &str, value: &str) -> Result<Self, ValidationError> {
        bounded_text(field, value, 1, 80).map(Self)
    }
}

/// A password hash in PHC string form (`$argon2id$...`). Not secret the way a password
/// is, but still nothing a log needs: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl PasswordHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

/// A user as it is being created. The password arrives already hashed: hashing is the
/// server's job, and plain passwords never reach storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    pub id: UserId,
    pub login: Login,
    pub display_name: DisplayName,
    pub password_hash: PasswordHash,
    pub role: Role,
    /// Owners and admins may span every store, including ones created later.
    pub all_stores: bool,
    pub store_ids: Vec<StoreId>,
    /// Set for generated one-time passwords: the first sign-in must choose a new one.
    pub must_change_password: bool,
    /// The client company a `client` user belongs to (none for staff).
    pub company_id: Option<CompanyId>,
}

/// A stored user, with what the server needs to authenticate and authorize them.
/// Secrets are wrapped so `Debug` never shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub login: Login,
    pub display_name: DisplayName,
    pub password_hash: PasswordHash,
    pub role: Role,
    pub all_stores: bool,
    pub store_ids: Vec<StoreId>,
    pub must_change_password: bool,
    /// The client company a `client` user belongs to (none for staff).
    pub company_id: Option<CompanyId>,
    pub disabled: bool,
    pub version: i64,
    /// The TOTP secret, sealed, once enrolment is confirmed.
    pub totp_secret: Option<Sealed>,
    /// The secret of an enrolment not confirmed yet, sealed.
    pub totp_pending_secret: Option<Sealed>,
    /// The last TOTP time step accepted: a code is never accepted twice.
    pub totp_last_step: Option<i64>,
    pub pin_hash: Option<PasswordHash>,
    /// The language the apps speak to this person; none means the store's.
    pub locale: Option<Locale>,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn totp_enabled(&self) -> bool {
        self.totp_secret.is_some()
    }

    /// Whether this user may act in `store`.
    pub fn can_access(&self, store: StoreId) -> bool {
        self.all_stores || self.store_ids.contains(&store)
    }
}

/// A change to a user. `store_ids`, when given, replaces the assignments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub display_name: Option<DisplayName>,
    pub role: Option<Role>,
    pub all_stores: Option<bool>,
    pub store_ids: Option<Vec<StoreId>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_case_insensitive_and_allow_email_addresses() {
        assert_eq!(
            Login::parse("login", " Maria.Silva@Example.com ").map(|l| l.0),
            Ok("maria.silva@example.com".to_owned())
        );
        assert_eq!(
            Login::parse("login", "josé").map(|l| l.0),
            Ok("josé".to_owned())
        );
    }

    #[test]
    fn logins_reject_injection_shapes_and_bad_lengths() {
        for bad in [
            "ab",
            "a b c",
            "x'; DROP TABLE users;--",
            "<script>",
            &"a".repeat(65),
        ] {
            assert!(Login::parse("login", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_output_never_contains_the_password_hash() {
        let user = NewUser {
            id: UserId::new(),
            login: Login::parse("login", "owner").expect("valid"),
            display_name: DisplayName::parse("display_name", "Owner").expect("valid"),
            password_hash: PasswordHash("$argon2id$secret".into()),
            role: Role::Owner,
            all_stores: true,
            store_ids: vec![],
            must_change_password: true,
            company_id: None,
        };
        assert!(!format!("{user:?}").contains("argon2"));
    }
}
