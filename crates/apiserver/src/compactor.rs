//! Periodic compaction of the store's history, as kube-apiserver does for etcd
//! (`--etcd-compaction-interval`): every interval, compact to the revision seen one interval
//! earlier, so watches can resume from anything newer than about one interval ago.

use std::sync::Arc;
use std::time::Duration;

use store::Store;
use tokio_util::sync::CancellationToken;

/// kube-apiserver's default.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);

pub async fn run(store: Arc<dyn Store>, interval: Duration, shutdown: CancellationToken) {
    if interval.is_zero() {
        return;
    }
    let mut previous: Option<i64> = None;
    let mut ticker = tokio::time::interval(interval);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if let Some(rev) = previous {
            if let Err(e) = store.compact(rev).await {
                tracing::warn!(%e, rev, "compaction failed");
            } else {
                tracing::debug!(rev, "compacted");
            }
        }
        previous = store.current_revision().await.ok();
    }
}
