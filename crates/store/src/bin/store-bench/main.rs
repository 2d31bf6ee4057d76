//! `store-bench`: the same workloads against the embedded store and a real etcd, in one run.
//! etcd is started on loopback by the test fixture (`/usr/bin/etcd`, Debian package
//! `etcd-server`); without it only the embedded store is measured.
//!
//! Run: `make bench-store` (release build). Modes:
//! - `store-bench` (or `throughput`): basic operations, throughput and p50/p99 latency;
//! - `store-bench compaction`: write latency while a large history is compacted;
//! - `store-bench churn [SECONDS]`: data size over a steady churn with compaction running;
//! - `store-bench startup`: opening a store that holds 100k objects.

mod churn;
mod compaction;
mod startup;
mod throughput;

use std::sync::Arc;
use std::time::Duration;

use store::Store;
use store::embedded::EmbeddedStore;
use store::testing_etcd::EtcdFixture;

pub struct Row {
    pub workload: &'static str,
    pub backend: &'static str,
    pub ops: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
}

impl Row {
    pub fn percentile(&self, p: f64) -> Duration {
        percentile(&self.latencies, p)
    }

    pub fn throughput(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The `p` quantile (0..=1) of `latencies`; zero for none.
pub fn percentile(latencies: &[Duration], p: f64) -> Duration {
    let mut l = latencies.to_vec();
    l.sort_unstable();
    if l.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((l.len() as f64 - 1.0) * p).round() as usize;
    l[idx.min(l.len() - 1)]
}

pub fn fmt(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{} µs", d.as_micros())
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1000.0)
    }
}

/// Total size of the files below `dir`.
pub fn dir_size(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => total += dir_size(&e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// A fresh store of each backend: (name, store, its data directory).
pub struct Backends {
    pub embedded_dir: tempfile::TempDir,
    pub etcd: Option<EtcdFixture>,
}

impl Backends {
    /// A fresh directory for the embedded store and, if installed, a fresh etcd.
    pub fn start() -> Backends {
        Backends {
            embedded_dir: tempfile::tempdir().expect("tempdir"),
            etcd: EtcdFixture::start(),
        }
    }

    pub fn embedded(&self) -> Arc<dyn Store> {
        EmbeddedStore::open(self.embedded_dir.path()).expect("open embedded store")
    }

    pub async fn etcd(&self) -> Option<Arc<dyn Store>> {
        let etcd = self.etcd.as_ref()?;
        let store: Arc<dyn Store> = etcd.connect(1_572_864).await;
        Some(store)
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("throughput") => throughput::main().await,
        Some("compaction") => compaction::main().await,
        Some("churn") => {
            let seconds = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(120);
            churn::main(Duration::from_secs(seconds)).await
        }
        Some("startup") => startup::main().await,
        Some(other) => {
            eprintln!(
                "unknown mode {other:?}; modes: throughput, compaction, churn [SECONDS], startup"
            );
            std::process::exit(2);
        }
    }
}
