//! Bringing a database to a state the server can serve from: reachable, migrated, and
//! (on a brand-new database) holding a first store and its owner.
//!
//! An unreachable database is waited for, with backoff, while the server already answers
//! probes; a failing migration is fatal, because serving against a half-migrated schema
//! is worse than not serving.

use crate::password;
use crate::readiness::{Phase, Readiness};
use crate::state::AppState;
use comanda_domain::{DisplayName, Login, NewStore, NewUser, Role, Secret, StoreCode, UserId};
use comanda_store::{BootstrapOutcome, Storage, StoreError};
use std::time::Duration;

/// What to create on a brand-new database.
#[derive(Clone, Debug)]
pub struct BootstrapPlan {
    pub store: NewStore,
    pub owner_login: Login,
    pub owner_name: DisplayName,
    /// `None`: generate a one-time password, print it once, and require a change at first
    /// sign-in.
    pub owner_password: Option<Secret>,
}

#[derive(Clone, Debug)]
pub struct StartupPlan {
    /// Apply pending migrations; when false, wait for an operator to run `comanda migrate`.
    pub migrate: bool,
    pub bootstrap: BootstrapPlan,
}

#[derive(Debug)]
pub enum BootstrapReport {
    AlreadyDone,
    Created {
        login: Login,
        store_code: StoreCode,
        /// Only for a generated password: the one chance to show it.
        generated_password: Option<Secret>,
    },
}

#[derive(Debug)]
pub struct StartupError(pub String);

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartupError {}

const FIRST_RETRY: Duration = Duration::from_millis(200);
const MAX_RETRY: Duration = Duration::from_secs(5);

/// Retries `step` while the database is unavailable, keeping the reason visible on
/// `/ready`. Other errors end start-up.
async fn with_retry<T, F, Fut>(
    readiness: &Readiness,
    what: &str,
    mut step: F,
) -> Result<T, StartupError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut delay = FIRST_RETRY;
    loop {
        match step().await {
            Ok(value) => return Ok(value),
            Err(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "{what}: waiting for the database");
                readiness.waiting(e.to_string());
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_RETRY);
            }
            Err(e) => return Err(StartupError(format!("{what}: {e}"))),
        }
    }
}

/// Migrates (or waits for migrations), bootstraps, loads the signing key, then marks
/// the server ready.
pub async fn prepare(
    state: &AppState,
    plan: &StartupPlan,
) -> Result<BootstrapReport, StartupError> {
    let storage = &*state.storage;
    let readiness = &state.readiness;
    with_retry(readiness, "connecting", || storage.ping()).await?;
    if plan.migrate {
        let applied = with_retry(readiness, "migrating", || storage.migrate()).await?;
        if !applied.is_empty() {
            tracing::info!(?applied, "applied migrations");
        }
    } else {
        wait_for_current_schema(storage, readiness).await?;
    }
    let report = bootstrap(storage, readiness, &plan.bootstrap).await?;
    with_retry(readiness, "loading the signing key", || {
        state.load_signing_key()
    })
    .await?;
    let census = with_retry(readiness, "sealing secrets", || {
        crate::auth::reseal::reseal(storage, state.vault())
    })
    .await?;
    if census.resealed > 0 {
        tracing::info!(
            people = census.resealed,
            key = state.vault().current_key_id(),
            "sealed TOTP secrets under the current key"
        );
    }
    if census.unopenable > 0 {
        tracing::error!(
            secrets = census.unopenable,
            "TOTP secrets this server cannot open: their owners cannot sign in until the key that sealed them is set in COMANDA_SECRET_KEY_PREVIOUS"
        );
    }
    readiness.set(Phase::Serving);
    Ok(report)
}

/// With automatic migration off, another process (a deploy job, an operator) migrates;
/// until it has, this instance stays not-ready rather than failing.
async fn wait_for_current_schema(
    storage: &dyn Storage,
    readiness: &Readiness,
) -> Result<(), StartupError> {
    loop {
        let status = with_retry(readiness, "reading migration status", || {
            storage.migration_status()
        })
        .await?;
        match status.problem() {
            None => return Ok(()),
            Some(problem) => {
                tracing::warn!(%problem, "schema not current; run `comanda migrate`");
                readiness.waiting(format!("{problem} (automatic migration is off)"));
                tokio::time::sleep(MAX_RETRY).await;
            }
        }
    }
}

async fn bootstrap(
    storage: &dyn Storage,
    readiness: &Readiness,
    plan: &BootstrapPlan,
) -> Result<BootstrapReport, StartupError> {
    if with_retry(readiness, "checking first-run setup", || {
        storage.is_bootstrapped()
    })
    .await?
    {
        return Ok(BootstrapReport::AlreadyDone);
    }
    let (password, generated) = match &plan.owner_password {
        Some(given) => (given.clone(), false),
        None => (
            password::generate(20).map_err(|e| StartupError(e.to_string()))?,
            true,
        ),
    };
    let owner = NewUser {
        id: UserId::new(),
        login: plan.owner_login.clone(),
        display_name: plan.owner_name.clone(),
        password_hash: password::hash(&password)
            .await
            .map_err(|e| StartupError(e.to_string()))?,
        role: Role::Owner,
        all_stores: true,
        store_ids: vec![plan.store.id],
        must_change_password: generated,
        company_id: None,
    };
    let outcome = with_retry(readiness, "first-run setup", || {
        storage.bootstrap(&plan.store, &owner)
    })
    .await?;
    Ok(match outcome {
        BootstrapOutcome::AlreadyDone => BootstrapReport::AlreadyDone,
        BootstrapOutcome::Created => {
            tracing::info!(login = %plan.owner_login, store = %plan.store.code, "created the first store and its owner");
            BootstrapReport::Created {
                login: plan.owner_login.clone(),
                store_code: plan.store.code.clone(),
                generated_password: generated.then_some(password),
            }
        }
    })
}
