//! Events expire: kube-apiserver stores each Event with an etcd lease of `--event-ttl`
//! (default 1 h) renewed on every write, so an event disappears an hour after it last
//! changed. The store contract has no leases, so this sweeper deletes events whose last
//! recorded activity (lastTimestamp, eventTime, series.lastObservedTime, creationTimestamp)
//! is older than the TTL. Deletions go through the store with the read revision as a
//! precondition, so an event updated meanwhile survives; watchers see DELETED as upstream.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;
use store::{RangeOptions, Store, StoreError};
use tokio_util::sync::CancellationToken;

/// kube-apiserver's default `--event-ttl`.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);
const PREFIX: &str = "/registry/events/";
const PAGE: usize = 500;

/// When the event last changed, as far as its fields tell.
fn last_activity(event: &Value) -> Option<i64> {
    [
        "/lastTimestamp",
        "/eventTime",
        "/series/lastObservedTime",
        "/metadata/creationTimestamp",
    ]
    .iter()
    .filter_map(|p| event.pointer(p).and_then(Value::as_str))
    .filter_map(|s| s.parse::<Timestamp>().ok())
    .map(|t| t.as_second())
    .max()
}

/// Deletes every event idle for longer than `ttl`; returns how many went.
pub async fn sweep(store: &Arc<dyn Store>, ttl: Duration, now: Timestamp) -> usize {
    let cutoff = now.as_second() - ttl.as_secs() as i64;
    let mut deleted = 0;
    let mut opts = RangeOptions {
        limit: Some(PAGE),
        ..Default::default()
    };
    loop {
        let page = match store.range(PREFIX, opts.clone()).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(%e, "event TTL sweep: listing events failed");
                return deleted;
            }
        };
        for kv in &page.kvs {
            let expired = serde_json::from_slice::<Value>(&kv.value)
                .ok()
                .and_then(|v| last_activity(&v))
                .is_some_and(|t| t < cutoff);
            if !expired {
                continue;
            }
            match store.delete(&kv.key, Some(kv.mod_revision)).await {
                Ok(_) => deleted += 1,
                Err(StoreError::NotFound(_) | StoreError::Conflict { .. }) => {}
                Err(e) => tracing::warn!(%e, key = %kv.key, "event TTL sweep: delete failed"),
            }
        }
        opts.revision = Some(page.revision);
        opts.start_after = page.kvs.last().map(|kv| kv.key.clone());
        if !page.more || page.kvs.is_empty() {
            return deleted;
        }
    }
}

/// Sweeps every tenth of the TTL (at most every minute) until `shutdown`.
pub async fn run(store: Arc<dyn Store>, ttl: Duration, shutdown: CancellationToken) {
    if ttl.is_zero() {
        return;
    }
    let mut ticker =
        tokio::time::interval((ttl / 10).clamp(Duration::from_secs(1), Duration::from_secs(60)));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let n = sweep(&store, ttl, Timestamp::now()).await;
        if n > 0 {
            tracing::debug!(deleted = n, "expired events removed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use serde_json::json;

    #[tokio::test]
    async fn expired_events_go_and_recent_ones_stay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn Store> =
            store::embedded::EmbeddedStore::open(dir.path()).expect("store");
        let old = json!({"metadata": {"name": "old", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "lastTimestamp": "2026-01-01T00:30:00Z"});
        // Created long ago but seen again recently: kept.
        let renewed = json!({"metadata": {"name": "renewed", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "lastTimestamp": "2026-01-01T01:50:00Z"});
        let fresh =
            json!({"metadata": {"name": "fresh"}, "eventTime": "2026-01-01T01:59:00.000000Z"});
        for (name, ev) in [("old", &old), ("renewed", &renewed), ("fresh", &fresh)] {
            store
                .create(
                    &format!("{PREFIX}default/{name}"),
                    Bytes::from(ev.to_string()),
                )
                .await
                .expect("create");
        }
        store
            .create(
                "/registry/configmaps/default/old",
                Bytes::from(old.to_string()),
            )
            .await
            .expect("create");
        let now: Timestamp = "2026-01-01T02:00:00Z".parse().expect("time");
        assert_eq!(sweep(&store, DEFAULT_TTL, now).await, 1);
        let left: Vec<String> = store
            .range(PREFIX, RangeOptions::default())
            .await
            .expect("range")
            .kvs
            .into_iter()
            .map(|kv| kv.key)
            .collect();
        assert_eq!(
            left,
            vec![
                format!("{PREFIX}default/fresh"),
                format!("{PREFIX}default/renewed")
            ]
        );
        // Not an event: untouched.
        assert!(
            store
                .get("/registry/configmaps/default/old")
                .await
                .expect("get")
                .is_some()
        );
    }
}
