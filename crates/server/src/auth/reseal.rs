//! Keeping every secret at rest sealed under the current key: after an upgrade from a
//! release that stored TOTP secrets in plain text, and after a key rotation, `serve`
//! seals again whatever is plain or under a previous key, and `comanda check` counts
//! what the configured keys cannot open.

use super::vault::{TOTP, Vault};
use comanda_domain::{Sealed, UserId};
use comanda_store::{StoreError, UserRepo};

/// What the stored secrets look like to a vault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Census {
    /// Sealed under the current key.
    pub current: usize,
    /// Plain, or under a previous key: to seal again.
    pub stale: usize,
    /// Under a key the vault does not hold, or damaged: their owners cannot sign in.
    pub unopenable: usize,
    /// Sealed again by [`reseal`].
    pub resealed: usize,
}

fn count(census: &mut Census, vault: &Vault, user: UserId, sealed: Option<&Sealed>) {
    let Some(sealed) = sealed else { return };
    if vault.open(TOTP, user.as_uuid(), sealed).is_err() {
        census.unopenable += 1;
    } else if vault.is_stale(sealed) {
        census.stale += 1;
    } else {
        census.current += 1;
    }
}

/// Counts the stored secrets by how the vault sees them, changing nothing.
pub async fn census(storage: &dyn UserRepo, vault: &Vault) -> Result<Census, StoreError> {
    let mut census = Census::default();
    for (user, active, pending) in storage.totp_secrets().await? {
        count(&mut census, vault, user, active.as_ref());
        count(&mut census, vault, user, pending.as_ref());
    }
    Ok(census)
}

/// The same secret sealed under the current key, if it needs it and opens.
fn fresh(vault: &Vault, user: UserId, sealed: Option<&Sealed>) -> Option<Option<Sealed>> {
    let Some(sealed) = sealed else {
        return Some(None);
    };
    if !vault.is_stale(sealed) {
        return Some(Some(sealed.clone()));
    }
    let secret = vault.open(TOTP, user.as_uuid(), sealed).ok()?;
    Some(Some(vault.seal(TOTP, user.as_uuid(), &secret)))
}

/// Seals again every stored secret that is plain or under a previous key. One that
/// changed meanwhile (a person enrolling) is left to its new value; one that does not
/// open is left as it is and counted.
pub async fn reseal(storage: &dyn UserRepo, vault: &Vault) -> Result<Census, StoreError> {
    let mut census = Census::default();
    for (user, active, pending) in storage.totp_secrets().await? {
        let stale = [&active, &pending]
            .iter()
            .any(|s| s.as_ref().is_some_and(|s| vault.is_stale(s)));
        let (Some(new_active), Some(new_pending)) = (
            fresh(vault, user, active.as_ref()),
            fresh(vault, user, pending.as_ref()),
        ) else {
            count(&mut census, vault, user, active.as_ref());
            count(&mut census, vault, user, pending.as_ref());
            continue;
        };
        if stale
            && storage
                .reseal_totp_secrets(
                    user,
                    (active.as_ref(), pending.as_ref()),
                    (new_active.as_ref(), new_pending.as_ref()),
                )
                .await?
        {
            census.resealed += 1;
        }
        census.current += usize::from(new_active.is_some()) + usize::from(new_pending.is_some());
    }
    Ok(census)
}
