//! Backups (`comanda backup`, `comanda restore`, scheduled backups in `serve`); see
//! docs/operations.md.

pub mod archive;
mod create;
mod postgres_tools;
mod restore;
pub mod retention;

pub use create::create;
pub use restore::restore;
