//! The apps' scripts and style sheet, compiled into the binary. Each is served under a
//! name carrying a hash of its content, so browsers may keep it for a year and a new
//! release is fetched at once.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

struct Asset {
    name: &'static str,
    body: &'static str,
}

/// A file of `assets/`.
macro_rules! asset {
    ($name:literal) => {
        Asset {
            name: $name,
            body: include_str!(concat!("../../assets/", $name)),
        }
    };
}

const FILES: [Asset; 10] = [
    asset!("app.css"),
    asset!("account.js"),
    asset!("common.js"),
    asset!("login.js"),
    asset!("pos.js"),
    asset!("kds.js"),
    asset!("office.js"),
    asset!("pin.js"),
    asset!("office-setup.js"),
    asset!("office-stock.js"),
];

/// The files that look messages up, for the test that every message they use exists.
#[cfg(test)]
pub const USES_MESSAGES: [(&str, &str); 18] = [
    ("account.js", FILES[1].body),
    ("common.js", FILES[2].body),
    ("login.js", FILES[3].body),
    ("pos.js", FILES[4].body),
    ("kds.js", FILES[5].body),
    ("office.js", FILES[6].body),
    ("pin.js", FILES[7].body),
    ("office-setup.js", FILES[8].body),
    ("office-stock.js", FILES[9].body),
    ("pin.html", include_str!("../../templates/pin.html")),
    ("base.html", include_str!("../../templates/base.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("pos.html", include_str!("../../templates/pos.html")),
    ("kds.html", include_str!("../../templates/kds.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("office.html", include_str!("../../templates/office.html")),
    ("account.html", include_str!("../../templates/account.html")),
    ("dialogs.html", include_str!("../../templates/dialogs.html")),
];

/// Each file's name as pages link it: `pos.3f2a9c1b.js`.
static VERSIONED: LazyLock<Vec<String>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|asset| {
            let digest = Sha256::digest(asset.body.as_bytes());
            let (stem, ext) = asset.name.rsplit_once('.').unwrap_or((asset.name, ""));
            format!(
                "{stem}.{}.{ext}",
                data_encoding::HEXLOWER.encode(&digest[..5])
            )
        })
        .collect()
});

/// The scripts of the page `app`, as it links them: `{app}.js` first, then the files
/// that carry on from it (`{app}-setup.js`).
pub fn of_app(app: &str) -> Vec<String> {
    let main = format!("{app}.js");
    let more = format!("{app}-");
    let mut names: Vec<&str> = FILES
        .iter()
        .map(|asset| asset.name)
        .filter(|name| *name == main || (name.starts_with(&more) && name.ends_with(".js")))
        .collect();
    names.sort_by_key(|name| *name != main);
    names.into_iter().map(url).collect()
}

/// The path a page links for `name` (one of [`FILES`]).
pub fn url(name: &str) -> String {
    FILES
        .iter()
        .zip(VERSIONED.iter())
        .find(|(asset, _)| asset.name == name)
        .map_or_else(
            || format!("/assets/{name}"),
            |(_, versioned)| format!("/assets/{versioned}"),
        )
}

/// `GET /assets/{file}`: a versioned name is cached for a year; the plain name (for
/// people and tools) is always revalidated.
pub async fn serve(Path(file): Path<String>) -> Response {
    let found = FILES
        .iter()
        .zip(VERSIONED.iter())
        .find(|(asset, versioned)| asset.name == file || **versioned == file);
    let Some((asset, versioned)) = found else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let cache = if *versioned == file {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = Response::new(Body::from(asset.body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if asset.name.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else {
            "text/css; charset=utf-8"
        }),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
