//! Small helpers shared by the examples: wall-clock strings like Python's
//! `time.strftime('%X')` / `datetime.now()`, and the servers' run-time limit.
#![allow(dead_code)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `HH:MM:SS` (UTC), like Python's `time.strftime('%X')`.
pub(crate) fn clock() -> String {
    let (_, h, m, s, _) = split_now();
    format!("{h:02}:{m:02}:{s:02}")
}

/// `YYYY-MM-DD HH:MM:SS.ffffff` (UTC), like Python's `datetime.now()`.
pub(crate) fn datetime() -> String {
    let (days, h, m, s, micros) = split_now();
    let (y, mo, d) = civil_from_days(days);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02}.{micros:06}")
}

/// Servers serve until interrupted, or for `CORIO_EXAMPLE_SECONDS` seconds when it is set.
pub(crate) fn example_seconds() -> Option<Duration> {
    let raw = std::env::var("CORIO_EXAMPLE_SECONDS").ok()?;
    match raw.trim().parse::<f64>() {
        Ok(secs) if secs >= 0.0 => Some(Duration::from_secs_f64(secs)),
        _ => panic!("CORIO_EXAMPLE_SECONDS must be a number of seconds, got {raw:?}"),
    }
}

fn split_now() -> (i64, u64, u64, u64, u32) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let day_secs = secs % 86_400;
    (
        (secs / 86_400) as i64,
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60,
        now.subsec_micros(),
    )
}

// Howard Hinnant's days → (year, month, day) for the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
