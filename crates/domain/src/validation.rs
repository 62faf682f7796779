//! A rejected value names the field it came from so the API can answer 422 with a
//! pointer the client can show next to the right input.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error, schemars::JsonSchema)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// Path of the offending field as the client sent it, e.g. `currency` or `lines[2].quantity`.
    pub field: String,
    /// Stable machine-readable reason, e.g. `too_long`, `unknown_currency`.
    pub code: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }

    /// The same error, re-rooted under a parent field (`name` -> `store.name`).
    pub fn within(mut self, parent: &str) -> Self {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

/// The conversions every validated text type shares: `as_str`, `Display`, and serde
/// through `String` that runs the type's own `parse(field, value)`, naming `$field`.
#[macro_export]
macro_rules! text_newtype {
    ($name:ident, $field:literal) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::validation::ValidationError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse($field, &value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Trims, then checks a human-entered text against length bounds counted in characters.
pub fn bounded_text(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<String, ValidationError> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len < min {
        let message = if min == 1 {
            "must not be empty".to_owned()
        } else {
            format!("must be at least {min} characters")
        };
        return Err(ValidationError::new(field, "too_short", message));
    }
    if len > max {
        return Err(ValidationError::new(
            field,
            "too_long",
            format!("must be at most {max} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "control_characters",
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_text_trims_and_counts_characters_not_bytes() {
        assert_eq!(
            bounded_text("name", "  Açaí  ", 1, 4).as_deref(),
            Ok("Açaí")
        );
        let err = bounded_text("name", "Açaís", 1, 4).expect_err("five characters");
        assert_eq!((err.field.as_str(), err.code), ("name", "too_long"));
    }

    #[test]
    fn bounded_text_rejects_blank_and_control_characters() {
        assert_eq!(
            bounded_text("name", "   ", 1, 10).map_err(|e| e.code),
            Err("too_short")
        );
        assert_eq!(
            bounded_text("name", "a\u{0}b", 1, 10).map_err(|e| e.code),
            Err("control_characters")
        );
    }

    #[test]
    fn within_prefixes_the_field_path() {
        let err = ValidationError::new("name", "too_long", "x").within("store");
        assert_eq!(err.field, "store.name");
    }
}
