use serde_json::json;

use super::*;

fn hpa_v2() -> Value {
    json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default", "annotations": {"keep": "me"}},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [
                {"type": "Resource", "resource": {"name": "memory",
                    "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
                {"type": "Pods", "pods": {"metric": {"name": "qps"},
                    "target": {"type": "AverageValue", "averageValue": "10"}}},
                {"type": "External", "external": {"metric": {"name": "queue",
                    "selector": {"matchLabels": {"q": "a"}}},
                    "target": {"type": "Value", "value": "30"}}},
                {"type": "Object", "object": {"describedObject": {"apiVersion": "networking.k8s.io/v1",
                    "kind": "Ingress", "name": "main"}, "metric": {"name": "rps"},
                    "target": {"type": "Value", "value": "2k"}}},
                {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
                    "target": {"type": "Utilization", "averageUtilization": 70}}},
                {"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 55}}}
            ],
            "behavior": {
                "scaleDown": {"stabilizationWindowSeconds": 300, "selectPolicy": "Max",
                    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]},
                "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                    "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15}]}
            }
        },
        "status": {
            "observedGeneration": 1,
            "lastScaleTime": "2024-01-02T03:04:05Z",
            "currentReplicas": 3,
            "desiredReplicas": 4,
            "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu",
                    "current": {"averageUtilization": 48, "averageValue": "4m"}}},
                {"type": "Pods", "pods": {"metric": {"name": "qps"}, "current": {"averageValue": "7"}}}
            ],
            "conditions": [{"type": "AbleToScale", "status": "True",
                "lastTransitionTime": "2024-01-02T03:04:05Z", "reason": "ReadyForNewScale",
                "message": "recommended size matches current size"}]
        }
    })
}

#[test]
fn storage_versions() {
    assert_eq!(
        storage_version("autoscaling", "HorizontalPodAutoscaler"),
        Some(("autoscaling", "v2"))
    );
    assert_eq!(storage_version("events.k8s.io", "Event"), Some(("", "v1")));
    assert_eq!(storage_version("", "Event"), Some(("", "v1")));
    assert_eq!(storage_version("apps", "Deployment"), None);
}

#[test]
fn hpa_v2_reads_as_v1_with_annotations() {
    let v1 = from_storage("autoscaling", "v1", "HorizontalPodAutoscaler", hpa_v2());
    assert_eq!(v1["apiVersion"], "autoscaling/v1");
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 55);
    assert_eq!(v1["spec"]["minReplicas"], 2);
    assert!(v1["spec"].get("metrics").is_none());
    assert_eq!(v1["status"]["currentCPUUtilizationPercentage"], 48);
    assert!(v1["status"].get("currentMetrics").is_none());
    let ann = &v1["metadata"]["annotations"];
    assert_eq!(ann["keep"], "me");
    let metrics: Value = serde_json::from_str(ann[METRIC_SPECS_ANNOTATION].as_str().unwrap_or(""))
        .unwrap_or_default();
    // Every metric but the cpu utilization one, in the v1 (v2beta1) shape.
    assert_eq!(metrics.as_array().map(Vec::len), Some(5));
    assert_eq!(
        metrics[0],
        json!({"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "100Mi"}})
    );
    assert_eq!(
        metrics[2],
        json!({"type": "External", "external": {"metricName": "queue",
            "metricSelector": {"matchLabels": {"q": "a"}}, "targetValue": "30"}})
    );
    let current: Value =
        serde_json::from_str(ann[METRIC_STATUSES_ANNOTATION].as_str().unwrap_or(""))
            .unwrap_or_default();
    assert_eq!(
        current[0],
        json!({"type": "Resource", "resource": {"name": "cpu",
            "currentAverageUtilization": 48, "currentAverageValue": "4m"}})
    );
    let behavior: Value =
        serde_json::from_str(ann[BEHAVIOR_SPECS_ANNOTATION].as_str().unwrap_or(""))
            .unwrap_or_default();
    assert_eq!(behavior["ScaleDown"]["StabilizationWindowSeconds"], 300);
    assert_eq!(behavior["ScaleUp"]["Policies"][0]["Type"], "Pods");
    assert!(ann[CONDITIONS_ANNOTATION].as_str().is_some());
}

#[test]
fn hpa_v2_v1_v2_round_trip_preserves_everything() {
    let original = hpa_v2();
    let v1 = from_storage(
        "autoscaling",
        "v1",
        "HorizontalPodAutoscaler",
        original.clone(),
    );
    let back = to_storage("autoscaling", "v1", "HorizontalPodAutoscaler", v1);
    assert_eq!(back["apiVersion"], "autoscaling/v2");
    assert_eq!(back["metadata"], original["metadata"]);
    assert_eq!(back["spec"]["behavior"], original["spec"]["behavior"]);
    assert_eq!(back["status"], original["status"]);
    // The cpu utilization metric comes back last, as upstream orders it; the rest keep
    // their order.
    assert_eq!(back["spec"]["metrics"], original["spec"]["metrics"]);
    assert_eq!(
        back["spec"]["scaleTargetRef"],
        original["spec"]["scaleTargetRef"]
    );
}

#[test]
fn hpa_v1_v2_v1_round_trip_preserves_fields() {
    let v1 = json!({
        "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "minReplicas": 1, "maxReplicas": 5, "targetCPUUtilizationPercentage": 60},
        "status": {"currentReplicas": 1, "desiredReplicas": 2, "currentCPUUtilizationPercentage": 30}
    });
    let v2 = to_storage("autoscaling", "v1", "HorizontalPodAutoscaler", v1.clone());
    assert_eq!(
        v2["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 60}}}])
    );
    assert_eq!(
        v2["status"]["currentMetrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 30}}}])
    );
    let back = from_storage("autoscaling", "v1", "HorizontalPodAutoscaler", v2);
    assert_eq!(back["spec"], v1["spec"]);
    assert_eq!(back["status"], v1["status"]);
    // The raw current metric is kept in an annotation, as upstream does.
    assert!(back["metadata"]["annotations"][METRIC_STATUSES_ANNOTATION].is_string());
}

#[test]
fn hpa_v1_without_target_gets_the_default_cpu_metric() {
    let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3}});
    let v2 = to_storage("autoscaling", "v1", "HorizontalPodAutoscaler", v1);
    assert_eq!(
        v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        80
    );
    assert!(v2.get("status").is_none());
    assert!(v2["metadata"].get("annotations").is_none());
}

#[test]
fn hpa_v2_drops_stale_round_trip_annotations() {
    let mut v2 = hpa_v2();
    v2["metadata"]["annotations"][METRIC_SPECS_ANNOTATION] = json!("[]");
    let stored = to_storage("autoscaling", "v2", "HorizontalPodAutoscaler", v2);
    assert_eq!(stored["metadata"]["annotations"], json!({"keep": "me"}));
}

fn core_event() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "web.17a", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web", "uid": "u1",
                           "apiVersion": "v1", "fieldPath": "spec.containers{web}"},
        "related": {"kind": "Node", "name": "n1"},
        "reason": "Pulled",
        "message": "Successfully pulled image",
        "source": {"component": "kubelet", "host": "n1"},
        "firstTimestamp": "2024-01-02T03:04:05Z",
        "lastTimestamp": "2024-01-02T03:05:05Z",
        "count": 3,
        "type": "Normal",
        "eventTime": "2024-01-02T03:04:05.123456Z",
        "series": {"count": 2, "lastObservedTime": "2024-01-02T03:05:05.000000Z"},
        "action": "Pulling",
        "reportingComponent": "kubelet",
        "reportingInstance": "n1"
    })
}

#[test]
fn event_reads_as_events_k8s_io() {
    let e = from_storage("events.k8s.io", "v1", "Event", core_event());
    assert_eq!(e["apiVersion"], "events.k8s.io/v1");
    assert_eq!(e["regarding"]["name"], "web");
    assert_eq!(e["note"], "Successfully pulled image");
    assert_eq!(e["reportingController"], "kubelet");
    assert_eq!(e["reportingInstance"], "n1");
    assert_eq!(
        e["deprecatedSource"],
        json!({"component": "kubelet", "host": "n1"})
    );
    assert_eq!(e["deprecatedFirstTimestamp"], "2024-01-02T03:04:05Z");
    assert_eq!(e["deprecatedLastTimestamp"], "2024-01-02T03:05:05Z");
    assert_eq!(e["deprecatedCount"], 3);
    assert_eq!(e["series"]["count"], 2);
    for gone in [
        "involvedObject",
        "message",
        "source",
        "count",
        "reportingComponent",
    ] {
        assert!(e.get(gone).is_none(), "{gone}");
    }
}

#[test]
fn event_round_trip_core_events_core() {
    let e = from_storage("events.k8s.io", "v1", "Event", core_event());
    let back = to_storage("events.k8s.io", "v1", "Event", e);
    let mut expected = core_event();
    // Same fields; compare as maps (key order may differ).
    let sort = |v: &Value| -> std::collections::BTreeMap<String, Value> {
        v.as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    assert_eq!(sort(&back), sort(&expected));
    // Identity for the storage version itself.
    expected = from_storage("", "v1", "Event", expected);
    assert_eq!(sort(&expected), sort(&core_event()));
}

#[test]
fn other_kinds_are_identity() {
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 1}});
    assert_eq!(to_storage("apps", "v1", "Deployment", d.clone()), d);
    assert_eq!(from_storage("apps", "v1", "Deployment", d.clone()), d);
}
