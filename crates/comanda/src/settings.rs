//! Resolving configuration: flag > `COMANDA_*` variable > TOML file > default. Everything
//! is validated here, before anything starts, so a mistake ends the process with one line
//! that names it.

use crate::cli::{BootstrapArgs, GlobalArgs, LogFormat, ServeArgs};
use anyhow::{Context, Result, anyhow, bail};
use comanda_domain::{DisplayName, Login, NewStore, Secret, password_policy};
use comanda_server::auth::config::{AuthConfig, parse_origin};
use comanda_server::auth::limiter::Rate;
use comanda_server::auth::vault::{SealingKey, Vault};
use comanda_server::startup::{BootstrapPlan, StartupPlan};
use comanda_store_sqlite::Synchronous;
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DEFAULT_DATA_DIR: &str = "data";
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_LOG: &str = "info,sqlx=warn";
const SQLITE_FILE: &str = "comanda.db";

/// The configuration file. Unknown keys are errors: a typo must not silently fall back
/// to a default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    backup_dir: Option<PathBuf>,
    log_format: Option<LogFormat>,
    log: Option<String>,
    db_max_connections: Option<u32>,
    sqlite_synchronous: Option<String>,
    listen: Option<String>,
    migrate: Option<bool>,
    shutdown_grace_secs: Option<u64>,
    redis_url: Option<String>,
    login_rate_ip: Option<String>,
    login_rate_account: Option<String>,
    access_token_minutes: Option<u32>,
    session_days: Option<u32>,
    trusted_proxies: Option<String>,
    allowed_origins: Option<String>,
    secret_key_file: Option<PathBuf>,
    db_statement_timeout_secs: Option<u64>,
    db_acquire_timeout_secs: Option<u64>,
    max_connections: Option<usize>,
    header_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    body_timeout_secs: Option<u64>,
    request_timeout_secs: Option<u64>,
    #[serde(default)]
    bootstrap: FileBootstrap,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBootstrap {
    login: Option<String>,
    password: Option<String>,
    store_name: Option<String>,
    store_code: Option<String>,
    currency: Option<String>,
    timezone: Option<String>,
    locale: Option<String>,
}

pub fn load_file(path: Option<&Path>) -> Result<FileConfig> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read configuration file {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        let detail = e.message().to_owned();
        anyhow!("configuration file {} is invalid: {detail}", path.display())
    })
}

#[derive(Clone)]
pub enum DatabaseTarget {
    Sqlite { path: PathBuf },
    Postgres { url: Secret },
}

impl fmt::Display for DatabaseTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseTarget::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            DatabaseTarget::Postgres { url } => f.write_str(&redact(url.expose())),
        }
    }
}

/// A database URL with its password replaced, safe to log.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?'])
        .map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    let authority = match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            format!("{masked}{}", &authority[at..])
        }
        None => authority.to_owned(),
    };
    // Passwords can also travel as a query parameter.
    let rest = match url[authority_end..].split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => url[authority_end..].to_owned(),
    };
    format!("{}{authority}{rest}", &url[..scheme_end])
}

fn parse_database(url: Option<&str>, data_dir: &Path) -> Result<DatabaseTarget> {
    let url = url.map(str::trim).filter(|u| !u.is_empty());
    let Some(url) = url else {
        return Ok(DatabaseTarget::Sqlite {
            path: data_dir.join(SQLITE_FILE),
        });
    };
    if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        if rest.is_empty() || rest.contains(":memory:") || rest.contains('?') {
            bail!(
                "invalid SQLite URL {url:?}: use sqlite://PATH to a file (in-memory databases and URL options are not supported)"
            );
        }
        return Ok(DatabaseTarget::Sqlite {
            path: PathBuf::from(rest),
        });
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(DatabaseTarget::Postgres {
            url: Secret::new(url),
        });
    }
    bail!(
        "unsupported database URL {:?}: use sqlite://PATH or postgres://USER@HOST/DATABASE",
        redact(url)
    )
}

/// Where the key that seals secrets at rest comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// `COMANDA_SECRET_KEY`.
    Environment,
    /// A file the operator named.
    File(PathBuf),
    /// `DATA_DIR/secret.key`, made on the first start that needs it: fine for one store's
    /// server; production names its key (`comanda check --production` says so).
    DataDir(PathBuf),
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Environment => f.write_str("COMANDA_SECRET_KEY"),
            KeySource::File(path) => write!(f, "{}", path.display()),
            KeySource::DataDir(path) => write!(f, "{} (made by comanda)", path.display()),
        }
    }
}

const SECRET_KEY_FILE: &str = "secret.key";

#[derive(Clone)]
pub struct Settings {
    pub database: DatabaseTarget,
    pub data_dir: PathBuf,
    /// Whether the data directory was chosen, not defaulted: then it must be usable even
    /// when the database lives elsewhere.
    pub data_dir_explicit: bool,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub db_max_connections: u32,
    pub sqlite_synchronous: Synchronous,
    pub backup_dir: PathBuf,
    pub secret_key: KeySource,
    /// How long one PostgreSQL statement may run (zero: no limit).
    pub db_statement_timeout: Duration,
    /// How long a request waits for a PostgreSQL connection.
    pub db_acquire_timeout: Duration,
}

impl Settings {
    pub fn resolve(cli: &GlobalArgs, file: &FileConfig) -> Result<Self> {
        let data_dir_choice = cli.data_dir.clone().or_else(|| file.data_dir.clone());
        let data_dir_explicit = data_dir_choice.is_some();
        let data_dir = data_dir_choice.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database = parse_database(
            cli.database_url.as_deref().or(file.database_url.as_deref()),
            &data_dir,
        )?;
        let sqlite_synchronous = cli
            .sqlite_synchronous
            .as_deref()
            .or(file.sqlite_synchronous.as_deref())
            .map_or(Ok(Synchronous::Full), str::parse)
            .map_err(|e| anyhow!("{e}"))?;
        let db_max_connections = cli
            .db_max_connections
            .or(file.db_max_connections)
            .unwrap_or(10);
        if db_max_connections == 0 {
            bail!("db_max_connections must be at least 1");
        }
        let backup_dir = cli
            .backup_dir
            .clone()
            .or_else(|| file.backup_dir.clone())
            .unwrap_or_else(|| data_dir.join("backups"));
        let secret_key = if std::env::var_os("COMANDA_SECRET_KEY").is_some_and(|k| !k.is_empty()) {
            KeySource::Environment
        } else {
            match cli
                .secret_key_file
                .clone()
                .or_else(|| file.secret_key_file.clone())
            {
                Some(path) => KeySource::File(path),
                None => KeySource::DataDir(data_dir.join(SECRET_KEY_FILE)),
            }
        };
        Ok(Self {
            database,
            data_dir,
            data_dir_explicit,
            log_format: cli
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Pretty),
            log_filter: cli
                .log
                .clone()
                .or_else(|| file.log.clone())
                .unwrap_or_else(|| DEFAULT_LOG.to_owned()),
            db_max_connections,
            sqlite_synchronous,
            backup_dir,
            secret_key,
            db_statement_timeout: Duration::from_secs(
                cli.db_statement_timeout_secs
                    .or(file.db_statement_timeout_secs)
                    .unwrap_or(15),
            ),
            db_acquire_timeout: Duration::from_secs(
                positive(
                    "db_acquire_timeout_secs",
                    cli.db_acquire_timeout_secs.or(file.db_acquire_timeout_secs),
                )?
                .unwrap_or(3),
            ),
        })
    }

    /// The keys secrets at rest are sealed with: the configured one, and the previous ones
    /// of `COMANDA_SECRET_KEY_PREVIOUS` (comma-separated) that still open what they
    /// sealed. With `create`, a missing `DATA_DIR/secret.key` is made (readable by this
    /// user only).
    pub fn vault(&self, create: bool) -> Result<Vault> {
        let text = match &self.secret_key {
            KeySource::Environment => std::env::var("COMANDA_SECRET_KEY").unwrap_or_default(),
            KeySource::File(path) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the secret key file {}", path.display()))?,
            KeySource::DataDir(_) if matches!(self.database, DatabaseTarget::Postgres { .. }) => {
                bail!(
                    "PostgreSQL needs the key for secrets at rest named, so every instance holds the same one: set COMANDA_SECRET_KEY (openssl rand -base64 32 makes one) or COMANDA_SECRET_KEY_FILE"
                );
            }
            KeySource::DataDir(path) => match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                    let key = SealingKey::generate_text();
                    write_private(path, &format!("{key}\n")).with_context(|| {
                        format!("cannot write the secret key file {}", path.display())
                    })?;
                    tracing::warn!(
                        path = %path.display(),
                        "made a key for secrets at rest; keep a copy apart from the backups (a restore elsewhere needs it), or set COMANDA_SECRET_KEY"
                    );
                    key
                }
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("cannot read the secret key file {}", path.display())
                    });
                }
            },
        };
        let current = SealingKey::parse(&text)
            .map_err(|e| anyhow!("invalid secret key ({}): {e}", self.secret_key))?;
        let previous = std::env::var("COMANDA_SECRET_KEY_PREVIOUS")
            .unwrap_or_default()
            .split(',')
            .filter(|k| !k.trim().is_empty())
            .map(|k| {
                SealingKey::parse(k)
                    .map_err(|e| anyhow!("invalid COMANDA_SECRET_KEY_PREVIOUS: {e}"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Vault::new(current, previous))
    }

    /// Creates the data directory and proves it writable, when it is needed.
    pub fn prepare_data_dir(&self) -> Result<()> {
        let needed =
            self.data_dir_explicit || matches!(self.database, DatabaseTarget::Sqlite { .. });
        if !needed {
            return Ok(());
        }
        let dir = &self.data_dir;
        let check = || -> std::io::Result<()> {
            std::fs::create_dir_all(dir)?;
            let probe = dir.join(".comanda-write-test");
            std::fs::write(&probe, b"ok")?;
            std::fs::remove_file(&probe)
        };
        check().with_context(|| format!("data directory {} is not writable", dir.display()))?;
        if let DatabaseTarget::Sqlite { path } = &self.database
            && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).with_context(|| {
                format!(
                    "cannot create directory {} for the database",
                    parent.display()
                )
            })?;
        }
        Ok(())
    }
}

pub struct ServeSettings {
    pub listen: SocketAddr,
    pub connections: comanda_server::ConnectionLimits,
    pub deadlines: comanda_server::RequestDeadlines,
    pub startup: StartupPlan,
    pub auth: AuthConfig,
    pub redis_url: Option<Secret>,
    pub stripe: Option<comanda_server::stripe::StripeConfig>,
    pub webhooks: comanda_server::webhooks::WebhookConfig,
    /// Scheduled backups: how often, and what pruning keeps.
    pub backup_every: Option<Duration>,
    pub retention: crate::backup::retention::Policy,
}

impl ServeSettings {
    pub fn resolve(args: &ServeArgs, file: &FileConfig) -> Result<Self> {
        let listen_text = args
            .listen
            .as_deref()
            .or(file.listen.as_deref())
            .unwrap_or(DEFAULT_LISTEN);
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            anyhow!("invalid listen address {listen_text:?}: expected IP:PORT, e.g. 127.0.0.1:8080")
        })?;
        let migrate = !args.no_migrate && file.migrate.unwrap_or(true);
        let grace = args
            .shutdown_grace_secs
            .or(file.shutdown_grace_secs)
            .unwrap_or(20);
        let secs = |name: &str, flag: Option<u64>, key: Option<u64>, default: u64| {
            positive(name, flag.or(key)).map(|v| Duration::from_secs(v.unwrap_or(default)))
        };
        let connections = comanda_server::ConnectionLimits {
            header_timeout: secs(
                "header_timeout_secs",
                args.header_timeout_secs,
                file.header_timeout_secs,
                10,
            )?,
            idle_timeout: secs(
                "idle_timeout_secs",
                args.idle_timeout_secs,
                file.idle_timeout_secs,
                75,
            )?,
            max_connections: match args.max_connections.or(file.max_connections) {
                Some(0) => bail!("max_connections must be at least 1"),
                Some(n) => n,
                None => default_max_connections(),
            },
            grace: Duration::from_secs(grace),
        };
        let deadlines = comanda_server::RequestDeadlines {
            body: secs(
                "body_timeout_secs",
                args.body_timeout_secs,
                file.body_timeout_secs,
                30,
            )?,
            answer: secs(
                "request_timeout_secs",
                args.request_timeout_secs,
                file.request_timeout_secs,
                30,
            )?,
        };
        Ok(Self {
            listen,
            connections,
            deadlines,
            startup: StartupPlan {
                migrate,
                bootstrap: bootstrap_plan(&args.bootstrap, &file.bootstrap)?,
            },
            auth: auth_config(args, file)?,
            redis_url: args
                .redis_url
                .clone()
                .or_else(|| file.redis_url.clone())
                .filter(|u| !u.is_empty())
                .map(Secret::new),
            stripe: stripe_config(args)?,
            webhooks: webhook_config(args)?,
            backup_every: args
                .backup_interval
                .as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(parse_interval)
                .transpose()?,
            retention: (&args.retention).into(),
        })
    }
}

/// Card payments are on when a Stripe secret key is set; the key and the webhook secret
/// come from the environment (or flags), never from the config file that may be shared.
fn stripe_config(args: &ServeArgs) -> Result<Option<comanda_server::stripe::StripeConfig>> {
    let present = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    let Some(key) = present(&args.stripe_secret_key) else {
        if present(&args.stripe_webhook_secret).is_some() {
            return Err(anyhow!(
                "COMANDA_STRIPE_WEBHOOK_SECRET is set without COMANDA_STRIPE_SECRET_KEY"
            ));
        }
        return Ok(None);
    };
    let api_base = present(&args.stripe_api_base)
        .unwrap_or_else(|| comanda_server::stripe::DEFAULT_API_BASE.to_owned());
    if !(api_base.starts_with("https://") || api_base.starts_with("http://127.0.0.1")) {
        return Err(anyhow!(
            "COMANDA_STRIPE_API_BASE must be https:// (or http://127.0.0.1 for a local fake)"
        ));
    }
    Ok(Some(comanda_server::stripe::StripeConfig {
        secret_key: Secret::new(key),
        webhook_secret: present(&args.stripe_webhook_secret).map(Secret::new),
        api_base,
    }))
}

fn webhook_config(args: &ServeArgs) -> Result<comanda_server::webhooks::WebhookConfig> {
    let mut config = comanda_server::webhooks::WebhookConfig {
        allow_private: args.webhook_allow_private,
        ..Default::default()
    };
    if let Some(n) = args.webhook_max_attempts {
        if !(1..=100).contains(&n) {
            return Err(anyhow!("COMANDA_WEBHOOK_MAX_ATTEMPTS must be 1 to 100"));
        }
        config.retry.max_attempts = n;
    }
    if let Some(ms) = args.webhook_backoff_ms {
        config.retry.base = Duration::from_millis(ms.max(1));
    }
    if let Some(ms) = args.webhook_backoff_max_ms {
        config.retry.cap = Duration::from_millis(ms.max(1));
    }
    if config.retry.cap < config.retry.base {
        return Err(anyhow!(
            "COMANDA_WEBHOOK_BACKOFF_MAX_MS must not be below COMANDA_WEBHOOK_BACKOFF_MS"
        ));
    }
    if let Some(ms) = args.webhook_timeout_ms {
        if !(100..=120_000).contains(&ms) {
            return Err(anyhow!("COMANDA_WEBHOOK_TIMEOUT_MS must be 100 to 120000"));
        }
        config.timeout = Duration::from_millis(ms);
    }
    if let Some(days) = args.outbox_retention_days {
        if !(1..=3650).contains(&days) {
            return Err(anyhow!("COMANDA_OUTBOX_RETENTION_DAYS must be 1 to 3650"));
        }
        config.retention = Duration::from_secs(u64::from(days) * 24 * 3600);
    }
    if let Some(n) = args.webhook_workers {
        config.workers = n.clamp(1, 64);
    }
    if let Some(rate) = args.webhook_busy_rate {
        config.busy_rate = rate;
    }
    Ok(config)
}

fn auth_config(args: &ServeArgs, file: &FileConfig) -> Result<AuthConfig> {
    let mut auth = AuthConfig::default();
    let rate = |flag: &Option<String>, file: &Option<String>, name: &str| -> Result<Option<Rate>> {
        flag.as_deref()
            .or(file.as_deref())
            .map(|text| text.parse::<Rate>().map_err(|e| anyhow!("{name}: {e}")))
            .transpose()
    };
    if let Some(r) = rate(
        &args.login_rate_ip,
        &file.login_rate_ip,
        "login rate per IP",
    )? {
        auth.login_per_ip = r;
    }
    if let Some(r) = rate(
        &args.login_rate_account,
        &file.login_rate_account,
        "login rate per account",
    )? {
        auth.login_per_account = r;
    }
    if let Some(minutes) = args.access_token_minutes.or(file.access_token_minutes) {
        if minutes == 0 || minutes > 24 * 60 {
            bail!("access token lifetime must be 1 to 1440 minutes, not {minutes}");
        }
        auth.access_ttl = Duration::from_secs(u64::from(minutes) * 60);
    }
    if let Some(days) = args.session_days.or(file.session_days) {
        if days == 0 || days > 365 {
            bail!("session lifetime must be 1 to 365 days, not {days}");
        }
        auth.refresh_ttl = Duration::from_secs(u64::from(days) * 24 * 3600);
    }
    let proxies = args
        .trusted_proxies
        .as_deref()
        .or(file.trusted_proxies.as_deref())
        .unwrap_or("");
    auth.trusted_proxies = proxies
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse()
                .map_err(|_| anyhow!("invalid trusted proxy address {p:?}: expected an IP address"))
        })
        .collect::<Result<_>>()?;
    auth.allowed_origins = args
        .allowed_origins
        .as_deref()
        .or(file.allowed_origins.as_deref())
        .unwrap_or("")
        .split(',')
        .filter(|o| !o.trim().is_empty())
        .map(|o| parse_origin(o).map_err(|e| anyhow!("invalid allowed origin {e}")))
        .collect::<Result<_>>()?;
    Ok(auth)
}

fn bootstrap_plan(args: &BootstrapArgs, file: &FileBootstrap) -> Result<BootstrapPlan> {
    let pick = |flag: &Option<String>, file: &Option<String>, default: &str| -> String {
        flag.clone()
            .or_else(|| file.clone())
            .unwrap_or_else(|| default.to_owned())
    };
    let store = NewStore::parse(
        &pick(&args.bootstrap_store_code, &file.store_code, "main"),
        &pick(&args.bootstrap_store_name, &file.store_name, "My Store"),
        &pick(&args.bootstrap_currency, &file.currency, "USD"),
        &pick(&args.bootstrap_timezone, &file.timezone, "UTC"),
        &pick(&args.bootstrap_locale, &file.locale, "en-US"),
    )
    .map_err(|e| anyhow!("invalid first-run store setting {e}"))?;
    let login_text = pick(&args.bootstrap_login, &file.login, "owner");
    let owner_login =
        Login::parse("bootstrap login", &login_text).map_err(|e| anyhow!("invalid {e}"))?;
    let owner_password = std::env::var("COMANDA_BOOTSTRAP_PASSWORD")
        .ok()
        .or_else(|| file.password.clone())
        .filter(|p| !p.is_empty())
        .map(Secret::new);
    if let Some(password) = &owner_password {
        password_policy::check(
            "COMANDA_BOOTSTRAP_PASSWORD",
            password.expose(),
            owner_login.as_str(),
        )
        .map_err(|e| anyhow!("{e}"))?;
    }
    Ok(BootstrapPlan {
        store,
        owner_name: DisplayName::parse("owner name", "Owner").map_err(|e| anyhow!("{e}"))?,
        owner_login,
        owner_password,
    })
}

/// `30m`, `6h`, `1d`: the interval of scheduled backups; a bare number is minutes.
fn parse_interval(text: &str) -> Result<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| {
        anyhow!("COMANDA_BACKUP_INTERVAL {text:?}: expected a number and a unit, e.g. 24h")
    })?;
    let seconds = match unit {
        "s" => n,
        "m" | "" => n * 60,
        "h" => n * 3_600,
        "d" => n * 86_400,
        other => {
            bail!("COMANDA_BACKUP_INTERVAL {text:?}: unknown unit {other:?}; use s, m, h or d")
        }
    };
    if seconds == 0 {
        bail!("COMANDA_BACKUP_INTERVAL must be at least a second");
    }
    Ok(Duration::from_secs(seconds))
}

/// A number of seconds that must not be zero, if given.
fn positive(name: &str, value: Option<u64>) -> Result<Option<u64>> {
    match value {
        Some(0) => bail!("{name} must be at least 1"),
        other => Ok(other),
    }
}

/// Connections a server may keep open: its file limit, raised to the hard limit the
/// system allows, less what the database, logs and backups need.
fn default_max_connections() -> usize {
    const RESERVED: u64 = 256;
    let soft = raise_file_limit();
    usize::try_from(soft.saturating_sub(RESERVED).max(64)).unwrap_or(usize::MAX)
}

/// Raises this process's open-file limit to its hard limit; what the soft limit is now.
fn raise_file_limit() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if let (Some(current), Some(hard)) = (limit.current, limit.maximum)
        && current < hard
        && setrlimit(
            Resource::Nofile,
            rustix::process::Rlimit {
                current: Some(hard),
                maximum: Some(hard),
            },
        )
        .is_ok()
    {
        return hard;
    }
    limit.current.unwrap_or(1024)
}

/// Writes a file only its owner may read (0600 where the system has modes).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/comanda"),
            "postgres://app:***@db:5432/comanda"
        );
        assert_eq!(
            redact("postgres://app@db/comanda"),
            "postgres://app@db/comanda"
        );
        assert_eq!(
            redact("postgres://db/comanda?user=app&password=s3cret&sslmode=require"),
            "postgres://db/comanda?user=app&password=***&sslmode=require"
        );
        assert_eq!(redact("postgres://a:p@ss@db/x"), "postgres://a:***@db/x");
    }

    #[test]
    fn database_urls_select_the_backend() {
        let dir = Path::new("/var/lib/comanda");
        assert!(
            matches!(parse_database(None, dir), Ok(DatabaseTarget::Sqlite { path }) if path == dir.join("comanda.db"))
        );
        assert!(
            matches!(parse_database(Some("sqlite://x/y.db"), dir), Ok(DatabaseTarget::Sqlite { path }) if path == Path::new("x/y.db"))
        );
        assert!(matches!(
            parse_database(Some("postgresql://h/db"), dir),
            Ok(DatabaseTarget::Postgres { .. })
        ));
        for bad in [
            "mysql://root:pw@h/db",
            "sqlite::memory:",
            "sqlite://",
            "nonsense",
        ] {
            let err = parse_database(Some(bad), dir).err().expect(bad).to_string();
            assert!(!err.contains("pw@"), "password leaked: {err}");
        }
    }

    #[test]
    fn file_keys_are_checked() {
        let err = toml::from_str::<FileConfig>("lisen = \"0.0.0.0:80\"").expect_err("typo");
        assert!(err.to_string().contains("lisen"), "{err}");
        let ok: FileConfig =
            toml::from_str("listen = \"0.0.0.0:80\"\n[bootstrap]\ncurrency = \"BRL\"\n")
                .expect("valid");
        assert_eq!(ok.bootstrap.currency.as_deref(), Some("BRL"));
    }
}
