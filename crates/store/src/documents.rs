//! Records kept as JSON documents beside the columns they are found by (shifts,
//! contracts, service days, a webhook's event types, a delivery's attempts).

use crate::{Result, StoreError};

/// Reads a stored document; `what` names it in the error.
pub fn from_text<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Internal(format!("unreadable {what}: {e}")))
}

pub fn to_text<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(e.to_string()))
}

/// The documents of rows read as `(document,)`.
pub fn documents<T: serde::de::DeserializeOwned>(
    what: &str,
    rows: Vec<(String,)>,
) -> Result<Vec<T>> {
    rows.iter().map(|(text,)| from_text(what, text)).collect()
}
