//! The audit log: every authenticated request and every authorization decision.
//!
//! Events are queued and written by one background task in batches, so a burst of requests
//! costs one SQLite transaction per batch rather than one per request. A request's own line
//! is durable before the request is answered ([`AuditLog::request`] waits for its commit):
//! requests that arrive while one commit is under way share the next one (group commit), so
//! waiting costs latency, not throughput. [`AuditLog::flush`] waits until everything queued
//! before it is durable; shutdown flushes too.

use std::sync::Arc;

use kiln_store::{AuditDecision, AuditEvent, AuditFilter, Store};
use tokio::sync::{mpsc, oneshot};

use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::principal::Caller;

/// Most events written in one store call.
const BATCH_SIZE: usize = 2048;
/// Longest a queued event waits for others to share its commit; flushes skip the wait.
const BATCH_LINGER: std::time::Duration = std::time::Duration::from_millis(20);
/// Queue depth; when full, requests wait for the writer rather than drop events.
const QUEUE_DEPTH: usize = 65_536;

enum Message {
    Event(AuditEvent),
    /// An event whose sender waits until it is durable.
    Durable(AuditEvent, oneshot::Sender<()>),
    Flush(oneshot::Sender<()>),
}

impl Message {
    fn is_waited_for(&self) -> bool {
        matches!(self, Message::Durable(..) | Message::Flush(_))
    }
}

#[derive(Clone)]
pub struct AuditLog {
    queue: mpsc::Sender<Message>,
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Arc<dyn Store>) -> AuditLog {
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(write_batches(store.clone(), receiver));
        AuditLog { queue, store }
    }

    pub async fn record(&self, event: AuditEvent) {
        if self.queue.send(Message::Event(event)).await.is_err() {
            tracing::error!("audit writer has stopped; event not recorded");
        }
    }

    /// Records one authorization decision by `caller` about `action` on `object`.
    pub async fn decision(&self, caller: &Caller, action: &str, object: &str, decision: AuditDecision, reason: &str) {
        self.record(caller_event(caller, action, object, decision, reason, None)).await;
    }

    /// Records an authenticated request about to be answered with `status`, and returns once
    /// the line, and every decision recorded before it, is durable: after a crash, no
    /// answered request is missing from the log.
    pub async fn request(&self, caller: &Caller, action: &str, path: &str, status: u16) {
        let event = caller_event(caller, action, path, AuditDecision::Request, "authenticated", Some(status));
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Durable(event, done)).await.is_err() {
            tracing::error!("audit writer has stopped; event not recorded");
            return;
        }
        let _ = wait.await;
    }

    /// Waits until every event queued before this call is written.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Lists events for an admin (the caller's check happens in the service layer).
    pub async fn list(&self, filter: &AuditFilter, after_seq: i64, limit: usize) -> Result<Vec<AuditEvent>> {
        self.flush().await;
        self.store.list_audit_events(filter, after_seq, limit).await.map_err(Error::from)
    }
}

fn caller_event(caller: &Caller, action: &str, object: &str, decision: AuditDecision, reason: &str, status: Option<u16>) -> AuditEvent {
    AuditEvent {
        seq: 0,
        time_ms: now_ms(),
        request_id: caller.request_id.clone(),
        principal_id: Some(caller.id()),
        principal_name: Some(caller.name().to_string()),
        action: action.to_string(),
        object: object.to_string(),
        decision,
        reason: reason.to_string(),
        status,
    }
}

async fn write_batches(store: Arc<dyn Store>, mut receiver: mpsc::Receiver<Message>) {
    let mut messages = Vec::with_capacity(BATCH_SIZE);
    loop {
        messages.clear();
        if receiver.recv_many(&mut messages, BATCH_SIZE).await == 0 {
            return;
        }
        // Under load, let a batch fill for a moment: each write is a durable commit (an
        // fsync), and fewer, larger commits keep the disk from stalling request threads.
        let deadline = tokio::time::Instant::now() + BATCH_LINGER;
        while messages.len() < BATCH_SIZE && !messages.iter().any(Message::is_waited_for) {
            let room = BATCH_SIZE - messages.len();
            match tokio::time::timeout_at(deadline, receiver.recv_many(&mut messages, room)).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let mut events = Vec::with_capacity(messages.len());
        let mut waiters = Vec::new();
        for message in messages.drain(..) {
            match message {
                Message::Event(event) => events.push(event),
                Message::Durable(event, done) => {
                    events.push(event);
                    waiters.push(done);
                }
                Message::Flush(done) => waiters.push(done),
            }
        }
        if !events.is_empty() {
            write_with_retry(&*store, &events).await;
        }
        for done in waiters {
            let _ = done.send(());
        }
    }
}

/// A failed write is retried rather than dropped: the audit log must not lose events.
async fn write_with_retry(store: &dyn Store, events: &[AuditEvent]) {
    let mut delay_ms = 50;
    loop {
        match store.append_audit_events(events).await {
            Ok(()) => return,
            Err(error) => {
                tracing::error!(%error, count = events.len(), "writing audit events failed; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
                delay_ms = (delay_ms * 2).min(5_000);
            }
        }
    }
}
