//! Probes. `/live` says the process runs (restart it if not); `/ready` says it can take
//! traffic (route to it if so); `/health` is the detailed view for people and monitors.

use crate::readiness::Phase;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Longest a probe waits for the database. Kubernetes' default probe timeout is 1 s and a
/// POS with a database that takes longer than this to say `SELECT 1` is not ready anyway.
const DATABASE_TIMEOUT: Duration = Duration::from_millis(1500);

pub async fn live() -> Json<Value> {
    Json(json!({ "status": "alive" }))
}

struct DatabaseCheck {
    latency_ms: f64,
    /// Why the database cannot serve this binary, or `None` when it can.
    problem: Option<String>,
}

/// One round trip plus a look at the schema, bounded so an unreachable database turns
/// the probe red quickly instead of hanging it.
async fn check_database(state: &AppState) -> DatabaseCheck {
    let started = Instant::now();
    let outcome = tokio::time::timeout(DATABASE_TIMEOUT, async {
        state.storage.ping().await.map_err(|e| e.to_string())?;
        let ping_ms = started.elapsed().as_secs_f64() * 1e3;
        let status = state
            .storage
            .migration_status()
            .await
            .map_err(|e| e.to_string())?;
        match status.problem() {
            Some(problem) => Err(problem),
            None => Ok(ping_ms),
        }
    })
    .await;
    match outcome {
        Ok(Ok(latency_ms)) => DatabaseCheck {
            latency_ms,
            problem: None,
        },
        Ok(Err(problem)) => DatabaseCheck {
            latency_ms: started.elapsed().as_secs_f64() * 1e3,
            problem: Some(problem),
        },
        Err(_) => DatabaseCheck {
            latency_ms: started.elapsed().as_secs_f64() * 1e3,
            problem: Some(format!(
                "database did not answer within {} ms",
                DATABASE_TIMEOUT.as_millis()
            )),
        },
    }
}

/// The start-up obstacle, or else the database's: unreachable, or unable to write.
async fn readiness_problem(state: &AppState) -> (Option<String>, Option<DatabaseCheck>) {
    if let Phase::Starting { reason } = state.readiness.phase() {
        return (Some(reason), None);
    }
    let mut check = check_database(state).await;
    if check.problem.is_none() {
        check.problem = state.write_health.problem();
    }
    (check.problem.clone(), Some(check))
}

pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match readiness_problem(&state).await {
        (None, _) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        (Some(reason), _) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not_ready", "reason": reason })),
        ),
    }
}

pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (problem, check) = readiness_problem(&state).await;
    let starting = check.is_none();
    let status = match (&problem, starting) {
        (None, _) => "ok",
        (Some(_), true) => "starting",
        (Some(_), false) => "unavailable",
    };
    let mut database = json!({
        "backend": state.storage.backend(),
        "status": if problem.is_none() { "ok" } else { "unavailable" },
    });
    if let Some(check) = &check {
        database["latency_ms"] = json!((check.latency_ms * 1000.0).round() / 1000.0);
    }
    if let Some(problem) = &problem {
        database["error"] = json!(problem);
    }
    let code = if problem.is_none() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(json!({
            "status": status,
            "version": state.build.version,
            "git_sha": state.build.git_sha,
            "uptime_s": state.started_at.elapsed().as_secs(),
            "database": database,
        })),
    )
}
