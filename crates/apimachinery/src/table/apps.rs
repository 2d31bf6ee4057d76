//! Printers of apps/v1 kinds.

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::{
    CONTAINERS_DESCRIPTION, Col, IMAGES_DESCRIPTION, age, arr, containers_images,
    format_label_selector, format_labels, i, label_selector_string, name, obj, opt_b, opt_i, s,
};

pub(super) const REPLICA_SET: &[Col] = &[
    Col::name(),
    Col::new(
        "Desired",
        "integer",
        "Replicas is the number of desired pods.",
    ),
    Col::new(
        "Current",
        "integer",
        "Replicas is the most recently observed number of replicas.",
    ),
    Col::new(
        "Ready",
        "integer",
        "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
    ),
    Col::age(),
    Col::wide("Containers", "string", CONTAINERS_DESCRIPTION),
    Col::wide("Images", "string", IMAGES_DESCRIPTION),
    Col::wide(
        "Selector",
        "string",
        "Selector is a label query over pods that should match the replica count.",
    ),
];

fn replicas(o: &Value) -> i64 {
    opt_i(o, "/spec/replicas").unwrap_or(1)
}

pub(super) fn replica_set(o: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = containers_images(o.pointer("/spec/template/spec"));
    vec![
        json!(name(o)),
        json!(replicas(o)),
        json!(i(o, "/status/replicas")),
        json!(i(o, "/status/readyReplicas")),
        json!(age(o, now)),
        json!(names),
        json!(images),
        json!(format_label_selector(o.pointer("/spec/selector"))),
    ]
}

pub(super) const DEPLOYMENT: &[Col] = &[
    Col::name(),
    Col::new("Ready", "string", "Number of the pod with ready state"),
    Col::new(
        "Up-to-date",
        "string",
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    ),
    Col::new(
        "Available",
        "string",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    Col::age(),
    Col::wide("Containers", "string", CONTAINERS_DESCRIPTION),
    Col::wide("Images", "string", IMAGES_DESCRIPTION),
    Col::wide(
        "Selector",
        "string",
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
    ),
];

pub(super) fn deployment(o: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = containers_images(o.pointer("/spec/template/spec"));
    vec![
        json!(name(o)),
        json!(format!("{}/{}", i(o, "/status/readyReplicas"), replicas(o))),
        json!(i(o, "/status/updatedReplicas")),
        json!(i(o, "/status/availableReplicas")),
        json!(age(o, now)),
        json!(names),
        json!(images),
        // Deployments print the selector as is, without `<none>` for an empty one.
        json!(label_selector_string(o.pointer("/spec/selector"))),
    ]
}

pub(super) const STATEFUL_SET: &[Col] = &[
    Col::name(),
    Col::new("Ready", "string", "Number of the pod with ready state"),
    Col::age(),
    Col::wide("Containers", "string", CONTAINERS_DESCRIPTION),
    Col::wide("Images", "string", IMAGES_DESCRIPTION),
];

pub(super) fn stateful_set(o: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = containers_images(o.pointer("/spec/template/spec"));
    vec![
        json!(name(o)),
        json!(format!("{}/{}", i(o, "/status/readyReplicas"), replicas(o))),
        json!(age(o, now)),
        json!(names),
        json!(images),
    ]
}

pub(super) const DAEMON_SET: &[Col] = &[
    Col::name(),
    Col::new(
        "Desired",
        "integer",
        "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).",
    ),
    Col::new(
        "Current",
        "integer",
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
    ),
    Col::new(
        "Ready",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
    ),
    Col::new(
        "Up-to-date",
        "integer",
        "The total number of nodes that are running updated daemon pod",
    ),
    Col::new(
        "Available",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)",
    ),
    Col::new(
        "Node Selector",
        "string",
        "NodeSelector is a selector which must be true for the pod to fit on a node.",
    ),
    Col::age(),
    Col::wide("Containers", "string", CONTAINERS_DESCRIPTION),
    Col::wide("Images", "string", IMAGES_DESCRIPTION),
    Col::wide(
        "Selector",
        "string",
        "A label query over pods that are managed by the daemon set.",
    ),
];

pub(super) fn daemon_set(o: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = containers_images(o.pointer("/spec/template/spec"));
    vec![
        json!(name(o)),
        json!(i(o, "/status/desiredNumberScheduled")),
        json!(i(o, "/status/currentNumberScheduled")),
        json!(i(o, "/status/numberReady")),
        json!(i(o, "/status/updatedNumberScheduled")),
        json!(i(o, "/status/numberAvailable")),
        json!(format_labels(obj(o, "/spec/template/spec/nodeSelector"))),
        json!(age(o, now)),
        json!(names),
        json!(images),
        json!(format_label_selector(o.pointer("/spec/selector"))),
    ]
}

pub(super) const CONTROLLER_REVISION: &[Col] = &[
    Col::name(),
    Col::new("Controller", "string", "Controller of the object"),
    Col::new(
        "Revision",
        "string",
        "Revision indicates the revision of the state represented by Data.",
    ),
    Col::age(),
];

/// `kind.group/name` of the controlling owner (lower case), `<none>` without one.
fn controller_of(o: &Value) -> String {
    let Some(owner) = arr(o, "/metadata/ownerReferences")
        .iter()
        .find(|r| opt_b(r, "/controller") == Some(true))
    else {
        return "<none>".into();
    };
    let group = s(owner, "/apiVersion")
        .rsplit_once('/')
        .map(|(g, _)| g)
        .unwrap_or("");
    let kind = s(owner, "/kind");
    let group_kind = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    if group_kind.is_empty() {
        return s(owner, "/name").to_string();
    }
    format!("{}/{}", group_kind.to_lowercase(), s(owner, "/name"))
}

pub(super) fn controller_revision(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(controller_of(o)),
        json!(i(o, "/revision")),
        json!(age(o, now)),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::test_support::row;
    use serde_json::{Value, json};

    fn meta(name: &str) -> Value {
        json!({"name": name, "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"})
    }

    fn template() -> Value {
        json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "app", "image": "docker.io/k8rs/demo:0.1.0"}, {"name": "sidecar", "image": "busybox"}]}})
    }

    #[test]
    fn deployment_row() {
        let d = json!({"metadata": meta("web"), "spec": {"replicas": 3,
            "selector": {"matchLabels": {"app": "web"}}, "template": template()},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
        assert_eq!(
            row("Deployment", d),
            [
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("10m"),
                json!("app,sidecar"),
                json!("docker.io/k8rs/demo:0.1.0,busybox"),
                json!("app=web")
            ]
        );
        let fresh = json!({"metadata": meta("new"), "spec": {"template": template()}});
        let c = row("Deployment", fresh);
        assert_eq!(c[1], "0/1");
        assert_eq!(c[2], 0);
        assert_eq!(c[7], "");
    }

    #[test]
    fn replica_set_and_stateful_set_rows() {
        let rs = json!({"metadata": meta("web-5d8f"), "spec": {"replicas": 2,
            "selector": {"matchLabels": {"pod-template-hash": "5d8f", "app": "web"}}, "template": template()},
            "status": {"replicas": 2, "readyReplicas": 1}});
        assert_eq!(
            row("ReplicaSet", rs),
            [
                json!("web-5d8f"),
                json!(2),
                json!(2),
                json!(1),
                json!("10m"),
                json!("app,sidecar"),
                json!("docker.io/k8rs/demo:0.1.0,busybox"),
                json!("app=web,pod-template-hash=5d8f")
            ]
        );
        let sts = json!({"metadata": meta("db"), "spec": {"replicas": 3, "template": template()},
            "status": {"readyReplicas": 3}});
        assert_eq!(
            row("StatefulSet", sts),
            [
                json!("db"),
                json!("3/3"),
                json!("10m"),
                json!("app,sidecar"),
                json!("docker.io/k8rs/demo:0.1.0,busybox")
            ]
        );
    }

    #[test]
    fn daemon_set_row() {
        let mut tpl = template();
        tpl["spec"]["nodeSelector"] = json!({"kubernetes.io/os": "linux"});
        let ds = json!({"metadata": meta("proxy"), "spec": {"selector": {"matchLabels": {"app": "proxy"}}, "template": tpl},
            "status": {"desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 1,
                "updatedNumberScheduled": 2, "numberAvailable": 1}});
        assert_eq!(
            row("DaemonSet", ds),
            [
                json!("proxy"),
                json!(2),
                json!(2),
                json!(1),
                json!(2),
                json!(1),
                json!("kubernetes.io/os=linux"),
                json!("10m"),
                json!("app,sidecar"),
                json!("docker.io/k8rs/demo:0.1.0,busybox"),
                json!("app=proxy")
            ]
        );
        let bare =
            json!({"metadata": meta("d"), "spec": {"template": {"spec": {"containers": []}}}});
        let c = row("DaemonSet", bare);
        assert_eq!(c[6], "<none>");
        assert_eq!(c[10], "<none>");
    }

    #[test]
    fn controller_revision_row() {
        let cr = json!({"metadata": {"name": "proxy-7c9", "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "proxy", "controller": true, "uid": "u"}]},
            "revision": 2, "data": {}});
        assert_eq!(
            row("ControllerRevision", cr),
            [
                json!("proxy-7c9"),
                json!("daemonset.apps/proxy"),
                json!(2),
                json!("10m")
            ]
        );
        let orphan = json!({"metadata": meta("x"), "revision": 1});
        assert_eq!(row("ControllerRevision", orphan)[1], "<none>");
        let core_owner = json!({"metadata": {"name": "y", "ownerReferences": [
            {"apiVersion": "v1", "kind": "Pod", "name": "p", "controller": true}]}, "revision": 1});
        assert_eq!(row("ControllerRevision", core_owner)[1], "pod/p");
    }
}
