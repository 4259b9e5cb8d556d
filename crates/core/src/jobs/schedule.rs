//! Starts runs of jobs on their schedules: a Quartz cron expression in a time zone
//! (`schedule`) or a fixed period (`trigger.periodic`), unless paused. Each check looks at
//! the time since the previous check, so a slow check does not skip a firing; firings while
//! Kiln was down are not caught up, as on Databricks.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use super::{Jobs, Trigger};
use crate::clock::now_ms;

/// How often schedules are checked.
const TICK: Duration = Duration::from_millis(500);

/// Whether the job's schedule fires in `(after, now]`. `last_start` is when the job's
/// periodic trigger last started a run (or when the job was created).
pub fn due(settings: &Value, last_start: i64, after: i64, now: i64) -> bool {
    if let Some(schedule) = settings.get("schedule").filter(|s| !s.is_null()) {
        if schedule.get("pause_status").and_then(Value::as_str) == Some("PAUSED") {
            return false;
        }
        let expression = schedule.get("quartz_cron_expression").and_then(Value::as_str).unwrap_or("");
        let timezone = schedule.get("timezone_id").and_then(Value::as_str).unwrap_or("UTC");
        return crate::cron::parse(expression, timezone).ok().and_then(|parsed| parsed.next_after(after)).is_some_and(|next| next <= now);
    }
    let Some(trigger) = settings.get("trigger").filter(|t| !t.is_null()) else { return false };
    if trigger.get("pause_status").and_then(Value::as_str) == Some("PAUSED") {
        return false;
    }
    let Some(periodic) = trigger.get("periodic") else { return false };
    let interval = periodic.get("interval").and_then(Value::as_i64).unwrap_or(0);
    let unit_ms = match periodic.get("unit").and_then(Value::as_str) {
        Some("MINUTES") => 60_000,
        Some("HOURS") => 3_600_000,
        Some("DAYS") => 86_400_000,
        Some("WEEKS") => 7 * 86_400_000,
        _ => return false,
    };
    // An interval too long to reach never comes due.
    interval > 0 && interval.checked_mul(unit_ms).and_then(|ms| last_start.checked_add(ms)).is_some_and(|due_at| now >= due_at)
}

/// Runs the schedule loop in the background.
pub fn start(jobs: Jobs) {
    tokio::spawn(async move {
        let mut last_check = now_ms();
        let mut last_starts: HashMap<i64, i64> = HashMap::new();
        let mut tick = tokio::time::interval(TICK);
        loop {
            tick.tick().await;
            let now = now_ms();
            match crate::panics::catch_panic(check(&jobs, &mut last_starts, last_check, now)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "checking job schedules failed"),
                Err(panic) => tracing::error!(%panic, "checking job schedules panicked"),
            }
            last_check = now;
        }
    });
}

async fn check(jobs: &Jobs, last_starts: &mut HashMap<i64, i64>, after: i64, now: i64) -> crate::error::Result<()> {
    for job in jobs.store.list_jobs().await? {
        let last_start = *last_starts.entry(job.job_id).or_insert(job.created_time_ms.max(after));
        if !due(&job.settings, last_start, after, now) {
            continue;
        }
        last_starts.insert(job.job_id, now);
        let trigger = Trigger { kind: "PERIODIC".to_string(), ..Trigger::default() };
        if let Err(error) = jobs.start_job_run(&job, &job.run_as_name, trigger).await {
            tracing::warn!(job_id = job.job_id, %error, "a scheduled run did not start");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // 2026-01-05T10:14:00Z, a Monday.
    const MONDAY_1014_UTC: i64 = 1_767_608_040_000;

    #[test]
    fn cron_schedules_fire_once_in_their_window() {
        let settings = json!({"schedule": {"quartz_cron_expression": "0 15 10 ? * MON-FRI", "timezone_id": "UTC"}});
        let minute = 60_000;
        assert!(!due(&settings, 0, MONDAY_1014_UTC, MONDAY_1014_UTC + 30_000), "10:14:30 is before 10:15");
        assert!(due(&settings, 0, MONDAY_1014_UTC + 30_000, MONDAY_1014_UTC + minute), "10:15:00 is in (10:14:30, 10:15:00]");
        assert!(!due(&settings, 0, MONDAY_1014_UTC + minute, MONDAY_1014_UTC + 2 * minute), "it does not fire twice");
        let paused = json!({"schedule": {"quartz_cron_expression": "0 15 10 ? * MON-FRI", "timezone_id": "UTC", "pause_status": "PAUSED"}});
        assert!(!due(&paused, 0, MONDAY_1014_UTC + 30_000, MONDAY_1014_UTC + minute));
    }

    #[test]
    fn time_zones_move_the_firing() {
        // 11:15 in Oslo is 10:15 UTC in winter.
        let oslo = json!({"schedule": {"quartz_cron_expression": "0 15 11 * * ?", "timezone_id": "Europe/Oslo"}});
        assert!(due(&oslo, 0, MONDAY_1014_UTC, MONDAY_1014_UTC + 60_000));
    }

    #[test]
    fn periodic_triggers_count_from_the_last_start() {
        let hourly = json!({"trigger": {"periodic": {"interval": 2, "unit": "HOURS"}}});
        let start = MONDAY_1014_UTC;
        assert!(!due(&hourly, start, start, start + 7_199_000));
        assert!(due(&hourly, start, start, start + 7_200_000));
        let paused = json!({"trigger": {"pause_status": "PAUSED", "periodic": {"interval": 1, "unit": "MINUTES"}}});
        assert!(!due(&paused, start, start, start + 3_600_000));
        assert!(!due(&json!({}), start, start, start + 3_600_000), "no schedule, no runs");
    }
}
