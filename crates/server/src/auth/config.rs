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
    /// How long after a refresh token is spent a second use of it is answered with the
    /// same successor rather than taken for theft: pages that renew at the same moment
    /// (two tabs, a reload while a stream renewed) stay signed in.
    pub refresh_reuse_grace: Duration,
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
    /// The origins (`https://pos.example.com`) whose pages may sign in through the web
    /// apps. None: only pages reached at an IP address or `localhost`, so a name an
    /// attacker points at this server (DNS rebinding) is never one it answers to.
    pub allowed_origins: Vec<String>,
    /// Shown in authenticator apps.
    pub issuer: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            refresh_reuse_grace: Duration::from_secs(10),
            pin_session_ttl: Duration::from_secs(16 * 3600),
            login_per_ip: Rate::new(30, Duration::from_secs(60)),
            login_per_account: Rate::new(5, Duration::from_secs(15 * 60)),
            principal_ttl: Duration::from_secs(5),
            trusted_proxies: Vec::new(),
            allowed_origins: Vec::new(),
            issuer: "comanda".to_owned(),
        }
    }
}

/// `scheme://host[:port]`, lowercased, as browsers send `Origin`; an error names what is
/// wrong with it.
pub fn parse_origin(text: &str) -> Result<String, String> {
    let origin = text.trim().trim_end_matches('/').to_ascii_lowercase();
    let Some((scheme, host)) = origin.split_once("://") else {
        return Err(format!(
            "{text:?} is not an origin: expected https://HOST[:PORT]"
        ));
    };
    if !matches!(scheme, "http" | "https") {
        return Err(format!("{text:?}: the scheme must be http or https"));
    }
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !valid {
        return Err(format!(
            "{text:?}: expected a host and an optional port, with no path"
        ));
    }
    Ok(origin)
}

/// The host part of a `Host` header or an origin, without its port.
pub fn host_name(host: &str) -> &str {
    let host = host.rsplit_once("://").map_or(host, |(_, h)| h);
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(ip, _)| ip);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

/// A host no one else can make a browser name: an IP address or `localhost`.
pub fn is_address(host: &str) -> bool {
    let name = host_name(host);
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_and_checked() {
        assert_eq!(
            parse_origin("HTTPS://POS.example.com/").as_deref(),
            Ok("https://pos.example.com")
        );
        assert!(parse_origin("pos.example.com").is_err());
        assert!(parse_origin("ftp://pos").is_err());
        assert!(parse_origin("https://pos/app").is_err());
    }

    #[test]
    fn addresses_are_ip_literals_and_localhost() {
        for host in [
            "127.0.0.1:8080",
            "192.168.0.10",
            "[::1]:8080",
            "localhost:3000",
        ] {
            assert!(is_address(host), "{host}");
        }
        for host in ["evil.example", "evil.example:8080", "127.0.0.1.nip.io"] {
            assert!(!is_address(host), "{host}");
        }
        assert_eq!(host_name("https://pos.example.com:8443"), "pos.example.com");
    }
}
