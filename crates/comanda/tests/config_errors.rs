//! Bad configuration ends the process with a non-zero status and one line on stderr that
//! names the problem: no panic, no backtrace, no secret.

mod support;

use std::net::TcpListener;
use support::{Output, comanda, run};

fn assert_one_line_error(out: &Output, needle: &str) {
    assert!(
        !out.status.success(),
        "must exit non-zero; stdout: {}",
        out.stdout
    );
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "exactly one line on stderr, got:\n{}",
        out.stderr
    );
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    assert!(
        lines[0].contains(needle),
        "{:?} should mention {needle:?}",
        lines[0]
    );
    assert!(!out.stderr.contains("panicked") && !out.stderr.contains("RUST_BACKTRACE"));
}

#[test]
fn an_unparsable_postgres_url_is_named_without_its_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = comanda(dir.path());
    cmd.env(
        "COMANDA_DATABASE_URL",
        "postgres://app:hunter2@db:notaport/comanda",
    );
    let out = run(cmd.arg("serve"));
    assert_one_line_error(&out, "invalid PostgreSQL URL");
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
}

#[test]
fn an_unsupported_database_scheme_is_named_without_its_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = comanda(dir.path());
    cmd.env("COMANDA_DATABASE_URL", "mysql://root:hunter2@db/comanda");
    let out = run(cmd.arg("serve"));
    assert_one_line_error(
        &out,
        "unsupported database URL \"mysql://root:***@db/comanda\"",
    );
}

#[test]
fn an_unwritable_data_dir_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A path below a regular file cannot be a directory, even for root.
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let data_dir = file.join("data");
    let out = run(comanda(&data_dir).arg("serve"));
    assert_one_line_error(
        &out,
        &format!("data directory {} is not writable", data_dir.display()),
    );
}

#[test]
fn a_port_in_use_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("address");
    let mut cmd = comanda(dir.path());
    cmd.env("COMANDA_LISTEN", addr.to_string());
    let out = run(cmd.arg("serve"));
    assert_one_line_error(&out, &format!("cannot listen on {addr}"));
    assert!(
        out.stderr.to_lowercase().contains("address already in use"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_malformed_listen_address_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(comanda(dir.path()).args(["serve", "--listen", "localhost"]));
    assert_one_line_error(&out, "invalid listen address \"localhost\"");
}

#[test]
fn a_typo_in_the_configuration_file_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("comanda.toml");
    std::fs::write(&config, "lisen = \"0.0.0.0:8080\"\n").expect("write");
    let out = run(comanda(dir.path())
        .arg("--config")
        .arg(&config)
        .arg("serve"));
    assert_one_line_error(&out, "unknown field `lisen`");
}

#[test]
fn a_missing_configuration_file_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(comanda(dir.path()).args(["--config", "/nonexistent/comanda.toml", "serve"]));
    assert_one_line_error(
        &out,
        "cannot read configuration file /nonexistent/comanda.toml",
    );
}

#[test]
fn bad_first_run_settings_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = comanda(dir.path());
    cmd.env("COMANDA_BOOTSTRAP_CURRENCY", "DOGE");
    assert_one_line_error(
        &run(cmd.arg("serve")),
        "currency: unknown currency \"DOGE\"",
    );

    let mut cmd = comanda(dir.path());
    cmd.env("COMANDA_BOOTSTRAP_PASSWORD", "short");
    let out = run(cmd.arg("serve"));
    assert_one_line_error(
        &out,
        "COMANDA_BOOTSTRAP_PASSWORD: must be at least 12 characters",
    );
    assert!(
        !out.stderr.contains("short\""),
        "the password itself is not echoed"
    );
}

#[test]
fn an_invalid_log_filter_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = comanda(dir.path());
    cmd.env("COMANDA_LOG", "info,=[");
    assert_one_line_error(&run(cmd.arg("serve")), "invalid log filter");
}

#[test]
fn bad_sign_in_settings_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = comanda(dir.path());
    cmd.env("COMANDA_LOGIN_RATE_IP", "lots");
    assert_one_line_error(
        &run(cmd.arg("serve")),
        "login rate per IP: invalid rate \"lots\"",
    );

    let mut cmd = comanda(dir.path());
    cmd.env("COMANDA_TRUSTED_PROXIES", "10.0.0.1, proxy.internal");
    assert_one_line_error(
        &run(cmd.arg("serve")),
        "invalid trusted proxy address \"proxy.internal\"",
    );

    let mut cmd = comanda(dir.path());
    cmd.env("COMANDA_REDIS_URL", "not a url");
    assert_one_line_error(&run(cmd.arg("serve")), "invalid Redis URL");
}

#[test]
fn postgres_without_a_named_secret_key_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = comanda(dir.path());
    cmd.env_remove("COMANDA_SECRET_KEY")
        .env("COMANDA_DATABASE_URL", "postgres://app@127.0.0.1:1/comanda");
    let out = run(cmd.arg("serve"));
    assert_one_line_error(&out, "set COMANDA_SECRET_KEY");
}

#[test]
fn a_secret_key_that_is_not_one_is_named_without_showing_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = comanda(dir.path());
    cmd.env("COMANDA_SECRET_KEY", "hunter2hunter2");
    let out = run(cmd.arg("serve"));
    assert_one_line_error(&out, "invalid secret key (COMANDA_SECRET_KEY)");
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
}
