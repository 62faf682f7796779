//! What goes over the wire compressed: the apps' scripts and pages and large API answers
//! as brotli or gzip when the client accepts them, byte for byte the same once decoded;
//! small answers and live streams as they are.

use comanda_testkit::identity::Org;
use comanda_testkit::{TestDb, on_both_backends};
use std::io::Read;
use std::time::Duration;

on_both_backends!(scripts_pages_and_lists_are_compressed_streams_are_not);

async fn fetch(
    org: &Org,
    path: &str,
    encoding: Option<&str>,
    token: Option<&str>,
) -> (Option<String>, Vec<u8>) {
    let mut request = reqwest::Client::new().get(org.url(path));
    if let Some(encoding) = encoding {
        request = request.header("accept-encoding", encoding);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    let used = response
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (used, response.bytes().await.expect("body").to_vec())
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

async fn scripts_pages_and_lists_are_compressed_streams_are_not(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let owner = Some(org.owner.token.as_str());
    let menu = format!("/api/v1/stores/{}/catalog/products", org.store_a);
    for (path, token) in [
        ("/assets/pos.js", None),
        ("/assets/app.css", None),
        ("/app/login", None),
        ("/api/v1/openapi.json", None),
        (menu.as_str(), owner),
    ] {
        let (plain_encoding, plain) = fetch(&org, path, None, token).await;
        assert_eq!(
            plain_encoding, None,
            "{path}: nothing asked for, nothing used"
        );
        let (brotli, compressed) = fetch(&org, path, Some("br, gzip"), token).await;
        if plain.len() < 1024 {
            assert_eq!(brotli, None, "{path}: too small to be worth it");
            continue;
        }
        assert_eq!(brotli.as_deref(), Some("br"), "{path}");
        assert!(compressed.len() < plain.len(), "{path}");
        let (gzip, zipped) = fetch(&org, path, Some("gzip"), token).await;
        assert_eq!(gzip.as_deref(), Some("gzip"), "{path}");
        assert_eq!(
            gunzip(&zipped),
            plain,
            "{path}: the same bytes once decoded"
        );
    }

    // A live stream is sent as each event happens, never held back by an encoder.
    let stream = reqwest::Client::new()
        .get(org.url(&format!("/api/v1/stores/{}/floor/stream", org.store_a)))
        .header("accept-encoding", "br, gzip")
        .bearer_auth(&org.owner.token)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers().get("content-encoding"), None);
}
