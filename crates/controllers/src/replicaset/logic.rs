//! The pure part of the ReplicaSet controller: which pods to delete first, and the status.

use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;

use crate::podutil;

/// Orders pods so that the ones cheapest to lose come first (upstream's `ActivePodsWithRanks`):
/// unscheduled before scheduled, Pending before Unknown before Running, not ready before ready,
/// pods sharing a node with more siblings first, ready for less time first, more restarts
/// first, and newer before older.
pub fn deletion_order(pods: &[Pod]) -> Vec<usize> {
    let mut per_node: HashMap<&str, usize> = HashMap::new();
    for pod in pods {
        if let Some(node) = node_of(pod) {
            *per_node.entry(node).or_default() += 1;
        }
    }
    let rank = |pod: &Pod| {
        node_of(pod)
            .and_then(|n| per_node.get(n))
            .copied()
            .unwrap_or(0)
    };
    let mut order: Vec<usize> = (0..pods.len()).collect();
    order
        .sort_by(|&a, &b| compare_for_deletion(&pods[a], rank(&pods[a]), &pods[b], rank(&pods[b])));
    order
}

fn node_of(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
}

fn phase_rank(pod: &Pod) -> u8 {
    match podutil::phase(pod) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    }
}

/// `Less` when `a` should be deleted before `b`.
fn compare_for_deletion(a: &Pod, rank_a: usize, b: &Pod, rank_b: usize) -> Ordering {
    let assigned = |p: &Pod| node_of(p).is_some();
    assigned(a)
        .cmp(&assigned(b))
        .then_with(|| phase_rank(a).cmp(&phase_rank(b)))
        .then_with(|| podutil::is_ready(a).cmp(&podutil::is_ready(b)))
        .then_with(|| rank_b.cmp(&rank_a))
        .then_with(|| {
            // Both ready: the one ready for less time goes first.
            let since = |p: &Pod| podutil::ready_since(p).flatten();
            match (since(a), since(b)) {
                (Some(x), Some(y)) => y.cmp(&x),
                _ => Ordering::Equal,
            }
        })
        .then_with(|| podutil::restarts(b).cmp(&podutil::restarts(a)))
        .then_with(|| {
            let created = |p: &Pod| {
                p.metadata
                    .creation_timestamp
                    .as_ref()
                    .map(crate::time::to_chrono)
            };
            created(b).cmp(&created(a))
        })
}

/// The status a ReplicaSet should report for its (active, owned) pods.
pub fn compute_status(rs: &ReplicaSet, pods: &[&Pod], now: DateTime<Utc>) -> ReplicaSetStatus {
    let spec = rs.spec.as_ref();
    let min_ready = spec.and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let template_labels = spec
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let fully_labeled = pods
        .iter()
        .filter(|p| {
            let labels = p.metadata.labels.as_ref();
            template_labels
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        })
        .count();
    let ready = pods.iter().filter(|p| podutil::is_ready(p)).count();
    let available = pods
        .iter()
        .filter(|p| podutil::is_available(p, min_ready, now))
        .count();
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    let non_zero = |n: usize| (n > 0).then(|| count(n));
    ReplicaSetStatus {
        replicas: count(pods.len()),
        fully_labeled_replicas: non_zero(fully_labeled),
        ready_replicas: non_zero(ready),
        available_replicas: non_zero(available),
        observed_generation: rs.metadata.generation,
        conditions: rs.status.as_ref().and_then(|s| s.conditions.clone()),
        terminating_replicas: None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    pub fn pod(name: &str, node: Option<&str>, phase: &str, ready: bool, created_secs: i64) -> Pod {
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                creation_timestamp: Some(crate::time::from_chrono(
                    t0 + chrono::Duration::seconds(created_secs),
                )),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: node.map(Into::into),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    last_transition_time: Some(crate::time::from_chrono(t0)),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        }
    }

    fn names(pods: &[Pod]) -> Vec<String> {
        deletion_order(pods)
            .into_iter()
            .map(|i| pods[i].metadata.name.clone().unwrap_or_default())
            .collect()
    }

    #[test]
    fn unscheduled_then_pending_then_not_ready_then_newest() {
        let pods = vec![
            pod("running-old", Some("n1"), "Running", true, 0),
            pod("running-new", Some("n2"), "Running", true, 10),
            pod("unscheduled", None, "Pending", false, 0),
            pod("pending", Some("n3"), "Pending", false, 0),
            pod("notready", Some("n4"), "Running", false, 0),
        ];
        assert_eq!(
            names(&pods),
            vec![
                "unscheduled",
                "pending",
                "notready",
                "running-new",
                "running-old"
            ]
        );
    }

    #[test]
    fn crowded_node_first() {
        let pods = vec![
            pod("alone", Some("n1"), "Running", true, 10),
            pod("crowd-a", Some("n2"), "Running", true, 0),
            pod("crowd-b", Some("n2"), "Running", true, 0),
        ];
        assert_eq!(names(&pods)[2], "alone");
    }

    #[test]
    fn status_counts() {
        let rs = ReplicaSet {
            metadata: ObjectMeta {
                generation: Some(4),
                ..Default::default()
            },
            ..Default::default()
        };
        let a = pod("a", Some("n"), "Running", true, 0);
        let b = pod("b", Some("n"), "Pending", false, 0);
        let status = compute_status(&rs, &[&a, &b], Utc::now());
        assert_eq!(status.replicas, 2);
        assert_eq!(status.ready_replicas, Some(1));
        assert_eq!(status.available_replicas, Some(1));
        assert_eq!(status.fully_labeled_replicas, Some(2));
        assert_eq!(status.observed_generation, Some(4));
    }
}
