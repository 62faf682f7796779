use crate::Result;
use async_trait::async_trait;
use comanda_domain::identity::{NewRefreshToken, NewSession, Session};
use comanda_domain::{DeviceId, SessionId, UserId};
use uuid::Uuid;

/// What presenting a refresh token led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: it is now spent and `next` replaces it.
    Rotated(Session),
    /// The token was spent moments ago (within the grace asked for) by a request made
    /// at the same time: the same `successor` answers this one too, nothing is written.
    Replayed { session: Session, successor: Uuid },
    /// The token had already been rotated: someone holds a copy. The whole session
    /// (every token of the family) has been revoked.
    Reused(Session),
    /// Unknown token, wrong secret, or a session that is revoked or expired.
    Invalid,
}

#[async_trait]
pub trait SessionRepo: Send + Sync {
    /// Opens a session with its first refresh token.
    async fn create_session(
        &self,
        session: &NewSession,
        refresh: &NewRefreshToken,
    ) -> Result<Session>;

    async fn get_session(&self, id: SessionId) -> Result<Option<Session>>;

    /// Spends refresh token `id` if `secret_hash` matches and it is current, storing
    /// `next` in its place, all in one transaction. A token spent less than `grace` ago
    /// is [`Rotation::Replayed`] (its successor named); spent earlier, it is
    /// [`Rotation::Reused`] and the session is revoked.
    async fn rotate_refresh_token(
        &self,
        id: Uuid,
        secret_hash: &[u8; 32],
        next: &NewRefreshToken,
        grace: chrono::Duration,
    ) -> Result<Rotation>;

    /// Revokes one session; false if it was not active.
    async fn revoke_session(&self, id: SessionId, reason: &str) -> Result<bool>;

    /// Revokes every active session of a user, except `keep`; returns how many.
    async fn revoke_user_sessions(
        &self,
        user: UserId,
        reason: &str,
        keep: Option<SessionId>,
    ) -> Result<u64>;

    async fn revoke_device_sessions(&self, device: DeviceId, reason: &str) -> Result<u64>;

    /// Active sessions of a user, newest first.
    async fn list_active_sessions(&self, user: UserId) -> Result<Vec<Session>>;

    /// Records that a second factor was proven in this session (enrolment confirmed).
    async fn mark_session_mfa_verified(&self, id: SessionId) -> Result<()>;
}
