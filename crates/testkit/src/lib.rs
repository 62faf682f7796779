//! Test support shared by every crate's tests: a fresh database per test on each backend.
//!
//! PostgreSQL tests create `t_<random>` through `COMANDA_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and drop it afterwards. When PostgreSQL
//! cannot be reached they are skipped with a warning, except under `CI=true`, where they
//! fail: CI must never go green by skipping a backend.

mod backends;
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

fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}
