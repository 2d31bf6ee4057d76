//! core/v1 kinds other than Pod: Service, ConfigMap, Secret, Namespace, Node,
//! PersistentVolume(Claim), ServiceAccount, LimitRange, ResourceQuota, Event, Endpoints.

use serde_json::Value;

use super::pod;
use super::util::{
    IMMUTABLE, arr_of, diff, go_string_slice, has, int_of, invalid_int, invalid_raw, labels,
    nonneg, not_supported_raw, obj_of, quantity, quantity_text, required_msg, same, str_of,
    too_long,
};
use crate::status::Cause;
use crate::validation::{
    cidr, config_map_key, dns1123_label, dns1123_subdomain, ip_address, port_num, qualified_name,
};

/// Secrets and ConfigMaps may hold at most 1MiB.
const MAX_DATA_SIZE: usize = 1024 * 1024;

fn service_port_repr(proto: &str, port: i64) -> String {
    format!(
        "core.ServicePort{{Name:\"\", Protocol:\"{proto}\", AppProtocol:(*string)(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}"
    )
}

pub fn service(obj: &Value, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    let ty = str_of(spec, "type");
    const TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    if ty.is_empty() {
        causes.push(Cause::required("spec.type"));
    } else if !TYPES.contains(&ty) {
        causes.push(Cause::not_supported("spec.type", ty, TYPES));
    }
    let cluster_ip = str_of(spec, "clusterIP");
    let headless = cluster_ip == "None";
    let ports = arr_of(spec, "ports");
    if ty == "ExternalName" {
        if !cluster_ip.is_empty() {
            causes.push(Cause::forbidden(
                "spec.clusterIPs",
                "may not be set for ExternalName services",
            ));
        }
        let en = str_of(spec, "externalName");
        if en.is_empty() {
            causes.push(Cause::required("spec.externalName"));
        } else {
            let name = en.strip_suffix('.').unwrap_or(en);
            if let Err(msgs) = dns1123_subdomain(&name.to_lowercase()) {
                for m in msgs {
                    causes.push(Cause::invalid("spec.externalName", en, &m));
                }
            } else if !name.contains('.') {
                causes.push(Cause::invalid(
                    "spec.externalName",
                    en,
                    "should be a domain with at least two segments separated by dots",
                ));
            }
        }
    } else if ports.is_empty() && !headless {
        causes.push(Cause::required("spec.ports"));
    }
    let mut names = Vec::new();
    let mut keys = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = format!("spec.ports[{i}]");
        let port = Some(p);
        let name = str_of(port, "name");
        if ports.len() > 1 && name.is_empty() {
            causes.push(Cause::required(format!("{pp}.name")));
        } else if !name.is_empty() {
            if let Err(msgs) = dns1123_label(name) {
                for m in msgs {
                    causes.push(Cause::invalid(format!("{pp}.name"), name, &m));
                }
            } else if names.contains(&name) {
                causes.push(Cause::duplicate(format!("{pp}.name"), name));
            }
            names.push(name);
        }
        let num = int_of(port, "port").unwrap_or(0);
        if let Err(msgs) = port_num(num) {
            for m in msgs {
                causes.push(invalid_int(format!("{pp}.port"), num, &m));
            }
        }
        pod::protocol(port, &pp, causes);
        if let Some(tp) = p.get("targetPort").filter(|v| !v.is_null()) {
            pod::port_num_or_name(Some(tp), &format!("{pp}.targetPort"), causes);
        }
        let node_port = int_of(port, "nodePort").unwrap_or(0);
        if node_port != 0 {
            if ty == "ClusterIP" || ty == "ExternalName" {
                causes.push(Cause::forbidden(
                    format!("{pp}.nodePort"),
                    &format!("may not be used when `type` is '{ty}'"),
                ));
            } else if let Err(msgs) = port_num(node_port) {
                for m in msgs {
                    causes.push(invalid_int(format!("{pp}.nodePort"), node_port, &m));
                }
            }
        }
        let key = (str_of(port, "protocol").to_string(), num);
        if keys.contains(&key) {
            causes.push(super::util::duplicate_raw(
                &pp,
                &service_port_repr(&key.0, key.1),
            ));
        }
        keys.push(key);
    }
    if !cluster_ip.is_empty() && !headless && ty != "ExternalName" {
        let ip_path = if has(spec, "clusterIPs") {
            "spec.clusterIPs[0]"
        } else {
            "spec.clusterIP"
        };
        if let Err(msgs) = ip_address(cluster_ip) {
            for m in msgs {
                causes.push(Cause::invalid(ip_path, cluster_ip, &m));
            }
        }
    }
    let affinity = str_of(spec, "sessionAffinity");
    if affinity.is_empty() {
        causes.push(Cause::required("spec.sessionAffinity"));
    } else if affinity != "None" && affinity != "ClientIP" {
        causes.push(Cause::not_supported(
            "spec.sessionAffinity",
            affinity,
            &["ClientIP", "None"],
        ));
    }
    if let Some(t) = spec
        .and_then(|s| s.pointer("/sessionAffinityConfig/clientIP/timeoutSeconds"))
        .and_then(Value::as_i64)
        && !(1..=86400).contains(&t)
    {
        causes.push(invalid_int(
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
            t,
            "must be greater than 0 and less than 86400",
        ));
    }
    labels(obj_of(spec, "selector"), "spec.selector", causes);
    for (key, allowed) in [
        ("externalTrafficPolicy", &["Cluster", "Local"][..]),
        ("internalTrafficPolicy", &["Cluster", "Local"][..]),
    ] {
        let v = str_of(spec, key);
        if !v.is_empty() && !allowed.contains(&v) {
            causes.push(Cause::not_supported(format!("spec.{key}"), v, allowed));
        }
    }
    let ipfp = str_of(spec, "ipFamilyPolicy");
    if !ipfp.is_empty() && !["SingleStack", "PreferDualStack", "RequireDualStack"].contains(&ipfp) {
        causes.push(Cause::not_supported(
            "spec.ipFamilyPolicy",
            ipfp,
            &["PreferDualStack", "RequireDualStack", "SingleStack"],
        ));
    }
    for (i, ip) in arr_of(spec, "externalIPs").iter().enumerate() {
        let ip = ip.as_str().unwrap_or_default();
        if let Err(msgs) = ip_address(ip) {
            for m in msgs {
                causes.push(Cause::invalid(format!("spec.externalIPs[{i}]"), ip, &m));
            }
        }
    }
    for (i, c) in arr_of(spec, "loadBalancerSourceRanges").iter().enumerate() {
        let c = c.as_str().unwrap_or_default();
        if let Err(msgs) = cidr(c) {
            for m in msgs {
                causes.push(Cause::invalid(
                    format!("spec.loadBalancerSourceRanges[{i}]"),
                    c,
                    &m,
                ));
            }
        }
    }
}

/// Service updates: the primary cluster IP stays (unless to/from ExternalName).
pub fn service_update(new: &Value, old: &Value, causes: &mut Vec<Cause>) {
    let (n, o) = (new.get("spec"), old.get("spec"));
    if str_of(n, "type") == "ExternalName" || str_of(o, "type") == "ExternalName" {
        return;
    }
    let old_ip = str_of(o, "clusterIP");
    let new_ip = str_of(n, "clusterIP");
    if !old_ip.is_empty() && old_ip != new_ip {
        causes.push(invalid_raw(
            "spec.clusterIPs[0]",
            &go_string_slice(arr_of(n, "clusterIPs")),
            "may not change once set",
        ));
    }
}

fn data_keys(obj: &Value, fields: &[&str], causes: &mut Vec<Cause>) -> usize {
    let mut total = 0;
    for field in fields {
        for (k, v) in obj_of(Some(obj), field).into_iter().flatten() {
            if let Err(msgs) = config_map_key(k) {
                for m in msgs {
                    causes.push(Cause::invalid(format!("{field}[{k}]"), k, &m));
                }
            }
            total += k.len() + v.as_str().map(str::len).unwrap_or_default();
        }
    }
    total
}

pub fn config_map(obj: &Value, causes: &mut Vec<Cause>) {
    let total = data_keys(obj, &["data", "binaryData"], causes);
    let data = obj_of(Some(obj), "data");
    for k in obj_of(Some(obj), "binaryData")
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        if data.is_some_and(|d| d.contains_key(k)) {
            causes.push(Cause::invalid(
                format!("data[{k}]"),
                k,
                "duplicate of key present in binaryData",
            ));
        }
    }
    if total > MAX_DATA_SIZE {
        causes.push(too_long("", MAX_DATA_SIZE));
    }
}

pub fn secret(obj: &Value, causes: &mut Vec<Cause>) {
    // Secret values are base64 in JSON; the size limit is on the decoded bytes.
    let mut total = 0;
    for (k, v) in obj_of(Some(obj), "data").into_iter().flatten() {
        if let Err(msgs) = config_map_key(k) {
            for m in msgs {
                causes.push(Cause::invalid(format!("data[{k}]"), k, &m));
            }
        }
        total += v.as_str().map(|s| s.len() * 3 / 4).unwrap_or_default();
    }
    if total > MAX_DATA_SIZE {
        causes.push(too_long("data", MAX_DATA_SIZE));
    }
    let data = obj_of(Some(obj), "data");
    let has_key = |k: &str| {
        data.is_some_and(|d| d.contains_key(k))
            || obj_of(Some(obj), "stringData").is_some_and(|d| d.contains_key(k))
    };
    let ty = str_of(Some(obj), "type");
    let need = |k: &str, causes: &mut Vec<Cause>| {
        if !has_key(k) {
            causes.push(Cause::required(format!("data[{k}]")));
        }
    };
    match ty {
        "kubernetes.io/service-account-token"
            if obj
                .pointer("/metadata/annotations/kubernetes.io~1service-account.name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .is_empty() =>
        {
            causes.push(Cause::required(
                "metadata.annotations[kubernetes.io/service-account.name]",
            ));
        }
        "kubernetes.io/dockercfg" => need(".dockercfg", causes),
        "kubernetes.io/dockerconfigjson" => need(".dockerconfigjson", causes),
        "kubernetes.io/basic-auth" if !has_key("username") && !has_key("password") => {
            causes.push(Cause::required("data[username]"));
            causes.push(Cause::required("data[password]"));
        }
        "kubernetes.io/ssh-auth" => need("ssh-privatekey", causes),
        "kubernetes.io/tls" => {
            need("tls.key", causes);
            need("tls.crt", causes);
        }
        _ => {}
    }
}

/// ConfigMap/Secret updates: nothing changes once `immutable` is set; Secret type fixed.
pub fn immutable_data_update(kind: &str, new: &Value, old: &Value, causes: &mut Vec<Cause>) {
    const MSG: &str = "field is immutable when `immutable` is set";
    if kind == "Secret" {
        let (n, o) = (str_of(Some(new), "type"), str_of(Some(old), "type"));
        if n != o {
            causes.push(Cause::invalid("type", n, IMMUTABLE));
        }
    }
    if old.get("immutable").and_then(Value::as_bool) != Some(true) {
        return;
    }
    if new.get("immutable").and_then(Value::as_bool) != Some(true) {
        causes.push(Cause::forbidden("immutable", MSG));
    }
    for field in ["data", "binaryData"] {
        if kind == "Secret" && field == "binaryData" {
            continue;
        }
        if !same(new.get(field), old.get(field)) {
            causes.push(Cause::forbidden(field, MSG));
        }
    }
}

pub fn namespace(obj: &Value, causes: &mut Vec<Cause>) {
    for (i, f) in arr_of(obj.get("spec"), "finalizers").iter().enumerate() {
        let f = f.as_str().unwrap_or_default();
        finalizer_name(f, &format!("spec.finalizers[{i}]"), causes);
    }
}

/// A finalizer name: standard (`kubernetes`) or a qualified name with a domain.
fn finalizer_name(f: &str, path: &str, causes: &mut Vec<Cause>) {
    if let Err(msgs) = qualified_name(f) {
        for m in msgs {
            causes.push(Cause::invalid(path, f, &m));
        }
    } else if f != "kubernetes" && !f.contains('/') {
        causes.push(Cause::invalid(
            path,
            f,
            "name is neither a standard finalizer name nor is it fully qualified",
        ));
    }
}

pub fn node(obj: &Value, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    for (i, t) in arr_of(spec, "taints").iter().enumerate() {
        let p = format!("spec.taints[{i}]");
        let key = str_of(Some(t), "key");
        if key.is_empty() {
            causes.push(Cause::required(format!("{p}.key")));
        } else if let Err(msgs) = qualified_name(key) {
            for m in msgs {
                causes.push(Cause::invalid(format!("{p}.key"), key, &m));
            }
        }
        let effect = str_of(Some(t), "effect");
        const EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];
        if effect.is_empty() {
            causes.push(Cause::required(format!("{p}.effect")));
        } else if !EFFECTS.contains(&effect) {
            causes.push(Cause::not_supported(format!("{p}.effect"), effect, EFFECTS));
        }
    }
    for (i, c) in arr_of(spec, "podCIDRs").iter().enumerate() {
        let c = c.as_str().unwrap_or_default();
        if let Err(msgs) = cidr(c) {
            for m in msgs {
                causes.push(Cause::invalid(format!("spec.podCIDRs[{i}]"), c, &m));
            }
        }
    }
}

/// Node updates: podCIDR(s) and providerID only go from empty to set.
pub fn node_update(new: &Value, old: &Value, causes: &mut Vec<Cause>) {
    let (n, o) = (new.get("spec"), old.get("spec"));
    let old_cidrs = arr_of(o, "podCIDRs");
    if !old_cidrs.is_empty()
        && !same(
            n.and_then(|s| s.get("podCIDRs")),
            o.and_then(|s| s.get("podCIDRs")),
        )
    {
        causes.push(Cause::forbidden(
            "spec.podCIDRs",
            "node updates may not change podCIDR except from \"\" to valid",
        ));
    }
    let old_pid = str_of(o, "providerID");
    if !old_pid.is_empty() && old_pid != str_of(n, "providerID") {
        causes.push(Cause::forbidden(
            "spec.providerID",
            "node updates may not change providerID except from \"\" to valid",
        ));
    }
}

const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

fn access_modes(spec: Option<&Value>, required: &str, causes: &mut Vec<Cause>) {
    let modes = arr_of(spec, "accessModes");
    if modes.is_empty() {
        if required.is_empty() {
            causes.push(Cause::required("spec.accessModes"));
        } else {
            causes.push(required_msg("spec.accessModes", required));
        }
    }
    for m in modes {
        let m = m.as_str().unwrap_or_default();
        if !ACCESS_MODES.contains(&m) {
            causes.push(Cause::not_supported("spec.accessModes", m, ACCESS_MODES));
        }
    }
    if modes.len() > 1 && modes.iter().any(|m| m == "ReadWriteOncePod") {
        causes.push(Cause::forbidden(
            "spec.accessModes",
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
}

fn volume_mode(spec: Option<&Value>, causes: &mut Vec<Cause>) {
    let vm = str_of(spec, "volumeMode");
    if !vm.is_empty() && vm != "Block" && vm != "Filesystem" {
        causes.push(Cause::not_supported(
            "spec.volumeMode",
            vm,
            &["Block", "Filesystem"],
        ));
    }
}

pub fn persistent_volume_claim(obj: &Value, causes: &mut Vec<Cause>) {
    pvc_spec(obj.get("spec"), "spec", causes);
}

/// PersistentVolumeClaimSpec (also inside StatefulSet volumeClaimTemplates).
pub fn pvc_spec(spec: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let mut local = Vec::new();
    access_modes(spec, "at least 1 access mode is required", &mut local);
    volume_mode(spec, &mut local);
    label_selector_opt(spec, &mut local);
    let storage = spec
        .and_then(|s| s.get("resources"))
        .and_then(|r| r.get("requests"))
        .and_then(|r| r.get("storage"));
    match storage {
        None => local.push(Cause::required("spec.resources[storage]")),
        Some(q) => {
            if quantity(q).is_some_and(|v| v <= 0.0) {
                local.push(Cause::invalid(
                    "spec.resources[storage]",
                    &quantity_text(q),
                    "must be greater than zero",
                ));
            }
        }
    }
    for mut c in local {
        c.field = c.field.replacen("spec", path, 1);
        causes.push(c);
    }
}

fn label_selector_opt(spec: Option<&Value>, causes: &mut Vec<Cause>) {
    super::util::label_selector(
        spec.and_then(|s| s.get("selector")),
        "spec.selector",
        causes,
    );
}

/// PVC updates: only requests (of bound claims) and the attributes class change; the
/// binder may set volumeName once.
pub fn persistent_volume_claim_update(new: &Value, old: &Value, causes: &mut Vec<Cause>) {
    let mut o = old.get("spec").cloned().unwrap_or(Value::Null);
    let n = new.get("spec").cloned().unwrap_or(Value::Null);
    let bound = old.pointer("/status/phase").and_then(Value::as_str) == Some("Bound");
    if let Some(m) = o.as_object_mut() {
        if str_of(old.get("spec"), "volumeName").is_empty() {
            match n.get("volumeName") {
                Some(v) => m.insert("volumeName".into(), v.clone()),
                None => m.remove("volumeName"),
            };
        }
        match n.get("volumeAttributesClassName") {
            Some(v) => m.insert("volumeAttributesClassName".into(), v.clone()),
            None => m.remove("volumeAttributesClassName"),
        };
        if bound {
            let req = n.pointer("/resources/requests").cloned();
            if let Some(r) = m.get_mut("resources").and_then(Value::as_object_mut) {
                match req {
                    Some(req) => r.insert("requests".into(), req),
                    None => r.remove("requests"),
                };
            }
        }
    }
    if !same(Some(&o), Some(&n)) {
        causes.push(Cause::forbidden(
            "spec",
            &format!(
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n{}",
                diff(&o, &n)
            ),
        ));
    }
}

const PV_SOURCES: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "nfs",
    "rbd",
    "quobyte",
    "cephfs",
    "iscsi",
    "cinder",
    "fc",
    "flocker",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "local",
    "storageos",
    "csi",
];

pub fn persistent_volume(obj: &Value, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    access_modes(spec, "", causes);
    let cap = obj_of(spec, "capacity");
    match cap {
        None => causes.push(Cause::required("spec.capacity")),
        Some(c) if c.is_empty() => causes.push(Cause::required("spec.capacity")),
        Some(c) => {
            if !c.contains_key("storage") || c.len() > 1 {
                let keys: Vec<Value> = c.keys().map(|k| Value::String(k.clone())).collect();
                causes.push(not_supported_raw(
                    "spec.capacity",
                    &go_string_slice(&keys).replace("[]string", "[]core.ResourceName"),
                    &["storage"],
                ));
            }
            for (k, q) in c {
                if quantity(q).is_some_and(|v| v <= 0.0) {
                    causes.push(Cause::invalid(
                        format!("spec.capacity[{k}]"),
                        &quantity_text(q),
                        "must be greater than zero",
                    ));
                }
            }
        }
    }
    let policy = str_of(spec, "persistentVolumeReclaimPolicy");
    if !policy.is_empty() && !["Delete", "Recycle", "Retain"].contains(&policy) {
        causes.push(Cause::not_supported(
            "spec.persistentVolumeReclaimPolicy",
            policy,
            &["Delete", "Recycle", "Retain"],
        ));
    }
    volume_mode(spec, causes);
    let mut count = 0;
    for src in PV_SOURCES {
        if !has(spec, src) {
            continue;
        }
        count += 1;
        if count > 1 {
            causes.push(Cause::forbidden(
                format!("spec.{src}"),
                "may not specify more than 1 volume type",
            ));
        }
        let s = spec.and_then(|s| s.get(*src));
        let key = match *src {
            "hostPath" | "nfs" | "local" => Some("path"),
            "csi" => Some("driver"),
            _ => None,
        };
        if let Some(k) = key
            && str_of(s, k).is_empty()
        {
            causes.push(Cause::required(format!("spec.{src}.{k}")));
        }
    }
    if count == 0 {
        causes.push(required_msg("spec", "must specify a volume type"));
    }
}

pub fn persistent_volume_update(new: &Value, old: &Value, causes: &mut Vec<Cause>) {
    let (n, o) = (new.get("spec"), old.get("spec"));
    for src in PV_SOURCES {
        if has(o, src) && !same(n.and_then(|s| s.get(*src)), o.and_then(|s| s.get(*src))) {
            causes.push(Cause::forbidden(
                "spec.persistentvolumesource",
                "spec.persistentvolumesource is immutable after creation",
            ));
            break;
        }
    }
    let (nm, om) = (str_of(n, "volumeMode"), str_of(o, "volumeMode"));
    if nm != om {
        causes.push(invalid_raw(
            "spec.volumeMode",
            &format!("&\"{nm}\""),
            IMMUTABLE,
        ));
    }
}

pub fn limit_range(obj: &Value, causes: &mut Vec<Cause>) {
    for (i, item) in arr_of(obj.get("spec"), "limits").iter().enumerate() {
        let p = format!("spec.limits[{i}]");
        let it = Some(item);
        let ty = str_of(it, "type");
        if ty.is_empty() {
            causes.push(Cause::required(format!("{p}.type")));
        }
        let get = |k: &str| obj_of(it, k);
        let (max, min, def, defreq) = (
            get("max"),
            get("min"),
            get("default"),
            get("defaultRequest"),
        );
        for (field, m) in [
            ("max", max),
            ("min", min),
            ("default", def),
            ("defaultRequest", defreq),
        ] {
            for (k, q) in m.into_iter().flatten() {
                if quantity(q).is_some_and(|v| v < 0.0) {
                    causes.push(invalid_raw(
                        format!("{p}.{field}[{k}]"),
                        &quantity_text(q),
                        super::util::NEGATIVE,
                    ));
                }
            }
        }
        if ty == "Pod" {
            if def.is_some_and(|d| !d.is_empty()) {
                causes.push(Cause::forbidden(
                    format!("{p}.default"),
                    "may not be specified when `type` is 'Pod'",
                ));
            }
            if defreq.is_some_and(|d| !d.is_empty()) {
                causes.push(Cause::forbidden(
                    format!("{p}.defaultRequest"),
                    "may not be specified when `type` is 'Pod'",
                ));
            }
        }
        let q = |m: Option<&serde_json::Map<String, Value>>, k: &str| {
            m.and_then(|m| m.get(k))
                .map(|v| (quantity(v), quantity_text(v)))
        };
        let mut keys: Vec<&String> = [max, min, def, defreq]
            .into_iter()
            .flatten()
            .flat_map(|m| m.keys())
            .collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let (mx, mn, d, dr) = (q(max, k), q(min, k), q(def, k), q(defreq, k));
            let gt = |a: &Option<(Option<f64>, String)>, b: &Option<(Option<f64>, String)>| matches!((a, b), (Some((Some(x), _)), Some((Some(y), _))) if x > y);
            let text = |a: &Option<(Option<f64>, String)>| {
                a.as_ref().map(|a| a.1.clone()).unwrap_or_default()
            };
            if gt(&mn, &mx) {
                causes.push(invalid_raw(
                    format!("{p}.min[{k}]"),
                    &text(&mn),
                    &format!(
                        "min value {} is greater than max value {}",
                        text(&mn),
                        text(&mx)
                    ),
                ));
            }
            if gt(&mn, &dr) {
                causes.push(invalid_raw(
                    format!("{p}.defaultRequest[{k}]"),
                    &text(&dr),
                    &format!(
                        "min value {} is greater than default request value {}",
                        text(&mn),
                        text(&dr)
                    ),
                ));
            }
            if gt(&dr, &mx) {
                causes.push(invalid_raw(
                    format!("{p}.defaultRequest[{k}]"),
                    &text(&dr),
                    &format!(
                        "default request value {} is greater than max value {}",
                        text(&dr),
                        text(&mx)
                    ),
                ));
            }
            if gt(&dr, &d) {
                causes.push(invalid_raw(
                    format!("{p}.defaultRequest[{k}]"),
                    &text(&dr),
                    &format!(
                        "default request value {} is greater than default limit value {}",
                        text(&dr),
                        text(&d)
                    ),
                ));
            }
            if gt(&mn, &d) {
                causes.push(invalid_raw(
                    format!("{p}.default[{k}]"),
                    &text(&mn),
                    &format!(
                        "min value {} is greater than default value {}",
                        text(&mn),
                        text(&d)
                    ),
                ));
            }
            if gt(&d, &mx) {
                causes.push(invalid_raw(
                    format!("{p}.default[{k}]"),
                    &text(&mx),
                    &format!(
                        "default value {} is greater than max value {}",
                        text(&d),
                        text(&mx)
                    ),
                ));
            }
        }
    }
}

pub fn resource_quota(obj: &Value, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    for (k, q) in obj_of(spec, "hard").into_iter().flatten() {
        let p = format!("spec.hard[{k}]");
        if let Err(msgs) = qualified_name(k) {
            for m in msgs {
                causes.push(Cause::invalid(&p, k, &m));
            }
        }
        if quantity(q).is_some_and(|v| v < 0.0) {
            causes.push(invalid_raw(&p, &quantity_text(q), super::util::NEGATIVE));
        }
    }
    const SCOPES: &[&str] = &[
        "BestEffort",
        "CrossNamespacePodAffinity",
        "NotBestEffort",
        "NotTerminating",
        "PriorityClass",
        "Terminating",
        "VolumeAttributesClass",
    ];
    for s in arr_of(spec, "scopes") {
        let s = s.as_str().unwrap_or_default();
        if !SCOPES.contains(&s) {
            causes.push(Cause::not_supported("spec.scopes", s, SCOPES));
        }
    }
}

pub fn event(obj: &Value, causes: &mut Vec<Cause>) {
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let io = obj.get("involvedObject").or_else(|| obj.get("regarding"));
    let io_ns = str_of(io, "namespace");
    if !io_ns.is_empty() && io_ns != ns && ns != "default" && !ns.is_empty() {
        causes.push(Cause::invalid(
            "involvedObject.namespace",
            io_ns,
            "does not match event.namespace",
        ));
    }
    let ty = str_of(Some(obj), "type");
    if obj.get("apiVersion").and_then(Value::as_str) == Some("events.k8s.io/v1") {
        if ty != "Normal" && ty != "Warning" {
            causes.push(Cause::invalid(
                "type",
                ty,
                "has invalid value: must be Normal or Warning",
            ));
        }
        if str_of(Some(obj), "reportingController").is_empty() {
            causes.push(Cause::required("reportingController"));
        }
        if str_of(Some(obj), "reportingInstance").is_empty() {
            causes.push(Cause::required("reportingInstance"));
        }
        if str_of(Some(obj), "action").is_empty() {
            causes.push(Cause::required("action"));
        }
        if str_of(Some(obj), "reason").is_empty() {
            causes.push(Cause::required("reason"));
        }
    }
    nonneg(Some(obj), "count", "", causes);
    if let Some(c) = causes.last_mut()
        && c.field == ".count"
    {
        c.field = "count".into();
    }
}

pub fn endpoints(obj: &Value, causes: &mut Vec<Cause>) {
    for (i, subset) in arr_of(Some(obj), "subsets").iter().enumerate() {
        let p = format!("subsets[{i}]");
        for key in ["addresses", "notReadyAddresses"] {
            for (j, a) in arr_of(Some(subset), key).iter().enumerate() {
                let ip = str_of(Some(a), "ip");
                if let Err(msgs) = ip_address(ip) {
                    for m in msgs {
                        causes.push(Cause::invalid(format!("{p}.{key}[{j}].ip"), ip, &m));
                    }
                }
            }
        }
        for (j, port) in arr_of(Some(subset), "ports").iter().enumerate() {
            let pp = format!("{p}.ports[{j}]");
            let n = int_of(Some(port), "port").unwrap_or(0);
            if let Err(msgs) = port_num(n) {
                for m in msgs {
                    causes.push(invalid_int(format!("{pp}.port"), n, &m));
                }
            }
            pod::protocol(Some(port), &pp, causes);
        }
    }
}

pub fn pod_template(obj: &Value, causes: &mut Vec<Cause>) {
    pod::template(obj.get("template"), "template", causes);
}
