//! Latency samples and their percentiles, measured client-side (request sent → response
//! fully read), grouped like ClusterLoader2's APIResponsiveness: by verb, resource, scope.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// How many distinct error messages are kept per key (the rest are only counted).
const KEPT_ERRORS: usize = 3;

/// What one row of a latency table is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub verb: &'static str,
    pub resource: &'static str,
    pub scope: &'static str,
}

impl Key {
    pub const fn new(verb: &'static str, resource: &'static str, scope: &'static str) -> Key {
        Key {
            verb,
            resource,
            scope,
        }
    }
}

/// Successful latencies and failures of one key.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    pub latencies: Vec<Duration>,
    pub errors: u64,
    pub error_messages: Vec<String>,
}

impl Samples {
    pub fn record(&mut self, result: Result<Duration, String>) {
        match result {
            Ok(d) => self.latencies.push(d),
            Err(e) => {
                self.errors += 1;
                if self.error_messages.len() < KEPT_ERRORS && !self.error_messages.contains(&e) {
                    self.error_messages.push(e);
                }
            }
        }
    }

    pub fn summary(&self) -> Summary {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        Summary {
            count: sorted.len(),
            errors: self.errors,
            p50: percentile(&sorted, 50.0),
            p90: percentile(&sorted, 90.0),
            p99: percentile(&sorted, 99.0),
            max: sorted.last().copied().unwrap_or_default(),
        }
    }
}

/// Percentiles of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub count: usize,
    pub errors: u64,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// Nearest-rank percentile of sorted samples (zero for no samples): the smallest sample
/// with at least `q` percent of the samples at or below it.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).copied().unwrap_or_default()
}

/// Samples of many keys, shared by concurrent clients.
#[derive(Debug, Default)]
pub struct Recorder {
    samples: Mutex<BTreeMap<Key, Samples>>,
}

impl Recorder {
    pub fn record(&self, key: Key, result: Result<Duration, String>) {
        // A poisoned lock only means another client panicked; its samples are still valid.
        let mut map = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key).or_default().record(result);
    }

    pub fn snapshot(&self) -> BTreeMap<Key, Samples> {
        self.samples
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// `12.3 ms`, `1.24 s`: milliseconds with three significant digits below 10 s.
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<Duration> = (1..=100).map(ms).collect();
        assert_eq!(percentile(&sorted, 50.0), ms(50));
        assert_eq!(percentile(&sorted, 99.0), ms(99));
        assert_eq!(percentile(&sorted, 100.0), ms(100));
        assert_eq!(percentile(&[ms(7)], 99.0), ms(7));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
        assert_eq!(percentile(&[ms(1), ms(2)], 0.0), ms(1));
    }

    #[test]
    fn summary_counts_errors_and_keeps_a_few_messages() {
        let mut s = Samples::default();
        for v in [30, 10, 20] {
            s.record(Ok(ms(v)));
        }
        for i in 0..5 {
            s.record(Err(format!("boom {i}")));
        }
        s.record(Err("boom 0".into()));
        let sum = s.summary();
        assert_eq!(sum.count, 3);
        assert_eq!(sum.errors, 6);
        assert_eq!(sum.p50, ms(20));
        assert_eq!(sum.max, ms(30));
        assert_eq!(s.error_messages, vec!["boom 0", "boom 1", "boom 2"]);
    }

    #[test]
    fn formats_durations() {
        assert_eq!(fmt_duration(Duration::from_micros(1500)), "1.50 ms");
        assert_eq!(fmt_duration(ms(123)), "123.0 ms");
        assert_eq!(fmt_duration(ms(2500)), "2.50 s");
    }
}
