//! Printers of the remaining groups: policy, autoscaling, certificates, coordination,
//! scheduling, node, admissionregistration, flowcontrol, apiserverinternal, storagemigration
//! and resource.k8s.io.

use std::cmp::Ordering;

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::{
    Col, age, arr, human_duration, is_set, list_with_more, name, opt_b, opt_i, opt_s, quantity, s,
};

pub(super) const POD_DISRUPTION_BUDGET: &[Col] = &[
    Col::name(),
    Col::new(
        "Min Available",
        "string",
        "The minimum number of pods that must be available.",
    ),
    Col::new(
        "Max Unavailable",
        "string",
        "The maximum number of pods that may be unavailable.",
    ),
    Col::new(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    Col::age(),
];

/// An IntOrString as text, `N/A` when unset.
fn int_or_string(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => "N/A".into(),
    }
}

pub(super) fn pod_disruption_budget(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(int_or_string(o.pointer("/spec/minAvailable"))),
        json!(int_or_string(o.pointer("/spec/maxUnavailable"))),
        json!(opt_i(o, "/status/disruptionsAllowed").unwrap_or(0)),
        json!(age(o, now)),
    ]
}

pub(super) const HPA: &[Col] = &[
    Col::name(),
    Col::new(
        "Reference",
        "string",
        "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.",
    ),
    Col::new(
        "Targets",
        "string",
        "metrics contains the specifications for which to use to calculate the desired replica count.",
    ),
    Col::new(
        "MinPods",
        "string",
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.",
    ),
    Col::new(
        "MaxPods",
        "string",
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.",
    ),
    Col::new(
        "Replicas",
        "string",
        "currentReplicas is current number of replicas of pods managed by this autoscaler.",
    ),
    Col::age(),
];

/// A quantity field of a metric; Go prints a missing pointer as `<nil>`.
fn q(v: &Value, ptr: &str) -> String {
    quantity(v.pointer(ptr)).unwrap_or_else(|| "<nil>".into())
}

/// The spec and status metrics in autoscaling/v2 shape. autoscaling/v1 objects carry only
/// the CPU utilization fields; an HPA without metrics defaults to 80% CPU utilization.
fn hpa_metrics(o: &Value) -> (Vec<Value>, Vec<Value>) {
    let specs = arr(o, "/spec/metrics");
    if !specs.is_empty() {
        return (specs.to_vec(), arr(o, "/status/currentMetrics").to_vec());
    }
    let target = opt_i(o, "/spec/targetCPUUtilizationPercentage").unwrap_or(80);
    let spec = json!({"type": "Resource", "resource": {"name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": target}}});
    let statuses = match opt_i(o, "/status/currentCPUUtilizationPercentage") {
        Some(current) => vec![json!({"type": "Resource", "resource": {"name": "cpu",
            "current": {"averageUtilization": current}}})],
        None => arr(o, "/status/currentMetrics").to_vec(),
    };
    (vec![spec], statuses)
}

/// One metric of the TARGETS cell; `status` is the current metric at the same index.
fn format_metric(spec: &Value, status: Option<&Value>) -> String {
    // The status' source of the given kind, when the status has one.
    let source = |field: &str| status.and_then(|st| st.get(field)).filter(|v| !v.is_null());
    let unknown = || "<unknown>".to_string();
    match s(spec, "/type") {
        ty @ ("External" | "Object") => {
            let field = if ty == "External" {
                "external"
            } else {
                "object"
            };
            let target = spec.get(field).unwrap_or(&Value::Null);
            if is_set(target, "/target/averageValue") {
                let current = source(field)
                    .and_then(|c| quantity(c.pointer("/current/averageValue")))
                    .unwrap_or_else(unknown);
                format!("{current}/{} (avg)", q(target, "/target/averageValue"))
            } else {
                let current = source(field)
                    .map(|c| q(c, "/current/value"))
                    .unwrap_or_else(unknown);
                format!("{current}/{}", q(target, "/target/value"))
            }
        }
        "Pods" => {
            let current = source("pods")
                .map(|c| q(c, "/current/averageValue"))
                .unwrap_or_else(unknown);
            format!("{current}/{}", q(spec, "/pods/target/averageValue"))
        }
        ty @ ("Resource" | "ContainerResource") => {
            let field = if ty == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let metric = spec.get(field).unwrap_or(&Value::Null);
            let resource = s(metric, "/name");
            if is_set(metric, "/target/averageValue") {
                let current = source(field)
                    .map(|c| q(c, "/current/averageValue"))
                    .unwrap_or_else(unknown);
                format!(
                    "{resource}: {current}/{}",
                    q(metric, "/target/averageValue")
                )
            } else {
                let current = source(field)
                    .and_then(|c| opt_i(c, "/current/averageUtilization"))
                    .map(|u| format!("{u}%"))
                    .unwrap_or_else(unknown);
                let target = opt_i(metric, "/target/averageUtilization")
                    .map(|u| format!("{u}%"))
                    .unwrap_or_else(|| "<auto>".into());
                format!("{resource}: {current}/{target}")
            }
        }
        _ => "<unknown type>".into(),
    }
}

fn format_hpa_metrics(specs: &[Value], statuses: &[Value]) -> String {
    const MAX: usize = 2;
    if specs.is_empty() {
        return "<none>".into();
    }
    let list: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(idx, spec)| format_metric(spec, statuses.get(idx)))
        .collect();
    if list.len() > MAX {
        format!("{} + {} more...", list[..MAX].join(", "), list.len() - MAX)
    } else {
        list.join(", ")
    }
}

pub(super) fn horizontal_pod_autoscaler(o: &Value, now: Timestamp) -> Vec<Value> {
    let (specs, statuses) = hpa_metrics(o);
    vec![
        json!(name(o)),
        json!(format!(
            "{}/{}",
            s(o, "/spec/scaleTargetRef/kind"),
            s(o, "/spec/scaleTargetRef/name")
        )),
        json!(format_hpa_metrics(&specs, &statuses)),
        json!(
            opt_i(o, "/spec/minReplicas")
                .map(|m| m.to_string())
                .unwrap_or_else(|| "<unset>".into())
        ),
        json!(opt_i(o, "/spec/maxReplicas").unwrap_or(0)),
        json!(opt_i(o, "/status/currentReplicas").unwrap_or(0)),
        json!(age(o, now)),
    ]
}

pub(super) const CSR: &[Col] = &[
    Col::name(),
    Col::age(),
    Col::new("SignerName", "string", "Requested signer for the request."),
    Col::new("Requestor", "string", "Base64-encoded PKCS#10 CSR data"),
    Col::new(
        "RequestedDuration",
        "string",
        "expirationSeconds is the requested duration of validity of the issued certificate.",
    ),
    Col::new(
        "Condition",
        "string",
        "Conditions applied to the request, such as approval or denial.",
    ),
];

/// `Approved`, `Denied` or `Pending`, then `,Failed` and `,Issued` when they apply.
fn csr_condition(o: &Value) -> String {
    let has = |ty: &str| {
        arr(o, "/status/conditions")
            .iter()
            .any(|c| s(c, "/type") == ty)
    };
    let mut status = if has("Denied") {
        "Denied".to_string()
    } else if has("Approved") {
        "Approved".to_string()
    } else {
        "Pending".to_string()
    };
    if has("Failed") {
        status.push_str(",Failed");
    }
    if !s(o, "/status/certificate").is_empty() {
        status.push_str(",Issued");
    }
    status
}

pub(super) fn certificate_signing_request(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(age(o, now)),
        json!(super::or_default(s(o, "/spec/signerName"), "<none>")),
        json!(s(o, "/spec/username")),
        json!(
            opt_i(o, "/spec/expirationSeconds")
                .map(human_duration)
                .unwrap_or_else(|| "<none>".into())
        ),
        json!(csr_condition(o)),
    ]
}

pub(super) const CLUSTER_TRUST_BUNDLE: &[Col] = &[
    Col::name(),
    Col::new(
        "SignerName",
        "string",
        "signerName indicates the associated signer, if any.",
    ),
];

pub(super) fn cluster_trust_bundle(o: &Value, _now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(super::or_default(s(o, "/spec/signerName"), "<none>")),
    ]
}

pub(super) const LEASE: &[Col] = &[
    Col::name(),
    Col::new(
        "Holder",
        "string",
        "holderIdentity contains the identity of the holder of a current lease.",
    ),
    Col::age(),
];

pub(super) fn lease(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(s(o, "/spec/holderIdentity")),
        json!(age(o, now)),
    ]
}

pub(super) const LEASE_CANDIDATE: &[Col] = &[
    Col::name(),
    Col::new(
        "LeaseName",
        "string",
        "LeaseName is the name of the lease for which this candidate is contending.",
    ),
    Col::new("BinaryVersion", "string", ""),
    Col::new("EmulationVersion", "string", ""),
    Col::age(),
];

pub(super) fn lease_candidate(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(s(o, "/spec/leaseName")),
        json!(s(o, "/spec/binaryVersion")),
        json!(s(o, "/spec/emulationVersion")),
        json!(age(o, now)),
    ]
}

pub(super) const PRIORITY_CLASS: &[Col] = &[
    Col::name(),
    Col::new(
        "Value",
        "integer",
        "value represents the integer value of this priority class.",
    ),
    Col::new(
        "Global-Default",
        "boolean",
        "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.",
    ),
    Col::age(),
    Col::new(
        "PreemptionPolicy",
        "string",
        "preemptionPolicy is the Policy for preempting pods with lower priority.",
    ),
];

pub(super) fn priority_class(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(opt_i(o, "/value").unwrap_or(0)),
        json!(opt_b(o, "/globalDefault").unwrap_or(false)),
        json!(age(o, now)),
        json!(s(o, "/preemptionPolicy")),
    ]
}

pub(super) const RUNTIME_CLASS: &[Col] = &[
    Col::name(),
    Col::new(
        "Handler",
        "string",
        "handler specifies the underlying runtime and configuration that the CRI implementation will use to handle pods of this class.",
    ),
    Col::age(),
];

pub(super) fn runtime_class(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![json!(name(o)), json!(s(o, "/handler")), json!(age(o, now))]
}

pub(super) const WEBHOOK_CONFIGURATION: &[Col] = &[
    Col::name(),
    Col::new(
        "Webhooks",
        "integer",
        "Webhooks indicates the number of webhooks registered in this configuration",
    ),
    Col::age(),
];

pub(super) fn webhook_configuration(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(arr(o, "/webhooks").len()),
        json!(age(o, now)),
    ]
}

const PARAM_KIND_DESCRIPTION: &str =
    "ParamKind specifies the kind of resources used to parameterize this policy";

pub(super) const VALIDATING_ADMISSION_POLICY: &[Col] = &[
    Col::name(),
    Col::new(
        "Validations",
        "integer",
        "Validations indicates the number of validation rules defined in this configuration",
    ),
    Col::new("ParamKind", "string", PARAM_KIND_DESCRIPTION),
    Col::age(),
];

pub(super) const MUTATING_ADMISSION_POLICY: &[Col] = &[
    Col::name(),
    Col::new(
        "Mutations",
        "integer",
        "Mutation indicates the number of mutations rules defined in this configuration",
    ),
    Col::new("ParamKind", "string", PARAM_KIND_DESCRIPTION),
    Col::age(),
];

fn param_kind(o: &Value) -> String {
    match o.pointer("/spec/paramKind").filter(|p| !p.is_null()) {
        Some(p) => format!("{}/{}", s(p, "/apiVersion"), s(p, "/kind")),
        None => "<unset>".into(),
    }
}

pub(super) fn validating_admission_policy(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(arr(o, "/spec/validations").len()),
        json!(param_kind(o)),
        json!(age(o, now)),
    ]
}

pub(super) fn mutating_admission_policy(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(arr(o, "/spec/mutations").len()),
        json!(param_kind(o)),
        json!(age(o, now)),
    ]
}

pub(super) const ADMISSION_POLICY_BINDING: &[Col] = &[
    Col::name(),
    Col::new(
        "PolicyName",
        "string",
        "PolicyName indicates the policy definition which the policy binding binded to",
    ),
    Col::new(
        "ParamRef",
        "string",
        "ParamRef indicates the param resource which sets the configration param",
    ),
    Col::age(),
];

/// Go's generated `String()` of a metav1.LabelSelector, which upstream prints for a
/// selector paramRef.
fn go_label_selector_string(sel: &Value) -> String {
    let mut labels = String::from("map[string]string{");
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        let mut keys: Vec<&String> = m.keys().collect();
        keys.sort();
        for k in keys {
            labels.push_str(&format!(
                "{k}: {},",
                m[k.as_str()].as_str().unwrap_or_default()
            ));
        }
    }
    labels.push('}');
    let mut exprs = String::from("[]LabelSelectorRequirement{");
    for e in arr(sel, "/matchExpressions") {
        let values: Vec<&str> = arr(e, "/values").iter().filter_map(Value::as_str).collect();
        exprs.push_str(&format!(
            "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{}],}},",
            s(e, "/key"),
            s(e, "/operator"),
            values.join(" ")
        ));
    }
    exprs.push('}');
    format!("&LabelSelector{{MatchLabels:{labels},MatchExpressions:{exprs},}}")
}

pub(super) fn admission_policy_binding(o: &Value, now: Timestamp) -> Vec<Value> {
    let param = match o.pointer("/spec/paramRef").filter(|p| !p.is_null()) {
        Some(p) if !s(p, "/name").is_empty() => {
            // A name without namespace may be cluster-scoped or any namespace: `*/name`.
            let ns = super::or_default(s(p, "/namespace"), "*");
            format!("{ns}/{}", s(p, "/name"))
        }
        Some(p) => match p.get("selector").filter(|v| !v.is_null()) {
            Some(sel) => go_label_selector_string(sel),
            None => "<unset>".into(),
        },
        None => "<unset>".into(),
    };
    vec![
        json!(name(o)),
        json!(s(o, "/spec/policyName")),
        json!(param),
        json!(age(o, now)),
    ]
}

pub(super) const FLOW_SCHEMA: &[Col] = &[
    Col::name(),
    Col::new(
        "PriorityLevel",
        "string",
        "`name` is the name of the priority level configuration being referenced Required.",
    ),
    Col::new(
        "MatchingPrecedence",
        "string",
        "`matchingPrecedence` is used to choose among the FlowSchemas that match a given request.",
    ),
    Col::new(
        "DistinguisherMethod",
        "string",
        "`distinguisherMethod` defines how to compute the flow distinguisher for requests that match this schema.",
    ),
    Col::age(),
    Col::new(
        "MissingPL",
        "string",
        "references a broken or non-existent PriorityLevelConfiguration",
    ),
];

fn matching_precedence(o: &Value) -> i64 {
    opt_i(o, "/spec/matchingPrecedence").unwrap_or(1000)
}

/// FlowSchemas in matching order: lower precedence first, then by name.
pub(super) fn flow_schema_order(a: &Value, b: &Value) -> Ordering {
    matching_precedence(a)
        .cmp(&matching_precedence(b))
        .then_with(|| name(a).cmp(name(b)))
}

pub(super) fn flow_schema(o: &Value, now: Timestamp) -> Vec<Value> {
    let missing = arr(o, "/status/conditions")
        .iter()
        .find(|c| s(c, "/type") == "Dangling")
        .map(|c| s(c, "/status"))
        .unwrap_or("?");
    vec![
        json!(name(o)),
        json!(s(o, "/spec/priorityLevelConfiguration/name")),
        json!(matching_precedence(o)),
        json!(opt_s(o, "/spec/distinguisherMethod/type").unwrap_or("<none>")),
        json!(age(o, now)),
        json!(missing),
    ]
}

pub(super) const PRIORITY_LEVEL_CONFIGURATION: &[Col] = &[
    Col::name(),
    Col::new(
        "Type",
        "string",
        "`type` indicates whether this priority level is subject to limitation on request execution.",
    ),
    Col::new(
        "NominalConcurrencyShares",
        "string",
        "`nominalConcurrencyShares` (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level.",
    ),
    Col::new(
        "Queues",
        "string",
        "`queues` is the number of queues for this priority level.",
    ),
    Col::new(
        "HandSize",
        "string",
        "`handSize` is a small positive number that configures the shuffle sharding of requests into queues.",
    ),
    Col::new(
        "QueueLengthLimit",
        "string",
        "`queueLengthLimit` is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time.",
    ),
    Col::age(),
];

pub(super) fn priority_level_configuration(o: &Value, now: Timestamp) -> Vec<Value> {
    let none = || json!("<none>");
    let (mut ncs, mut queues, mut hand_size, mut queue_length) = (none(), none(), none(), none());
    if let Some(limited) = o.pointer("/spec/limited").filter(|l| !l.is_null()) {
        // Unset fields read back with the flowcontrol/v1 defaults.
        ncs = json!(opt_i(limited, "/nominalConcurrencyShares").unwrap_or(30));
        if let Some(q) = limited
            .pointer("/limitResponse/queuing")
            .filter(|q| !q.is_null())
        {
            queues = json!(opt_i(q, "/queues").unwrap_or(64));
            hand_size = json!(opt_i(q, "/handSize").unwrap_or(8));
            queue_length = json!(opt_i(q, "/queueLengthLimit").unwrap_or(50));
        }
    }
    vec![
        json!(name(o)),
        json!(s(o, "/spec/type")),
        ncs,
        queues,
        hand_size,
        queue_length,
        json!(age(o, now)),
    ]
}

pub(super) const STORAGE_VERSION: &[Col] = &[
    Col::name(),
    Col::new(
        "CommonEncodingVersion",
        "string",
        "If all API server instances agree on the same encoding storage version, then this field is set to that version.",
    ),
    Col::new(
        "StorageVersions",
        "string",
        "The reported versions per API server instance.",
    ),
    Col::age(),
];

pub(super) fn storage_version(o: &Value, now: Timestamp) -> Vec<Value> {
    let versions: Vec<String> = arr(o, "/status/storageVersions")
        .iter()
        .map(|v| format!("{}={}", s(v, "/apiServerID"), s(v, "/encodingVersion")))
        .collect();
    vec![
        json!(name(o)),
        json!(opt_s(o, "/status/commonEncodingVersion").unwrap_or("<unset>")),
        json!(list_with_more(&versions, 3)),
        json!(age(o, now)),
    ]
}

pub(super) const STORAGE_VERSION_MIGRATION: &[Col] = &[
    Col::new("Name", "string", super::NAME_DESCRIPTION),
    Col::new("Resource", "string", "Fully qualified resource to migrate"),
];

pub(super) fn storage_version_migration(o: &Value, _now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(format!(
            "{}.{}.{}",
            s(o, "/spec/resource/resource"),
            s(o, "/spec/resource/version"),
            s(o, "/spec/resource/group")
        )),
    ]
}

/// DeviceClass and ResourceClaimTemplate: name and age only.
pub(super) const NAME_AGE: &[Col] = &[Col::name(), Col::age()];

pub(super) fn name_age(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![json!(name(o)), json!(age(o, now))]
}

pub(super) const RESOURCE_CLAIM: &[Col] = &[
    Col::name(),
    Col::new(
        "State",
        "string",
        "A summary of the current state (allocated, pending, reserved, etc.).",
    ),
    Col::age(),
];

pub(super) fn resource_claim(o: &Value, now: Timestamp) -> Vec<Value> {
    let deleted = is_set(o, "/metadata/deletionTimestamp");
    let mut states = Vec::new();
    if deleted {
        states.push("deleted");
    }
    if is_set(o, "/status/allocation") {
        states.push("allocated");
        if !arr(o, "/status/reservedFor").is_empty() {
            states.push("reserved");
        }
    } else if !deleted {
        states.push("pending");
    }
    vec![json!(name(o)), json!(states.join(",")), json!(age(o, now))]
}

pub(super) const RESOURCE_SLICE: &[Col] = &[
    Col::name(),
    Col::new(
        "Node",
        "string",
        "NodeName identifies the node which provides the resources in this pool.",
    ),
    Col::new(
        "Driver",
        "string",
        "Driver identifies the DRA driver providing the capacity information.",
    ),
    Col::new("Pool", "string", "Name is used to identify the pool."),
    Col::age(),
];

pub(super) fn resource_slice(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(s(o, "/spec/nodeName")),
        json!(s(o, "/spec/driver")),
        json!(s(o, "/spec/pool/name")),
        json!(age(o, now)),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{now, row};
    use serde_json::{Value, json};

    fn meta(name: &str) -> Value {
        json!({"name": name, "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"})
    }

    #[test]
    fn pdb_row() {
        let pdb = json!({"metadata": meta("web"), "spec": {"minAvailable": 2, "selector": {}},
            "status": {"disruptionsAllowed": 1}});
        assert_eq!(
            row("PodDisruptionBudget", pdb),
            [
                json!("web"),
                json!("2"),
                json!("N/A"),
                json!(1),
                json!("10m")
            ]
        );
        let pct = json!({"metadata": meta("p"), "spec": {"maxUnavailable": "25%"}});
        let c = row("PodDisruptionBudget", pct);
        assert_eq!(c[1], "N/A");
        assert_eq!(c[2], "25%");
        assert_eq!(c[3], 0);
    }

    #[test]
    fn hpa_v2_targets() {
        let hpa = |metrics: Value, current: Value| {
            json!({"apiVersion": "autoscaling/v2", "metadata": meta("web"),
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                    "minReplicas": 1, "maxReplicas": 10, "metrics": metrics},
                "status": {"currentReplicas": 2, "currentMetrics": current}})
        };
        let cpu = json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]);
        assert_eq!(
            row("HorizontalPodAutoscaler", hpa(cpu.clone(), json!([]))),
            [
                json!("web"),
                json!("Deployment/web"),
                json!("cpu: <unknown>/80%"),
                json!("1"),
                json!(10),
                json!(2),
                json!("10m")
            ]
        );
        let current = json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 50, "averageValue": "100m"}}}]);
        assert_eq!(
            row("HorizontalPodAutoscaler", hpa(cpu, current))[2],
            "cpu: 50%/80%"
        );
        let many = json!([
            {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}}},
            {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}},
            {"type": "External", "external": {"metric": {"name": "queue"}, "target": {"type": "Value", "value": "30"}}}
        ]);
        let current = json!([
            {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "200Mi"}}},
            {"type": "Pods", "pods": {"metric": {"name": "rps"}, "current": {"averageValue": "250"}}}
        ]);
        assert_eq!(
            row("HorizontalPodAutoscaler", hpa(many, current))[2],
            "memory: 200Mi/500Mi, 250/1k + 1 more..."
        );
        let object_avg = json!([
            {"type": "Object", "object": {"metric": {"name": "hits"}, "describedObject": {"kind": "Service", "name": "s"},
                "target": {"type": "AverageValue", "averageValue": "10"}}},
            {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
                "target": {"type": "Utilization"}}}
        ]);
        assert_eq!(
            row("HorizontalPodAutoscaler", hpa(object_avg, json!([])))[2],
            "<unknown>/10 (avg), cpu: <unknown>/<auto>"
        );
    }

    #[test]
    fn hpa_v1_and_defaulted_targets() {
        let v1 = json!({"apiVersion": "autoscaling/v1", "metadata": meta("web"),
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5,
                "targetCPUUtilizationPercentage": 50},
            "status": {"currentReplicas": 1, "currentCPUUtilizationPercentage": 12}});
        let c = row("HorizontalPodAutoscaler", v1);
        assert_eq!(c[2], "cpu: 12%/50%");
        assert_eq!(c[3], "<unset>");
        let bare = json!({"metadata": meta("w"), "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "w"}, "maxReplicas": 3}});
        assert_eq!(
            row("HorizontalPodAutoscaler", bare)[2],
            "cpu: <unknown>/80%"
        );
    }

    #[test]
    fn csr_rows() {
        let csr = json!({"metadata": {"name": "csr-abc", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"signerName": "kubernetes.io/kube-apiserver-client-kubelet", "username": "system:node:node-1",
                "expirationSeconds": 86400, "request": ""},
            "status": {"conditions": [{"type": "Approved", "status": "True"}], "certificate": "LS0t"}});
        assert_eq!(
            row("CertificateSigningRequest", csr),
            [
                json!("csr-abc"),
                json!("10m"),
                json!("kubernetes.io/kube-apiserver-client-kubelet"),
                json!("system:node:node-1"),
                json!("24h"),
                json!("Approved,Issued")
            ]
        );
        let pending = json!({"metadata": {"name": "p"}, "spec": {"username": "u"}});
        let c = row("CertificateSigningRequest", pending);
        assert_eq!(c[2], "<none>");
        assert_eq!(c[4], "<none>");
        assert_eq!(c[5], "Pending");
        let denied = json!({"metadata": {"name": "d"}, "spec": {},
            "status": {"conditions": [{"type": "Approved"}, {"type": "Denied"}, {"type": "Failed"}]}});
        assert_eq!(row("CertificateSigningRequest", denied)[5], "Denied,Failed");
    }

    #[test]
    fn coordination_scheduling_and_node_kinds() {
        let l =
            json!({"metadata": meta("kube-scheduler"), "spec": {"holderIdentity": "node-1_abc"}});
        assert_eq!(
            row("Lease", l),
            [json!("kube-scheduler"), json!("node-1_abc"), json!("10m")]
        );
        let pc = json!({"metadata": {"name": "system-node-critical", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "value": 2000001000, "preemptionPolicy": "PreemptLowerPriority"});
        assert_eq!(
            row("PriorityClass", pc),
            [
                json!("system-node-critical"),
                json!(2000001000),
                json!(false),
                json!("10m"),
                json!("PreemptLowerPriority")
            ]
        );
        let rc = json!({"metadata": {"name": "runc"}, "handler": "runc"});
        assert_eq!(
            row("RuntimeClass", rc),
            [json!("runc"), json!("runc"), json!("<unknown>")]
        );
        let lc = json!({"metadata": meta("c"), "spec": {"leaseName": "l", "binaryVersion": "1.33.0", "emulationVersion": "1.33"}});
        assert_eq!(
            row("LeaseCandidate", lc),
            [
                json!("c"),
                json!("l"),
                json!("1.33.0"),
                json!("1.33"),
                json!("10m")
            ]
        );
    }

    #[test]
    fn admission_kinds() {
        let wh = json!({"metadata": meta("hooks"), "webhooks": [{"name": "a"}, {"name": "b"}]});
        assert_eq!(
            row("ValidatingWebhookConfiguration", wh.clone()),
            [json!("hooks"), json!(2), json!("10m")]
        );
        assert_eq!(row("MutatingWebhookConfiguration", wh)[1], 2);
        let vap = json!({"metadata": meta("replicas"), "spec": {"validations": [{"expression": "true"}],
            "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"}}});
        assert_eq!(
            row("ValidatingAdmissionPolicy", vap),
            [
                json!("replicas"),
                json!(1),
                json!("v1/ConfigMap"),
                json!("10m")
            ]
        );
        let map = json!({"metadata": meta("m"), "spec": {"mutations": []}});
        assert_eq!(
            row("MutatingAdmissionPolicy", map),
            [json!("m"), json!(0), json!("<unset>"), json!("10m")]
        );
        let binding = |param: Value| json!({"metadata": meta("b"), "spec": {"policyName": "replicas", "paramRef": param}});
        assert_eq!(
            row(
                "ValidatingAdmissionPolicyBinding",
                binding(json!({"name": "limits", "namespace": "default"}))
            )[2],
            "default/limits"
        );
        assert_eq!(
            row(
                "ValidatingAdmissionPolicyBinding",
                binding(json!({"name": "limits"}))
            )[2],
            "*/limits"
        );
        assert_eq!(
            row("MutatingAdmissionPolicyBinding", binding(Value::Null))[2],
            "<unset>"
        );
        assert_eq!(
            row(
                "ValidatingAdmissionPolicyBinding",
                binding(json!({"selector": {"matchLabels": {"env": "test"},
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}}))
            )[2],
            "&LabelSelector{MatchLabels:map[string]string{env: test,},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:tier,Operator:In,Values:[a b],},},}"
        );
    }

    #[test]
    fn flowcontrol_kinds() {
        let fs = |name: &str, prec: i64| {
            json!({"metadata": {"name": name, "creationTimestamp": "2026-01-01T00:00:00Z"},
                "spec": {"priorityLevelConfiguration": {"name": "workload-low"}, "matchingPrecedence": prec,
                    "distinguisherMethod": {"type": "ByUser"}},
                "status": {"conditions": [{"type": "Dangling", "status": "False"}]}})
        };
        let t = super::super::build_table(
            "FlowSchema",
            &[fs("z", 100), fs("service-accounts", 9000), fs("a", 100)],
            "None",
            json!({}),
            now(),
        );
        let names: Vec<&str> = t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["cells"][0].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "z", "service-accounts"]);
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["a", "workload-low", 100, "ByUser", "10m", "False"])
        );
        let bare = json!({"metadata": {"name": "x"}, "spec": {"priorityLevelConfiguration": {"name": "exempt"}}});
        let c = row("FlowSchema", bare);
        assert_eq!(c[2], 1000);
        assert_eq!(c[3], "<none>");
        assert_eq!(c[5], "?");

        let plc = json!({"metadata": {"name": "workload-low", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 100,
                "limitResponse": {"type": "Queue", "queuing": {"queues": 128, "handSize": 6, "queueLengthLimit": 50}}}}});
        assert_eq!(
            row("PriorityLevelConfiguration", plc),
            [
                json!("workload-low"),
                json!("Limited"),
                json!(100),
                json!(128),
                json!(6),
                json!(50),
                json!("10m")
            ]
        );
        let exempt =
            json!({"metadata": {"name": "exempt"}, "spec": {"type": "Exempt", "exempt": {}}});
        assert_eq!(
            row("PriorityLevelConfiguration", exempt),
            [
                json!("exempt"),
                json!("Exempt"),
                json!("<none>"),
                json!("<none>"),
                json!("<none>"),
                json!("<none>"),
                json!("<unknown>")
            ]
        );
        let reject = json!({"metadata": {"name": "catch-all"}, "spec": {"type": "Limited",
            "limited": {"nominalConcurrencyShares": 5, "limitResponse": {"type": "Reject"}}}});
        let c = row("PriorityLevelConfiguration", reject);
        assert_eq!(c[2], 5);
        assert_eq!(c[3], "<none>");
    }

    #[test]
    fn internal_and_resource_kinds() {
        let sv = json!({"metadata": {"name": "apps.deployments"},
            "status": {"commonEncodingVersion": "apps/v1", "storageVersions": [
                {"apiServerID": "a", "encodingVersion": "apps/v1"}, {"apiServerID": "b", "encodingVersion": "apps/v1"}]}});
        assert_eq!(
            row("StorageVersion", sv),
            [
                json!("apps.deployments"),
                json!("apps/v1"),
                json!("a=apps/v1,b=apps/v1"),
                json!("<unknown>")
            ]
        );
        let svm = json!({"metadata": {"name": "m"}, "spec": {"resource": {"group": "apps", "version": "v1", "resource": "deployments"}}});
        assert_eq!(
            row("StorageVersionMigration", svm),
            [json!("m"), json!("deployments.v1.apps")]
        );
        let claim = |status: Value, deleting: bool| {
            let mut c = json!({"metadata": meta("gpu"), "spec": {}, "status": status});
            if deleting {
                c["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:09:00Z");
            }
            row("ResourceClaim", c)[1].as_str().unwrap().to_string()
        };
        assert_eq!(claim(json!({}), false), "pending");
        assert_eq!(claim(json!({}), true), "deleted");
        assert_eq!(
            claim(
                json!({"allocation": {}, "reservedFor": [{"name": "p"}]}),
                false
            ),
            "allocated,reserved"
        );
        assert_eq!(claim(json!({"allocation": {}}), true), "deleted,allocated");
        let slice = json!({"metadata": {"name": "s"}, "spec": {"nodeName": "node-1", "driver": "gpu.example.com", "pool": {"name": "p"}}});
        assert_eq!(
            row("ResourceSlice", slice),
            [
                json!("s"),
                json!("node-1"),
                json!("gpu.example.com"),
                json!("p"),
                json!("<unknown>")
            ]
        );
        assert_eq!(
            row("DeviceClass", json!({"metadata": {"name": "gpu"}})),
            [json!("gpu"), json!("<unknown>")]
        );
    }
}
