//! The objects the benchmark writes: pods shaped like a Deployment's (labels, one container
//! with resources, env, ports, probes, a volume; ~2.5 KiB of JSON before defaulting), and
//! small ConfigMaps. Pods name their node (`spec.nodeName`), as if already scheduled.

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod};
use serde_json::{Value, json};

/// Label every benchmark object carries (for cleanup and selectors).
pub const APP_LABEL: &str = "k8rs-load";
/// Number of distinct `group` label values; label-selector watchers pick one.
pub const GROUPS: usize = 10;
/// Annotation holding the client's wall-clock time when it sent the write.
pub const SENT_AT_ANNOTATION: &str = "load.k8rs.io/sent-at";

/// The `group` label value of the `index`-th object.
pub fn group_of(index: usize) -> String {
    format!("g{}", index % GROUPS)
}

fn pod_json(namespace: &str, name: &str, index: usize, node: &str) -> Value {
    let group = group_of(index);
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                "app": APP_LABEL,
                "group": group,
                "pod-template-hash": "5d8f7c9b6d",
                "app.kubernetes.io/name": "load-web",
                "app.kubernetes.io/component": "frontend",
                "app.kubernetes.io/part-of": "k8rs-load",
            },
            "annotations": {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": "9090",
                "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z",
            },
        },
        "spec": {
            "nodeName": node,
            "terminationGracePeriodSeconds": 30,
            "containers": [{
                "name": "web",
                "image": "docker.io/k8rs/demo:0.1.0",
                "imagePullPolicy": "IfNotPresent",
                "args": ["--listen=:8080", "--metrics=:9090", "--log-format=json"],
                "ports": [
                    {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                    {"name": "metrics", "containerPort": 9090, "protocol": "TCP"},
                ],
                "env": [
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                    {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "LOG_LEVEL", "value": "info"},
                    {"name": "CACHE_SIZE_MB", "value": "64"},
                    {"name": "UPSTREAM_URL", "value": "http://backend.default.svc.cluster.local:8080/api/v1"},
                    {"name": "FEATURE_FLAGS", "value": "search,recommendations,new-checkout"},
                    {"name": "GOMAXPROCS", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1"}}},
                ],
                "resources": {
                    "requests": {"cpu": "10m", "memory": "16Mi"},
                    "limits": {"cpu": "500m", "memory": "256Mi"},
                },
                "readinessProbe": {
                    "httpGet": {"path": "/readyz", "port": "http", "scheme": "HTTP"},
                    "initialDelaySeconds": 2, "periodSeconds": 5, "timeoutSeconds": 1,
                    "successThreshold": 1, "failureThreshold": 3,
                },
                "livenessProbe": {
                    "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                    "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 1,
                    "successThreshold": 1, "failureThreshold": 3,
                },
                "volumeMounts": [{"name": "cache", "mountPath": "/var/cache/web"}],
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "readOnlyRootFilesystem": true,
                    "runAsNonRoot": true,
                    "runAsUser": 65532,
                    "capabilities": {"drop": ["ALL"]},
                },
            }],
            "volumes": [{"name": "cache", "emptyDir": {"sizeLimit": "128Mi"}}],
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            ],
        },
    })
}

/// A Deployment-like pod `name` in `namespace`, bound to `node`.
pub fn pod(namespace: &str, name: &str, index: usize, node: &str) -> Pod {
    // The JSON above is a valid Pod by construction; a mismatch is a bug in this file.
    serde_json::from_value(pod_json(namespace, name, index, node))
        .unwrap_or_else(|e| panic!("the benchmark's pod template is not a Pod: {e}"))
}

/// A small ConfigMap (about 1 KiB of data).
pub fn config_map(namespace: &str, name: &str, index: usize) -> ConfigMap {
    let value = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app": APP_LABEL, "group": group_of(index)},
        },
        "data": {
            "app.properties": "cache.size=64\nlog.level=info\nupstream=http://backend:8080\n".repeat(12),
            "feature-flags": "search,recommendations,new-checkout",
        },
    });
    serde_json::from_value(value)
        .unwrap_or_else(|e| panic!("the benchmark's ConfigMap template is not a ConfigMap: {e}"))
}

pub fn namespace(name: &str) -> Namespace {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"app": APP_LABEL}},
    }))
    .unwrap_or_else(|e| panic!("the benchmark's Namespace template is not a Namespace: {e}"))
}

/// A node object without a kubelet: Ready, with room for any number of pods.
pub fn node(name: &str) -> Node {
    serde_json::from_value(node_json(name))
        .unwrap_or_else(|e| panic!("the benchmark's Node template is not a Node: {e}"))
}

/// The status part of [`node`], for the status subresource.
pub fn node_status_patch() -> Value {
    json!({"status": node_json("").get("status").cloned().unwrap_or(Value::Null)})
}

fn node_json(name: &str) -> Value {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let capacity = json!({"cpu": "10000", "memory": "10Ti", "pods": "1000000"});
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"app": APP_LABEL, "kubernetes.io/hostname": name}},
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": [{
                "type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
                "lastHeartbeatTime": now, "lastTransitionTime": now,
            }],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_are_deployment_sized() {
        let p = pod("ns-1", "load-42", 42, "load-node-0");
        let bytes = serde_json::to_vec(&p).unwrap().len();
        assert!((2048..=3584).contains(&bytes), "pod is {bytes} bytes");
        let labels = p.metadata.labels.unwrap();
        assert_eq!(labels.get("group").map(String::as_str), Some("g2"));
        assert_eq!(p.spec.unwrap().node_name.as_deref(), Some("load-node-0"));
    }

    #[test]
    fn templates_parse() {
        assert_eq!(config_map("a", "b", 3).metadata.name.as_deref(), Some("b"));
        assert_eq!(namespace("x").metadata.name.as_deref(), Some("x"));
        let n = node("load-node-0");
        let ready = n.status.unwrap().conditions.unwrap();
        assert_eq!(ready.first().map(|c| c.status.as_str()), Some("True"));
        assert!(
            node_status_patch()
                .pointer("/status/allocatable/pods")
                .is_some()
        );
    }
}
