//! The OpenAPI document against the route table: every route documented and nothing
//! else, each with a successful answer, and the document as committed in
//! `docs/openapi.json`, so that a change of the contract shows in review.
//!
//! After a deliberate change of the API: `COMANDA_UPDATE_CONTRACT=1 cargo test -p
//! comanda-server --test contract`, then review the snapshot's diff.

use comanda_server::{api_routes, contract};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            if item.get(method).is_some() {
                found.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

#[test]
fn every_route_is_documented_and_every_operation_is_a_route() {
    let doc = contract::openapi();
    let routes: BTreeSet<(String, String)> = api_routes()
        .into_iter()
        .map(|r| (r.method.to_string(), r.path))
        .collect();
    let documented = operations(&doc);
    let undocumented: Vec<_> = routes.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routes).collect();
    assert!(
        undocumented.is_empty(),
        "routes without an operation: {undocumented:#?}"
    );
    assert!(
        unrouted.is_empty(),
        "operations without a route: {unrouted:#?}"
    );
    assert!(
        routes.len() > 150,
        "the route table reads as {} routes",
        routes.len()
    );
}

#[test]
fn every_operation_says_what_it_answers_and_who_may_call_it() {
    let doc = contract::openapi();
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let responses = op["responses"].as_object().cloned().unwrap_or_default();
            if !responses
                .keys()
                .any(|code| code.starts_with('2') || code.starts_with('3'))
            {
                missing.push(format!("{method} {path}: no successful answer"));
            }
            for (code, response) in &responses {
                if code.starts_with('4') || code.starts_with('5') {
                    let named = response["$ref"].as_str().unwrap_or_default();
                    let named = named.trim_start_matches("#/components/responses/");
                    let schema = &doc["components"]["responses"][named]["content"]["application/json"]
                        ["schema"]["$ref"];
                    if schema != "#/components/schemas/ErrorBody" {
                        missing.push(format!("{method} {path}: {code} is not the error shape"));
                    }
                }
            }
            let names: Vec<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let params: Vec<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            if names != params {
                missing.push(format!("{method} {path}: path parameters {params:?}"));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_committed_document_is_the_generated_one() {
    let generated = String::from_utf8(contract::document().json.to_vec()).expect("UTF-8") + "\n";
    let path = snapshot_path();
    if std::env::var_os("COMANDA_UPDATE_CONTRACT").is_some() {
        std::fs::write(&path, &generated).expect("write the snapshot");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is not the document this code generates: if the API's change \
         is meant, run COMANDA_UPDATE_CONTRACT=1 cargo test -p comanda-server --test \
         contract and commit the snapshot"
    );
}

#[tokio::test]
async fn the_binary_serves_the_document_and_its_reference_page() {
    let db = comanda_testkit::TestDb::sqlite().await.expect("SQLite");
    let server = comanda_testkit::TestServer::ready(db.storage()).await;
    let client = reqwest::Client::new();

    let served = client
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("document");
    assert_eq!(served.status(), reqwest::StatusCode::OK);
    let etag = served.headers()["etag"].clone();
    assert_eq!(served.headers()["content-type"], "application/json");
    let body = served.bytes().await.expect("body");
    assert_eq!(body, contract::document().json);
    let again = client
        .get(server.url("/api/v1/openapi.json"))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("revalidation");
    assert_eq!(again.status(), reqwest::StatusCode::NOT_MODIFIED);

    let page = client
        .get(server.url("/api/docs"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = page.text().await.expect("html");
    // The reader's script is in the page; nothing is loaded from elsewhere.
    assert!(html.contains("Redoc.init(\"/api/v1/openapi.json\""));
    assert!(
        !html.contains("<script src"),
        "the page loads a script from elsewhere"
    );
}
