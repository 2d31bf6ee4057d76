//! Opening a store that holds 100k objects: how long until it serves reads, and how long
//! the first full list takes (what an API server's cache fill costs at start).

use std::sync::Arc;
use std::time::{Duration, Instant};

use store::embedded::EmbeddedStore;
use store::{RangeOptions, Store};

use crate::throughput::value;
use crate::{dir_size, fmt, mib};

const OBJECTS: usize = 100_000;
const LOADERS: usize = 64;

pub async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let load_start = Instant::now();
    {
        let store: Arc<dyn Store> = EmbeddedStore::open(dir.path()).expect("open");
        let mut tasks = Vec::new();
        for w in 0..LOADERS {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in (w..OBJECTS).step_by(LOADERS) {
                    store
                        .create(&format!("/registry/pods/ns{}/pod-{i:06}", i % 100), value())
                        .await
                        .expect("create");
                }
            }));
        }
        for t in tasks {
            t.await.expect("loader");
        }
    }
    let load = load_start.elapsed();
    let mut opens = Vec::new();
    let mut lists = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let store = EmbeddedStore::open(dir.path()).expect("reopen");
        let first = store
            .get("/registry/pods/ns7/pod-000007")
            .await
            .expect("get");
        assert!(first.is_some());
        opens.push(t.elapsed());
        let t = Instant::now();
        let all = store
            .range("/registry/pods/", RangeOptions::default())
            .await
            .expect("range");
        assert_eq!(all.kvs.len(), OBJECTS);
        lists.push(t.elapsed());
    }
    let best = |v: &[Duration]| fmt(*v.iter().min().expect("runs"));
    println!("| objects | data size | load (64 writers) | open to first read | first full list |");
    println!("|---|---|---|---|---|");
    println!(
        "| {OBJECTS} | {} | {} ({:.0} writes/s) | {} | {} |",
        mib(dir_size(dir.path())),
        fmt(load),
        OBJECTS as f64 / load.as_secs_f64(),
        best(&opens),
        best(&lists)
    );
    println!();
    println!("(1 KiB values; best of 3 reopens, page cache warm)");
}
