//! A value that must never reach a log line or an error message by accident.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call only where it is used, never to display it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// A secret as it is kept at rest: sealed by the server's key (`sealed:v1:...`), or, for
/// rows written before sealing existed, the plain text itself. Nothing here can open it
/// or show it; only the server's key opens it.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(String);

/// What every sealed value starts with; anything else was stored before sealing.
pub const SEALED_PREFIX: &str = "sealed:";

impl Sealed {
    /// The text as the database holds it.
    pub fn from_stored(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The text to store.
    pub fn stored(&self) -> &str {
        &self.0
    }

    /// Whether this was sealed at all (not a value from before sealing existed).
    pub fn is_sealed(&self) -> bool {
        self.0.starts_with(SEALED_PREFIX)
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealed(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("hunter2hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "hunter2hunter2");
    }
}
