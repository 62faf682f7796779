use crate::{random_suffix, running_in_ci};
use comanda_store::Storage;
use comanda_store::conformance::Harness;
use comanda_store_postgres::{PgOptions, PgStorage};
use sqlx::{Connection, PgConnection};
use std::sync::Arc;

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn admin_url() -> String {
    std::env::var("COMANDA_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// The same server URL pointing at another database, keeping any query parameters.
fn with_database(url: &str, database: &str) -> String {
    let (without_query, query) = match url.split_once('?') {
        Some((u, q)) => (u, Some(q)),
        None => (url, None),
    };
    let scheme_end = without_query.find("://").map_or(0, |i| i + 3);
    let base = match without_query[scheme_end..].find('/') {
        Some(slash) => &without_query[..scheme_end + slash],
        None => without_query,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// Splits `scheme://user@host:port/rest` into (`scheme://user@`, `host:port`, `/rest`).
fn split_authority(url: &str) -> (&str, &str, &str) {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| start + i);
    let host_start = url[start..end].rfind('@').map_or(start, |i| start + i + 1);
    (&url[..host_start], &url[host_start..end], &url[end..])
}

/// A freshly created, empty PostgreSQL database, dropped (with its connections) on drop.
pub struct TestPostgres {
    pub name: String,
    pub url: String,
    admin_url: String,
}

impl TestPostgres {
    /// `None` when PostgreSQL is unreachable outside CI; panics in CI.
    pub async fn create() -> Option<Self> {
        let admin_url = admin_url();
        let mut admin = match PgConnection::connect(&admin_url).await {
            Ok(conn) => conn,
            Err(e) if running_in_ci() => {
                panic!("CI=true and PostgreSQL at {admin_url} is unreachable: {e}")
            }
            Err(e) => {
                // Written to the stream itself, not with eprintln!, which the test harness
                // captures and hides for passing tests: a skip must be seen.
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED (PostgreSQL test): {admin_url} is unreachable ({e}); set COMANDA_TEST_POSTGRES_URL"
                );
                return None;
            }
        };
        let name = format!("t_{}", random_suffix());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        admin.close().await.ok();
        Some(Self {
            url: with_database(&admin_url, &name),
            name,
            admin_url,
        })
    }

    /// The PostgreSQL server's socket address, for putting a [`TcpProxy`](crate::TcpProxy) in front.
    pub fn server_addr(&self) -> std::net::SocketAddr {
        use std::net::ToSocketAddrs;
        let (_, host_port, _) = split_authority(&self.url);
        let host_port = if host_port.contains(':') {
            host_port.to_owned()
        } else {
            format!("{host_port}:5432")
        };
        host_port
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .unwrap_or_else(|| panic!("cannot resolve PostgreSQL host {host_port}"))
    }

    /// This database's URL, reached through another address (a proxy's).
    pub fn url_through(&self, addr: std::net::SocketAddr) -> String {
        let (before, _, after) = split_authority(&self.url);
        format!("{before}{addr}{after}")
    }

    pub async fn open_migrated(&self) -> Arc<PgStorage> {
        let storage = PgStorage::connect_lazy(&self.url, &PgOptions::default()).expect("valid URL");
        comanda_store::Ops::migrate(&storage)
            .await
            .expect("migrate PostgreSQL");
        Arc::new(storage)
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot block on itself: use a thread
        // with a runtime of its own. FORCE ends connections the test left open.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url)
                    .await
                    .map_err(std::io::Error::other)?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .map_err(std::io::Error::other)?;
                admin.close().await.map_err(std::io::Error::other)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}

pub struct PgHarness {
    storage: Arc<PgStorage>,
    // Declared after the storage so its pool closes before the database is dropped.
    _db: TestPostgres,
}

impl Harness for PgHarness {
    fn storage(&self) -> Arc<dyn Storage> {
        self.storage.clone()
    }

    fn reopen(&self) -> comanda_store::conformance::Reopened<'_> {
        Box::pin(async move {
            let storage: Arc<dyn Storage> = self._db.open_migrated().await;
            storage
        })
    }
}

pub async fn postgres_harness() -> Option<PgHarness> {
    let db = TestPostgres::create().await?;
    let storage = db.open_migrated().await;
    Some(PgHarness { storage, _db: db })
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_is_replaced_and_query_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t_1"),
            "postgres://postgres@127.0.0.1:5432/t_1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "t_2"),
            "postgres://u:p@h/t_2?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "t_3"),
            "postgres://h:5432/t_3"
        );
    }

    #[test]
    fn authority_is_split_out() {
        assert_eq!(
            super::split_authority("postgres://u:p@127.0.0.1:5432/db?x=1"),
            ("postgres://u:p@", "127.0.0.1:5432", "/db?x=1")
        );
        assert_eq!(
            super::split_authority("postgres://h/db"),
            ("postgres://", "h", "/db")
        );
    }
}
