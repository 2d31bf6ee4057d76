//! Phase 1, steady churn: `clients` concurrent clients together issue `qps` requests per
//! second for `duration`. Each client walks objects through their life — create, get,
//! patch, list its namespace, delete — alternating pods and ConfigMaps, like CL2's load
//! test mix of object operations, and every call's latency is recorded by verb/resource.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::time::MissedTickBehavior;

use crate::objects;
use crate::stats::{Key, Recorder, Samples};

#[derive(Debug, Clone)]
pub struct ChurnConfig {
    pub clients: usize,
    pub qps: f64,
    pub duration: Duration,
    pub namespaces: Vec<String>,
    pub node: String,
}

pub struct ChurnResult {
    pub samples: BTreeMap<Key, Samples>,
    pub elapsed: Duration,
    pub requests: usize,
}

/// Runs the churn; returns every call's latency.
pub async fn run(client: &kube::Client, cfg: &ChurnConfig) -> ChurnResult {
    let recorder = Arc::new(Recorder::default());
    let started = Instant::now();
    let deadline = started + cfg.duration;
    let tasks: Vec<_> = (0..cfg.clients)
        .map(|i| {
            let client = client.clone();
            let cfg = cfg.clone();
            let recorder = recorder.clone();
            tokio::spawn(async move { churn_client(i, client, cfg, recorder, deadline).await })
        })
        .collect();
    for task in tasks {
        if let Err(e) = task.await {
            eprintln!("churn client failed: {e}");
        }
    }
    let elapsed = started.elapsed();
    let samples = recorder.snapshot();
    let requests = samples
        .values()
        .map(|s| s.latencies.len() + s.errors as usize)
        .sum();
    ChurnResult {
        samples,
        elapsed,
        requests,
    }
}

async fn churn_client(
    index: usize,
    client: kube::Client,
    cfg: ChurnConfig,
    recorder: Arc<Recorder>,
    deadline: Instant,
) {
    let per_client_qps = cfg.qps / cfg.clients.max(1) as f64;
    let period = Duration::from_secs_f64(1.0 / per_client_qps.max(0.001));
    // Spread the clients' ticks over one period so the aggregate rate is smooth.
    tokio::time::sleep(period.mul_f64(index as f64 / cfg.clients.max(1) as f64)).await;
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut seq = 0usize;
    while Instant::now() < deadline {
        let Some(ns) = cfg
            .namespaces
            .get((index + seq) % cfg.namespaces.len().max(1))
        else {
            return;
        };
        let name = format!("churn-{index}-{seq}");
        if seq.is_multiple_of(2) {
            let api: Api<Pod> = Api::namespaced(client.clone(), ns);
            let pod = objects::pod(ns, &name, seq, &cfg.node);
            lifecycle(&api, &name, pod, "pods", &recorder, &mut tick).await;
        } else {
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
            let cm = objects::config_map(ns, &name, seq);
            lifecycle(&api, &name, cm, "configmaps", &recorder, &mut tick).await;
        }
        seq += 1;
    }
}

/// create → get → patch → list (namespace) → delete, one call per tick.
async fn lifecycle<K>(
    api: &Api<K>,
    name: &str,
    obj: K,
    resource: &'static str,
    recorder: &Recorder,
    tick: &mut tokio::time::Interval,
) where
    K: kube::Resource + Clone + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    tick.tick().await;
    let created = timed(
        recorder,
        Key::new("POST", resource, "namespace"),
        api.create(&PostParams::default(), &obj),
    )
    .await;
    if created.is_none() {
        return;
    }
    tick.tick().await;
    timed(
        recorder,
        Key::new("GET", resource, "resource"),
        api.get(name),
    )
    .await;
    tick.tick().await;
    let patch = json!({"metadata": {"annotations": {"load.k8rs.io/touched": chrono::Utc::now().to_rfc3339()}}});
    timed(
        recorder,
        Key::new("PATCH", resource, "resource"),
        api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)),
    )
    .await;
    tick.tick().await;
    timed(
        recorder,
        Key::new("LIST", resource, "namespace"),
        api.list(&ListParams::default()),
    )
    .await;
    tick.tick().await;
    let dp = DeleteParams {
        grace_period_seconds: Some(0),
        ..DeleteParams::default()
    };
    timed(
        recorder,
        Key::new("DELETE", resource, "resource"),
        api.delete(name, &dp),
    )
    .await;
    if resource == "pods" {
        // No kubelet finishes the graceful deletion of a bound pod: do it as one would
        // (a second zero-grace delete), untimed; NotFound means it is already gone.
        let _ = api.delete(name, &dp).await;
    }
}

/// Awaits `call`, records its latency (or error) under `key`, returns its value.
pub async fn timed<T>(
    recorder: &Recorder,
    key: Key,
    call: impl Future<Output = Result<T, kube::Error>>,
) -> Option<T> {
    let start = Instant::now();
    match call.await {
        Ok(v) => {
            recorder.record(key, Ok(start.elapsed()));
            Some(v)
        }
        Err(e) => {
            recorder.record(key, Err(short_error(&e)));
            None
        }
    }
}

/// An API error as `409 AlreadyExists: message`, other errors as their text.
pub fn short_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} {}: {}", s.code, s.reason, s.message),
        other => other.to_string(),
    }
}
