//! Upstream's error messages print values with Go's `%v` and types with Go's type
//! names; these helpers reproduce that so the messages a client sees match.

use serde_json::{Map, Value};

use super::Error;

/// A value as Go's `%v` prints the decoded JSON (`map[a:1 b:[x y]]`).
pub(crate) fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) => go_float(f),
            (None, None) => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Array(items) => go_list(items),
        Value::Object(m) => go_map(m),
    }
}

pub(crate) fn go_list(items: &[Value]) -> String {
    let parts: Vec<String> = items.iter().map(go_value).collect();
    format!("[{}]", parts.join(" "))
}

/// Go prints map keys sorted.
pub(crate) fn go_map(m: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    let parts: Vec<String> = keys
        .iter()
        .map(|k| format!("{k}:{}", m.get(*k).map(go_value).unwrap_or_default()))
        .collect();
    format!("map[{}]", parts.join(" "))
}

/// `%v` of a float64: shortest representation, exponent form outside [1e-4, 1e6).
fn go_float(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return format!("{f}");
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// Go's name of the type a decoded JSON value has.
pub(crate) fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "%!s(<nil>)",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() => "int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// How encoding/json names a JSON value's type in an unmarshal error.
pub(crate) fn json_type_word(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub(crate) const LIST: &str = "[]interface {}";
pub(crate) const MAP: &str = "map[string]interface {}";

/// `expected a []interface {}, but received a string`
pub(crate) fn bad_arg_type(expected: &str, actual: &Value) -> Error {
    Error::Failed(format!(
        "expected a {expected}, but received a {}",
        go_type(actual)
    ))
}

/// `map: map[image:x] does not contain declared merge key: name`
pub(crate) fn no_merge_key(m: &Map<String, Value>, key: &str) -> Error {
    Error::Failed(format!(
        "map: {} does not contain declared merge key: {key}",
        go_map(m)
    ))
}

/// `unknown patch type: foo in map: map[$patch:foo name:x]`
pub(crate) fn bad_patch_type(directive: &Value, m: &Map<String, Value>) -> Error {
    let directive = match directive {
        Value::String(s) => s.clone(),
        other => format!("%!s({}={})", go_type(other), go_value(other)),
    };
    Error::Failed(format!(
        "unknown patch type: {directive} in map: {}",
        go_map(m)
    ))
}

pub(crate) fn bad_primitive_list() -> Error {
    Error::BadRequest("invalid patch format of primitive list".into())
}

pub(crate) fn bad_retain_keys() -> Error {
    Error::BadRequest("invalid patch format of retainKeys".into())
}

pub(crate) fn bad_set_element_order() -> Error {
    Error::BadRequest("invalid patch format of setElementOrder list".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_like_go() {
        let v = json!({"name": "x", "ports": [1, 2.5], "b": true, "n": null, "m": {"k": "v"}});
        assert_eq!(
            go_value(&v),
            "map[b:true m:map[k:v] n:<nil> name:x ports:[1 2.5]]"
        );
        assert_eq!(go_value(&json!(1e21)), "1e+21");
        assert_eq!(go_value(&json!(1234567.0)), "1.234567e+06");
        assert_eq!(go_value(&json!(123456.0)), "123456");
        assert_eq!(go_value(&json!(0.5)), "0.5");
        assert_eq!(go_value(&json!(1.5e-7)), "1.5e-07");
        assert_eq!(go_type(&json!("s")), "string");
        assert_eq!(go_type(&json!(1)), "int64");
        assert_eq!(go_type(&json!(1.5)), "float64");
    }
}
