//! The security log: sign-ins, token reuse, second-factor changes, denied requests and
//! changes to people, stores, terminals and keys. Stored in the database and mirrored to
//! the application log.

use crate::auth::extract::RequestMeta;
use crate::auth::principal::Actor;
use crate::state::AppState;
use comanda_domain::identity::{SecurityEvent, SecurityEventKind};
use comanda_domain::{EventId, StoreId, UserId, clock};
use comanda_store::AuditRepo;
use serde_json::Value;

/// A security event being described.
pub struct Entry {
    event: SecurityEvent,
}

pub fn entry(kind: SecurityEventKind, meta: &RequestMeta) -> Entry {
    Entry {
        event: SecurityEvent {
            id: EventId::new(),
            at: clock::now(),
            kind,
            actor_user_id: None,
            actor_api_key_id: None,
            store_id: None,
            subject_user_id: None,
            login: None,
            ip: meta.ip_text(),
            request_id: meta.request_id.clone(),
            details: Value::Object(serde_json::Map::new()),
        },
    }
}

impl Entry {
    pub fn by(mut self, actor: &Actor) -> Self {
        self.event.actor_user_id = actor.user_id;
        self.event.actor_api_key_id = actor.api_key_id;
        self
    }

    pub fn by_user(mut self, user: UserId) -> Self {
        self.event.actor_user_id = Some(user);
        self
    }

    pub fn about(mut self, user: UserId) -> Self {
        self.event.subject_user_id = Some(user);
        self
    }

    pub fn in_store(mut self, store: StoreId) -> Self {
        self.event.store_id = Some(store);
        self
    }

    pub fn login(mut self, login: &str) -> Self {
        self.event.login = Some(login.chars().take(64).collect());
        self
    }

    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        if let Value::Object(map) = &mut self.event.details {
            map.insert(key.to_owned(), value.into());
        }
        self
    }

    /// Stores the event. A failure to log never fails the request that caused it; it is
    /// reported in the application log instead.
    pub async fn record(self, state: &AppState) {
        self.record_in(&*state.storage).await;
    }

    /// [`record`](Self::record), for tools that hold storage but no server.
    pub async fn record_in(self, storage: &dyn AuditRepo) {
        let e = &self.event;
        tracing::info!(
            kind = %e.kind,
            actor = ?e.actor_user_id.map(|u| u.to_string()).or(e.actor_api_key_id.map(|k| k.to_string())),
            subject = ?e.subject_user_id.map(|u| u.to_string()),
            ip = e.ip.as_deref().unwrap_or("-"),
            "security event"
        );
        if let Err(error) = storage.record_security_event(&self.event).await {
            tracing::error!(%error, kind = %self.event.kind, "could not store a security event");
        }
    }

    /// Stores the event without making the caller wait (for denials, which must not be
    /// slowed or amplified into write load on the request path).
    pub fn record_later(self, state: &AppState) {
        let state = state.clone();
        tokio::spawn(async move { self.record(&state).await });
    }
}
