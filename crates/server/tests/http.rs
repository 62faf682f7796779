//! The HTTP surface of the foundation, on both backends, through a real socket.

use comanda_server::readiness::Readiness;
use comanda_testkit::{TestDb, TestServer, on_both_backends};
use reqwest::StatusCode;
use serde_json::Value;

async fn get(url: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let response = reqwest::get(url).await.expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

on_both_backends!(
    health_reports_the_backend_and_its_latency,
    ready_and_live_answer_200_when_serving,
    unknown_routes_and_methods_get_json_errors,
    request_ids_are_echoed_or_generated,
    metrics_count_requests_by_matched_route,
    the_api_answers_503_until_startup_has_finished,
);

async fn health_reports_the_backend_and_its_latency(db: TestDb) {
    let server = TestServer::ready(db.storage()).await;
    let (status, headers, body) = get(&server.url("/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    let health = json(&body);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    assert!(health["uptime_s"].is_u64());
    let backend = db.storage().backend().as_str();
    assert_eq!(health["database"]["backend"], backend);
    assert_eq!(health["database"]["status"], "ok");
    let latency = health["database"]["latency_ms"]
        .as_f64()
        .expect("latency is a number");
    assert!((0.0..1500.0).contains(&latency), "{latency}");
}

async fn ready_and_live_answer_200_when_serving(db: TestDb) {
    let server = TestServer::ready(db.storage()).await;
    let (status, _, body) = get(&server.url("/ready")).await;
    assert_eq!(
        (status, json(&body)["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
    let (status, _, body) = get(&server.url("/live")).await;
    assert_eq!(
        (status, json(&body)["status"].as_str()),
        (StatusCode::OK, Some("alive"))
    );
}

async fn unknown_routes_and_methods_get_json_errors(db: TestDb) {
    let server = TestServer::ready(db.storage()).await;
    let (status, _, body) = get(&server.url("/api/v1/no/such/thing?x=1")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let error = &json(&body)["error"];
    assert_eq!(error["code"], "not_found");
    assert_eq!(error["message"], "no route for GET /api/v1/no/such/thing");

    let response = reqwest::Client::new()
        .delete(server.url("/health"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body = json(&response.text().await.expect("body"));
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

async fn request_ids_are_echoed_or_generated(db: TestDb) {
    let server = TestServer::ready(db.storage()).await;
    let client = reqwest::Client::new();
    let echoed = client
        .get(server.url("/live"))
        .header("x-request-id", "till-3.order-42")
        .send()
        .await
        .expect("request");
    assert_eq!(echoed.headers()["x-request-id"], "till-3.order-42");

    // An id that could forge log lines is replaced, not echoed.
    let replaced = client
        .get(server.url("/live"))
        .header("x-request-id", "evil\" injected=\"1")
        .send()
        .await
        .expect("request");
    let id = replaced.headers()["x-request-id"].to_str().expect("ascii");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    let generated = client
        .get(server.url("/nope"))
        .send()
        .await
        .expect("request");
    assert!(generated.headers().contains_key("x-request-id"));
}

async fn metrics_count_requests_by_matched_route(db: TestDb) {
    let server = TestServer::ready(db.storage()).await;
    for _ in 0..3 {
        get(&server.url("/health")).await;
    }
    get(&server.url("/does-not-exist/12345")).await;
    let (status, headers, body) = get(&server.url("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/openmetrics-text")
    );

    assert!(
        body.contains(
            r#"comanda_http_requests_total{method="GET",route="/health",status="200"} 3"#
        ),
        "{body}"
    );
    assert!(
        body.contains(
            r#"comanda_http_requests_total{method="GET",route="unmatched",status="404"} 1"#
        )
    );
    assert!(!body.contains("12345"), "raw paths must not become labels");
    assert!(body.contains(r#"comanda_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/health",status="200"}"#));
    let backend = db.storage().backend().as_str();
    assert!(
        body.contains(&format!(r#"backend="{backend}""#)),
        "build info names the backend"
    );
    assert!(body.contains("comanda_db_pool_connections{pool="));
    assert!(body.contains("comanda_db_pool_max_connections{pool="));
    assert!(body.contains("process_resident_memory_bytes "));
    assert!(body.trim_end().ends_with("# EOF"));
}

async fn the_api_answers_503_until_startup_has_finished(db: TestDb) {
    let readiness = Readiness::starting();
    readiness.waiting("2 migration(s) pending: 3, 4");
    let server = TestServer::start(db.storage(), readiness.clone()).await;

    let (status, headers, body) = get(&server.url("/api/v1")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["retry-after"], "2");
    assert_eq!(json(&body)["error"]["code"], "not_ready");

    let (status, _, body) = get(&server.url("/ready")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(&body)["reason"], "2 migration(s) pending: 3, 4");
    let (status, _, body) = get(&server.url("/health")).await;
    assert_eq!(
        (status, json(&body)["status"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("starting"))
    );
    let (status, _, _) = get(&server.url("/live")).await;
    assert_eq!(status, StatusCode::OK, "a starting process is alive");

    readiness.set(comanda_server::readiness::Phase::Serving);
    let (status, _, body) = get(&server.url("/api/v1")).await;
    assert_eq!(
        (status, json(&body)["service"].as_str()),
        (StatusCode::OK, Some("comanda"))
    );
}
