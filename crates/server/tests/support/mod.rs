//! What the authorization tests share. Each test file uses part of it.
#![allow(dead_code)]

pub mod world;
