//! Validation of built-in kinds with upstream's field paths and messages. This covers
//! metadata rules for every kind and the required fields of the kinds the walking skeleton
//! uses; deeper per-kind validation grows here.

use serde_json::Value;

use crate::selector::{from_label_selector_json, labels_of};
use crate::status::Cause;
use crate::validation::{
    dns1035_label, dns1123_label, dns1123_subdomain, label_value, qualified_name,
};

/// Validates `obj` of `kind`; returns the causes of an `Invalid` error.
pub fn validate(kind: &str, obj: &Value) -> Vec<Cause> {
    let mut causes = metadata(kind, obj);
    match kind {
        "Pod" => pod_spec(obj.get("spec"), "spec", &mut causes),
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => workload(obj, &mut causes),
        "Service" => service(obj, &mut causes),
        _ => {}
    }
    causes
}

fn metadata(kind: &str, obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.is_empty() {
        causes.push(Cause::required("metadata.name"));
    } else {
        let check = match kind {
            "Namespace" => dns1123_label(name),
            "Service" => dns1035_label(name),
            "Node" | "Event" | "Lease" | "EndpointSlice" | "Endpoints" | "ConfigMap" | "Secret" => {
                Ok(())
            }
            _ => dns1123_subdomain(name),
        };
        if let Err(msgs) = check {
            for m in msgs {
                causes.push(Cause::invalid("metadata.name", name, &m));
            }
        }
    }
    if let Some(labels) = obj.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            if let Err(msgs) = qualified_name(k) {
                for m in msgs {
                    causes.push(Cause::invalid("metadata.labels", k, &m));
                }
            }
            let v = v.as_str().unwrap_or_default();
            if let Err(msgs) = label_value(v) {
                for m in msgs {
                    causes.push(Cause::invalid("metadata.labels", v, &m));
                }
            }
        }
    }
    if let Some(ann) = obj
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        for k in ann.keys() {
            if let Err(msgs) = qualified_name(&k.to_lowercase()) {
                for m in msgs {
                    causes.push(Cause::invalid("metadata.annotations", k, &m));
                }
            }
        }
    }
    causes
}

fn pod_spec(spec: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array);
    match containers {
        None => causes.push(Cause::required(format!("{path}.containers"))),
        Some(cs) if cs.is_empty() => causes.push(Cause::required(format!("{path}.containers"))),
        Some(cs) => {
            let mut seen = Vec::new();
            for (i, c) in cs.iter().enumerate() {
                let p = format!("{path}.containers[{i}]");
                let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
                if name.is_empty() {
                    causes.push(Cause::required(format!("{p}.name")));
                } else if let Err(msgs) = dns1123_label(name) {
                    for m in msgs {
                        causes.push(Cause::invalid(format!("{p}.name"), name, &m));
                    }
                } else if seen.contains(&name) {
                    causes.push(Cause::duplicate(format!("{p}.name"), name));
                }
                seen.push(name);
                if c.get("image")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .trim()
                    .is_empty()
                {
                    causes.push(Cause::required(format!("{p}.image")));
                }
            }
        }
    }
}

fn workload(obj: &Value, causes: &mut Vec<Cause>) {
    let Some(selector) = obj.pointer("/spec/selector") else {
        causes.push(Cause::required("spec.selector"));
        return;
    };
    match from_label_selector_json(selector) {
        Ok(sel) if sel.is_empty() => causes.push(Cause::invalid(
            "spec.selector",
            "null",
            "empty selector is invalid for deployment",
        )),
        Ok(sel) => {
            let labels = obj
                .pointer("/spec/template")
                .map(labels_of)
                .unwrap_or_default();
            if !sel.matches(&labels) {
                let shown = serde_json::to_string(&labels).unwrap_or_default();
                causes.push(Cause::invalid(
                    "spec.template.metadata.labels",
                    &shown.replace('{', "map[").replace('}', "]"),
                    "`selector` does not match template `labels`",
                ));
            }
        }
        Err(e) => causes.push(Cause::invalid("spec.selector", "", &e)),
    }
    pod_spec(
        obj.pointer("/spec/template/spec"),
        "spec.template.spec",
        causes,
    );
}

fn service(obj: &Value, causes: &mut Vec<Cause>) {
    let ty = obj
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP");
    if !["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].contains(&ty) {
        causes.push(Cause::not_supported(
            "spec.type",
            ty,
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        ));
    }
    let ports = obj.pointer("/spec/ports").and_then(Value::as_array);
    let headless = obj.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None");
    if ty != "ExternalName" && !headless && ports.is_none_or(Vec::is_empty) {
        causes.push(Cause::required("spec.ports"));
    }
    for (i, p) in ports.into_iter().flatten().enumerate() {
        let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
        if !(1..=65535).contains(&port) {
            causes.push(Cause::invalid(
                format!("spec.ports[{i}].port"),
                &port.to_string(),
                "must be between 1 and 65535, inclusive",
            ));
        }
        if ports.is_some_and(|ps| ps.len() > 1)
            && p.get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .is_empty()
        {
            causes.push(Cause::required(format!("spec.ports[{i}].name")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_without_selector() {
        let d = json!({"metadata": {"name": "x"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}});
        let causes = validate("Deployment", &d);
        assert_eq!(causes, vec![Cause::required("spec.selector")]);
    }

    #[test]
    fn pod_needs_an_image() {
        let p = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}});
        assert_eq!(
            validate("Pod", &p),
            vec![Cause::required("spec.containers[0].image")]
        );
        let bad = json!({"metadata": {"name": "Bad"}, "spec": {"containers": [{"name": "c", "image": "i"}]}});
        assert_eq!(validate("Pod", &bad)[0].field, "metadata.name");
    }

    #[test]
    fn selector_must_match_template() {
        let d = json!({"metadata": {"name": "x"}, "spec": {"selector": {"matchLabels": {"app": "a"}},
            "template": {"metadata": {"labels": {"app": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
        assert_eq!(
            validate("Deployment", &d)[0].field,
            "spec.template.metadata.labels"
        );
    }
}
