//! Which backups to keep: the newest of each of the last N days, ISO weeks and months
//! that have a backup (days in UTC), plus every backup marked to keep. A backup any rule
//! keeps stays; the newest backup is always kept.

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub daily: usize,
    pub weekly: usize,
    pub monthly: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            daily: 30,
            weekly: 13,
            monthly: 12,
        }
    }
}

/// A backup file's name, as `comanda backup` writes it:
/// `comanda-20261130T233000Z-sqlite[-keep][-pre-restore].tar`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupName {
    pub file: String,
    pub taken_at: DateTime<Utc>,
    pub backend: String,
    /// Marked `--keep`, or taken before a restore: never pruned.
    pub pinned: bool,
}

const PREFIX: &str = "comanda-";
const SUFFIX: &str = ".tar";
const STAMP: &str = "%Y%m%dT%H%M%SZ";
pub const KEEP_TAG: &str = "keep";
pub const PRE_RESTORE_TAG: &str = "pre-restore";

impl BackupName {
    pub fn format(taken_at: DateTime<Utc>, backend: &str, tags: &[&str]) -> String {
        let mut name = format!("{PREFIX}{}-{backend}", taken_at.format(STAMP));
        for tag in tags {
            name.push('-');
            name.push_str(tag);
        }
        name.push_str(SUFFIX);
        name
    }

    /// `None` for anything that is not a backup's name (checksum files, other files).
    pub fn parse(file: &str) -> Option<Self> {
        let rest = file.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
        let (stamp, rest) = rest.split_once('-')?;
        let taken_at = NaiveDateTime::parse_from_str(stamp, STAMP).ok()?.and_utc();
        let mut parts = rest.split('-');
        let backend = parts.next()?.to_owned();
        let tags: Vec<&str> = parts.collect();
        let pinned = tags.contains(&KEEP_TAG) || tags.join("-").contains(PRE_RESTORE_TAG);
        Some(Self {
            file: file.to_owned(),
            taken_at,
            backend,
            pinned,
        })
    }
}

/// The backups in `dir`, newest first.
pub fn list(dir: &Path) -> std::io::Result<Vec<BackupName>> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if let Some(name) = entry.file_name().to_str().and_then(BackupName::parse) {
            found.push(name);
        }
    }
    found.sort_by(|a, b| b.taken_at.cmp(&a.taken_at).then(b.file.cmp(&a.file)));
    Ok(found)
}

/// The calendar period a backup falls in: a day, an ISO week or a month.
type Period = fn(&DateTime<Utc>) -> (i32, u32, u32);

/// Splits backups (newest first) into (kept, removed).
pub fn plan(backups: &[BackupName], policy: Policy) -> (Vec<&BackupName>, Vec<&BackupName>) {
    let mut keep: BTreeSet<usize> = backups
        .iter()
        .enumerate()
        .filter(|(_, b)| b.pinned)
        .map(|(i, _)| i)
        .collect();
    let rules: [(usize, Period); 3] = [
        (policy.daily, |t| (t.year(), t.month(), t.day())),
        (policy.weekly, |t| {
            let w = t.iso_week();
            (w.year(), w.week(), 0)
        }),
        (policy.monthly, |t| (t.year(), t.month(), 0)),
    ];
    for (count, period) in rules {
        let mut seen = BTreeSet::new();
        for (i, backup) in backups.iter().enumerate() {
            if seen.len() == count {
                break;
            }
            // Newest first, so the first backup met in a period is that period's newest.
            if seen.insert(period(&backup.taken_at)) {
                keep.insert(i);
            }
        }
    }
    let (kept, removed): (Vec<_>, Vec<_>) = backups
        .iter()
        .enumerate()
        .partition(|(i, _)| keep.contains(i));
    (
        kept.into_iter().map(|(_, b)| b).collect(),
        removed.into_iter().map(|(_, b)| b).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_round_trip_and_other_files_are_ignored() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 30, 23, 30, 5)
            .single()
            .expect("time");
        let name = BackupName::format(at, "sqlite", &[KEEP_TAG]);
        assert_eq!(name, "comanda-20261130T233005Z-sqlite-keep.tar");
        let parsed = BackupName::parse(&name).expect("parses");
        assert_eq!((parsed.taken_at, parsed.pinned), (at, true));
        assert!(BackupName::parse(&format!("{name}.sha256")).is_none());
        assert!(BackupName::parse("comanda-yesterday-sqlite.tar").is_none());
        let plain = BackupName::format(at, "postgres", &[]);
        assert!(!BackupName::parse(&plain).expect("parses").pinned);
    }
}
