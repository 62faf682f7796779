//! Signed webhook bodies, in the scheme Stripe uses and that comanda uses for its own
//! outbound webhooks: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The
//! timestamp inside the signed text lets a receiver refuse replays of old deliveries.

use hmac::{KeyInit, Mac};

/// How old a signature may be: Stripe's own libraries use five minutes.
pub const SIGNATURE_TOLERANCE_S: i64 = 300;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no usable signature header")]
    Malformed,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> Option<hmac::Hmac<sha2::Sha256>> {
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret).ok()?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// Checks `t=...,v1=...[,v1=...]` against the body; `now` in Unix seconds. Any `v1` may
/// match (a sender signs with each active secret while rolling them).
pub fn verify_signature(
    header: &str,
    body: &[u8],
    secret: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => {
                if let Ok(bytes) = data_encoding::HEXLOWER_PERMISSIVE.decode(value.as_bytes()) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - timestamp).abs() > SIGNATURE_TOLERANCE_S {
        return Err(SignatureError::Stale);
    }
    let matches = signatures.iter().any(|candidate| {
        sign(secret, timestamp, body).is_some_and(|mac| mac.verify_slice(candidate).is_ok())
    });
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The header value for `body` signed at `timestamp`.
pub fn signature_header(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let hex = sign(secret, timestamp, body)
        .map(|mac| data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes()))
        .unwrap_or_default();
    format!("t={timestamp},v1={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_only_for_the_same_secret_body_and_recent_time() {
        let body = br#"{"id":"evt_1"}"#;
        let header = signature_header(b"whsec_test", 1_700_000_000, body);
        assert_eq!(
            verify_signature(&header, body, b"whsec_test", 1_700_000_100),
            Ok(())
        );
        assert_eq!(
            verify_signature(&header, body, b"whsec_other", 1_700_000_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(&header, br#"{"id":"evt_2"}"#, b"whsec_test", 1_700_000_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(&header, body, b"whsec_test", 1_700_000_301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_signature("v1=abcd", body, b"whsec_test", 1_700_000_000),
            Err(SignatureError::Malformed)
        );
        // A second signature (a secret being rolled) may be the one that matches.
        let rolled = format!("t=1700000000,v1=00ff,{}", &header[13..]);
        assert_eq!(
            verify_signature(&rolled, body, b"whsec_test", 1_700_000_000),
            Ok(())
        );
    }
}
