//! The HTTP listener: accepts connections and serves the API router on each, with the limits a
//! public server needs (Nakama gets them from Go's `http.Server` in `api.go`):
//!
//! - a connection must send a request's headers within `socket.read_timeout_ms` of the
//!   connection opening or of the previous response (so a silent or trickling connection is
//!   closed: slowloris). Between requests this makes the keep-alive idle limit the read timeout
//!   too; Go applies `idle_timeout_ms` there;
//! - at most `socket.max_connections` connections (REST and sockets together) are open at once;
//!   past that, new ones wait in the listen backlog instead of taking the file descriptors the
//!   database needs;
//! - graceful shutdown: stop accepting, let requests in flight finish.
//!
//! Request bodies are read within the same timeout by the API layer ([`kizuna_api::ApiConfig`]).

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{body::Body, Router};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{watch, OwnedSemaphorePermit, Semaphore},
};
use tower::ServiceExt;

/// Limits of the HTTP listener.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Time to receive a request's headers (`socket.read_timeout_ms`).
    pub read_timeout: Duration,
    /// Open connections at most (`socket.max_connections`, or derived from the file limit).
    pub max_connections: usize,
}

/// A connection's stream, holding its place under the connection cap for as long as it lives
/// (upgraded sockets included: the upgrade keeps this stream).
struct Counted {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Serves `app` on `listener` until `stop` turns true, then waits for the requests in flight
/// (upgraded sockets are closed by their own shutdown path).
pub async fn serve(listener: TcpListener, app: Router, limits: HttpLimits, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Each connection task holds a receiver; `closed()` resolves once every one has ended.
    let (connections, connection_alive) = watch::channel(());
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.read_timeout);
    let mut full_logged = false;
    loop {
        // A free slot first, so a full server stops accepting instead of dropping connections.
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if !full_logged {
                    tracing::warn!(max_connections = limits.max_connections, "connection limit reached; new connections wait");
                    full_logged = true;
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                    _ = async { stop.wait_for(|s| *s).await.is_ok() } => break,
                }
            }
        };
        if slots.available_permits() > limits.max_connections / 10 {
            full_logged = false;
        }
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = async { stop.wait_for(|s| *s).await.is_ok() } => break,
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Counted { stream, _slot: slot });
        let service = TowerToHyperService::new(app.clone().map_request(|req: hyper::Request<Incoming>| req.map(Body::new)));
        let builder = builder.clone();
        let mut stop = stop.clone();
        let alive = connection_alive.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(builder.serve_connection(io, service).with_upgrades());
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = async { stop.wait_for(|s| *s).await.is_ok() } => {
                    // Finish the request in flight, then close.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(alive);
        });
    }
    drop(listener);
    drop(connection_alive);
    connections.closed().await;
}

/// The connection cap when `socket.max_connections` is 0: the process's file limit (raised to
/// its hard limit first, as Go's runtime does for Nakama) less room for the database and files.
pub fn default_max_connections() -> usize {
    const RESERVED: u64 = 256;
    let limit = raise_file_limit();
    limit.saturating_sub(RESERVED).max(64) as usize
}

/// Raises the soft limit on open files to the hard limit; returns the limit in force.
fn raise_file_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed in.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}
