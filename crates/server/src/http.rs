//! The connection loop: HTTP/1.1 connections served by hyper with the limits of `[http]`,
//! so a client that sends slowly, never finishes, or opens thousands of connections costs
//! a bounded amount and is let go, instead of holding the server's resources forever.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::config::HttpConfig;

/// How long a stopping server lets open requests finish before it exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown` resolves, then lets the requests in flight
/// finish (up to [`SHUTDOWN_GRACE`]).
pub async fn serve(listener: TcpListener, router: Router, config: &HttpConfig, shutdown: impl Future<Output = ()>) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(config.header_read_timeout_secs))
        // The configured limit is enforced with a JSON answer in `limits::enforce`; hyper
        // stops reading only far past it.
        .max_header_size(crate::limits::HARD_MAX_HEADER_BYTES)
        .max_buf_size(crate::limits::HARD_MAX_HEADER_BYTES + 64 * 1024)
        .keep_alive(true);
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let (stopping, stop_signal) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        // A connection is accepted only once it has a slot; the rest wait in the backlog.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the connection semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, a connection reset before accept, ...: keep going.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small responses go out at once rather than wait for the client's delayed ACK.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router.clone()));
        let mut stop_signal = stop_signal.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut connection = pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                }
                _ = stop_signal.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(stop_signal);
    let _ = stopping.send(());
    let all_slots = u32::try_from(config.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(all_slots)).await.is_err() {
        tracing::warn!("requests still open at shutdown were cut off");
    }
}
