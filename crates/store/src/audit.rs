use crate::Result;
use crate::page::{Limit, Page};
use async_trait::async_trait;
use comanda_domain::identity::SecurityEvent;
use comanda_domain::{EventId, StoreId, UserId};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only events about this user (as actor or subject).
    pub user: Option<UserId>,
    /// Only what a store-scoped reader may see: events in one of these stores, and events
    /// in no store whose every person (actor, subject) is a store-bound person of one of
    /// them. Events of all-stores people, of keys outside a store and of unknown logins
    /// stay with all-stores readers.
    pub stores: Option<Vec<StoreId>>,
}

#[async_trait]
pub trait AuditRepo: Send + Sync {
    async fn record_security_event(&self, event: &SecurityEvent) -> Result<()>;

    /// Newest first; `before` is the cursor of the previous page.
    async fn list_security_events(
        &self,
        filter: &EventFilter,
        before: Option<EventId>,
        limit: Limit,
    ) -> Result<Page<SecurityEvent, EventId>>;
}

/// Keys the server makes for itself and every instance must share.
#[async_trait]
pub trait SecretRepo: Send + Sync {
    /// The secret called `name`, storing `candidate` if there is none yet. Instances that
    /// race all get the first one stored.
    async fn server_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>>;

    /// A small real write (a row of its own, rewritten): whether the database can take
    /// writes again after it could not (a full disk, say).
    async fn probe_write(&self) -> Result<()>;
}
