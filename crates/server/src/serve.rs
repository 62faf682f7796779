//! Serving HTTP with an accept loop of our own, so that no client can hold the server
//! by being slow, idle or many:
//!
//! - a connection must send a request's headers within the header timeout (a new one
//!   from when it is accepted, a kept-alive one from the request's first byte), and may
//!   wait between requests for the idle timeout;
//! - open connections are capped below the process's file limit: at the cap, the
//!   connection idle the longest is closed to make room, and with none idle a newcomer
//!   is answered 503 (`/live` still 200) and closed;
//! - on SIGTERM/SIGINT accepting stops, requests in flight finish (up to the grace
//!   period), then the caller closes the database pools.
//!
//! Reading a request's body and answering it have their own deadlines, in the router
//! (`routes::with_body_limit`, `routes::run_to_completion`).

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drain {
    /// Every in-flight request finished.
    Complete,
    /// The grace period ran out with requests still open; they were cut.
    TimedOut,
}

/// How connections are kept in check.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// From accepting a connection to its first request's headers, and from a later
    /// request's first byte to its last header.
    pub header_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
    /// How long requests in flight may finish after a shutdown signal.
    pub grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(75),
            max_connections: 10_000,
            grace: Duration::from_secs(20),
        }
    }
}

/// What the accept loop reports to `/metrics`.
#[derive(Clone, Default)]
pub struct ConnectionGauges {
    /// Open connections.
    pub open: Gauge,
    /// Connections turned away (503) at the cap.
    pub shed: Counter,
    /// Idle connections closed at the cap to make room for a newcomer.
    pub evicted: Counter,
}

/// Connections answered 503 at once, at the cap, with nothing to close for them: a few,
/// so that a flood of them cannot take the file descriptors the cap keeps free.
const SHED_AT_ONCE: usize = 64;

/// How long a connection turned away may take to say what it wants (for `/live`).
const SHED_READ: Duration = Duration::from_secs(2);

/// One open connection, as the accept loop sees it.
struct Conn {
    /// Requests being answered on it (a stream counts until its body ends).
    busy: AtomicUsize,
    /// Requests started on it: a new one restarts its read deadline.
    started: AtomicU64,
    /// When it last had nothing in flight.
    idle_since: Mutex<Instant>,
    /// Closes it to make room for a newcomer.
    evict: Notify,
    /// The read that waited while a request was in flight: woken when the last one ends,
    /// so the idle deadline starts.
    reader: Mutex<Option<std::task::Waker>>,
}

impl Conn {
    fn new() -> Self {
        Self {
            busy: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            idle_since: Mutex::new(Instant::now()),
            evict: Notify::new(),
            reader: Mutex::new(None),
        }
    }

    fn idle_since(&self) -> Instant {
        *self
            .idle_since
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn begin(&self) {
        self.started.fetch_add(1, Ordering::AcqRel);
        self.busy.fetch_add(1, Ordering::AcqRel);
    }

    fn end(&self) {
        if self.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            *self
                .idle_since
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Instant::now();
            let reader = self
                .reader
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take();
            if let Some(reader) = reader {
                reader.wake();
            }
        }
    }

    /// Remembers a read left waiting while a request is in flight.
    fn park_reader(&self, waker: &std::task::Waker) {
        *self
            .reader
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(waker.clone());
    }
}

/// The open connections.
#[derive(Default)]
struct Registry {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Signalled as each connection ends, for the drain.
    ended: Notify,
    gauges: ConnectionGauges,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    /// Takes a slot for a new connection, closing the longest-idle one at the cap. `None`
    /// when every connection is busy.
    fn admit(&self, cap: usize) -> Option<(u64, Arc<Conn>)> {
        let mut open = self.lock();
        if open.len() >= cap {
            let victim = open
                .iter()
                .filter(|(_, c)| c.busy.load(Ordering::Acquire) == 0)
                .min_by_key(|(_, c)| c.idle_since())
                .map(|(id, _)| *id)?;
            if let Some(conn) = open.remove(&victim) {
                conn.evict.notify_one();
                self.gauges.evicted.inc();
            }
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::new());
        open.insert(id, conn.clone());
        self.gauges
            .open
            .set(i64::try_from(open.len()).unwrap_or(i64::MAX));
        Some((id, conn))
    }

    fn remove(&self, id: u64) {
        let mut open = self.lock();
        open.remove(&id);
        self.gauges
            .open
            .set(i64::try_from(open.len()).unwrap_or(i64::MAX));
        drop(open);
        self.ended.notify_waiters();
    }
}

/// A connection's socket, which fails a read once the client has taken too long: to send
/// a request's headers, or to send anything while idle.
struct Guarded {
    /// `None` only once dropped (the socket lingers on its own).
    stream: Option<TcpStream>,
    conn: Arc<Conn>,
    limits: ConnectionLimits,
    /// The requests started when the deadline was set, and whether it is the header one.
    armed: Option<(u64, bool)>,
    deadline: Pin<Box<Sleep>>,
}

impl Guarded {
    fn new(stream: TcpStream, conn: Arc<Conn>, limits: ConnectionLimits) -> Self {
        Self {
            stream: Some(stream),
            conn,
            limits,
            // The first request's headers are due from the start.
            armed: Some((0, true)),
            deadline: Box::pin(tokio::time::sleep(limits.header_timeout)),
        }
    }

    fn arm(&mut self, started: u64, header: bool) {
        let after = if header {
            self.limits.header_timeout
        } else {
            self.limits.idle_timeout
        };
        self.armed = Some((started, header));
        self.deadline.as_mut().reset(Instant::now() + after);
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let busy = this.conn.busy.load(Ordering::Acquire) > 0;
        let started = this.conn.started.load(Ordering::Acquire);
        if busy {
            // A request's body and the time to answer it have their own deadlines.
            this.armed = None;
        } else if this.armed.is_none_or(|(at, _)| at != started) {
            this.arm(started, false);
        }
        let before = buf.filled().len();
        let Some(stream) = this.stream.as_mut() else {
            return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
        };
        let read = Pin::new(stream).poll_read(cx, buf);
        if let (Poll::Ready(Ok(())), Some((at, false))) = (&read, this.armed)
            && buf.filled().len() > before
        {
            // The next request has begun: its headers are due within the header timeout.
            this.arm(at, true);
        }
        if read.is_pending() && busy {
            this.conn.park_reader(cx.waker());
        }
        if read.is_pending()
            && let Some((_, header)) = this.armed
            && this.deadline.as_mut().poll(cx).is_ready()
        {
            let what = if header {
                "request headers"
            } else {
                "an idle connection"
            };
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{what} took too long"),
            )));
        }
        read
    }
}

impl Guarded {
    fn stream(&mut self) -> io::Result<Pin<&mut TcpStream>> {
        self.stream
            .as_mut()
            .map(Pin::new)
            .ok_or_else(|| io::ErrorKind::NotConnected.into())
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.stream() {
            Ok(stream) => stream.poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.stream() {
            Ok(stream) => stream.poll_write_vectored(cx, bufs),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream
            .as_ref()
            .is_some_and(TcpStream::is_write_vectored)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.stream() {
            Ok(stream) => stream.poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.stream() {
            Ok(stream) => stream.poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

/// Sockets lingering at once: each holds a file descriptor for up to [`LINGER_FOR`].
static LINGERING: Semaphore = Semaphore::const_new(256);

/// How long a closed connection keeps reading what its client still sends.
const LINGER_FOR: Duration = Duration::from_secs(2);

impl Drop for Guarded {
    /// A connection closed while its client may still be sending (an answer given before
    /// the whole body was read: too large, too slow) is not cut at once: its end of the
    /// answer is sent, then what still arrives is read and dropped for a moment, so the
    /// client reads the answer instead of a reset.
    fn drop(&mut self) {
        let Some(mut stream) = self.stream.take() else {
            return;
        };
        let (Ok(runtime), Ok(permit)) = (
            tokio::runtime::Handle::try_current(),
            LINGERING.try_acquire(),
        ) else {
            return;
        };
        runtime.spawn(async move {
            let _ = stream.shutdown().await;
            let mut sink = [0u8; 8192];
            let drain = async {
                while let Ok(n) = stream.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(LINGER_FOR, drain).await;
            drop(permit);
        });
    }
}

/// A response body that marks its connection idle again once it has been sent (or
/// dropped): a stream keeps its connection busy for as long as it runs.
struct Tracked {
    body: Body,
    conn: Arc<Conn>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.conn.end();
    }
}

impl http_body::Body for Tracked {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ConnectionLimits,
    gauges: ConnectionGauges,
) -> io::Result<Drain> {
    let registry = Arc::new(Registry {
        gauges,
        ..Registry::default()
    });
    let shed = Arc::new(Semaphore::new(SHED_AT_ONCE));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was
                    // taken: wait a moment rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        match registry.admit(limits.max_connections) {
            Some((id, conn)) => {
                tokio::spawn(connection(
                    stream,
                    peer,
                    app.clone(),
                    (id, conn),
                    registry.clone(),
                    limits,
                    stop_rx.clone(),
                ));
            }
            None => {
                registry.gauges.shed.inc();
                match shed.clone().try_acquire_owned() {
                    Ok(permit) => {
                        tokio::spawn(async move {
                            turn_away(stream).await;
                            drop(permit);
                        });
                    }
                    // Even the turning away is full: close at once.
                    Err(_) => drop(stream),
                }
            }
        }
    }
    drop(listener);
    tracing::info!(
        grace_s = limits.grace.as_secs(),
        "shutting down: no new connections, finishing requests in flight"
    );
    let _ = stop_tx.send(true);
    let drained = async {
        loop {
            let ended = registry.ended.notified();
            if registry.len() == 0 {
                return;
            }
            ended.await;
        }
    };
    match tokio::time::timeout(limits.grace, drained).await {
        Ok(()) => Ok(Drain::Complete),
        Err(_) => Ok(Drain::TimedOut),
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    (id, conn): (u64, Arc<Conn>),
    registry: Arc<Registry>,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) {
    let io = TokioIo::new(Guarded::new(stream, conn.clone(), limits));
    let service = {
        let conn = conn.clone();
        hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            conn.begin();
            let tracked = conn.clone();
            let answer = app.clone().oneshot(req.map(Body::new));
            async move {
                let response = match answer.await {
                    Ok(response) => response,
                    Err(infallible) => match infallible {},
                };
                Ok::<_, std::convert::Infallible>(response.map(|body| Tracked {
                    body,
                    conn: tracked,
                }))
            }
        })
    };
    let builder = Builder::new(TokioExecutor::new());
    let served = builder.serve_connection(io, service);
    let mut served = std::pin::pin!(served);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = served.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, %peer, "connection ended");
                }
                break;
            }
            () = conn.evict.notified() => {
                tracing::debug!(%peer, "closed an idle connection to make room");
                break;
            }
            changed = stop.changed(), if !stopping => {
                if changed.is_err() || *stop.borrow() {
                    stopping = true;
                    served.as_mut().graceful_shutdown();
                }
            }
        }
    }
    registry.remove(id);
}

/// Answers a connection there is no room for: `/live` still says the process is alive
/// (an orchestrator must not restart a server for being busy), anything else is 503.
async fn turn_away(mut stream: TcpStream) {
    let mut head = [0u8; 256];
    let read = tokio::time::timeout(SHED_READ, stream.read(&mut head)).await;
    let live = matches!(read, Ok(Ok(n)) if head[..n].starts_with(b"GET /live "));
    let (status, body) = if live {
        ("200 OK", r#"{"status":"alive"}"#.to_owned())
    } else {
        (
            "503 Service Unavailable",
            r#"{"error":{"code":"server_busy","message":"the server has no room for another connection; try again shortly"}}"#
                .to_owned(),
        )
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(SHED_READ, stream.write_all(response.as_bytes())).await;
    let _ = stream.shutdown().await;
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
