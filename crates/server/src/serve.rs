//! Serving with a graceful, bounded shutdown: on SIGTERM/SIGINT stop accepting, let
//! requests in flight finish (up to the grace period), then return so the caller can
//! close the database pools.

use axum::Router;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drain {
    /// Every in-flight request finished.
    Complete,
    /// The grace period ran out with requests still open; they were cut.
    TimedOut,
}

pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<Drain> {
    let (signalled_tx, mut signalled_rx) = watch::channel(false);
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!(
            grace_s = grace.as_secs(),
            "shutting down: no new connections, finishing requests in flight"
        );
        let _ = signalled_tx.send(true);
    });
    let deadline = async move {
        let _ = signalled_rx.wait_for(|signalled| *signalled).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server => result.map(|()| Drain::Complete),
        () = deadline => Ok(Drain::TimedOut),
    }
}

/// Resolves on the first SIGTERM (Kubernetes, Docker, systemd) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
