//! Authentication and authorization.

pub mod authorize;
pub mod config;
pub mod extract;
pub mod limiter;
pub mod principal;
pub mod reseal;
pub mod session;
pub mod tokens;
pub mod totp;
pub mod vault;
