//! Tokens. Access tokens are HS256 JWTs that name a session and expire in minutes; they
//! are checked without touching the database. Everything long-lived (refresh tokens,
//! terminal tokens, API keys) is an opaque `prefix.id.secret`: the id finds the row by
//! its primary key, and only the SHA-256 of the 256-bit secret is stored.
//!
//! The JWT code is ours, not a JOSE library's: we issue and verify our own tokens with
//! one algorithm, so the verifier compares the header byte for byte and there is no
//! algorithm to confuse.

use data_encoding::BASE64URL_NOPAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// `{"alg":"HS256","typ":"JWT"}`, encoded once.
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccessClaims {
    /// User id.
    pub sub: Uuid,
    /// Session id: every request is checked against the session's current state.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    BadSignature,
    Expired,
}

/// The server's signing key, shared by all instances through the database.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl SigningKey {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length; this cannot fail.
        <HmacSha256 as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
    }

    pub fn issue(&self, claims: &AccessClaims) -> String {
        let payload = BASE64URL_NOPAD.encode(&serde_json::to_vec(claims).unwrap_or_default());
        let signing_input = format!("{HEADER}.{payload}");
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let signature = BASE64URL_NOPAD.encode(&mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// The anti-forgery token of a browser session: pages carry it and scripts send it
    /// back in a header, which another site's page can neither read nor forge. Bound to
    /// the session, so it outlives access-token refreshes and dies with the session.
    pub fn csrf_token(&self, session: uuid::Uuid) -> String {
        let mut mac = self.mac();
        mac.update(b"csrf:");
        mac.update(session.as_bytes());
        BASE64URL_NOPAD.encode(&mac.finalize().into_bytes())
    }

    /// The secret of the refresh token that replaces the one whose secret hashes to
    /// `spent`. Derived rather than random, so that a second request that spends the same
    /// token within the grace is given the very token the first one got, though only its
    /// hash was stored.
    pub fn successor_secret(&self, spent: &[u8; 32]) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(b"refresh-successor:");
        mac.update(spent);
        mac.finalize().into_bytes().into()
    }

    pub fn verify(&self, token: &str, now_unix: i64) -> Result<AccessClaims, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        if header != HEADER {
            return Err(TokenError::Malformed);
        }
        let signature = BASE64URL_NOPAD
            .decode(signature.as_bytes())
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::BadSignature)?;
        let payload = BASE64URL_NOPAD
            .decode(payload.as_bytes())
            .map_err(|_| TokenError::Malformed)?;
        let claims: AccessClaims =
            serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        if claims.exp <= now_unix {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS generator failing is not something a server can work around.
    getrandom::fill(&mut bytes)
        .unwrap_or_else(|e| panic!("OS random number generator failed: {e}"));
    bytes
}

/// What kind of opaque token, by its prefix: a token pasted in the wrong place is
/// refused before any lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Refresh,
    Device,
    ApiKey,
}

impl TokenKind {
    const fn prefix(self) -> &'static str {
        match self {
            TokenKind::Refresh => "rt1",
            TokenKind::Device => "dv1",
            TokenKind::ApiKey => "ck1",
        }
    }
}

/// A freshly made opaque token: show `text` once, store `id` and `secret_hash`.
pub struct OpaqueToken {
    pub id: Uuid,
    pub secret_hash: [u8; 32],
    pub text: String,
}

impl OpaqueToken {
    pub fn generate(kind: TokenKind) -> Self {
        Self::from_secret(kind, Uuid::now_v7(), random_bytes())
    }

    /// The token `id` with a secret chosen elsewhere.
    pub fn from_secret(kind: TokenKind, id: Uuid, secret: [u8; 32]) -> Self {
        Self {
            id,
            secret_hash: sha256(&secret),
            text: format!(
                "{}.{}.{}",
                kind.prefix(),
                id.simple(),
                BASE64URL_NOPAD.encode(&secret)
            ),
        }
    }

    /// The id and secret hash of a presented token, if it is well formed and of `kind`.
    pub fn parse(kind: TokenKind, text: &str) -> Option<(Uuid, [u8; 32])> {
        let mut parts = text.trim().split('.');
        let (Some(prefix), Some(id), Some(secret), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        if prefix != kind.prefix() {
            return None;
        }
        let id = Uuid::try_parse(id).ok()?;
        let secret = BASE64URL_NOPAD.decode(secret.as_bytes()).ok()?;
        (secret.len() == 32).then(|| (id, sha256(&secret)))
    }

    pub fn looks_like(kind: TokenKind, text: &str) -> bool {
        text.starts_with(kind.prefix()) && text.as_bytes().get(kind.prefix().len()) == Some(&b'.')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> AccessClaims {
        AccessClaims {
            sub: Uuid::now_v7(),
            sid: Uuid::now_v7(),
            iat: 0,
            exp,
        }
    }

    #[test]
    fn the_fixed_header_is_hs256_jwt() {
        let decoded = BASE64URL_NOPAD.decode(HEADER.as_bytes()).expect("base64");
        assert_eq!(decoded, br#"{"alg":"HS256","typ":"JWT"}"#);
    }

    #[test]
    fn access_tokens_verify_and_expire() {
        let key = SigningKey::new(vec![7; 32]);
        let c = claims(1_000);
        let token = key.issue(&c);
        assert_eq!(key.verify(&token, 999), Ok(c));
        assert_eq!(key.verify(&token, 1_000), Err(TokenError::Expired));
    }

    #[test]
    fn tampering_and_foreign_keys_and_other_algorithms_are_refused() {
        let key = SigningKey::new(vec![7; 32]);
        let token = key.issue(&claims(1_000));
        assert_eq!(
            SigningKey::new(vec![8; 32]).verify(&token, 0),
            Err(TokenError::BadSignature)
        );

        let (head, rest) = token.split_once('.').expect("dots");
        let (_, signature) = rest.split_once('.').expect("dots");
        let forged = BASE64URL_NOPAD.encode(&serde_json::to_vec(&claims(9_999_999)).expect("json"));
        assert_eq!(
            key.verify(&format!("{head}.{forged}.{signature}"), 0),
            Err(TokenError::BadSignature)
        );

        let none_alg = BASE64URL_NOPAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(
            key.verify(&format!("{none_alg}.{forged}."), 0),
            Err(TokenError::Malformed)
        );
        for junk in ["", "a.b", "a.b.c.d", "not a token"] {
            assert_eq!(key.verify(junk, 0), Err(TokenError::Malformed), "{junk}");
        }
    }

    #[test]
    fn opaque_tokens_parse_only_as_their_own_kind() {
        let t = OpaqueToken::generate(TokenKind::Refresh);
        assert!(t.text.starts_with("rt1."));
        assert_eq!(
            OpaqueToken::parse(TokenKind::Refresh, &t.text),
            Some((t.id, t.secret_hash))
        );
        assert_eq!(OpaqueToken::parse(TokenKind::ApiKey, &t.text), None);
        assert!(OpaqueToken::looks_like(TokenKind::Refresh, &t.text));
        // The last character carries 4 bits of the secret: change it to another value.
        let last = if t.text.ends_with('A') { 'E' } else { 'A' };
        let tampered = format!("{}{last}", &t.text[..t.text.len() - 1]);
        assert_ne!(
            OpaqueToken::parse(TokenKind::Refresh, &tampered).map(|p| p.1),
            Some(t.secret_hash)
        );
        assert_eq!(OpaqueToken::parse(TokenKind::Refresh, "rt1.zz.zz"), None);
        assert_ne!(OpaqueToken::generate(TokenKind::Refresh).text, t.text);
    }
}
