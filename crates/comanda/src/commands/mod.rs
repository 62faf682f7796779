pub mod bench;
pub mod bench_auth;
pub mod migrate;
pub mod serve;
pub mod user;
