//! Exponential backoff with jitter for polling and retries, and `Retry-After` parsing.

use std::fmt;
use std::time::Duration;

/// Each delay is this many times the previous one.
const FACTOR: f64 = 1.5;
/// Delays vary by up to ±20% around the schedule.
const JITTER: f64 = 0.2;

/// A source of jitter: each call returns a number in `[-1.0, 1.0]`.
pub trait Jitter: Send {
    fn sample(&mut self) -> f64;
}

/// Uniform jitter from the thread-local generator.
#[derive(Debug, Default)]
pub struct RandomJitter;

impl Jitter for RandomJitter {
    fn sample(&mut self) -> f64 {
        use rand::Rng;
        rand::rng().random_range(-1.0..=1.0)
    }
}

/// A fixed, repeating sequence, for deterministic tests.
#[derive(Debug, Clone)]
pub struct FixedJitter {
    values: Vec<f64>,
    next: usize,
}

impl FixedJitter {
    pub fn new(values: Vec<f64>) -> FixedJitter {
        FixedJitter { values, next: 0 }
    }
}

impl Jitter for FixedJitter {
    fn sample(&mut self) -> f64 {
        if self.values.is_empty() {
            return 0.0;
        }
        let value = self.values[self.next % self.values.len()];
        self.next += 1;
        value.clamp(-1.0, 1.0)
    }
}

/// Delays that start at `start`, grow by ×1.5 per step and stop growing at `max`; each is
/// jittered by ±20% and never exceeds `max`.
pub struct Backoff {
    start: Duration,
    max: Duration,
    current: Duration,
    jitter: Box<dyn Jitter>,
}

impl fmt::Debug for Backoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backoff").field("start", &self.start).field("max", &self.max).field("current", &self.current).finish_non_exhaustive()
    }
}

impl Backoff {
    pub fn new(start: Duration, max: Duration, jitter: Box<dyn Jitter>) -> Backoff {
        let start = start.min(max);
        Backoff { start, max, current: start, jitter }
    }

    /// The next delay to wait.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.current;
        let factor = 1.0 + JITTER * self.jitter.sample();
        let jittered = scale(base, factor);
        self.current = scale(base, FACTOR).min(self.max);
        jittered.min(self.max)
    }

    /// Back to the first delay (after a success, for retries).
    pub fn reset(&mut self) {
        self.current = self.start;
    }
}

/// `duration × factor`, rounded to the nanosecond (so schedules are exact in tests).
fn scale(duration: Duration, factor: f64) -> Duration {
    let nanos = (duration.as_nanos() as f64 * factor.max(0.0)).round();
    Duration::from_nanos(nanos.min(u64::MAX as f64) as u64)
}

/// The delay a `Retry-After` value asks for: whole seconds, or an HTTP date relative to `now`
/// (a date in the past means no delay). `None` when the value is neither.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let trimmed = value.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return trimmed.parse::<u64>().ok().map(Duration::from_secs);
    }
    // IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") is a form of RFC 2822 date.
    let date = chrono::DateTime::parse_from_rfc2822(trimmed).ok()?;
    let delay = date.with_timezone(&chrono::Utc) - now;
    Some(delay.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn schedule_grows_by_half_and_stops_at_the_cap() {
        let mut backoff = Backoff::new(ms(200), ms(1000), Box::new(FixedJitter::new(vec![0.0])));
        let delays: Vec<Duration> = (0..7).map(|_| backoff.next_delay()).collect();
        assert_eq!(delays, vec![ms(200), ms(300), ms(450), ms(675), ms(1000), ms(1000), ms(1000)]);
    }

    #[test]
    fn jitter_moves_delays_by_at_most_a_fifth_and_never_past_the_cap() {
        let mut backoff = Backoff::new(ms(1000), ms(2000), Box::new(FixedJitter::new(vec![1.0, -1.0, 0.5, 1.0, 1.0])));
        assert_eq!(backoff.next_delay(), ms(1200)); // 1000 +20%
        assert_eq!(backoff.next_delay(), ms(1200)); // 1500 -20%
        assert_eq!(backoff.next_delay(), ms(2000)); // 2000 (capped base) +10%, capped
        assert_eq!(backoff.next_delay(), ms(2000)); // never above the cap
        let mut low = Backoff::new(ms(1000), ms(10_000), Box::new(FixedJitter::new(vec![-1.0])));
        assert_eq!(low.next_delay(), ms(800));
    }

    #[test]
    fn random_jitter_stays_in_bounds() {
        let mut backoff = Backoff::new(ms(100), ms(10_000), Box::new(RandomJitter));
        let mut base = 100.0_f64;
        for _ in 0..30 {
            let delay = backoff.next_delay().as_secs_f64() * 1000.0;
            assert!(delay >= base * 0.8 - 0.001 && delay <= (base * 1.2).min(10_000.0) + 0.001, "{delay} vs {base}");
            base = (base * 1.5).min(10_000.0);
        }
    }

    #[test]
    fn reset_starts_over_and_a_start_above_the_cap_is_capped() {
        let mut backoff = Backoff::new(ms(200), ms(10_000), Box::new(FixedJitter::new(vec![0.0])));
        backoff.next_delay();
        backoff.next_delay();
        backoff.reset();
        assert_eq!(backoff.next_delay(), ms(200));
        let mut capped = Backoff::new(ms(5000), ms(1000), Box::new(FixedJitter::new(vec![0.0])));
        assert_eq!(capped.next_delay(), ms(1000));
    }

    #[test]
    fn retry_after_in_seconds_or_as_an_http_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(" 17 ", now), Some(Duration::from_secs(17)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("1.5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }
}
