//! Pod lifecycle on this node: a watcher over the pods bound here feeding one worker per
//! pod, orphan cleanup at start, and full teardown on shutdown.

pub mod labels;
pub mod resources;
pub mod spec;
pub mod status;
pub mod worker;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use apimachinery::events::Recorder;
use futures::StreamExt;
use k8s_cri::v1 as cri_api;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::cri::CriClient;
use crate::{Error, KubeletConfig};
use worker::{Context, Worker};

struct Handle {
    tx: watch::Sender<Option<Pod>>,
    task: tokio::task::JoinHandle<()>,
}

pub async fn run(
    client: kube::Client,
    cri: CriClient,
    config: KubeletConfig,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    let recorder = Recorder::new(client.clone(), "kubelet", Some(config.node_name.clone()));
    let node_name = config.node_name.clone();
    let ctx = Arc::new(Context {
        client: client.clone(),
        cri: cri.clone(),
        config,
        recorder,
    });
    let api: Api<Pod> = Api::all(client);
    let watch_config = watcher::Config::default().fields(&format!("spec.nodeName={node_name}"));
    let mut events = watcher::watcher(api, watch_config)
        .default_backoff()
        .boxed();
    let workers_stop = CancellationToken::new();
    let mut workers: HashMap<String, Handle> = HashMap::new();
    let mut listed: HashSet<String> = HashSet::new();
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => break,
            event = events.next() => event,
        };
        workers.retain(|_, h| !h.task.is_finished());
        let Some(event) = event else { break };
        match event {
            Ok(Event::Init) => listed.clear(),
            Ok(Event::InitApply(pod)) => {
                listed.extend(pod.metadata.uid.clone());
                dispatch(&ctx, &mut workers, &workers_stop, pod);
            }
            Ok(Event::InitDone) => {
                // Pods that vanished while the watch was down.
                for (uid, handle) in &workers {
                    if !listed.contains(uid) {
                        let _ = handle.tx.send(None);
                    }
                }
                remove_orphans(&cri, &listed).await;
            }
            Ok(Event::Apply(pod)) => dispatch(&ctx, &mut workers, &workers_stop, pod),
            Ok(Event::Delete(pod)) => {
                if let Some(handle) = pod.metadata.uid.as_ref().and_then(|uid| workers.get(uid)) {
                    let _ = handle.tx.send(None);
                }
            }
            Err(err) => tracing::warn!(%err, "pod watch failed; retrying"),
        }
    }
    // Shutdown: stop the workers first so none recreates a sandbox, then tear everything down.
    workers_stop.cancel();
    for (_, handle) in workers.drain() {
        let _ = handle.task.await;
    }
    remove_all(&cri).await;
    Ok(())
}

fn dispatch(
    ctx: &Arc<Context>,
    workers: &mut HashMap<String, Handle>,
    stop: &CancellationToken,
    pod: Pod,
) {
    let Some(uid) = pod.metadata.uid.clone() else {
        return;
    };
    if let Some(handle) = workers.get(&uid)
        && !handle.task.is_finished()
    {
        let _ = handle.tx.send(Some(pod));
        return;
    }
    let (tx, rx) = watch::channel(Some(pod));
    let worker = Worker::new(ctx.clone(), uid.clone());
    let task = tokio::spawn(worker.run(rx, stop.child_token()));
    workers.insert(uid, Handle { tx, task });
}

/// Removes sandboxes this kubelet created for pods that are no longer bound here.
async fn remove_orphans(cri: &CriClient, live: &HashSet<String>) {
    let selector = HashMap::from([(labels::MANAGED_BY.to_string(), "true".to_string())]);
    let Ok(sandboxes) = cri.clone().list_pod_sandboxes(selector).await else {
        return;
    };
    for sandbox in sandboxes {
        let uid = sandbox
            .labels
            .get(labels::POD_UID)
            .cloned()
            .unwrap_or_default();
        if !live.contains(&uid) {
            tracing::info!(sandbox = %sandbox.id, %uid, "removing sandbox of a pod no longer on this node");
            remove_sandbox(cri, &sandbox, 2).await;
        }
    }
}

/// Stops (with `grace` seconds) and removes one sandbox and its containers.
pub async fn remove_sandbox(cri: &CriClient, sandbox: &cri_api::PodSandbox, grace: i64) {
    let containers = cri
        .clone()
        .list_containers(&sandbox.id)
        .await
        .unwrap_or_default();
    let stops = containers
        .iter()
        .filter(|c| c.state == cri_api::ContainerState::ContainerRunning as i32)
        .map(|c| async move { cri.clone().stop_container(&c.id, grace).await });
    futures::future::join_all(stops).await;
    if let Err(err) = cri.clone().stop_pod_sandbox(&sandbox.id).await {
        tracing::warn!(sandbox = %sandbox.id, %err, "could not stop sandbox");
    }
    if let Err(err) = cri.clone().remove_pod_sandbox(&sandbox.id).await {
        tracing::warn!(sandbox = %sandbox.id, %err, "could not remove sandbox");
    }
}

/// Every sandbox this kubelet runs, stopped and removed (containers get 10 s to exit).
pub async fn remove_all(cri: &CriClient) {
    let selector = HashMap::from([(labels::MANAGED_BY.to_string(), "true".to_string())]);
    let Ok(sandboxes) = cri.clone().list_pod_sandboxes(selector).await else {
        return;
    };
    futures::future::join_all(sandboxes.iter().map(|s| remove_sandbox(cri, s, 10))).await;
}
