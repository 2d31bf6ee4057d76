//! Pod specs (core `ValidatePodSpec`, containers, volumes, probes, resources) and the
//! rules for Pod updates.

use std::collections::HashSet;

use serde_json::Value;

use super::util::{
    IMMUTABLE, NEGATIVE, arr_of, diff, has, int_of, invalid_int, invalid_raw, labels, nonneg,
    not_found, obj_of, quantity, quantity_text, required_msg, same, str_of,
};
use crate::status::Cause;
use crate::validation::{
    dns1123_label, dns1123_subdomain, env_var_name, in_range, port_name, port_num, qualified_name,
};

const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

/// ValidatePodSpec at `path` (`spec` or `spec.template.spec`).
pub fn pod_spec(spec: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let volumes = volumes(spec, path, causes);
    let mut names = HashSet::new();
    let containers = arr_of(spec, "containers");
    let init = arr_of(spec, "initContainers");
    for (i, c) in init.iter().enumerate() {
        container(
            c,
            &format!("{path}.initContainers[{i}]"),
            &volumes,
            &mut names,
            true,
            causes,
        );
    }
    if containers.is_empty() {
        causes.push(Cause::required(format!("{path}.containers")));
    }
    for (i, c) in containers.iter().enumerate() {
        container(
            c,
            &format!("{path}.containers[{i}]"),
            &volumes,
            &mut names,
            false,
            causes,
        );
    }
    restart_policy(spec, path, causes);
    dns_policy(spec, path, causes);
    labels(
        obj_of(spec, "nodeSelector"),
        &format!("{path}.nodeSelector"),
        causes,
    );
    for (key, check) in [
        (
            "serviceAccountName",
            dns1123_subdomain as fn(&str) -> Result<(), Vec<String>>,
        ),
        ("nodeName", dns1123_subdomain),
        ("hostname", dns1123_label),
        ("subdomain", dns1123_label),
    ] {
        let v = str_of(spec, key);
        if !v.is_empty()
            && let Err(msgs) = check(v)
        {
            for m in msgs {
                causes.push(Cause::invalid(format!("{path}.{key}"), v, &m));
            }
        }
    }
    if let Some(ads) = int_of(spec, "activeDeadlineSeconds")
        && let Err(msgs) = in_range(ads, 1, i32::MAX as i64)
    {
        for m in msgs {
            causes.push(invalid_int(
                format!("{path}.activeDeadlineSeconds"),
                ads,
                &m,
            ));
        }
    }
    tolerations(
        arr_of(spec, "tolerations"),
        &format!("{path}.tolerations"),
        causes,
    );
    let sc = spec.and_then(|s| s.get("securityContext"));
    let scp = format!("{path}.securityContext");
    ids(sc, &scp, causes);
    if let Some(fs) = int_of(sc, "fsGroup")
        && let Err(msgs) = in_range(fs, 0, i32::MAX as i64)
    {
        for m in msgs {
            causes.push(invalid_int(format!("{scp}.fsGroup"), fs, &m));
        }
    }
    for (i, g) in arr_of(sc, "supplementalGroups").iter().enumerate() {
        if let Some(g) = g.as_i64()
            && let Err(msgs) = in_range(g, 0, i32::MAX as i64)
        {
            for m in msgs {
                causes.push(invalid_int(format!("{scp}.supplementalGroups[{i}]"), g, &m));
            }
        }
    }
}

/// runAsUser / runAsGroup ranges of a (pod or container) security context.
fn ids(sc: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    for key in ["runAsUser", "runAsGroup"] {
        if let Some(id) = int_of(sc, key)
            && let Err(msgs) = in_range(id, 0, i32::MAX as i64)
        {
            for m in msgs {
                causes.push(invalid_int(format!("{path}.{key}"), id, &m));
            }
        }
    }
}

fn restart_policy(spec: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let p = format!("{path}.restartPolicy");
    match str_of(spec, "restartPolicy") {
        "" => causes.push(Cause::required(p)),
        v if RESTART_POLICIES.contains(&v) => {}
        v => causes.push(Cause::not_supported(p, v, RESTART_POLICIES)),
    }
}

fn dns_policy(spec: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let p = format!("{path}.dnsPolicy");
    match str_of(spec, "dnsPolicy") {
        "" => causes.push(Cause::required(p)),
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" => {}
        "None" => {
            if !has(spec, "dnsConfig") {
                causes.push(required_msg(
                    format!("{path}.dnsConfig"),
                    "must provide `dnsConfig` when `dnsPolicy` is None",
                ));
            }
        }
        v => causes.push(Cause::not_supported(
            p,
            v,
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        )),
    }
}

fn tolerations(list: &[Value], path: &str, causes: &mut Vec<Cause>) {
    for (i, t) in list.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let key = str_of(Some(t), "key");
        let op = str_of(Some(t), "operator");
        if !key.is_empty()
            && let Err(msgs) = qualified_name(key)
        {
            for m in msgs {
                causes.push(Cause::invalid(format!("{p}.key"), key, &m));
            }
        }
        if key.is_empty() && op != "Exists" {
            causes.push(Cause::invalid(
                format!("{p}.operator"),
                op,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        let effect = str_of(Some(t), "effect");
        if has(Some(t), "tolerationSeconds") && effect != "NoExecute" {
            causes.push(Cause::invalid(
                format!("{p}.effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        let value = str_of(Some(t), "value");
        match op {
            "" | "Equal" => {
                if let Err(msgs) = crate::validation::label_value(value) {
                    for m in msgs {
                        causes.push(Cause::invalid(format!("{p}.operator"), value, &m));
                    }
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    causes.push(invalid_raw(
                        format!("{p}.operator"),
                        &t.to_string(),
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => causes.push(Cause::not_supported(
                format!("{p}.operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() && !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect)
        {
            causes.push(Cause::not_supported(
                format!("{p}.effect"),
                effect,
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            ));
        }
    }
}

/// The volume sources of core/v1, in upstream's order of checking.
const VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "emptyDir",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "quobyte",
    "cephfs",
    "downwardAPI",
    "fc",
    "azureFile",
    "vsphereVolume",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "configMap",
    "storageos",
    "csi",
    "ephemeral",
    "image",
    "flexVolume",
    "cinder",
];

/// ValidateVolumes; returns the volume names for the mounts' checks.
fn volumes<'a>(spec: Option<&'a Value>, path: &str, causes: &mut Vec<Cause>) -> Vec<&'a str> {
    let mut names = Vec::new();
    for (i, v) in arr_of(spec, "volumes").iter().enumerate() {
        let p = format!("{path}.volumes[{i}]");
        volume_source(Some(v), &p, causes);
        let name = str_of(Some(v), "name");
        if name.is_empty() {
            causes.push(Cause::required(format!("{p}.name")));
        } else if let Err(msgs) = dns1123_label(name) {
            for m in msgs {
                causes.push(Cause::invalid(format!("{p}.name"), name, &m));
            }
        }
        if names.contains(&name) {
            causes.push(Cause::duplicate(format!("{p}.name"), name));
        }
        names.push(name);
    }
    names
}

/// Exactly one volume source, and the required field of the common ones.
pub fn volume_source(v: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let mut count = 0;
    for src in VOLUME_SOURCES {
        if !has(v, src) {
            continue;
        }
        count += 1;
        if count > 1 {
            causes.push(Cause::forbidden(
                format!("{path}.{src}"),
                "may not specify more than 1 volume type",
            ));
            continue;
        }
        let s = v.and_then(|v| v.get(*src));
        let sp = format!("{path}.{src}");
        let required = match *src {
            "hostPath" | "nfs" => Some("path"),
            "secret" => Some("secretName"),
            "persistentVolumeClaim" => Some("claimName"),
            "configMap" => Some("name"),
            "csi" => Some("driver"),
            _ => None,
        };
        if let Some(key) = required
            && str_of(s, key).is_empty()
        {
            causes.push(Cause::required(format!("{sp}.{key}")));
        }
        if *src == "hostPath" {
            let ty = str_of(s, "type");
            const TYPES: &[&str] = &[
                "",
                "BlockDevice",
                "CharDevice",
                "Directory",
                "DirectoryOrCreate",
                "File",
                "FileOrCreate",
                "Socket",
            ];
            if !TYPES.contains(&ty) {
                causes.push(Cause::not_supported(format!("{sp}.type"), ty, TYPES));
            }
        }
        for key in ["defaultMode"] {
            if let Some(mode) = int_of(s, key)
                && !(0..=0o777).contains(&mode)
            {
                causes.push(invalid_int(
                    format!("{sp}.{key}"),
                    mode,
                    "must be a number between 0 and 0777 (octal), both inclusive",
                ));
            }
        }
    }
    if count == 0 {
        causes.push(required_msg(path, "must specify a volume type"));
    }
}

fn container(
    c: &Value,
    p: &str,
    volumes: &[&str],
    names: &mut HashSet<String>,
    init: bool,
    causes: &mut Vec<Cause>,
) {
    let c = Some(c);
    let name = str_of(c, "name");
    if name.is_empty() {
        causes.push(Cause::required(format!("{p}.name")));
    } else if let Err(msgs) = dns1123_label(name) {
        for m in msgs {
            causes.push(Cause::invalid(format!("{p}.name"), name, &m));
        }
    }
    if !name.is_empty() && !names.insert(name.to_string()) {
        causes.push(Cause::duplicate(format!("{p}.name"), name));
    }
    let image = str_of(c, "image");
    if image.is_empty() {
        causes.push(Cause::required(format!("{p}.image")));
    } else if image.trim() != image {
        causes.push(Cause::invalid(
            format!("{p}.image"),
            image,
            "must not have leading or trailing whitespace",
        ));
    }
    match str_of(c, "imagePullPolicy") {
        "" => causes.push(Cause::required(format!("{p}.imagePullPolicy"))),
        "Always" | "IfNotPresent" | "Never" => {}
        v => causes.push(Cause::not_supported(
            format!("{p}.imagePullPolicy"),
            v,
            &["Always", "IfNotPresent", "Never"],
        )),
    }
    match str_of(c, "terminationMessagePolicy") {
        "" => causes.push(Cause::required(format!("{p}.terminationMessagePolicy"))),
        "File" | "FallbackToLogsOnError" => {}
        v => causes.push(Cause::not_supported(
            format!("{p}.terminationMessagePolicy"),
            v,
            &["File", "FallbackToLogsOnError"],
        )),
    }
    if init {
        match str_of(c, "restartPolicy") {
            "" | "Always" => {}
            v => causes.push(Cause::not_supported(
                format!("{p}.restartPolicy"),
                v,
                &["Always"],
            )),
        }
    } else if has(c, "restartPolicy") {
        causes.push(Cause::forbidden(
            format!("{p}.restartPolicy"),
            "may not be set for non-init containers",
        ));
    }
    ports(arr_of(c, "ports"), &format!("{p}.ports"), causes);
    env(arr_of(c, "env"), &format!("{p}.env"), causes);
    for (i, e) in arr_of(c, "envFrom").iter().enumerate() {
        let prefix = str_of(Some(e), "prefix");
        if !prefix.is_empty()
            && let Err(msgs) = env_var_name(prefix)
        {
            for m in msgs {
                causes.push(Cause::invalid(
                    format!("{p}.envFrom[{i}].prefix"),
                    prefix,
                    &m,
                ));
            }
        }
        let n = ["configMapRef", "secretRef"]
            .iter()
            .filter(|k| has(Some(e), k))
            .count();
        if n == 0 {
            causes.push(Cause::invalid(
                format!("{p}.envFrom[{i}]"),
                "",
                "must specify one of: `configMapRef` or `secretRef`",
            ));
        } else if n > 1 {
            causes.push(Cause::invalid(
                format!("{p}.envFrom[{i}]"),
                "",
                "may not have more than one field specified at a time",
            ));
        }
    }
    volume_mounts(
        arr_of(c, "volumeMounts"),
        &format!("{p}.volumeMounts"),
        volumes,
        causes,
    );
    resources(
        c.and_then(|c| c.get("resources")),
        &format!("{p}.resources"),
        causes,
    );
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let Some(pr) = c.and_then(|c| c.get(probe)).filter(|v| !v.is_null()) else {
            continue;
        };
        if init && !matches!(str_of(c, "restartPolicy"), "Always") {
            causes.push(Cause::forbidden(
                format!("{p}.{probe}"),
                "may not be set for init containers without restartPolicy=Always",
            ));
            continue;
        }
        let pp = format!("{p}.{probe}");
        handler(Some(pr), &pp, causes);
        for key in [
            "initialDelaySeconds",
            "timeoutSeconds",
            "periodSeconds",
            "successThreshold",
            "failureThreshold",
        ] {
            nonneg(Some(pr), key, &pp, causes);
        }
        if probe != "readinessProbe"
            && let Some(st) = int_of(Some(pr), "successThreshold")
            && st != 1
        {
            causes.push(invalid_int(
                format!("{pp}.successThreshold"),
                st,
                "must be 1",
            ));
        }
        if probe == "readinessProbe" && has(Some(pr), "terminationGracePeriodSeconds") {
            causes.push(invalid_raw(
                format!("{pp}.terminationGracePeriodSeconds"),
                &pr["terminationGracePeriodSeconds"].to_string(),
                "must not be set for readinessProbes",
            ));
        }
        if let Some(t) = int_of(Some(pr), "terminationGracePeriodSeconds")
            && t <= 0
        {
            causes.push(invalid_int(
                format!("{pp}.terminationGracePeriodSeconds"),
                t,
                "must be greater than 0",
            ));
        }
    }
    for hook in ["postStart", "preStop"] {
        if let Some(h) = c
            .and_then(|c| c.get("lifecycle"))
            .and_then(|l| l.get(hook))
            .filter(|v| !v.is_null())
        {
            handler(Some(h), &format!("{p}.lifecycle.{hook}"), causes);
        }
    }
    ids(
        c.and_then(|c| c.get("securityContext")),
        &format!("{p}.securityContext"),
        causes,
    );
}

/// A probe's or lifecycle hook's handler: exactly one of exec/httpGet/tcpSocket/grpc/sleep.
fn handler(h: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let mut count = 0;
    for kind in ["exec", "httpGet", "tcpSocket", "grpc", "sleep"] {
        if !has(h, kind) {
            continue;
        }
        count += 1;
        if count > 1 {
            causes.push(Cause::forbidden(
                format!("{path}.{kind}"),
                "may not specify more than 1 handler type",
            ));
            continue;
        }
        let v = h.and_then(|h| h.get(kind));
        let p = format!("{path}.{kind}");
        match kind {
            "exec" => {
                if arr_of(v, "command").is_empty() {
                    causes.push(Cause::required(format!("{p}.command")));
                }
            }
            "httpGet" => {
                if str_of(v, "path").is_empty() {
                    causes.push(Cause::required(format!("{p}.path")));
                }
                port_num_or_name(v.and_then(|v| v.get("port")), &format!("{p}.port"), causes);
                let scheme = str_of(v, "scheme");
                if !["HTTP", "HTTPS"].contains(&scheme) {
                    causes.push(Cause::not_supported(
                        format!("{p}.scheme"),
                        scheme,
                        &["HTTP", "HTTPS"],
                    ));
                }
            }
            "tcpSocket" => {
                port_num_or_name(v.and_then(|v| v.get("port")), &format!("{p}.port"), causes)
            }
            "grpc" => {
                let port = int_of(v, "port").unwrap_or(0);
                if let Err(msgs) = port_num(port) {
                    for m in msgs {
                        causes.push(invalid_int(format!("{p}.port"), port, &m));
                    }
                }
            }
            _ => {
                if let Some(s) = int_of(v, "seconds")
                    && s <= 0
                {
                    causes.push(invalid_int(
                        format!("{p}.seconds"),
                        s,
                        "must be greater than 0",
                    ));
                }
            }
        }
    }
    if count == 0 {
        causes.push(required_msg(path, "must specify a handler type"));
    }
}

/// ValidatePortNumOrName for an int-or-string port.
pub fn port_num_or_name(v: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    match v {
        Some(Value::String(s)) if s.is_empty() => causes.push(Cause::required(path)),
        Some(Value::String(s)) => {
            if let Err(msgs) = port_name(s) {
                for m in msgs {
                    causes.push(Cause::invalid(path, s, &m));
                }
            }
        }
        Some(Value::Number(n)) => {
            let n = n.as_i64().unwrap_or(0);
            if let Err(msgs) = port_num(n) {
                for m in msgs {
                    causes.push(invalid_int(path, n, &m));
                }
            }
        }
        _ => causes.push(Cause::required(path)),
    }
}

fn ports(list: &[Value], path: &str, causes: &mut Vec<Cause>) {
    let mut names = HashSet::new();
    for (i, port) in list.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let pt = Some(port);
        let name = str_of(pt, "name");
        if !name.is_empty() {
            if let Err(msgs) = port_name(name) {
                for m in msgs {
                    causes.push(Cause::invalid(format!("{p}.name"), name, &m));
                }
            } else if !names.insert(name) {
                causes.push(Cause::duplicate(format!("{p}.name"), name));
            }
        }
        match int_of(pt, "containerPort") {
            None | Some(0) => causes.push(Cause::required(format!("{p}.containerPort"))),
            Some(n) => {
                if let Err(msgs) = port_num(n) {
                    for m in msgs {
                        causes.push(invalid_int(format!("{p}.containerPort"), n, &m));
                    }
                }
            }
        }
        if let Some(n) = int_of(pt, "hostPort").filter(|n| *n != 0)
            && let Err(msgs) = port_num(n)
        {
            for m in msgs {
                causes.push(invalid_int(format!("{p}.hostPort"), n, &m));
            }
        }
        protocol(pt, &p, causes);
    }
}

/// `protocol` of a port: required, one of SCTP/TCP/UDP.
pub fn protocol(port: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    match str_of(port, "protocol") {
        "" => causes.push(Cause::required(format!("{path}.protocol"))),
        v if PROTOCOLS.contains(&v) => {}
        v => causes.push(Cause::not_supported(
            format!("{path}.protocol"),
            v,
            PROTOCOLS,
        )),
    }
}

fn env(list: &[Value], path: &str, causes: &mut Vec<Cause>) {
    for (i, e) in list.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let e = Some(e);
        let name = str_of(e, "name");
        if name.is_empty() {
            causes.push(Cause::required(format!("{p}.name")));
        } else if let Err(msgs) = env_var_name(name) {
            for m in msgs {
                causes.push(Cause::invalid(format!("{p}.name"), name, &m));
            }
        }
        let Some(from) = e.and_then(|e| e.get("valueFrom")).filter(|v| !v.is_null()) else {
            continue;
        };
        let fp = format!("{p}.valueFrom");
        let sources = [
            "fieldRef",
            "resourceFieldRef",
            "configMapKeyRef",
            "secretKeyRef",
        ];
        let n = sources.iter().filter(|k| has(Some(from), k)).count();
        if n == 0 {
            causes.push(Cause::invalid(
                &fp,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            ));
        } else if n > 1 {
            causes.push(Cause::invalid(
                &fp,
                "",
                "may not have more than one field specified at a time",
            ));
        }
        for key in ["configMapKeyRef", "secretKeyRef"] {
            if let Some(r) = from.get(key).filter(|v| !v.is_null()) {
                let k = str_of(Some(r), "key");
                if k.is_empty() {
                    causes.push(Cause::required(format!("{fp}.{key}.key")));
                } else if let Err(msgs) = crate::validation::config_map_key(k) {
                    for m in msgs {
                        causes.push(Cause::invalid(format!("{fp}.{key}.key"), k, &m));
                    }
                }
            }
        }
        if let Some(r) = from.get("fieldRef").filter(|v| !v.is_null())
            && str_of(Some(r), "fieldPath").is_empty()
        {
            causes.push(Cause::required(format!("{fp}.fieldRef.fieldPath")));
        }
        if let Some(r) = from.get("resourceFieldRef").filter(|v| !v.is_null())
            && str_of(Some(r), "resource").is_empty()
        {
            causes.push(Cause::required(format!("{fp}.resourceFieldRef.resource")));
        }
        if !str_of(e, "value").is_empty() {
            causes.push(Cause::invalid(
                &fp,
                "",
                "may not be specified when `value` is not empty",
            ));
        }
    }
}

fn volume_mounts(list: &[Value], path: &str, volumes: &[&str], causes: &mut Vec<Cause>) {
    let mut paths = HashSet::new();
    for (i, m) in list.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let m = Some(m);
        let name = str_of(m, "name");
        if name.is_empty() {
            causes.push(Cause::required(format!("{p}.name")));
        }
        if !volumes.contains(&name) {
            causes.push(not_found(format!("{p}.name"), name));
        }
        let mp = str_of(m, "mountPath");
        if mp.is_empty() {
            causes.push(Cause::required(format!("{p}.mountPath")));
        }
        if !paths.insert(mp) {
            causes.push(Cause::invalid(
                format!("{p}.mountPath"),
                mp,
                "must be unique",
            ));
        }
        let sub = str_of(m, "subPath");
        if !sub.is_empty() {
            if sub.starts_with('/') {
                causes.push(Cause::invalid(
                    format!("{p}.subPath"),
                    sub,
                    "must be a relative path",
                ));
            }
            if sub.split('/').any(|s| s == "..") {
                causes.push(Cause::invalid(
                    format!("{p}.subPath"),
                    sub,
                    "must not contain '..'",
                ));
            }
        }
    }
}

fn standard_container_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-")
}

/// ValidateResourceRequirements for a container (or pod-level resources).
pub fn resources(r: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let limits = obj_of(r, "limits");
    let requests = obj_of(r, "requests");
    let check_name = |name: &str, p: &str, causes: &mut Vec<Cause>| {
        if let Err(msgs) = qualified_name(name) {
            for m in msgs {
                causes.push(Cause::invalid(p, name, &m));
            }
        } else if !name.contains('/') && !standard_container_resource(name) {
            causes.push(Cause::invalid(
                p,
                name,
                "must be a standard resource for containers",
            ));
        }
    };
    let check_value = |q: &Value, p: &str, causes: &mut Vec<Cause>| {
        if quantity(q).is_some_and(|v| v < 0.0) {
            causes.push(Cause::invalid(p, &quantity_text(q), NEGATIVE));
        }
    };
    for (name, q) in limits.into_iter().flatten() {
        let p = format!("{path}.limits[{name}]");
        check_name(name, &p, causes);
        check_value(q, &p, causes);
    }
    for (name, q) in requests.into_iter().flatten() {
        let p = format!("{path}.requests[{name}]");
        check_name(name, &p, causes);
        check_value(q, &p, causes);
        match limits.and_then(|l| l.get(name)) {
            Some(limit) => {
                if let (Some(a), Some(b)) = (quantity(q), quantity(limit))
                    && a > b
                {
                    causes.push(Cause::invalid(
                        format!("{path}.requests"),
                        &quantity_text(q),
                        &format!(
                            "must be less than or equal to {name} limit of {}",
                            quantity_text(limit)
                        ),
                    ));
                }
            }
            None => {
                let overcommit = standard_container_resource(name)
                    && !name.starts_with("hugepages-")
                    || name.starts_with("kubernetes.io/")
                    || !name.contains('/');
                if !overcommit {
                    causes.push(required_msg(
                        format!("{path}.limits"),
                        "Limit must be set for non overcommitable resources",
                    ));
                }
            }
        }
    }
}

/// ValidatePodTemplateSpec: template labels/annotations and the pod spec.
pub fn template(t: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let meta = t.and_then(|t| t.get("metadata"));
    labels(
        obj_of(meta, "labels"),
        &format!("{path}.metadata.labels"),
        causes,
    );
    super::meta::annotations(
        obj_of(meta, "annotations"),
        &format!("{path}.metadata.annotations"),
        causes,
    );
    pod_spec(
        t.and_then(|t| t.get("spec")),
        &format!("{path}.spec"),
        causes,
    );
}

const UPDATABLE: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// ValidatePodUpdate: only images, activeDeadlineSeconds, added tolerations (and a few
/// system-owned fields) may change. Call it for the main resource, not for /status or
/// /binding, whose changes go through their own paths upstream.
pub fn pod_update(new: &Value, old: &Value, causes: &mut Vec<Cause>) {
    let (Some(ns), Some(os)) = (new.get("spec"), old.get("spec")) else {
        return;
    };
    if let (Some(n), Some(o)) = (
        int_of(Some(ns), "activeDeadlineSeconds"),
        int_of(Some(os), "activeDeadlineSeconds"),
    ) && n > o
    {
        causes.push(invalid_int(
            "spec.activeDeadlineSeconds",
            n,
            "must be less than or equal to previous value",
        ));
    }
    if has(Some(os), "activeDeadlineSeconds") && !has(Some(ns), "activeDeadlineSeconds") {
        causes.push(invalid_raw(
            "spec.activeDeadlineSeconds",
            "null",
            "must not update from a positive integer to nil value",
        ));
    }
    let old_tol = arr_of(Some(os), "tolerations");
    for t in old_tol {
        if !arr_of(Some(ns), "tolerations")
            .iter()
            .any(|n| same(Some(n), Some(t)))
        {
            causes.push(Cause::forbidden(
                "spec.tolerations",
                "existing toleration can not be modified except its tolerationSeconds",
            ));
            break;
        }
    }
    // The old spec with everything that may change taken from the new one.
    let mut munged = os.clone();
    for key in ["containers", "initContainers"] {
        let new_list = arr_of(Some(ns), key);
        if let Some(list) = munged.get_mut(key).and_then(Value::as_array_mut)
            && list.len() == new_list.len()
        {
            for (o, n) in list.iter_mut().zip(new_list) {
                if let (Some(o), Some(img)) = (o.as_object_mut(), n.get("image")) {
                    o.insert("image".into(), img.clone());
                }
            }
        }
    }
    if let Some(m) = munged.as_object_mut() {
        for key in ["activeDeadlineSeconds", "tolerations"] {
            match ns.get(key) {
                Some(v) => m.insert(key.into(), v.clone()),
                None => m.remove(key),
            };
        }
        if int_of(Some(os), "terminationGracePeriodSeconds").is_some_and(|g| g < 0)
            && int_of(Some(ns), "terminationGracePeriodSeconds") == Some(1)
        {
            m.insert("terminationGracePeriodSeconds".into(), Value::from(1));
        }
        // Scheduling gates may only be removed; nodeName is written through /binding.
        let gates_removed = arr_of(Some(ns), "schedulingGates")
            .iter()
            .all(|g| arr_of(Some(os), "schedulingGates").contains(g));
        if gates_removed {
            match ns.get("schedulingGates") {
                Some(v) => m.insert("schedulingGates".into(), v.clone()),
                None => m.remove("schedulingGates"),
            };
        }
        // Ephemeral containers change through their own subresource.
        match ns.get("ephemeralContainers") {
            Some(v) => m.insert("ephemeralContainers".into(), v.clone()),
            None => m.remove("ephemeralContainers"),
        };
    }
    if !same(Some(&munged), Some(ns)) {
        causes.push(Cause::forbidden(
            "spec",
            &format!(
                "pod updates may not change fields other than {UPDATABLE}\n{}",
                diff(&munged, ns)
            ),
        ));
    }
}

/// A PodTemplate's or template field's immutability message for kinds that freeze it.
pub fn template_immutable(path: &str) -> Cause {
    invalid_raw(path, "core.PodTemplateSpec{...}", IMMUTABLE)
}
