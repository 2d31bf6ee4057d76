//! ObjectMeta rules for every kind (apimachinery's `ValidateObjectMeta` and
//! `ValidateObjectMetaUpdate`), with each kind's name rule.

use serde_json::Value;

use super::util::{
    IMMUTABLE, arr_of, go_string_slice, invalid_raw, obj_of, quote, str_of, too_long,
};
use crate::status::Cause;
use crate::validation::{
    dns1035_label, dns1123_label, dns1123_subdomain, path_segment_name, qualified_name,
};

const ANNOTATIONS_LIMIT: usize = 256 * 1024;

/// How a kind's names are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    Subdomain,
    Label,
    Dns1035,
    PathSegment,
}

pub fn name_rule(kind: &str) -> NameRule {
    match kind {
        "Namespace" => NameRule::Label,
        "Service" => NameRule::Dns1035,
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => NameRule::PathSegment,
        _ => NameRule::Subdomain,
    }
}

/// Kinds upstream serves cluster-scoped; `None` for kinds this table does not know.
pub fn cluster_scoped(kind: &str) -> Option<bool> {
    const CLUSTER: &[&str] = &[
        "Namespace",
        "Node",
        "PersistentVolume",
        "ClusterRole",
        "ClusterRoleBinding",
        "StorageClass",
        "PriorityClass",
        "IngressClass",
        "CSIDriver",
        "CSINode",
        "VolumeAttachment",
        "CustomResourceDefinition",
        "APIService",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "RuntimeClass",
        "CertificateSigningRequest",
        "FlowSchema",
        "PriorityLevelConfiguration",
        "ComponentStatus",
        "IPAddress",
        "ServiceCIDR",
        "DeviceClass",
        "VolumeAttributesClass",
    ];
    const NAMESPACED: &[&str] = &[
        "Pod",
        "Service",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "Endpoints",
        "Event",
        "LimitRange",
        "ResourceQuota",
        "PersistentVolumeClaim",
        "PodTemplate",
        "ReplicationController",
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "ControllerRevision",
        "Job",
        "CronJob",
        "Ingress",
        "NetworkPolicy",
        "Role",
        "RoleBinding",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Lease",
        "EndpointSlice",
        "CSIStorageCapacity",
        "ResourceClaim",
        "ResourceClaimTemplate",
    ];
    if CLUSTER.contains(&kind) {
        Some(true)
    } else if NAMESPACED.contains(&kind) {
        Some(false)
    } else {
        None
    }
}

/// Checks `name` with a rule; `prefix` is for generateName (a trailing dash is allowed).
pub fn check_name(rule: NameRule, name: &str, prefix: bool) -> Result<(), Vec<String>> {
    let masked;
    let name = if prefix && name.len() > 1 && name.ends_with('-') {
        masked = format!("{}a", &name[..name.len() - 2]);
        masked.as_str()
    } else {
        name
    };
    match rule {
        NameRule::Subdomain => dns1123_subdomain(name),
        NameRule::Label => dns1123_label(name),
        NameRule::Dns1035 => dns1035_label(name),
        NameRule::PathSegment => path_segment_name(name, prefix),
    }
}

/// ValidateObjectMeta for `kind`.
pub fn object_meta(kind: &str, obj: &Value, causes: &mut Vec<Cause>) {
    let meta = obj.get("metadata");
    let rule = name_rule(kind);
    let generate = str_of(meta, "generateName");
    if !generate.is_empty()
        && let Err(msgs) = check_name(rule, generate, true)
    {
        for m in msgs {
            causes.push(Cause::invalid("metadata.generateName", generate, &m));
        }
    }
    let name = str_of(meta, "name");
    if name.is_empty() {
        causes.push(super::util::required_msg(
            "metadata.name",
            "name or generateName is required",
        ));
    } else if let Err(msgs) = check_name(rule, name, false) {
        for m in msgs {
            causes.push(Cause::invalid("metadata.name", name, &m));
        }
    }
    let namespace = str_of(meta, "namespace");
    match cluster_scoped(kind) {
        Some(false) if namespace.is_empty() => causes.push(Cause::required("metadata.namespace")),
        Some(false) => {
            if let Err(msgs) = dns1123_label(namespace) {
                for m in msgs {
                    causes.push(Cause::invalid("metadata.namespace", namespace, &m));
                }
            }
        }
        Some(true) if !namespace.is_empty() => causes.push(Cause::forbidden(
            "metadata.namespace",
            "not allowed on this type",
        )),
        _ => {}
    }
    common(meta, causes);
}

/// The rules shared by create and update: labels, annotations, owners, finalizers.
fn common(meta: Option<&Value>, causes: &mut Vec<Cause>) {
    if let Some(g) = meta
        .and_then(|m| m.get("generation"))
        .and_then(Value::as_i64)
        && g < 0
    {
        causes.push(super::util::invalid_int(
            "metadata.generation",
            g,
            super::util::NEGATIVE,
        ));
    }
    super::util::labels(obj_of(meta, "labels"), "metadata.labels", causes);
    annotations(obj_of(meta, "annotations"), "metadata.annotations", causes);
    owner_references(arr_of(meta, "ownerReferences"), causes);
    finalizers(arr_of(meta, "finalizers"), causes);
}

/// ValidateAnnotations (keys are qualified names, case-insensitively; 256KiB in total).
pub fn annotations(
    ann: Option<&serde_json::Map<String, Value>>,
    path: &str,
    causes: &mut Vec<Cause>,
) {
    let Some(ann) = ann else { return };
    let mut total = 0;
    for (k, v) in ann {
        if let Err(msgs) = qualified_name(&k.to_lowercase()) {
            for m in msgs {
                causes.push(Cause::invalid(path, k, &m));
            }
        }
        total += k.len() + v.as_str().map(str::len).unwrap_or_default();
    }
    if total > ANNOTATIONS_LIMIT {
        causes.push(too_long(path, ANNOTATIONS_LIMIT));
    }
}

fn owner_references(refs: &[Value], causes: &mut Vec<Cause>) {
    let path = "metadata.ownerReferences";
    let mut controller: Option<String> = None;
    for r in refs {
        let api_version = str_of(Some(r), "apiVersion");
        let version = api_version.rsplit('/').next().unwrap_or_default();
        let kind = str_of(Some(r), "kind");
        if api_version.is_empty() || version.is_empty() || api_version.matches('/').count() > 1 {
            causes.push(Cause::invalid(
                format!("{path}.apiVersion"),
                api_version,
                "version must not be empty",
            ));
        }
        if kind.is_empty() {
            causes.push(Cause::invalid(
                format!("{path}.kind"),
                kind,
                "kind must not be empty",
            ));
        }
        let name = str_of(Some(r), "name");
        if name.is_empty() {
            causes.push(Cause::invalid(
                format!("{path}.name"),
                name,
                "name must not be empty",
            ));
        }
        let uid = str_of(Some(r), "uid");
        if uid.is_empty() {
            causes.push(Cause::invalid(
                format!("{path}.uid"),
                uid,
                "uid must not be empty",
            ));
        }
        if api_version == "v1" && kind == "Event" {
            causes.push(invalid_raw(
                path,
                &format!("{r}"),
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if r.get("controller").and_then(Value::as_bool) == Some(true) {
            let current = format!("{kind}/{name}");
            match &controller {
                Some(first) => causes.push(invalid_raw(
                    path,
                    &Value::Array(refs.to_vec()).to_string(),
                    &format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {current}"
                    ),
                )),
                None => controller = Some(current),
            }
        }
    }
}

fn finalizers(list: &[Value], causes: &mut Vec<Cause>) {
    let path = "metadata.finalizers";
    let names: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
    for f in &names {
        if let Err(msgs) = qualified_name(f) {
            for m in msgs {
                causes.push(Cause::invalid(path, f, &m));
            }
        }
    }
    if names.contains(&"orphan") && names.contains(&"foregroundDeletion") {
        causes.push(invalid_raw(
            path,
            &go_string_slice(list),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
}

/// Go's rendering of a metav1.Time (`2024-01-02 03:04:05 +0000 UTC`).
fn go_time(v: Option<&Value>) -> String {
    match v.and_then(Value::as_str) {
        None => "null".into(),
        Some(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| {
                t.with_timezone(&chrono::Utc)
                    .format("%Y-%m-%d %H:%M:%S +0000 UTC")
                    .to_string()
            })
            .unwrap_or_else(|_| s.to_string()),
    }
}

/// ValidateObjectMetaUpdate: identity fields are immutable; no finalizers may be added
/// once deletion started.
pub fn object_meta_update(new: &Value, old: &Value, causes: &mut Vec<Cause>) {
    let (nm, om) = (new.get("metadata"), old.get("metadata"));
    if om
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some_and(|v| !v.is_null())
    {
        let old_f: Vec<&str> = arr_of(om, "finalizers")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let mut extra: Vec<&str> = arr_of(nm, "finalizers")
            .iter()
            .filter_map(Value::as_str)
            .filter(|f| !old_f.contains(f))
            .collect();
        extra.sort_unstable();
        extra.dedup();
        if !extra.is_empty() {
            let shown: Vec<String> = extra.iter().map(|s| quote(s)).collect();
            causes.push(Cause::forbidden(
                "metadata.finalizers",
                &format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                    shown.join(", ")
                ),
            ));
        }
    }
    if let (Some(n), Some(o)) = (
        nm.and_then(|m| m.get("generation")).and_then(Value::as_i64),
        om.and_then(|m| m.get("generation")).and_then(Value::as_i64),
    ) && n < o
    {
        causes.push(super::util::invalid_int(
            "metadata.generation",
            n,
            "must not be decremented",
        ));
    }
    for key in ["name", "namespace", "uid"] {
        let (n, o) = (str_of(nm, key), str_of(om, key));
        if n != o {
            causes.push(Cause::invalid(format!("metadata.{key}"), n, IMMUTABLE));
        }
    }
    for key in ["creationTimestamp", "deletionTimestamp"] {
        let (n, o) = (
            go_time(nm.and_then(|m| m.get(key))),
            go_time(om.and_then(|m| m.get(key))),
        );
        if n != o {
            causes.push(invalid_raw(format!("metadata.{key}"), &n, IMMUTABLE));
        }
    }
    let grace = |m: Option<&Value>| {
        m.and_then(|m| m.get("deletionGracePeriodSeconds"))
            .and_then(Value::as_i64)
    };
    if grace(nm) != grace(om) {
        let shown = grace(nm).map_or("null".to_string(), |g| g.to_string());
        causes.push(invalid_raw(
            "metadata.deletionGracePeriodSeconds",
            &shown,
            IMMUTABLE,
        ));
    }
}
