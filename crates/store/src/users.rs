use crate::Result;
use crate::page::{Limit, Page};
use async_trait::async_trait;
use comanda_domain::{
    Locale, Login, NewStore, NewUser, PasswordHash, Sealed, StoreId, User, UserId, UserPatch,
};

/// Which users a list returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Only users assigned to this store (all-stores users are not "assigned").
    pub store: Option<StoreId>,
    /// Only users a store-scoped manager may see: not all-stores, and assigned to at
    /// least one of these stores.
    pub sharing_any_of: Option<Vec<StoreId>>,
}

#[async_trait]
pub trait UserRepo: Send + Sync {
    async fn find_user_by_login(&self, login: &Login) -> Result<Option<User>>;

    async fn get_user(&self, id: UserId) -> Result<Option<User>>;

    /// Fails with `Conflict` on a taken login.
    async fn create_user(&self, user: &NewUser) -> Result<User>;

    /// Users in creation order, after the cursor.
    async fn list_users(
        &self,
        filter: &UserFilter,
        after: Option<UserId>,
        limit: Limit,
    ) -> Result<Page<User, UserId>>;

    /// Applies `patch` if the user is still at `expected_version` (else `VersionMismatch`).
    async fn update_user(
        &self,
        id: UserId,
        expected_version: i64,
        patch: &UserPatch,
    ) -> Result<User>;

    async fn set_password(&self, id: UserId, hash: &PasswordHash, must_change: bool) -> Result<()>;

    async fn set_disabled(&self, id: UserId, disabled: bool) -> Result<()>;

    async fn set_pin(&self, id: UserId, hash: Option<&PasswordHash>) -> Result<()>;

    /// The person's own language; `None` goes back to the store's.
    async fn set_locale(&self, id: UserId, locale: Option<Locale>) -> Result<()>;

    /// Stores (or clears) the secret of an enrolment awaiting confirmation.
    async fn set_totp_pending(&self, id: UserId, secret: Option<&Sealed>) -> Result<()>;

    /// Confirms enrolment: the secret becomes active, `step` counts as used, and the
    /// recovery codes replace any earlier ones.
    async fn enable_totp(
        &self,
        id: UserId,
        secret: &Sealed,
        step: i64,
        recovery_hashes: &[[u8; 32]],
    ) -> Result<()>;

    /// Every user's TOTP secrets (active, pending) as stored, for sealing them again under
    /// a new key.
    async fn totp_secrets(&self) -> Result<Vec<(UserId, Option<Sealed>, Option<Sealed>)>>;

    /// Replaces a user's stored TOTP secrets with the same secrets sealed anew, if they
    /// are still `before` (a change in between wins). Whether it replaced them.
    async fn reseal_totp_secrets(
        &self,
        id: UserId,
        before: (Option<&Sealed>, Option<&Sealed>),
        after: (Option<&Sealed>, Option<&Sealed>),
    ) -> Result<bool>;

    /// Removes the second factor and its recovery codes.
    async fn disable_totp(&self, id: UserId) -> Result<()>;

    /// Records `step` as used if it is newer than the last one; false means the code was
    /// already used (or an older one was), so it must be refused. Atomic across instances.
    async fn advance_totp_step(&self, id: UserId, step: i64) -> Result<bool>;

    /// Spends a recovery code; false if it is unknown or already spent.
    async fn use_recovery_code(&self, id: UserId, hash: &[u8; 32]) -> Result<bool>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootstrapOutcome {
    /// This call created the first store and owner.
    Created,
    /// The database had been set up already (maybe by another instance just now).
    AlreadyDone,
}

/// First-run setup of a brand-new database.
#[async_trait]
pub trait Bootstrap: Send + Sync {
    async fn is_bootstrapped(&self) -> Result<bool>;

    /// Creates the first store and its owner in one transaction, exactly once per
    /// database even when several instances start together.
    async fn bootstrap(&self, store: &NewStore, owner: &NewUser) -> Result<BootstrapOutcome>;
}
