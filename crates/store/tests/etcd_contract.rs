//! The store contract against a real etcd (`/usr/bin/etcd`, Debian package `etcd-server`),
//! started on free loopback ports with a temporary data directory. Skipped (with a message)
//! when etcd is not installed.

use std::sync::Arc;

use bytes::Bytes;
use store::etcd::{EtcdOptions, EtcdStore};
use store::testing_etcd::EtcdFixture;
use store::{RangeOptions, Store, StoreError, contract};

const LIMIT: usize = 1_572_864;

fn start_etcd() -> Option<EtcdFixture> {
    EtcdFixture::start()
}

async fn connect(etcd: &EtcdFixture) -> Arc<EtcdStore> {
    etcd.connect(LIMIT).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_run_all() {
    let Some(etcd) = start_etcd() else { return };
    let store = connect(&etcd).await;
    contract::run_all(store, "/k8rs-contract/", LIMIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_individual_checks() {
    let Some(etcd) = start_etcd() else { return };
    let store: Arc<dyn Store> = connect(&etcd).await;
    let p = "/registry/t";
    contract::create_get(store.clone(), &format!("{p}/create/")).await;
    contract::update_cas(store.clone(), &format!("{p}/update/")).await;
    contract::delete_cas(store.clone(), &format!("{p}/delete/")).await;
    contract::range_pages(store.clone(), &format!("{p}/range/")).await;
    contract::range_at_old_revision(store.clone(), &format!("{p}/old/")).await;
    contract::watch_replay_then_live(store.clone(), &format!("{p}/watch/")).await;
    contract::watch_from_next_revision(store.clone(), &format!("{p}/next/")).await;
    contract::concurrent_writers_ordering(store.clone(), &format!("{p}/conc/"), 8, 20).await;
    contract::too_large(store.clone(), &format!("{p}/large/"), LIMIT).await;
    contract::compaction(store, &format!("{p}/compact/")).await;
}

/// A compaction done by another client is found by `compacted_revision`, and reads and
/// watches below it report it.
#[tokio::test]
async fn etcd_learns_foreign_compaction() {
    let Some(etcd) = start_etcd() else { return };
    let ours = connect(&etcd).await;
    let theirs = connect(&etcd).await;
    let mut last = 0;
    for i in 0..20 {
        last = ours
            .create(&format!("/x/k{i}"), Bytes::from_static(b"v"))
            .await
            .expect("create")
            .mod_revision;
    }
    assert_eq!(ours.compacted_revision().await.expect("compacted"), 0);
    let point = last - 5;
    theirs.compact(point).await.expect("compact");
    assert_eq!(ours.compacted_revision().await.expect("compacted"), point);

    match ours
        .range(
            "/x/",
            RangeOptions {
                revision: Some(point - 1),
                ..Default::default()
            },
        )
        .await
    {
        Err(StoreError::Compacted {
            requested,
            compacted,
        }) => {
            assert_eq!(requested, point - 1);
            assert!(compacted >= point);
        }
        other => panic!("expected Compacted, got {other:?}"),
    }
    match ours.watch("/x/", point - 3).await {
        Err(StoreError::Compacted {
            requested,
            compacted,
        }) => {
            assert_eq!(requested, point - 3);
            assert_eq!(compacted, point);
        }
        Err(other) => panic!("expected Compacted, got {other:?}"),
        Ok(mut stream) => {
            use futures::StreamExt;
            match stream.next().await {
                Some(Err(StoreError::Compacted { compacted, .. })) => assert_eq!(compacted, point),
                other => panic!("expected Compacted, got {other:?}"),
            }
        }
    }
    // Compacting again below the point is not an error.
    ours.compact(point - 2).await.expect("compact below point");
    assert_eq!(ours.compacted_revision().await.expect("compacted"), point);
}

#[tokio::test]
async fn etcd_connect_fails_without_server() {
    let options = EtcdOptions {
        endpoints: vec![format!(
            "http://127.0.0.1:{}",
            store::testing_etcd::free_port()
        )],
        ..Default::default()
    };
    let started = EtcdStore::connect(options).await;
    assert!(matches!(started, Err(StoreError::Backend(_))));
}
