//! Quartz cron schedules, as used by Databricks job `schedule` objects
//! (`quartz_cron_expression` + `timezone_id`).
//!
//! [`parse`] checks an expression the way Quartz does and [`Schedule::next_after`] answers
//! "when does this job fire next?", which is all a scheduler needs.
//!
//! # Syntax
//! Six or seven whitespace-separated fields: seconds, minutes, hours, day-of-month, month,
//! day-of-week and an optional year (1970-2099). Each field accepts `*`, a value, a list
//! `a,b`, a range `a-b` (a range may wrap, `FRI-MON`, except in the year field) and steps
//! `*/n`, `a/n`, `a-b/n`. Months may be named `JAN`-`DEC` and days `SUN`-`SAT`
//! (case-insensitive); day-of-week numbers run 1 = Sunday to 7 = Saturday.
//!
//! Exactly one of day-of-month and day-of-week must be `?` (Quartz cannot combine them).
//! Day-of-month also takes `L` (last day), `L-n` (n days before the last), `LW` (last
//! weekday), `L-nW` and `nW` (the weekday nearest to day n, never leaving the month).
//! Day-of-week also takes `dL` (last day d of the month), `d#n` (the n-th day d) and
//! `L` alone, which Quartz reads as Saturday.
//!
//! # Time zones and daylight saving
//! Fields are matched against the wall-clock time of the schedule's zone.
//! * A wall time that does not exist because clocks spring forward is skipped: the
//!   schedule fires at the next matching wall time that exists. A job at 02:30 every day
//!   in America/New_York does not run on the spring-forward day; one every 15 minutes
//!   resumes at 03:00.
//! * A wall time that occurs twice because clocks fall back fires once, at the earlier
//!   instant; the repeated hour does not fire again.
//!
//! # Search limit
//! Quartz years end at 2099, so [`Schedule::next_after`] searches at most until the end of
//! 2099 and returns `None` for expressions that never match (`30 2` for February 30) or
//! whose years are all in the past. The search steps through the fields (year, month,
//! day, then time of day) rather than through time, so even an unsatisfiable expression
//! is answered in well under a millisecond.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Timelike,
};
use chrono_tz::Tz;

/// A parsed Quartz cron expression bound to the time zone its fields are read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    seconds: BTreeSet<u32>,
    minutes: BTreeSet<u32>,
    hours: BTreeSet<u32>,
    days: DayRule,
    months: BTreeSet<u32>,
    years: BTreeSet<u32>,
    timezone: Tz,
}

/// Which days of a month fire. Quartz requires one of day-of-month and day-of-week to be
/// `?`, so a schedule is driven by exactly one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DayRule {
    OfMonth(DayOfMonth),
    OfWeek(DayOfWeek),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DayOfMonth {
    /// Explicit days 1-31; days past the end of a month never fire.
    Days(BTreeSet<u32>),
    /// `L`, `L-n`, `LW`, `L-nW`: `days_before_last` before the last day, optionally moved
    /// to the nearest weekday.
    Last {
        days_before_last: u32,
        nearest_weekday: bool,
    },
    /// `nW`: the weekday nearest to day n.
    NearestWeekday(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DayOfWeek {
    /// Quartz day numbers, 1 = Sunday ... 7 = Saturday.
    Days(BTreeSet<u32>),
    /// `dL`: the last day d of the month.
    Last(u32),
    /// `d#n`: the n-th day d of the month.
    Nth { weekday: u32, nth: u32 },
}

/// Parses a Databricks schedule: a Quartz cron expression and a time zone id such as
/// `Europe/Oslo` or `UTC`. Errors are sentences naming the offending field.
pub fn parse(expression: &str, timezone_id: &str) -> Result<Schedule, String> {
    let timezone: Tz = timezone_id
        .parse()
        .map_err(|_| format!("timezone_id '{timezone_id}' is not a known time zone"))?;
    parse_fields(expression, timezone)
        .map_err(|detail| format!("quartz_cron_expression '{expression}': {detail}"))
}

impl Schedule {
    /// The zone whose wall-clock time the fields are matched against.
    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    /// The first fire time strictly after `after_ms`, both in epoch milliseconds. `None`
    /// when the schedule never fires again (see the module docs for the search limit).
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        // Nothing fires before 1970 in any zone, so far-past inputs start from 1969; this
        // keeps them inside chrono's range.
        let after_ms = after_ms.max(START_OF_1969_MS);
        // Fire times are whole seconds, so the earliest candidate is the next whole second.
        let first_second = after_ms.div_euclid(1000).checked_add(1)?;
        let start = DateTime::from_timestamp(first_second, 0)?;
        let mut from = start.with_timezone(&self.timezone).naive_local();
        loop {
            let candidate = self.next_wall_time_from(from)?;
            // `earliest` is None inside a spring-forward gap (skip it) and the first of the
            // two instants for a fall-back repeat (which may already be past `after_ms`
            // when `after_ms` lies in the repeated hour; then that wall time is used up).
            if let Some(instant) = self.timezone.from_local_datetime(&candidate).earliest() {
                let instant_ms = instant.timestamp_millis();
                if instant_ms > after_ms {
                    return Some(instant_ms);
                }
            }
            from = candidate.checked_add_signed(TimeDelta::seconds(1))?;
        }
    }

    /// The first wall-clock time at or after `from` that matches every field.
    fn next_wall_time_from(&self, from: NaiveDateTime) -> Option<NaiveDateTime> {
        let first_year = u32::try_from(from.year()).unwrap_or(0);
        for &year in self.years.range(first_year..) {
            // Lower bounds apply only while we are still in `from`'s year, month and day;
            // once a field moves past `from`, everything below it starts from its minimum.
            let in_from_year = year == first_year;
            let first_month = if in_from_year { from.month() } else { 1 };
            for &month in self.months.range(first_month..) {
                let in_from_month = in_from_year && month == from.month();
                let mut first_day = if in_from_month { from.day() } else { 1 };
                while let Some(day) = self.first_day_from(year, month, first_day) {
                    let in_from_day = in_from_month && day == from.day();
                    let earliest_time = if in_from_day {
                        from.time()
                    } else {
                        NaiveTime::MIN
                    };
                    if let Some(time) = self.first_time_from(earliest_time) {
                        let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
                        return Some(date.and_time(time));
                    }
                    first_day = day + 1;
                }
            }
        }
        None
    }

    /// The first matching time of day at or after `from`, if any is left in the day.
    fn first_time_from(&self, from: NaiveTime) -> Option<NaiveTime> {
        for &hour in self.hours.range(from.hour()..) {
            let first_minute = if hour == from.hour() {
                from.minute()
            } else {
                0
            };
            for &minute in self.minutes.range(first_minute..) {
                let in_from_minute = hour == from.hour() && minute == from.minute();
                let first_second = if in_from_minute { from.second() } else { 0 };
                if let Some(&second) = self.seconds.range(first_second..).next() {
                    return NaiveTime::from_hms_opt(hour, minute, second);
                }
            }
        }
        None
    }

    /// The first firing day of `year`-`month` on or after day `from`.
    fn first_day_from(&self, year: u32, month: u32, from: u32) -> Option<u32> {
        let year = i32::try_from(year).ok()?;
        let last_day = days_in_month(year, month);
        if from > last_day {
            return None;
        }
        let day = match &self.days {
            DayRule::OfMonth(DayOfMonth::Days(days)) => {
                return days.range(from..=last_day).next().copied();
            }
            DayRule::OfWeek(DayOfWeek::Days(weekdays)) => {
                return (from..=last_day)
                    .find(|&day| weekday(year, month, day).is_some_and(|w| weekdays.contains(&w)));
            }
            DayRule::OfMonth(DayOfMonth::Last {
                days_before_last,
                nearest_weekday,
            }) => {
                let target = last_day
                    .checked_sub(*days_before_last)
                    .filter(|&day| day >= 1)?;
                if *nearest_weekday {
                    nearest_weekday_in_month(year, month, target)?
                } else {
                    target
                }
            }
            DayRule::OfMonth(DayOfMonth::NearestWeekday(target)) => {
                if *target > last_day {
                    return None;
                }
                nearest_weekday_in_month(year, month, *target)?
            }
            DayRule::OfWeek(DayOfWeek::Last(wanted)) => {
                let last_weekday = weekday(year, month, last_day)?;
                last_day - (last_weekday + 7 - wanted) % 7
            }
            DayRule::OfWeek(DayOfWeek::Nth {
                weekday: wanted,
                nth,
            }) => {
                let first_weekday = weekday(year, month, 1)?;
                let first_match = 1 + (wanted + 7 - first_weekday) % 7;
                let day = first_match + 7 * (nth - 1);
                if day > last_day {
                    return None;
                }
                day
            }
        };
        (day >= from).then_some(day)
    }
}

/// 1969-01-01T00:00:00Z: earlier than local 1970-01-01 in every zone.
const START_OF_1969_MS: i64 = -31_536_000_000;

const SUNDAY: u32 = 1;
const SATURDAY: u32 = 7;

/// Quartz day-of-week number (1 = Sunday ... 7 = Saturday) of a date.
fn weekday(year: i32, month: u32, day: u32) -> Option<u32> {
    NaiveDate::from_ymd_opt(year, month, day).map(|date| date.weekday().number_from_sunday())
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if NaiveDate::from_ymd_opt(year, 2, 29).is_some() => 29,
        2 => 28,
        _ => 31,
    }
}

/// Quartz `W`: the weekday nearest to `day`, without leaving the month. A Saturday moves
/// to Friday unless it is the 1st (then Monday the 3rd); a Sunday moves to Monday unless
/// it is the last day (then Friday).
fn nearest_weekday_in_month(year: i32, month: u32, day: u32) -> Option<u32> {
    let last_day = days_in_month(year, month);
    Some(match weekday(year, month, day)? {
        SATURDAY if day == 1 => 3,
        SATURDAY => day - 1,
        SUNDAY if day == last_day => day - 2,
        SUNDAY => day + 1,
        _ => day,
    })
}

/// How one field is spelled: its name in error messages, its value range, and for months
/// and days of the week the names standing for `min`, `min + 1`, ...
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// Whether `a-b` with a > b wraps around (`FRI-MON`); Quartz forbids it for years.
    ranges_wrap: bool,
}

const SECOND: Field = Field {
    name: "second",
    min: 0,
    max: 59,
    names: &[],
    ranges_wrap: true,
};
const MINUTE: Field = Field {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
    ranges_wrap: true,
};
const HOUR: Field = Field {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
    ranges_wrap: true,
};
const DAY_OF_MONTH: Field = Field {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
    ranges_wrap: true,
};
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
    ranges_wrap: true,
};
const DAY_OF_WEEK: Field = Field {
    name: "day-of-week",
    min: 1,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    ranges_wrap: true,
};
const YEAR: Field = Field {
    name: "year",
    min: 1970,
    max: 2099,
    names: &[],
    ranges_wrap: false,
};

impl Field {
    fn all_values(&self) -> BTreeSet<u32> {
        (self.min..=self.max).collect()
    }

    fn hint(&self) -> String {
        match self.names {
            [] => format!("a number {}-{}", self.min, self.max),
            [first, .., last] => {
                format!(
                    "a number {}-{} or a name {first}-{last}",
                    self.min, self.max
                )
            }
            [only] => format!("a number {}-{} or {only}", self.min, self.max),
        }
    }
}

/// Parses the fields of an expression; errors are details without the expression prefix.
fn parse_fields(expression: &str, timezone: Tz) -> Result<Schedule, String> {
    // Quartz is case-insensitive (`mon`, `jan`, `l`, `w`).
    let upper = expression.to_ascii_uppercase();
    let fields: Vec<&str> = upper.split_whitespace().collect();
    if !(6..=7).contains(&fields.len()) {
        return Err(format!(
            "expected 6 or 7 fields (seconds minutes hours day-of-month month day-of-week \
             [year]) separated by spaces, found {}",
            fields.len()
        ));
    }
    let (day_of_month, day_of_week) = (fields[3], fields[5]);
    let days = match (day_of_month == "?", day_of_week == "?") {
        (true, true) => {
            return Err(
                "'?' can only be used in one of day-of-month and day-of-week, not both".to_string(),
            );
        }
        (false, false) => {
            return Err(
                "Support for specifying both a day-of-week AND a day-of-month parameter \
                        is not implemented; use '?' in one of them"
                    .to_string(),
            );
        }
        (false, true) => DayRule::OfMonth(parse_day_of_month(day_of_month)?),
        (true, false) => DayRule::OfWeek(parse_day_of_week(day_of_week)?),
    };
    Ok(Schedule {
        seconds: parse_list(&SECOND, fields[0])?,
        minutes: parse_list(&MINUTE, fields[1])?,
        hours: parse_list(&HOUR, fields[2])?,
        days,
        months: parse_list(&MONTH, fields[4])?,
        years: match fields.get(6) {
            Some(years) => parse_list(&YEAR, years)?,
            None => YEAR.all_values(),
        },
        timezone,
    })
}

fn parse_day_of_month(text: &str) -> Result<DayOfMonth, String> {
    if let Some(after_l) = text.strip_prefix('L') {
        let (offset, nearest_weekday) = match after_l.strip_suffix('W') {
            Some(offset) => (offset, true),
            None => (after_l, false),
        };
        let days_before_last = match offset {
            "" => 0,
            _ => offset
                .strip_prefix('-')
                .and_then(parse_number)
                .filter(|days| *days <= 30)
                .ok_or_else(|| {
                    format!(
                        "day-of-month '{text}' is not valid; after 'L' use '-n' with n from \
                         0 to 30 and/or 'W' (for example 'L', 'L-3', 'LW')"
                    )
                })?,
        };
        return Ok(DayOfMonth::Last {
            days_before_last,
            nearest_weekday,
        });
    }
    if let Some(day) = text.strip_suffix('W') {
        if parse_number(day).is_none() {
            return Err(format!(
                "day-of-month '{text}' is not valid; 'W' must follow a single day, as in '15W'"
            ));
        }
        return Ok(DayOfMonth::NearestWeekday(parse_value(&DAY_OF_MONTH, day)?));
    }
    if text.contains(['L', 'W']) {
        return Err(format!(
            "day-of-month '{text}' is not valid; 'L' and 'W' must be used on their own \
             (for example 'L', 'L-3', 'LW', '15W'), not in a list or range"
        ));
    }
    Ok(DayOfMonth::Days(parse_list(&DAY_OF_MONTH, text)?))
}

fn parse_day_of_week(text: &str) -> Result<DayOfWeek, String> {
    // Quartz reads a lone `L` in day-of-week as 7, Saturday.
    if text == "L" {
        return Ok(DayOfWeek::Days(BTreeSet::from([SATURDAY])));
    }
    if let Some(day) = text.strip_suffix('L') {
        if day.contains(['-', ',', '/', '*', '#', 'L']) {
            return Err(format!(
                "day-of-week '{text}' is not valid; 'L' must follow a single day, as in '6L' \
                 or 'FRIL'"
            ));
        }
        return Ok(DayOfWeek::Last(parse_value(&DAY_OF_WEEK, day)?));
    }
    if let Some((day, nth)) = text.split_once('#') {
        if day.contains(['-', ',', '/', '*']) {
            return Err(format!(
                "day-of-week '{text}' is not valid; '#' must follow a single day, as in '6#3'"
            ));
        }
        let weekday = parse_value(&DAY_OF_WEEK, day)?;
        let nth = parse_number(nth)
            .filter(|nth| (1..=5).contains(nth))
            .ok_or_else(|| {
                format!("day-of-week '{text}' is not valid; '#' must be followed by a number 1-5")
            })?;
        return Ok(DayOfWeek::Nth { weekday, nth });
    }
    Ok(DayOfWeek::Days(parse_list(&DAY_OF_WEEK, text)?))
}

/// Parses `*`, values, lists, ranges and steps into the set of values they cover.
fn parse_list(field: &Field, text: &str) -> Result<BTreeSet<u32>, String> {
    if text == "?" {
        return Err(format!(
            "'?' is only allowed in day-of-month or day-of-week, not in {}",
            field.name
        ));
    }
    let mut values = BTreeSet::new();
    for item in text.split(',') {
        parse_item(field, item, &mut values)?;
    }
    Ok(values)
}

fn parse_item(field: &Field, item: &str, values: &mut BTreeSet<u32>) -> Result<(), String> {
    if item.is_empty() {
        return Err(format!("{} list has an empty entry", field.name));
    }
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => (base, Some(step)),
        None => (item, None),
    };
    let field_size = field.max - field.min + 1;
    let step = match step {
        None => 1,
        Some(step) => parse_number(step)
            .filter(|step| (1..=field_size).contains(step))
            .ok_or_else(|| {
                format!(
                    "{} step '{step}' in '{item}' must be a number 1-{field_size}",
                    field.name
                )
            })?,
    };
    // Quartz reads `/n` as `*/n`, and `a/n` as running from a to the field's maximum.
    let (start, end) = match base {
        "*" | "" => (field.min, field.max),
        _ => match base.split_once('-') {
            Some((start, end)) => (parse_value(field, start)?, parse_value(field, end)?),
            None => {
                let value = parse_value(field, base)?;
                (value, if step == 1 { value } else { field.max })
            }
        },
    };
    if start > end && !field.ranges_wrap {
        return Err(format!(
            "{} range '{base}' must go from the lower to the higher value",
            field.name
        ));
    }
    // A wrapping range (`22-2` hours) continues past the maximum back to the minimum.
    let end_unwrapped = if end >= start { end } else { end + field_size };
    let mut position = start;
    while position <= end_unwrapped {
        values.insert(field.min + (position - field.min) % field_size);
        position += step;
    }
    Ok(())
}

/// A single value: a number in the field's range or, for months and days, a name.
fn parse_value(field: &Field, text: &str) -> Result<u32, String> {
    if let Some(index) = field.names.iter().position(|name| *name == text) {
        // At most 12 names, so the index always fits.
        return Ok(field.min + u32::try_from(index).unwrap_or(0));
    }
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!(
            "{} '{text}' is not valid; use {}",
            field.name,
            field.hint()
        ));
    }
    match parse_number(text) {
        Some(value) if (field.min..=field.max).contains(&value) => Ok(value),
        _ => Err(format!(
            "{} {text} is out of range {}-{}",
            field.name, field.min, field.max
        )),
    }
}

/// Plain decimal digits only: no sign, no spaces.
fn parse_number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Epoch ms of an RFC 3339 instant.
    fn at(instant: &str) -> i64 {
        DateTime::parse_from_rfc3339(instant)
            .expect("test instant")
            .timestamp_millis()
    }

    /// The next fire time after `after`, as RFC 3339 in the schedule's zone.
    fn next(expression: &str, timezone_id: &str, after: &str) -> Option<String> {
        let schedule = parse(expression, timezone_id).expect("valid schedule");
        schedule.next_after(at(after)).map(|ms| {
            DateTime::from_timestamp_millis(ms)
                .expect("representable")
                .with_timezone(&schedule.timezone())
                .to_rfc3339()
        })
    }

    /// The first `count` fire times after `after`.
    fn fires(expression: &str, timezone_id: &str, after: &str, count: usize) -> Vec<String> {
        let schedule = parse(expression, timezone_id).expect("valid schedule");
        let mut out = Vec::new();
        let mut cursor = at(after);
        while out.len() < count {
            let Some(ms) = schedule.next_after(cursor) else {
                break;
            };
            out.push(
                DateTime::from_timestamp_millis(ms)
                    .expect("representable")
                    .with_timezone(&schedule.timezone())
                    .to_rfc3339(),
            );
            cursor = ms;
        }
        out
    }

    fn error(expression: &str, timezone_id: &str) -> String {
        parse(expression, timezone_id).expect_err("should be rejected")
    }

    const UTC: &str = "UTC";

    #[test]
    fn databricks_example_weekdays_in_oslo() {
        // 2026-01-02 is a Friday; Oslo is UTC+1 in winter.
        assert_eq!(
            fires(
                "0 15 10 ? * MON-FRI",
                "Europe/Oslo",
                "2026-01-02T09:15:00Z",
                3
            ),
            [
                "2026-01-05T10:15:00+01:00",
                "2026-01-06T10:15:00+01:00",
                "2026-01-07T10:15:00+01:00"
            ]
        );
        // Summer time, UTC+2.
        assert_eq!(
            next("0 15 10 ? * MON-FRI", "Europe/Oslo", "2026-07-01T00:00:00Z").as_deref(),
            Some("2026-07-01T10:15:00+02:00")
        );
    }

    #[test]
    fn strictly_after_and_sub_second_inputs() {
        let every_minute = "0 * * ? * *";
        assert_eq!(
            next(every_minute, UTC, "2026-05-01T12:00:00Z").as_deref(),
            Some("2026-05-01T12:01:00+00:00")
        );
        assert_eq!(
            next(every_minute, UTC, "2026-05-01T11:59:59.999Z").as_deref(),
            Some("2026-05-01T12:00:00+00:00")
        );
        let schedule = parse("* * * * * ?", UTC).expect("valid");
        assert_eq!(schedule.next_after(1_000), Some(2_000));
        assert_eq!(schedule.next_after(1_500), Some(2_000));
        assert_eq!(schedule.next_after(-1), Some(0));
    }

    #[test]
    fn lists_ranges_and_steps() {
        assert_eq!(
            fires("0 0/20 9-10 * * ?", UTC, "2026-03-10T09:30:00Z", 4),
            [
                "2026-03-10T09:40:00+00:00",
                "2026-03-10T10:00:00+00:00",
                "2026-03-10T10:20:00+00:00",
                "2026-03-10T10:40:00+00:00"
            ]
        );
        assert_eq!(
            fires("*/15 0 0 1 * ?", UTC, "2026-03-01T00:00:20Z", 3),
            [
                "2026-03-01T00:00:30+00:00",
                "2026-03-01T00:00:45+00:00",
                "2026-04-01T00:00:00+00:00"
            ]
        );
        assert_eq!(
            fires("0 0 8-18/5 * * ?", UTC, "2026-03-10T00:00:00Z", 4),
            [
                "2026-03-10T08:00:00+00:00",
                "2026-03-10T13:00:00+00:00",
                "2026-03-10T18:00:00+00:00",
                "2026-03-11T08:00:00+00:00"
            ]
        );
        assert_eq!(
            fires("0 5,35 1,23 * * ?", UTC, "2026-03-10T01:05:00Z", 4),
            [
                "2026-03-10T01:35:00+00:00",
                "2026-03-10T23:05:00+00:00",
                "2026-03-10T23:35:00+00:00",
                "2026-03-11T01:05:00+00:00"
            ]
        );
        // `/n` alone is Quartz shorthand for `*/n`.
        assert_eq!(
            next("0 /30 * * * ?", UTC, "2026-03-10T00:10:00Z").as_deref(),
            Some("2026-03-10T00:30:00+00:00")
        );
    }

    #[test]
    fn wrapping_ranges() {
        assert_eq!(
            fires("0 0 22-1/2 * * ?", UTC, "2026-03-10T12:00:00Z", 3),
            [
                "2026-03-10T22:00:00+00:00",
                "2026-03-11T00:00:00+00:00",
                "2026-03-11T22:00:00+00:00"
            ]
        );
        // FRI-MON from Tuesday 2026-03-10: Fri 13, Sat 14, Sun 15, Mon 16, then Fri 20.
        assert_eq!(
            fires("0 0 12 ? * FRI-MON", UTC, "2026-03-10T00:00:00Z", 5),
            [
                "2026-03-13T12:00:00+00:00",
                "2026-03-14T12:00:00+00:00",
                "2026-03-15T12:00:00+00:00",
                "2026-03-16T12:00:00+00:00",
                "2026-03-20T12:00:00+00:00"
            ]
        );
        assert_eq!(
            fires("0 0 0 1 NOV-FEB ?", UTC, "2026-03-10T00:00:00Z", 4),
            [
                "2026-11-01T00:00:00+00:00",
                "2026-12-01T00:00:00+00:00",
                "2027-01-01T00:00:00+00:00",
                "2027-02-01T00:00:00+00:00"
            ]
        );
    }

    #[test]
    fn names_are_case_insensitive_and_days_start_on_sunday() {
        assert_eq!(
            next("0 0 6 ? jun sun", UTC, "2026-01-01T00:00:00Z").as_deref(),
            Some("2026-06-07T06:00:00+00:00")
        );
        // 1 = Sunday, 7 = Saturday.
        assert_eq!(
            next("0 0 6 ? * 1", UTC, "2026-06-01T00:00:00Z").as_deref(),
            Some("2026-06-07T06:00:00+00:00")
        );
        assert_eq!(
            next("0 0 6 ? * 7", UTC, "2026-06-01T00:00:00Z").as_deref(),
            Some("2026-06-06T06:00:00+00:00")
        );
        assert_eq!(
            next("0 0 6 ? * Mon,wEd", UTC, "2026-06-02T00:00:00Z").as_deref(),
            Some("2026-06-03T06:00:00+00:00")
        );
        assert_eq!(
            next("0 0 0 1 jan-mar,Jul ?", UTC, "2026-04-01T00:00:00Z").as_deref(),
            Some("2026-07-01T00:00:00+00:00")
        );
    }

    #[test]
    fn day_of_month_past_month_end_is_skipped() {
        assert_eq!(
            fires("0 0 0 31 * ?", UTC, "2026-01-31T00:00:00Z", 2),
            ["2026-03-31T00:00:00+00:00", "2026-05-31T00:00:00+00:00"]
        );
        // February 29 only in leap years.
        assert_eq!(
            next("0 0 0 29 2 ?", UTC, "2026-01-01T00:00:00Z").as_deref(),
            Some("2028-02-29T00:00:00+00:00")
        );
    }

    #[test]
    fn impossible_dates_never_fire() {
        let schedule = parse("0 0 0 30 2 ?", UTC).expect("Quartz accepts February 30");
        assert_eq!(schedule.next_after(at("2026-01-01T00:00:00Z")), None);
        let schedule = parse("0 0 0 31 4,6,9,11 ?", UTC).expect("valid");
        assert_eq!(schedule.next_after(at("2026-01-01T00:00:00Z")), None);
    }

    #[test]
    fn last_day_of_month() {
        assert_eq!(
            fires("0 0 18 L * ?", UTC, "2028-01-31T18:00:00Z", 3),
            [
                "2028-02-29T18:00:00+00:00",
                "2028-03-31T18:00:00+00:00",
                "2028-04-30T18:00:00+00:00"
            ]
        );
        assert_eq!(
            next("0 0 18 L 2 ?", UTC, "2027-01-01T00:00:00Z").as_deref(),
            Some("2027-02-28T18:00:00+00:00")
        );
        // L-3: three days before the last day.
        assert_eq!(
            fires("0 0 0 L-3 * ?", UTC, "2028-01-01T00:00:00Z", 3),
            [
                "2028-01-28T00:00:00+00:00",
                "2028-02-26T00:00:00+00:00",
                "2028-03-28T00:00:00+00:00"
            ]
        );
        // L-30 only exists in 31-day months (day 1).
        assert_eq!(
            fires("0 0 0 L-30 * ?", UTC, "2026-02-01T00:00:00Z", 2),
            ["2026-03-01T00:00:00+00:00", "2026-05-01T00:00:00+00:00"]
        );
    }

    #[test]
    fn last_weekday_of_month() {
        // 2026-05-31 is a Sunday -> Friday 29th; 2026-10-31 a Saturday -> Friday 30th;
        // 2028-02-29 a Tuesday -> itself.
        assert_eq!(
            next("0 0 9 LW * ?", UTC, "2026-05-01T00:00:00Z").as_deref(),
            Some("2026-05-29T09:00:00+00:00")
        );
        assert_eq!(
            next("0 0 9 LW * ?", UTC, "2026-10-01T00:00:00Z").as_deref(),
            Some("2026-10-30T09:00:00+00:00")
        );
        assert_eq!(
            next("0 0 9 LW * ?", UTC, "2028-02-01T00:00:00Z").as_deref(),
            Some("2028-02-29T09:00:00+00:00")
        );
        // L-1W in May 2026: day 30 is a Saturday -> Friday 29th.
        assert_eq!(
            next("0 0 9 L-1W * ?", UTC, "2026-05-01T00:00:00Z").as_deref(),
            Some("2026-05-29T09:00:00+00:00")
        );
    }

    #[test]
    fn nearest_weekday() {
        // 2026-08-15 is a Saturday -> Friday 14th.
        assert_eq!(
            next("0 0 9 15W * ?", UTC, "2026-08-01T00:00:00Z").as_deref(),
            Some("2026-08-14T09:00:00+00:00")
        );
        // 2026-03-15 is a Sunday -> Monday 16th.
        assert_eq!(
            next("0 0 9 15W * ?", UTC, "2026-03-01T00:00:00Z").as_deref(),
            Some("2026-03-16T09:00:00+00:00")
        );
        // 2026-08-01 is a Saturday: 1W does not go back into July, it moves to Monday 3rd.
        assert_eq!(
            next("0 0 9 1W * ?", UTC, "2026-07-31T00:00:00Z").as_deref(),
            Some("2026-08-03T09:00:00+00:00")
        );
        // 2026-05-31 is a Sunday and the last day: 31W moves back to Friday 29th.
        assert_eq!(
            next("0 0 9 31W * ?", UTC, "2026-05-01T00:00:00Z").as_deref(),
            Some("2026-05-29T09:00:00+00:00")
        );
        // 30W in February never fires; the next month with a day 30 is March (a Monday).
        assert_eq!(
            next("0 0 9 30W * ?", UTC, "2028-02-01T00:00:00Z").as_deref(),
            Some("2028-03-30T09:00:00+00:00")
        );
        // The nearest weekday may be earlier than the time we search from.
        assert_eq!(
            next("0 0 9 15W * ?", UTC, "2026-08-14T10:00:00Z").as_deref(),
            Some("2026-09-15T09:00:00+00:00")
        );
    }

    #[test]
    fn last_weekday_of_kind_in_month() {
        // Last Friday: 2026-01-30, 2026-02-27; 2028-02-25.
        assert_eq!(
            fires("0 0 12 ? * 6L", UTC, "2026-01-01T00:00:00Z", 2),
            ["2026-01-30T12:00:00+00:00", "2026-02-27T12:00:00+00:00"]
        );
        assert_eq!(
            next("0 0 12 ? * FRIL", UTC, "2028-02-01T00:00:00Z").as_deref(),
            Some("2028-02-25T12:00:00+00:00")
        );
        // Last Tuesday of February 2028 is the 29th.
        assert_eq!(
            next("0 0 12 ? * 3L", UTC, "2028-02-01T00:00:00Z").as_deref(),
            Some("2028-02-29T12:00:00+00:00")
        );
        // A lone L in day-of-week means Saturday.
        assert_eq!(
            next("0 0 12 ? * L", UTC, "2026-03-10T00:00:00Z").as_deref(),
            Some("2026-03-14T12:00:00+00:00")
        );
    }

    #[test]
    fn nth_weekday_of_month() {
        assert_eq!(
            fires("0 0 12 ? * 6#3", UTC, "2026-01-01T00:00:00Z", 2),
            ["2026-01-16T12:00:00+00:00", "2026-02-20T12:00:00+00:00"]
        );
        assert_eq!(
            next("0 0 12 ? * MON#1", UTC, "2026-06-01T12:00:00Z").as_deref(),
            Some("2026-07-06T12:00:00+00:00")
        );
        // A fifth Tuesday exists in February 2028 (the 29th) but in no 2026 February.
        assert_eq!(
            next("0 0 12 ? 2 3#5", UTC, "2026-01-01T00:00:00Z").as_deref(),
            Some("2028-02-29T12:00:00+00:00")
        );
        // Months without a fifth Friday are skipped: Jan 2026 has Fri 30, next is May 29.
        assert_eq!(
            fires("0 0 12 ? * 6#5", UTC, "2026-01-01T00:00:00Z", 2),
            ["2026-01-30T12:00:00+00:00", "2026-05-29T12:00:00+00:00"]
        );
    }

    #[test]
    fn year_field() {
        assert_eq!(
            fires("0 0 0 1 1 ? 2027,2030-2031", UTC, "2026-06-01T00:00:00Z", 4),
            [
                "2027-01-01T00:00:00+00:00",
                "2030-01-01T00:00:00+00:00",
                "2031-01-01T00:00:00+00:00"
            ]
        );
        assert_eq!(
            next("0 0 0 1 1 ? 2090/5", UTC, "2026-06-01T00:00:00Z").as_deref(),
            Some("2090-01-01T00:00:00+00:00")
        );
        assert_eq!(next("0 0 0 1 1 ? 2020", UTC, "2026-06-01T00:00:00Z"), None);
        assert_eq!(
            next("0 0 0 1 1 ? *", UTC, "2026-06-01T00:00:00Z").as_deref(),
            Some("2027-01-01T00:00:00+00:00")
        );
        // The last possible fire time, then nothing.
        assert_eq!(
            next("59 59 23 L 12 ?", UTC, "2099-06-01T00:00:00Z").as_deref(),
            Some("2099-12-31T23:59:59+00:00")
        );
        assert_eq!(next("* * * * * ?", UTC, "2099-12-31T23:59:59Z"), None);
        // Before 1970 the first fire is in 1970.
        assert_eq!(
            next("0 0 0 1 1 ?", UTC, "1960-06-01T00:00:00Z").as_deref(),
            Some("1970-01-01T00:00:00+00:00")
        );
    }

    #[test]
    fn time_zones() {
        let expression = "0 30 9 * * ?";
        assert_eq!(
            next(expression, "America/New_York", "2026-01-15T00:00:00Z").as_deref(),
            Some("2026-01-15T09:30:00-05:00")
        );
        assert_eq!(
            next(expression, "UTC", "2026-01-15T00:00:00Z").as_deref(),
            Some("2026-01-15T09:30:00+00:00")
        );
        assert_eq!(
            next(expression, "GMT", "2026-01-15T00:00:00Z").as_deref(),
            Some("2026-01-15T09:30:00+00:00")
        );
        // 00:30 UTC on the 15th is 19:30 on the 14th in New York, so the 15th still fires.
        assert_eq!(
            next(expression, "America/New_York", "2026-01-15T10:00:00Z").as_deref(),
            Some("2026-01-15T09:30:00-05:00")
        );
        // Day and month fields use the local date: midnight on the 1st in Tokyo.
        assert_eq!(
            next("0 0 0 1 * ?", "Asia/Tokyo", "2026-03-15T00:00:00Z").as_deref(),
            Some("2026-04-01T00:00:00+09:00")
        );
        assert_eq!(
            parse(expression, "Europe/Oslo").expect("valid").timezone(),
            chrono_tz::Europe::Oslo
        );
    }

    #[test]
    fn spring_forward_skips_missing_wall_times() {
        // New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that day.
        assert_eq!(
            fires(
                "0 30 2 * * ?",
                "America/New_York",
                "2026-03-07T12:00:00Z",
                2
            ),
            ["2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"]
        );
        assert_eq!(
            fires(
                "0 0/15 * * * ?",
                "America/New_York",
                "2026-03-08T06:30:00Z",
                3
            ),
            [
                "2026-03-08T01:45:00-05:00",
                "2026-03-08T03:00:00-04:00",
                "2026-03-08T03:15:00-04:00"
            ]
        );
        // Oslo, 2026-03-29: 02:00 CET jumps to 03:00 CEST.
        assert_eq!(
            fires("0 0 * * * ?", "Europe/Oslo", "2026-03-29T00:30:00Z", 2),
            ["2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"]
        );
        assert_eq!(
            next("0 30 2 29 3 ?", "Europe/Oslo", "2026-01-01T00:00:00Z").as_deref(),
            Some("2027-03-29T02:30:00+02:00")
        );
    }

    #[test]
    fn fall_back_fires_once_at_the_earlier_instant() {
        // New York, 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
        assert_eq!(
            fires(
                "0 30 1 * * ?",
                "America/New_York",
                "2026-10-31T12:00:00Z",
                2
            ),
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]
        );
        assert_eq!(
            fires(
                "0 0/30 * * * ?",
                "America/New_York",
                "2026-11-01T04:45:00Z",
                4
            ),
            [
                "2026-11-01T01:00:00-04:00",
                "2026-11-01T01:30:00-04:00",
                "2026-11-01T02:00:00-05:00",
                "2026-11-01T02:30:00-05:00"
            ]
        );
        // Asked from inside the repeated hour (01:10 EST), the earlier 01:30 is already past.
        assert_eq!(
            next(
                "0 0/30 * * * ?",
                "America/New_York",
                "2026-11-01T01:10:00-05:00"
            )
            .as_deref(),
            Some("2026-11-01T02:00:00-05:00")
        );
        // Oslo, 2026-10-25: 03:00 CEST falls back to 02:00 CET.
        assert_eq!(
            fires("0 30 2 * * ?", "Europe/Oslo", "2026-10-24T12:00:00Z", 2),
            ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
        );
    }

    #[test]
    fn skipped_calendar_day() {
        // Samoa skipped 2011-12-30 entirely when it moved across the date line.
        assert_eq!(
            next("* * * * * ?", "Pacific/Apia", "2011-12-29T23:59:59-10:00").as_deref(),
            Some("2011-12-31T00:00:00+14:00")
        );
        assert_eq!(
            next("0 0 12 30 12 ?", "Pacific/Apia", "2011-12-01T00:00:00Z").as_deref(),
            Some("2012-12-30T12:00:00+14:00")
        );
    }

    #[test]
    fn far_searches_are_fast() {
        let started = std::time::Instant::now();
        for expression in [
            "0 0 0 30 2 ?",
            "* * * 31 4 ?",
            "0 0 12 ? 2 6#5",
            "59 59 23 31 12 ? 2099",
        ] {
            let schedule = parse(expression, "Europe/Oslo").expect("valid");
            let _ = schedule.next_after(0);
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn field_errors_name_the_field() {
        assert_eq!(
            error("0 61 * * * ?", UTC),
            "quartz_cron_expression '0 61 * * * ?': minute 61 is out of range 0-59"
        );
        assert_eq!(
            error("0 0 12 * * MON", UTC),
            "quartz_cron_expression '0 0 12 * * MON': Support for specifying both a day-of-week \
             AND a day-of-month parameter is not implemented; use '?' in one of them"
        );
        assert!(error("0 0 12 * * *", UTC).contains("Support for specifying both"));
        assert!(error("0 0 12 ? * ?", UTC).contains("not both"));
        assert!(
            error("0 0 12 * *", UTC).contains("expected 6 or 7 fields"),
            "{}",
            error("0 0 12 * *", UTC)
        );
        assert!(error("0 0 12 * * ? 2030 x", UTC).contains("found 8"));
        assert!(error("", UTC).contains("found 0"));
        assert!(error("60 * * * * ?", UTC).contains("second 60 is out of range 0-59"));
        assert!(error("0 0 24 * * ?", UTC).contains("hour 24 is out of range 0-23"));
        assert!(error("0 0 0 0 * ?", UTC).contains("day-of-month 0 is out of range 1-31"));
        assert!(error("0 0 0 32 * ?", UTC).contains("day-of-month 32 is out of range 1-31"));
        assert!(error("0 0 0 1 13 ?", UTC).contains("month 13 is out of range 1-12"));
        assert!(error("0 0 0 ? * 8", UTC).contains("day-of-week 8 is out of range 1-7"));
        assert!(error("0 0 0 ? * 0", UTC).contains("day-of-week 0 is out of range 1-7"));
        assert!(error("0 0 0 1 1 ? 1969", UTC).contains("year 1969 is out of range 1970-2099"));
        assert!(error("0 0 0 1 1 ? 2100", UTC).contains("year 2100 is out of range 1970-2099"));
        assert!(error("0 0 0 1 1 ? 2031-2030", UTC).contains("year range '2031-2030'"));
        assert!(
            error("0 0 0 1 FOO ?", UTC)
                .contains("month 'FOO' is not valid; use a number 1-12 or a name JAN-DEC")
        );
        assert!(error("0 0 0 ? * FUN", UTC).contains("day-of-week 'FUN' is not valid"));
        assert!(error("0 0 MON ? * *", UTC).contains("hour 'MON' is not valid; use a number 0-23"));
        assert!(
            error("? 0 0 1 * ?", UTC)
                .contains("'?' is only allowed in day-of-month or day-of-week, not in second")
        );
        assert!(
            error("0 */0 * * * ?", UTC).contains("minute step '0' in '*/0' must be a number 1-60")
        );
        assert!(error("0 */x * * * ?", UTC).contains("minute step 'X'"));
        assert!(error("0 1,,2 * * * ?", UTC).contains("minute list has an empty entry"));
        assert!(error("0 -5 * * * ?", UTC).contains("minute '' is not valid"));
        assert!(error("0 0 0 L-31 * ?", UTC).contains("after 'L' use '-n' with n from 0 to 30"));
        assert!(error("0 0 0 LX * ?", UTC).contains("day-of-month 'LX' is not valid"));
        assert!(error("0 0 0 1,L * ?", UTC).contains("not in a list or range"));
        assert!(error("0 0 0 1-5W * ?", UTC).contains("'W' must follow a single day"));
        assert!(error("0 0 0 32W * ?", UTC).contains("day-of-month 32 is out of range 1-31"));
        assert!(error("0 0 0 ? * 6#6", UTC).contains("'#' must be followed by a number 1-5"));
        assert!(error("0 0 0 ? * 6#0", UTC).contains("'#' must be followed by a number 1-5"));
        assert!(error("0 0 0 ? * 8#1", UTC).contains("day-of-week 8 is out of range 1-7"));
        assert!(error("0 0 0 ? * 1-3L", UTC).contains("'L' must follow a single day"));
        assert!(error("0 0 0 ? * 1,6#3", UTC).contains("'#' must follow a single day"));
        assert!(error("0 0 0 ? * 1,L", UTC).contains("'L' must follow a single day"));
        assert!(error("0 0 0 L * 2", UTC).contains("Support for specifying both"));
    }

    #[test]
    fn time_zone_errors() {
        assert_eq!(
            error("0 0 0 * * ?", "Mars/Base"),
            "timezone_id 'Mars/Base' is not a known time zone"
        );
        assert_eq!(
            error("0 0 0 * * ?", ""),
            "timezone_id '' is not a known time zone"
        );
        // The time zone is checked first, so a bad zone is reported even with a bad expression.
        assert!(error("nonsense", "Nowhere").starts_with("timezone_id 'Nowhere'"));
        assert!(parse("0 0 0 * * ?", "America/Sao_Paulo").is_ok());
    }

    #[test]
    fn odd_input_never_panics() {
        let pieces = [
            "",
            " ",
            "*",
            "?",
            "/",
            "-",
            ",",
            "#",
            "L",
            "W",
            "LW",
            "L-",
            "-L",
            "0",
            "1",
            "7",
            "31",
            "59",
            "60",
            "99999999999999999999",
            "4294967295",
            "4294967296",
            "MON",
            "JAN",
            "é",
            "🕐",
            "*/",
            "/0",
            "1-",
            "-1",
            "1--2",
            "1/2/3",
            "1#",
            "#1",
            "1#2#3",
            "L-0",
            "L-30W",
            "0W",
            "WL",
            "LL",
            "6LL",
            "L#2",
            "2099",
            "1970-",
            "\t",
            "\u{0}",
            "SUN-SAT/7",
            "DEC-JAN/12",
        ];
        let schedule_probe = [
            i64::MIN,
            -1,
            0,
            1,
            1_800_000_000_000,
            4_102_444_799_999,
            i64::MAX,
        ];
        // Every field position gets every piece, around valid templates driven by either
        // day field.
        for template in [
            ["0", "0", "0", "?", "*", "MON", "2030"],
            ["0", "0", "0", "1", "*", "?", "2030"],
        ] {
            for position in 0..template.len() {
                for piece in pieces {
                    let mut fields = template;
                    fields[position] = piece;
                    let expression = fields.join(" ");
                    if let Ok(schedule) = parse(&expression, "Europe/Oslo") {
                        for after in schedule_probe {
                            let _ = schedule.next_after(after);
                        }
                    }
                }
            }
        }
        for raw in [
            "\u{0}",
            "* * * * * ? * *",
            "                ",
            "L L L L L L L",
            "# # # # # #",
        ] {
            let _ = parse(raw, "UTC");
        }
        for zone in ["", "utc", "Europe/oslo", "../etc/passwd", "\u{0}", "+02:00"] {
            let _ = parse("0 0 0 * * ?", zone);
        }
    }

    #[test]
    fn extreme_instants() {
        let schedule = parse("* * * * * ?", UTC).expect("valid");
        assert_eq!(schedule.next_after(i64::MAX), None);
        assert_eq!(schedule.next_after(i64::MIN), Some(0));
    }
}
