//! Who is acting: a user through a session, or an integration through an API key, with
//! the permissions and stores that apply to this request.

use comanda_domain::identity::{ApiKey, Session, SessionKind};
use comanda_domain::{
    ApiKeyId, CompanyId, DeviceId, Locale, Permission, PermissionSet, Role, SessionId, StoreId,
    User, UserId,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Something the user must do before anything else. Checked on every request from the
/// user's current state, so there is no request that skips it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restriction {
    /// A generated or reset password must be replaced.
    PasswordChangeRequired,
    /// Owners and admins must use a second factor, in this very session.
    TotpRequired,
}

impl Restriction {
    pub const fn code(self) -> &'static str {
        match self {
            Restriction::PasswordChangeRequired => "password_change_required",
            Restriction::TotpRequired => "totp_enrolment_required",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub session_id: Option<SessionId>,
    pub api_key_id: Option<ApiKeyId>,
    /// The terminal of a PIN session.
    pub device_id: Option<DeviceId>,
    pub role: Option<Role>,
    pub permissions: PermissionSet,
    pub all_stores: bool,
    pub stores: Vec<StoreId>,
    /// A client company's person: sees that company's catering contracts and no store.
    pub company_id: Option<CompanyId>,
    pub restriction: Option<Restriction>,
    /// The person's own language for the apps.
    pub locale: Option<Locale>,
}

impl Actor {
    /// A user acting through `session`. A PIN session acts only in its terminal's store.
    pub fn for_session(session: &Session, user: &User, terminal_store: Option<StoreId>) -> Self {
        let (all_stores, stores) = match (session.kind, terminal_store) {
            (SessionKind::Pin, Some(store)) if user.can_access(store) => (false, vec![store]),
            (SessionKind::Pin, _) => (false, Vec::new()),
            (SessionKind::Password, _) => (user.all_stores, user.store_ids.clone()),
        };
        // A PIN session is not held to the password's first change (see
        // `session::requirements`).
        let restriction = if user.must_change_password && session.kind == SessionKind::Password {
            Some(Restriction::PasswordChangeRequired)
        } else if user.role.is_privileged() && !(user.totp_enabled() && session.mfa_verified) {
            Some(Restriction::TotpRequired)
        } else {
            None
        };
        Self {
            user_id: Some(user.id),
            session_id: Some(session.id),
            api_key_id: None,
            device_id: session.device_id,
            role: Some(user.role),
            permissions: user.role.permissions(),
            all_stores,
            stores,
            company_id: user.company_id,
            restriction,
            locale: user.locale,
        }
    }

    pub fn for_api_key(key: &ApiKey) -> Self {
        Self {
            user_id: None,
            session_id: None,
            api_key_id: Some(key.id),
            device_id: None,
            role: None,
            permissions: key.permissions,
            all_stores: key.all_stores,
            stores: key.store_ids.clone(),
            company_id: None,
            restriction: None,
            locale: None,
        }
    }

    pub fn may(&self, permission: Permission) -> bool {
        self.permissions.contains(permission)
    }

    pub fn can_access(&self, store: StoreId) -> bool {
        self.all_stores || self.stores.contains(&store)
    }

    /// The stores a list should be limited to; `None` for all-stores actors.
    pub fn store_scope(&self) -> Option<&[StoreId]> {
        (!self.all_stores).then_some(self.stores.as_slice())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Session(Uuid),
    ApiKey(Uuid),
}

#[derive(Clone)]
struct Entry {
    loaded: Instant,
    actor: Arc<Actor>,
    /// For API keys: the presented secret must hash to this.
    secret_hash: Option<[u8; 32]>,
}

/// Recently loaded actors, so an authenticated request costs a signature check and a
/// map lookup instead of database reads. Entries live `ttl`; changes made here drop
/// the affected entries at once.
pub struct PrincipalCache {
    ttl: Duration,
    entries: Mutex<HashMap<Key, Entry>>,
}

const MAX_ENTRIES: usize = 50_000;

impl PrincipalCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, key: Key) -> Option<Entry> {
        let entries = self.lock();
        entries
            .get(&key)
            .filter(|e| e.loaded.elapsed() < self.ttl)
            .cloned()
    }

    fn put(&self, key: Key, entry: Entry) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, e| e.loaded.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, entry);
    }

    pub fn session(&self, id: SessionId) -> Option<Arc<Actor>> {
        self.get(Key::Session(id.as_uuid())).map(|e| e.actor)
    }

    pub fn remember_session(&self, id: SessionId, actor: Arc<Actor>) {
        let entry = Entry {
            loaded: Instant::now(),
            actor,
            secret_hash: None,
        };
        self.put(Key::Session(id.as_uuid()), entry);
    }

    /// The cached key actor, if `secret_hash` matches what was cached.
    pub fn api_key(&self, id: ApiKeyId, secret_hash: &[u8; 32]) -> Option<Arc<Actor>> {
        use subtle::ConstantTimeEq;
        let entry = self.get(Key::ApiKey(id.as_uuid()))?;
        let cached = entry.secret_hash?;
        bool::from(cached.ct_eq(secret_hash)).then_some(entry.actor)
    }

    pub fn remember_api_key(&self, id: ApiKeyId, secret_hash: [u8; 32], actor: Arc<Actor>) {
        let entry = Entry {
            loaded: Instant::now(),
            actor,
            secret_hash: Some(secret_hash),
        };
        self.put(Key::ApiKey(id.as_uuid()), entry);
    }

    pub fn forget_session(&self, id: SessionId) {
        self.lock().remove(&Key::Session(id.as_uuid()));
    }

    pub fn forget_api_key(&self, id: ApiKeyId) {
        self.lock().remove(&Key::ApiKey(id.as_uuid()));
    }

    /// Drops everything: used when a change touches sessions of many users at once.
    pub fn forget_all(&self) {
        self.lock().clear();
    }

    /// Drops every session of `user`: their role, stores or credentials changed.
    pub fn forget_user(&self, user: UserId) {
        self.lock().retain(|_, e| e.actor.user_id != Some(user));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use comanda_domain::{DisplayName, Login, PasswordHash, Sealed};

    fn user(role: Role) -> User {
        User {
            id: UserId::new(),
            login: Login::parse("login", "ana").expect("valid"),
            display_name: DisplayName::parse("display_name", "Ana").expect("valid"),
            password_hash: PasswordHash("x".into()),
            role,
            all_stores: false,
            store_ids: vec![StoreId::new(), StoreId::new()],
            must_change_password: false,
            company_id: None,
            disabled: false,
            version: 1,
            totp_secret: None,
            totp_pending_secret: None,
            totp_last_step: None,
            locale: None,
            pin_hash: None,
            created_at: Utc::now(),
        }
    }

    fn session(kind: SessionKind, mfa: bool) -> Session {
        let now = Utc::now();
        Session {
            id: SessionId::new(),
            user_id: UserId::new(),
            kind,
            device_id: None,
            mfa_verified: mfa,
            created_at: now,
            last_used_at: now,
            expires_at: now,
            revoked_at: None,
            ip: None,
            user_agent: None,
        }
    }

    #[test]
    fn privileged_users_are_restricted_until_this_session_proved_a_second_factor() {
        let mut admin = user(Role::Admin);
        let actor = Actor::for_session(&session(SessionKind::Password, false), &admin, None);
        assert_eq!(actor.restriction, Some(Restriction::TotpRequired));
        admin.totp_secret = Some(Sealed::from_stored("S"));
        let unverified = Actor::for_session(&session(SessionKind::Password, false), &admin, None);
        assert_eq!(unverified.restriction, Some(Restriction::TotpRequired));
        let verified = Actor::for_session(&session(SessionKind::Password, true), &admin, None);
        assert_eq!(verified.restriction, None);
        admin.must_change_password = true;
        let must_change = Actor::for_session(&session(SessionKind::Password, true), &admin, None);
        assert_eq!(
            must_change.restriction,
            Some(Restriction::PasswordChangeRequired)
        );

        let cashier = Actor::for_session(
            &session(SessionKind::Password, false),
            &user(Role::Cashier),
            None,
        );
        assert_eq!(cashier.restriction, None);
    }

    #[test]
    fn pin_sessions_act_only_in_their_terminal_store() {
        let cashier = user(Role::Cashier);
        let terminal = cashier.store_ids[1];
        let actor = Actor::for_session(&session(SessionKind::Pin, false), &cashier, Some(terminal));
        assert_eq!(actor.stores, vec![terminal]);
        assert!(!actor.can_access(cashier.store_ids[0]));
        let elsewhere = Actor::for_session(
            &session(SessionKind::Pin, false),
            &cashier,
            Some(StoreId::new()),
        );
        assert!(elsewhere.stores.is_empty());
    }

    #[test]
    fn the_cache_expires_and_forgets() {
        let cache = PrincipalCache::new(Duration::from_millis(50));
        let u = user(Role::Cashier);
        let s = session(SessionKind::Password, false);
        let actor = Arc::new(Actor::for_session(&s, &u, None));
        cache.remember_session(s.id, actor.clone());
        assert_eq!(cache.session(s.id), Some(actor.clone()));
        cache.forget_user(u.id);
        assert_eq!(cache.session(s.id), None);
        cache.remember_session(s.id, actor);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.session(s.id), None, "expired");

        let key = ApiKeyId::new();
        cache.remember_api_key(key, [1; 32], Arc::new(Actor::for_session(&s, &u, None)));
        assert!(cache.api_key(key, &[1; 32]).is_some());
        assert!(
            cache.api_key(key, &[2; 32]).is_none(),
            "a wrong secret never matches the cache"
        );
    }
}
