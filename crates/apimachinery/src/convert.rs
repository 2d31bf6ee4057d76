//! Conversion between versions of a kind that share one storage version, as
//! kube-apiserver converts them on every read and write:
//!
//! * HorizontalPodAutoscaler: served as `autoscaling/v1` and `autoscaling/v2`, stored as
//!   v2. v1 only has `targetCPUUtilizationPercentage` / `currentCPUUtilizationPercentage`;
//!   what else v2 holds travels in `autoscaling.alpha.kubernetes.io/*` annotations on
//!   the v1 form (upstream pkg/apis/autoscaling/v1/conversion.go), so a v1 client that
//!   reads and writes an object back loses nothing.
//! * Event: served as core `v1` and `events.k8s.io/v1`, stored as core v1 (upstream
//!   pkg/apis/events/v1/conversion.go): renamed fields, same content.
//!
//! Everything else converts as the identity.

use serde_json::{Map, Value, json};

pub const METRIC_SPECS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
pub const METRIC_STATUSES_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
pub const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
pub const BEHAVIOR_SPECS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";
pub const TOLERANCE_SCALE_DOWN_ANNOTATION: &str =
    "autoscaling.alpha.kubernetes.io/scale-down-tolerance";
pub const TOLERANCE_SCALE_UP_ANNOTATION: &str =
    "autoscaling.alpha.kubernetes.io/scale-up-tolerance";

/// The target v1 implied before v2 made metrics explicit (autoscaling DefaultCPUUtilization).
const DEFAULT_CPU_UTILIZATION: i64 = 80;

const ROUND_TRIP_ANNOTATIONS: [&str; 6] = [
    METRIC_SPECS_ANNOTATION,
    METRIC_STATUSES_ANNOTATION,
    CONDITIONS_ANNOTATION,
    BEHAVIOR_SPECS_ANNOTATION,
    TOLERANCE_SCALE_DOWN_ANNOTATION,
    TOLERANCE_SCALE_UP_ANNOTATION,
];

/// The (group, version) objects of `kind` in `group` are stored in, for the kinds served
/// in several versions with conversion; `None` for every other kind.
pub fn storage_version(group: &str, kind: &str) -> Option<(&'static str, &'static str)> {
    match (group, kind) {
        ("autoscaling", "HorizontalPodAutoscaler") => Some(("autoscaling", "v2")),
        ("" | "events.k8s.io", "Event") => Some(("", "v1")),
        _ => None,
    }
}

/// Converts a request object of `group/version` `kind` to its storage form.
pub fn to_storage(group: &str, version: &str, kind: &str, obj: Value) -> Value {
    match (group, version, kind) {
        ("autoscaling", "v1", "HorizontalPodAutoscaler") => hpa_v1_to_v2(obj),
        ("autoscaling", "v2", "HorizontalPodAutoscaler") => {
            // v2 round-trips without annotations: drop any a v1 form left behind.
            let mut obj = obj;
            drop_round_trip_annotations(&mut obj);
            obj
        }
        ("events.k8s.io", "v1", "Event") => event_to_core(obj),
        _ => obj,
    }
}

/// Converts a stored object of `kind` to `group/version`, the version a client asked for.
pub fn from_storage(group: &str, version: &str, kind: &str, obj: Value) -> Value {
    match (group, version, kind) {
        ("autoscaling", "v1", "HorizontalPodAutoscaler") => hpa_v2_to_v1(obj),
        ("autoscaling", "v2", "HorizontalPodAutoscaler") => {
            let mut obj = obj;
            drop_round_trip_annotations(&mut obj);
            set_type(&mut obj, "autoscaling/v2", "HorizontalPodAutoscaler");
            obj
        }
        ("events.k8s.io", "v1", "Event") => event_from_core(obj),
        ("", "v1", "Event") => {
            let mut obj = obj;
            set_type(&mut obj, "v1", "Event");
            obj
        }
        _ => obj,
    }
}

fn set_type(obj: &mut Value, api_version: &str, kind: &str) {
    if let Value::Object(m) = obj {
        m.insert("apiVersion".into(), Value::String(api_version.into()));
        m.insert("kind".into(), Value::String(kind.into()));
    }
}

// ---------------------------------------------------------------------------------
// Event

/// core/v1 field name, events.k8s.io/v1 field name.
const EVENT_RENAMES: [(&str, &str); 6] = [
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
];
const EVENT_COUNT: (&str, &str) = ("count", "deprecatedCount");

fn rename_fields(obj: Value, renames: &[(&str, &str)]) -> Value {
    let Value::Object(map) = obj else {
        return obj;
    };
    let out: Map<String, Value> = map
        .into_iter()
        .map(|(k, v)| {
            let k = renames
                .iter()
                .find(|(from, _)| *from == k)
                .map(|(_, to)| to.to_string())
                .unwrap_or(k);
            (k, v)
        })
        .collect();
    Value::Object(out)
}

fn event_from_core(obj: Value) -> Value {
    let mut renames = EVENT_RENAMES.to_vec();
    renames.push(EVENT_COUNT);
    let mut out = rename_fields(obj, &renames);
    set_type(&mut out, "events.k8s.io/v1", "Event");
    out
}

fn event_to_core(obj: Value) -> Value {
    let mut renames: Vec<(&str, &str)> = EVENT_RENAMES.iter().map(|(a, b)| (*b, *a)).collect();
    renames.push((EVENT_COUNT.1, EVENT_COUNT.0));
    let mut out = rename_fields(obj, &renames);
    set_type(&mut out, "v1", "Event");
    out
}

// ---------------------------------------------------------------------------------
// HorizontalPodAutoscaler

/// A field that is present and not null.
fn field<'v>(obj: &'v Value, key: &str) -> Option<&'v Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// Builds an object from (key, value) pairs, leaving out the absent ones.
fn object<'a>(pairs: impl IntoIterator<Item = (&'a str, Option<Value>)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect(),
    )
}

fn get(obj: &Value, key: &str) -> Option<Value> {
    field(obj, key).cloned()
}

fn get_or(obj: &Value, key: &str, zero: Value) -> Option<Value> {
    Some(get(obj, key).unwrap_or(zero))
}

fn str_at<'v>(obj: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(obj, |v, k| v.get(*k))
        .and_then(Value::as_str)
}

fn annotations(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata")?.get("annotations")?.as_object()
}

fn annotation_json(obj: &Value, key: &str) -> Option<Value> {
    let raw = annotations(obj)?.get(key)?.as_str()?;
    serde_json::from_str(raw).ok()
}

fn drop_round_trip_annotations(obj: &mut Value) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(Value::Object(ann)) = meta.get_mut("annotations") else {
        return;
    };
    if !ROUND_TRIP_ANNOTATIONS.iter().any(|k| ann.contains_key(*k)) {
        return;
    }
    for k in ROUND_TRIP_ANNOTATIONS {
        ann.shift_remove(k);
    }
    if ann.is_empty() {
        meta.shift_remove("annotations");
    }
}

fn set_annotation(obj: &mut Value, key: &str, value: String) {
    let Value::Object(root) = obj else {
        return;
    };
    let meta = root.entry("metadata").or_insert_with(|| json!({}));
    if !meta.is_object() {
        *meta = json!({});
    }
    let Value::Object(meta) = meta else {
        return;
    };
    let ann = meta.entry("annotations").or_insert_with(|| json!({}));
    if !ann.is_object() {
        *ann = json!({});
    }
    if let Value::Object(ann) = ann {
        ann.insert(key.to_string(), Value::String(value));
    }
}

fn cross_version_ref(r: Option<&Value>) -> Value {
    let r = r.cloned().unwrap_or_else(|| json!({}));
    object([
        ("kind", get_or(&r, "kind", json!(""))),
        ("name", get_or(&r, "name", json!(""))),
        ("apiVersion", get(&r, "apiVersion")),
    ])
}

fn is_cpu_resource(metric: &Value) -> bool {
    str_at(metric, &["type"]) == Some("Resource")
        && str_at(metric, &["resource", "name"]) == Some("cpu")
}

fn cpu_utilization_target(metric: &Value) -> Option<&Value> {
    if !is_cpu_resource(metric) {
        return None;
    }
    field(metric.get("resource")?.get("target")?, "averageUtilization")
}

/// v2 `MetricSpec` -> v1 `MetricSpec` (the v2beta1-shaped one kept in the annotation).
fn metric_spec_to_v1(m: &Value) -> Value {
    let ident = |src: &Value| {
        let metric = src.get("metric").cloned().unwrap_or_else(|| json!({}));
        (get_or(&metric, "name", json!("")), get(&metric, "selector"))
    };
    let target = |src: &Value| src.get("target").cloned().unwrap_or_else(|| json!({}));
    let mut out = Map::new();
    out.insert("type".into(), get(m, "type").unwrap_or(json!("")));
    if let Some(o) = field(m, "object") {
        let (name, selector) = ident(o);
        let t = target(o);
        out.insert(
            "object".into(),
            object([
                ("target", Some(cross_version_ref(o.get("describedObject")))),
                ("metricName", name),
                ("targetValue", get_or(&t, "value", json!("0"))),
                ("selector", selector),
                ("averageValue", get(&t, "averageValue")),
            ]),
        );
    }
    if let Some(p) = field(m, "pods") {
        let (name, selector) = ident(p);
        let t = target(p);
        out.insert(
            "pods".into(),
            object([
                ("metricName", name),
                ("targetAverageValue", get_or(&t, "averageValue", json!("0"))),
                ("selector", selector),
            ]),
        );
    }
    for key in ["resource", "containerResource"] {
        if let Some(r) = field(m, key) {
            let t = target(r);
            out.insert(
                key.into(),
                object([
                    ("name", get_or(r, "name", json!(""))),
                    ("targetAverageUtilization", get(&t, "averageUtilization")),
                    ("targetAverageValue", get(&t, "averageValue")),
                    (
                        "container",
                        (key == "containerResource")
                            .then(|| get(r, "container").unwrap_or(json!(""))),
                    ),
                ]),
            );
        }
    }
    if let Some(e) = field(m, "external") {
        let (name, selector) = ident(e);
        let t = target(e);
        out.insert(
            "external".into(),
            object([
                ("metricName", name),
                ("metricSelector", selector),
                ("targetValue", get(&t, "value")),
                ("targetAverageValue", get(&t, "averageValue")),
            ]),
        );
    }
    Value::Object(out)
}

fn identifier(src: &Value, selector_key: &str) -> Value {
    object([
        ("name", get_or(src, "metricName", json!(""))),
        ("selector", get(src, selector_key)),
    ])
}

/// v1 `MetricSpec` (from the annotation) -> v2 `MetricSpec`.
fn metric_spec_from_v1(m: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), get(m, "type").unwrap_or(json!("")));
    if let Some(o) = field(m, "object") {
        let kind = if field(o, "averageValue").is_some() {
            "AverageValue"
        } else {
            "Value"
        };
        out.insert(
            "object".into(),
            object([
                ("describedObject", Some(cross_version_ref(o.get("target")))),
                ("metric", Some(identifier(o, "selector"))),
                (
                    "target",
                    Some(object([
                        ("type", Some(json!(kind))),
                        ("value", get_or(o, "targetValue", json!("0"))),
                        ("averageValue", get(o, "averageValue")),
                    ])),
                ),
            ]),
        );
    }
    if let Some(p) = field(m, "pods") {
        out.insert(
            "pods".into(),
            object([
                ("metric", Some(identifier(p, "selector"))),
                (
                    "target",
                    Some(object([
                        ("type", Some(json!("AverageValue"))),
                        ("averageValue", get_or(p, "targetAverageValue", json!("0"))),
                    ])),
                ),
            ]),
        );
    }
    for key in ["resource", "containerResource"] {
        if let Some(r) = field(m, key) {
            let utilization = get(r, "targetAverageUtilization");
            let kind = if utilization.is_some() {
                "Utilization"
            } else {
                "AverageValue"
            };
            out.insert(
                key.into(),
                object([
                    ("name", get_or(r, "name", json!(""))),
                    (
                        "container",
                        (key == "containerResource")
                            .then(|| get(r, "container").unwrap_or(json!(""))),
                    ),
                    (
                        "target",
                        Some(object([
                            ("type", Some(json!(kind))),
                            ("averageValue", get(r, "targetAverageValue")),
                            ("averageUtilization", utilization),
                        ])),
                    ),
                ]),
            );
        }
    }
    if let Some(e) = field(m, "external") {
        let value = get(e, "targetValue");
        let kind = if value.is_some() {
            "Value"
        } else {
            "AverageValue"
        };
        out.insert(
            "external".into(),
            object([
                ("metric", Some(identifier(e, "metricSelector"))),
                (
                    "target",
                    Some(object([
                        ("type", Some(json!(kind))),
                        ("value", value),
                        ("averageValue", get(e, "targetAverageValue")),
                    ])),
                ),
            ]),
        );
    }
    Value::Object(out)
}

/// v2 `MetricStatus` -> v1 `MetricStatus`.
fn metric_status_to_v1(m: &Value) -> Value {
    let ident = |src: &Value| {
        let metric = src.get("metric").cloned().unwrap_or_else(|| json!({}));
        (get_or(&metric, "name", json!("")), get(&metric, "selector"))
    };
    let current = |src: &Value| src.get("current").cloned().unwrap_or_else(|| json!({}));
    let mut out = Map::new();
    out.insert("type".into(), get(m, "type").unwrap_or(json!("")));
    if let Some(o) = field(m, "object") {
        let (name, selector) = ident(o);
        let c = current(o);
        out.insert(
            "object".into(),
            object([
                ("target", Some(cross_version_ref(o.get("describedObject")))),
                ("metricName", name),
                ("currentValue", get_or(&c, "value", json!("0"))),
                ("selector", selector),
                ("averageValue", get(&c, "averageValue")),
            ]),
        );
    }
    if let Some(p) = field(m, "pods") {
        let (name, selector) = ident(p);
        let c = current(p);
        out.insert(
            "pods".into(),
            object([
                ("metricName", name),
                (
                    "currentAverageValue",
                    get_or(&c, "averageValue", json!("0")),
                ),
                ("selector", selector),
            ]),
        );
    }
    for key in ["resource", "containerResource"] {
        if let Some(r) = field(m, key) {
            let c = current(r);
            out.insert(
                key.into(),
                object([
                    ("name", get_or(r, "name", json!(""))),
                    ("currentAverageUtilization", get(&c, "averageUtilization")),
                    (
                        "currentAverageValue",
                        get_or(&c, "averageValue", json!("0")),
                    ),
                    (
                        "container",
                        (key == "containerResource")
                            .then(|| get(r, "container").unwrap_or(json!(""))),
                    ),
                ]),
            );
        }
    }
    if let Some(e) = field(m, "external") {
        let (name, selector) = ident(e);
        let c = current(e);
        out.insert(
            "external".into(),
            object([
                ("metricName", name),
                ("metricSelector", selector),
                ("currentValue", get_or(&c, "value", json!("0"))),
                ("currentAverageValue", get(&c, "averageValue")),
            ]),
        );
    }
    Value::Object(out)
}

/// v1 `MetricStatus` (from the annotation) -> v2 `MetricStatus`.
fn metric_status_from_v1(m: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), get(m, "type").unwrap_or(json!("")));
    if let Some(o) = field(m, "object") {
        out.insert(
            "object".into(),
            object([
                ("describedObject", Some(cross_version_ref(o.get("target")))),
                ("metric", Some(identifier(o, "selector"))),
                (
                    "current",
                    Some(object([
                        ("value", get_or(o, "currentValue", json!("0"))),
                        ("averageValue", get(o, "averageValue")),
                    ])),
                ),
            ]),
        );
    }
    if let Some(p) = field(m, "pods") {
        out.insert(
            "pods".into(),
            object([
                ("metric", Some(identifier(p, "selector"))),
                (
                    "current",
                    Some(object([(
                        "averageValue",
                        get_or(p, "currentAverageValue", json!("0")),
                    )])),
                ),
            ]),
        );
    }
    for key in ["resource", "containerResource"] {
        if let Some(r) = field(m, key) {
            out.insert(
                key.into(),
                object([
                    ("name", get_or(r, "name", json!(""))),
                    (
                        "container",
                        (key == "containerResource")
                            .then(|| get(r, "container").unwrap_or(json!(""))),
                    ),
                    (
                        "current",
                        Some(object([
                            ("averageValue", get_or(r, "currentAverageValue", json!("0"))),
                            ("averageUtilization", get(r, "currentAverageUtilization")),
                        ])),
                    ),
                ]),
            );
        }
    }
    if let Some(e) = field(m, "external") {
        out.insert(
            "external".into(),
            object([
                ("metric", Some(identifier(e, "metricSelector"))),
                (
                    "current",
                    Some(object([
                        ("value", get_or(e, "currentValue", json!("0"))),
                        ("averageValue", get(e, "currentAverageValue")),
                    ])),
                ),
            ]),
        );
    }
    Value::Object(out)
}

/// Upstream stores the behavior as its *internal* Go struct marshalled without json
/// tags: Go field names, nil pointers as `null`.
fn behavior_to_annotation(behavior: &Value) -> String {
    let rules = |r: Option<&Value>| match r.filter(|r| r.is_object()) {
        None => Value::Null,
        Some(r) => json!({
            "StabilizationWindowSeconds": get(r, "stabilizationWindowSeconds"),
            "SelectPolicy": get(r, "selectPolicy"),
            "Policies": field(r, "policies").and_then(Value::as_array).map(|ps| {
                ps.iter()
                    .map(|p| json!({
                        "Type": get(p, "type").unwrap_or(json!("")),
                        "Value": get(p, "value").unwrap_or(json!(0)),
                        "PeriodSeconds": get(p, "periodSeconds").unwrap_or(json!(0)),
                    }))
                    .collect::<Vec<_>>()
            }),
            "Tolerance": get(r, "tolerance"),
        }),
    };
    json!({
        "ScaleUp": rules(behavior.get("scaleUp")),
        "ScaleDown": rules(behavior.get("scaleDown")),
    })
    .to_string()
}

/// Go's `encoding/json` matches struct fields case-insensitively when no exact match.
fn field_ci<'v>(obj: &'v Value, name: &str) -> Option<&'v Value> {
    let map = obj.as_object()?;
    map.get(name)
        .or_else(|| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

/// The behavior in the annotation, if it is well formed and not empty.
fn behavior_from_annotation(raw: &Value) -> Option<Value> {
    let rules = |r: Option<&Value>| -> Option<Value> {
        let r = r.filter(|r| r.is_object())?;
        let policies = field_ci(r, "Policies").and_then(Value::as_array).map(|ps| {
            Value::Array(
                ps.iter()
                    .map(|p| {
                        json!({
                            "type": field_ci(p, "Type").cloned().unwrap_or(json!("")),
                            "value": field_ci(p, "Value").cloned().unwrap_or(json!(0)),
                            "periodSeconds": field_ci(p, "PeriodSeconds").cloned().unwrap_or(json!(0)),
                        })
                    })
                    .collect(),
            )
        });
        Some(object([
            (
                "stabilizationWindowSeconds",
                field_ci(r, "StabilizationWindowSeconds").cloned(),
            ),
            ("selectPolicy", field_ci(r, "SelectPolicy").cloned()),
            ("policies", policies),
            ("tolerance", field_ci(r, "Tolerance").cloned()),
        ]))
    };
    if !raw.is_object() {
        return None;
    }
    let out = object([
        ("scaleUp", rules(field_ci(raw, "ScaleUp"))),
        ("scaleDown", rules(field_ci(raw, "ScaleDown"))),
    ]);
    (out.as_object().is_some_and(|m| !m.is_empty())).then_some(out)
}

fn cpu_metric(target_or_current: &str, body: Value) -> Value {
    json!({"type": "Resource", "resource": {"name": "cpu", target_or_current: body}})
}

/// autoscaling/v1 form -> autoscaling/v2 (storage) form.
fn hpa_v1_to_v2(obj: Value) -> Value {
    let spec_in = obj.get("spec").cloned().unwrap_or_else(|| json!({}));
    let status_in = obj.get("status").cloned();

    let mut metrics: Vec<Value> = annotation_json(&obj, METRIC_SPECS_ANNOTATION)
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(metric_spec_from_v1)
        .collect();
    // The metric from the v1 field goes after those of the annotation.
    if let Some(pct) = get(&spec_in, "targetCPUUtilizationPercentage") {
        metrics.push(cpu_metric(
            "target",
            json!({"type": "Utilization", "averageUtilization": pct}),
        ));
    }
    if metrics.is_empty() {
        metrics.push(cpu_metric(
            "target",
            json!({"type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}),
        ));
    }
    let behavior =
        annotation_json(&obj, BEHAVIOR_SPECS_ANNOTATION).and_then(|b| behavior_from_annotation(&b));
    let spec = object([
        (
            "scaleTargetRef",
            Some(cross_version_ref(spec_in.get("scaleTargetRef"))),
        ),
        ("minReplicas", get(&spec_in, "minReplicas")),
        ("maxReplicas", get_or(&spec_in, "maxReplicas", json!(0))),
        ("metrics", Some(Value::Array(metrics))),
        ("behavior", behavior),
    ]);

    let status_src = status_in.clone().unwrap_or_else(|| json!({}));
    // The annotation has more information than the v1 field: it wins.
    let current_metrics = match annotation_json(&obj, METRIC_STATUSES_ANNOTATION)
        .and_then(|v| v.as_array().cloned())
    {
        Some(list) => Some(Value::Array(
            list.iter().map(metric_status_from_v1).collect(),
        )),
        None => get(&status_src, "currentCPUUtilizationPercentage").map(|pct| {
            Value::Array(vec![cpu_metric(
                "current",
                json!({"averageUtilization": pct}),
            )])
        }),
    };
    let conditions =
        annotation_json(&obj, CONDITIONS_ANNOTATION).filter(|c| c.as_array().is_some());
    let status =
        (status_in.is_some() || current_metrics.is_some() || conditions.is_some()).then(|| {
            object([
                ("observedGeneration", get(&status_src, "observedGeneration")),
                ("lastScaleTime", get(&status_src, "lastScaleTime")),
                ("currentReplicas", get(&status_src, "currentReplicas")),
                (
                    "desiredReplicas",
                    get_or(&status_src, "desiredReplicas", json!(0)),
                ),
                ("currentMetrics", current_metrics),
                ("conditions", conditions),
            ])
        });

    let mut out = obj;
    if let Value::Object(m) = &mut out {
        m.insert("spec".into(), spec);
        match status {
            Some(s) => {
                m.insert("status".into(), s);
            }
            None => {
                m.shift_remove("status");
            }
        }
    }
    drop_round_trip_annotations(&mut out);
    set_type(&mut out, "autoscaling/v2", "HorizontalPodAutoscaler");
    out
}

/// autoscaling/v2 (storage) form -> autoscaling/v1 form.
fn hpa_v2_to_v1(obj: Value) -> Value {
    let spec_in = obj.get("spec").cloned().unwrap_or_else(|| json!({}));
    let status_in = obj.get("status").cloned();
    let status_src = status_in.clone().unwrap_or_else(|| json!({}));
    let metrics: Vec<Value> = field(&spec_in, "metrics")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();

    // The first cpu Resource metric decides; only a utilization target maps to v1.
    let target_pct = metrics
        .iter()
        .find(|m| is_cpu_resource(m))
        .and_then(|m| cpu_utilization_target(m).cloned());
    let spec = object([
        (
            "scaleTargetRef",
            Some(cross_version_ref(spec_in.get("scaleTargetRef"))),
        ),
        ("minReplicas", get(&spec_in, "minReplicas")),
        ("maxReplicas", get_or(&spec_in, "maxReplicas", json!(0))),
        ("targetCPUUtilizationPercentage", target_pct),
    ]);

    let current_metrics: Vec<Value> = field(&status_src, "currentMetrics")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Every cpu Resource status with a utilization is looked at: the last one wins.
    let current_pct = current_metrics
        .iter()
        .filter(|m| is_cpu_resource(m))
        .filter_map(|m| field(m.get("resource")?.get("current")?, "averageUtilization").cloned())
        .next_back();
    let status = object([
        ("observedGeneration", get(&status_src, "observedGeneration")),
        ("lastScaleTime", get(&status_src, "lastScaleTime")),
        (
            "currentReplicas",
            get_or(&status_src, "currentReplicas", json!(0)),
        ),
        (
            "desiredReplicas",
            get_or(&status_src, "desiredReplicas", json!(0)),
        ),
        ("currentCPUUtilizationPercentage", current_pct),
    ]);

    let other_metrics: Vec<Value> = metrics
        .iter()
        .filter(|m| cpu_utilization_target(m).is_none())
        .map(metric_spec_to_v1)
        .collect();
    let conditions = field(&status_src, "conditions")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .cloned();
    let behavior = field(&spec_in, "behavior").cloned();

    let mut out = obj;
    drop_round_trip_annotations(&mut out);
    if let Value::Object(m) = &mut out {
        m.insert("spec".into(), spec);
        m.insert("status".into(), status);
    }
    if !other_metrics.is_empty() {
        set_annotation(
            &mut out,
            METRIC_SPECS_ANNOTATION,
            Value::Array(other_metrics).to_string(),
        );
    }
    if !current_metrics.is_empty() {
        let list: Vec<Value> = current_metrics.iter().map(metric_status_to_v1).collect();
        set_annotation(
            &mut out,
            METRIC_STATUSES_ANNOTATION,
            Value::Array(list).to_string(),
        );
    }
    if let Some(b) = behavior {
        set_annotation(
            &mut out,
            BEHAVIOR_SPECS_ANNOTATION,
            behavior_to_annotation(&b),
        );
    }
    if let Some(c) = conditions {
        set_annotation(&mut out, CONDITIONS_ANNOTATION, Value::Array(c).to_string());
    }
    set_type(&mut out, "autoscaling/v1", "HorizontalPodAutoscaler");
    out
}

#[cfg(test)]
mod tests;
