//! Running `pg_dump` and `pg_restore` without putting the password on a command line
//! (where every user of the machine can read it): it travels in `PGPASSWORD`.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;
use url::Url;

/// A PostgreSQL URL split for the client tools.
#[derive(Clone)]
pub struct PgTarget {
    /// The URL without its password.
    pub url: Url,
    password: Option<String>,
}

impl PgTarget {
    pub fn parse(url: &str) -> Result<Self> {
        let mut url = Url::parse(url).context("invalid PostgreSQL URL")?;
        // The URL keeps it percent-encoded; the tools want it as typed ('+' stays '+').
        let password = url.password().map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        });
        let _ = url.set_password(None);
        Ok(Self { url, password })
    }

    pub fn database(&self) -> String {
        self.url.path().trim_start_matches('/').to_owned()
    }

    /// The same server and credentials, another database; as a URL for sqlx (with the
    /// password) and as a target for the tools.
    pub fn with_database(&self, database: &str) -> Self {
        let mut url = self.url.clone();
        url.set_path(&format!("/{database}"));
        Self {
            url,
            password: self.password.clone(),
        }
    }

    /// The full URL, password included, for this process's own connections.
    pub fn secret_url(&self) -> String {
        let mut url = self.url.clone();
        if let Some(p) = &self.password {
            let _ = url.set_password(Some(p));
        }
        url.to_string()
    }

    fn tool(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        if let Some(p) = &self.password {
            cmd.env("PGPASSWORD", p);
        }
        cmd
    }

    /// `pg_dump` in custom format (compressed, restorable table by table), seeing the
    /// exported snapshot `snapshot`.
    pub fn dump(&self, snapshot: &str, out: &Path) -> Result<()> {
        let mut cmd = self.tool("pg_dump");
        cmd.args(["--format=custom", "--no-owner", "--no-privileges"])
            .arg(format!("--snapshot={snapshot}"))
            .arg(format!("--file={}", out.display()))
            .arg(format!("--dbname={}", self.url));
        run(cmd, "pg_dump")
    }

    pub fn restore(&self, dump: &Path) -> Result<()> {
        let mut cmd = self.tool("pg_restore");
        cmd.args(["--no-owner", "--no-privileges", "--exit-on-error"])
            .arg(format!("--dbname={}", self.url))
            .arg(dump);
        run(cmd, "pg_restore")
    }
}

fn run(mut cmd: Command, name: &str) -> Result<()> {
    let output = cmd.output().with_context(|| {
        format!(
            "cannot run {name}: install the PostgreSQL client tools (Debian: postgresql-client)"
        )
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!("{name} failed ({}): {}", output.status, stderr.trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::PgTarget;

    #[test]
    fn the_password_leaves_the_url_decoded_as_typed() {
        let target = PgTarget::parse("postgres://app:p%40ss+w%2Frd@db:5432/pos?sslmode=require")
            .expect("valid");
        assert_eq!(target.password.as_deref(), Some("p@ss+w/rd"));
        assert_eq!(
            target.url.as_str(),
            "postgres://app@db:5432/pos?sslmode=require"
        );
        assert_eq!(target.database(), "pos");
        assert_eq!(
            target.with_database("pos_new").secret_url(),
            "postgres://app:p%40ss+w%2Frd@db:5432/pos_new?sslmode=require"
        );
    }
}
