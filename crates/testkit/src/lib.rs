//! Test support shared by every crate's tests: a fresh database per test on each backend.
//!
//! PostgreSQL tests create `t_<random>` through `COMANDA_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and drop it afterwards. When PostgreSQL
//! cannot be reached they are skipped with a warning, except under `CI=true`, where they
//! fail: CI must never go green by skipping a backend.

mod backends;
pub mod identity;
mod postgres;
mod proxy;
mod server;
mod sqlite;

pub use backends::TestDb;
pub use postgres::{TestPostgres, postgres_harness};
pub use proxy::TcpProxy;
pub use server::TestServer;
pub use sqlite::{TestSqlite, sqlite_harness};

/// A random lowercase hex string, for database and file names that must not collide
/// between tests running in parallel.
pub fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("OS random numbers");
    hex::encode(bytes)
}

/// A Redis URL for tests (`COMANDA_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`), or
/// `None` (skip) when it is unreachable outside CI; panics in CI.
pub fn redis_url() -> Option<String> {
    let url = std::env::var("COMANDA_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let addr = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:6379")
        .to_owned();
    let reachable = std::net::ToSocketAddrs::to_socket_addrs(&addr)
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| {
            std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(1)).is_ok()
        });
    if reachable {
        return Some(url);
    }
    assert!(
        !running_in_ci(),
        "CI=true and Redis at {url} is unreachable"
    );
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED (Redis test): {url} is unreachable; set COMANDA_TEST_REDIS_URL"
    );
    None
}

fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}
