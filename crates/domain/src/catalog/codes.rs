//! The small validated texts of a catalog: names, SKUs, barcodes, station codes, image
//! addresses, and the folded search key of a name.

use crate::validation::{ValidationError, bounded_text};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A name shown on menus, screens and receipts.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct ItemName(String);

crate::text_newtype!(ItemName, "name");

impl ItemName {
    pub const MAX_LEN: usize = 120;

    pub fn parse(field: &str, value: &str) -> Result<Self, ValidationError> {
        bounded_text(field, value, 1, Self::MAX_LEN).map(Self)
    }

    /// The key names are searched and sorted by: lower case, accents removed, spaces
    /// collapsed, so "Pão de Queijo" is found by typing "pao de q".
    pub fn search_key(&self) -> String {
        search_key(&self.0)
    }
}

/// Folds text for prefix search (see [`ItemName::search_key`]).
pub fn search_key(text: &str) -> String {
    let folded: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A stock-keeping unit as the shop writes it (`CERV-LAGER-600`). Case matters, as it
/// does on shelf labels; spaces do not belong in one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

crate::text_newtype!(Sku, "sku");

impl Sku {
    pub const MAX_LEN: usize = 64;

    pub fn parse(field: &str, value: &str) -> Result<Self, ValidationError> {
        let value = value.trim();
        if value.is_empty() || value.len() > Self::MAX_LEN {
            return Err(ValidationError::new(
                field,
                "invalid_length",
                format!("must be 1 to {} characters", Self::MAX_LEN),
            ));
        }
        if !value.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ValidationError::new(
                field,
                "invalid_format",
                "use letters, digits and punctuation, without spaces",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

/// A scannable code. GS1 numbers (EAN-8, UPC-A, EAN-13, GTIN-14) have their check
/// digit verified, since a mistyped barcode would silently never scan; other symbologies
/// (a shop's own Code 128 labels) are accepted as printable ASCII.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Barcode(String);

crate::text_newtype!(Barcode, "barcode");

impl Barcode {
    pub fn parse(field: &str, value: &str) -> Result<Self, ValidationError> {
        let value = value.trim();
        if value.len() < 4 || value.len() > 48 || !value.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ValidationError::new(
                field,
                "invalid_format",
                "must be 4 to 48 printable characters without spaces",
            ));
        }
        let gs1_length = matches!(value.len(), 8 | 12 | 13 | 14);
        if gs1_length && value.bytes().all(|b| b.is_ascii_digit()) && !gs1_check_digit_ok(value) {
            return Err(ValidationError::new(
                field,
                "invalid_check_digit",
                "the last digit does not match the rest of this EAN/UPC code; check for a typo",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

/// The GS1 mod-10 check: weights 3 and 1 alternate from the right, excluding the check digit.
fn gs1_check_digit_ok(digits: &str) -> bool {
    let values: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    let Some((&check, body)) = values.split_last() else {
        return false;
    };
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    (10 - sum % 10) % 10 == check
}

/// A kitchen station a dish is prepared at (`grill`, `bar`, `cold`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct StationCode(String);

crate::text_newtype!(StationCode, "station");

impl StationCode {
    pub fn parse(field: &str, value: &str) -> Result<Self, ValidationError> {
        let code = value.trim().to_ascii_lowercase();
        let valid = !code.is_empty()
            && code.len() <= 32
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !valid {
            return Err(ValidationError::new(
                field,
                "invalid_format",
                "1 to 32 lowercase letters, digits, '-' or '_' (e.g. grill)",
            ));
        }
        Ok(Self(code))
    }
}

/// Where a picture of the product lives. Only http(s), so a menu can never carry a
/// `javascript:` or `data:` address into a browser.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct ImageUrl(String);

crate::text_newtype!(ImageUrl, "image_url");

impl ImageUrl {
    pub fn parse(field: &str, value: &str) -> Result<Self, ValidationError> {
        let value = value.trim();
        let rest = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"));
        let valid = value.len() <= 2048
            && rest.is_some_and(|r| {
                let host = r.split(['/', '?', '#']).next().unwrap_or_default();
                !host.is_empty() && r.chars().all(|c| c.is_ascii_graphic())
            });
        if !valid {
            return Err(ValidationError::new(
                field,
                "invalid_url",
                "must be an http:// or https:// address",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_keys_ignore_case_accents_and_spacing() {
        assert_eq!(search_key("  Pão   de Queijo "), "pao de queijo");
        assert_eq!(search_key("CAFÉ Açaí"), "cafe acai");
        assert_eq!(search_key("Nasi Goreng"), "nasi goreng");
    }

    #[test]
    fn gs1_barcodes_need_a_correct_check_digit() {
        for good in [
            "7891000315507",
            "96385074",
            "036000291452",
            "10012345678902",
            "ABC-123",
        ] {
            assert!(Barcode::parse("barcode", good).is_ok(), "{good}");
        }
        let err = Barcode::parse("barcode", "7891000315508").expect_err("bad check digit");
        assert_eq!(err.code, "invalid_check_digit");
        assert!(Barcode::parse("barcode", "12 34").is_err());
        assert!(Barcode::parse("barcode", "123").is_err());
    }

    #[test]
    fn skus_and_stations_are_checked() {
        assert_eq!(
            Sku::parse("sku", " CERV-600 ").map(|s| s.to_string()),
            Ok("CERV-600".into())
        );
        assert!(Sku::parse("sku", "has space").is_err());
        assert!(Sku::parse("sku", "").is_err());
        assert_eq!(
            StationCode::parse("station", "Grill").map(|s| s.to_string()),
            Ok("grill".into())
        );
        assert!(StationCode::parse("station", "hot line").is_err());
    }

    #[test]
    fn images_must_be_web_addresses() {
        assert!(ImageUrl::parse("image_url", "https://cdn.example.com/p.jpg").is_ok());
        for bad in [
            "javascript:alert(1)",
            "data:image/png;base64,xx",
            "https://",
            "ftp://x/y",
            "https://a b",
        ] {
            assert!(ImageUrl::parse("image_url", bad).is_err(), "{bad}");
        }
    }
}
