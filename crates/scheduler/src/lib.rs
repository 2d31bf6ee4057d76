//! The scheduler: binds each pending pod (schedulerName `default-scheduler`) to the feasible
//! node with the most free resources, or reports why no node fits.

pub mod filter;
pub mod message;
pub mod resources;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apimachinery::events::{EventType, Recorder, object_reference};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Binding, Node, ObjectReference, Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use filter::NodeInfo;

pub const SCHEDULER_NAME: &str = "default-scheduler";

/// How often a pod that fits nowhere is retried without any cluster change.
const RETRY: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
}

/// Whether this scheduler is responsible for the pod and it still needs a node.
pub fn needs_scheduling(pod: &Pod) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    let ours = spec
        .scheduler_name
        .as_deref()
        .is_none_or(|n| n.is_empty() || n == SCHEDULER_NAME);
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    ours && spec.node_name.as_deref().is_none_or(str::is_empty)
        && pod.metadata.deletion_timestamp.is_none()
        && phase != Some("Succeeded")
        && phase != Some("Failed")
        && spec.scheduling_gates.as_ref().is_none_or(|g| g.is_empty())
}

/// The outcome of one scheduling attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Bind(String),
    Unschedulable(String),
}

/// Filters and scores `nodes` (with the pods on them) for `pod`.
pub fn schedule_one(pod: &Pod, nodes: &[NodeInfo<'_>]) -> Decision {
    let mut best: Option<(i64, &str)> = None;
    let mut failures = Vec::new();
    for info in nodes {
        let reasons = filter::filter(pod, info);
        if !reasons.is_empty() {
            failures.push(reasons);
            continue;
        }
        let score = filter::score(pod, info);
        let name = info.node.metadata.name.as_deref().unwrap_or_default();
        // Highest score wins; ties go to the first node by name, so results are reproducible.
        let better = match best {
            None => true,
            Some((s, n)) => score > s || (score == s && name < n),
        };
        if better {
            best = Some((score, name));
        }
    }
    match best {
        Some((_, name)) => Decision::Bind(name.to_string()),
        None => Decision::Unschedulable(message::fit_error(&failures)),
    }
}

fn spawn_reflector<K>(api: Api<K>, changed: Arc<Notify>, shutdown: CancellationToken) -> Store<K>
where
    K: kube::Resource
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
{
    let (reader, writer) = reflector::store();
    // managedFields are never read here and would double the cache (upstream's informers
    // strip them too).
    let stream = reflector::reflector(
        writer,
        watcher(api, watcher::Config::default()).modify(|o: &mut K| {
            o.meta_mut().managed_fields = None;
        }),
    )
    .default_backoff();
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                item = stream.next() => match item {
                    Some(_) => changed.notify_one(),
                    None => break,
                },
            }
        }
    });
    reader
}

struct State {
    client: kube::Client,
    recorder: Recorder,
    /// Pods bound by us that the cache does not show bound yet: uid -> (node, pod).
    assumed: HashMap<String, (String, Pod)>,
    /// Last unschedulable message reported per pod uid, and when.
    reported: HashMap<String, (String, Instant)>,
}

pub async fn run(client: kube::Client, shutdown: CancellationToken) -> Result<(), Error> {
    let changed = Arc::new(Notify::new());
    let pods = spawn_reflector(
        Api::<Pod>::all(client.clone()),
        changed.clone(),
        shutdown.clone(),
    );
    let nodes = spawn_reflector(
        Api::<Node>::all(client.clone()),
        changed.clone(),
        shutdown.clone(),
    );
    tokio::select! {
        _ = shutdown.cancelled() => return Ok(()),
        _ = async { let _ = pods.wait_until_ready().await; let _ = nodes.wait_until_ready().await; } => {}
    }
    let mut state = State {
        client: client.clone(),
        recorder: Recorder::new(client, SCHEDULER_NAME, None),
        assumed: HashMap::new(),
        reported: HashMap::new(),
    };
    loop {
        schedule_pending(&mut state, &pods, &nodes).await;
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = changed.notified() => {}
            _ = tokio::time::sleep(RETRY) => {}
        }
        // Coalesce a burst of watch events into one pass.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One pass over the pending pods. The nodes' pods are gathered once per pass (not once per
/// pending pod) and each binding of the pass is added to them, so a pass costs
/// O(pods + pending x nodes) rather than O(pending x pods).
async fn schedule_pending(state: &mut State, pods: &Store<Pod>, nodes: &Store<Node>) {
    let all_pods = pods.state();
    let all_nodes = nodes.state();
    let unbound: HashSet<&str> = all_pods
        .iter()
        .filter(|p| needs_scheduling(p))
        .filter_map(|p| p.metadata.uid.as_deref())
        .collect();
    // Forget assumptions the cache has caught up with.
    state
        .assumed
        .retain(|uid, _| unbound.contains(uid.as_str()));
    let mut pending: Vec<Arc<Pod>> = all_pods
        .iter()
        .filter(|p| needs_scheduling(p))
        .filter(|p| {
            !state
                .assumed
                .contains_key(p.metadata.uid.as_deref().unwrap_or_default())
        })
        .cloned()
        .collect();
    let pending_uids: HashSet<&str> = pending
        .iter()
        .filter_map(|p| p.metadata.uid.as_deref())
        .collect();
    state
        .reported
        .retain(|uid, _| pending_uids.contains(uid.as_str()));
    pending.sort_by(|a, b| {
        let prio = |p: &Pod| p.spec.as_ref().and_then(|s| s.priority).unwrap_or(0);
        prio(b).cmp(&prio(a)).then_with(|| {
            a.metadata
                .creation_timestamp
                .cmp(&b.metadata.creation_timestamp)
        })
    });
    let assumed: Vec<(String, Pod)> = state.assumed.values().cloned().collect();
    let mut infos: Vec<NodeInfo<'_>> = all_nodes
        .iter()
        .map(|n| NodeInfo {
            node: n.as_ref(),
            pods: Vec::new(),
        })
        .collect();
    let index: HashMap<String, usize> = infos
        .iter()
        .enumerate()
        .filter_map(|(i, info)| Some((info.node.metadata.name.clone()?, i)))
        .collect();
    let bound = all_pods.iter().filter_map(|p| {
        let node = p
            .spec
            .as_ref()?
            .node_name
            .as_deref()
            .filter(|n| !n.is_empty())?;
        let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
        (phase != Some("Succeeded") && phase != Some("Failed")).then_some((node, p.as_ref()))
    });
    for (node, p) in bound.chain(assumed.iter().map(|(n, p)| (n.as_str(), p))) {
        if let Some(&i) = index.get(node) {
            infos[i].pods.push(p);
        }
    }
    for pod in &pending {
        match schedule_one(pod, &infos) {
            Decision::Bind(node) => {
                if bind(state, pod, &node).await
                    && let Some(&i) = index.get(&node)
                {
                    infos[i].pods.push(pod.as_ref());
                }
            }
            Decision::Unschedulable(msg) => report_unschedulable(state, pod, msg).await,
        }
    }
}

/// Binds `pod` to `node`; whether the binding was made.
async fn bind(state: &mut State, pod: &Pod, node: &str) -> bool {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let binding = Binding {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(ns.clone()),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        },
        target: ObjectReference {
            kind: Some("Node".into()),
            name: Some(node.to_string()),
            ..Default::default()
        },
    };
    let api: Api<Pod> = Api::namespaced(state.client.clone(), &ns);
    let result: Result<serde_json::Value, kube::Error> = api
        .create_subresource("binding", &name, &PostParams::default(), &binding)
        .await;
    match result {
        Ok(_) => {
            state.assumed.insert(
                pod.metadata.uid.clone().unwrap_or_default(),
                (node.to_string(), pod.clone()),
            );
            let reference = object_reference("v1", "Pod", &pod.metadata, None);
            state
                .recorder
                .record(
                    &reference,
                    EventType::Normal,
                    "Scheduled",
                    format!("Successfully assigned {ns}/{name} to {node}"),
                )
                .await;
            true
        }
        Err(err) => {
            tracing::info!(%err, pod = %name, node, "binding failed; will retry");
            false
        }
    }
}

async fn report_unschedulable(state: &mut State, pod: &Pod, msg: String) {
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    // Report again only when the reason changes or after a while, as upstream's backoff does.
    if let Some((last, at)) = state.reported.get(&uid)
        && *last == msg
        && at.elapsed() < Duration::from_secs(60)
    {
        return;
    }
    state.reported.insert(uid, (msg.clone(), Instant::now()));
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let mut conditions: Vec<PodCondition> = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let existing = conditions
        .iter()
        .find(|c| c.type_ == "PodScheduled")
        .cloned();
    let unchanged = existing.as_ref().is_some_and(|c| {
        c.status == "False"
            && c.reason.as_deref() == Some("Unschedulable")
            && c.message.as_deref() == Some(msg.as_str())
    });
    if !unchanged {
        let transition = existing
            .filter(|c| c.status == "False")
            .and_then(|c| c.last_transition_time)
            .unwrap_or_else(now);
        conditions.retain(|c| c.type_ != "PodScheduled");
        conditions.push(PodCondition {
            type_: "PodScheduled".into(),
            status: "False".into(),
            reason: Some("Unschedulable".into()),
            message: Some(msg.clone()),
            last_transition_time: Some(transition),
            last_probe_time: None,
            observed_generation: None,
        });
        let patch = serde_json::json!({"status": {"conditions": conditions}});
        let api: Api<Pod> = Api::namespaced(state.client.clone(), &ns);
        if let Err(err) = api
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            tracing::debug!(%err, pod = %name, "could not set PodScheduled condition");
        }
    }
    let reference = object_reference("v1", "Pod", &pod.metadata, None);
    state
        .recorder
        .record(&reference, EventType::Warning, "FailedScheduling", msg)
        .await;
}

fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::now())
}

#[cfg(test)]
mod tests {
    use super::filter::tests::{node, pod};
    use super::*;

    #[test]
    fn picks_least_requested_feasible_node() {
        let busy = node("busy", "2", "4Gi", true);
        let idle = node("idle", "2", "4Gi", true);
        let down = node("down", "8", "16Gi", false);
        let hog = pod("hog", Some("1500m"));
        let infos = vec![
            NodeInfo {
                node: &busy,
                pods: vec![&hog],
            },
            NodeInfo {
                node: &idle,
                pods: vec![],
            },
            NodeInfo {
                node: &down,
                pods: vec![],
            },
        ];
        assert_eq!(
            schedule_one(&pod("p", Some("100m")), &infos),
            Decision::Bind("idle".into())
        );
    }

    #[test]
    fn reports_insufficient_cpu() {
        let n = node("n1", "1", "4Gi", true);
        let infos = vec![NodeInfo {
            node: &n,
            pods: vec![],
        }];
        assert_eq!(
            schedule_one(&pod("p", Some("2")), &infos),
            Decision::Unschedulable(
                "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..".into()
            )
        );
    }

    #[test]
    fn only_unbound_default_scheduler_pods() {
        let mut p = pod("p", None);
        assert!(needs_scheduling(&p));
        if let Some(spec) = p.spec.as_mut() {
            spec.scheduler_name = Some("other".into());
        }
        assert!(!needs_scheduling(&p));
        let mut p = pod("p", None);
        if let Some(spec) = p.spec.as_mut() {
            spec.node_name = Some("n1".into());
        }
        assert!(!needs_scheduling(&p));
    }
}
