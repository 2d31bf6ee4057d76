use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use redb::{ReadableDatabase, ReadableTableMetadata};

use super::schema::HISTORY;
use super::{EmbeddedOptions, EmbeddedStore};
use crate::{EventKind, RangeOptions, Store, StoreError, contract};

const LIMIT: usize = 1_572_864;

fn fresh() -> (tempfile::TempDir, Arc<EmbeddedStore>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = EmbeddedStore::open(dir.path()).expect("open");
    (dir, store)
}

fn dyn_store(store: &Arc<EmbeddedStore>) -> Arc<dyn Store> {
    store.clone()
}

fn history_len(store: &EmbeddedStore) -> u64 {
    let txn = store.inner.db.begin_read().expect("read");
    txn.open_table(HISTORY).expect("table").len().expect("len")
}

#[tokio::test]
async fn contract_create_get() {
    let (_dir, store) = fresh();
    contract::create_get(dyn_store(&store), "/registry/t/").await;
}

#[tokio::test]
async fn contract_update_cas() {
    let (_dir, store) = fresh();
    contract::update_cas(dyn_store(&store), "/registry/t/").await;
}

#[tokio::test]
async fn contract_delete_cas() {
    let (_dir, store) = fresh();
    contract::delete_cas(dyn_store(&store), "/registry/t/").await;
}

#[tokio::test]
async fn contract_range_pages() {
    let (_dir, store) = fresh();
    contract::range_pages(dyn_store(&store), "/registry/t/").await;
}

#[tokio::test]
async fn contract_range_at_old_revision() {
    let (_dir, store) = fresh();
    contract::range_at_old_revision(dyn_store(&store), "/registry/t/").await;
}

#[tokio::test]
async fn contract_watch_replay_then_live() {
    let (_dir, store) = fresh();
    contract::watch_replay_then_live(dyn_store(&store), "/registry/t/").await;
}

#[tokio::test]
async fn contract_watch_from_next_revision() {
    let (_dir, store) = fresh();
    contract::watch_from_next_revision(dyn_store(&store), "/registry/t/").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_concurrent_writers_ordering() {
    let (_dir, store) = fresh();
    contract::concurrent_writers_ordering(dyn_store(&store), "/registry/t/", 16, 50).await;
}

#[tokio::test]
async fn contract_too_large() {
    let (_dir, store) = fresh();
    contract::too_large(dyn_store(&store), "/registry/t/", LIMIT).await;
}

#[tokio::test]
async fn contract_compaction() {
    let (_dir, store) = fresh();
    contract::compaction(dyn_store(&store), "/registry/t/").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_run_all_on_one_store() {
    let (_dir, store) = fresh();
    contract::run_all(dyn_store(&store), "/registry/all/", LIMIT).await;
}

#[tokio::test]
async fn revisions_start_at_one_and_are_contiguous() {
    let (_dir, store) = fresh();
    assert_eq!(store.current_revision().await.expect("current"), 0);
    assert_eq!(store.compacted_revision().await.expect("compacted"), 0);
    let a = store
        .create("/a", Bytes::from_static(b"1"))
        .await
        .expect("create");
    assert_eq!(a.mod_revision, 1);
    assert!(store.create("/a", Bytes::new()).await.is_err());
    let b = store.create("/b", Bytes::new()).await.expect("create");
    assert_eq!(
        b.mod_revision, 2,
        "a failed write must not consume a revision"
    );
}

#[tokio::test]
async fn reopen_restores_keys_history_and_revision() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a1, a2, b1) = {
        let store = EmbeddedStore::open(dir.path()).expect("open");
        let a1 = store
            .create("/r/a", Bytes::from_static(b"1"))
            .await
            .expect("create");
        let a2 = store
            .update("/r/a", Bytes::from_static(b"2"), a1.mod_revision)
            .await
            .expect("update");
        let b1 = store
            .create("/r/b", Bytes::from_static(b"b"))
            .await
            .expect("create");
        store.delete("/r/b", None).await.expect("delete");
        store.compact(a2.mod_revision).await.expect("compact");
        (a1, a2, b1)
    };
    let store = EmbeddedStore::open(dir.path()).expect("reopen");
    assert_eq!(store.current_revision().await.expect("current"), 4);
    assert_eq!(store.compacted_revision().await.expect("compacted"), 2);
    assert_eq!(store.get("/r/a").await.expect("get"), Some(a2.clone()));
    assert_eq!(store.get("/r/b").await.expect("get"), None);
    let old = store
        .range(
            "/r/",
            RangeOptions {
                revision: Some(b1.mod_revision),
                ..Default::default()
            },
        )
        .await
        .expect("old range");
    assert_eq!(old.kvs, vec![a2.clone(), b1.clone()]);
    assert!(matches!(
        store.watch("/r/", a1.mod_revision).await,
        Err(StoreError::Compacted { .. })
    ));
    let mut watch = store.watch("/r/", b1.mod_revision).await.expect("watch");
    let created = contract::next_event(&mut watch).await;
    assert_eq!(created.kv, b1);
    let deleted = contract::next_event(&mut watch).await;
    assert_eq!(deleted.kind, EventKind::Delete);
    assert_eq!(deleted.revision, 4);
    let c = store.create("/r/c", Bytes::new()).await.expect("create");
    assert_eq!(c.mod_revision, 5, "the revision counter continues");
    assert_eq!(contract::next_event(&mut watch).await.kv, c);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_watcher_catches_up_from_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = EmbeddedOptions {
        watch_buffer: 1,
        ..Default::default()
    };
    let store = EmbeddedStore::with_options(dir.path(), options).expect("open");
    let mut watch = store.watch("/lag/", 1).await.expect("watch");
    // Start the stream so it is subscribed and live before the writes.
    let first = store.create("/lag/0", Bytes::new()).await.expect("create");
    assert_eq!(contract::next_event(&mut watch).await.kv, first);
    for i in 1..40 {
        store
            .create(&format!("/lag/{i}"), Bytes::new())
            .await
            .expect("create");
    }
    // The watcher read nothing while 39 batches went by on a channel of one.
    for expected in 2..=40 {
        assert_eq!(contract::next_event(&mut watch).await.revision, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn compaction_forgets_history_in_steps() {
    let (_dir, store) = fresh();
    // More records than one compaction step examines.
    let mut tasks = Vec::new();
    for t in 0..10 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("/c/{t}");
            let mut kv = store.create(&key, Bytes::new()).await.expect("create");
            for _ in 0..129 {
                kv = store
                    .update(&key, Bytes::new(), kv.mod_revision)
                    .await
                    .expect("update");
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    store.create("/c/tail", Bytes::new()).await.expect("create");
    store.delete("/c/tail", None).await.expect("delete");
    let current = store.current_revision().await.expect("current");
    assert_eq!(current, 1302);
    assert_eq!(history_len(&store), 1302);

    store.compact(current).await.expect("compact");
    // Kept: each live key's newest write, the delete at the compaction point itself (a watch
    // from the point must see it) and the write it deleted (that event's previous value).
    assert_eq!(history_len(&store), 12);
    let all = store
        .range("/c/", RangeOptions::default())
        .await
        .expect("range");
    assert_eq!(all.kvs.len(), 10);
    assert!(all.kvs.iter().all(|kv| kv.version == 130));
    let at_point = store
        .range(
            "/c/",
            RangeOptions {
                revision: Some(current),
                ..Default::default()
            },
        )
        .await
        .expect("range");
    assert_eq!(at_point.kvs, all.kvs);
    assert!(matches!(
        store.compact(current + 1).await,
        Err(StoreError::FutureRevision { .. })
    ));
}

#[tokio::test]
async fn dropping_the_store_ends_watches() {
    let (_dir, store) = fresh();
    let mut watch = store.watch("/", 1).await.expect("watch");
    store.create("/x", Bytes::new()).await.expect("create");
    assert_eq!(contract::next_event(&mut watch).await.revision, 1);
    drop(store);
    let end = tokio::time::timeout(std::time::Duration::from_secs(60), watch.next()).await;
    assert!(matches!(end, Ok(None)), "stream must end after shutdown");
}

#[tokio::test]
async fn limit_zero_means_no_limit_and_start_after_outside_prefix() {
    let (_dir, store) = fresh();
    for key in ["/p/a", "/p/b", "/q/a"] {
        store.create(key, Bytes::new()).await.expect("create");
    }
    let r = store
        .range(
            "/p/",
            RangeOptions {
                limit: Some(0),
                start_after: Some("/a".into()),
                ..Default::default()
            },
        )
        .await
        .expect("range");
    assert_eq!(r.kvs.len(), 2);
    assert!(!r.more);
    let r = store
        .range(
            "/p/",
            RangeOptions {
                start_after: Some("/p/b".into()),
                ..Default::default()
            },
        )
        .await
        .expect("range");
    assert!(r.kvs.is_empty());
}

#[tokio::test]
async fn repeated_compaction_keeps_history_bounded() {
    // A key's newest write at one compaction point must still go once a later write
    // supersedes it below the next point; otherwise every compaction leaks one record per
    // live key and steady churn grows the file without bound.
    let (_dir, store) = fresh();
    let mut revs = Vec::new();
    for k in 0..10 {
        revs.push(
            store
                .create(&format!("/b/{k}"), Bytes::new())
                .await
                .expect("create")
                .mod_revision,
        );
    }
    for _round in 0..5 {
        for (k, rev) in revs.iter_mut().enumerate() {
            for _ in 0..20 {
                *rev = store
                    .update(&format!("/b/{k}"), Bytes::new(), *rev)
                    .await
                    .expect("update")
                    .mod_revision;
            }
        }
        // One more write after the point, so the point is not the last revision.
        let point = store.current_revision().await.expect("current");
        revs[0] = store
            .update("/b/0", Bytes::new(), revs[0])
            .await
            .expect("update")
            .mod_revision;
        store.compact(point).await.expect("compact");
        // Each key's newest write at or below the point (the last key's is at the point, so
        // its predecessor stays as that event's previous value), plus the write after it.
        assert_eq!(history_len(&store), 12);
    }
}
