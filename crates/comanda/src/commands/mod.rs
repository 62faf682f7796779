pub mod bench;
pub mod migrate;
pub mod serve;
