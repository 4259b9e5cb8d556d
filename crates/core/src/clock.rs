use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, the unit of every Databricks timestamp.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// RFC 3339 text for an epoch-ms instant (OAuth secret timestamps use this form).
/// 9999-12-31T23:59:59Z, the last instant RFC 3339 can write.
const LAST_RFC3339_MS: i64 = 253_402_300_799_000;

pub fn rfc3339(ms: i64) -> String {
    // RFC 3339 ends at year 9999; a later instant (from a row an older version stored) is
    // shown as the last one rather than failing the whole answer.
    let instant = UNIX_EPOCH + std::time::Duration::from_millis(ms.clamp(0, LAST_RFC3339_MS) as u64);
    humantime::format_rfc3339_seconds(instant).to_string()
}
