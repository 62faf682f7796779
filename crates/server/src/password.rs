//! Password hashing with Argon2id and the parameters OWASP recommends as a minimum
//! (19 MiB, 2 passes, 1 lane): ~20-40 ms here, slow enough against offline guessing,
//! fast enough that a login stays well under 100 ms.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use comanda_domain::{PasswordHash as StoredHash, Secret};

const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

fn hasher() -> Argon2<'static> {
    // The constants above are valid Argon2 parameters; `Params::DEFAULT` is the fallback
    // only to avoid a panic path.
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).unwrap_or(Params::DEFAULT);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug)]
pub struct HashError(String);

impl std::error::Error for HashError {}

impl std::fmt::Display for HashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "password hashing failed: {}", self.0)
    }
}

/// At most this many hashes run at once: each takes 19 MiB, and a burst of sign-ins
/// (or an attack) must queue rather than exhaust memory.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        tokio::sync::Semaphore::new((cores * 2).max(2))
    })
}

/// Hashes on the blocking pool: Argon2 is CPU- and memory-bound by design.
pub async fn hash(password: &Secret) -> Result<StoredHash, HashError> {
    let _slot = hashing_slots()
        .acquire()
        .await
        .map_err(|e| HashError(e.to_string()))?;
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        hasher()
            .hash_password(password.expose().as_bytes())
            .map(|h| StoredHash(h.to_string()))
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

/// True when `password` matches the stored PHC string.
pub async fn verify(password: &Secret, stored: &StoredHash) -> bool {
    let Ok(_slot) = hashing_slots().acquire().await else {
        return false;
    };
    let password = password.clone();
    let stored = stored.as_str().to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|parsed| {
                hasher()
                    .verify_password(password.expose().as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password, verified against when the account does not exist, so an
/// unknown login takes as long to refuse as a wrong password and timing reveals nothing.
pub async fn dummy_hash() -> &'static StoredHash {
    static DUMMY: tokio::sync::OnceCell<StoredHash> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            let random = generate(24).unwrap_or_else(|_| Secret::new("fallback dummy password"));
            hash(&random)
                .await
                .unwrap_or_else(|_| StoredHash("$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into()))
        })
        .await
}

/// Characters that survive being read aloud or copied off a screen: no 0/O, 1/l/I.
const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A random password of `len` characters (~5.8 bits each), from the OS generator.
pub fn generate(len: usize) -> Result<Secret, HashError> {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - (256 % ALPHABET.len());
    while out.len() < len {
        getrandom::fill(&mut buf).map_err(|e| HashError(e.to_string()))?;
        for &b in &buf {
            if (b as usize) < limit && out.len() < len {
                out.push(char::from(ALPHABET[b as usize % ALPHABET.len()]));
            }
        }
    }
    Ok(Secret::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_reject_wrong_passwords() {
        let pw = Secret::new("correct horse battery");
        let stored = hash(&pw).await.expect("hash");
        assert!(
            stored
                .as_str()
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
        assert!(verify(&pw, &stored).await);
        assert!(!verify(&Secret::new("correct horse batterY"), &stored).await);
        assert!(!verify(&pw, &StoredHash("not a phc string".into())).await);
    }

    #[test]
    fn generated_passwords_use_the_alphabet_and_differ() {
        let a = generate(20).expect("random");
        let b = generate(20).expect("random");
        assert_eq!(a.expose().len(), 20);
        assert!(a.expose().bytes().all(|c| ALPHABET.contains(&c)));
        assert_ne!(a, b);
    }
}
