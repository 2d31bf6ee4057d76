//! Smaller groups: autoscaling (HPA), policy (PDB), scheduling (PriorityClass),
//! coordination (Lease), discovery (EndpointSlice).

use serde_json::Value;

use super::util::{
    IMMUTABLE, arr_of, int_of, int_or_percent, invalid_int, invalid_raw, label_selector, nonneg,
    str_of,
};
use crate::status::Cause;
use crate::validation::{ip_address, path_segment_name, port_num};

pub fn horizontal_pod_autoscaler(obj: &Value, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    let r = spec.and_then(|s| s.get("scaleTargetRef"));
    let kind = str_of(r, "kind");
    if kind.is_empty() {
        causes.push(Cause::required("spec.scaleTargetRef.kind"));
    } else if let Err(msgs) = path_segment_name(kind, false) {
        for m in msgs {
            causes.push(Cause::invalid("spec.scaleTargetRef.kind", kind, &m));
        }
    }
    let name = str_of(r, "name");
    if name.is_empty() {
        causes.push(Cause::required("spec.scaleTargetRef.name"));
    } else if let Err(msgs) = path_segment_name(name, false) {
        for m in msgs {
            causes.push(Cause::invalid("spec.scaleTargetRef.name", name, &m));
        }
    }
    let min = int_of(spec, "minReplicas");
    if let Some(m) = min
        && m < 1
    {
        causes.push(invalid_int(
            "spec.minReplicas",
            m,
            "must be greater than or equal to 1",
        ));
    }
    let max = int_of(spec, "maxReplicas").unwrap_or(0);
    if max < 1 {
        causes.push(invalid_int(
            "spec.maxReplicas",
            max,
            "must be greater than 0",
        ));
    }
    if let Some(m) = min
        && max < m
    {
        causes.push(invalid_int(
            "spec.maxReplicas",
            max,
            "must be greater than or equal to `minReplicas`",
        ));
    }
    if let Some(t) = int_of(spec, "targetCPUUtilizationPercentage")
        && t < 1
    {
        causes.push(invalid_int(
            "spec.targetCPUUtilizationPercentage",
            t,
            "must be greater than 0",
        ));
    }
    const TYPES: &[&str] = &[
        "ContainerResource",
        "External",
        "Object",
        "Pods",
        "Resource",
    ];
    for (i, m) in arr_of(spec, "metrics").iter().enumerate() {
        let p = format!("spec.metrics[{i}]");
        let ty = str_of(Some(m), "type");
        if ty.is_empty() {
            causes.push(super::util::required_msg(
                format!("{p}.type"),
                "must specify a metric source type",
            ));
        } else if !TYPES.contains(&ty) {
            causes.push(Cause::not_supported(format!("{p}.type"), ty, TYPES));
        }
    }
    for dir in ["scaleUp", "scaleDown"] {
        let Some(rules) = spec
            .and_then(|s| s.get("behavior"))
            .and_then(|b| b.get(dir))
        else {
            continue;
        };
        let p = format!("spec.behavior.{dir}");
        if let Some(w) = int_of(Some(rules), "stabilizationWindowSeconds")
            && !(0..=3600).contains(&w)
        {
            causes.push(invalid_int(
                format!("{p}.stabilizationWindowSeconds"),
                w,
                if w < 0 {
                    "must be greater than or equal to zero"
                } else {
                    "must be less than or equal to 3600"
                },
            ));
        }
        let sp = str_of(Some(rules), "selectPolicy");
        if !sp.is_empty() && !["Disabled", "Max", "Min"].contains(&sp) {
            causes.push(Cause::not_supported(
                format!("{p}.selectPolicy"),
                sp,
                &["Disabled", "Max", "Min"],
            ));
        }
        for (j, pol) in arr_of(Some(rules), "policies").iter().enumerate() {
            let pp = format!("{p}.policies[{j}]");
            let t = str_of(Some(pol), "type");
            if t != "Pods" && t != "Percent" {
                causes.push(Cause::not_supported(
                    format!("{pp}.type"),
                    t,
                    &["Percent", "Pods"],
                ));
            }
            let v = int_of(Some(pol), "value").unwrap_or(0);
            if v <= 0 {
                causes.push(invalid_int(
                    format!("{pp}.value"),
                    v,
                    "must be greater than zero",
                ));
            }
            let ps = int_of(Some(pol), "periodSeconds").unwrap_or(0);
            if ps <= 0 {
                causes.push(invalid_int(
                    format!("{pp}.periodSeconds"),
                    ps,
                    "must be greater than zero",
                ));
            } else if ps > 1800 {
                causes.push(invalid_int(
                    format!("{pp}.periodSeconds"),
                    ps,
                    "must be less than or equal to 1800",
                ));
            }
        }
    }
}

pub fn pod_disruption_budget(obj: &Value, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    let min = spec
        .and_then(|s| s.get("minAvailable"))
        .filter(|v| !v.is_null());
    let max = spec
        .and_then(|s| s.get("maxUnavailable"))
        .filter(|v| !v.is_null());
    if min.is_some() && max.is_some() {
        causes.push(invalid_raw(
            "spec",
            &spec.map(Value::to_string).unwrap_or_default(),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    int_or_percent(min, "spec.minAvailable", causes);
    int_or_percent(max, "spec.maxUnavailable", causes);
    label_selector(
        spec.and_then(|s| s.get("selector")),
        "spec.selector",
        causes,
    );
    let p = str_of(spec, "unhealthyPodEvictionPolicy");
    if !p.is_empty() && p != "IfHealthyBudget" && p != "AlwaysAllow" {
        causes.push(Cause::not_supported(
            "spec.unhealthyPodEvictionPolicy",
            p,
            &["AlwaysAllow", "IfHealthyBudget"],
        ));
    }
}

const HIGHEST_USER_PRIORITY: i64 = 1_000_000_000;

pub fn priority_class(obj: &Value, causes: &mut Vec<Cause>) {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let value = int_of(Some(obj), "value").unwrap_or(0);
    let system = ["system-node-critical", "system-cluster-critical"].contains(&name);
    if system {
        let want = if name == "system-node-critical" {
            2_000_001_000
        } else {
            2_000_000_000
        };
        if value != want {
            causes.push(Cause::forbidden(
                "metadata.name",
                &format!("{name} is a system priority class name and must have value {want}"),
            ));
        }
    } else {
        if name.starts_with("system-") {
            causes.push(Cause::forbidden(
                "metadata.name",
                "priority class names with 'system-' prefix are reserved",
            ));
        }
        if value > HIGHEST_USER_PRIORITY {
            causes.push(Cause::forbidden(
                "value",
                &format!(
                    "maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}"
                ),
            ));
        }
    }
    let pp = str_of(Some(obj), "preemptionPolicy");
    if !pp.is_empty() && pp != "Never" && pp != "PreemptLowerPriority" {
        causes.push(Cause::not_supported(
            "preemptionPolicy",
            pp,
            &["Never", "PreemptLowerPriority"],
        ));
    }
}

pub fn priority_class_update(new: &Value, old: &Value, causes: &mut Vec<Cause>) {
    if int_of(Some(new), "value") != int_of(Some(old), "value") {
        causes.push(Cause::forbidden(
            "value",
            "may not be changed in an update.",
        ));
    }
    if str_of(Some(new), "preemptionPolicy") != str_of(Some(old), "preemptionPolicy") {
        causes.push(Cause::invalid(
            "preemptionPolicy",
            str_of(Some(new), "preemptionPolicy"),
            IMMUTABLE,
        ));
    }
}

pub fn lease(obj: &Value, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    if let Some(d) = int_of(spec, "leaseDurationSeconds")
        && d <= 0
    {
        causes.push(invalid_int(
            "spec.leaseDurationSeconds",
            d,
            "must be greater than 0",
        ));
    }
    nonneg(spec, "leaseTransitions", "spec", causes);
    let strategy = str_of(spec, "strategy");
    if !strategy.is_empty() && strategy != "OldestEmulationVersion" {
        causes.push(Cause::not_supported(
            "spec.strategy",
            strategy,
            &["OldestEmulationVersion"],
        ));
    }
}

pub fn endpoint_slice(obj: &Value, causes: &mut Vec<Cause>) {
    const TYPES: &[&str] = &["IPv4", "IPv6", "FQDN"];
    let at = str_of(Some(obj), "addressType");
    if at.is_empty() {
        causes.push(Cause::required("addressType"));
    } else if !TYPES.contains(&at) {
        causes.push(Cause::not_supported("addressType", at, TYPES));
    }
    let eps = arr_of(Some(obj), "endpoints");
    if eps.len() > 1000 {
        causes.push(super::util::too_many("endpoints", eps.len(), 1000));
    }
    for (i, ep) in eps.iter().enumerate() {
        let p = format!("endpoints[{i}].addresses");
        let addrs = arr_of(Some(ep), "addresses");
        if addrs.is_empty() {
            causes.push(super::util::required_msg(
                &p,
                "must contain at least 1 address",
            ));
        } else if addrs.len() > 100 {
            causes.push(super::util::too_many(&p, addrs.len(), 100));
        }
        for (j, a) in addrs.iter().enumerate() {
            let a = a.as_str().unwrap_or_default();
            let bad = match at {
                "IPv4" => ip_address(a).err().or_else(|| {
                    (!a.contains('.')).then(|| vec!["must be an IPv4 address".to_string()])
                }),
                "IPv6" => ip_address(a).err().or_else(|| {
                    (!a.contains(':')).then(|| vec!["must be an IPv6 address".to_string()])
                }),
                "FQDN" => crate::validation::dns1123_subdomain(a).err(),
                _ => None,
            };
            for m in bad.into_iter().flatten() {
                causes.push(Cause::invalid(format!("{p}[{j}]"), a, &m));
            }
        }
    }
    let ports = arr_of(Some(obj), "ports");
    let mut names = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let p = format!("ports[{i}]");
        let name = str_of(Some(port), "name");
        if !name.is_empty()
            && let Err(msgs) = crate::validation::dns1123_label(name)
        {
            for m in msgs {
                causes.push(Cause::invalid(format!("{p}.name"), name, &m));
            }
        }
        if names.contains(&name) {
            causes.push(Cause::duplicate(format!("{p}.name"), name));
        }
        names.push(name);
        if let Some(n) = int_of(Some(port), "port")
            && let Err(msgs) = port_num(n)
        {
            for m in msgs {
                causes.push(invalid_int(format!("{p}.port"), n, &m));
            }
        }
        let proto = str_of(Some(port), "protocol");
        if !proto.is_empty() && !["SCTP", "TCP", "UDP"].contains(&proto) {
            causes.push(Cause::not_supported(
                format!("{p}.protocol"),
                proto,
                &["SCTP", "TCP", "UDP"],
            ));
        }
    }
}

pub fn endpoint_slice_update(new: &Value, old: &Value, causes: &mut Vec<Cause>) {
    let (n, o) = (
        str_of(Some(new), "addressType"),
        str_of(Some(old), "addressType"),
    );
    if n != o {
        causes.push(Cause::invalid("addressType", n, IMMUTABLE));
    }
}

pub fn service_account(obj: &Value, causes: &mut Vec<Cause>) {
    for (i, s) in arr_of(Some(obj), "secrets").iter().enumerate() {
        let name = str_of(Some(s), "name");
        if !name.is_empty()
            && let Err(msgs) = crate::validation::dns1123_subdomain(name)
        {
            for m in msgs {
                causes.push(Cause::invalid(format!("secrets[{i}].name"), name, &m));
            }
        }
    }
}
