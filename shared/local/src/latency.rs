//! Latency percentiles (nearest rank) and throughput: one way to report them, for the
//! benchmarks and `jwo load`.

use std::fmt;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatencySummary {
    pub count: usize,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// Completed per second over the wall time, whole.
    pub per_second: u64,
}

impl LatencySummary {
    /// None when there is nothing to summarize.
    pub fn of(mut latencies: Vec<Duration>, wall: Duration) -> Option<LatencySummary> {
        if latencies.is_empty() {
            return None;
        }
        latencies.sort_unstable();
        let at = |percent: usize| {
            latencies[(latencies.len() * percent)
                .div_ceil(100)
                .clamp(1, latencies.len())
                - 1]
        };
        let micros = wall.as_micros().max(1);
        let per_second =
            u64::try_from(latencies.len() as u128 * 1_000_000 / micros).unwrap_or(u64::MAX);
        Some(LatencySummary {
            count: latencies.len(),
            p50: at(50),
            p90: at(90),
            p99: at(99),
            max: latencies[latencies.len() - 1],
            per_second,
        })
    }
}

impl fmt::Display for LatencySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "n={:<6} p50={:>9.3?} p90={:>9.3?} p99={:>9.3?} max={:>9.3?}  {:>6}/s",
            self.count, self.p50, self.p90, self.p99, self.max, self.per_second
        )
    }
}

/// Prints one line of a latency benchmark: percentiles (nearest rank) and throughput.
pub fn report(
    label: &str,
    unit: &str,
    latencies: Vec<std::time::Duration>,
    wall: std::time::Duration,
) {
    let summary =
        LatencySummary::of(latencies, wall).unwrap_or_else(|| panic!("no latencies for {label}"));
    println!("{label:<34} {summary} {unit}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_and_throughput() {
        let latencies: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let summary = LatencySummary::of(latencies, Duration::from_secs(2)).unwrap();
        assert_eq!(
            (summary.p50, summary.p90, summary.p99, summary.max),
            (
                Duration::from_millis(50),
                Duration::from_millis(90),
                Duration::from_millis(99),
                Duration::from_millis(100)
            )
        );
        assert_eq!((summary.count, summary.per_second), (100, 50));
        assert_eq!(LatencySummary::of(Vec::new(), Duration::from_secs(1)), None);
        let one = LatencySummary::of(vec![Duration::from_millis(7)], Duration::ZERO).unwrap();
        assert_eq!(
            (one.p50, one.p99),
            (Duration::from_millis(7), Duration::from_millis(7))
        );
    }
}
