//! `comanda smoke URL`: what an operator checks by hand after a deploy, as one command.
//! Uses the server's own HTTPS client (rustls), so it works against a public https URL
//! as well as a pod's plain http port.

use super::table::Table;
use crate::cli::SmokeArgs;
use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::{Duration, Instant};

struct Client {
    base: String,
    http: comanda_server::https_client::HttpsClient<
        hyper_util::client::legacy::connect::dns::GaiResolver,
    >,
    timeout: Duration,
    token: Option<String>,
}

struct Reply {
    status: u16,
    body: Bytes,
    ms: f64,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The error code of a 4xx/5xx body, or its status alone.
    fn explain(&self) -> String {
        let body = self.json();
        match body["error"]["code"].as_str().or(body["code"].as_str()) {
            Some(code) => format!("HTTP {} {code}", self.status),
            None => format!("HTTP {}", self.status),
        }
    }
}

impl Client {
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Result<Reply> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(
                "user-agent",
                concat!("comanda-smoke/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let body = match body {
            Some(value) => {
                request = request.header("content-type", "application/json");
                Bytes::from(serde_json::to_vec(&value)?)
            }
            None => Bytes::new(),
        };
        let request = request.body(Full::new(body))?;
        let started = Instant::now();
        let response = tokio::time::timeout(self.timeout, async {
            let response = self.http.request(request).await?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, anyhow::Error>((status, body))
        })
        .await
        .map_err(|_| anyhow!("no answer within {} s", self.timeout.as_secs()))??;
        Ok(Reply {
            status: response.0,
            body: response.1,
            ms: started.elapsed().as_secs_f64() * 1e3,
        })
    }

    async fn get(&self, path: &str) -> Result<Reply> {
        self.send(Method::GET, path, None, None).await
    }
}

pub async fn run(args: &SmokeArgs) -> Result<ExitCode> {
    let base = args.url.trim_end_matches('/').to_owned();
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(anyhow!("the URL must start with http:// or https://"));
    }
    let timeout = Duration::from_secs(args.timeout_secs.max(1));
    let http = comanda_server::https_client::client(HttpConnector::new(), timeout)
        .map_err(anyhow::Error::msg)?;
    let mut client = Client {
        base,
        http,
        timeout,
        token: None,
    };
    let mut table = Table::default();
    probes(&client, &mut table).await;
    if !args.probes_only
        && let Err(e) = session(&mut client, args, &mut table).await
    {
        table.fail("smoke", format!("{e:#}"));
    }
    Ok(table.finish())
}

async fn probes(client: &Client, table: &mut Table) {
    for (name, path) in [
        ("live", "/live"),
        ("health", "/health"),
        ("ready", "/ready"),
    ] {
        match client.get(path).await {
            Ok(r) if r.status == 200 => table.pass(name, format!("{path} 200 in {:.1} ms", r.ms)),
            Ok(r) => table.fail(
                name,
                format!(
                    "{path} {}: {}",
                    r.status,
                    String::from_utf8_lossy(&r.body).trim()
                ),
            ),
            Err(e) => table.fail(name, format!("{path}: {e:#}")),
        }
    }
}

/// Metrics, then what a terminal does: sign in, read the menu, open an order, cancel it.
async fn session(client: &mut Client, args: &SmokeArgs, table: &mut Table) -> Result<()> {
    let metrics = client.get("/metrics").await?;
    let text = String::from_utf8_lossy(&metrics.body);
    if metrics.status == 200 && text.contains("comanda_") {
        let series = text.lines().filter(|l| !l.starts_with('#')).count();
        table.pass("metrics", format!("/metrics 200, {series} samples"));
    } else {
        table.fail(
            "metrics",
            format!("/metrics {}: no comanda_ series", metrics.status),
        );
    }

    let (Some(login), Some(password)) = (&args.login, &args.password) else {
        table.fail(
            "login",
            "set COMANDA_SMOKE_LOGIN and COMANDA_SMOKE_PASSWORD (a manager or waiter of the smoke store)",
        );
        return Ok(());
    };
    let signed = client
        .send(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({ "login": login, "password": password })),
            None,
        )
        .await?;
    let Some(token) = signed.json()["access_token"].as_str().map(str::to_owned) else {
        table.fail("login", format!("{login}: {}", signed.explain()));
        return Ok(());
    };
    client.token = Some(token);
    table.pass("login", format!("{login} signed in in {:.1} ms", signed.ms));

    let stores = client.get("/api/v1/stores").await?;
    let store = stores.json()["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|s| s["code"].as_str() == Some(args.store.as_str()))
        })
        .and_then(|s| s["id"].as_str().map(str::to_owned));
    let Some(store) = store else {
        table.fail(
            "store",
            format!(
                "{login} cannot see a store {:?} ({})",
                args.store,
                stores.explain()
            ),
        );
        return Ok(());
    };
    table.pass("store", format!("{} is {store}", args.store));

    let menu = client
        .get(&format!("/api/v1/stores/{store}/catalog/menu"))
        .await?;
    if menu.status == 200 {
        let products = menu.json()["products"].as_array().map_or(0, Vec::len);
        table.pass(
            "catalog",
            format!("menu read, {products} products, {:.1} ms", menu.ms),
        );
    } else {
        table.fail("catalog", format!("menu: {}", menu.explain()));
    }

    let key = format!("smoke-{}", uuid::Uuid::now_v7());
    let opened = client
        .send(
            Method::POST,
            &format!("/api/v1/stores/{store}/orders"),
            Some(json!({ "kind": "counter", "notes": "comanda smoke test" })),
            Some(&key),
        )
        .await?;
    let order = opened.json();
    let (Some(id), Some(version)) = (order["id"].as_str(), order["version"].as_i64()) else {
        table.fail("order", format!("open: {}", opened.explain()));
        return Ok(());
    };
    table.pass("order", format!("opened {id} in {:.1} ms", opened.ms));
    let cancelled = client
        .send(
            Method::POST,
            &format!("/api/v1/stores/{store}/orders/{id}/cancel"),
            Some(json!({ "version": version, "reason": "smoke test" })),
            Some(&format!("{key}-cancel")),
        )
        .await
        .context("cancelling the test order")?;
    if cancelled.status == 200 && cancelled.json()["status"] == "cancelled" {
        table.pass(
            "cancel",
            format!("{id} cancelled in {:.1} ms", cancelled.ms),
        );
    } else {
        table.fail("cancel", format!("{id}: {}", cancelled.explain()));
    }
    Ok(())
}
