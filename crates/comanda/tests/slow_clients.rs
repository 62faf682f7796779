//! Clients that are slow, idle or many cannot hold the server: 2,000 half-open requests
//! against a server limited to 1,024 open files leave a normal client answered and the
//! process alive, and are closed by the header timeout; a body sent a byte a second, a
//! kept-alive connection left idle and a request held up by a silent database all get
//! their answer (or their end) in bounded time.
//!
//! What is asserted is that answers arrive and connections end; how fast they did is
//! printed (and summarised in docs/performance.md), not asserted.

mod support;

use comanda_store::Ops;
use comanda_testkit::{TcpProxy, TestPostgres};
use std::process::Command;
use std::time::{Duration, Instant};
use support::{BIN, Server, TEST_SECRET_KEY, prepared};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `comanda` as `serve` runs it here, under a file limit of `files`, with `extra` settings.
fn limited(dir: &std::path::Path, files: u32, extra: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.env_clear()
        .env("COMANDA_DATA_DIR", dir)
        .env("COMANDA_LISTEN", "127.0.0.1:0")
        .env("COMANDA_LOG", "info")
        .env("COMANDA_SECRET_KEY", TEST_SECRET_KEY)
        .args([
            "-c",
            &format!("ulimit -n {files} && exec \"$0\" \"$@\""),
            BIN,
        ]);
    for (name, value) in extra {
        cmd.env(name, value);
    }
    cmd
}

fn address(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_owned()
}

/// Waits up to `within` for the server to close `stream`; how long it took, or `None`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 512];
    loop {
        match tokio::time::timeout(
            within.saturating_sub(started.elapsed()),
            stream.read(&mut buf),
        )
        .await
        {
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_half_open_requests_do_not_stop_a_normal_client() {
    let dir = tempfile::tempdir().expect("temp dir");
    prepared(dir.path()).await.close().await;
    let server = Server::start(limited(
        dir.path(),
        1024,
        &[("COMANDA_HEADER_TIMEOUT_SECS", "3")],
    ))
    .await;
    server.wait_ready(Duration::from_secs(20)).await;
    let addr = address(&server);

    // Each sends most of a request's headers and then nothing more.
    let mut slow = Vec::with_capacity(2_000);
    for _ in 0..2_000 {
        match TcpStream::connect(&addr).await {
            Ok(mut stream) => {
                let _ = stream
                    .write_all(b"GET /api/v1 HTTP/1.1\r\nHost: comanda\r\nX-Slow: ")
                    .await;
                slow.push(stream);
            }
            Err(e) => panic!("the listener refused a connection: {e}"),
        }
    }

    // A normal client keeps being answered, on fresh connections each time.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let mut slowest = Duration::ZERO;
    for path in ["/live", "/api/v1", "/ready", "/api/v1", "/live"].repeat(4) {
        let started = Instant::now();
        let response = client
            .get(server.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path} unanswered with 2,000 half-open requests: {e}"));
        assert_eq!(response.status(), 200, "{path}");
        slowest = slowest.max(started.elapsed());
    }
    eprintln!("slowest answer to a normal client among 2,000 half-open requests: {slowest:?}");

    // Every half-open request is closed: by the header timeout, or earlier to make room.
    let mut latest = Duration::ZERO;
    let mut still_open = 0;
    let started = Instant::now();
    for stream in &mut slow {
        let left = Duration::from_secs(30).saturating_sub(started.elapsed());
        match closed_within(stream, left).await {
            Some(_) => latest = started.elapsed(),
            None => still_open += 1,
        }
    }
    assert_eq!(still_open, 0, "half-open requests the server never closed");
    eprintln!(
        "all 2,000 closed {latest:?} after the normal client was served (header timeout 3 s)"
    );
    let live = client.get(server.url("/live")).send().await.expect("live");
    assert_eq!(live.status(), 200, "the process is alive");
    let metrics = client
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let evicted = metrics
        .lines()
        .find(|l| l.starts_with("comanda_http_connections_evicted_total"))
        .unwrap_or_default()
        .to_owned();
    eprintln!("{evicted}");
    assert!(
        !evicted.ends_with(" 0"),
        "at the cap (1,024 files), idle connections made room: {evicted}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_and_an_idle_connection_are_ended() {
    let dir = tempfile::tempdir().expect("temp dir");
    prepared(dir.path()).await.close().await;
    let server = Server::start(limited(
        dir.path(),
        4096,
        &[
            ("COMANDA_BODY_TIMEOUT_SECS", "2"),
            ("COMANDA_IDLE_TIMEOUT_SECS", "2"),
        ],
    ))
    .await;
    server.wait_ready(Duration::from_secs(20)).await;
    let addr = address(&server);

    // A body of 64 bytes, sent a byte a second.
    let stream = TcpStream::connect(&addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: comanda\r\ncontent-type: application/json\r\ncontent-length: 64\r\n\r\n",
        )
        .await
        .expect("head");
    let trickle = tokio::spawn(async move {
        for _ in 0..64 {
            if writer.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    // Others are answered meanwhile.
    let mut probe = TcpStream::connect(&addr).await.expect("probe");
    probe
        .write_all(b"GET /live HTTP/1.1\r\nHost: comanda\r\nConnection: close\r\n\r\n")
        .await
        .expect("probe");
    let mut answered = Vec::new();
    let _ = probe.read_to_end(&mut answered).await;
    assert!(String::from_utf8_lossy(&answered).starts_with("HTTP/1.1 200"));
    let mut answer = vec![0u8; 2048];
    let n = tokio::time::timeout(Duration::from_secs(30), reader.read(&mut answer))
        .await
        .expect("an answer before the body ends")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(
        answer.starts_with("HTTP/1.1 503") && answer.contains("body_timeout"),
        "{answer}"
    );
    trickle.abort();

    // A kept-alive connection with nothing more to ask is closed after the idle timeout.
    let mut idle = TcpStream::connect(&addr).await.expect("connect");
    idle.write_all(b"GET /live HTTP/1.1\r\nHost: comanda\r\n\r\n")
        .await
        .expect("request");
    let mut first = [0u8; 1024];
    let n = idle.read(&mut first).await.expect("answer");
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    let took = closed_within(&mut idle, Duration::from_secs(30)).await;
    assert!(took.is_some(), "an idle connection is closed");
    eprintln!("idle connection closed after {took:?} (idle timeout 2 s)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_database_does_not_hold_requests() {
    let Some(db) = TestPostgres::create().await else {
        return;
    };
    let storage = support::orders::bootstrap_postgres(&db).await;
    let (store, product) = support::orders::seed(&*storage).await;
    storage.close().await;
    let proxy = TcpProxy::start(db.server_addr()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let url = db.url_through(proxy.addr);
    let server = Server::start(limited(
        dir.path(),
        4096,
        &[
            ("COMANDA_DATABASE_URL", &url),
            ("COMANDA_REQUEST_TIMEOUT_SECS", "2"),
        ],
    ))
    .await;
    server.wait_ready(Duration::from_secs(20)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let token = support::orders::sign_in(&client, &server).await;
    let orders = server.url(&format!("/api/v1/stores/{store}/orders"));
    let order = serde_json::json!({ "kind": "counter", "lines": [{ "product_id": product, "quantity": 1 }] });
    let first = client
        .post(&orders)
        .bearer_auth(&token)
        .json(&order)
        .send()
        .await
        .expect("an order");
    assert_eq!(first.status(), 201);

    // Packets to the database go nowhere: an order the committer has sent on its
    // connection gets no answer from PostgreSQL, and the client is answered 503 by the
    // request's deadline, not held until the database speaks again.
    proxy.pause();
    let started = Instant::now();
    let held = client
        .post(&orders)
        .bearer_auth(&token)
        .json(&order)
        .send()
        .await
        .expect("an answer while the database is silent");
    let took = started.elapsed();
    assert_eq!(held.status(), 503);
    assert!(held.headers().contains_key("retry-after"));
    let live = client.get(server.url("/live")).send().await.expect("live");
    assert_eq!(live.status(), 200);
    eprintln!("answered 503 after {took:?} with the database silent (deadline 2 s)");
    proxy.resume();
}

/// At the cap with every connection busy (live streams, which are never closed to make
/// room), a newcomer is answered 503 `server_busy` with `Retry-After`, and `/live` still
/// says the process is alive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_connection_busy_newcomers_get_503_and_live_still_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = prepared(dir.path()).await;
    let (store, _) = support::orders::seed(&storage).await;
    storage.close().await;
    let server = Server::start(limited(
        dir.path(),
        4096,
        &[("COMANDA_MAX_CONNECTIONS", "8")],
    ))
    .await;
    server.wait_ready(Duration::from_secs(20)).await;
    let client = reqwest::Client::new();
    let token = support::orders::sign_in(&client, &server).await;
    let addr = address(&server);
    let mut streams = Vec::new();
    for _ in 0..8 {
        let mut stream = TcpStream::connect(&addr).await.expect("connect");
        stream
            .write_all(
                format!(
                    "GET /api/v1/stores/{store}/floor/stream HTTP/1.1\r\nHost: comanda\r\nAuthorization: Bearer {token}\r\n\r\n"
                )
                .as_bytes(),
            )
            .await
            .expect("stream");
        let mut head = [0u8; 512];
        let n = stream.read(&mut head).await.expect("stream head");
        assert!(
            String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&head[..n])
        );
        streams.push(stream);
    }
    let ask = |path: &'static str| {
        let addr = addr.clone();
        async move {
            let mut stream = TcpStream::connect(&addr).await.expect("connect");
            stream
                .write_all(
                    format!("GET {path} HTTP/1.1\r\nHost: comanda\r\nConnection: close\r\n\r\n")
                        .as_bytes(),
                )
                .await
                .expect("request");
            let mut answer = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
                .await;
            String::from_utf8_lossy(&answer).into_owned()
        }
    };
    let busy = ask("/api/v1").await;
    assert!(
        busy.starts_with("HTTP/1.1 503")
            && busy.contains("server_busy")
            && busy.contains("retry-after"),
        "{busy}"
    );
    let live = ask("/live").await;
    assert!(live.starts_with("HTTP/1.1 200"), "{live}");
    drop(streams);
    // Closing the streams is seen by the server in its own time: wait for it, with a
    // deadline only a hang would reach.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut answered = false;
    while !answered && Instant::now() < deadline {
        answered = ask("/api/v1").await.starts_with("HTTP/1.1 200");
        if !answered {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert!(answered, "room again once the streams end");
}
