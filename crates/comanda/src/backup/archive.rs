//! The backup file: a tar archive an operator can open without comanda (`tar xf`, then
//! `zstd -d` or `pg_restore`) holding `manifest.json` and the database image, with a
//! `sha256sum`-format file beside it that covers every byte of the archive.

use anyhow::{Context, Result, bail, ensure};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

pub const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    pub comanda_version: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The newest migration applied to the database backed up.
    pub schema_version: i64,
    pub created_at: DateTime<Utc>,
    /// Seconds the backup took.
    pub seconds: f64,
    /// Rows per table at the moment of the snapshot.
    pub tables: BTreeMap<String, i64>,
    pub payload: Payload,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Payload {
    /// The entry's name in the archive: `comanda.db.zst` or `comanda.pgdump`.
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

impl Manifest {
    pub fn rows(&self) -> i64 {
        self.tables.values().sum()
    }
}

/// Reads a file through SHA-256.
pub fn sha256_of(path: &Path) -> Result<(String, u64)> {
    let mut file = BufReader::with_capacity(
        1 << 20,
        File::open(path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    hash_stream(&mut file, &mut std::io::sink())
}

/// Copies `from` into `to`, returning the SHA-256 and length of what passed.
fn hash_stream(from: &mut impl Read, to: &mut impl Write) -> Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = from.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        to.write_all(&buffer[..n])?;
        total += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}

/// The checksum file that goes beside `archive`.
pub fn checksum_path(archive: &Path) -> PathBuf {
    let mut name = archive.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

/// Writes the archive at `dest` (through a `.partial` file renamed at the end, so a
/// crash leaves no half backup that looks whole) and its checksum file.
pub fn write(dest: &Path, manifest: &Manifest, payload: &Path) -> Result<()> {
    let partial = dest.with_extension("partial");
    {
        let file = File::create(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        let mut tar = tar::Builder::new(BufWriter::with_capacity(1 << 20, file));
        let json = serde_json::to_vec_pretty(manifest)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(manifest.created_at.timestamp().max(0).unsigned_abs());
        header.set_cksum();
        tar.append_data(&mut header, MANIFEST, json.as_slice())?;
        let mut data = File::open(payload)?;
        tar.append_file(&manifest.payload.name, &mut data)?;
        let file = tar.into_inner()?.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
    }
    let (sha, _) = sha256_of(&partial)?;
    std::fs::rename(&partial, dest)?;
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sums = checksum_path(dest);
    std::fs::write(&sums, format!("{sha}  {name}\n"))?;
    File::open(&sums)?.sync_all()?;
    if let Some(dir) = dest.parent() {
        // The renames are durable only once the directory is.
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Reads only the manifest, for listing and for refusing early.
pub fn read_manifest(archive: &Path) -> Result<Manifest> {
    let file = File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let mut tar = tar::Archive::new(BufReader::new(file));
    let mut entries = tar.entries()?;
    let mut entry = entries
        .next()
        .context("the archive is empty")?
        .context("the archive is damaged: its first header is unreadable")?;
    ensure!(
        entry.path()?.as_os_str() == MANIFEST,
        "the archive does not start with {MANIFEST}: not a comanda backup"
    );
    let mut json = String::new();
    entry
        .read_to_string(&mut json)
        .context("the manifest is unreadable")?;
    let manifest: Manifest =
        serde_json::from_str(&json).context("the manifest is damaged or not a comanda manifest")?;
    ensure!(
        manifest.format == FORMAT,
        "backup format {} is not one this release reads ({FORMAT})",
        manifest.format
    );
    Ok(manifest)
}

/// What verification found: the archive is whole, and how we know.
pub struct Verified {
    pub manifest: Manifest,
    /// Whether the checksum file was there to cover the whole archive.
    pub whole_file_checked: bool,
}

/// Checks the archive's checksum file (when present), the manifest and the payload's own
/// checksum, extracting the payload to `payload_out` on the way. Any mismatch is an error
/// that says what is wrong; nothing is trusted before this returns.
pub fn verify_and_extract(archive: &Path, payload_out: &Path) -> Result<Verified> {
    let sums = checksum_path(archive);
    let whole_file_checked = sums.exists();
    if whole_file_checked {
        let text = std::fs::read_to_string(&sums)
            .with_context(|| format!("cannot read {}", sums.display()))?;
        let expected = text.split_whitespace().next().unwrap_or_default();
        let (actual, _) = sha256_of(archive)?;
        if expected != actual {
            bail!(
                "{} is damaged: its SHA-256 is {actual}, but {} says {expected}",
                archive.display(),
                sums.display()
            );
        }
    }
    let manifest = read_manifest(archive)?;
    let file = File::open(archive)?;
    let mut tar = tar::Archive::new(BufReader::with_capacity(1 << 20, file));
    let mut found = false;
    for entry in tar.entries()? {
        let mut entry = entry.context("the archive is damaged: a header is unreadable")?;
        if entry.path()?.as_os_str() != manifest.payload.name.as_str() {
            continue;
        }
        let mut out = BufWriter::new(File::create(payload_out)?);
        let (sha, bytes) = hash_stream(&mut entry, &mut out)
            .context("the archive is damaged: the database image is truncated")?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        if sha != manifest.payload.sha256 || bytes != manifest.payload.bytes {
            bail!(
                "the database image in {} is damaged: SHA-256 {sha} ({bytes} bytes), the manifest says {} ({} bytes)",
                archive.display(),
                manifest.payload.sha256,
                manifest.payload.bytes
            );
        }
        found = true;
        break;
    }
    ensure!(
        found,
        "the archive has no {}: it is incomplete",
        manifest.payload.name
    );
    Ok(Verified {
        manifest,
        whole_file_checked,
    })
}
