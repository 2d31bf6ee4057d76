//! Throughput and latency of the basic operations: sequential and concurrent writes, point
//! reads, a 10k-key range and watch fan-out.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use store::{RangeOptions, Store};

use crate::{Backends, Row, fmt};

const VALUE_SIZE: usize = 1024;
const SEQ_WRITES: usize = 500;
const WRITERS: usize = 64;
const WRITES_PER_WRITER: usize = 40;
const READS: usize = 5000;
const RANGE_KEYS: usize = 10_000;
const RANGES: usize = 20;
const WATCHERS: usize = 100;
const WATCH_EVENTS: usize = 200;

pub fn value() -> Bytes {
    Bytes::from(vec![b'x'; VALUE_SIZE])
}

async fn seq_writes(store: &Arc<dyn Store>, backend: &'static str) -> Row {
    let mut latencies = Vec::with_capacity(SEQ_WRITES);
    let start = Instant::now();
    for i in 0..SEQ_WRITES {
        let t = Instant::now();
        store
            .create(&format!("/bench/seq/{i:08}"), value())
            .await
            .expect("create");
        latencies.push(t.elapsed());
    }
    Row {
        workload: "sequential writes (1 client)",
        backend,
        ops: SEQ_WRITES,
        elapsed: start.elapsed(),
        latencies,
    }
}

async fn concurrent_writes(store: &Arc<dyn Store>, backend: &'static str) -> Row {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut l = Vec::with_capacity(WRITES_PER_WRITER);
            for i in 0..WRITES_PER_WRITER {
                let t = Instant::now();
                store
                    .create(&format!("/bench/conc/{w:03}/{i:06}"), value())
                    .await
                    .expect("create");
                l.push(t.elapsed());
            }
            l
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("writer"));
    }
    Row {
        workload: "64 concurrent writers",
        backend,
        ops: WRITERS * WRITES_PER_WRITER,
        elapsed: start.elapsed(),
        latencies,
    }
}

async fn point_reads(store: &Arc<dyn Store>, backend: &'static str) -> Row {
    let mut latencies = Vec::with_capacity(READS);
    let start = Instant::now();
    for i in 0..READS {
        let key = format!("/bench/seq/{:08}", (i * 7919) % SEQ_WRITES);
        let t = Instant::now();
        store.get(&key).await.expect("get").expect("present");
        latencies.push(t.elapsed());
    }
    Row {
        workload: "point reads (1 client)",
        backend,
        ops: READS,
        elapsed: start.elapsed(),
        latencies,
    }
}

async fn ranges(store: &Arc<dyn Store>, backend: &'static str) -> Row {
    // Load 10k keys with 64 writers, then read them all in one range, repeatedly.
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..RANGE_KEYS).step_by(WRITERS) {
                store
                    .create(&format!("/bench/range/{i:08}"), value())
                    .await
                    .expect("create");
            }
        }));
    }
    for t in tasks {
        t.await.expect("loader");
    }
    let mut latencies = Vec::with_capacity(RANGES);
    let start = Instant::now();
    for _ in 0..RANGES {
        let t = Instant::now();
        let r = store
            .range("/bench/range/", RangeOptions::default())
            .await
            .expect("range");
        assert_eq!(r.kvs.len(), RANGE_KEYS);
        latencies.push(t.elapsed());
    }
    Row {
        workload: "range of 10k keys",
        backend,
        ops: RANGES,
        elapsed: start.elapsed(),
        latencies,
    }
}

async fn watch_fan_out(store: &Arc<dyn Store>, backend: &'static str) -> Row {
    let from = store.current_revision().await.expect("revision") + 1;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    let mut watchers = Vec::new();
    for _ in 0..WATCHERS {
        let mut stream = store.watch("/bench/watch/", from).await.expect("watch");
        let tx = tx.clone();
        watchers.push(tokio::spawn(async move {
            for _ in 0..WATCH_EVENTS {
                let ev = stream.next().await.expect("stream open").expect("event");
                let seq: usize = ev
                    .kv
                    .key
                    .rsplit('/')
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(usize::MAX);
                let _ = tx.send((seq, Instant::now()));
            }
        }));
    }
    drop(tx);
    let mut written = Vec::with_capacity(WATCH_EVENTS);
    let start = Instant::now();
    for i in 0..WATCH_EVENTS {
        store
            .create(&format!("/bench/watch/{i}"), value())
            .await
            .expect("create");
        written.push(Instant::now());
    }
    let mut latencies = Vec::with_capacity(WATCHERS * WATCH_EVENTS);
    while let Some((seq, at)) = rx.recv().await {
        if let Some(w) = written.get(seq) {
            latencies.push(at.saturating_duration_since(*w));
        }
    }
    for w in watchers {
        w.await.expect("watcher");
    }
    Row {
        workload: "watch fan-out (100 watchers)",
        backend,
        ops: WATCHERS * WATCH_EVENTS,
        elapsed: start.elapsed(),
        latencies,
    }
}

pub async fn run_all(store: Arc<dyn Store>, backend: &'static str) -> Vec<Row> {
    vec![
        seq_writes(&store, backend).await,
        concurrent_writes(&store, backend).await,
        point_reads(&store, backend).await,
        ranges(&store, backend).await,
        watch_fan_out(&store, backend).await,
    ]
}

pub async fn main() {
    let backends = Backends::start();
    let mut rows = run_all(backends.embedded(), "embedded").await;
    let etcd = backends.etcd().await;
    if let Some(store) = &etcd {
        rows.extend(run_all(store.clone(), "etcd").await);
    }
    println!("| workload | backend | ops | throughput (ops/s) | p50 | p99 |");
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.0} | {} | {} |",
            r.workload,
            r.backend,
            r.ops,
            r.throughput(),
            fmt(r.percentile(0.5)),
            fmt(r.percentile(0.99))
        );
    }
    if etcd.is_some() {
        println!();
        println!("| workload | embedded vs etcd throughput |");
        println!("|---|---|");
        for r in rows.iter().filter(|r| r.backend == "embedded") {
            if let Some(e) = rows
                .iter()
                .find(|e| e.backend == "etcd" && e.workload == r.workload)
            {
                println!(
                    "| {} | {:.1}x |",
                    r.workload,
                    r.throughput() / e.throughput()
                );
            }
        }
    }
}
