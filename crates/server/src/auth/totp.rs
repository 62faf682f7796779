//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the
//! parameters every authenticator app uses, plus recovery codes.

use super::tokens::{random_bytes, sha256};
use comanda_domain::Secret;
use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

const STEP_SECONDS: i64 = 30;
const DIGITS: u32 = 6;

/// A new secret: 160 random bits (RFC 4226 recommends at least that), base32.
pub fn generate_secret() -> Secret {
    Secret::new(BASE32_NOPAD.encode(&random_bytes::<20>()))
}

pub fn step_at(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECONDS)
}

/// The code for `step` (RFC 4226 HOTP with the time step as counter).
pub fn code_at(secret: &Secret, step: i64) -> Option<u32> {
    let key = BASE32_NOPAD.decode(secret.expose().as_bytes()).ok()?;
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&key).ok()?;
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    Some(binary % 10u32.pow(DIGITS))
}

/// The time step `code` belongs to, allowing one step of clock drift either way.
/// The caller must still refuse a step already used.
pub fn verify(secret: &Secret, code: &str, now_unix: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = code.parse().ok()?;
    let now = step_at(now_unix);
    (now - 1..=now + 1).find(|step| code_at(secret, *step) == Some(wanted))
}

/// The URI an authenticator app reads from the QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &Secret) -> String {
    let label = format!("{}:{}", percent(issuer), percent(account));
    format!(
        "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        secret.expose(),
        percent(issuer)
    )
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The QR code of `uri` as an SVG document.
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .build(),
    )
}

pub const RECOVERY_CODES: usize = 10;

/// Ten codes of 16 base32 characters (80 random bits), shown once as `XXXX-XXXX-XXXX-XXXX`.
pub fn generate_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw = BASE32_NOPAD.encode(&random_bytes::<10>());
            raw.as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// What is stored for a recovery code, however it was typed (case, dashes, spaces).
pub fn recovery_hash(code: &str) -> [u8; 32] {
    let normalized: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    sha256(normalized.as_bytes())
}

/// Recovery codes are 16 characters; TOTP codes are 6 digits.
pub fn looks_like_recovery_code(input: &str) -> bool {
    input.chars().filter(char::is_ascii_alphanumeric).count() == 16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (secret "12345678901234567890"), last 6 digits.
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = Secret::new(BASE32_NOPAD.encode(b"12345678901234567890"));
        for (unix, code) in [
            (59, 287_082),
            (1_111_111_109, 81_804),
            (1_111_111_111, 50_471),
            (1_234_567_890, 5_924),
            (2_000_000_000, 279_037),
            (20_000_000_000, 353_130),
        ] {
            assert_eq!(code_at(&secret, step_at(unix)), Some(code), "T = {unix}");
        }
    }

    #[test]
    fn verify_allows_one_step_of_drift_and_no_more() {
        let secret = generate_secret();
        let now = 1_800_000_000;
        let code = |step: i64| format!("{:06}", code_at(&secret, step).expect("valid secret"));
        let here = step_at(now);
        assert_eq!(verify(&secret, &code(here), now), Some(here));
        assert_eq!(verify(&secret, &code(here - 1), now), Some(here - 1));
        assert_eq!(verify(&secret, &code(here + 1), now), Some(here + 1));
        assert_eq!(verify(&secret, &code(here - 3), now), None, "stale");
        assert_eq!(verify(&secret, "12345", now), None);
        assert_eq!(verify(&secret, "abcdef", now), None);
    }

    #[test]
    fn uris_and_qr_codes_are_made() {
        let secret = Secret::new("JBSWY3DPEHPK3PXP");
        let uri = otpauth_uri("comanda", "dona maria", &secret);
        assert_eq!(
            uri,
            "otpauth://totp/comanda:dona%20maria?secret=JBSWY3DPEHPK3PXP&issuer=comanda&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&uri).expect("fits in a QR code");
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }

    #[test]
    fn recovery_codes_are_unique_and_typed_loosely() {
        let codes = generate_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        let code = &codes[0];
        assert_eq!(code.len(), 19);
        assert!(looks_like_recovery_code(code) && !looks_like_recovery_code("123456"));
        assert_eq!(
            recovery_hash(code),
            recovery_hash(&code.to_lowercase().replace('-', " "))
        );
    }
}
