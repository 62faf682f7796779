//! Runs the real `comanda` binary as an operator would, capturing its output.
#![allow(dead_code)]

pub mod orders;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_comanda");

/// The key secrets at rest are sealed with in tests (PostgreSQL needs one named). Not a
/// secret: it protects nothing but test data.
pub const TEST_SECRET_KEY: &str = "dGVzdCBrZXkgZm9yIHNlY3JldHMgYXQgcmVzdCAzMmI=";

/// A command with a clean environment: nothing from the developer's shell leaks in.
pub fn comanda(data_dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("COMANDA_DATA_DIR", data_dir)
        .env("COMANDA_LISTEN", "127.0.0.1:0")
        .env("COMANDA_LOG", "info")
        .env("COMANDA_SECRET_KEY", TEST_SECRET_KEY);
    cmd
}

pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs to completion, failing the test if it hangs.
pub fn run(cmd: &mut Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn comanda");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().expect("wait").is_some() {
            let out = child.wait_with_output().expect("output");
            return Output {
                status: out.status,
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            };
        }
        assert!(
            Instant::now() < deadline,
            "comanda did not exit within 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running `comanda serve`.
pub struct Server {
    pub child: Child,
    pub url: String,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

fn collect(stream: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            sink.lock().expect("lines").push(line);
        }
    });
    lines
}

impl Server {
    /// Starts `serve` and waits for it to print the URL it listens on. Async, because a
    /// test may run a proxy on its own runtime that must keep going meanwhile.
    pub async fn start(mut cmd: Command) -> Server {
        let mut child = cmd
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn comanda serve");
        let stdout = collect(child.stdout.take().expect("stdout"));
        let stderr = collect(child.stderr.take().expect("stderr"));
        let deadline = Instant::now() + Duration::from_secs(20);
        let url = loop {
            let found = stdout
                .lock()
                .expect("lines")
                .iter()
                .find_map(|l| find_url(l));
            if let Some(url) = found {
                break url;
            }
            if let Some(status) = child.try_wait().expect("wait") {
                panic!(
                    "comanda exited ({status}) before listening:\n{}",
                    stderr.lock().expect("lines").join("\n")
                );
            }
            assert!(Instant::now() < deadline, "comanda did not print its URL");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        Server {
            child,
            url,
            stdout,
            stderr,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().expect("lines").join("\n")
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("lines").join("\n")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits for `/ready` to answer 200.
    pub async fn wait_ready(&self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(r) = reqwest::get(self.url("/ready")).await
                && r.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "not ready within {within:?}\nstdout:\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the process to exit.
    pub async fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "comanda did not exit within {within:?}\nstdout:\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `http://127.0.0.1:PORT` the server announces, in either log format.
fn find_url(line: &str) -> Option<String> {
    let start = line.find("listening on http://")? + "listening on ".len();
    let rest = &line[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"')
        .unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// The store `main` (BRL) and its owner, as the tests' databases start.
pub async fn main_store_and_owner() -> (comanda_domain::NewStore, comanda_domain::NewUser) {
    use comanda_domain::{DisplayName, Login, NewStore, NewUser, Role, Secret, UserId};
    let store = NewStore::parse("main", "Centro", "BRL", "UTC", "pt-BR").expect("valid");
    let owner = NewUser {
        id: UserId::new(),
        login: Login::parse("login", "owner").expect("valid"),
        display_name: DisplayName::parse("display_name", "Dona").expect("valid"),
        password_hash: comanda_server::password::hash(&Secret::new("owner passphrase 1"))
            .await
            .expect("hash"),
        role: Role::Owner,
        all_stores: true,
        store_ids: vec![store.id],
        must_change_password: false,
        company_id: None,
    };
    (store, owner)
}

/// A migrated SQLite database in `dir` with a store `main` (BRL) and an owner.
#[allow(dead_code)]
pub async fn prepared(dir: &std::path::Path) -> comanda_store_sqlite::SqliteStorage {
    use comanda_store::{Bootstrap, Ops};
    use comanda_store_sqlite::{SqliteOptions, SqliteStorage};
    std::fs::create_dir_all(dir).expect("data dir");
    let storage = SqliteStorage::open(&SqliteOptions::new(dir.join("comanda.db")))
        .await
        .expect("open");
    storage.migrate().await.expect("migrate");
    let (store, owner) = main_store_and_owner().await;
    storage.bootstrap(&store, &owner).await.expect("bootstrap");
    storage
}

/// A person of the staff of `store` who signs in with `password`.
pub async fn add_staff(
    storage: &dyn comanda_store::UserRepo,
    store: comanda_domain::StoreId,
    (login, name, role): (&str, &str, comanda_domain::Role),
    password: &str,
) {
    use comanda_domain::{DisplayName, Login, NewUser, Secret, UserId};
    storage
        .create_user(&NewUser {
            id: UserId::new(),
            login: Login::parse("login", login).expect("login"),
            display_name: DisplayName::parse("display_name", name).expect("name"),
            password_hash: comanda_server::password::hash(&Secret::new(password))
                .await
                .expect("hash"),
            role,
            all_stores: false,
            store_ids: vec![store],
            must_change_password: false,
            company_id: None,
        })
        .await
        .expect("staff");
}

/// The first store of a database, as the tests' databases have one.
pub async fn first_store(storage: &dyn comanda_store::StoreRepo) -> comanda_domain::StoreId {
    storage
        .list_stores(None, None, comanda_store::Limit::new(None))
        .await
        .expect("stores")
        .items[0]
        .id
}

/// Signs `login` in through the API; its access token.
pub async fn sign_in_as(
    client: &reqwest::Client,
    server: &Server,
    login: &str,
    password: &str,
) -> String {
    let r: serde_json::Value = client
        .post(server.url("/api/v1/auth/login"))
        .json(&serde_json::json!({ "login": login, "password": password }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    r["access_token"].as_str().expect("token").to_owned()
}
