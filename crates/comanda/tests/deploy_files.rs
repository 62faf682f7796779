//! The shipping files (Dockerfile, docker-compose.yml, deploy/) cannot be run here (no
//! container engine), so they are held to what the binary really offers: every
//! `COMANDA_*` variable they set is one the binary reads, every metric the dashboard and
//! alerts query is one `/metrics` exposes, the probes they name answer, and the image's
//! health check command works.

mod support;

use comanda_store::Ops;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::{Server, comanda, prepared, run};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shipping_files() -> Vec<PathBuf> {
    let mut files = vec![repo().join("Dockerfile"), repo().join("docker-compose.yml")];
    let mut dirs = vec![repo().join("deploy")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("deploy/") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Words of the form `prefix[A-Za-z0-9_]+` in `text`.
fn words(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        found.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    found
}

#[test]
fn every_variable_the_shipping_files_set_is_one_the_binary_reads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut known = BTreeSet::new();
    for command in [
        &["serve", "--help"][..],
        &["backup", "--help"],
        &["backup", "prune", "--help"],
        &["check", "--help"],
        &["smoke", "--help"],
    ] {
        let out = run(comanda(dir.path()).args(command));
        known.extend(words(&out.stdout, "COMANDA_"));
    }
    // Read from the environment only, never from a flag (see cli.rs).
    known.extend([
        "COMANDA_BOOTSTRAP_PASSWORD".to_owned(),
        "COMANDA_SMOKE_PASSWORD".to_owned(),
        "COMANDA_SECRET_KEY".to_owned(),
        "COMANDA_SECRET_KEY_PREVIOUS".to_owned(),
    ]);
    assert!(known.contains("COMANDA_BACKUP_INTERVAL"), "{known:?}");
    for file in shipping_files() {
        for variable in words(&read(&file), "COMANDA_") {
            assert!(
                known.contains(&variable),
                "{} sets {variable}, which comanda does not read",
                file.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboards_alerts_probes_and_the_health_check_match_a_running_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    prepared(dir.path()).await.close().await;
    let server = Server::start(comanda(dir.path())).await;
    server.wait_ready(Duration::from_secs(20)).await;
    let client = reqwest::Client::new();
    let metrics = client
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    // Families by type, as `# TYPE name type` says; samples carry the type's suffixes.
    let mut exposed = BTreeSet::new();
    for line in metrics.lines().filter_map(|l| l.strip_prefix("# TYPE ")) {
        let mut parts = line.split_whitespace();
        let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
            continue;
        };
        let suffixes: &[&str] = match kind {
            "counter" => &["_total"],
            "histogram" => &["_bucket", "_sum", "_count"],
            _ => &[""],
        };
        for suffix in suffixes {
            exposed.insert(format!("{}{suffix}", name.trim_end_matches("_total")));
        }
    }
    assert!(
        exposed.contains("comanda_http_requests_total"),
        "{exposed:?}"
    );

    let dashboard = read(&repo().join("deploy/grafana/comanda-dashboard.json"));
    let parsed: serde_json::Value =
        serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    assert!(parsed["panels"].as_array().is_some_and(|p| p.len() >= 6));
    let alerts = read(&repo().join("deploy/prometheus/comanda-alerts.yml"));
    for text in [&dashboard, &alerts] {
        for prefix in ["comanda_", "process_"] {
            for metric in words(text, prefix) {
                assert!(
                    exposed.contains(&metric),
                    "{metric} is not in /metrics:\n{metrics}"
                );
            }
        }
    }

    let deployment = read(&repo().join("deploy/kubernetes/deployment.yaml"));
    for probe in ["/live", "/ready"] {
        assert!(
            deployment.contains(&format!("path: {probe}")),
            "the deployment probes {probe}"
        );
        let status = client
            .get(server.url(probe))
            .send()
            .await
            .expect("probe")
            .status();
        assert_eq!(status.as_u16(), 200, "{probe}");
    }

    // The image's HEALTHCHECK, pointed at this server.
    let dockerfile = read(&repo().join("Dockerfile"));
    let check = dockerfile
        .lines()
        .find_map(|l| l.trim().strip_prefix("CMD [\"comanda\", "))
        .expect("a HEALTHCHECK CMD running comanda");
    let args: Vec<String> =
        serde_json::from_str(&format!("[{check}")).expect("the CMD is a JSON array");
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.replace("http://127.0.0.1:8080", &server.url))
        .collect();
    let out = run(comanda(dir.path()).args(&args));
    assert!(out.status.success(), "{}{}", out.stdout, out.stderr);
}
