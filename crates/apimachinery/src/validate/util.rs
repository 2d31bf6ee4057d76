//! Building blocks shared by the per-group validators: upstream's `field.Error` shapes,
//! Go-style rendering of bad values, and checks used by many kinds (labels, selectors,
//! quantities, int-or-percent).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::status::Cause;
use crate::validation::{label_value, qualified_name};

/// `must be greater than or equal to 0`
pub const NEGATIVE: &str = "must be greater than or equal to 0";
/// `field is immutable`
pub const IMMUTABLE: &str = "field is immutable";

/// The string at `key` of an object, or "".
pub fn str_of<'a>(v: Option<&'a Value>, key: &str) -> &'a str {
    v.and_then(|v| v.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The object at `key`, if it is one.
pub fn obj_of<'a>(v: Option<&'a Value>, key: &str) -> Option<&'a Map<String, Value>> {
    v.and_then(|v| v.get(key)).and_then(Value::as_object)
}

/// The array at `key` (empty when missing).
pub fn arr_of<'a>(v: Option<&'a Value>, key: &str) -> &'a [Value] {
    v.and_then(|v| v.get(key))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The integer at `key`, if set.
pub fn int_of(v: Option<&Value>, key: &str) -> Option<i64> {
    v.and_then(|v| v.get(key)).and_then(Value::as_i64)
}

/// Whether `key` is set to something other than null.
pub fn has(v: Option<&Value>, key: &str) -> bool {
    v.and_then(|v| v.get(key)).is_some_and(|x| !x.is_null())
}

/// `Invalid value: <repr>: detail` with the value rendered by the caller (numbers, Go
/// structs), where `Cause::invalid` would quote it as a string.
pub fn invalid_raw(field: impl Into<String>, repr: &str, detail: &str) -> Cause {
    Cause {
        reason: "FieldValueInvalid",
        field: field.into(),
        message: if detail.is_empty() {
            format!("Invalid value: {repr}")
        } else {
            format!("Invalid value: {repr}: {detail}")
        },
    }
}

pub fn invalid_int(field: impl Into<String>, n: i64, detail: &str) -> Cause {
    invalid_raw(field, &n.to_string(), detail)
}

/// `Required value: detail`
pub fn required_msg(field: impl Into<String>, detail: &str) -> Cause {
    Cause {
        reason: "FieldValueRequired",
        field: field.into(),
        message: format!("Required value: {detail}"),
    }
}

/// `Not found: "value"`
pub fn not_found(field: impl Into<String>, value: &str) -> Cause {
    Cause {
        reason: "FieldValueNotFound",
        field: field.into(),
        message: format!("Not found: {}", quote(value)),
    }
}

/// `Too long: may not be more than N bytes`
pub fn too_long(field: impl Into<String>, max: usize) -> Cause {
    Cause {
        reason: "FieldValueTooLong",
        field: field.into(),
        message: format!("Too long: may not be more than {max} bytes"),
    }
}

/// `Too many: N: must have at most M items`
pub fn too_many(field: impl Into<String>, actual: usize, max: usize) -> Cause {
    Cause {
        reason: "FieldValueTooMany",
        field: field.into(),
        message: format!("Too many: {actual}: must have at most {max} items"),
    }
}

/// `Unsupported value: <repr>: supported values: ...` for non-string values.
pub fn not_supported_raw(field: impl Into<String>, repr: &str, supported: &[&str]) -> Cause {
    let list: Vec<String> = supported.iter().map(|s| quote(s)).collect();
    Cause {
        reason: "FieldValueNotSupported",
        field: field.into(),
        message: format!(
            "Unsupported value: {repr}: supported values: {}",
            list.join(", ")
        ),
    }
}

/// Go's `%q` of a string (close enough: JSON escaping).
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// `field is immutable` for a string field.
pub fn immutable_str(field: impl Into<String>, new: &str) -> Cause {
    Cause::invalid(field, new, IMMUTABLE)
}

/// Checks `key` is not negative; upstream's ValidateNonnegativeField.
pub fn nonneg(v: Option<&Value>, key: &str, path: &str, causes: &mut Vec<Cause>) {
    if let Some(n) = int_of(v, key)
        && n < 0
    {
        causes.push(invalid_int(format!("{path}.{key}"), n, NEGATIVE));
    }
}

/// A JSON value rendered the way Go's `%v` prints scalars.
pub fn scalar_repr(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// `map[string]string{"a":"b", "c":"d"}` (Go's `%#v` of a label map).
pub fn go_string_map(m: Option<&Map<String, Value>>) -> String {
    match m {
        None => "map[string]string(nil)".into(),
        Some(m) => {
            let sorted: BTreeMap<&String, &Value> = m.iter().collect();
            let items: Vec<String> = sorted
                .iter()
                .map(|(k, v)| format!("{}:{}", quote(k), quote(v.as_str().unwrap_or_default())))
                .collect();
            format!("map[string]string{{{}}}", items.join(", "))
        }
    }
}

/// `[]string{"a", "b"}` (Go's `%#v` of a string slice).
pub fn go_string_slice(items: &[Value]) -> String {
    if items.is_empty() {
        return "[]string(nil)".into();
    }
    let items: Vec<String> = items
        .iter()
        .map(|v| quote(v.as_str().unwrap_or_default()))
        .collect();
    format!("[]string{{{}}}", items.join(", "))
}

/// A LabelSelector as upstream renders it in immutability errors
/// (`v1.LabelSelector{MatchLabels:map[string]string{...}, MatchExpressions:[]...}`).
pub fn go_selector(sel: Option<&Value>) -> String {
    let Some(sel) = sel.filter(|s| !s.is_null()) else {
        return "null".into();
    };
    let ml = go_string_map(sel.get("matchLabels").and_then(Value::as_object));
    let exprs = arr_of(Some(sel), "matchExpressions");
    let me = if exprs.is_empty() {
        "[]v1.LabelSelectorRequirement(nil)".to_string()
    } else {
        let items: Vec<String> = exprs
            .iter()
            .map(|e| {
                format!(
                    "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                    quote(str_of(Some(e), "key")),
                    quote(str_of(Some(e), "operator")),
                    go_string_slice(arr_of(Some(e), "values"))
                )
            })
            .collect();
        format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
    };
    format!("v1.LabelSelector{{MatchLabels:{ml}, MatchExpressions:{me}}}")
}

/// ValidateLabelName + label values over a map (labels, selectors, nodeSelector).
pub fn labels(m: Option<&Map<String, Value>>, path: &str, causes: &mut Vec<Cause>) {
    for (k, v) in m.into_iter().flatten() {
        if let Err(msgs) = qualified_name(k) {
            for msg in msgs {
                causes.push(Cause::invalid(path, k, &msg));
            }
        }
        let v = v.as_str().unwrap_or_default();
        if let Err(msgs) = label_value(v) {
            for msg in msgs {
                causes.push(Cause::invalid(path, v, &msg));
            }
        }
    }
}

/// metav1 ValidateLabelSelector.
pub fn label_selector(sel: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let Some(sel) = sel.filter(|s| !s.is_null()) else {
        return;
    };
    for (i, e) in arr_of(Some(sel), "matchExpressions").iter().enumerate() {
        let p = format!("{path}.matchExpressions[{i}]");
        let op = str_of(Some(e), "operator");
        let values = arr_of(Some(e), "values");
        match op {
            "In" | "NotIn" => {
                if values.is_empty() {
                    causes.push(required_msg(
                        format!("{p}.values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    causes.push(Cause::forbidden(
                        format!("{p}.values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            _ => causes.push(Cause::invalid(
                format!("{p}.operator"),
                op,
                "not a valid selector operator",
            )),
        }
        let key = str_of(Some(e), "key");
        if let Err(msgs) = qualified_name(key) {
            for m in msgs {
                causes.push(Cause::invalid(format!("{p}.key"), key, &m));
            }
        }
        for (j, v) in values.iter().enumerate() {
            let v = v.as_str().unwrap_or_default();
            if let Err(msgs) = label_value(v) {
                for m in msgs {
                    causes.push(Cause::invalid(format!("{p}.values[{j}]"), v, &m));
                }
            }
        }
    }
    labels(
        obj_of(Some(sel), "matchLabels"),
        &format!("{path}.matchLabels"),
        causes,
    );
}

/// A resource quantity as a number (enough to compare quantities; the API decoder has
/// already rejected malformed ones).
pub fn quantity(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_quantity(s),
        _ => None,
    }
}

pub fn parse_quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let base: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => 10f64.powi(e[1..].parse().ok()?),
        _ => return None,
    };
    Some(base * mult)
}

/// The quantity as written (numbers as their JSON text).
pub fn quantity_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// ValidatePositiveIntOrPercent + IsNotMoreThan100Percent (rolling update bounds).
pub fn int_or_percent(v: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    match v {
        Some(Value::String(s)) => {
            let pct = s
                .strip_suffix('%')
                .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
            match pct {
                None => causes.push(Cause::invalid(
                    path,
                    s,
                    "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                )),
                Some(n) => {
                    if n.parse::<u64>().is_ok_and(|n| n > 100) {
                        causes.push(Cause::invalid(path, s, "must not be greater than 100%"));
                    }
                }
            }
        }
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64()
                && i < 0
            {
                causes.push(invalid_int(path, i, NEGATIVE));
            }
        }
        _ => {}
    }
}

/// Whether an int-or-percent is zero (`0` or `"0%"`).
pub fn is_zero_int_or_percent(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Number(n)) => n.as_i64() == Some(0),
        Some(Value::String(s)) => s == "0%" || s == "0",
        _ => true,
    }
}

/// JSON equality that ignores nulls and empty lists/maps (what survives a round trip
/// through storage the same way in Go: nil and empty are not distinguished there).
pub fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    normalize(a) == normalize(b)
}

pub fn normalize(v: Option<&Value>) -> Value {
    fn norm(v: &Value) -> Option<Value> {
        match v {
            Value::Null => None,
            Value::Array(a) if a.is_empty() => None,
            Value::Array(a) => Some(Value::Array(
                a.iter().map(|x| norm(x).unwrap_or(Value::Null)).collect(),
            )),
            Value::Object(m) => {
                let out: Map<String, Value> = m
                    .iter()
                    .filter_map(|(k, v)| norm(v).map(|v| (k.clone(), v)))
                    .collect();
                Some(Value::Object(out))
            }
            other => Some(other.clone()),
        }
    }
    v.and_then(norm).unwrap_or(Value::Null)
}

/// A short description of how two values differ, one line per changed leaf (upstream
/// prints a Go `cmp.Diff` here; this carries the same information).
pub fn diff(old: &Value, new: &Value) -> String {
    fn walk(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(
                        &p,
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                        out,
                    );
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (a, b)) in x.iter().zip(y).enumerate() {
                    walk(&format!("{path}[{i}]"), a, b, out);
                }
            }
            _ if a == b => {}
            _ => {
                out.push(format!("- {path}: {a}"));
                out.push(format!("+ {path}: {b}"));
            }
        }
    }
    let mut out = Vec::new();
    walk("", &normalize(Some(old)), &normalize(Some(new)), &mut out);
    out.join("\n")
}

/// `Duplicate value: <repr>` for non-string values.
pub fn duplicate_raw(field: impl Into<String>, repr: &str) -> Cause {
    Cause {
        reason: "FieldValueDuplicate",
        field: field.into(),
        message: format!("Duplicate value: {repr}"),
    }
}
