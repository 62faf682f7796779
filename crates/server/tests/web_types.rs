//! The web apps' scripts against the API's contract: `scripts/check-web-types.sh` types
//! every call they make and every field they read from the OpenAPI document, so a
//! script reading a field the API does not send (or calling a path or method it does
//! not have) fails here. Skipped without Node.js and `e2e/node_modules`, except under
//! `CI=true`, where it fails.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_web_apps_read_only_what_the_api_sends() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tools = root.join("e2e/node_modules/.bin");
    if !tools.join("tsc").exists() || !tools.join("openapi-typescript").exists() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "the web type check cannot run under CI: run `npm ci` in e2e/"
        );
        eprintln!("SKIPPED web_types: run `npm ci` in e2e/");
        return;
    }
    let output = Command::new("bash")
        .arg(root.join("scripts/check-web-types.sh"))
        .current_dir(&root)
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "the web apps' scripts disagree with the API's document:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}
