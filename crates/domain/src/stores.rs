//! A store is one shop, restaurant, bar or kitchen: it has its own currency, time zone,
//! language, catalog prices, tills and staff, and is the unit of authorization.

use crate::ids::StoreId;
use crate::locale::Locale;
use crate::money::Currency;
use crate::validation::{ValidationError, bounded_text};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Short, URL-safe handle for a store (`centro`, `loja-2`), unique in a deployment.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct StoreCode(String);

crate::text_newtype!(StoreCode, "code");
crate::text_newtype!(StoreName, "name");

impl StoreCode {
    pub const MAX_LEN: usize = 32;

    pub fn parse(field: &str, value: &str) -> Result<Self, ValidationError> {
        let code = value.trim().to_ascii_lowercase();
        if code.len() < 2 || code.len() > Self::MAX_LEN {
            return Err(ValidationError::new(
                field,
                "invalid_length",
                format!("must be 2 to {} characters", Self::MAX_LEN),
            ));
        }
        let valid_chars = code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_chars || code.starts_with('-') || code.ends_with('-') {
            return Err(ValidationError::new(
                field,
                "invalid_format",
                "use lowercase letters, digits and inner hyphens only",
            ));
        }
        Ok(Self(code))
    }
}

/// The name shown on receipts and screens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct StoreName(String);

impl StoreName {
    pub fn parse(field: &str, value: &str) -> Result<Self, ValidationError> {
        bounded_text(field, value, 1, 100).map(Self)
    }
}

/// An IANA time zone. Business days, shift reports and "sales by hour" are computed in
/// the store's local time, so it must be a real zone, not an offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Timezone(#[schemars(with = "String")] chrono_tz::Tz);

impl Timezone {
    pub const UTC: Timezone = Timezone(chrono_tz::Tz::UTC);

    pub fn parse(field: &str, value: &str) -> Result<Self, ValidationError> {
        value
            .trim()
            .parse::<chrono_tz::Tz>()
            .map(Self)
            .map_err(|_| {
                ValidationError::new(
                    field,
                    "unknown_timezone",
                    format!("unknown IANA time zone {value:?} (e.g. America/Sao_Paulo)"),
                )
            })
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }
}

impl TryFrom<String> for Timezone {
    type Error = ValidationError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("timezone", &value)
    }
}

impl From<Timezone> for String {
    fn from(tz: Timezone) -> Self {
        tz.name().to_owned()
    }
}

/// A store as it is being created: validated, with its id already chosen so a retried
/// create can be recognised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewStore {
    pub id: StoreId,
    pub code: StoreCode,
    pub name: StoreName,
    pub currency: Currency,
    pub timezone: Timezone,
    pub locale: Locale,
}

impl NewStore {
    /// Validates every field and reports the first offending one.
    pub fn parse(
        code: &str,
        name: &str,
        currency: &str,
        timezone: &str,
        locale: &str,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            id: StoreId::new(),
            code: StoreCode::parse("code", code)?,
            name: StoreName::parse("name", name)?,
            currency: Currency::parse_field("currency", currency)?,
            timezone: Timezone::parse("timezone", timezone)?,
            locale: Locale::parse_field("locale", locale)?,
        })
    }
}

/// A stored store. `version` increases on every change, for optimistic concurrency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Store {
    pub id: StoreId,
    pub code: StoreCode,
    pub name: StoreName,
    pub currency: Currency,
    pub timezone: Timezone,
    pub locale: Locale,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A change to a store. The currency is fixed at creation: prices, tills and reports
/// already recorded in it would otherwise change meaning.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StorePatch {
    pub name: Option<StoreName>,
    pub timezone: Option<Timezone>,
    pub locale: Option<Locale>,
}

impl StorePatch {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.timezone.is_none() && self.locale.is_none()
    }

    pub fn apply(&self, store: &mut Store) {
        if let Some(name) = &self.name {
            store.name = name.clone();
        }
        if let Some(tz) = self.timezone {
            store.timezone = tz;
        }
        if let Some(locale) = self.locale {
            store.locale = locale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_codes_are_normalised_and_checked() {
        assert_eq!(
            StoreCode::parse("code", " Loja-2 ").map(|c| c.0),
            Ok("loja-2".to_owned())
        );
        for bad in [
            "a",
            "-abc",
            "abc-",
            "lo ja",
            "loja_2",
            "ação",
            &"x".repeat(33),
        ] {
            let err = StoreCode::parse("code", bad).expect_err(bad);
            assert_eq!(err.field, "code", "{bad}");
        }
    }

    #[test]
    fn new_store_names_the_first_bad_field() {
        let ok = NewStore::parse("centro", "Centro", "BRL", "America/Sao_Paulo", "pt-BR")
            .expect("valid store");
        assert_eq!(ok.timezone.name(), "America/Sao_Paulo");

        let cases = [
            (("x", "Centro", "BRL", "UTC", "pt-BR"), "code"),
            (("centro", " ", "BRL", "UTC", "pt-BR"), "name"),
            (("centro", "Centro", "BRX", "UTC", "pt-BR"), "currency"),
            (
                ("centro", "Centro", "BRL", "Mars/Olympus", "pt-BR"),
                "timezone",
            ),
            (("centro", "Centro", "BRL", "UTC", "xx"), "locale"),
        ];
        for ((code, name, currency, tz, locale), field) in cases {
            let err = NewStore::parse(code, name, currency, tz, locale).expect_err(field);
            assert_eq!(err.field, field);
        }
    }

    #[test]
    fn deserialising_runs_the_same_validation() {
        let err = serde_json::from_str::<StoreCode>("\"NO SPACES\"").expect_err("invalid");
        assert!(err.to_string().contains("lowercase"), "{err}");
        let tz: Timezone = serde_json::from_str("\"Asia/Jakarta\"").expect("valid zone");
        assert_eq!(tz.name(), "Asia/Jakarta");
    }

    #[test]
    fn patch_changes_only_what_it_names() {
        let new = NewStore::parse("centro", "Centro", "BRL", "UTC", "pt-BR").expect("valid");
        let now = Utc::now();
        let mut store = Store {
            id: new.id,
            code: new.code,
            name: new.name,
            currency: new.currency,
            timezone: new.timezone,
            locale: new.locale,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let patch = StorePatch {
            locale: Some(Locale::EnUs),
            ..StorePatch::default()
        };
        assert!(!patch.is_empty());
        patch.apply(&mut store);
        assert_eq!(
            (store.name.as_str(), store.locale),
            ("Centro", Locale::EnUs)
        );
        assert!(StorePatch::default().is_empty());
    }
}
