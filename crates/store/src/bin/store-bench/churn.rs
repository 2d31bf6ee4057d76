//! Disk use under steady churn: writers rewrite a fixed set of objects for a long time while
//! history older than `RETENTION` is compacted every tenth of it (what the API server's
//! compactor does). The data files' size is sampled throughout; bounded means the second
//! half of the run does not grow beyond the first half's peak by more than noise.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use store::embedded::EmbeddedStore;
use store::{Revision, Store};

use crate::throughput::value;
use crate::{Backends, dir_size, mib};

const KEYS: usize = 5_000;
const WRITERS: usize = 16;
const RETENTION: Duration = Duration::from_secs(10);
const SAMPLES: usize = 12;

struct Series {
    backend: &'static str,
    writes: u64,
    elapsed: Duration,
    sizes: Vec<u64>,
}

async fn run(
    store: Arc<dyn Store>,
    backend: &'static str,
    dir: PathBuf,
    duration: Duration,
) -> Series {
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (store, stop, writes) = (store.clone(), stop.clone(), writes.clone());
        tasks.push(tokio::spawn(async move {
            let mut keys: Vec<(String, Revision)> = Vec::new();
            for k in (w..KEYS).step_by(WRITERS) {
                let key = format!("/bench/churn/{k:06}");
                let rev = store
                    .create(&key, value())
                    .await
                    .expect("create")
                    .mod_revision;
                keys.push((key, rev));
            }
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let n = keys.len();
                let (key, rev) = &mut keys[i % n];
                *rev = store
                    .update(key, value(), *rev)
                    .await
                    .expect("update")
                    .mod_revision;
                writes.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    let compactor = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut samples: std::collections::VecDeque<(Instant, Revision)> = Default::default();
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(RETENTION / 10).await;
                let now = Instant::now();
                let mut point = None;
                while let Some(&(at, rev)) = samples.front() {
                    if now.duration_since(at) < RETENTION {
                        break;
                    }
                    point = Some(rev);
                    samples.pop_front();
                }
                if let Some(rev) = point {
                    store.compact(rev).await.expect("compact");
                }
                samples.push_back((now, store.current_revision().await.expect("revision")));
            }
        })
    };
    let start = Instant::now();
    let mut sizes = Vec::with_capacity(SAMPLES);
    for s in 1..=SAMPLES {
        tokio::time::sleep_until((start + duration * s as u32 / SAMPLES as u32).into()).await;
        sizes.push(dir_size(&dir));
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("writer");
    }
    compactor.await.expect("compactor");
    Series {
        backend,
        writes: writes.load(Ordering::Relaxed),
        elapsed: start.elapsed(),
        sizes,
    }
}

pub async fn main(duration: Duration) {
    let backends = Backends::start();
    let embedded = EmbeddedStore::open(backends.embedded_dir.path()).expect("open");
    let mut series = vec![
        run(
            embedded.clone(),
            "embedded",
            backends.embedded_dir.path().to_path_buf(),
            duration,
        )
        .await,
    ];
    let space = embedded.space().await.expect("space");
    drop(embedded);
    if let (Some(store), Some(etcd)) = (backends.etcd().await, &backends.etcd) {
        series.push(run(store, "etcd", etcd.data_dir(), duration).await);
    }
    print!("| backend | updates | updates/s |");
    for s in 1..=SAMPLES {
        print!(" {}s |", duration.as_secs() * s as u64 / SAMPLES as u64);
    }
    println!(" growth in 2nd half |");
    println!("|---|---|---|{}---|", "---|".repeat(SAMPLES));
    for s in series {
        let half = s.sizes.len() / 2;
        let first_peak = s.sizes[..half].iter().copied().max().unwrap_or(0);
        let last = s.sizes.last().copied().unwrap_or(0);
        print!(
            "| {} | {} | {:.0} |",
            s.backend,
            s.writes,
            s.writes as f64 / s.elapsed.as_secs_f64()
        );
        for size in &s.sizes {
            print!(" {} |", mib(*size));
        }
        println!(
            " {:+.1}% |",
            (last as f64 - first_peak as f64) * 100.0 / first_peak.max(1) as f64
        );
    }
    println!();
    println!(
        "embedded file at the end: {} allocated of which {} keys and values, {} metadata, {} \
         fragmented",
        mib(space.allocated_bytes),
        mib(space.stored_bytes),
        mib(space.metadata_bytes),
        mib(space.fragmented_bytes)
    );
    println!(
        "({KEYS} objects of 1 KiB rewritten by {WRITERS} writers for {}s; history older than \
         {}s compacted every {}s)",
        duration.as_secs(),
        RETENTION.as_secs(),
        (RETENTION / 10).as_secs_f64()
    );
}
