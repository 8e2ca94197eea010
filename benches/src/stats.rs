//! Medians and the report's markdown table.

use std::fmt::Write as _;
use std::time::Duration;

/// One workload's result: per runtime, the median time per iteration and the relative
/// spread of its samples.
#[derive(Debug, Clone)]
pub struct Row {
    /// Area.
    pub group: &'static str,
    /// Workload name.
    pub name: &'static str,
    /// `(runtime, median, spread)`; spread is the interquartile range over the median.
    pub medians: Vec<(&'static str, Duration, f64)>,
}

/// The median of `samples` and their interquartile range relative to the median.
///
/// # Panics
///
/// If `samples` is empty.
pub fn median_spread(samples: &[Duration]) -> (Duration, f64) {
    let mut xs = samples.to_vec();
    xs.sort();
    let n = xs.len();
    let median = if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2
    };
    let q1 = xs[(n - 1) / 4];
    let q3 = xs[3 * (n - 1) / 4];
    let spread = (q3.as_secs_f64() - q1.as_secs_f64()) / median.as_secs_f64().max(1e-12);
    (median, spread)
}

/// `1.23 ms`, `45.6 µs`, `789 ns`, `2.00 s`.
pub fn fmt_dur(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The markdown table: medians per runtime (±: half the interquartile range, relative to
/// the median), corio/tokio and
/// corio/fastest-peer ratios (below 1.00: corio is faster).
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str(
        "| area | workload | corio | tokio | smol | async-std | corio/tokio | corio/fastest peer |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let get = |rt: &str| {
            r.medians
                .iter()
                .find(|(n, _, _)| *n == rt)
                .map(|&(_, d, s)| (d, s))
        };
        let cell = |rt: &str| {
            get(rt).map_or("–".to_string(), |(d, s)| {
                format!("{} ±{:.0}%", fmt_dur(d), s * 50.0)
            })
        };
        let corio = get("corio").map(|(d, _)| d);
        let ratio = |other: Option<Duration>| match (corio, other) {
            (Some(c), Some(o)) => format!("{:.2}", c.as_secs_f64() / o.as_secs_f64()),
            _ => "–".into(),
        };
        let fastest_peer = r
            .medians
            .iter()
            .filter(|(n, _, _)| *n != "corio")
            .min_by_key(|(_, d, _)| *d);
        let fastest = match fastest_peer {
            Some(&(name, d, _)) => format!("{} ({name})", ratio(Some(d))),
            None => "–".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.group,
            r.name,
            cell("corio"),
            cell("tokio"),
            cell("smol"),
            cell("async-std"),
            ratio(get("tokio").map(|(d, _)| d)),
            fastest
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn median_of_odd_and_even_samples() {
        assert_eq!(median_spread(&[ms(3), ms(1), ms(2)]).0, ms(2));
        assert_eq!(
            median_spread(&[ms(4), ms(1), ms(3), ms(2)]).0,
            Duration::from_micros(2500)
        );
        let (m, spread) = median_spread(&[ms(10); 7]);
        assert_eq!((m, spread), (ms(10), 0.0));
    }

    #[test]
    fn formats_durations() {
        assert_eq!(fmt_dur(Duration::from_nanos(789)), "789 ns");
        assert_eq!(fmt_dur(Duration::from_nanos(45_600)), "45.6 µs");
        assert_eq!(fmt_dur(ms(2) + Duration::from_micros(340)), "2.34 ms");
        assert_eq!(fmt_dur(ms(2000)), "2.00 s");
    }

    #[test]
    fn table_has_ratios_against_tokio_and_the_fastest_peer() {
        let rows = [Row {
            group: "runtime",
            name: "spawn",
            medians: vec![
                ("corio", ms(2), 0.0),
                ("tokio", ms(4), 0.1),
                ("smol", ms(1), 0.0),
                ("async-std", ms(3), 0.0),
            ],
        }];
        let t = table(&rows);
        let line = t.lines().nth(2).unwrap();
        assert_eq!(
            line,
            "| runtime | spawn | 2.00 ms ±0% | 4.00 ms ±5% | 1.00 ms ±0% | 3.00 ms ±0% | 0.50 | 2.00 (smol) |"
        );
        // A runtime without the workload shows `–`; the fastest peer is among the others.
        let rows = [Row {
            group: "sync",
            name: "event",
            medians: vec![("corio", ms(2), 0.0), ("tokio", ms(4), 0.0)],
        }];
        let line = table(&rows).lines().nth(2).unwrap().to_string();
        assert_eq!(
            line,
            "| sync | event | 2.00 ms ±0% | 4.00 ms ±0% | – | – | 0.50 | 0.50 (tokio) |"
        );
    }
}
