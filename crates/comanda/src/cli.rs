//! Command-line interface. Every option also reads a `COMANDA_*` environment variable;
//! flags win over the environment, which wins over the configuration file.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "comanda",
    version,
    about = "Point of sale and order management for restaurants, bars, shops and caterers"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// TOML configuration file; flags and COMANDA_* variables override what it says
    #[arg(long, env = "COMANDA_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// sqlite://PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DB [default: SQLite file in the data directory]
    #[arg(
        long,
        env = "COMANDA_DATABASE_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Directory for the SQLite database and backups [default: ./data]
    #[arg(long, env = "COMANDA_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Directory of backups [default: DATA_DIR/backups]
    #[arg(long, env = "COMANDA_BACKUP_DIR", global = true, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,

    /// Log format [default: pretty]
    #[arg(long, env = "COMANDA_LOG_FORMAT", global = true, value_enum)]
    pub log_format: Option<LogFormat>,

    /// Log filter, e.g. "info" or "info,comanda_server=debug" [default: info]
    #[arg(long, env = "COMANDA_LOG", global = true, value_name = "FILTER")]
    pub log: Option<String>,

    /// Maximum PostgreSQL connections per instance [default: 10]
    #[arg(
        long,
        env = "COMANDA_DB_MAX_CONNECTIONS",
        global = true,
        value_name = "N"
    )]
    pub db_max_connections: Option<u32>,

    /// SQLite durability: full (survives power loss) or normal [default: full]
    #[arg(
        long,
        env = "COMANDA_SQLITE_SYNCHRONOUS",
        global = true,
        value_name = "MODE"
    )]
    pub sqlite_synchronous: Option<String>,

    /// File holding the key secrets at rest are sealed with (32 bytes, base64 or hex). The
    /// key itself may be given in COMANDA_SECRET_KEY instead (never as a flag), and keys it
    /// replaces in COMANDA_SECRET_KEY_PREVIOUS (comma-separated) [default:
    /// DATA_DIR/secret.key, made on first start; PostgreSQL needs one named]
    #[arg(
        long,
        env = "COMANDA_SECRET_KEY_FILE",
        global = true,
        value_name = "FILE"
    )]
    pub secret_key_file: Option<PathBuf>,

    /// Seconds one PostgreSQL statement may run before it is cancelled (503); 0: no limit [default: 15]
    #[arg(
        long,
        env = "COMANDA_DB_STATEMENT_TIMEOUT_SECS",
        global = true,
        value_name = "SECONDS"
    )]
    pub db_statement_timeout_secs: Option<u64>,

    /// Seconds a request waits for a free PostgreSQL connection before 503 [default: 3]
    #[arg(
        long,
        env = "COMANDA_DB_ACQUIRE_TIMEOUT_SECS",
        global = true,
        value_name = "SECONDS"
    )]
    pub db_acquire_timeout_secs: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event
    Pretty,
    /// One JSON object per line, for log collectors
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: apply migrations, set up a brand-new database, serve HTTP
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations, or list them
    Migrate(MigrateArgs),
    /// Manage people from the server's shell: for the operator, and for recovering an
    /// owner who lost their password or phone
    #[command(subcommand)]
    User(UserCommand),
    /// Import or export a store's catalog as CSV, or whole as JSON (see docs/catalog.md)
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Check the order log (see docs/orders.md)
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Back the database up while the server runs, list backups, or prune old ones
    /// (see docs/operations.md)
    Backup(BackupArgs),
    /// Verify a backup, restore it into a new database, check it, back up the current
    /// database, then swap the restored one in
    Restore(RestoreArgs),
    /// Pre-deploy checks: configuration, secrets, database, migrations, disk, port,
    /// backups, clock; a PASS/FAIL table, exit 1 on any FAIL
    Check(CheckArgs),
    /// Smoke tests against a running server: probes, metrics, sign-in, catalog, a test
    /// order opened and cancelled; a PASS/FAIL table, exit 1 on any FAIL
    Smoke(SmokeArgs),
    /// Measure this binary (see docs/performance.md)
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub command: Option<BackupCommand>,

    /// Write the backup here [default: the backup directory]
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,

    /// Never prune this backup
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// List the backups in the backup directory, newest first
    List,
    /// Delete backups the retention policy does not keep
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Say what would be deleted, delete nothing
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub retention: RetentionArgs,
}

/// How many backups `prune` (and `serve`'s scheduled backups) keep.
#[derive(Debug, Args, Clone)]
pub struct RetentionArgs {
    /// Keep the newest backup of each of the last N days that have one
    #[arg(
        long,
        env = "COMANDA_BACKUP_KEEP_DAILY",
        value_name = "N",
        default_value_t = 30
    )]
    pub keep_daily: usize,

    /// Keep the newest backup of each of the last N ISO weeks that have one
    #[arg(
        long,
        env = "COMANDA_BACKUP_KEEP_WEEKLY",
        value_name = "N",
        default_value_t = 13
    )]
    pub keep_weekly: usize,

    /// Keep the newest backup of each of the last N months that have one
    #[arg(
        long,
        env = "COMANDA_BACKUP_KEEP_MONTHLY",
        value_name = "N",
        default_value_t = 12
    )]
    pub keep_monthly: usize,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file (comanda-...tar), its .sha256 file beside it
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Production rules: secrets must be set and strong, PostgreSQL expected, a backup
    /// from the last 26 hours required
    #[arg(long, env = "COMANDA_PRODUCTION")]
    pub production: bool,

    /// The address `serve` will listen on, checked free [default: 127.0.0.1:8080]
    #[arg(long, env = "COMANDA_LISTEN", value_name = "IP:PORT")]
    pub listen: Option<String>,
}

#[derive(Debug, Args)]
pub struct SmokeArgs {
    /// The server's base URL, e.g. https://pos.example.com
    pub url: String,

    /// Only the probes (/live, /health, /ready): for container health checks
    #[arg(long)]
    pub probes_only: bool,

    /// The smoke store's code, where the test order is opened and cancelled
    #[arg(long, env = "COMANDA_SMOKE_STORE", default_value = "smoke")]
    pub store: String,

    /// A person of the smoke store who may take orders (a manager or waiter, no 2FA)
    #[arg(long, env = "COMANDA_SMOKE_LOGIN", value_name = "LOGIN")]
    pub login: Option<String>,

    /// Their password; read only from the environment
    #[arg(skip = std::env::var("COMANDA_SMOKE_PASSWORD").ok())]
    pub password: Option<String>,

    /// Seconds each request may take
    #[arg(long, default_value_t = 10)]
    pub timeout_secs: u64,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk every store's order log and prove no event was altered or removed: each
    /// event's hash is recomputed and must chain to the one before it
    Verify(AuditVerifyArgs),
}

#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    /// Only this store, by code or id
    #[arg(long)]
    pub store: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Check a CSV file (or a whole catalog exported as JSON) and write it into a store's catalog, all of it or nothing
    Import(CatalogImportArgs),
    /// Write a store's catalog as CSV (products) or JSON (the whole catalog, for another store)
    Export(CatalogExportArgs),
}

#[derive(Debug, Args)]
pub struct CatalogImportArgs {
    /// The CSV file, or a JSON file from `catalog export --format json`
    pub file: PathBuf,
    /// The store, by code or id
    #[arg(long)]
    pub store: String,
}

#[derive(Debug, Args)]
pub struct CatalogExportArgs {
    /// The store, by code or id
    #[arg(long)]
    pub store: String,
    /// Write here instead of to standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// `csv`: the products, for a spreadsheet; `json`: with the tax rates and modifier groups they name, for another store
    #[arg(long, value_name = "FORMAT", default_value = "csv", value_parser = ["csv", "json"])]
    pub format: String,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a person; the password comes from COMANDA_USER_PASSWORD or is generated and printed
    Create(UserCreateArgs),
    /// Set a new temporary password (COMANDA_USER_PASSWORD or generated) and end every session
    ResetPassword(UserLoginArg),
    /// Remove the second factor (lost phone); they enrol again at next sign-in
    ResetTotp(UserLoginArg),
    /// Stop a person signing in and end every session
    Disable(UserLoginArg),
    /// Let a disabled person sign in again
    Enable(UserLoginArg),
    /// List everyone
    List,
}

#[derive(Debug, Args)]
pub struct UserLoginArg {
    /// The person's login
    pub login: String,
}

#[derive(Debug, Args)]
pub struct UserCreateArgs {
    pub login: String,
    /// Name shown on tickets and receipts [default: the login]
    #[arg(long)]
    pub name: Option<String>,
    /// owner, admin, manager, cashier, waiter or kitchen
    #[arg(long)]
    pub role: String,
    /// A store code the person works in (repeat for several)
    #[arg(long = "store", value_name = "CODE")]
    pub stores: Vec<String>,
    /// Access to every store, including future ones
    #[arg(long)]
    pub all_stores: bool,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Start-to-ready time and idle memory of `comanda serve`, measured from outside
    Startup(BenchStartupArgs),
    /// Sign-in latency and the per-request cost of checking a token and its scope
    Auth(BenchAuthArgs),
    /// Catalog at scale: CSV import, the menu document (full and 304), search
    Catalog(BenchCatalogArgs),
    /// Order load: concurrent terminals opening orders, adding lines, sending them
    Orders(BenchOrdersArgs),
    /// Kitchen screens: station streams connected while orders reach the kitchen
    Kds(BenchKdsArgs),
    /// End of day on a big store: X and Z reports over N paid orders
    Zreport(BenchZreportArgs),
    /// Webhook delivery: a backlog of outbox events drained to a local receiver
    Outbox(BenchOutboxArgs),
    /// Backup and verified restore of a database holding N paid orders
    Backup(BenchBackupArgs),
    /// Disk per paid three-line order, table by table, with answers kept and expired
    Storage(BenchStorageArgs),
    /// The evening's reads (an order, open orders, floor, tickets, menu, X) over N orders
    Reads(BenchReadsArgs),
    /// The POS in Chromium on a slowed CPU: cold load, tap a table, Send, floor traffic
    Web(BenchWebArgs),
}

#[derive(Debug, Args)]
pub struct BenchWebArgs {
    /// Times each measure is taken
    #[arg(long, default_value_t = 5)]
    pub runs: u32,

    /// How many times slower the browser's CPU runs (4: a cheap tablet)
    #[arg(long, default_value_t = 4)]
    pub throttle: u32,

    /// The directory of the browser scripts, with `npm ci` done in it
    #[arg(long, default_value = "e2e")]
    pub e2e: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct BenchReadsArgs {
    /// Paid orders in the database, spread over the stores
    #[arg(long, default_value_t = 1_000_000)]
    pub orders: usize,

    /// Stores the orders are spread over
    #[arg(long, default_value_t = 4)]
    pub stores: usize,

    /// Concurrent clients, each cycling through the reads
    #[arg(long, default_value_t = 64)]
    pub clients: u32,

    /// How long to measure
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,

    /// Seconds of load before measuring
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,

    /// Fill the database and stop, leaving it (and a file of order paths) for an
    /// outside load generator: see scripts/bench-reads.sh
    #[arg(long)]
    pub fill_only: bool,
}

#[derive(Debug, Args)]
pub struct BenchStorageArgs {
    /// Paid three-line orders taken through the API
    #[arg(long, default_value_t = 10_000)]
    pub orders: usize,
}

#[derive(Debug, Args)]
pub struct BenchBackupArgs {
    /// Paid orders in the database backed up
    #[arg(long, default_value_t = 1_000_000)]
    pub orders: usize,
}

#[derive(Debug, Args)]
pub struct BenchOutboxArgs {
    /// Events in the backlog
    #[arg(long, default_value_t = 100_000)]
    pub events: usize,

    /// Webhooks, each receiving every event
    #[arg(long, default_value_t = 1)]
    pub webhooks: usize,

    /// Delivery workers
    #[arg(long, default_value_t = 4)]
    pub workers: usize,

    /// Give up after this long
    #[arg(long, default_value_t = 600)]
    pub timeout_secs: u64,
}

#[derive(Debug, Args)]
pub struct BenchZreportArgs {
    /// Paid orders in the day the Z report closes
    #[arg(long, default_value_t = 1_000_000)]
    pub orders: usize,

    /// X reports taken (each over the whole day) before the Z
    #[arg(long, default_value_t = 20)]
    pub samples: u32,
}

#[derive(Debug, Args)]
pub struct BenchKdsArgs {
    /// Station streams connected (spread over grill, fryer, bar, cold and expo)
    #[arg(long, default_value_t = 50)]
    pub streams: u32,

    /// Orders sent to the kitchen per second
    #[arg(long, default_value_t = 200)]
    pub rate: u32,

    /// How long to send orders
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
}

#[derive(Debug, Args)]
pub struct BenchOrdersArgs {
    /// Concurrent clients, each one terminal taking orders back to back
    #[arg(long, default_value_t = 64)]
    pub clients: u32,

    /// How long to measure
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,

    /// Seconds of load before measuring: connections opening, statements prepared
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,

    /// Order operations per second over all clients (0: each client as fast as it can,
    /// which measures the ceiling; latency is then mostly waiting in line)
    #[arg(long, default_value_t = 0)]
    pub rate: u32,

    /// Outbox events waiting for a webhook when the load starts, delivered to a local
    /// receiver meanwhile with the orders' own events (0: no webhooks)
    #[arg(long, default_value_t = 0)]
    pub webhook_backlog: usize,

    /// Deliveries a second while orders come in (the server's pacing; 0: unpaced)
    #[arg(long, default_value_t = comanda_server::webhooks::DEFAULT_BUSY_RATE)]
    pub webhook_busy_rate: u32,
}

#[derive(Debug, Args)]
pub struct BenchCatalogArgs {
    /// Products in the generated catalog (one CSV row each)
    #[arg(long, default_value_t = 100_000)]
    pub products: u32,

    /// Modifier groups on every product
    #[arg(long, default_value_t = 5)]
    pub groups_per_product: u32,

    /// Searches to time, per kind (name prefix, barcode)
    #[arg(long, default_value_t = 500)]
    pub searches: u32,
}

#[derive(Debug, Args)]
pub struct BenchAuthArgs {
    /// Sign-ins to time
    #[arg(long, default_value_t = 50)]
    pub logins: u32,

    /// Token checks to time
    #[arg(long, default_value_t = 200_000)]
    pub checks: u32,
}

#[derive(Debug, Args)]
pub struct BenchStartupArgs {
    /// How many times to start the server
    #[arg(long, default_value_t = 10)]
    pub runs: u32,

    /// Seconds to leave the server idle before reading its memory
    #[arg(long, default_value_t = 3)]
    pub idle_secs: u64,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "COMANDA_LISTEN", value_name = "IP:PORT")]
    pub listen: Option<String>,

    /// Do not apply migrations; stay not-ready until `comanda migrate` has run
    #[arg(long, env = "COMANDA_NO_MIGRATE")]
    pub no_migrate: bool,

    /// Seconds to let requests in flight finish after SIGTERM [default: 20]
    #[arg(long, env = "COMANDA_SHUTDOWN_GRACE_SECS", value_name = "SECONDS")]
    pub shutdown_grace_secs: Option<u64>,

    /// Open client connections at most; at the cap the longest-idle one is closed to make
    /// room, and with none idle a newcomer gets 503 [default: the file limit less 256]
    #[arg(long, env = "COMANDA_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,

    /// Seconds a connection has to send a request's headers (a new one from being
    /// accepted, a kept-alive one from the request's first byte) [default: 10]
    #[arg(long, env = "COMANDA_HEADER_TIMEOUT_SECS", value_name = "SECONDS")]
    pub header_timeout_secs: Option<u64>,

    /// Seconds a kept-alive connection may wait for its next request [default: 75]
    #[arg(long, env = "COMANDA_IDLE_TIMEOUT_SECS", value_name = "SECONDS")]
    pub idle_timeout_secs: Option<u64>,

    /// Seconds a request's body has to arrive whole; later is 503 [default: 30]
    #[arg(long, env = "COMANDA_BODY_TIMEOUT_SECS", value_name = "SECONDS")]
    pub body_timeout_secs: Option<u64>,

    /// Seconds to answer a request (until a stream starts); later the client gets 503
    /// while the request still completes [default: 30; a catalog import four times that]
    #[arg(long, env = "COMANDA_REQUEST_TIMEOUT_SECS", value_name = "SECONDS")]
    pub request_timeout_secs: Option<u64>,

    /// Redis for rate limits shared by every instance, e.g. redis://127.0.0.1:6379 [default: none, in-process limits]
    #[arg(
        long,
        env = "COMANDA_REDIS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub redis_url: Option<String>,

    /// Stripe secret key for card payments (sk_live_... / sk_test_...) [default: none, card tenders refused]
    #[arg(
        long,
        env = "COMANDA_STRIPE_SECRET_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub stripe_secret_key: Option<String>,

    /// The signing secret of the Stripe webhook endpoint (whsec_...) [default: none, webhooks refused]
    #[arg(
        long,
        env = "COMANDA_STRIPE_WEBHOOK_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub stripe_webhook_secret: Option<String>,

    /// Stripe's API base URL [default: https://api.stripe.com]
    #[arg(long, env = "COMANDA_STRIPE_API_BASE", value_name = "URL")]
    pub stripe_api_base: Option<String>,

    /// Let webhooks post to loopback and private addresses [default: false, refused]
    #[arg(long, env = "COMANDA_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,

    /// Attempts per webhook delivery before it is dead-lettered [default: 8]
    #[arg(long, env = "COMANDA_WEBHOOK_MAX_ATTEMPTS", value_name = "N")]
    pub webhook_max_attempts: Option<u32>,

    /// Wait after a webhook's first failed attempt, doubled after each next one, in
    /// milliseconds [default: 5000]
    #[arg(long, env = "COMANDA_WEBHOOK_BACKOFF_MS", value_name = "MS")]
    pub webhook_backoff_ms: Option<u64>,

    /// Longest wait between two attempts, in milliseconds [default: 900000]
    #[arg(long, env = "COMANDA_WEBHOOK_BACKOFF_MAX_MS", value_name = "MS")]
    pub webhook_backoff_max_ms: Option<u64>,

    /// How long a receiver has to answer one attempt, in milliseconds [default: 10000]
    #[arg(long, env = "COMANDA_WEBHOOK_TIMEOUT_MS", value_name = "MS")]
    pub webhook_timeout_ms: Option<u64>,

    /// Days finished webhook deliveries and delivered outbox events are kept [default: 30]
    #[arg(long, env = "COMANDA_OUTBOX_RETENTION_DAYS", value_name = "DAYS")]
    pub outbox_retention_days: Option<u32>,

    /// Webhook delivery workers in this instance [default: 4]
    #[arg(long, env = "COMANDA_WEBHOOK_WORKERS", value_name = "N")]
    pub webhook_workers: Option<usize>,

    /// Webhook attempts a second while the API is busy; 0: unpaced [default: 500]
    #[arg(long, env = "COMANDA_WEBHOOK_BUSY_RATE", value_name = "N")]
    pub webhook_busy_rate: Option<u32>,

    /// Take a backup this often, then prune by the retention policy, e.g. 24h, 6h, 30m [default: none]
    #[arg(long, env = "COMANDA_BACKUP_INTERVAL", value_name = "DURATION")]
    pub backup_interval: Option<String>,

    #[command(flatten)]
    pub retention: RetentionArgs,

    /// Sign-in attempts allowed per client IP [default: 30/60s]
    #[arg(long, env = "COMANDA_LOGIN_RATE_IP", value_name = "N/PERIOD")]
    pub login_rate_ip: Option<String>,

    /// Failed sign-ins allowed per account [default: 5/15m]
    #[arg(long, env = "COMANDA_LOGIN_RATE_ACCOUNT", value_name = "N/PERIOD")]
    pub login_rate_account: Option<String>,

    /// Access token lifetime in minutes [default: 15]
    #[arg(long, env = "COMANDA_ACCESS_TOKEN_MINUTES", value_name = "MINUTES")]
    pub access_token_minutes: Option<u32>,

    /// Password session lifetime in days [default: 30]
    #[arg(long, env = "COMANDA_SESSION_DAYS", value_name = "DAYS")]
    pub session_days: Option<u32>,

    /// Comma-separated IPs of reverse proxies whose X-Forwarded-For is trusted [default: none]
    #[arg(long, env = "COMANDA_TRUSTED_PROXIES", value_name = "IPS")]
    pub trusted_proxies: Option<String>,

    /// Comma-separated origins staff open the web apps at, e.g. https://pos.example.com
    /// [default: none: only IP addresses and localhost]
    #[arg(long, env = "COMANDA_ALLOWED_ORIGINS", value_name = "ORIGINS")]
    pub allowed_origins: Option<String>,

    #[command(flatten)]
    pub bootstrap: BootstrapArgs,
}

/// What a brand-new database starts with. The owner's password is read only from
/// COMANDA_BOOTSTRAP_PASSWORD or the configuration file, never from a flag, because
/// flags are visible to every user of the machine.
#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// Owner's login on a brand-new database [default: owner]
    #[arg(long, env = "COMANDA_BOOTSTRAP_LOGIN", value_name = "LOGIN")]
    pub bootstrap_login: Option<String>,

    /// First store's name [default: My Store]
    #[arg(long, env = "COMANDA_BOOTSTRAP_STORE_NAME", value_name = "NAME")]
    pub bootstrap_store_name: Option<String>,

    /// First store's code [default: main]
    #[arg(long, env = "COMANDA_BOOTSTRAP_STORE_CODE", value_name = "CODE")]
    pub bootstrap_store_code: Option<String>,

    /// First store's currency: BRL, USD, EUR, GBP, IDR, MXN [default: USD]
    #[arg(long, env = "COMANDA_BOOTSTRAP_CURRENCY", value_name = "ISO")]
    pub bootstrap_currency: Option<String>,

    /// First store's IANA time zone [default: UTC]
    #[arg(long, env = "COMANDA_BOOTSTRAP_TIMEZONE", value_name = "ZONE")]
    pub bootstrap_timezone: Option<String>,

    /// First store's language: pt-BR, en-US, id-ID [default: en-US]
    #[arg(long, env = "COMANDA_BOOTSTRAP_LOCALE", value_name = "TAG")]
    pub bootstrap_locale: Option<String>,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// List migrations and whether each is applied; exit 1 if any is pending
    #[arg(long)]
    pub status: bool,
}
