//! Phase 3, watch delivery latency: many concurrent watches of pods (cluster scope, some
//! with a label selector), then pods are created and patched at a fixed rate. For every
//! event a watcher receives, latency = receive time − the time the write was acknowledged
//! to its client (also reported from the time the write was sent). Events are matched to
//! writes by resourceVersion, so every watcher's every event is measured.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::Api;
use kube::api::{
    DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use serde_json::json;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::churn::short_error;
use crate::objects::{self, GROUPS, SENT_AT_ANNOTATION};
use crate::stats::Samples;

/// How long to wait for all watches to be established, and for late events.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Concurrent clients issuing the writes.
const WRITERS: usize = 10;

#[derive(Debug, Clone)]
pub struct WatchConfig {
    pub watchers: usize,
    /// How many of the watchers use a label selector (`group=gN`, a tenth of the pods).
    pub selector_watchers: usize,
    /// Pods created; each is then patched once, so 2 × writes events per cluster watcher.
    pub pods: usize,
    pub qps: f64,
    pub namespace: String,
    pub node: String,
}

pub struct WatchResult {
    pub cluster_from_ack: Samples,
    pub selector_from_ack: Samples,
    pub all_from_send: Samples,
    pub expected: usize,
    pub delivered: usize,
    pub writes: usize,
    pub write_errors: Vec<String>,
    pub watch_errors: Vec<String>,
    pub established_in: Duration,
}

/// A write the watchers should see.
#[derive(Clone, Copy)]
struct Write {
    group: usize,
    sent: Instant,
    acked: Instant,
}

/// What one watcher saw: resourceVersion and receive time of each event.
struct Receipts {
    group: Option<usize>,
    events: Vec<(String, Instant)>,
    errors: Vec<String>,
}

pub async fn run(client: &kube::Client, cfg: &WatchConfig) -> anyhow::Result<WatchResult> {
    let ns_api: Api<Namespace> = Api::all(client.clone());
    match ns_api
        .create(&PostParams::default(), &objects::namespace(&cfg.namespace))
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => anyhow::bail!("creating namespace {}: {}", cfg.namespace, short_error(&e)),
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), &cfg.namespace);
    let start_rv = pods
        .list(&ListParams::default().limit(1))
        .await
        .map_err(|e| anyhow::anyhow!("listing pods: {}", short_error(&e)))?
        .metadata
        .resource_version
        .unwrap_or_default();

    // Watchers.
    let stop = CancellationToken::new();
    let established = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(AtomicUsize::new(0));
    let setup_started = Instant::now();
    let watchers: Vec<_> = (0..cfg.watchers)
        .map(|i| {
            let group = (i < cfg.selector_watchers).then_some(i % GROUPS);
            tokio::spawn(watch_one(
                Api::all(client.clone()),
                group,
                start_rv.clone(),
                cfg.namespace.clone(),
                stop.clone(),
                established.clone(),
                received.clone(),
            ))
        })
        .collect();
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    while established.load(Ordering::Relaxed) < cfg.watchers && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let established_in = setup_started.elapsed();

    // Writes: create every pod, then patch every pod.
    let writes = Arc::new(Mutex::new(HashMap::<String, Write>::new()));
    let write_errors = Arc::new(Mutex::new(Vec::<String>::new()));
    for patch_round in [false, true] {
        let next = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                let pods = pods.clone();
                let cfg = cfg.clone();
                let next = next.clone();
                let writes = writes.clone();
                let write_errors = write_errors.clone();
                tokio::spawn(async move {
                    let period = Duration::from_secs_f64(WRITERS as f64 / cfg.qps.max(0.001));
                    tokio::time::sleep(period.mul_f64(w as f64 / WRITERS as f64)).await;
                    let mut tick = tokio::time::interval(period);
                    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= cfg.pods {
                            break;
                        }
                        tick.tick().await;
                        let name = format!("watch-{i}");
                        let now =
                            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
                        let sent = Instant::now();
                        let result = if patch_round {
                            let patch =
                                json!({"metadata": {"annotations": {SENT_AT_ANNOTATION: now}}});
                            pods.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                                .await
                        } else {
                            let mut pod = objects::pod(&cfg.namespace, &name, i, &cfg.node);
                            pod.metadata
                                .annotations
                                .get_or_insert_default()
                                .insert(SENT_AT_ANNOTATION.into(), now);
                            pods.create(&PostParams::default(), &pod).await
                        };
                        let acked = Instant::now();
                        match result {
                            Ok(p) => {
                                let rv = p.metadata.resource_version.unwrap_or_default();
                                let w = Write {
                                    group: i % GROUPS,
                                    sent,
                                    acked,
                                };
                                lock(&writes).insert(rv, w);
                            }
                            Err(e) => lock(&write_errors).push(short_error(&e)),
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            if let Err(e) = t.await {
                eprintln!("watch writer failed: {e}");
            }
        }
    }
    let writes = std::mem::take(&mut *lock(&writes));

    // Wait for the deliveries (or give up after the settle timeout), then stop watching.
    let per_group: Vec<usize> = (0..GROUPS)
        .map(|g| writes.values().filter(|w| w.group == g).count())
        .collect();
    let expected: usize = (0..cfg.watchers)
        .map(|i| {
            if i < cfg.selector_watchers {
                per_group.get(i % GROUPS).copied().unwrap_or(0)
            } else {
                writes.len()
            }
        })
        .sum();
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    while received.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.cancel();

    let mut result = WatchResult {
        cluster_from_ack: Samples::default(),
        selector_from_ack: Samples::default(),
        all_from_send: Samples::default(),
        expected,
        delivered: 0,
        writes: writes.len(),
        write_errors: std::mem::take(&mut *lock(&write_errors)),
        watch_errors: Vec::new(),
        established_in,
    };
    for w in watchers {
        let receipts = match w.await {
            Ok(r) => r,
            Err(e) => {
                result
                    .watch_errors
                    .push(format!("watcher task failed: {e}"));
                continue;
            }
        };
        result.watch_errors.extend(receipts.errors);
        for (rv, at) in receipts.events {
            let Some(write) = writes.get(&rv) else {
                continue;
            };
            result.delivered += 1;
            let from_ack = at.saturating_duration_since(write.acked);
            match receipts.group {
                Some(_) => result.selector_from_ack.record(Ok(from_ack)),
                None => result.cluster_from_ack.record(Ok(from_ack)),
            }
            result
                .all_from_send
                .record(Ok(at.saturating_duration_since(write.sent)));
        }
    }
    cleanup(&pods, cfg.pods).await;
    Ok(result)
}

async fn watch_one(
    api: Api<Pod>,
    group: Option<usize>,
    start_rv: String,
    namespace: String,
    stop: CancellationToken,
    established: Arc<AtomicUsize>,
    received: Arc<AtomicUsize>,
) -> Receipts {
    let mut receipts = Receipts {
        group,
        events: Vec::new(),
        errors: Vec::new(),
    };
    let mut wp = WatchParams::default().timeout(290);
    if let Some(g) = group {
        wp = wp.labels(&format!("group={}", objects::group_of(g)));
    }
    let stream = match api.watch(&wp, &start_rv).await {
        Ok(s) => s,
        Err(e) => {
            receipts
                .errors
                .push(format!("starting watch: {}", short_error(&e)));
            established.fetch_add(1, Ordering::Relaxed);
            return receipts;
        }
    };
    established.fetch_add(1, Ordering::Relaxed);
    let mut stream = std::pin::pin!(stream);
    loop {
        let item = tokio::select! {
            _ = stop.cancelled() => break,
            item = stream.next() => item,
        };
        let at = Instant::now();
        let pod = match item {
            None => {
                receipts
                    .errors
                    .push("watch ended before the phase did".into());
                break;
            }
            Some(Err(e)) => {
                receipts
                    .errors
                    .push(format!("watch stream: {}", short_error(&e)));
                break;
            }
            Some(Ok(WatchEvent::Added(p) | WatchEvent::Modified(p) | WatchEvent::Deleted(p))) => p,
            Some(Ok(WatchEvent::Bookmark(_))) => continue,
            Some(Ok(WatchEvent::Error(e))) => {
                receipts
                    .errors
                    .push(format!("watch error event: {} {}", e.code, e.message));
                break;
            }
        };
        if pod.metadata.namespace.as_deref() != Some(namespace.as_str()) {
            continue;
        }
        if let Some(rv) = pod.metadata.resource_version {
            receipts.events.push((rv, at));
            received.fetch_add(1, Ordering::Relaxed);
        }
    }
    receipts
}

/// Deletes the phase's pods (zero grace, twice: no kubelet finishes the deletion).
async fn cleanup(pods: &Api<Pod>, count: usize) {
    let dp = DeleteParams {
        grace_period_seconds: Some(0),
        ..DeleteParams::default()
    };
    futures::stream::iter(0..count)
        .for_each_concurrent(16, |i| {
            let pods = pods.clone();
            let dp = dp.clone();
            async move {
                let name = format!("watch-{i}");
                let _ = pods.delete(&name, &dp).await;
                let _ = pods.delete(&name, &dp).await;
            }
        })
        .await;
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
