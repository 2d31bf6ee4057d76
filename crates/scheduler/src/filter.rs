//! Filters (upstream's filter plugins) and scoring, over a snapshot of nodes and their pods.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration,
};

use crate::resources::{Resources, allocatable, pod_requests};

/// A node and the pods bound (or assumed bound) to it.
pub struct NodeInfo<'a> {
    pub node: &'a Node,
    pub pods: Vec<&'a Pod>,
}

/// Why a node does not fit; `resolvable` is false for reasons preemption cannot fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub message: String,
    pub resolvable: bool,
}

fn unresolvable(message: impl Into<String>) -> Reason {
    Reason {
        message: message.into(),
        resolvable: false,
    }
}

fn tolerates(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| {
        let effect_ok = t
            .effect
            .as_deref()
            .is_none_or(|e| e.is_empty() || e == taint.effect);
        let key_ok = t
            .key
            .as_deref()
            .is_none_or(|k| k.is_empty() || k == taint.key);
        let value_ok = match t.operator.as_deref() {
            Some("Exists") => true,
            _ => {
                t.value.as_deref().unwrap_or_default() == taint.value.as_deref().unwrap_or_default()
            }
        };
        effect_ok && key_ok && value_ok
    })
}

fn requirement_matches(req: &NodeSelectorRequirement, labels: &BTreeMap<String, String>) -> bool {
    let values = req.values.as_deref().unwrap_or_default();
    let current = labels.get(&req.key);
    match req.operator.as_str() {
        "In" => current.is_some_and(|v| values.contains(v)),
        "NotIn" => current.is_none_or(|v| !values.contains(v)),
        "Exists" => current.is_some(),
        "DoesNotExist" => current.is_none(),
        "Gt" | "Lt" => {
            let (Some(cur), Some(bound)) = (
                current.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|v| v.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if req.operator == "Gt" {
                cur > bound
            } else {
                cur < bound
            }
        }
        _ => false,
    }
}

fn term_matches(term: &NodeSelectorTerm, node: &Node) -> bool {
    let empty = BTreeMap::new();
    let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
    let exprs = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    let name = node.metadata.name.clone().unwrap_or_default();
    let field_labels = BTreeMap::from([("metadata.name".to_string(), name)]);
    exprs.iter().all(|r| requirement_matches(r, labels))
        && fields.iter().all(|r| requirement_matches(r, &field_labels))
}

/// nodeSelector and required node affinity.
pub fn matches_node_selector(pod: &Pod, node: &Node) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return true;
    };
    if let Some(sel) = spec.node_selector.as_ref() {
        let labels = node.metadata.labels.as_ref();
        if !sel
            .iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        {
            return false;
        }
    }
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    match required {
        None => true,
        Some(selector) => selector
            .node_selector_terms
            .iter()
            .any(|t| term_matches(t, node)),
    }
}

fn host_ports(pod: &Pod) -> Vec<(String, String, i32)> {
    pod.spec
        .iter()
        .flat_map(|s| {
            s.containers
                .iter()
                .chain(s.init_containers.iter().flatten())
        })
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let hp = p.host_port.filter(|hp| *hp > 0)?;
            let ip = p
                .host_ip
                .clone()
                .filter(|ip| !ip.is_empty())
                .unwrap_or_else(|| "0.0.0.0".into());
            Some((ip, p.protocol.clone().unwrap_or_else(|| "TCP".into()), hp))
        })
        .collect()
}

fn ports_conflict(a: &(String, String, i32), b: &(String, String, i32)) -> bool {
    a.2 == b.2 && a.1 == b.1 && (a.0 == b.0 || a.0 == "0.0.0.0" || b.0 == "0.0.0.0")
}

pub fn is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The sum of what the node's pods request.
pub fn requested(info: &NodeInfo<'_>, non_zero: bool) -> Resources {
    info.pods.iter().fold(Resources::default(), |acc, p| {
        let r = pod_requests(p, non_zero);
        Resources {
            milli_cpu: acc.milli_cpu.saturating_add(r.milli_cpu),
            memory: acc.memory.saturating_add(r.memory),
            pods: acc.pods + 1,
        }
    })
}

/// Runs every filter; returns all reasons the node does not fit (empty: it fits).
pub fn filter(pod: &Pod, info: &NodeInfo<'_>) -> Vec<Reason> {
    let node = info.node;
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.clone())
        .unwrap_or_default();
    let spec = node.spec.as_ref();

    // NodeUnschedulable.
    if spec.and_then(|s| s.unschedulable).unwrap_or(false) {
        let taint = Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        };
        if !tolerates(&tolerations, &taint) {
            return vec![unresolvable("node(s) were unschedulable")];
        }
    }
    // TaintToleration, with NotReady expressed as upstream's node lifecycle taint.
    let mut taints: Vec<Taint> = spec.and_then(|s| s.taints.clone()).unwrap_or_default();
    if !is_ready(node)
        && !taints
            .iter()
            .any(|t| t.key == "node.kubernetes.io/not-ready")
    {
        taints.push(Taint {
            key: "node.kubernetes.io/not-ready".into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        });
    }
    if let Some(t) = taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .find(|t| !tolerates(&tolerations, t))
    {
        return vec![unresolvable(format!(
            "node(s) had untolerated taint {{{}: {}}}",
            t.key,
            t.value.as_deref().unwrap_or_default()
        ))];
    }
    // NodeAffinity.
    if !matches_node_selector(pod, node) {
        return vec![unresolvable(
            "node(s) didn't match Pod's node affinity/selector",
        )];
    }
    let mut reasons = Vec::new();
    // NodePorts.
    let wanted = host_ports(pod);
    if !wanted.is_empty() {
        let used: Vec<_> = info.pods.iter().flat_map(|p| host_ports(p)).collect();
        if wanted
            .iter()
            .any(|w| used.iter().any(|u| ports_conflict(w, u)))
        {
            reasons.push(Reason {
                message: "node(s) didn't have free ports for the requested pod ports".into(),
                resolvable: true,
            });
        }
    }
    // NodeResourcesFit.
    let alloc = allocatable(node);
    let used = requested(info, false);
    let want = pod_requests(pod, false);
    if used.pods + 1 > alloc.pods {
        reasons.push(Reason {
            message: "Too many pods".into(),
            resolvable: true,
        });
    }
    if want.milli_cpu > 0 && want.milli_cpu > alloc.milli_cpu - used.milli_cpu {
        reasons.push(Reason {
            message: "Insufficient cpu".into(),
            resolvable: true,
        });
    }
    if want.memory > 0 && want.memory > alloc.memory - used.memory {
        reasons.push(Reason {
            message: "Insufficient memory".into(),
            resolvable: true,
        });
    }
    reasons
}

/// LeastAllocated score, 0..=100: the share of cpu and memory left free after placing the pod.
pub fn score(pod: &Pod, info: &NodeInfo<'_>) -> i64 {
    let alloc = allocatable(info.node);
    let used = requested(info, true);
    let want = pod_requests(pod, true);
    let free = |cap: i64, req: i64| {
        if cap <= 0 || req > cap {
            0
        } else {
            (cap - req) * 100 / cap
        }
    };
    (free(alloc.milli_cpu, used.milli_cpu + want.milli_cpu)
        + free(alloc.memory, used.memory + want.memory))
        / 2
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        Affinity, Container, ContainerPort, NodeAffinity, NodeCondition, NodeSelector, NodeSpec,
        NodeStatus, PodSpec, ResourceRequirements,
    };
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    pub fn node(name: &str, cpu: &str, mem: &str, ready: bool) -> Node {
        let alloc = BTreeMap::from([
            ("cpu".to_string(), Quantity(cpu.into())),
            ("memory".to_string(), Quantity(mem.into())),
            ("pods".to_string(), Quantity("110".into())),
        ]);
        Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(BTreeMap::from([(
                    "kubernetes.io/hostname".to_string(),
                    name.to_string(),
                )])),
                ..Default::default()
            },
            spec: Some(NodeSpec::default()),
            status: Some(NodeStatus {
                allocatable: Some(alloc),
                conditions: Some(vec![NodeCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        }
    }

    pub fn pod(name: &str, cpu: Option<&str>) -> Pod {
        let requests = cpu.map(|c| BTreeMap::from([("cpu".to_string(), Quantity(c.into()))]));
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    resources: Some(ResourceRequirements {
                        requests,
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: None,
        }
    }

    fn messages(r: Vec<Reason>) -> Vec<String> {
        r.into_iter().map(|r| r.message).collect()
    }

    #[test]
    fn resource_fit() {
        let n = node("n1", "2", "4Gi", true);
        let running = pod("a", Some("1500m"));
        let info = NodeInfo {
            node: &n,
            pods: vec![&running],
        };
        assert!(filter(&pod("b", Some("500m")), &info).is_empty());
        assert_eq!(
            messages(filter(&pod("b", Some("600m")), &info)),
            vec!["Insufficient cpu"]
        );
        assert!(filter(&pod("b", None), &info).is_empty());
    }

    #[test]
    fn taints_readiness_and_unschedulable() {
        let mut n = node("n1", "2", "4Gi", true);
        let info = |n: &Node| {
            filter(
                &pod("p", None),
                &NodeInfo {
                    node: n,
                    pods: vec![],
                },
            )
        };
        assert!(info(&n).is_empty());
        if let Some(spec) = n.spec.as_mut() {
            spec.taints = Some(vec![Taint {
                key: "dedicated".into(),
                value: Some("gpu".into()),
                effect: "NoSchedule".into(),
                ..Default::default()
            }]);
        }
        assert_eq!(
            messages(info(&n)),
            vec!["node(s) had untolerated taint {dedicated: gpu}"]
        );
        let mut tolerant = pod("p", None);
        if let Some(spec) = tolerant.spec.as_mut() {
            spec.tolerations = Some(vec![Toleration {
                key: Some("dedicated".into()),
                operator: Some("Equal".into()),
                value: Some("gpu".into()),
                effect: Some("NoSchedule".into()),
                ..Default::default()
            }]);
        }
        assert!(
            filter(
                &tolerant,
                &NodeInfo {
                    node: &n,
                    pods: vec![]
                }
            )
            .is_empty()
        );
        let not_ready = node("n2", "2", "4Gi", false);
        assert_eq!(
            messages(info(&not_ready)),
            vec!["node(s) had untolerated taint {node.kubernetes.io/not-ready: }"]
        );
        let mut cordoned = node("n3", "2", "4Gi", true);
        if let Some(spec) = cordoned.spec.as_mut() {
            spec.unschedulable = Some(true);
        }
        assert_eq!(
            messages(info(&cordoned)),
            vec!["node(s) were unschedulable"]
        );
    }

    #[test]
    fn node_selector_and_affinity() {
        let n = node("n1", "2", "4Gi", true);
        let mut p = pod("p", None);
        if let Some(spec) = p.spec.as_mut() {
            spec.node_selector = Some(BTreeMap::from([("disk".to_string(), "ssd".to_string())]));
        }
        assert_eq!(
            messages(filter(
                &p,
                &NodeInfo {
                    node: &n,
                    pods: vec![]
                }
            )),
            vec!["node(s) didn't match Pod's node affinity/selector"]
        );
        let mut p = pod("p", None);
        if let Some(spec) = p.spec.as_mut() {
            spec.affinity = Some(Affinity {
                node_affinity: Some(NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                        node_selector_terms: vec![NodeSelectorTerm {
                            match_expressions: Some(vec![NodeSelectorRequirement {
                                key: "kubernetes.io/hostname".into(),
                                operator: "NotIn".into(),
                                values: Some(vec!["n1".into()]),
                            }]),
                            match_fields: None,
                        }],
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        assert!(!matches_node_selector(&p, &n));
        assert!(matches_node_selector(&p, &node("n2", "1", "1Gi", true)));
    }

    #[test]
    fn host_port_conflict() {
        let n = node("n1", "2", "4Gi", true);
        let with_port = |name: &str| {
            let mut p = pod(name, None);
            if let Some(spec) = p.spec.as_mut() {
                spec.containers[0].ports = Some(vec![ContainerPort {
                    container_port: 80,
                    host_port: Some(8080),
                    ..Default::default()
                }]);
            }
            p
        };
        let a = with_port("a");
        let reasons = filter(
            &with_port("b"),
            &NodeInfo {
                node: &n,
                pods: vec![&a],
            },
        );
        assert_eq!(
            messages(reasons),
            vec!["node(s) didn't have free ports for the requested pod ports"]
        );
    }

    #[test]
    fn least_requested_prefers_emptier_node() {
        let big = node("big", "4", "8Gi", true);
        let small = node("small", "1", "1Gi", true);
        let p = pod("p", Some("100m"));
        assert!(
            score(
                &p,
                &NodeInfo {
                    node: &big,
                    pods: vec![]
                }
            ) > score(
                &p,
                &NodeInfo {
                    node: &small,
                    pods: vec![]
                }
            )
        );
    }
}
