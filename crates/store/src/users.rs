use crate::Result;
use async_trait::async_trait;
use comanda_domain::{Login, NewStore, NewUser, User};

#[async_trait]
pub trait UserRepo: Send + Sync {
    async fn find_user_by_login(&self, login: &Login) -> Result<Option<User>>;
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
