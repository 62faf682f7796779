pub mod bench;
pub mod bench_auth;
pub mod bench_catalog;
pub mod bench_env;
pub mod catalog;
pub mod migrate;
pub mod serve;
pub mod user;
