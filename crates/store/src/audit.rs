use crate::Result;
use crate::page::{Limit, Page};
use async_trait::async_trait;
use comanda_domain::identity::SecurityEvent;
use comanda_domain::{EventId, UserId};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only events about this user (as actor or subject).
    pub user: Option<UserId>,
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
}
