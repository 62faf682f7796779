//! A TCP proxy a test can pause (bytes stop flowing, like a database that hangs), kill
//! (connections cut and the port closed, like a database that went away), or set to cut
//! each new connection in the middle of its handshake, then resume.

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Forwarding,
    Paused,
    Dead,
    /// New connections get half of the server's first answer, then are cut.
    Cutting,
}

pub struct TcpProxy {
    pub addr: SocketAddr,
    target: SocketAddr,
    mode: watch::Sender<Mode>,
}

impl TcpProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let (mode, _) = watch::channel(Mode::Forwarding);
        let proxy = Self {
            addr: "127.0.0.1:0".parse().expect("address"),
            target,
            mode,
        };
        proxy.listen("127.0.0.1:0".parse().expect("address")).await
    }

    async fn listen(mut self, at: SocketAddr) -> Self {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket.bind(at).expect("bind proxy port");
        let listener = socket.listen(64).expect("listen");
        self.addr = listener.local_addr().expect("local address");
        let target = self.target;
        let mut mode = self.mode.subscribe();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { return };
                        let Ok(upstream) = TcpStream::connect(target).await else { continue };
                        if *mode.borrow() == Mode::Cutting {
                            tokio::spawn(cut_handshake(client, upstream));
                            continue;
                        }
                        let (cr, cw) = client.into_split();
                        let (ur, uw) = upstream.into_split();
                        tokio::spawn(pump(cr, uw, mode.clone()));
                        tokio::spawn(pump(ur, cw, mode.clone()));
                    }
                    changed = mode.changed() => {
                        if changed.is_err() || *mode.borrow() == Mode::Dead {
                            return; // dropping the listener closes the port
                        }
                    }
                }
            }
        });
        self
    }

    pub fn pause(&self) {
        self.mode.send_replace(Mode::Paused);
    }

    pub fn resume(&self) {
        self.mode.send_replace(Mode::Forwarding);
    }

    /// Cuts each new connection in the middle of its handshake: the client's first
    /// message goes through, half of the server's answer comes back, then nothing.
    pub fn cut_handshakes(&self) {
        self.mode.send_replace(Mode::Cutting);
    }

    /// Cuts every connection and closes the port.
    pub fn kill(&self) {
        self.mode.send_replace(Mode::Dead);
    }

    /// Listens again on the same port after [`kill`](Self::kill).
    pub async fn revive(self) -> Self {
        self.mode.send_replace(Mode::Forwarding);
        let at = self.addr;
        self.listen(at).await
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.mode.send_replace(Mode::Dead);
    }
}

async fn cut_handshake(mut client: TcpStream, mut upstream: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    let Ok(n) = client.read(&mut buf).await else {
        return;
    };
    if n == 0 || upstream.write_all(&buf[..n]).await.is_err() {
        return;
    }
    if let Ok(n) = upstream.read(&mut buf).await {
        let _ = client.write_all(&buf[..n / 2]).await;
    }
}

async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut mode: watch::Receiver<Mode>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let current = *mode.borrow_and_update();
        match current {
            Mode::Dead => return,
            // Connections made before the cutting began go on as they were.
            Mode::Cutting => {}
            Mode::Paused => {
                if mode.changed().await.is_err() {
                    return;
                }
                continue;
            }
            Mode::Forwarding => {}
        }
        tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if to.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            },
            changed = mode.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}
