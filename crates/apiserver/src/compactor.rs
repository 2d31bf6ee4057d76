//! Periodic compaction of the store's history.
//!
//! The history kept is "the last `retention`": the compactor samples the store's revision
//! every tenth of the retention and compacts to the newest sample that is at least
//! `retention` old. So a watch can always resume from a revision written within the
//! retention window (and at most a tenth more is kept), and each compaction covers about a
//! tenth of the window — small steps rather than one big sweep. kube-apiserver's
//! `--etcd-compaction-interval` (compact to the revision seen one interval ago) keeps
//! between one and two intervals; with etcd we follow the same schedule as for the
//! embedded store.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use store::{Revision, Store};

use crate::cache::WatchCache;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// kube-apiserver's default compaction interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);

/// Revisions sampled over time; answers "which revision is at least `retention` old".
#[derive(Debug, Default)]
struct Samples {
    samples: VecDeque<(Instant, Revision)>,
}

impl Samples {
    fn record(&mut self, at: Instant, revision: Revision) {
        self.samples.push_back((at, revision));
    }

    /// The newest sampled revision taken at least `retention` before `now`; samples older
    /// than it are dropped, since later calls will never need them.
    fn compaction_point(&mut self, now: Instant, retention: Duration) -> Option<Revision> {
        let mut point = None;
        while let Some(&(at, rev)) = self.samples.front() {
            if now.saturating_duration_since(at) < retention {
                break;
            }
            point = Some(rev);
            self.samples.pop_front();
        }
        point
    }
}

/// Runs until `shutdown`; `retention` zero disables compaction. The watch cache forgets
/// the events each compaction removes from the store.
pub async fn run(
    store: Arc<dyn Store>,
    cache: Arc<WatchCache>,
    retention: Duration,
    shutdown: CancellationToken,
) {
    if retention.is_zero() {
        return;
    }
    let step = (retention / 10).max(Duration::from_millis(100));
    let mut samples = Samples::default();
    let mut compacted: Revision = store.compacted_revision().await.unwrap_or(0);
    let mut ticker = tokio::time::interval(step);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let now = Instant::now();
        if let Some(rev) = samples.compaction_point(now, retention)
            && rev > compacted
        {
            match store.compact(rev).await {
                Ok(()) => {
                    compacted = rev;
                    cache.compacted(rev);
                    tracing::debug!(rev, "compacted");
                }
                Err(e) => tracing::warn!(%e, rev, "compaction failed"),
            }
        }
        if let Ok(rev) = store.current_revision().await {
            samples.record(now, rev);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacts_to_newest_sample_older_than_retention() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut samples = Samples::default();
        samples.record(t0, 10);
        samples.record(t0 + s(30), 20);
        samples.record(t0 + s(60), 30);
        // Nothing is a full retention old yet.
        assert_eq!(samples.compaction_point(t0 + s(59), s(60)), None);
        // The first sample just reached the retention.
        assert_eq!(samples.compaction_point(t0 + s(60), s(60)), Some(10));
        // Later, two samples are old enough: the newest of them wins.
        assert_eq!(samples.compaction_point(t0 + s(125), s(60)), Some(30));
        assert_eq!(samples.compaction_point(t0 + s(500), s(60)), None);
    }
}
