//! Taking a backup while the server takes writes.

use super::archive::{self, Manifest, Payload};
use super::postgres_tools::PgTarget;
use super::retention::BackupName;
use crate::settings::DatabaseTarget;
use anyhow::{Context, Result, anyhow, bail};
use chrono::Utc;
use comanda_store::Ops;
use comanda_store_postgres::{PgOptions, PgStorage};
use comanda_store_sqlite::{SqliteOptions, SqliteStorage};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// zstd's level 3: its default, about as fast as the disk on this kind of machine.
const ZSTD_LEVEL: i32 = 3;

pub struct Created {
    pub path: PathBuf,
    pub manifest: Manifest,
    pub archive_bytes: u64,
}

/// Files removed when dropped, so a failed backup or restore leaves nothing behind.
#[derive(Default)]
pub struct Scratch(Vec<PathBuf>);

impl Scratch {
    pub fn add(&mut self, path: PathBuf) -> PathBuf {
        self.0.push(path.clone());
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// What a snapshot holds, before it is packed.
struct Snapshot {
    schema_version: i64,
    tables: BTreeMap<String, i64>,
    payload_name: &'static str,
    payload: PathBuf,
}

pub async fn create(target: &DatabaseTarget, dir: &Path, tags: &[&str]) -> Result<Created> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the backup directory {}", dir.display()))?;
    let started = Instant::now();
    let created_at = Utc::now();
    let backend = match target {
        DatabaseTarget::Sqlite { .. } => "sqlite",
        DatabaseTarget::Postgres { .. } => "postgres",
    };
    let name = BackupName::format(created_at, backend, tags);
    let dest = dir.join(&name);
    if dest.exists() {
        bail!("{} exists already", dest.display());
    }
    let mut scratch = Scratch::default();
    let stem = dir.join(format!(".{name}"));
    let snapshot = match target {
        DatabaseTarget::Sqlite { path } => sqlite_snapshot(path, &stem, &mut scratch).await?,
        DatabaseTarget::Postgres { url } => {
            postgres_snapshot(url.expose(), &stem, &mut scratch).await?
        }
    };
    let (sha256, bytes) = {
        let payload = snapshot.payload.clone();
        tokio::task::spawn_blocking(move || archive::sha256_of(&payload)).await??
    };
    let manifest = Manifest {
        format: archive::FORMAT,
        comanda_version: env!("CARGO_PKG_VERSION").to_owned(),
        backend: backend.to_owned(),
        schema_version: snapshot.schema_version,
        created_at,
        seconds: (started.elapsed().as_secs_f64() * 100.0).round() / 100.0,
        tables: snapshot.tables,
        payload: Payload {
            name: snapshot.payload_name.to_owned(),
            bytes,
            sha256,
        },
    };
    {
        let (dest, manifest, payload) = (dest.clone(), manifest.clone(), snapshot.payload);
        tokio::task::spawn_blocking(move || archive::write(&dest, &manifest, &payload)).await??;
    }
    let archive_bytes = std::fs::metadata(&dest)?.len();
    Ok(Created {
        path: dest,
        manifest,
        archive_bytes,
    })
}

async fn sqlite_snapshot(db: &Path, stem: &Path, scratch: &mut Scratch) -> Result<Snapshot> {
    if !db.exists() {
        bail!("there is no database at {}", db.display());
    }
    let copy = scratch.add(stem.with_extension("db"));
    for extra in ["db-wal", "db-shm"] {
        scratch.add(stem.with_extension(extra));
    }
    let live = SqliteStorage::open(&SqliteOptions::new(db))
        .await
        .map_err(|e| anyhow!("opening the database: {e}"))?;
    let taken = live.snapshot_into(&copy).await;
    live.close().await;
    taken.map_err(|e| anyhow!("the snapshot failed: {e}"))?;

    let (tables, schema_version) = {
        let copy = copy.clone();
        tokio::task::spawn_blocking(move || comanda_store_sqlite::describe_file(&copy))
            .await?
            .map_err(|e| anyhow!("reading the snapshot: {e}"))?
    };

    let packed = scratch.add(stem.with_extension("db.zst"));
    {
        let (copy, packed) = (copy.clone(), packed.clone());
        tokio::task::spawn_blocking(move || compress(&copy, &packed)).await??;
    }
    Ok(Snapshot {
        schema_version,
        tables,
        payload_name: "comanda.db.zst",
        payload: packed,
    })
}

fn compress(from: &Path, to: &Path) -> Result<()> {
    let mut input = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(from)?);
    let output = std::fs::File::create(to)?;
    let mut encoder = zstd::stream::Encoder::new(output, ZSTD_LEVEL)?;
    std::io::copy(&mut input, &mut encoder)?;
    encoder.finish()?.sync_all()?;
    Ok(())
}

async fn postgres_snapshot(url: &str, stem: &Path, scratch: &mut Scratch) -> Result<Snapshot> {
    let target = PgTarget::parse(url)?;
    let storage =
        PgStorage::connect_lazy(url, &PgOptions::default()).map_err(|e| anyhow!("{e}"))?;
    let dump = scratch.add(stem.with_extension("pgdump"));
    let outcome = async {
        let mut snapshot = storage
            .export_snapshot()
            .await
            .map_err(|e| anyhow!("cannot reach the database: {e}"))?;
        let tables = snapshot.table_counts().await.map_err(|e| anyhow!("{e}"))?;
        let schema_version = snapshot
            .schema_version()
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let id = snapshot.id.clone();
        let dump_path = dump.clone();
        // The snapshot's transaction stays open until pg_dump has finished reading it.
        let dumped = tokio::task::spawn_blocking(move || target.dump(&id, &dump_path)).await?;
        snapshot.finish().await.map_err(|e| anyhow!("{e}"))?;
        dumped?;
        Ok::<_, anyhow::Error>(Snapshot {
            schema_version,
            tables,
            payload_name: "comanda.pgdump",
            payload: dump.clone(),
        })
    }
    .await;
    storage.close().await;
    outcome
}
