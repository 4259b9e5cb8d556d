//! The query history writer. Statements report their progress here and move on; one
//! background task writes the entries in batches, so a statement's round trip does not wait
//! for a durable commit. [`QueryLog::flush`] waits until everything reported is written.

use std::sync::Arc;
use std::time::Duration;

use kiln_store::{QueryRecord, Store};
use tokio::sync::{mpsc, oneshot};

const BATCH: usize = 512;
/// Longest a reported entry waits for others to share its commit.
const LINGER: Duration = Duration::from_millis(50);

enum Message {
    Record(QueryRecord),
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct QueryLog {
    queue: mpsc::UnboundedSender<Message>,
}

impl std::fmt::Debug for QueryLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryLog").finish_non_exhaustive()
    }
}

impl QueryLog {
    /// Starts the writer on the current runtime.
    pub fn start(store: Arc<dyn Store>) -> QueryLog {
        let (queue, receiver) = mpsc::unbounded_channel();
        tokio::spawn(write(store, receiver));
        QueryLog { queue }
    }

    /// Records the entry's current state (a later report of the same query replaces it).
    pub fn report(&self, record: QueryRecord) {
        if self.queue.send(Message::Record(record)).is_err() {
            tracing::error!("query history writer has stopped");
        }
    }

    /// Waits until everything reported before this call is written.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

async fn write(store: Arc<dyn Store>, mut receiver: mpsc::UnboundedReceiver<Message>) {
    let mut messages = Vec::with_capacity(BATCH);
    loop {
        messages.clear();
        if receiver.recv_many(&mut messages, BATCH).await == 0 {
            return;
        }
        let deadline = tokio::time::Instant::now() + LINGER;
        while messages.len() < BATCH && !messages.iter().any(|m| matches!(m, Message::Flush(_))) {
            let room = BATCH - messages.len();
            match tokio::time::timeout_at(deadline, receiver.recv_many(&mut messages, room)).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let mut records = Vec::new();
        let mut flushes = Vec::new();
        for message in messages.drain(..) {
            match message {
                Message::Record(record) => records.push(record),
                Message::Flush(done) => flushes.push(done),
            }
        }
        if !records.is_empty() {
            let mut delay = Duration::from_millis(50);
            while let Err(error) = store.upsert_queries(&records).await {
                tracing::error!(%error, count = records.len(), "writing query history failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}
