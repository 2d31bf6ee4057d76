//! Server-side printing: `meta.k8s.io/v1` Tables with kube-apiserver's columns for each kind
//! (the rules of pkg/printers/internalversion), and the default table for other types.
//!
//! kube-apiserver always renders the wide (`priority: 1`) cells too; kubectl hides them unless
//! `-o wide`. Each kind has a column list and a cell function, grouped by API group in the
//! submodules; this module holds the dispatch and the formatting helpers they share.

mod apps;
mod batch;
mod core;
mod networking;
mod other;
mod pod_status;
mod rbac;
mod storage;

use k8s_openapi::jiff::Timestamp;
use serde_json::{Map, Value, json};

/// One column definition: name, type, format, description, priority (1 = `-o wide`).
pub(crate) struct Col {
    name: &'static str,
    ty: &'static str,
    format: &'static str,
    description: &'static str,
    priority: u8,
}

impl Col {
    /// The `Name` column (format `name`, ObjectMeta's description).
    pub(crate) const fn name() -> Col {
        Col {
            name: "Name",
            ty: "string",
            format: "name",
            description: NAME_DESCRIPTION,
            priority: 0,
        }
    }

    /// The `Age` column (ObjectMeta's creationTimestamp description).
    pub(crate) const fn age() -> Col {
        Col::new("Age", "string", CREATION_TIMESTAMP_DESCRIPTION)
    }

    pub(crate) const fn new(
        name: &'static str,
        ty: &'static str,
        description: &'static str,
    ) -> Col {
        Col {
            name,
            ty,
            format: "",
            description,
            priority: 0,
        }
    }

    /// A column kubectl shows only with `-o wide`.
    pub(crate) const fn wide(
        name: &'static str,
        ty: &'static str,
        description: &'static str,
    ) -> Col {
        Col {
            name,
            ty,
            format: "",
            description,
            priority: 1,
        }
    }

    /// Same column with format `name` (upstream marks a few non-name columns so, e.g.
    /// VolumeAttachment's Attacher and the wide Name of Events).
    pub(crate) const fn named(self) -> Col {
        Col {
            format: "name",
            ..self
        }
    }

    fn definition(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.ty,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

pub(crate) const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

pub(crate) const CREATION_TIMESTAMP_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

pub(crate) const CONTAINERS_DESCRIPTION: &str = "Names of each container in the template.";
pub(crate) const IMAGES_DESCRIPTION: &str = "Images referenced by each container in the template.";

/// Renders the cells of one object; `now` is the reference for ages.
type CellFn = fn(&Value, Timestamp) -> Vec<Value>;

/// How one kind is printed.
struct Printer {
    columns: &'static [Col],
    cells: CellFn,
}

/// The printer kube-apiserver registers for `kind`, if any.
fn printer(kind: &str) -> Option<Printer> {
    let (columns, cells): (&'static [Col], CellFn) = match kind {
        // core/v1
        "Pod" => (pod_status::COLUMNS, pod_status::cells),
        "PodTemplate" => (core::POD_TEMPLATE, core::pod_template),
        "ReplicationController" => (core::REPLICATION_CONTROLLER, core::replication_controller),
        "Service" => (core::SERVICE, core::service),
        "Endpoints" => (core::ENDPOINTS, core::endpoints),
        "Node" => (core::NODE, core::node),
        "Event" => (core::EVENT, core::event),
        "Namespace" => (core::NAMESPACE, core::namespace),
        "Secret" => (core::SECRET, core::secret),
        "ServiceAccount" => (core::SERVICE_ACCOUNT, core::service_account),
        "ConfigMap" => (core::CONFIG_MAP, core::config_map),
        "PersistentVolume" => (core::PERSISTENT_VOLUME, core::persistent_volume),
        "PersistentVolumeClaim" => (core::PERSISTENT_VOLUME_CLAIM, core::persistent_volume_claim),
        "ComponentStatus" => (core::COMPONENT_STATUS, core::component_status),
        "ResourceQuota" => (core::RESOURCE_QUOTA, core::resource_quota),
        // apps/v1
        "ReplicaSet" => (apps::REPLICA_SET, apps::replica_set),
        "Deployment" => (apps::DEPLOYMENT, apps::deployment),
        "StatefulSet" => (apps::STATEFUL_SET, apps::stateful_set),
        "DaemonSet" => (apps::DAEMON_SET, apps::daemon_set),
        "ControllerRevision" => (apps::CONTROLLER_REVISION, apps::controller_revision),
        // batch/v1
        "Job" => (batch::JOB, batch::job),
        "CronJob" => (batch::CRON_JOB, batch::cron_job),
        // networking.k8s.io, discovery.k8s.io
        "Ingress" => (networking::INGRESS, networking::ingress),
        "IngressClass" => (networking::INGRESS_CLASS, networking::ingress_class),
        "NetworkPolicy" => (networking::NETWORK_POLICY, networking::network_policy),
        "EndpointSlice" => (networking::ENDPOINT_SLICE, networking::endpoint_slice),
        "ServiceCIDR" => (networking::SERVICE_CIDR, networking::service_cidr),
        "IPAddress" => (networking::IP_ADDRESS, networking::ip_address),
        // rbac.authorization.k8s.io (Role and ClusterRole have no printer upstream)
        "RoleBinding" => (rbac::ROLE_BINDING, rbac::binding),
        "ClusterRoleBinding" => (rbac::CLUSTER_ROLE_BINDING, rbac::binding),
        // storage.k8s.io
        "StorageClass" => (storage::STORAGE_CLASS, storage::storage_class),
        "CSIDriver" => (storage::CSI_DRIVER, storage::csi_driver),
        "CSINode" => (storage::CSI_NODE, storage::csi_node),
        "CSIStorageCapacity" => (storage::CSI_STORAGE_CAPACITY, storage::csi_storage_capacity),
        "VolumeAttachment" => (storage::VOLUME_ATTACHMENT, storage::volume_attachment),
        "VolumeAttributesClass" => (
            storage::VOLUME_ATTRIBUTES_CLASS,
            storage::volume_attributes_class,
        ),
        // the rest
        "PodDisruptionBudget" => (other::POD_DISRUPTION_BUDGET, other::pod_disruption_budget),
        "HorizontalPodAutoscaler" => (other::HPA, other::horizontal_pod_autoscaler),
        "CertificateSigningRequest" => (other::CSR, other::certificate_signing_request),
        "ClusterTrustBundle" => (other::CLUSTER_TRUST_BUNDLE, other::cluster_trust_bundle),
        "Lease" => (other::LEASE, other::lease),
        "LeaseCandidate" => (other::LEASE_CANDIDATE, other::lease_candidate),
        "PriorityClass" => (other::PRIORITY_CLASS, other::priority_class),
        "RuntimeClass" => (other::RUNTIME_CLASS, other::runtime_class),
        "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration" => {
            (other::WEBHOOK_CONFIGURATION, other::webhook_configuration)
        }
        "ValidatingAdmissionPolicy" => (
            other::VALIDATING_ADMISSION_POLICY,
            other::validating_admission_policy,
        ),
        "MutatingAdmissionPolicy" => (
            other::MUTATING_ADMISSION_POLICY,
            other::mutating_admission_policy,
        ),
        "ValidatingAdmissionPolicyBinding" | "MutatingAdmissionPolicyBinding" => (
            other::ADMISSION_POLICY_BINDING,
            other::admission_policy_binding,
        ),
        "FlowSchema" => (other::FLOW_SCHEMA, other::flow_schema),
        "PriorityLevelConfiguration" => (
            other::PRIORITY_LEVEL_CONFIGURATION,
            other::priority_level_configuration,
        ),
        "StorageVersion" => (other::STORAGE_VERSION, other::storage_version),
        "StorageVersionMigration" => (
            other::STORAGE_VERSION_MIGRATION,
            other::storage_version_migration,
        ),
        "DeviceClass" | "ResourceClaimTemplate" => (other::NAME_AGE, other::name_age),
        "ResourceClaim" => (other::RESOURCE_CLAIM, other::resource_claim),
        "ResourceSlice" => (other::RESOURCE_SLICE, other::resource_slice),
        _ => return None,
    };
    Some(Printer { columns, cells })
}

/// Columns of kube-apiserver's default table (types without a printer, CRDs included).
const DEFAULT_COLUMNS: &[Col] = &[
    Col::name(),
    Col::new("Created At", "date", CREATION_TIMESTAMP_DESCRIPTION),
];

fn default_cells(o: &Value, _now: Timestamp) -> Vec<Value> {
    let created = o
        .pointer("/metadata/creationTimestamp")
        .cloned()
        .unwrap_or(Value::Null);
    vec![json!(name(o)), created]
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
    let Printer { columns, cells } = printer(kind).unwrap_or(Printer {
        columns: DEFAULT_COLUMNS,
        cells: default_cells,
    });
    let column_definitions: Vec<Value> = columns.iter().map(Col::definition).collect();

    // FlowSchemas are listed in matching order (precedence, then name), as upstream does.
    let mut ordered: Vec<&Value> = objects.iter().collect();
    if kind == "FlowSchema" {
        ordered.sort_by(|a, b| other::flow_schema_order(a, b));
    }

    let rows: Vec<Value> = ordered
        .into_iter()
        .map(|obj| {
            let mut row = json!({ "cells": cells(obj, now) });
            if kind == "Pod"
                && let Some(conditions) = pod_status::row_conditions(obj)
            {
                row["conditions"] = conditions;
            }
            add_row_object(&mut row, obj, include_object);
            row
        })
        .collect();
    table(column_definitions, rows, list_meta)
}

/// A row's `object`: nothing, the object, or (the default) its metadata.
fn add_row_object(row: &mut Value, obj: &Value, include_object: &str) {
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
}

fn table(column_definitions: Vec<Value>, rows: Vec<Value>, list_meta: Value) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": column_definitions,
        "rows": rows,
    })
}

/// A Table from column definitions and a cell function given at run time (custom
/// resources' printer columns); rows carry objects as [`build_table`]'s do.
pub fn build_table_with(
    column_definitions: Vec<Value>,
    cells: impl Fn(&Value) -> Vec<Value>,
    objects: &[Value],
    include_object: &str,
    list_meta: Value,
) -> Value {
    let rows = objects
        .iter()
        .map(|obj| {
            let mut row = json!({ "cells": cells(obj) });
            add_row_object(&mut row, obj, include_object);
            row
        })
        .collect();
    table(column_definitions, rows, list_meta)
}

/// The description of the `Name` column, for tables built elsewhere.
pub const NAME_COLUMN_DESCRIPTION: &str = NAME_DESCRIPTION;

/// `5m`, `3h12m`, `<unknown>` for a missing timestamp, as kubectl's translateTimestampSince.
pub fn translate_timestamp_since(ts: &str, now: Timestamp) -> String {
    match parse_time(ts) {
        Some(t) => human_duration(now.as_second() - t.as_second()),
        None => "<unknown>".into(),
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

// ---- helpers shared by the printers ----

pub(crate) fn parse_time(ts: &str) -> Option<Timestamp> {
    if ts.is_empty() {
        return None;
    }
    ts.parse::<Timestamp>().ok()
}

/// String at a JSON pointer, "" when absent or not a string.
pub(crate) fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// Optional string at a JSON pointer (absent or null gives None).
pub(crate) fn opt_s<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

/// Integer at a JSON pointer, 0 when absent.
pub(crate) fn i(v: &Value, ptr: &str) -> i64 {
    opt_i(v, ptr).unwrap_or(0)
}

pub(crate) fn opt_i(v: &Value, ptr: &str) -> Option<i64> {
    v.pointer(ptr).and_then(Value::as_i64)
}

pub(crate) fn opt_b(v: &Value, ptr: &str) -> Option<bool> {
    v.pointer(ptr).and_then(Value::as_bool)
}

/// Array at a JSON pointer, empty when absent.
pub(crate) fn arr<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub(crate) fn obj<'a>(v: &'a Value, ptr: &str) -> Option<&'a Map<String, Value>> {
    v.pointer(ptr).and_then(Value::as_object)
}

/// Whether a field is present and not null.
pub(crate) fn is_set(v: &Value, ptr: &str) -> bool {
    v.pointer(ptr).is_some_and(|x| !x.is_null())
}

pub(crate) fn name(o: &Value) -> &str {
    s(o, "/metadata/name")
}

/// The object's age from `metadata.creationTimestamp`.
pub(crate) fn age(o: &Value, now: Timestamp) -> String {
    translate_timestamp_since(s(o, "/metadata/creationTimestamp"), now)
}

pub(crate) fn or_default<'a>(v: &'a str, default: &'a str) -> &'a str {
    if v.is_empty() { default } else { v }
}

/// A resource.Quantity rendered as a string (the stored form is already canonical).
pub(crate) fn quantity(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(q) => Some(q.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// labels.FormatLabels: `k=v` sorted by key, joined with commas; `<none>` when empty.
pub(crate) fn format_labels(m: Option<&Map<String, Value>>) -> String {
    let Some(m) = m.filter(|m| !m.is_empty()) else {
        return "<none>".into();
    };
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    keys.iter()
        .map(|k| format!("{k}={}", m[k.as_str()].as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(",")
}

/// The string of a metav1.LabelSelector converted to a labels.Selector: requirements sorted
/// by key, set values sorted. "" for an empty or missing selector.
pub(crate) fn label_selector_string(sel: Option<&Value>) -> String {
    let Some(sel) = sel.filter(|v| !v.is_null()) else {
        return String::new();
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(ml) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in ml {
            reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or_default())));
        }
    }
    for e in arr(sel, "/matchExpressions") {
        let key = s(e, "/key");
        let mut values: Vec<&str> = arr(e, "/values").iter().filter_map(Value::as_str).collect();
        values.sort_unstable();
        values.dedup();
        let text = match s(e, "/operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => continue,
        };
        reqs.push((key.to_string(), text));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    reqs.into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(",")
}

/// metav1.FormatLabelSelector: the selector string, `<none>` when it selects everything.
pub(crate) fn format_label_selector(sel: Option<&Value>) -> String {
    let out = label_selector_string(sel);
    if out.is_empty() { "<none>".into() } else { out }
}

/// Container names and images of a pod spec, each joined with commas.
pub(crate) fn containers_images(pod_spec: Option<&Value>) -> (String, String) {
    let cs = pod_spec.map(|p| arr(p, "/containers")).unwrap_or(&[]);
    let names: Vec<&str> = cs.iter().map(|c| s(c, "/name")).collect();
    let images: Vec<&str> = cs.iter().map(|c| s(c, "/image")).collect();
    (names.join(","), images.join(","))
}

/// Up to `max` entries, then ` + N more...`; `<unset>` when empty (listWithMoreString).
pub(crate) fn list_with_more(items: &[String], max: usize) -> String {
    if items.len() > max {
        return format!("{} + {} more...", items[..max].join(","), items.len() - max);
    }
    if items.is_empty() {
        return "<unset>".into();
    }
    items.join(",")
}

/// printBool / printBoolPtr: `True`, `False`, `<unset>`.
pub(crate) fn bool_ptr(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use k8s_openapi::jiff::Timestamp;
    use serde_json::Value;

    /// The fixed "now" of every printer test.
    pub fn now() -> Timestamp {
        "2026-01-01T00:10:00Z".parse().unwrap()
    }

    /// Cells of the single row printed for `obj`.
    pub fn row(kind: &str, obj: Value) -> Vec<Value> {
        let t = super::build_table(kind, &[obj], "None", serde_json::json!({}), now());
        let cols = t["columnDefinitions"].as_array().unwrap().len();
        let cells = t["rows"][0]["cells"].as_array().unwrap().clone();
        assert_eq!(cells.len(), cols, "one cell per column for {kind}");
        cells
    }

    /// Column names of a kind's table.
    pub fn column_names(kind: &str) -> Vec<String> {
        let t = super::build_table(kind, &[], "None", serde_json::json!({}), now());
        t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn human_durations_match_upstream() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(180), "3m");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(179 * 60), "179m");
        assert_eq!(human_duration(3 * 3600 + 60), "3h1m");
        assert_eq!(human_duration(5 * 3600), "5h");
        assert_eq!(human_duration(30 * 3600), "30h");
        assert_eq!(human_duration(3 * 86400), "3d");
        assert_eq!(human_duration(3 * 86400 + 5 * 3600), "3d5h");
        assert_eq!(human_duration(100 * 86400), "100d");
        assert_eq!(human_duration(3 * 365 * 86400 + 10 * 86400), "3y10d");
        assert_eq!(human_duration(9 * 365 * 86400), "9y");
        assert_eq!(human_duration(-1), "0s");
        assert_eq!(human_duration(-5), "<invalid>");
    }

    #[test]
    fn timestamps_translate_to_ages() {
        assert_eq!(
            translate_timestamp_since("2026-01-01T00:00:00Z", now()),
            "10m"
        );
        assert_eq!(
            translate_timestamp_since("2026-01-01T00:09:58.123456Z", now()),
            "2s"
        );
        assert_eq!(translate_timestamp_since("", now()), "<unknown>");
        assert_eq!(translate_timestamp_since("garbage", now()), "<unknown>");
    }

    #[test]
    fn metadata_is_embedded_by_default() {
        let obj = json!({"metadata": {"name": "x", "creationTimestamp": "2026-01-01T00:00:00Z"}});
        let t = build_table(
            "Widget",
            std::slice::from_ref(&obj),
            "Metadata",
            json!({}),
            now(),
        );
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(t["rows"][0]["object"]["metadata"]["name"], "x");
        let t = build_table(
            "Widget",
            std::slice::from_ref(&obj),
            "Object",
            json!({}),
            now(),
        );
        assert_eq!(t["rows"][0]["object"], obj);
        let t = build_table(
            "Widget",
            &[obj],
            "None",
            json!({"resourceVersion": "7"}),
            now(),
        );
        assert!(t["rows"][0].get("object").is_none());
        assert_eq!(t["metadata"]["resourceVersion"], "7");
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    }

    #[test]
    fn default_table_has_name_and_created_at() {
        for kind in [
            "Widget",
            "Role",
            "ClusterRole",
            "LimitRange",
            "CustomResourceDefinition",
        ] {
            assert_eq!(column_names(kind), ["Name", "Created At"], "{kind}");
        }
        let t = build_table("Role", &[], "None", json!({}), now());
        assert_eq!(t["columnDefinitions"][0]["format"], "name");
        assert_eq!(t["columnDefinitions"][1]["type"], "date");
        assert_eq!(
            t["columnDefinitions"][1]["description"],
            CREATION_TIMESTAMP_DESCRIPTION
        );
        let cells = row(
            "LimitRange",
            json!({"metadata": {"name": "limits", "creationTimestamp": "2026-01-01T00:00:00Z"}}),
        );
        assert_eq!(cells, [json!("limits"), json!("2026-01-01T00:00:00Z")]);
    }

    #[test]
    fn label_selectors_sort_by_key() {
        let sel = json!({
            "matchLabels": {"tier": "web", "app": "demo"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                {"key": "zz", "operator": "DoesNotExist"},
                {"key": "b", "operator": "Exists"},
                {"key": "c", "operator": "NotIn", "values": ["x"]}
            ]
        });
        assert_eq!(
            label_selector_string(Some(&sel)),
            "app=demo,b,c notin (x),env in (dev,prod),tier=web,!zz"
        );
        assert_eq!(format_label_selector(Some(&json!({}))), "<none>");
        assert_eq!(format_label_selector(None), "<none>");
        assert_eq!(format_labels(None), "<none>");
        let m = json!({"b": "2", "a": "1"});
        assert_eq!(format_labels(m.as_object()), "a=1,b=2");
    }

    #[test]
    fn column_definitions_carry_type_format_and_priority() {
        let t = build_table("Pod", &[], "None", json!({}), now());
        let cols = t["columnDefinitions"].as_array().unwrap();
        assert_eq!(cols[0]["name"], "Name");
        assert_eq!(cols[0]["format"], "name");
        assert_eq!(cols[0]["description"], NAME_DESCRIPTION);
        assert_eq!(cols[3]["name"], "Restarts");
        assert_eq!(cols[3]["type"], "string");
        assert_eq!(cols[4]["priority"], 0);
        assert_eq!(cols[5]["name"], "IP");
        assert_eq!(cols[5]["priority"], 1);
        assert_eq!(cols[5]["format"], "");
    }
}
