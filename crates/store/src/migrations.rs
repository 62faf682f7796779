//! Which schema migrations a binary knows, which the database has applied, and whether
//! the two agree. Both backends feed this the same facts; the judgement lives here once.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A migration embedded in this binary.
#[derive(Clone, Debug)]
pub struct KnownMigration {
    pub version: i64,
    pub description: String,
    pub checksum: Vec<u8>,
}

/// A row of the database's migration history.
#[derive(Clone, Debug)]
pub struct AppliedMigration {
    pub version: i64,
    pub description: String,
    pub checksum: Vec<u8>,
    pub success: bool,
    pub applied_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MigrationState {
    pub version: i64,
    pub description: String,
    pub applied_at: Option<DateTime<Utc>>,
    /// False when the applied migration differs from the one in this binary: somebody
    /// edited a released migration, and the schema may not be what the code expects.
    pub checksum_matches: bool,
}

impl MigrationState {
    /// It changes how data is stored ([`ONE_WAY`]).
    pub fn is_one_way(&self) -> bool {
        is_one_way(&self.description)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MigrationStatus {
    pub migrations: Vec<MigrationState>,
    /// Versions applied by a newer binary. Harmless under the expand/contract policy
    /// (a newer release only adds), so an older binary keeps serving during a rollback.
    pub newer_applied: Vec<i64>,
    /// Of those, the ones that changed how data is stored ([`ONE_WAY`]): a binary that
    /// does not know them cannot read what was written after them, and must not serve.
    pub newer_one_way: Vec<i64>,
    /// Versions whose last attempt failed part-way.
    pub failed: Vec<i64>,
}

/// How a migration's name ends (`20261207000003_packed_values_one_way.sql`) when it
/// changes how data is stored, so that a binary from before it cannot read what is
/// written after it. An older binary that finds one it does not know refuses to serve,
/// rather than fail on every order written since; see docs/migrations.md.
pub const ONE_WAY: &str = "one way";

fn is_one_way(description: &str) -> bool {
    description.ends_with(ONE_WAY)
}

/// A failed migration run: an unreachable database is worth waiting for, anything else
/// (a bad migration, an edited one) is not.
pub fn migrate_error(
    error: sqlx::migrate::MigrateError,
    classify: fn(sqlx::Error) -> crate::StoreError,
) -> crate::StoreError {
    match error {
        sqlx::migrate::MigrateError::Execute(inner) => match classify(inner) {
            unavailable @ crate::StoreError::Unavailable(_) => unavailable,
            other => crate::StoreError::Migration(other.to_string()),
        },
        other => crate::StoreError::Migration(other.to_string()),
    }
}

/// The migrations embedded in a backend's migrator.
pub fn known_migrations(migrator: &sqlx::migrate::Migrator) -> Vec<KnownMigration> {
    migrator
        .iter()
        .map(|m| KnownMigration {
            version: m.version,
            description: m.description.to_string(),
            checksum: m.checksum.to_vec(),
        })
        .collect()
}

impl MigrationStatus {
    /// Versions pending in `self` that `after` shows applied.
    pub fn applied_since(&self, after: &MigrationStatus) -> Vec<i64> {
        self.pending()
            .filter(|m| !after.pending().any(|p| p.version == m.version))
            .map(|m| m.version)
            .collect()
    }

    pub fn compute(known: &[KnownMigration], applied: &[AppliedMigration]) -> Self {
        let migrations = known
            .iter()
            .map(|k| {
                let row = applied.iter().find(|a| a.version == k.version && a.success);
                MigrationState {
                    version: k.version,
                    description: k.description.clone(),
                    applied_at: row.map(|a| a.applied_at),
                    checksum_matches: row.is_none_or(|a| a.checksum == k.checksum),
                }
            })
            .collect();
        let newer: Vec<&AppliedMigration> = applied
            .iter()
            .filter(|a| a.success && !known.iter().any(|k| k.version == a.version))
            .collect();
        let newer_applied = newer.iter().map(|a| a.version).collect();
        let newer_one_way = newer
            .iter()
            .filter(|a| is_one_way(&a.description))
            .map(|a| a.version)
            .collect();
        let failed = applied
            .iter()
            .filter(|a| !a.success)
            .map(|a| a.version)
            .collect();
        Self {
            migrations,
            newer_applied,
            newer_one_way,
            failed,
        }
    }

    pub fn pending(&self) -> impl Iterator<Item = &MigrationState> {
        self.migrations.iter().filter(|m| m.applied_at.is_none())
    }

    /// Pending migrations that change how data is stored: once applied, a binary from
    /// before them cannot read what is written after. Worth a backup first, unless the
    /// database is new (nothing applied, so nothing an older binary wrote).
    pub fn pending_one_way(&self) -> impl Iterator<Item = &MigrationState> {
        let new = self.migrations.iter().all(|m| m.applied_at.is_none());
        self.pending().filter(move |m| !new && m.is_one_way())
    }

    /// Why the schema is not what this binary needs, or `None` when it is.
    pub fn problem(&self) -> Option<String> {
        if let Some(v) = self.failed.first() {
            return Some(format!(
                "migration {v} failed part-way; fix it by hand, then run `comanda migrate`"
            ));
        }
        if let Some(v) = self.newer_one_way.first() {
            return Some(format!(
                "migration {v}, applied by a newer release, changed how data is stored and this binary cannot read it; run that release, or restore the backup taken before it"
            ));
        }
        if let Some(m) = self.migrations.iter().find(|m| !m.checksum_matches) {
            return Some(format!(
                "migration {} ({}) differs from the one applied to the database",
                m.version, m.description
            ));
        }
        let pending: Vec<String> = self.pending().map(|m| m.version.to_string()).collect();
        if !pending.is_empty() {
            return Some(format!(
                "{} migration(s) pending: {}",
                pending.len(),
                pending.join(", ")
            ));
        }
        None
    }

    pub fn is_current(&self) -> bool {
        self.problem().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(version: i64, checksum: u8) -> KnownMigration {
        KnownMigration {
            version,
            description: format!("m{version}"),
            checksum: vec![checksum],
        }
    }

    fn applied(version: i64, checksum: u8, success: bool) -> AppliedMigration {
        AppliedMigration {
            version,
            description: format!("m{version}"),
            checksum: vec![checksum],
            success,
            applied_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn all_applied_is_current() {
        let s = MigrationStatus::compute(
            &[known(1, 1), known(2, 2)],
            &[applied(1, 1, true), applied(2, 2, true)],
        );
        assert!(s.is_current(), "{:?}", s.problem());
        assert_eq!(s.pending().count(), 0);
    }

    #[test]
    fn pending_migrations_are_named() {
        let s = MigrationStatus::compute(&[known(1, 1), known(2, 2)], &[applied(1, 1, true)]);
        assert_eq!(s.problem().as_deref(), Some("1 migration(s) pending: 2"));
    }

    #[test]
    fn newer_migrations_from_a_later_release_do_not_block() {
        let s =
            MigrationStatus::compute(&[known(1, 1)], &[applied(1, 1, true), applied(7, 7, true)]);
        assert!(s.is_current());
        assert_eq!(s.newer_applied, vec![7]);
    }

    #[test]
    fn a_newer_one_way_migration_blocks() {
        let one_way = AppliedMigration {
            description: "packed values one way".into(),
            ..applied(7, 7, true)
        };
        let s = MigrationStatus::compute(&[known(1, 1)], &[applied(1, 1, true), one_way]);
        assert_eq!(s.newer_one_way, vec![7]);
        assert!(
            s.problem()
                .is_some_and(|p| p.contains("7") && p.contains("cannot read")),
            "{:?}",
            s.problem()
        );
    }

    #[test]
    fn a_one_way_migration_this_binary_knows_does_not_block() {
        let mut one_way = known(7, 7);
        one_way.description = "packed values one way".into();
        let all = [known(1, 1), one_way.clone()];
        let pending = MigrationStatus::compute(&all, &[applied(1, 1, true)]);
        let versions: Vec<i64> = pending.pending_one_way().map(|m| m.version).collect();
        assert_eq!(versions, vec![7], "named before it is applied");
        let new = MigrationStatus::compute(&all, &[]);
        assert_eq!(
            new.pending_one_way().count(),
            0,
            "a new database has nothing to lose"
        );
        let s = MigrationStatus::compute(&[one_way], &[applied(7, 7, true)]);
        assert!(s.is_current(), "{:?}", s.problem());
        assert_eq!(s.pending_one_way().count(), 0);
    }

    #[test]
    fn edited_or_failed_migrations_block() {
        let edited = MigrationStatus::compute(&[known(1, 1)], &[applied(1, 9, true)]);
        assert!(edited.problem().is_some_and(|p| p.contains("differs")));
        let failed = MigrationStatus::compute(&[known(1, 1)], &[applied(1, 1, false)]);
        assert!(failed.problem().is_some_and(|p| p.contains("failed")));
    }
}
