//! Fills the cluster with pods: `writers` concurrent clients create Deployment-like pods,
//! `per_namespace` to a namespace, until a target count or a deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::Api;
use kube::api::PostParams;

use crate::churn::{short_error, timed};
use crate::objects;
use crate::stats::{Key, Recorder, Samples};

/// How often progress is printed while loading.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

pub struct Loader {
    client: kube::Client,
    per_namespace: usize,
    node: String,
    /// The next pod index to create (indices of failed creates are skipped, not retried).
    next_index: usize,
    /// Pods created so far.
    pub count: usize,
    namespaces: usize,
    /// Stop loading when the server (this pid) uses more than this many KiB.
    rss_guard: Option<(u32, u64)>,
}

pub struct LoadResult {
    pub target: usize,
    pub reached: usize,
    pub elapsed: Duration,
    pub creates: Samples,
    pub timed_out: bool,
    /// Loading stopped because the server's memory passed the guard.
    pub memory_stop: bool,
}

impl LoadResult {
    pub fn pods_per_second(&self, added: usize) -> f64 {
        added as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

pub fn namespace_name(index: usize) -> String {
    format!("load-{index}")
}

impl Loader {
    pub fn new(
        client: kube::Client,
        per_namespace: usize,
        node: &str,
        rss_guard: Option<(u32, u64)>,
    ) -> Loader {
        Loader {
            client,
            per_namespace: per_namespace.max(1),
            node: node.to_string(),
            next_index: 0,
            count: 0,
            namespaces: 0,
            rss_guard,
        }
    }

    /// Namespaces in use so far.
    pub fn namespace_count(&self) -> usize {
        self.namespaces
    }

    /// Creates pods until `target` exist or `timeout` passes.
    pub async fn grow_to(
        &mut self,
        target: usize,
        writers: usize,
        timeout: Duration,
    ) -> LoadResult {
        let started = Instant::now();
        let deadline = started + timeout;
        let wanted = target.saturating_sub(self.count);
        let last_index = self.next_index + wanted;
        self.ensure_namespaces(last_index.div_ceil(self.per_namespace), writers)
            .await;

        let next = Arc::new(AtomicUsize::new(self.next_index));
        let created = Arc::new(AtomicUsize::new(0));
        let recorder = Arc::new(Recorder::default());
        let memory_stop = Arc::new(AtomicBool::new(false));
        let progress = tokio::spawn({
            let created = created.clone();
            let memory_stop = memory_stop.clone();
            let base = self.count;
            let guard = self.rss_guard;
            async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                let mut last_print = Instant::now();
                loop {
                    tick.tick().await;
                    if let Some((pid, limit)) = guard
                        && crate::memory::read(pid).is_ok_and(|m| m.rss_kib > limit)
                    {
                        eprintln!("  server RSS above {} MiB: stopping the load", limit / 1024);
                        memory_stop.store(true, Ordering::Relaxed);
                    }
                    if last_print.elapsed() >= PROGRESS_EVERY {
                        last_print = Instant::now();
                        let n = created.load(Ordering::Relaxed);
                        eprintln!(
                            "  loaded {} pods ({:.0} pods/s)",
                            base + n,
                            n as f64 / started.elapsed().as_secs_f64()
                        );
                    }
                }
            }
        });
        let tasks: Vec<_> = (0..writers.max(1))
            .map(|_| {
                let api_client = self.client.clone();
                let next = next.clone();
                let created = created.clone();
                let recorder = recorder.clone();
                let node = self.node.clone();
                let per_ns = self.per_namespace;
                let memory_stop = memory_stop.clone();
                tokio::spawn(async move {
                    let key = Key::new("POST", "pods", "namespace");
                    while Instant::now() < deadline && !memory_stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= last_index {
                            break;
                        }
                        let ns = namespace_name(i / per_ns);
                        let api: Api<Pod> = Api::namespaced(api_client.clone(), &ns);
                        let pod = objects::pod(&ns, &format!("load-{i}"), i, &node);
                        let done = timed(
                            &recorder,
                            key.clone(),
                            api.create(&PostParams::default(), &pod),
                        )
                        .await;
                        if done.is_some() {
                            created.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            if let Err(e) = t.await {
                eprintln!("loader task failed: {e}");
            }
        }
        progress.abort();
        self.next_index = next.load(Ordering::Relaxed).min(last_index);
        self.count += created.load(Ordering::Relaxed);
        let creates = recorder.snapshot().into_values().next().unwrap_or_default();
        LoadResult {
            target,
            reached: self.count,
            elapsed: started.elapsed(),
            creates,
            timed_out: self.count < target,
            memory_stop: memory_stop.load(Ordering::Relaxed),
        }
    }

    async fn ensure_namespaces(&mut self, wanted: usize, concurrency: usize) {
        if wanted <= self.namespaces {
            return;
        }
        let api: Api<Namespace> = Api::all(self.client.clone());
        let results: Vec<_> = futures::stream::iter(self.namespaces..wanted)
            .map(|i| {
                let api = api.clone();
                async move {
                    let ns = objects::namespace(&namespace_name(i));
                    match api.create(&PostParams::default(), &ns).await {
                        Ok(_) => Ok(()),
                        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
                        Err(e) => Err(short_error(&e)),
                    }
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        for e in results.into_iter().filter_map(Result::err) {
            eprintln!("  creating a namespace failed: {e}");
        }
        self.namespaces = wanted;
    }
}
