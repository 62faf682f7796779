use comanda_server::readiness::Readiness;
use comanda_server::{AppState, router};
use comanda_store::Storage;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The real router served on a random local port, in this process.
pub struct TestServer {
    pub url: String,
    pub state: AppState,
    task: JoinHandle<()>,
}

impl TestServer {
    pub async fn start(storage: Arc<dyn Storage>, readiness: Readiness) -> Self {
        Self::with_state(AppState::new(storage, readiness)).await
    }

    /// Serves a prepared state (custom sign-in policy or limiter), as `serve` would after
    /// start-up: the signing key is loaded.
    pub async fn with_state(state: AppState) -> Self {
        state
            .load_signing_key()
            .await
            .expect("load the signing key");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let app = router(state.clone());
        let task = tokio::spawn(async move {
            let limits = comanda_server::ConnectionLimits {
                grace: std::time::Duration::ZERO,
                ..Default::default()
            };
            let _ = comanda_server::serve(
                listener,
                app,
                std::future::pending(),
                limits,
                Default::default(),
            )
            .await;
        });
        Self { url, state, task }
    }

    /// A server whose start-up has finished, as after `comanda serve` became ready.
    pub async fn ready(storage: Arc<dyn Storage>) -> Self {
        Self::start(storage, Readiness::serving()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
