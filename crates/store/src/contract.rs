//! The storage contract as executable checks. Every backend runs all of them (see
//! [`run_all`]); each check panics with a message when the backend breaks the contract.
//!
//! Each check only touches keys under the `prefix` it is given and never assumes the store
//! is otherwise idle, so the suite can run against a shared etcd with a unique prefix per
//! check. The one exception is [`compaction`], which compacts the whole store.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use crate::{Event, EventKind, KeyValue, RangeOptions, Revision, Store, StoreError, WatchStream};

/// Generous bound on waiting for a watch event, only so a broken backend fails instead of
/// hanging; never a timing assertion.
const EVENT_WAIT: Duration = Duration::from_secs(60);

fn val(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// The next event of `stream`, failing on error, end or a very long wait.
pub async fn next_event(stream: &mut WatchStream) -> Event {
    match tokio::time::timeout(EVENT_WAIT, stream.next()).await {
        Ok(Some(Ok(event))) => event,
        Ok(Some(Err(e))) => panic!("watch failed: {e}"),
        Ok(None) => panic!("watch ended unexpectedly"),
        Err(_) => panic!("no watch event within {EVENT_WAIT:?}"),
    }
}

/// Runs every check, each under its own sub-prefix of `prefix`. `max_value_size` is the
/// backend's value limit.
pub async fn run_all(store: Arc<dyn Store>, prefix: &str, max_value_size: usize) {
    create_get(store.clone(), &format!("{prefix}create/")).await;
    update_cas(store.clone(), &format!("{prefix}update/")).await;
    delete_cas(store.clone(), &format!("{prefix}delete/")).await;
    range_pages(store.clone(), &format!("{prefix}range/")).await;
    range_at_old_revision(store.clone(), &format!("{prefix}old/")).await;
    watch_replay_then_live(store.clone(), &format!("{prefix}watch/")).await;
    watch_from_next_revision(store.clone(), &format!("{prefix}watchnext/")).await;
    concurrent_writers_ordering(store.clone(), &format!("{prefix}concurrent/"), 16, 50).await;
    too_large(store.clone(), &format!("{prefix}large/"), max_value_size).await;
    compaction(store, &format!("{prefix}compact/")).await;
}

pub async fn create_get(store: Arc<dyn Store>, p: &str) {
    let key = format!("{p}a");
    let before = store.current_revision().await.expect("current revision");
    let kv = store.create(&key, val("one")).await.expect("create");
    assert_eq!(kv.key, key);
    assert_eq!(kv.value, val("one"));
    assert_eq!(kv.version, 1);
    assert_eq!(kv.create_revision, kv.mod_revision);
    assert!(kv.mod_revision > before, "revision must advance");
    assert!(store.current_revision().await.expect("current") >= kv.mod_revision);

    assert_eq!(store.get(&key).await.expect("get"), Some(kv.clone()));
    assert_eq!(store.get(&format!("{p}missing")).await.expect("get"), None);

    match store.create(&key, val("two")).await {
        Err(StoreError::AlreadyExists(k)) => assert_eq!(k, key),
        other => panic!("second create: expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(
        store.get(&key).await.expect("get"),
        Some(kv),
        "failed create changed key"
    );
}

pub async fn update_cas(store: Arc<dyn Store>, p: &str) {
    let key = format!("{p}a");
    let created = store.create(&key, val("v1")).await.expect("create");
    let updated = store
        .update(&key, val("v2"), created.mod_revision)
        .await
        .expect("update with current revision");
    assert_eq!(updated.value, val("v2"));
    assert_eq!(updated.version, 2);
    assert_eq!(updated.create_revision, created.create_revision);
    assert!(updated.mod_revision > created.mod_revision);

    match store.update(&key, val("v3"), created.mod_revision).await {
        Err(StoreError::Conflict {
            key: k,
            expected,
            current,
        }) => {
            assert_eq!(k, key);
            assert_eq!(expected, created.mod_revision);
            assert_eq!(current.map(|c| *c), Some(updated.clone()));
        }
        other => panic!("stale update: expected Conflict, got {other:?}"),
    }
    assert_eq!(store.get(&key).await.expect("get"), Some(updated));

    match store.update(&format!("{p}missing"), val("x"), 1).await {
        Err(StoreError::NotFound(_) | StoreError::Conflict { current: None, .. }) => {}
        other => panic!("update of missing key: expected NotFound, got {other:?}"),
    }
}

pub async fn delete_cas(store: Arc<dyn Store>, p: &str) {
    let key = format!("{p}a");
    let created = store.create(&key, val("v1")).await.expect("create");
    match store.delete(&key, Some(created.mod_revision - 1)).await {
        Err(StoreError::Conflict { current, .. }) => {
            assert_eq!(current.map(|c| *c), Some(created.clone()));
        }
        other => panic!("stale delete: expected Conflict, got {other:?}"),
    }
    let deleted = store
        .delete(&key, Some(created.mod_revision))
        .await
        .expect("delete with current revision");
    assert_eq!(deleted.value, created.value);
    assert_eq!(deleted.create_revision, created.create_revision);
    assert!(deleted.mod_revision > created.mod_revision);
    assert_eq!(store.get(&key).await.expect("get"), None);
    match store.delete(&key, None).await {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("delete of missing key: expected NotFound, got {other:?}"),
    }

    // Unconditional delete, then the key can be created again from scratch.
    store.create(&key, val("v2")).await.expect("re-create");
    store
        .delete(&key, None)
        .await
        .expect("unconditional delete");
    let again = store
        .create(&key, val("v3"))
        .await
        .expect("create after delete");
    assert_eq!(again.version, 1);
    assert_eq!(again.create_revision, again.mod_revision);
}

pub async fn range_pages(store: Arc<dyn Store>, p: &str) {
    let mut expected = Vec::new();
    for i in (0..10).rev() {
        let key = format!("{p}k{i}");
        store.create(&key, val(&key)).await.expect("create");
        expected.push(key);
    }
    expected.sort();
    // Neighbours that share a string prefix but are outside `p`.
    let outside = format!("{}x", p.trim_end_matches('/'));
    store
        .create(&outside, val("x"))
        .await
        .expect("create outside");

    let all = store
        .range(p, RangeOptions::default())
        .await
        .expect("range");
    let keys: Vec<_> = all.kvs.iter().map(|kv| kv.key.clone()).collect();
    assert_eq!(
        keys, expected,
        "range returns exactly the prefix, in key order"
    );
    assert!(!all.more);
    assert!(all.kvs.iter().all(|kv| kv.value == val(&kv.key)));

    // Pages of 3 at a pinned revision, continued with start_after.
    let mut paged = Vec::new();
    let mut start_after = None;
    let mut pages = 0;
    loop {
        let page = store
            .range(
                p,
                RangeOptions {
                    revision: Some(all.revision),
                    limit: Some(3),
                    start_after: start_after.clone(),
                },
            )
            .await
            .expect("range page");
        pages += 1;
        assert!(page.kvs.len() <= 3);
        assert_eq!(page.revision, all.revision);
        paged.extend(page.kvs.iter().map(|kv| kv.key.clone()));
        if !page.more {
            break;
        }
        start_after = page.kvs.last().map(|kv| kv.key.clone());
        assert!(pages < 10, "pagination does not terminate");
    }
    assert_eq!(paged, expected);
    assert_eq!(pages, 4);

    // A full page that happens to end at the last key reports no more.
    let exact = store
        .range(
            p,
            RangeOptions {
                limit: Some(10),
                ..Default::default()
            },
        )
        .await
        .expect("range");
    assert_eq!(exact.kvs.len(), 10);
    assert!(!exact.more);
}

pub async fn range_at_old_revision(store: Arc<dyn Store>, p: &str) {
    let a = format!("{p}a");
    let b = format!("{p}b");
    let a1 = store.create(&a, val("a1")).await.expect("create a");
    let a2 = store
        .update(&a, val("a2"), a1.mod_revision)
        .await
        .expect("update a");
    let b1 = store.create(&b, val("b1")).await.expect("create b");
    store.delete(&a, None).await.expect("delete a");

    let at = |revision: Revision| {
        let store = store.clone();
        async move {
            let r = store
                .range(
                    p,
                    RangeOptions {
                        revision: Some(revision),
                        ..Default::default()
                    },
                )
                .await
                .expect("range at revision");
            assert_eq!(r.revision, revision);
            r.kvs
        }
    };
    assert_eq!(at(a1.mod_revision).await, vec![a1.clone()]);
    assert_eq!(at(a2.mod_revision).await, vec![a2.clone()]);
    assert_eq!(at(b1.mod_revision).await, vec![a2.clone(), b1.clone()]);
    let now = store
        .range(p, RangeOptions::default())
        .await
        .expect("range");
    assert_eq!(now.kvs, vec![b1.clone()]);

    // Pagination also works in the past.
    let page = store
        .range(
            p,
            RangeOptions {
                revision: Some(b1.mod_revision),
                limit: Some(1),
                start_after: None,
            },
        )
        .await
        .expect("range page at revision");
    assert_eq!(page.kvs, vec![a2]);
    assert!(page.more);

    let current = store.current_revision().await.expect("current");
    match store
        .range(
            p,
            RangeOptions {
                revision: Some(current + 1000),
                ..Default::default()
            },
        )
        .await
    {
        Err(StoreError::FutureRevision { .. }) => {}
        other => panic!("range in the future: expected FutureRevision, got {other:?}"),
    }
}

/// Checks `event` against the key value it should carry.
fn assert_event(event: &Event, kind: EventKind, kv: &KeyValue, prev: Option<&KeyValue>) {
    assert_eq!(event.kind, kind);
    assert_eq!(event.revision, kv.mod_revision);
    assert_eq!(&event.kv, kv);
    assert_eq!(event.prev.as_ref(), prev);
}

pub async fn watch_replay_then_live(store: Arc<dyn Store>, p: &str) {
    let a = format!("{p}a");
    let c1 = store.create(&a, val("1")).await.expect("create");
    let u1 = store
        .update(&a, val("2"), c1.mod_revision)
        .await
        .expect("update");
    let elsewhere = format!("{}-elsewhere", p.trim_end_matches('/'));
    store
        .create(&elsewhere, val("x"))
        .await
        .expect("create outside");
    let d1 = store.delete(&a, None).await.expect("delete");

    let mut watch = store.watch(p, c1.mod_revision).await.expect("watch");
    assert_event(&next_event(&mut watch).await, EventKind::Put, &c1, None);
    assert_event(
        &next_event(&mut watch).await,
        EventKind::Put,
        &u1,
        Some(&c1),
    );
    assert_event(
        &next_event(&mut watch).await,
        EventKind::Delete,
        &d1,
        Some(&u1),
    );

    // Now live.
    let c2 = store.create(&a, val("3")).await.expect("create again");
    let b = store
        .create(&format!("{p}b"), val("b"))
        .await
        .expect("create b");
    assert_event(&next_event(&mut watch).await, EventKind::Put, &c2, None);
    assert_event(&next_event(&mut watch).await, EventKind::Put, &b, None);

    // A watch from the middle of history starts exactly there.
    let mut mid = store.watch(p, u1.mod_revision).await.expect("watch");
    assert_eq!(next_event(&mut mid).await.revision, u1.mod_revision);
    assert_eq!(next_event(&mut mid).await.revision, d1.mod_revision);
    assert_eq!(next_event(&mut mid).await.revision, c2.mod_revision);
}

pub async fn watch_from_next_revision(store: Arc<dyn Store>, p: &str) {
    let start = store.current_revision().await.expect("current") + 1;
    let mut watch = store
        .watch(p, start)
        .await
        .expect("watch from next revision");
    let kv = store
        .create(&format!("{p}a"), val("1"))
        .await
        .expect("create");
    assert_event(&next_event(&mut watch).await, EventKind::Put, &kv, None);
}

/// `tasks` writers doing `per_task` writes each; a watcher must see every acknowledged
/// revision exactly once, in increasing order.
pub async fn concurrent_writers_ordering(
    store: Arc<dyn Store>,
    p: &str,
    tasks: usize,
    per_task: usize,
) {
    let start = store.current_revision().await.expect("current") + 1;
    let mut watch = store.watch(p, start).await.expect("watch");
    let mut handles = Vec::new();
    for t in 0..tasks {
        let store = store.clone();
        let p = p.to_owned();
        handles.push(tokio::spawn(async move {
            let key = format!("{p}t{t}");
            let mut revisions = Vec::new();
            let mut last = store.create(&key, val("0")).await.expect("create");
            revisions.push(last.mod_revision);
            for i in 1..per_task {
                last = store
                    .update(&key, val(&i.to_string()), last.mod_revision)
                    .await
                    .expect("update");
                revisions.push(last.mod_revision);
            }
            revisions
        }));
    }
    let mut acknowledged = BTreeSet::new();
    for handle in handles {
        acknowledged.extend(handle.await.expect("writer task"));
    }
    assert_eq!(
        acknowledged.len(),
        tasks * per_task,
        "revisions must be unique"
    );

    let mut seen = Vec::new();
    while seen.len() < tasks * per_task {
        seen.push(next_event(&mut watch).await.revision);
    }
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "watch revisions must strictly increase"
    );
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), acknowledged);
}

pub async fn too_large(store: Arc<dyn Store>, p: &str, max_value_size: usize) {
    let key = format!("{p}big");
    let big = Bytes::from(vec![b'x'; max_value_size + 1]);
    match store.create(&key, big.clone()).await {
        Err(StoreError::TooLarge { size, .. }) => assert_eq!(size, max_value_size + 1),
        other => panic!("oversized create: expected TooLarge, got {other:?}"),
    }
    assert_eq!(store.get(&key).await.expect("get"), None);
    let small = store
        .create(&key, val("small"))
        .await
        .expect("create small");
    match store.update(&key, big, small.mod_revision).await {
        Err(StoreError::TooLarge { .. }) => {}
        other => panic!("oversized update: expected TooLarge, got {other:?}"),
    }
    assert_eq!(store.get(&key).await.expect("get"), Some(small));
}

/// Compacts the whole store up to a revision in the middle of this check's writes.
pub async fn compaction(store: Arc<dyn Store>, p: &str) {
    let a = format!("{p}a");
    let b = format!("{p}b");
    let gone = format!("{p}gone");
    let a1 = store.create(&a, val("a1")).await.expect("create");
    store.create(&gone, val("g")).await.expect("create");
    let a2 = store
        .update(&a, val("a2"), a1.mod_revision)
        .await
        .expect("update");
    store.delete(&gone, None).await.expect("delete");
    let b1 = store.create(&b, val("b1")).await.expect("create");
    let a3 = store
        .update(&a, val("a3"), a2.mod_revision)
        .await
        .expect("update");

    let point = b1.mod_revision;
    store.compact(point).await.expect("compact");
    assert!(store.compacted_revision().await.expect("compacted") >= point);

    match store.watch(p, a1.mod_revision).await {
        Err(StoreError::Compacted { .. }) => {}
        Ok(mut stream) => match stream.next().await {
            Some(Err(StoreError::Compacted { .. })) => {}
            other => panic!("watch below compaction: expected Compacted, got {other:?}"),
        },
        Err(other) => panic!("watch below compaction: expected Compacted, got {other:?}"),
    }
    match store
        .range(
            p,
            RangeOptions {
                revision: Some(a2.mod_revision),
                ..Default::default()
            },
        )
        .await
    {
        Err(StoreError::Compacted { .. }) => {}
        other => panic!("range below compaction: expected Compacted, got {other:?}"),
    }

    // The compaction point itself is still readable and watchable.
    let at_point = store
        .range(
            p,
            RangeOptions {
                revision: Some(point),
                ..Default::default()
            },
        )
        .await
        .expect("range at compaction point");
    assert_eq!(at_point.kvs, vec![a2.clone(), b1.clone()]);
    let mut watch = store
        .watch(p, point)
        .await
        .expect("watch at compaction point");
    assert_event(&next_event(&mut watch).await, EventKind::Put, &b1, None);
    assert_event(
        &next_event(&mut watch).await,
        EventKind::Put,
        &a3,
        Some(&a2),
    );

    // Writes still work and are seen.
    let a4 = store
        .update(&a, val("a4"), a3.mod_revision)
        .await
        .expect("update");
    assert_event(
        &next_event(&mut watch).await,
        EventKind::Put,
        &a4,
        Some(&a3),
    );
}
