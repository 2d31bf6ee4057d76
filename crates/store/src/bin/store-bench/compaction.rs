//! Write latency while a large history is compacted. Each backend first builds a history
//! of `KEYS * ROUNDS` revisions; then writers keep updating while nothing else happens
//! (baseline) and while the whole history is compacted in one `compact` call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use store::{Revision, Store};

use crate::throughput::value;
use crate::{Backends, fmt, percentile};

const KEYS: usize = 2_000;
const ROUNDS: usize = 25;
const LOADERS: usize = 64;
const WRITERS: usize = 8;
const BASELINE: Duration = Duration::from_secs(3);

struct Result {
    backend: &'static str,
    history: i64,
    compaction: Duration,
    baseline: Vec<Duration>,
    during: Vec<Duration>,
}

/// Creates `KEYS` keys and updates each `ROUNDS - 1` times; returns each key's revision.
async fn build_history(store: &Arc<dyn Store>) -> Vec<(String, Revision)> {
    let mut tasks = Vec::new();
    for w in 0..LOADERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut keys = Vec::new();
            for k in (w..KEYS).step_by(LOADERS) {
                let key = format!("/bench/compact/{k:06}");
                let mut rev = store
                    .create(&key, value())
                    .await
                    .expect("create")
                    .mod_revision;
                for _ in 1..ROUNDS {
                    rev = store
                        .update(&key, value(), rev)
                        .await
                        .expect("update")
                        .mod_revision;
                }
                keys.push((key, rev));
            }
            keys
        }));
    }
    let mut keys = Vec::new();
    for t in tasks {
        keys.extend(t.await.expect("loader"));
    }
    keys
}

/// `WRITERS` tasks updating their share of `keys` until `stop`; returns their latencies.
async fn write_until(
    store: &Arc<dyn Store>,
    keys: &mut [(String, Revision)],
    stop: Arc<AtomicBool>,
) -> Vec<Duration> {
    let mut tasks = Vec::new();
    let chunk = keys.len().div_ceil(WRITERS);
    for part in keys.chunks(chunk) {
        let store = store.clone();
        let stop = stop.clone();
        let mut part = part.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let n = part.len();
                let (key, rev) = &mut part[i % n];
                let t = Instant::now();
                *rev = store
                    .update(key, value(), *rev)
                    .await
                    .expect("update")
                    .mod_revision;
                latencies.push(t.elapsed());
                i += 1;
            }
            (latencies, part)
        }));
    }
    let mut latencies = Vec::new();
    let mut updated = Vec::new();
    for t in tasks {
        let (l, part) = t.await.expect("writer");
        latencies.extend(l);
        updated.extend(part);
    }
    keys.clone_from_slice(&updated);
    latencies
}

async fn run(store: Arc<dyn Store>, backend: &'static str) -> Result {
    let mut keys = build_history(&store).await;
    let history = store.current_revision().await.expect("revision")
        - store.compacted_revision().await.expect("compacted");

    let stop = Arc::new(AtomicBool::new(false));
    let timer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(BASELINE).await;
            stop.store(true, Ordering::Relaxed);
        })
    };
    let baseline = write_until(&store, &mut keys, stop).await;
    timer.await.expect("timer");

    let target = store.current_revision().await.expect("revision");
    let stop = Arc::new(AtomicBool::new(false));
    let compactor = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            let t = Instant::now();
            store.compact(target).await.expect("compact");
            let took = t.elapsed();
            // Writers go on for at least as long as the baseline, so background work
            // (etcd's physical compaction) is measured too.
            tokio::time::sleep(BASELINE.saturating_sub(took)).await;
            stop.store(true, Ordering::Relaxed);
            took
        })
    };
    let during = write_until(&store, &mut keys, stop).await;
    let compaction = compactor.await.expect("compactor");
    Result {
        backend,
        history,
        compaction,
        baseline,
        during,
    }
}

pub async fn main() {
    let backends = Backends::start();
    let mut results = vec![run(backends.embedded(), "embedded").await];
    if let Some(etcd) = backends.etcd().await {
        results.push(run(etcd, "etcd").await);
    }
    println!(
        "| backend | history compacted (revisions) | compaction took | writes during | \
         write p50 / p99 / max, no compaction | write p50 / p99 / max, while compacting |"
    );
    println!("|---|---|---|---|---|---|");
    for r in results {
        let l = |v: &[Duration]| {
            format!(
                "{} / {} / {}",
                fmt(percentile(v, 0.5)),
                fmt(percentile(v, 0.99)),
                fmt(percentile(v, 1.0))
            )
        };
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.backend,
            r.history,
            fmt(r.compaction),
            r.during.len(),
            l(&r.baseline),
            l(&r.during)
        );
    }
    println!();
    println!(
        "({KEYS} keys x {ROUNDS} writes of 1 KiB; {WRITERS} writers updating throughout; the \
         second phase lasts at least as long as the baseline, since etcd compacts physically \
         in the background after its call returns)"
    );
}
