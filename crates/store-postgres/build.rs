//! The migrations are embedded when the crate compiles; a new file in `migrations/` must
//! rebuild it, which cargo does not know on its own.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
