//! Background work that survives a bug in one object: a panic inside a run, a cluster's
//! start or a scheduler pass becomes an error for that object (which then ends in a clear
//! state), instead of silently killing the task and leaving the object stuck.

use std::any::Any;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

/// Runs `future`; a panic inside it comes back as its message.
pub async fn catch_panic<T>(future: impl Future<Output = T>) -> Result<T, String> {
    AssertUnwindSafe(future).catch_unwind().await.map_err(|panic| panic_message(panic.as_ref()))
}

/// The text a panic was raised with (`panic!("...")` carries a `&str` or a `String`).
pub fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        return (*text).to_string();
    }
    panic.downcast_ref::<String>().cloned().unwrap_or_else(|| "a panic without a message".to_string())
}
