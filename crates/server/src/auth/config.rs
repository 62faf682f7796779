use super::limiter::Rate;
use std::net::IpAddr;
use std::time::Duration;

/// Sign-in policy. Defaults suit a restaurant: a shift is long, a stolen laptop's
/// session should not outlive a month, and a counter full of staff behind one public IP
/// must not lock itself out.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// Lifetime of an access token; it is re-checked against its session on every request.
    pub access_ttl: Duration,
    /// Lifetime of a password session and its refresh tokens.
    pub refresh_ttl: Duration,
    /// Lifetime of a PIN session on a terminal: one long shift.
    pub pin_session_ttl: Duration,
    /// Sign-in attempts per client IP.
    pub login_per_ip: Rate,
    /// Failed sign-ins per account (or per PIN user on a terminal).
    pub login_per_account: Rate,
    /// How long an instance trusts its cached view of a session or API key. Revocations
    /// made on another instance take effect within this time.
    pub principal_ttl: Duration,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Shown in authenticator apps.
    pub issuer: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            pin_session_ttl: Duration::from_secs(16 * 3600),
            login_per_ip: Rate::new(30, Duration::from_secs(60)),
            login_per_account: Rate::new(5, Duration::from_secs(15 * 60)),
            principal_ttl: Duration::from_secs(5),
            trusted_proxies: Vec::new(),
            issuer: "comanda".to_owned(),
        }
    }
}
