//! Printers of core/v1 kinds other than Pod.

use std::collections::BTreeSet;

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::{
    CONTAINERS_DESCRIPTION, Col, IMAGES_DESCRIPTION, age, arr, containers_images, format_labels, i,
    is_set, name, obj, opt_i, opt_s, or_default, parse_time, quantity, s,
    translate_timestamp_since,
};

pub(super) const POD_TEMPLATE: &[Col] = &[
    Col::name(),
    Col::new("Containers", "string", CONTAINERS_DESCRIPTION),
    Col::new("Images", "string", IMAGES_DESCRIPTION),
    Col::new("Pod Labels", "string", "The labels for the pod template."),
];

pub(super) fn pod_template(o: &Value, _now: Timestamp) -> Vec<Value> {
    let (names, images) = containers_images(o.pointer("/template/spec"));
    vec![
        json!(name(o)),
        json!(names),
        json!(images),
        json!(format_labels(obj(o, "/template/metadata/labels"))),
    ]
}

pub(super) const REPLICATION_CONTROLLER: &[Col] = &[
    Col::name(),
    Col::new(
        "Desired",
        "integer",
        "Replicas is the number of desired replicas.",
    ),
    Col::new(
        "Current",
        "integer",
        "Replicas is the most recently observed number of replicas.",
    ),
    Col::new(
        "Ready",
        "integer",
        "The number of ready replicas for this replication controller.",
    ),
    Col::age(),
    Col::wide("Containers", "string", CONTAINERS_DESCRIPTION),
    Col::wide("Images", "string", IMAGES_DESCRIPTION),
    Col::wide(
        "Selector",
        "string",
        "Selector is a label query over pods that should match the Replicas count.",
    ),
];

pub(super) fn replication_controller(o: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = containers_images(o.pointer("/spec/template/spec"));
    vec![
        json!(name(o)),
        json!(opt_i(o, "/spec/replicas").unwrap_or(1)),
        json!(i(o, "/status/replicas")),
        json!(i(o, "/status/readyReplicas")),
        json!(age(o, now)),
        json!(names),
        json!(images),
        json!(format_labels(obj(o, "/spec/selector"))),
    ]
}

pub(super) const SERVICE: &[Col] = &[
    Col::name(),
    Col::new(
        "Type",
        "string",
        "type determines how the Service is exposed.",
    ),
    Col::new(
        "Cluster-IP",
        "string",
        "clusterIP is the IP address of the service and is usually assigned randomly.",
    ),
    Col::new(
        "External-IP",
        "string",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
    ),
    Col::new(
        "Port(s)",
        "string",
        "The list of ports that are exposed by this service.",
    ),
    Col::age(),
    Col::wide(
        "Selector",
        "string",
        "Route service traffic to pods with label keys and values matching this selector.",
    ),
];

/// The EXTERNAL-IP cell (always the wide form: kube-apiserver never clips it).
fn service_external_ip(o: &Value, ty: &str) -> String {
    let external: Vec<&str> = arr(o, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match ty {
        "ClusterIP" | "NodePort" => {
            if external.is_empty() {
                "<none>".into()
            } else {
                external.join(",")
            }
        }
        "LoadBalancer" => {
            // Ingress points: IP, else hostname; de-duplicated and sorted.
            let lb: BTreeSet<&str> = arr(o, "/status/loadBalancer/ingress")
                .iter()
                .map(|i| or_default(s(i, "/ip"), s(i, "/hostname")))
                .filter(|v| !v.is_empty())
                .collect();
            let mut all: Vec<&str> = lb.into_iter().collect();
            if all.is_empty() && external.is_empty() {
                return "<pending>".into();
            }
            all.extend(external);
            all.join(",")
        }
        "ExternalName" => s(o, "/spec/externalName").to_string(),
        _ => "<unknown>".into(),
    }
}

pub(super) fn service(o: &Value, now: Timestamp) -> Vec<Value> {
    let ty = or_default(s(o, "/spec/type"), "ClusterIP");
    let cluster_ip = arr(o, "/spec/clusterIPs")
        .first()
        .and_then(Value::as_str)
        .unwrap_or_else(|| s(o, "/spec/clusterIP"));
    let ports: Vec<String> = arr(o, "/spec/ports")
        .iter()
        .map(|p| {
            let proto = or_default(s(p, "/protocol"), "TCP");
            let node_port = i(p, "/nodePort");
            if node_port > 0 {
                format!("{}:{node_port}/{proto}", i(p, "/port"))
            } else {
                format!("{}/{proto}", i(p, "/port"))
            }
        })
        .collect();
    vec![
        json!(name(o)),
        json!(ty),
        json!(or_default(cluster_ip, "<none>")),
        json!(service_external_ip(o, ty)),
        json!(if ports.is_empty() {
            "<none>".to_string()
        } else {
            ports.join(",")
        }),
        json!(age(o, now)),
        json!(format_labels(obj(o, "/spec/selector"))),
    ]
}

pub(super) const ENDPOINTS: &[Col] = &[
    Col::name(),
    Col::new(
        "Endpoints",
        "string",
        "The set of all endpoints is the union of all subsets.",
    ),
    Col::age(),
];

/// net.JoinHostPort: IPv6 addresses in brackets.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Up to three `ip:port` endpoints, then ` + N more...`; `<none>` without subsets.
fn format_endpoints(o: &Value) -> String {
    let subsets = arr(o, "/subsets");
    if subsets.is_empty() {
        return "<none>".into();
    }
    let mut items = Vec::new();
    for subset in subsets {
        let addresses = arr(subset, "/addresses");
        let ports = arr(subset, "/ports");
        if ports.is_empty() {
            // Headless services may have no ports.
            items.extend(addresses.iter().map(|a| s(a, "/ip").to_string()));
            continue;
        }
        for p in ports {
            for a in addresses {
                items.push(join_host_port(s(a, "/ip"), i(p, "/port")));
            }
        }
    }
    if items.len() > 3 {
        format!("{} + {} more...", items[..3].join(","), items.len() - 3)
    } else {
        items.join(",")
    }
}

pub(super) fn endpoints(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(format_endpoints(o)),
        json!(age(o, now)),
    ]
}

pub(super) const NODE: &[Col] = &[
    Col::name(),
    Col::new("Status", "string", "The status of the node"),
    Col::new("Roles", "string", "The roles of the node"),
    Col::age(),
    Col::new("Version", "string", "Kubelet Version reported by the node."),
    Col::wide(
        "Internal-IP",
        "string",
        "List of addresses reachable to the node.",
    ),
    Col::wide(
        "External-IP",
        "string",
        "List of addresses reachable to the node.",
    ),
    Col::wide(
        "OS-Image",
        "string",
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
    ),
    Col::wide(
        "Kernel-Version",
        "string",
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    ),
    Col::wide(
        "Container-Runtime",
        "string",
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
    ),
];

/// Roles from `node-role.kubernetes.io/<role>` keys and the `kubernetes.io/role` value.
fn node_roles(o: &Value) -> String {
    let mut roles = BTreeSet::new();
    if let Some(labels) = obj(o, "/metadata/labels") {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.insert(role.to_string());
                }
            } else if k == "kubernetes.io/role"
                && let Some(v) = v.as_str().filter(|v| !v.is_empty())
            {
                roles.insert(v.to_string());
            }
        }
    }
    if roles.is_empty() {
        "<none>".into()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    }
}

pub(super) fn node(o: &Value, now: Timestamp) -> Vec<Value> {
    // Only the Ready condition feeds STATUS; the last condition of a type wins, as in a map.
    let ready = arr(o, "/status/conditions")
        .iter()
        .rfind(|c| s(c, "/type") == "Ready");
    let mut status = vec![match ready.map(|c| s(c, "/status")) {
        Some("True") => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if o.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled");
    }
    let addr = |t: &str| {
        arr(o, "/status/addresses")
            .iter()
            .find(|a| s(a, "/type") == t)
            .map(|a| s(a, "/address").to_string())
            .unwrap_or_else(|| "<none>".into())
    };
    let info =
        |f: &str| or_default(s(o, &format!("/status/nodeInfo/{f}")), "<unknown>").to_string();
    vec![
        json!(name(o)),
        json!(status.join(",")),
        json!(node_roles(o)),
        json!(age(o, now)),
        json!(s(o, "/status/nodeInfo/kubeletVersion")),
        json!(addr("InternalIP")),
        json!(addr("ExternalIP")),
        json!(info("osImage")),
        json!(info("kernelVersion")),
        json!(info("containerRuntimeVersion")),
    ]
}

pub(super) const EVENT: &[Col] = &[
    Col::new(
        "Last Seen",
        "string",
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    Col::new(
        "Type",
        "string",
        "Type of this event (Normal, Warning), new types could be added in the future",
    ),
    Col::new(
        "Reason",
        "string",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    Col::new("Object", "string", "The object that this event is about."),
    Col::wide(
        "Subobject",
        "string",
        "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].",
    ),
    Col::wide(
        "Source",
        "string",
        "The component reporting this event. Should be a short machine understandable string.",
    ),
    Col::new(
        "Message",
        "string",
        "A human-readable description of the status of this operation.",
    ),
    Col::wide(
        "First Seen",
        "string",
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    ),
    Col::wide(
        "Count",
        "string",
        "The number of times this event has occurred.",
    ),
    Col::wide("Name", "string", super::NAME_DESCRIPTION).named(),
];

/// The fields of an Event, read from core/v1 or events.k8s.io/v1 JSON.
struct EventFields<'a> {
    regarding: Option<&'a Value>,
    message: &'a str,
    first: &'a str,
    last: &'a str,
    count: Option<i64>,
    component: &'a str,
    host: &'a str,
}

fn event_fields(o: &Value) -> EventFields<'_> {
    let new_api = s(o, "/apiVersion").starts_with("events.k8s.io/")
        || (o.get("involvedObject").is_none() && o.get("regarding").is_some());
    if new_api {
        EventFields {
            regarding: o.get("regarding"),
            message: s(o, "/note"),
            first: s(o, "/deprecatedFirstTimestamp"),
            last: s(o, "/deprecatedLastTimestamp"),
            count: opt_i(o, "/deprecatedCount"),
            component: s(o, "/deprecatedSource/component"),
            host: s(o, "/deprecatedSource/host"),
        }
    } else {
        EventFields {
            regarding: o.get("involvedObject"),
            message: s(o, "/message"),
            first: s(o, "/firstTimestamp"),
            last: s(o, "/lastTimestamp"),
            count: opt_i(o, "/count"),
            component: s(o, "/source/component"),
            host: s(o, "/source/host"),
        }
    }
}

pub(super) fn event(o: &Value, now: Timestamp) -> Vec<Value> {
    let f = event_fields(o);
    let first_seen = if parse_time(f.first).is_some() {
        translate_timestamp_since(f.first, now)
    } else {
        translate_timestamp_since(s(o, "/eventTime"), now)
    };
    let mut last_seen = if parse_time(f.last).is_some() {
        translate_timestamp_since(f.last, now)
    } else {
        first_seen.clone()
    };
    let mut count = f.count.unwrap_or(0);
    if is_set(o, "/series") {
        last_seen = translate_timestamp_since(s(o, "/series/lastObservedTime"), now);
        count = i(o, "/series/count");
    } else if count == 0 {
        // Singleton events of the new API carry no count.
        count = 1;
    }
    let kind = f
        .regarding
        .map(|r| s(r, "/kind"))
        .unwrap_or("")
        .to_lowercase();
    let regarding_name = f.regarding.map(|r| s(r, "/name")).unwrap_or("");
    let target = if regarding_name.is_empty() {
        kind
    } else {
        format!("{kind}/{regarding_name}")
    };
    let component = or_default(f.component, s(o, "/reportingController"));
    let instance = or_default(f.host, s(o, "/reportingInstance"));
    let source = if instance.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {instance}")
    };
    vec![
        json!(last_seen),
        json!(s(o, "/type")),
        json!(s(o, "/reason")),
        json!(target),
        json!(f.regarding.map(|r| s(r, "/fieldPath")).unwrap_or("")),
        json!(source),
        json!(f.message.trim()),
        json!(first_seen),
        json!(count),
        json!(name(o)),
    ]
}

pub(super) const NAMESPACE: &[Col] = &[
    Col::name(),
    Col::new("Status", "string", "The status of the namespace"),
    Col::age(),
];

pub(super) fn namespace(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(s(o, "/status/phase")),
        json!(age(o, now)),
    ]
}

pub(super) const SECRET: &[Col] = &[
    Col::name(),
    Col::new(
        "Type",
        "string",
        "Used to facilitate programmatic handling of secret data.",
    ),
    Col::new(
        "Data",
        "string",
        "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'.",
    ),
    Col::age(),
];

pub(super) fn secret(o: &Value, now: Timestamp) -> Vec<Value> {
    // stringData is merged into data on write; count the union in case it was kept apart.
    let mut keys: BTreeSet<&str> = BTreeSet::new();
    for field in ["/data", "/stringData"] {
        if let Some(m) = obj(o, field) {
            keys.extend(m.keys().map(String::as_str));
        }
    }
    vec![
        json!(name(o)),
        json!(s(o, "/type")),
        json!(keys.len()),
        json!(age(o, now)),
    ]
}

pub(super) const SERVICE_ACCOUNT: &[Col] = &[
    Col::name(),
    Col::new(
        "Secrets",
        "string",
        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
    ),
    Col::age(),
];

pub(super) fn service_account(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(arr(o, "/secrets").len()),
        json!(age(o, now)),
    ]
}

pub(super) const CONFIG_MAP: &[Col] = &[
    Col::name(),
    Col::new("Data", "string", "Data contains the configuration data."),
    Col::age(),
];

pub(super) fn config_map(o: &Value, now: Timestamp) -> Vec<Value> {
    let n = obj(o, "/data").map_or(0, |m| m.len()) + obj(o, "/binaryData").map_or(0, |m| m.len());
    vec![json!(name(o)), json!(n), json!(age(o, now))]
}

pub(super) const PERSISTENT_VOLUME: &[Col] = &[
    Col::name(),
    Col::new(
        "Capacity",
        "string",
        "capacity is the description of the persistent volume's resources and capacity.",
    ),
    Col::new(
        "Access Modes",
        "string",
        "accessModes contains all ways the volume can be mounted.",
    ),
    Col::new(
        "Reclaim Policy",
        "string",
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
    ),
    Col::new(
        "Status",
        "string",
        "phase indicates if a volume is available, bound to a claim, or released by a claim.",
    ),
    Col::new(
        "Claim",
        "string",
        "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
    ),
    Col::new("StorageClass", "string", "StorageClass of the pv"),
    Col::new(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pv",
    ),
    Col::new(
        "Reason",
        "string",
        "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
    ),
    Col::age(),
    Col::wide(
        "VolumeMode",
        "string",
        "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
    ),
];

/// GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, each once.
fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(m, _)| has(m))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

/// The storage class of a PV or PVC: the beta annotation wins over the field.
fn storage_class_of(o: &Value) -> &str {
    opt_s(
        o,
        "/metadata/annotations/volume.beta.kubernetes.io~1storage-class",
    )
    .unwrap_or_else(|| s(o, "/spec/storageClassName"))
}

/// A Quantity cell: absent quantities print as zero, like Go's zero Quantity.
fn quantity_or_zero(v: Option<&Value>) -> String {
    quantity(v).unwrap_or_else(|| "0".into())
}

pub(super) fn persistent_volume(o: &Value, now: Timestamp) -> Vec<Value> {
    let claim = match o.pointer("/spec/claimRef").filter(|c| !c.is_null()) {
        Some(c) => format!("{}/{}", s(c, "/namespace"), s(c, "/name")),
        None => String::new(),
    };
    let phase = if is_set(o, "/metadata/deletionTimestamp") {
        "Terminating"
    } else {
        s(o, "/status/phase")
    };
    vec![
        json!(name(o)),
        json!(quantity_or_zero(o.pointer("/spec/capacity/storage"))),
        json!(access_modes(arr(o, "/spec/accessModes"))),
        json!(s(o, "/spec/persistentVolumeReclaimPolicy")),
        json!(phase),
        json!(claim),
        json!(storage_class_of(o)),
        json!(opt_s(o, "/spec/volumeAttributesClassName").unwrap_or("<unset>")),
        json!(s(o, "/status/reason")),
        json!(age(o, now)),
        json!(opt_s(o, "/spec/volumeMode").unwrap_or("<unset>")),
    ]
}

pub(super) const PERSISTENT_VOLUME_CLAIM: &[Col] = &[
    Col::name(),
    Col::new(
        "Status",
        "string",
        "phase represents the current phase of PersistentVolumeClaim.",
    ),
    Col::new(
        "Volume",
        "string",
        "volumeName is the binding reference to the PersistentVolume backing this claim.",
    ),
    Col::new(
        "Capacity",
        "string",
        "capacity represents the actual resources of the underlying volume.",
    ),
    Col::new(
        "Access Modes",
        "string",
        "accessModes contains the actual access modes the volume backing the PVC has.",
    ),
    Col::new("StorageClass", "string", "StorageClass of the pvc"),
    Col::new(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pvc",
    ),
    Col::age(),
    Col::wide(
        "VolumeMode",
        "string",
        "volumeMode defines what type of volume is required by the claim.",
    ),
];

pub(super) fn persistent_volume_claim(o: &Value, now: Timestamp) -> Vec<Value> {
    let phase = if is_set(o, "/metadata/deletionTimestamp") {
        "Terminating"
    } else {
        s(o, "/status/phase")
    };
    let volume = s(o, "/spec/volumeName");
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity_or_zero(o.pointer("/status/capacity/storage")),
            access_modes(arr(o, "/status/accessModes")),
        )
    };
    vec![
        json!(name(o)),
        json!(phase),
        json!(volume),
        json!(capacity),
        json!(modes),
        json!(storage_class_of(o)),
        json!(opt_s(o, "/spec/volumeAttributesClassName").unwrap_or("<unset>")),
        json!(age(o, now)),
        json!(opt_s(o, "/spec/volumeMode").unwrap_or("<unset>")),
    ]
}

pub(super) const COMPONENT_STATUS: &[Col] = &[
    Col::name(),
    Col::new("Status", "string", "Status of the component conditions"),
    Col::new("Message", "string", "Message of the component conditions"),
    Col::new("Error", "string", "Error of the component conditions"),
];

pub(super) fn component_status(o: &Value, _now: Timestamp) -> Vec<Value> {
    let healthy = arr(o, "/conditions")
        .iter()
        .find(|c| s(c, "/type") == "Healthy");
    let (status, message, error) = match healthy {
        Some(c) => (
            if s(c, "/status") == "True" {
                "Healthy"
            } else {
                "Unhealthy"
            },
            s(c, "/message"),
            s(c, "/error"),
        ),
        None => ("Unknown", "", ""),
    };
    vec![json!(name(o)), json!(status), json!(message), json!(error)]
}

pub(super) const RESOURCE_QUOTA: &[Col] = &[
    Col::name(),
    Col::age(),
    Col::new(
        "Request",
        "string",
        "Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    Col::new(
        "Limit",
        "string",
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
];

pub(super) fn resource_quota(o: &Value, now: Timestamp) -> Vec<Value> {
    let mut requests = Vec::new();
    let mut limits = Vec::new();
    if let Some(hard) = obj(o, "/status/hard") {
        let mut names: Vec<&String> = hard.keys().collect();
        names.sort();
        for r in names {
            let used = quantity_or_zero(obj(o, "/status/used").and_then(|u| u.get(r.as_str())));
            let limit = quantity_or_zero(hard.get(r.as_str()));
            let entry = format!("{r}: {used}/{limit}");
            if r.starts_with("limits.") {
                limits.push(entry);
            } else {
                requests.push(entry);
            }
        }
    }
    vec![
        json!(name(o)),
        json!(age(o, now)),
        json!(requests.join(", ")),
        json!(limits.join(", ")),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{column_names, row};
    use serde_json::{Value, json};

    fn meta(name: &str) -> Value {
        json!({"name": name, "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"})
    }

    #[test]
    fn service_types_and_ports() {
        let svc = json!({"metadata": meta("web"), "spec": {"type": "NodePort", "clusterIP": "10.43.0.9",
            "clusterIPs": ["10.43.0.9"],
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
            "selector": {"app": "demo", "tier": "a"}}});
        assert_eq!(
            row("Service", svc),
            [
                json!("web"),
                json!("NodePort"),
                json!("10.43.0.9"),
                json!("<none>"),
                json!("80:30080/TCP,53/UDP"),
                json!("10m"),
                json!("app=demo,tier=a")
            ]
        );
        let headless = json!({"metadata": meta("db"), "spec": {"type": "ClusterIP", "clusterIP": "None",
            "clusterIPs": ["None"], "externalIPs": ["192.0.2.1", "192.0.2.2"]}});
        let c = row("Service", headless);
        assert_eq!(c[2], "None");
        assert_eq!(c[3], "192.0.2.1,192.0.2.2");
        assert_eq!(c[4], "<none>");
        assert_eq!(c[6], "<none>");
    }

    #[test]
    fn load_balancer_external_ip() {
        let lb = |status: Value, external: Value| {
            json!({"metadata": meta("lb"), "spec": {"type": "LoadBalancer", "clusterIP": "10.43.0.20",
                "externalIPs": external, "ports": [{"port": 443, "nodePort": 31443, "protocol": "TCP"}]},
                "status": status})
        };
        assert_eq!(row("Service", lb(json!({}), json!([])))[3], "<pending>");
        assert_eq!(
            row(
                "Service",
                lb(
                    json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "a-very-long-hostname.example.com"}]}}),
                    json!([])
                )
            )[3],
            "203.0.113.9,a-very-long-hostname.example.com"
        );
        assert_eq!(
            row(
                "Service",
                lb(
                    json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}]}}),
                    json!(["192.0.2.7"])
                )
            )[3],
            "203.0.113.9,192.0.2.7"
        );
        assert_eq!(
            row("Service", lb(json!({}), json!(["192.0.2.7"])))[3],
            "192.0.2.7"
        );
        let ext = json!({"metadata": meta("ext"), "spec": {"type": "ExternalName", "externalName": "example.com"}});
        let c = row("Service", ext);
        assert_eq!(c[2], "<none>");
        assert_eq!(c[3], "example.com");
    }

    #[test]
    fn endpoints_cells() {
        let ep = json!({"metadata": meta("web"), "subsets": [
            {"addresses": [{"ip": "10.42.0.5"}, {"ip": "10.42.0.6"}], "ports": [{"port": 8080}, {"port": 9090}]},
            {"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}
        ]});
        assert_eq!(
            row("Endpoints", ep)[1],
            "10.42.0.5:8080,10.42.0.6:8080,10.42.0.5:9090 + 2 more..."
        );
        let v6 = json!({"metadata": meta("v6"), "subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}]});
        assert_eq!(row("Endpoints", v6)[1], "[fd00::1]:80");
        let headless =
            json!({"metadata": meta("h"), "subsets": [{"addresses": [{"ip": "10.42.0.5"}]}]});
        assert_eq!(row("Endpoints", headless)[1], "10.42.0.5");
        assert_eq!(
            row("Endpoints", json!({"metadata": meta("e")}))[1],
            "<none>"
        );
        let not_ready = json!({"metadata": meta("n"), "subsets": [{"notReadyAddresses": [{"ip": "10.42.0.5"}], "ports": [{"port": 80}]}]});
        assert_eq!(row("Endpoints", not_ready)[1], "");
    }

    #[test]
    fn node_status_roles_and_wide() {
        let node = json!({"metadata": {"name": "node-1", "creationTimestamp": "2025-12-29T00:00:00Z",
                "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/master": "",
                           "kubernetes.io/role": "edge", "node-role.kubernetes.io/": "x"}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
                "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}, {"type": "Hostname", "address": "node-1"}],
                "nodeInfo": {"kubeletVersion": "v1.33.0-k8rs", "osImage": "Debian GNU/Linux 12 (bookworm)",
                    "kernelVersion": "6.1.0", "containerRuntimeVersion": "containerd://1.7.0"}}});
        assert_eq!(
            row("Node", node),
            [
                json!("node-1"),
                json!("Ready,SchedulingDisabled"),
                json!("control-plane,edge,master"),
                json!("3d"),
                json!("v1.33.0-k8rs"),
                json!("192.168.1.10"),
                json!("<none>"),
                json!("Debian GNU/Linux 12 (bookworm)"),
                json!("6.1.0"),
                json!("containerd://1.7.0")
            ]
        );
        let bare = json!({"metadata": {"name": "n2"}, "status": {}});
        let c = row("Node", bare);
        assert_eq!(c[1], "Unknown");
        assert_eq!(c[2], "<none>");
        assert_eq!(c[3], "<unknown>");
        assert_eq!(c[7], "<unknown>");
        let not_ready = json!({"metadata": {"name": "n3"}, "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}});
        assert_eq!(row("Node", not_ready)[1], "NotReady");
    }

    #[test]
    fn core_events() {
        assert_eq!(
            column_names("Event"),
            [
                "Last Seen",
                "Type",
                "Reason",
                "Object",
                "Subobject",
                "Source",
                "Message",
                "First Seen",
                "Count",
                "Name"
            ]
        );
        let ev = json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web-0.1811", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web-0", "fieldPath": "spec.containers{app}"},
            "reason": "Pulled", "message": "Container image already present on machine\n", "type": "Normal",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:08:00Z", "count": 3});
        assert_eq!(
            row("Event", ev),
            [
                json!("2m"),
                json!("Normal"),
                json!("Pulled"),
                json!("pod/web-0"),
                json!("spec.containers{app}"),
                json!("kubelet, node-1"),
                json!("Container image already present on machine"),
                json!("10m"),
                json!(3),
                json!("web-0.1811")
            ]
        );
        // New-style event: only eventTime, reporting controller, no count.
        let ev = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e2"},
            "involvedObject": {"kind": "Node", "name": "node-1"}, "reason": "Starting", "type": "Normal",
            "message": "", "eventTime": "2026-01-01T00:09:30.000000Z", "reportingComponent": "kubelet",
            "reportingController": "kubelet", "reportingInstance": "node-1"});
        let c = row("Event", ev);
        assert_eq!(c[0], "30s");
        assert_eq!(c[5], "kubelet, node-1");
        assert_eq!(c[7], "30s");
        assert_eq!(c[8], 1);
    }

    #[test]
    fn events_k8s_io_events_and_series() {
        let ev = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e3", "namespace": "default"},
            "eventTime": "2026-01-01T00:00:00.000000Z",
            "series": {"count": 7, "lastObservedTime": "2026-01-01T00:09:00.000000Z"},
            "reportingController": "default-scheduler", "reportingInstance": "default-scheduler-node-1",
            "action": "Scheduling", "reason": "FailedScheduling", "type": "Warning",
            "regarding": {"kind": "Pod", "name": "web-1", "namespace": "default"},
            "note": "0/1 nodes are available: 1 Insufficient cpu."});
        assert_eq!(
            row("Event", ev),
            [
                json!("60s"),
                json!("Warning"),
                json!("FailedScheduling"),
                json!("pod/web-1"),
                json!(""),
                json!("default-scheduler, default-scheduler-node-1"),
                json!("0/1 nodes are available: 1 Insufficient cpu."),
                json!("10m"),
                json!(7),
                json!("e3")
            ]
        );
        let no_name = json!({"apiVersion": "events.k8s.io/v1", "metadata": {"name": "e4"},
            "regarding": {"kind": "Node"}, "deprecatedCount": 2,
            "deprecatedFirstTimestamp": "2026-01-01T00:05:00Z", "deprecatedSource": {"component": "kubelet"}});
        let c = row("Event", no_name);
        assert_eq!(c[0], "5m");
        assert_eq!(c[3], "node");
        assert_eq!(c[5], "kubelet");
        assert_eq!(c[8], 2);
    }

    #[test]
    fn small_core_kinds() {
        let ns = json!({"metadata": {"name": "kube-system", "creationTimestamp": "2026-01-01T00:00:00Z"}, "status": {"phase": "Active"}});
        assert_eq!(
            row("Namespace", ns),
            [json!("kube-system"), json!("Active"), json!("10m")]
        );
        let sec = json!({"metadata": meta("tls"), "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}, "stringData": {"extra": "x"}});
        assert_eq!(
            row("Secret", sec),
            [
                json!("tls"),
                json!("kubernetes.io/tls"),
                json!(3),
                json!("10m")
            ]
        );
        let cm = json!({"metadata": meta("kube-root-ca.crt"), "data": {"ca.crt": "..."}, "binaryData": {"b": ""}});
        assert_eq!(
            row("ConfigMap", cm),
            [json!("kube-root-ca.crt"), json!(2), json!("10m")]
        );
        let sa = json!({"metadata": meta("default")});
        assert_eq!(
            row("ServiceAccount", sa),
            [json!("default"), json!(0), json!("10m")]
        );
        let cs = json!({"metadata": {"name": "etcd-0"}, "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}]});
        assert_eq!(
            row("ComponentStatus", cs),
            [json!("etcd-0"), json!("Healthy"), json!("ok"), json!("")]
        );
    }

    #[test]
    fn pod_template_and_replication_controller() {
        let pt = json!({"metadata": meta("tpl"), "template": {"metadata": {"labels": {"b": "2", "a": "1"}},
            "spec": {"containers": [{"name": "a", "image": "img-a"}, {"name": "b", "image": "img-b"}]}}});
        assert_eq!(
            row("PodTemplate", pt),
            [
                json!("tpl"),
                json!("a,b"),
                json!("img-a,img-b"),
                json!("a=1,b=2")
            ]
        );
        let rc = json!({"metadata": meta("rc"), "spec": {"replicas": 3, "selector": {"app": "x"},
            "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}},
            "status": {"replicas": 3, "readyReplicas": 2}});
        assert_eq!(
            row("ReplicationController", rc),
            [
                json!("rc"),
                json!(3),
                json!(3),
                json!(2),
                json!("10m"),
                json!("c"),
                json!("i"),
                json!("app=x")
            ]
        );
    }

    #[test]
    fn persistent_volumes_and_claims() {
        let pv = json!({"metadata": {"name": "pv-1", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "local",
                "claimRef": {"namespace": "default", "name": "data"}, "volumeMode": "Filesystem"},
            "status": {"phase": "Bound"}});
        assert_eq!(
            row("PersistentVolume", pv.clone()),
            [
                json!("pv-1"),
                json!("10Gi"),
                json!("RWO,RWX"),
                json!("Retain"),
                json!("Bound"),
                json!("default/data"),
                json!("local"),
                json!("<unset>"),
                json!(""),
                json!("10m"),
                json!("Filesystem")
            ]
        );
        let mut deleting = pv;
        deleting["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:09:00Z");
        deleting["metadata"]["annotations"] =
            json!({"volume.beta.kubernetes.io/storage-class": "beta"});
        let c = row("PersistentVolume", deleting);
        assert_eq!(c[4], "Terminating");
        assert_eq!(c[6], "beta");

        let pending = json!({"metadata": meta("data"), "spec": {"accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "local"},
            "status": {"phase": "Pending"}});
        assert_eq!(
            row("PersistentVolumeClaim", pending),
            [
                json!("data"),
                json!("Pending"),
                json!(""),
                json!(""),
                json!(""),
                json!("local"),
                json!("<unset>"),
                json!("10m"),
                json!("<unset>")
            ]
        );
        let bound = json!({"metadata": meta("data"), "spec": {"volumeName": "pv-1", "volumeMode": "Block",
            "volumeAttributesClassName": "gold"},
            "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOncePod", "ReadOnlyMany"]}});
        let c = row("PersistentVolumeClaim", bound);
        assert_eq!(c[2], "pv-1");
        assert_eq!(c[3], "10Gi");
        assert_eq!(c[4], "ROX,RWOP");
        assert_eq!(c[5], "");
        assert_eq!(c[6], "gold");
        assert_eq!(c[8], "Block");
    }

    #[test]
    fn resource_quota_splits_requests_and_limits() {
        let rq = json!({"metadata": meta("quota"),
            "status": {"hard": {"pods": "10", "requests.cpu": "1", "limits.memory": "2Gi", "limits.cpu": "2"},
                       "used": {"pods": "3", "requests.cpu": "500m", "limits.cpu": "1"}}});
        assert_eq!(
            row("ResourceQuota", rq),
            [
                json!("quota"),
                json!("10m"),
                json!("pods: 3/10, requests.cpu: 500m/1"),
                json!("limits.cpu: 1/2, limits.memory: 0/2Gi")
            ]
        );
    }
}
