//! The languages comanda speaks; each store and user picks one.

use crate::validation::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Locale {
    #[serde(rename = "pt-BR")]
    PtBr,
    #[serde(rename = "en-US")]
    EnUs,
    #[serde(rename = "id-ID")]
    IdId,
}

impl Locale {
    pub const ALL: [Locale; 3] = [Locale::PtBr, Locale::EnUs, Locale::IdId];

    pub const fn tag(self) -> &'static str {
        match self {
            Locale::PtBr => "pt-BR",
            Locale::EnUs => "en-US",
            Locale::IdId => "id-ID",
        }
    }

    /// The mark between a number's whole part and its fraction: `7.25` in English,
    /// `7,25` in Portuguese and Indonesian.
    pub const fn decimal_mark(self) -> char {
        match self {
            Locale::EnUs => '.',
            Locale::PtBr | Locale::IdId => ',',
        }
    }

    /// A decimal kept as text with a point (a tax rate, `"7.25"`) as this locale writes it.
    pub fn decimal(self, text: &str) -> String {
        text.replace('.', self.decimal_mark().encode_utf8(&mut [0; 4]))
    }

    pub fn parse_field(field: &str, tag: &str) -> Result<Self, ValidationError> {
        tag.parse().map_err(|()| {
            ValidationError::new(
                field,
                "unknown_locale",
                format!("unknown locale {tag:?}; supported: pt-BR, en-US, id-ID"),
            )
        })
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

impl FromStr for Locale {
    type Err = ();

    /// Accepts the BCP 47 tag in any letter case, since browsers and people vary.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|l| l.tag().eq_ignore_ascii_case(s))
            .ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse_case_insensitively() {
        assert_eq!("PT-br".parse::<Locale>(), Ok(Locale::PtBr));
        assert_eq!(
            Locale::parse_field("locale", "fr-FR").map_err(|e| e.code),
            Err("unknown_locale")
        );
    }
}
