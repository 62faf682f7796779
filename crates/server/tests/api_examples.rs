//! The examples of `docs/api.md` run as written: every `sh` block of its "Examples"
//! section, in order, in one shell environment per block, against a fresh server, signed
//! in with an API key of one store. An example that no longer works fails here.

use comanda_testkit::TestDb;
use comanda_testkit::identity::Org;
use reqwest::Method;
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;

fn examples() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/api.md");
    let text = std::fs::read_to_string(path).expect("docs/api.md");
    let section = text
        .split("\n## Examples\n")
        .nth(1)
        .expect("an Examples section")
        .split("\n## ")
        .next()
        .unwrap_or_default();
    section
        .split("```sh\n")
        .skip(1)
        .filter_map(|block| block.split("\n```").next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_examples_of_the_api_guide_work_as_written() {
    let db = TestDb::sqlite().await.expect("SQLite");
    let org = Org::new(db.storage()).await;
    let created = org
        .call(
            Method::POST,
            "/api/v1/api-keys",
            Some(&org.owner.token),
            Some(json!({
                "name": "docs examples",
                "permissions": ["store_read", "catalog_read", "catalog_manage", "order_read", "order_take"],
                "store_ids": [org.store_a],
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    let key = created.body["key"].as_str().expect("the key").to_owned();
    let blocks = examples();
    assert!(
        blocks.len() >= 5,
        "the Examples section reads as {} blocks",
        blocks.len()
    );
    let base = org.url("");
    let base = base.trim_end_matches('/');
    for block in blocks {
        let output = tokio::task::spawn_blocking({
            let (block, base, key, store) =
                (block.clone(), base.to_owned(), key.clone(), org.store_a);
            move || {
                Command::new("bash")
                    .args(["-euo", "pipefail", "-c", &block])
                    .env("COMANDA_URL", base)
                    .env("COMANDA_KEY", key)
                    .env("STORE_ID", store.to_string())
                    .output()
                    .expect("bash runs")
            }
        })
        .await
        .expect("the example ran");
        assert!(
            output.status.success(),
            "this example of docs/api.md failed:\n{block}\n--- stdout:\n{}\n--- stderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
}
