//! Defaulting of built-in kinds, as kube-apiserver's `SetDefaults_*` functions and the
//! default admission plugins do, applied to the JSON form of an object.

use serde_json::{Map, Value, json};

/// Sets `obj[key] = value` when it is missing or null.
fn default(obj: &mut Map<String, Value>, key: &str, value: Value) {
    match obj.get(key) {
        Some(v) if !v.is_null() => {}
        _ => {
            obj.insert(key.to_string(), value);
        }
    }
}

fn object_at<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let m = v.as_object_mut()?;
    if !m.get(key).is_some_and(Value::is_object) {
        m.insert(key.to_string(), json!({}));
    }
    m.get_mut(key).and_then(Value::as_object_mut)
}

/// Applies the defaults of `kind` to `obj`.
/// `stringData` is write-only: its entries go into `data` (base64), overriding keys there,
/// and it is never stored or returned, as upstream's Secret conversion does.
fn merge_string_data(secret: &mut serde_json::Map<String, Value>) {
    use base64::Engine;
    let Some(string_data) = secret.remove("stringData") else {
        return;
    };
    let Some(entries) = string_data.as_object() else {
        return;
    };
    if !secret.get("data").is_some_and(Value::is_object) {
        secret.insert("data".into(), json!({}));
    }
    if let Some(data) = secret.get_mut("data").and_then(Value::as_object_mut) {
        for (k, v) in entries {
            let text = v.as_str().unwrap_or_default();
            let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
            data.insert(k.clone(), json!(encoded));
        }
    }
}

pub fn apply(kind: &str, obj: &mut Value) {
    match kind {
        "CustomResourceDefinition" => crate::crd::definition::apply_defaults(obj),
        "Pod" => {
            if let Some(spec) = obj.get_mut("spec") {
                pod_spec(spec);
            }
        }
        "PodTemplate" => {
            if let Some(spec) = obj.pointer_mut("/template/spec") {
                template_pod_spec(spec);
            }
        }
        "Deployment" => deployment(obj),
        "ReplicaSet" => {
            if let Some(spec) = object_at(obj, "spec") {
                default(spec, "replicas", json!(1));
            }
            pod_template(obj);
        }
        "ReplicationController" => replication_controller(obj),
        "StatefulSet" => stateful_set(obj),
        "DaemonSet" => daemon_set(obj),
        "Job" => job(obj),
        "CronJob" => {
            if let Some(spec) = object_at(obj, "spec") {
                default(spec, "concurrencyPolicy", json!("Allow"));
                default(spec, "suspend", json!(false));
                default(spec, "successfulJobsHistoryLimit", json!(3));
                default(spec, "failedJobsHistoryLimit", json!(1));
            }
            if let Some(spec) = obj.pointer_mut("/spec/jobTemplate/spec/template/spec") {
                template_pod_spec(spec);
            }
        }
        "Service" => service(obj),
        "Namespace" => {
            if let Some(spec) = object_at(obj, "spec") {
                default(spec, "finalizers", json!(["kubernetes"]));
            }
            let name = obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if let Some(labels) =
                object_at(obj, "metadata").and_then(|m| object_at_map(m, "labels"))
            {
                labels.insert("kubernetes.io/metadata.name".into(), json!(name));
            }
        }
        "Secret" => {
            if let Some(m) = obj.as_object_mut() {
                default(m, "type", json!("Opaque"));
                merge_string_data(m);
            }
        }
        "PersistentVolumeClaim" => {
            if let Some(spec) = object_at(obj, "spec") {
                default(spec, "volumeMode", json!("Filesystem"));
            }
            if let Some(status) = object_at(obj, "status") {
                default(status, "phase", json!("Pending"));
            }
        }
        "PersistentVolume" => {
            if let Some(spec) = object_at(obj, "spec") {
                default(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
                default(spec, "volumeMode", json!("Filesystem"));
            }
            if let Some(status) = object_at(obj, "status") {
                default(status, "phase", json!("Pending"));
            }
        }
        "Node" => {
            if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut)
                && let Some(cap) = status.get("capacity").cloned()
            {
                default(status, "allocatable", cap);
            }
        }
        "Endpoints" => {
            if let Some(subsets) = obj.get_mut("subsets").and_then(Value::as_array_mut) {
                for s in subsets {
                    default_protocols(s.get_mut("ports"));
                }
            }
        }
        "EndpointSlice" => default_protocols(obj.get_mut("ports")),
        "LimitRange" => limit_range(obj),
        "NetworkPolicy" => network_policy(obj),
        "RoleBinding" | "ClusterRoleBinding" => role_binding(obj),
        "StorageClass" => {
            if let Some(m) = obj.as_object_mut() {
                default(m, "reclaimPolicy", json!("Delete"));
                default(m, "volumeBindingMode", json!("Immediate"));
            }
        }
        "PriorityClass" => {
            if let Some(m) = obj.as_object_mut() {
                default(m, "preemptionPolicy", json!("PreemptLowerPriority"));
            }
        }
        "HorizontalPodAutoscaler" => hpa(obj),
        _ => {}
    }
}

fn default_protocols(ports: Option<&mut Value>) {
    for p in ports.and_then(Value::as_array_mut).into_iter().flatten() {
        if let Some(p) = p.as_object_mut() {
            default(p, "protocol", json!("TCP"));
        }
    }
}

fn replication_controller(obj: &mut Value) {
    let tlabels = obj.pointer("/spec/template/metadata/labels").cloned();
    if let Some(spec) = object_at(obj, "spec") {
        default(spec, "replicas", json!(1));
        if let Some(l) = &tlabels
            && spec
                .get("selector")
                .is_none_or(|s| s.as_object().is_none_or(|m| m.is_empty()))
        {
            spec.insert("selector".into(), l.clone());
        }
    }
    if let Some(l) = tlabels
        && let Some(meta) = object_at(obj, "metadata")
        && meta
            .get("labels")
            .is_none_or(|s| s.as_object().is_none_or(|m| m.is_empty()))
    {
        meta.insert("labels".into(), l);
    }
    pod_template(obj);
}

fn stateful_set(obj: &mut Value) {
    if let Some(spec) = object_at(obj, "spec") {
        default(spec, "replicas", json!(1));
        default(spec, "podManagementPolicy", json!("OrderedReady"));
        default(spec, "revisionHistoryLimit", json!(10));
        default(spec, "updateStrategy", json!({"type": "RollingUpdate"}));
        if let Some(us) = spec
            .get_mut("updateStrategy")
            .and_then(Value::as_object_mut)
        {
            default(us, "type", json!("RollingUpdate"));
            if us.get("type") == Some(&json!("RollingUpdate")) {
                default(us, "rollingUpdate", json!({}));
                if let Some(ru) = us.get_mut("rollingUpdate").and_then(Value::as_object_mut) {
                    default(ru, "partition", json!(0));
                }
            }
        }
        default(spec, "persistentVolumeClaimRetentionPolicy", json!({}));
        if let Some(p) = spec
            .get_mut("persistentVolumeClaimRetentionPolicy")
            .and_then(Value::as_object_mut)
        {
            default(p, "whenDeleted", json!("Retain"));
            default(p, "whenScaled", json!("Retain"));
        }
        if let Some(vcts) = spec
            .get_mut("volumeClaimTemplates")
            .and_then(Value::as_array_mut)
        {
            for t in vcts {
                if let Some(s) = t.get_mut("spec").and_then(Value::as_object_mut) {
                    default(s, "volumeMode", json!("Filesystem"));
                }
                if let Some(m) = t.as_object_mut() {
                    default(m, "status", json!({"phase": "Pending"}));
                }
            }
        }
    }
    pod_template(obj);
}

fn daemon_set(obj: &mut Value) {
    if let Some(spec) = object_at(obj, "spec") {
        default(spec, "revisionHistoryLimit", json!(10));
        default(spec, "updateStrategy", json!({"type": "RollingUpdate"}));
        if let Some(us) = spec
            .get_mut("updateStrategy")
            .and_then(Value::as_object_mut)
        {
            default(us, "type", json!("RollingUpdate"));
            if us.get("type") == Some(&json!("RollingUpdate")) {
                default(us, "rollingUpdate", json!({}));
                if let Some(ru) = us.get_mut("rollingUpdate").and_then(Value::as_object_mut) {
                    default(ru, "maxUnavailable", json!(1));
                    default(ru, "maxSurge", json!(0));
                }
            }
        }
    }
    pod_template(obj);
}

/// SetDefaults_Job plus the Job strategy's generated selector: unless `manualSelector`,
/// the selector is the Job's uid (`metadata.uid` is assigned before defaulting) and the
/// template carries the matching labels.
fn job(obj: &mut Value) {
    let tlabels = obj.pointer("/spec/template/metadata/labels").cloned();
    if let Some(l) = tlabels.filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
        && let Some(meta) = object_at(obj, "metadata")
        && meta
            .get("labels")
            .is_none_or(|s| s.as_object().is_none_or(|m| m.is_empty()))
    {
        meta.insert("labels".into(), l);
    }
    if let Some(spec) = object_at(obj, "spec") {
        let unset = |s: &Map<String, Value>, k: &str| s.get(k).is_none_or(Value::is_null);
        if unset(spec, "completions") && unset(spec, "parallelism") {
            spec.insert("completions".into(), json!(1));
            spec.insert("parallelism".into(), json!(1));
        }
        default(spec, "parallelism", json!(1));
        let per_index = !unset(spec, "backoffLimitPerIndex");
        default(
            spec,
            "backoffLimit",
            json!(if per_index { i32::MAX } else { 6 }),
        );
        default(spec, "completionMode", json!("NonIndexed"));
        default(spec, "suspend", json!(false));
        let pfp = !unset(spec, "podFailurePolicy");
        default(
            spec,
            "podReplacementPolicy",
            json!(if pfp { "Failed" } else { "TerminatingOrFailed" }),
        );
        if let Some(rules) = spec
            .get_mut("podFailurePolicy")
            .and_then(|p| p.get_mut("rules"))
            .and_then(Value::as_array_mut)
        {
            for r in rules {
                for c in r
                    .get_mut("onPodConditions")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    if let Some(c) = c.as_object_mut() {
                        default(c, "status", json!("True"));
                    }
                }
            }
        }
    }
    generate_job_selector(obj);
    pod_template(obj);
}

fn generate_job_selector(obj: &mut Value) {
    let manual = obj.pointer("/spec/manualSelector").and_then(Value::as_bool) == Some(true);
    let has_selector = obj.pointer("/spec/selector").is_some_and(|s| !s.is_null());
    let uid = obj
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if manual || has_selector || uid.is_empty() {
        return;
    }
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if let Some(spec) = object_at(obj, "spec") {
        spec.insert(
            "selector".into(),
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
        );
    }
    if let Some(labels) = obj
        .pointer_mut("/spec/template")
        .and_then(|t| object_at(t, "metadata"))
        .and_then(|m| object_at_map(m, "labels"))
    {
        labels.insert("batch.kubernetes.io/controller-uid".into(), json!(uid));
        labels.insert("controller-uid".into(), json!(uid));
        if !name.is_empty() {
            labels.insert("batch.kubernetes.io/job-name".into(), json!(name));
            labels.insert("job-name".into(), json!(name));
        }
    }
}

fn limit_range(obj: &mut Value) {
    let Some(limits) = obj
        .pointer_mut("/spec/limits")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for item in limits {
        if item.get("type").and_then(Value::as_str) != Some("Container") {
            continue;
        }
        let Some(m) = item.as_object_mut() else {
            continue;
        };
        let get = |m: &Map<String, Value>, k: &str| {
            m.get(k)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let mut def = get(m, "default");
        for (k, v) in get(m, "max") {
            def.entry(k).or_insert(v);
        }
        let mut req = get(m, "defaultRequest");
        for (k, v) in def.iter() {
            req.entry(k.clone()).or_insert(v.clone());
        }
        for (k, v) in get(m, "min") {
            req.entry(k).or_insert(v);
        }
        if !def.is_empty() {
            m.insert("default".into(), Value::Object(def));
        }
        if !req.is_empty() {
            m.insert("defaultRequest".into(), Value::Object(req));
        }
    }
}

fn network_policy(obj: &mut Value) {
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    for key in ["ingress", "egress"] {
        for rule in spec
            .get_mut(key)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            default_protocols(rule.get_mut("ports"));
        }
    }
    if spec
        .get("policyTypes")
        .is_none_or(|p| p.as_array().is_none_or(Vec::is_empty))
    {
        let mut types = vec![json!("Ingress")];
        if spec
            .get("egress")
            .and_then(Value::as_array)
            .is_some_and(|e| !e.is_empty())
        {
            types.push(json!("Egress"));
        }
        spec.insert("policyTypes".into(), Value::Array(types));
    }
}

fn role_binding(obj: &mut Value) {
    const GROUP: &str = "rbac.authorization.k8s.io";
    if let Some(rr) = object_at(obj, "roleRef")
        && rr
            .get("apiGroup")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .is_empty()
    {
        rr.insert("apiGroup".into(), json!(GROUP));
    }
    for s in obj
        .get_mut("subjects")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let Some(m) = s.as_object_mut() else { continue };
        if m.get("apiGroup")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .is_empty()
        {
            match m.get("kind").and_then(Value::as_str) {
                // The empty group is omitted when serialized (`omitempty`), as upstream.
                Some("ServiceAccount") => {
                    m.remove("apiGroup");
                }
                Some("User") | Some("Group") => {
                    m.insert("apiGroup".into(), json!(GROUP));
                }
                _ => {}
            }
        }
    }
}

/// autoscaling/v2 defaults (minReplicas 1, a CPU metric at 80%, and the scaling rules when
/// `behavior` is given); autoscaling/v1 objects only get minReplicas.
fn hpa(obj: &mut Value) {
    let v2 = obj.get("apiVersion").and_then(Value::as_str) != Some("autoscaling/v1")
        && obj
            .pointer("/spec/targetCPUUtilizationPercentage")
            .is_none();
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    default(spec, "minReplicas", json!(1));
    if !v2 {
        return;
    }
    if spec
        .get("metrics")
        .is_none_or(|m| m.as_array().is_none_or(Vec::is_empty))
    {
        spec.insert(
            "metrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]),
        );
    }
    let Some(behavior) = spec.get_mut("behavior").and_then(Value::as_object_mut) else {
        return;
    };
    default(behavior, "scaleUp", json!({}));
    default(behavior, "scaleDown", json!({}));
    if let Some(up) = behavior.get_mut("scaleUp").and_then(Value::as_object_mut) {
        default(up, "stabilizationWindowSeconds", json!(0));
        default(up, "selectPolicy", json!("Max"));
        default(
            up,
            "policies",
            json!([{"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]),
        );
    }
    if let Some(down) = behavior.get_mut("scaleDown").and_then(Value::as_object_mut) {
        default(down, "stabilizationWindowSeconds", json!(300));
        default(down, "selectPolicy", json!("Max"));
        default(
            down,
            "policies",
            json!([{"type": "Percent", "value": 100, "periodSeconds": 15}]),
        );
    }
}

fn object_at_map<'a>(
    m: &'a mut Map<String, Value>,
    key: &str,
) -> Option<&'a mut Map<String, Value>> {
    if !m.get(key).is_some_and(Value::is_object) {
        m.insert(key.to_string(), json!({}));
    }
    m.get_mut(key).and_then(Value::as_object_mut)
}

fn pod_template(obj: &mut Value) {
    if let Some(spec) = obj.pointer_mut("/spec/template/spec") {
        template_pod_spec(spec);
    }
}

fn deployment(obj: &mut Value) {
    if let Some(spec) = object_at(obj, "spec") {
        default(spec, "replicas", json!(1));
        default(spec, "revisionHistoryLimit", json!(10));
        default(spec, "progressDeadlineSeconds", json!(600));
        default(spec, "strategy", json!({"type": "RollingUpdate"}));
        if let Some(strategy) = spec.get_mut("strategy").and_then(Value::as_object_mut) {
            default(strategy, "type", json!("RollingUpdate"));
            if strategy.get("type") == Some(&json!("RollingUpdate")) {
                default(strategy, "rollingUpdate", json!({}));
                if let Some(ru) = strategy
                    .get_mut("rollingUpdate")
                    .and_then(Value::as_object_mut)
                {
                    default(ru, "maxUnavailable", json!("25%"));
                    default(ru, "maxSurge", json!("25%"));
                }
            }
        }
    }
    pod_template(obj);
}

/// Pod spec defaults (SetDefaults_PodSpec, _Container) plus what admission adds to Pods
/// (ServiceAccount, Priority, DefaultTolerationSeconds).
pub fn pod_spec(spec: &mut Value) {
    template_pod_spec(spec);
    let Some(s) = spec.as_object_mut() else {
        return;
    };
    // Requests default to limits: SetDefaults_Pod does this for a Pod's containers, not
    // for pod templates.
    for key in ["containers", "initContainers"] {
        for c in s
            .get_mut(key)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            requests_from_limits(c);
        }
    }
    default(s, "preemptionPolicy", json!("PreemptLowerPriority"));
    default(s, "priority", json!(0));
    if s.get("serviceAccountName").is_none_or(Value::is_null) {
        let sa = s.get("serviceAccount").cloned().unwrap_or(json!("default"));
        s.insert("serviceAccountName".into(), sa.clone());
        s.insert("serviceAccount".into(), sa);
    }
    let tolerations = s.entry("tolerations").or_insert_with(|| json!([]));
    if let Some(list) = tolerations.as_array_mut() {
        for key in [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable",
        ] {
            let present = list.iter().any(|t| {
                t.get("key").and_then(Value::as_str) == Some(key)
                    || (t.get("operator").and_then(Value::as_str) == Some("Exists")
                        && t.get("key").is_none())
            });
            if !present {
                list.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
            }
        }
    }
}

fn requests_from_limits(c: &mut Value) {
    if let Some(res) = c.get_mut("resources").and_then(Value::as_object_mut)
        && let Some(limits) = res.get("limits").and_then(Value::as_object).cloned()
        && !limits.is_empty()
    {
        let req = res.entry("requests").or_insert_with(|| json!({}));
        if let Some(req) = req.as_object_mut() {
            for (k, v) in limits {
                req.entry(k).or_insert(v);
            }
        }
    }
}

/// SetDefaults of a pod spec as found in templates (no admission-time defaults).
fn template_pod_spec(spec: &mut Value) {
    let Some(s) = spec.as_object_mut() else {
        return;
    };
    default(s, "restartPolicy", json!("Always"));
    default(s, "terminationGracePeriodSeconds", json!(30));
    default(s, "dnsPolicy", json!("ClusterFirst"));
    default(s, "securityContext", json!({}));
    default(s, "schedulerName", json!("default-scheduler"));
    default(s, "enableServiceLinks", json!(true));
    let host_network = s.get("hostNetwork").and_then(Value::as_bool) == Some(true);
    for key in ["containers", "initContainers", "ephemeralContainers"] {
        if let Some(cs) = s.get_mut(key).and_then(Value::as_array_mut) {
            for c in cs.iter_mut() {
                container(c, host_network);
            }
        }
    }
    for v in s
        .get_mut("volumes")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        volume(v);
    }
}

/// SetDefaults of volume sources: file modes 0644 and the fieldRef API version.
fn volume(v: &mut Value) {
    for key in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(src) = v.get_mut(key).and_then(Value::as_object_mut) {
            default(src, "defaultMode", json!(420));
        }
    }
    if let Some(hp) = v.get_mut("hostPath").and_then(Value::as_object_mut) {
        default(hp, "type", json!(""));
    }
    if let Some(items) = v
        .pointer_mut("/downwardAPI/items")
        .and_then(Value::as_array_mut)
    {
        for i in items {
            if let Some(fr) = i.get_mut("fieldRef").and_then(Value::as_object_mut) {
                default(fr, "apiVersion", json!("v1"));
            }
        }
    }
    if let Some(iscsi) = v.get_mut("iscsi").and_then(Value::as_object_mut) {
        default(iscsi, "iscsiInterface", json!("default"));
    }
}

fn container(c: &mut Value, host_network: bool) {
    let image = c
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(m) = c.as_object_mut() else { return };
    default(m, "terminationMessagePath", json!("/dev/termination-log"));
    default(m, "terminationMessagePolicy", json!("File"));
    default(m, "resources", json!({}));
    default(m, "imagePullPolicy", json!(default_pull_policy(&image)));
    if let Some(ports) = m.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            if let Some(p) = p.as_object_mut() {
                default(p, "protocol", json!("TCP"));
                if host_network && let Some(cp) = p.get("containerPort").cloned() {
                    default(p, "hostPort", cp);
                }
            }
        }
    }
    for e in m
        .get_mut("env")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(fr) = e
            .pointer_mut("/valueFrom/fieldRef")
            .and_then(Value::as_object_mut)
        {
            default(fr, "apiVersion", json!("v1"));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = m.get_mut(probe).and_then(Value::as_object_mut) {
            default(p, "timeoutSeconds", json!(1));
            default(p, "periodSeconds", json!(10));
            default(p, "successThreshold", json!(1));
            default(p, "failureThreshold", json!(3));
            if let Some(h) = p.get_mut("httpGet").and_then(Value::as_object_mut) {
                default(h, "path", json!("/"));
                default(h, "scheme", json!("HTTP"));
            }
        }
    }
}

/// `Always` for `:latest` or untagged images, else `IfNotPresent`.
pub fn default_pull_policy(image: &str) -> &'static str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    if image.contains('@') {
        return "IfNotPresent";
    }
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn service(obj: &mut Value) {
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    default(spec, "type", json!("ClusterIP"));
    default(spec, "sessionAffinity", json!("None"));
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if ty != "ExternalName" {
        default(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if ty == "NodePort" || ty == "LoadBalancer" {
        default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if spec.get("sessionAffinity") == Some(&json!("ClientIP")) {
        default(
            spec,
            "sessionAffinityConfig",
            json!({"clientIP": {"timeoutSeconds": 10800}}),
        );
    }
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            let port = p.get("port").cloned();
            if let Some(p) = p.as_object_mut() {
                default(p, "protocol", json!("TCP"));
                if let Some(port) = port {
                    default(p, "targetPort", port);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy() {
        assert_eq!(default_pull_policy("nginx"), "Always");
        assert_eq!(default_pull_policy("nginx:latest"), "Always");
        assert_eq!(default_pull_policy("127.0.0.1:5000/k8rs/demo"), "Always");
        assert_eq!(
            default_pull_policy("127.0.0.1:5000/k8rs/demo:0.1.0"),
            "IfNotPresent"
        );
        assert_eq!(default_pull_policy("x@sha256:abc"), "IfNotPresent");
    }

    #[test]
    fn deployment_defaults() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}}});
        apply("Deployment", &mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(d["spec"]["template"]["spec"]["restartPolicy"], "Always");
        // Admission-time defaults (tolerations, priority, service account) are for Pods.
        assert!(d["spec"]["template"]["spec"].get("tolerations").is_none());
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        let mut p = json!({"spec": {"containers": [{"name": "c", "image": "i",
            "resources": {"limits": {"cpu": "1"}},
            "readinessProbe": {"httpGet": {"port": 80}}}]}});
        apply("Pod", &mut p);
        assert_eq!(p["spec"]["tolerations"].as_array().unwrap().len(), 2);
        assert_eq!(p["spec"]["serviceAccountName"], "default");
        assert_eq!(p["spec"]["schedulerName"], "default-scheduler");
        assert_eq!(p["spec"]["terminationGracePeriodSeconds"], 30);
        let c = &p["spec"]["containers"][0];
        assert_eq!(c["resources"]["requests"]["cpu"], "1");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["readinessProbe"]["timeoutSeconds"], 1);
        assert_eq!(c["readinessProbe"]["failureThreshold"], 3);
        assert_eq!(c["readinessProbe"]["httpGet"]["scheme"], "HTTP");
    }

    #[test]
    fn requests_default_to_limits_in_pods_only() {
        let limited = json!({"name": "c", "image": "i", "resources": {"limits": {"cpu": "200m"}}});
        let mut d = json!({"spec": {"template": {"spec": {"containers": [limited.clone()]}}}});
        apply("Deployment", &mut d);
        let res = &d["spec"]["template"]["spec"]["containers"][0]["resources"];
        assert_eq!(res, &json!({"limits": {"cpu": "200m"}}));
        let mut p = json!({"spec": {"containers": [limited]}});
        apply("Pod", &mut p);
        assert_eq!(
            p["spec"]["containers"][0]["resources"]["requests"]["cpu"],
            "200m"
        );
    }

    #[test]
    fn workload_defaults() {
        let mut s = json!({"spec": {"template": {"spec": {"containers": []}}}});
        apply("StatefulSet", &mut s);
        assert_eq!(s["spec"]["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            s["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        assert_eq!(
            s["spec"]["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert_eq!(s["spec"]["replicas"], 1);
        let mut d = json!({"spec": {"template": {"spec": {"containers": []}}}});
        apply("DaemonSet", &mut d);
        assert_eq!(
            d["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        );
        assert!(d["spec"].get("replicas").is_none());
        let mut c = json!({"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}});
        apply("CronJob", &mut c);
        assert_eq!(c["spec"]["concurrencyPolicy"], "Allow");
        assert_eq!(c["spec"]["successfulJobsHistoryLimit"], 3);
        assert_eq!(c["spec"]["failedJobsHistoryLimit"], 1);
        assert_eq!(c["spec"]["suspend"], false);
    }

    #[test]
    fn job_defaults_and_generated_selector() {
        let mut j = json!({"metadata": {"name": "pi", "uid": "abc"}, "spec": {"template": {"spec": {"containers": []}}}});
        apply("Job", &mut j);
        assert_eq!(j["spec"]["completions"], 1);
        assert_eq!(j["spec"]["parallelism"], 1);
        assert_eq!(j["spec"]["backoffLimit"], 6);
        assert_eq!(j["spec"]["completionMode"], "NonIndexed");
        assert_eq!(j["spec"]["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(
            j["spec"]["selector"],
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "abc"}})
        );
        let l = &j["spec"]["template"]["metadata"]["labels"];
        assert_eq!(l["batch.kubernetes.io/job-name"], "pi");
        assert_eq!(l["controller-uid"], "abc");
        // An explicit parallelism leaves completions unset.
        let mut j = json!({"metadata": {"name": "w", "uid": "u"}, "spec": {"parallelism": 3, "template": {"spec": {"containers": []}}}});
        apply("Job", &mut j);
        assert!(j["spec"].get("completions").is_none());
        // manualSelector keeps the user's selector and labels.
        let mut j = json!({"metadata": {"name": "m", "uid": "u"}, "spec": {"manualSelector": true, "template": {"spec": {"containers": []}}}});
        apply("Job", &mut j);
        assert!(j["spec"].get("selector").is_none());
    }

    #[test]
    fn other_defaults() {
        let mut h = json!({"apiVersion": "autoscaling/v2", "spec": {"behavior": {"scaleDown": {"selectPolicy": "Min"}}}});
        apply("HorizontalPodAutoscaler", &mut h);
        assert_eq!(h["spec"]["minReplicas"], 1);
        assert_eq!(
            h["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            80
        );
        assert_eq!(
            h["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"],
            300
        );
        assert_eq!(h["spec"]["behavior"]["scaleDown"]["selectPolicy"], "Min");
        assert_eq!(
            h["spec"]["behavior"]["scaleUp"]["policies"][0],
            json!({"type": "Pods", "value": 4, "periodSeconds": 15})
        );
        let mut n = json!({"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}});
        apply("NetworkPolicy", &mut n);
        assert_eq!(n["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(n["spec"]["egress"][0]["ports"][0]["protocol"], "TCP");
        let mut pvc = json!({"spec": {}});
        apply("PersistentVolumeClaim", &mut pvc);
        assert_eq!(pvc["spec"]["volumeMode"], "Filesystem");
        let mut pv = json!({"spec": {}});
        apply("PersistentVolume", &mut pv);
        assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
        let mut sc = json!({"provisioner": "x"});
        apply("StorageClass", &mut sc);
        assert_eq!(sc["reclaimPolicy"], "Delete");
        assert_eq!(sc["volumeBindingMode"], "Immediate");
        let mut rb = json!({"roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "s"}]});
        apply("RoleBinding", &mut rb);
        assert_eq!(rb["roleRef"]["apiGroup"], "rbac.authorization.k8s.io");
        assert_eq!(rb["subjects"][0]["apiGroup"], "rbac.authorization.k8s.io");
        assert!(rb["subjects"][1].get("apiGroup").is_none());
        let mut secret = json!({"data": {"user": "YWRtaW4=", "password": "b2xk"}, "stringData": {"password": "hunter2"}});
        apply("Secret", &mut secret);
        assert_eq!(
            secret,
            json!({"data": {"user": "YWRtaW4=", "password": "aHVudGVyMg=="}, "type": "Opaque"})
        );
        let mut lr = json!({"spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "1Mi"}}]}});
        apply("LimitRange", &mut lr);
        assert_eq!(lr["spec"]["limits"][0]["default"], json!({"cpu": "2"}));
        assert_eq!(
            lr["spec"]["limits"][0]["defaultRequest"],
            json!({"cpu": "2", "memory": "1Mi"})
        );
        let mut ns = json!({"metadata": {"name": "x"}});
        apply("Namespace", &mut ns);
        assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
        let mut s = json!({"spec": {"ports": [{"port": 80}]}});
        apply("Service", &mut s);
        assert_eq!(s["spec"]["type"], "ClusterIP");
        assert_eq!(s["spec"]["sessionAffinity"], "None");
        assert_eq!(s["spec"]["internalTrafficPolicy"], "Cluster");
        assert!(s["spec"].get("externalTrafficPolicy").is_none());
        let mut sec = json!({});
        apply("Secret", &mut sec);
        assert_eq!(sec["type"], "Opaque");
    }

    #[test]
    fn service_defaults() {
        let mut s = json!({"spec": {"type": "NodePort", "ports": [{"port": 80}]}});
        apply("Service", &mut s);
        assert_eq!(s["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(s["spec"]["ports"][0]["protocol"], "TCP");
        assert_eq!(s["spec"]["externalTrafficPolicy"], "Cluster");
    }
}
