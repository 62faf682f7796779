//! Secrets at rest. A secret the server must read back (a TOTP secret) is kept sealed:
//! AES-256-GCM under a key from the configuration, never from the database, so a copy of
//! the database or of a backup does not hand out anyone's second factor.
//!
//! A sealed value reads `sealed:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`. The
//! key id names which key sealed it, so keys can be rotated: the current key seals, and
//! previous keys still open what they sealed until everything is sealed again under the
//! current one (`serve` does that as it starts). The owner's id and the secret's purpose
//! are bound in as associated data: a sealed secret copied onto another person's row does
//! not open.

use comanda_domain::secret::SEALED_PREFIX;
use comanda_domain::{Sealed, Secret};
use data_encoding::{BASE64, BASE64URL_NOPAD, HEXLOWER, HEXLOWER_PERMISSIVE};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const VERSION: &str = "v1";

/// The purpose a TOTP secret is sealed for.
pub const TOTP: &str = "totp";

/// One 256-bit key and the id that names it in what it sealed.
pub struct SealingKey {
    id: String,
    key: LessSafeKey,
}

impl SealingKey {
    /// A key from its 32 bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"comanda sealing key id\n")
            .chain_update(bytes)
            .finalize();
        let id = HEXLOWER.encode(&digest[..4]);
        // 32 bytes are always an AES-256 key.
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes)
            .unwrap_or_else(|_| unreachable!("a 32-byte AES-256 key"));
        Self {
            id,
            key: LessSafeKey::new(unbound),
        }
    }

    /// A key as an operator writes it: 32 bytes in standard base64 (`openssl rand
    /// -base64 32`) or as 64 hex digits.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = HEXLOWER_PERMISSIVE
            .decode(text.as_bytes())
            .ok()
            .filter(|b| b.len() == 32)
            .or_else(|| BASE64.decode(text.as_bytes()).ok())
            .ok_or("a key is 32 bytes in base64 (openssl rand -base64 32) or 64 hex digits")?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "a key is 32 bytes, this one {} (openssl rand -base64 32 makes one)",
                b.len()
            )
        })?;
        Ok(Self::new(bytes))
    }

    /// A new random key.
    pub fn generate() -> Self {
        Self::new(super::tokens::random_bytes())
    }

    /// A new random key as [`parse`](Self::parse) reads it, for a key file.
    pub fn generate_text() -> String {
        BASE64.encode(&super::tokens::random_bytes::<32>())
    }

    /// The id in everything it seals: not secret, a hash of the key.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Why a sealed value did not open.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error(
        "sealed with key {0}, which this server does not hold: set it as COMANDA_SECRET_KEY or in COMANDA_SECRET_KEY_PREVIOUS"
    )]
    UnknownKey(String),
    #[error("a sealed value is damaged or belongs to someone else")]
    Damaged,
}

/// The server's keys: one that seals, and any previous ones that only open.
pub struct Vault {
    current: SealingKey,
    previous: Vec<SealingKey>,
}

impl Vault {
    pub fn new(current: SealingKey, previous: Vec<SealingKey>) -> Self {
        Self { current, previous }
    }

    /// A key made up for this process alone: what tests run with. `serve` always sets the
    /// configured one.
    pub fn ephemeral() -> Self {
        Self::new(SealingKey::generate(), Vec::new())
    }

    pub fn current_key_id(&self) -> &str {
        self.current.id()
    }

    fn aad(purpose: &str, owner: Uuid) -> Vec<u8> {
        let mut aad = Vec::with_capacity(purpose.len() + 17);
        aad.extend_from_slice(purpose.as_bytes());
        aad.push(b'\n');
        aad.extend_from_slice(owner.as_bytes());
        aad
    }

    /// Seals `secret`, for `purpose` (what it is, e.g. `totp`) of `owner`.
    pub fn seal(&self, purpose: &str, owner: Uuid, secret: &Secret) -> Sealed {
        let nonce_bytes: [u8; NONCE_LEN] = super::tokens::random_bytes();
        let mut sealed = secret.expose().as_bytes().to_vec();
        let nonce = Nonce::assume_unique_for_key(nonce_bytes);
        // Sealing fails only for inputs of gigabytes, which a secret never is.
        self.current
            .key
            .seal_in_place_append_tag(nonce, Aad::from(Self::aad(purpose, owner)), &mut sealed)
            .unwrap_or_else(|_| unreachable!("a secret fits one AES-GCM message"));
        let mut blob = nonce_bytes.to_vec();
        blob.extend_from_slice(&sealed);
        Sealed::from_stored(format!(
            "{SEALED_PREFIX}{VERSION}:{}:{}",
            self.current.id,
            BASE64URL_NOPAD.encode(&blob)
        ))
    }

    /// Opens what [`seal`](Self::seal) made, under the current or a previous key. A value
    /// stored before sealing existed is the secret itself.
    pub fn open(&self, purpose: &str, owner: Uuid, sealed: &Sealed) -> Result<Secret, VaultError> {
        let Some(rest) = sealed.stored().strip_prefix(SEALED_PREFIX) else {
            return Ok(Secret::new(sealed.stored()));
        };
        let mut parts = rest.splitn(3, ':');
        let (Some(VERSION), Some(id), Some(blob)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(VaultError::Damaged);
        };
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| VaultError::UnknownKey(id.to_owned()))?;
        let mut blob = BASE64URL_NOPAD
            .decode(blob.as_bytes())
            .map_err(|_| VaultError::Damaged)?;
        if blob.len() < NONCE_LEN {
            return Err(VaultError::Damaged);
        }
        let mut ciphertext = blob.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&blob).map_err(|_| VaultError::Damaged)?;
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(Self::aad(purpose, owner)), &mut ciphertext)
            .map_err(|_| VaultError::Damaged)?;
        let text = std::str::from_utf8(plain).map_err(|_| VaultError::Damaged)?;
        Ok(Secret::new(text))
    }

    /// Whether `sealed` should be sealed again: stored plain, or under an older key.
    pub fn is_stale(&self, sealed: &Sealed) -> bool {
        let current = format!("{SEALED_PREFIX}{VERSION}:{}:", self.current.id);
        !sealed.stored().starts_with(&current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_owner_and_purpose() {
        let vault = Vault::ephemeral();
        let (ana, bia) = (Uuid::now_v7(), Uuid::now_v7());
        let sealed = vault.seal("totp", ana, &Secret::new("JBSWY3DPEHPK3PXP"));
        assert!(sealed.is_sealed() && !vault.is_stale(&sealed));
        assert!(!sealed.stored().contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            vault
                .open("totp", ana, &sealed)
                .map(|s| s.expose().to_owned()),
            Ok("JBSWY3DPEHPK3PXP".to_owned())
        );
        assert_eq!(
            vault.open("totp", bia, &sealed).map(|_| ()),
            Err(VaultError::Damaged)
        );
        assert_eq!(
            vault.open("recovery", ana, &sealed).map(|_| ()),
            Err(VaultError::Damaged)
        );
        let again = vault.seal("totp", ana, &Secret::new("JBSWY3DPEHPK3PXP"));
        assert_ne!(sealed, again, "a fresh nonce every time");
    }

    #[test]
    fn previous_keys_open_what_they_sealed_and_plain_values_are_stale() {
        let old = Vault::new(SealingKey::new([1; 32]), Vec::new());
        let owner = Uuid::now_v7();
        let sealed = old.seal("totp", owner, &Secret::new("S"));
        let rotated = Vault::new(SealingKey::new([2; 32]), vec![SealingKey::new([1; 32])]);
        assert!(rotated.is_stale(&sealed));
        assert_eq!(
            rotated
                .open("totp", owner, &sealed)
                .map(|s| s.expose().to_owned()),
            Ok("S".to_owned())
        );
        let without = Vault::new(SealingKey::new([2; 32]), Vec::new());
        assert!(matches!(
            without.open("totp", owner, &sealed),
            Err(VaultError::UnknownKey(_))
        ));
        let plain = Sealed::from_stored("JBSWY3DP");
        assert!(rotated.is_stale(&plain));
        assert_eq!(
            rotated
                .open("totp", owner, &plain)
                .map(|s| s.expose().to_owned()),
            Ok("JBSWY3DP".to_owned())
        );
        // One character in the middle of the sealed bytes, changed for certain (the
        // last one may already be the replacement, or carry only padding bits).
        let mut damaged: Vec<char> = sealed.stored().chars().collect();
        let middle = damaged.len() - 8;
        damaged[middle] = if damaged[middle] == 'A' { 'B' } else { 'A' };
        let damaged: String = damaged.into_iter().collect();
        assert_eq!(
            old.open("totp", owner, &Sealed::from_stored(damaged))
                .map(|_| ()),
            Err(VaultError::Damaged)
        );
    }

    #[test]
    fn keys_parse_from_base64_or_hex_and_nothing_else() {
        let b64 = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
        let hex = "0101010101010101010101010101010101010101010101010101010101010101";
        let a = SealingKey::parse(b64).expect("base64");
        let b = SealingKey::parse(hex).expect("hex");
        assert_eq!(a.id(), b.id());
        assert_eq!(a.id(), SealingKey::new([1; 32]).id());
        for bad in ["", "short", "AQEB", &"00".repeat(31)] {
            assert!(SealingKey::parse(bad).is_err(), "{bad}");
        }
    }
}
