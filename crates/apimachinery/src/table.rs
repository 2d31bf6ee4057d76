//! Server-side printing: `meta.k8s.io/v1` Tables with kube-apiserver's columns for each kind
//! (pkg/printers/internalversion), and the default table for other types.

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use crate::selector::selector_string;

/// One column: name, type, format, description, priority (0 = default, 1 = `-o wide`).
struct Col(&'static str, &'static str, &'static str, u8);

fn columns(kind: &str) -> &'static [Col] {
    match kind {
        "Pod" => &[
            Col("Name", "string", "name", 0),
            Col("Ready", "string", "", 0),
            Col("Status", "string", "", 0),
            Col("Restarts", "string", "", 0),
            Col("Age", "string", "", 0),
            Col("IP", "string", "", 1),
            Col("Node", "string", "", 1),
            Col("Nominated Node", "string", "", 1),
            Col("Readiness Gates", "string", "", 1),
        ],
        "Node" => &[
            Col("Name", "string", "name", 0),
            Col("Status", "string", "", 0),
            Col("Roles", "string", "", 0),
            Col("Age", "string", "", 0),
            Col("Version", "string", "", 0),
            Col("Internal-IP", "string", "", 1),
            Col("External-IP", "string", "", 1),
            Col("OS-Image", "string", "", 1),
            Col("Kernel-Version", "string", "", 1),
            Col("Container-Runtime", "string", "", 1),
        ],
        "Namespace" => &[
            Col("Name", "string", "name", 0),
            Col("Status", "string", "", 0),
            Col("Age", "string", "", 0),
        ],
        "Service" => &[
            Col("Name", "string", "name", 0),
            Col("Type", "string", "", 0),
            Col("Cluster-IP", "string", "", 0),
            Col("External-IP", "string", "", 0),
            Col("Port(s)", "string", "", 0),
            Col("Age", "string", "", 0),
            Col("Selector", "string", "", 1),
        ],
        "Deployment" => &[
            Col("Name", "string", "name", 0),
            Col("Ready", "string", "", 0),
            Col("Up-to-date", "integer", "", 0),
            Col("Available", "integer", "", 0),
            Col("Age", "string", "", 0),
            Col("Containers", "string", "", 1),
            Col("Images", "string", "", 1),
            Col("Selector", "string", "", 1),
        ],
        "ReplicaSet" | "ReplicationController" => &[
            Col("Name", "string", "name", 0),
            Col("Desired", "integer", "", 0),
            Col("Current", "integer", "", 0),
            Col("Ready", "integer", "", 0),
            Col("Age", "string", "", 0),
            Col("Containers", "string", "", 1),
            Col("Images", "string", "", 1),
            Col("Selector", "string", "", 1),
        ],
        "Event" => &[
            Col("Last Seen", "string", "", 0),
            Col("Type", "string", "", 0),
            Col("Reason", "string", "", 0),
            Col("Object", "string", "", 0),
            Col("Subobject", "string", "", 1),
            Col("Source", "string", "", 1),
            Col("Message", "string", "", 0),
            Col("First Seen", "string", "", 1),
            Col("Count", "string", "", 1),
            Col("Name", "string", "", 1),
        ],
        "Endpoints" => &[
            Col("Name", "string", "name", 0),
            Col("Endpoints", "string", "", 0),
            Col("Age", "string", "", 0),
        ],
        "EndpointSlice" => &[
            Col("Name", "string", "name", 0),
            Col("AddressType", "string", "", 0),
            Col("Ports", "string", "", 0),
            Col("Endpoints", "string", "", 0),
            Col("Age", "string", "", 0),
        ],
        "Lease" => &[
            Col("Name", "string", "name", 0),
            Col("Holder", "string", "", 0),
            Col("Age", "string", "", 0),
        ],
        "ConfigMap" => &[
            Col("Name", "string", "name", 0),
            Col("Data", "string", "", 0),
            Col("Age", "string", "", 0),
        ],
        "Secret" => &[
            Col("Name", "string", "name", 0),
            Col("Type", "string", "", 0),
            Col("Data", "string", "", 0),
            Col("Age", "string", "", 0),
        ],
        "ServiceAccount" => &[
            Col("Name", "string", "name", 0),
            Col("Secrets", "string", "", 0),
            Col("Age", "string", "", 0),
        ],
        _ => &[
            Col("Name", "string", "name", 0),
            Col("Created At", "date", "", 0),
        ],
    }
}

/// Builds a Table from objects of one kind. `include_object` is `None`, `Metadata` (the
/// default) or `Object`. `list_meta` is the list's metadata (resourceVersion, continue).
pub fn build_table(
    kind: &str,
    objects: &[Value],
    include_object: &str,
    list_meta: Value,
    now: Timestamp,
) -> Value {
    let cols = columns(kind);
    let column_definitions: Vec<Value> = cols
        .iter()
        .map(|Col(name, ty, format, priority)| {
            json!({"name": name, "type": ty, "format": format, "description": column_description(name), "priority": priority})
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|obj| {
            let mut row = json!({ "cells": cells(kind, obj, now) });
            match include_object {
                "None" => {}
                "Object" => row["object"] = obj.clone(),
                _ => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
                    })
                }
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": column_definitions,
        "rows": rows,
    })
}

fn column_description(name: &str) -> &'static str {
    match name {
        "Name" => {
            "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
        }
        "Age" | "Created At" => {
            "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC."
        }
        _ => "",
    }
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn i(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

fn arr<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn or_none(s: String) -> String {
    if s.is_empty() { "<none>".into() } else { s }
}

fn age(obj: &Value, now: Timestamp) -> String {
    translate_timestamp_since(s(obj, "/metadata/creationTimestamp"), now)
}

/// `5m`, `3h12m`, `<unknown>` for a missing timestamp, as kubectl's translateTimestampSince.
pub fn translate_timestamp_since(ts: &str, now: Timestamp) -> String {
    match ts.parse::<Timestamp>() {
        Ok(t) => human_duration(now.as_second() - t.as_second()),
        Err(_) => "<unknown>".into(),
    }
}

/// apimachinery's `duration.HumanDuration` for a number of seconds.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

fn cells(kind: &str, o: &Value, now: Timestamp) -> Vec<Value> {
    let name = json!(s(o, "/metadata/name"));
    match kind {
        "Pod" => pod_cells(o, now),
        "Node" => node_cells(o, now),
        "Namespace" => vec![name, json!(s(o, "/status/phase")), json!(age(o, now))],
        "Service" => service_cells(o, now),
        "Deployment" => {
            let (containers, images) = containers_images(o);
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    i(o, "/status/readyReplicas"),
                    o.pointer("/spec/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1)
                )),
                json!(i(o, "/status/updatedReplicas")),
                json!(i(o, "/status/availableReplicas")),
                json!(age(o, now)),
                json!(containers),
                json!(images),
                json!(or_none(selector_string(
                    o.pointer("/spec/selector").unwrap_or(&Value::Null)
                ))),
            ]
        }
        "ReplicaSet" | "ReplicationController" => {
            let (containers, images) = containers_images(o);
            let selector = if kind == "ReplicaSet" {
                selector_string(o.pointer("/spec/selector").unwrap_or(&Value::Null))
            } else {
                map_string(o.pointer("/spec/selector"))
            };
            vec![
                name,
                json!(
                    o.pointer("/spec/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1)
                ),
                json!(i(o, "/status/replicas")),
                json!(i(o, "/status/readyReplicas")),
                json!(age(o, now)),
                json!(containers),
                json!(images),
                json!(or_none(selector)),
            ]
        }
        "Event" => event_cells(o, now),
        "Endpoints" => vec![name, json!(endpoints_string(o)), json!(age(o, now))],
        "EndpointSlice" => {
            let ports: Vec<String> = arr(o, "/ports")
                .iter()
                .map(|p| i(p, "/port").to_string())
                .collect();
            let addrs: Vec<String> = arr(o, "/endpoints")
                .iter()
                .flat_map(|e| {
                    arr(e, "/addresses")
                        .iter()
                        .filter_map(|a| a.as_str().map(String::from))
                })
                .collect();
            vec![
                name,
                json!(s(o, "/addressType")),
                json!(if ports.is_empty() {
                    "<unset>".to_string()
                } else {
                    ports.join(",")
                }),
                json!(limited_list(&addrs)),
                json!(age(o, now)),
            ]
        }
        "Lease" => vec![
            name,
            json!(s(o, "/spec/holderIdentity")),
            json!(age(o, now)),
        ],
        "ConfigMap" => {
            let n = o
                .get("data")
                .and_then(Value::as_object)
                .map_or(0, |m| m.len())
                + o.get("binaryData")
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.len());
            vec![name, json!(n), json!(age(o, now))]
        }
        "Secret" => {
            let n = o
                .get("data")
                .and_then(Value::as_object)
                .map_or(0, |m| m.len());
            vec![name, json!(s(o, "/type")), json!(n), json!(age(o, now))]
        }
        "ServiceAccount" => vec![name, json!(arr(o, "/secrets").len()), json!(age(o, now))],
        _ => vec![name, json!(s(o, "/metadata/creationTimestamp"))],
    }
}

fn map_string(v: Option<&Value>) -> String {
    let Some(m) = v.and_then(Value::as_object) else {
        return String::new();
    };
    let mut parts: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    parts.sort();
    parts.join(",")
}

fn containers_images(o: &Value) -> (String, String) {
    let cs = arr(o, "/spec/template/spec/containers");
    let names: Vec<&str> = cs.iter().map(|c| s(c, "/name")).collect();
    let images: Vec<&str> = cs.iter().map(|c| s(c, "/image")).collect();
    (names.join(","), images.join(","))
}

/// Up to three entries then `+ N more...`, as kubectl's endpoint formatting.
fn limited_list(items: &[String]) -> String {
    if items.is_empty() {
        return "<none>".into();
    }
    let mut out = items.iter().take(3).cloned().collect::<Vec<_>>().join(",");
    if items.len() > 3 {
        out.push_str(&format!(" + {} more...", items.len() - 3));
    }
    out
}

fn endpoints_string(o: &Value) -> String {
    let mut items = Vec::new();
    for subset in arr(o, "/subsets") {
        let ports = arr(subset, "/ports");
        for a in arr(subset, "/addresses") {
            let ip = s(a, "/ip");
            if ports.is_empty() {
                items.push(ip.to_string());
            } else {
                for p in ports {
                    items.push(format!("{ip}:{}", i(p, "/port")));
                }
            }
        }
    }
    limited_list(&items)
}

fn pod_cells(o: &Value, now: Timestamp) -> Vec<Value> {
    let containers = arr(o, "/spec/containers");
    let statuses = arr(o, "/status/containerStatuses");
    let mut restarts = 0;
    let mut ready = 0;
    let mut last_restart: Option<Timestamp> = None;
    let mut reason = {
        let r = s(o, "/status/reason");
        if r.is_empty() {
            s(o, "/status/phase").to_string()
        } else {
            r.to_string()
        }
    };

    // Init containers first: while one is not done, the pod shows Init:n/m or its reason.
    let inits = arr(o, "/spec/initContainers");
    let init_statuses = arr(o, "/status/initContainerStatuses");
    let mut initializing = false;
    for (idx, st) in init_statuses.iter().enumerate() {
        restarts += i(st, "/restartCount");
        if let Some(t) = st
            .pointer("/lastState/terminated/finishedAt")
            .and_then(Value::as_str)
            .and_then(|t| t.parse().ok())
        {
            last_restart = last_restart.max(Some(t));
        }
        let is_sidecar = inits
            .get(idx)
            .and_then(|c| c.get("restartPolicy"))
            .and_then(Value::as_str)
            == Some("Always");
        if st
            .pointer("/state/terminated/exitCode")
            .and_then(Value::as_i64)
            == Some(0)
        {
            continue;
        }
        if is_sidecar && st.get("started").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        if let Some(t) = st.pointer("/state/terminated") {
            let r = s(t, "/reason");
            reason = if !r.is_empty() {
                format!("Init:{r}")
            } else if i(t, "/signal") != 0 {
                format!("Init:Signal:{}", i(t, "/signal"))
            } else {
                format!("Init:ExitCode:{}", i(t, "/exitCode"))
            };
        } else if let Some(r) = st
            .pointer("/state/waiting/reason")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            reason = format!("Init:{r}");
        } else {
            reason = format!("Init:{}/{}", idx, inits.len());
        }
        initializing = true;
        break;
    }

    if !initializing {
        restarts = 0;
        let mut has_running = false;
        for st in statuses.iter().rev() {
            restarts += i(st, "/restartCount");
            if let Some(t) = st
                .pointer("/lastState/terminated/finishedAt")
                .and_then(Value::as_str)
                .and_then(|t| t.parse().ok())
            {
                last_restart = last_restart.max(Some(t));
            }
            if let Some(r) = st
                .pointer("/state/waiting/reason")
                .and_then(Value::as_str)
                .filter(|r| !r.is_empty())
            {
                reason = r.to_string();
            } else if let Some(t) = st.pointer("/state/terminated") {
                let r = s(t, "/reason");
                reason = if !r.is_empty() {
                    r.to_string()
                } else if i(t, "/signal") != 0 {
                    format!("Signal:{}", i(t, "/signal"))
                } else {
                    format!("ExitCode:{}", i(t, "/exitCode"))
                };
            } else if st.get("ready").and_then(Value::as_bool) == Some(true)
                && st.pointer("/state/running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = arr(o, "/status/conditions")
                .iter()
                .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True");
            reason = if pod_ready {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }

    if o.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        reason = if s(o, "/status/reason") == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }

    let restarts_cell = match last_restart {
        Some(t) if restarts > 0 => format!(
            "{restarts} ({} ago)",
            human_duration(now.as_second() - t.as_second())
        ),
        _ => restarts.to_string(),
    };
    let ip = {
        let ip = s(o, "/status/podIP");
        if ip.is_empty() { "<none>" } else { ip }
    };
    let node = {
        let n = s(o, "/spec/nodeName");
        if n.is_empty() { "<none>" } else { n }
    };
    let nominated = {
        let n = s(o, "/status/nominatedNodeName");
        if n.is_empty() { "<none>" } else { n }
    };
    let gates = arr(o, "/spec/readinessGates");
    let gates_cell = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conds = arr(o, "/status/conditions");
        let true_count = gates
            .iter()
            .filter(|g| {
                conds
                    .iter()
                    .any(|c| s(c, "/type") == s(g, "/conditionType") && s(c, "/status") == "True")
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };
    vec![
        json!(s(o, "/metadata/name")),
        json!(format!("{ready}/{}", containers.len())),
        json!(reason),
        json!(restarts_cell),
        json!(age(o, now)),
        json!(ip),
        json!(node),
        json!(nominated),
        json!(gates_cell),
    ]
}

fn node_cells(o: &Value, now: Timestamp) -> Vec<Value> {
    let mut status: Vec<String> = Vec::new();
    let ready = arr(o, "/status/conditions")
        .iter()
        .find(|c| s(c, "/type") == "Ready");
    status.push(match ready.map(|c| s(c, "/status")) {
        Some("True") => "Ready".into(),
        _ => "NotReady".into(),
    });
    if o.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled".into());
    }
    let mut roles: Vec<String> = selector_roles(o);
    roles.sort();
    let addr = |t: &str| {
        arr(o, "/status/addresses")
            .iter()
            .find(|a| s(a, "/type") == t)
            .map(|a| s(a, "/address").to_string())
            .unwrap_or_else(|| "<none>".into())
    };
    vec![
        json!(s(o, "/metadata/name")),
        json!(status.join(",")),
        json!(if roles.is_empty() {
            "<none>".into()
        } else {
            roles.join(",")
        }),
        json!(age(o, now)),
        json!(s(o, "/status/nodeInfo/kubeletVersion")),
        json!(addr("InternalIP")),
        json!(addr("ExternalIP")),
        json!(or_unknown(s(o, "/status/nodeInfo/osImage"))),
        json!(or_unknown(s(o, "/status/nodeInfo/kernelVersion"))),
        json!(or_unknown(s(o, "/status/nodeInfo/containerRuntimeVersion"))),
    ]
}

fn or_unknown(s: &str) -> String {
    if s.is_empty() {
        "<unknown>".into()
    } else {
        s.into()
    }
}

fn selector_roles(o: &Value) -> Vec<String> {
    let Some(labels) = o.pointer("/metadata/labels").and_then(Value::as_object) else {
        return vec![];
    };
    let mut roles = Vec::new();
    for (k, v) in labels {
        if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.push(role.to_string());
            }
        } else if k == "kubernetes.io/role"
            && let Some(v) = v.as_str().filter(|v| !v.is_empty())
        {
            roles.push(v.to_string());
        }
    }
    roles
}

fn service_cells(o: &Value, now: Timestamp) -> Vec<Value> {
    let ty = {
        let t = s(o, "/spec/type");
        if t.is_empty() { "ClusterIP" } else { t }
    };
    let cluster_ip = {
        let c = s(o, "/spec/clusterIP");
        if c.is_empty() { "<none>" } else { c }
    };
    let lb_ips: Vec<String> = arr(o, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| {
            let ip = s(i, "/ip");
            if ip.is_empty() {
                s(i, "/hostname").to_string()
            } else {
                ip.to_string()
            }
        })
        .collect();
    let external: Vec<String> = arr(o, "/spec/externalIPs")
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    let external_ip = match ty {
        "ClusterIP" | "NodePort" => {
            if external.is_empty() {
                "<none>".into()
            } else {
                external.join(",")
            }
        }
        "LoadBalancer" => {
            let mut all = lb_ips.clone();
            all.extend(external.iter().cloned());
            if all.is_empty() {
                "<pending>".into()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => s(o, "/spec/externalName").to_string(),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = arr(o, "/spec/ports")
        .iter()
        .map(|p| {
            let proto = {
                let pr = s(p, "/protocol");
                if pr.is_empty() { "TCP" } else { pr }
            };
            let np = i(p, "/nodePort");
            if np > 0 {
                format!("{}:{}/{}", i(p, "/port"), np, proto)
            } else {
                format!("{}/{}", i(p, "/port"), proto)
            }
        })
        .collect();
    vec![
        json!(s(o, "/metadata/name")),
        json!(ty),
        json!(cluster_ip),
        json!(external_ip),
        json!(if ports.is_empty() {
            "<none>".into()
        } else {
            ports.join(",")
        }),
        json!(age(o, now)),
        json!(or_none(map_string(o.pointer("/spec/selector")))),
    ]
}

fn event_cells(o: &Value, now: Timestamp) -> Vec<Value> {
    let first = {
        let f = s(o, "/firstTimestamp");
        if f.is_empty() { s(o, "/eventTime") } else { f }
    };
    let last = {
        let l = s(o, "/lastTimestamp");
        if l.is_empty() { first } else { l }
    };
    let count = o.get("count").and_then(Value::as_i64).unwrap_or(1);
    let last_seen = if count > 1 {
        format!(
            "{} (x{count} over {})",
            translate_timestamp_since(last, now),
            translate_timestamp_since(first, now)
        )
    } else {
        translate_timestamp_since(last, now)
    };
    let kind = s(o, "/involvedObject/kind").to_lowercase();
    let object = format!("{}/{}", kind, s(o, "/involvedObject/name"));
    let mut source = s(o, "/source/component").to_string();
    if source.is_empty() {
        source = s(o, "/reportingComponent").to_string();
    }
    let host = s(o, "/source/host");
    if !host.is_empty() {
        source = format!("{source}, {host}");
    }
    vec![
        json!(last_seen),
        json!(s(o, "/type")),
        json!(s(o, "/reason")),
        json!(object),
        json!(s(o, "/involvedObject/fieldPath")),
        json!(source),
        json!(s(o, "/message").trim()),
        json!(translate_timestamp_since(first, now)),
        json!(count),
        json!(s(o, "/metadata/name")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-01-01T00:10:00Z".parse().unwrap()
    }

    #[test]
    fn human_durations_match_upstream() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 60), "3h1m");
        assert_eq!(human_duration(30 * 3600), "30h");
        assert_eq!(human_duration(3 * 86400), "3d");
        assert_eq!(human_duration(-5), "<invalid>");
    }

    #[test]
    fn pod_row_running_and_terminating() {
        let pod = json!({
            "metadata": {"name": "p", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "c"}], "nodeName": "n1"},
            "status": {"phase": "Running", "podIP": "10.42.0.5",
                "containerStatuses": [{"name": "c", "ready": true, "restartCount": 0, "state": {"running": {}}}]}
        });
        let t = build_table("Pod", std::slice::from_ref(&pod), "None", json!({}), now());
        let cells = &t["rows"][0]["cells"];
        assert_eq!(cells[1], "1/1");
        assert_eq!(cells[2], "Running");
        assert_eq!(cells[4], "10m");
        assert_eq!(cells[5], "10.42.0.5");
        assert_eq!(t["columnDefinitions"].as_array().unwrap().len(), 9);
        let mut deleting = pod.clone();
        deleting["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:10:00Z");
        let t = build_table("Pod", &[deleting], "None", json!({}), now());
        assert_eq!(t["rows"][0]["cells"][2], "Terminating");
    }

    #[test]
    fn pod_row_waiting_reasons() {
        let pod = json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Pending",
                "containerStatuses": [{"name": "c", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]}
        });
        let t = build_table("Pod", &[pod], "None", json!({}), now());
        assert_eq!(t["rows"][0]["cells"][2], "ContainerCreating");
        assert_eq!(t["rows"][0]["cells"][1], "0/1");
    }

    #[test]
    fn service_row() {
        let svc = json!({"metadata": {"name": "s"}, "spec": {"type": "NodePort", "clusterIP": "10.43.0.9",
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}], "selector": {"app": "demo"}}});
        let t = build_table("Service", &[svc], "None", json!({}), now());
        let c = &t["rows"][0]["cells"];
        assert_eq!(c[3], "<none>");
        assert_eq!(c[4], "80:30080/TCP");
        assert_eq!(c[6], "app=demo");
    }

    #[test]
    fn metadata_is_embedded_by_default() {
        let obj = json!({"metadata": {"name": "x", "creationTimestamp": "2026-01-01T00:00:00Z"}});
        let t = build_table("Widget", &[obj], "Metadata", json!({}), now());
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(t["columnDefinitions"][1]["name"], "Created At");
    }
}
