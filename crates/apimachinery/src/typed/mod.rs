//! Typed decoding of built-in kinds, as kube-apiserver does it, on top of JSON storage.
//!
//! Upstream decodes every write into the kind's Go struct, so fields the struct does
//! not have are dropped, and — depending on `fieldValidation` — reported:
//!
//! * `Strict`: 400 BadRequest, `<Kind> in version "<v>" cannot be handled as a <Kind>:
//!   strict decoding error: unknown field "spec.foo", duplicate field "spec.replicas"`
//!   ([`decode_error`] + [`strict_decoding_error`]);
//! * `Warn`: one `Warning: 299 - "unknown field \"spec.foo\""` header per field
//!   ([`unknown_field`], [`duplicate_field`]);
//! * `Ignore`: dropped silently.
//!
//! A value of the wrong JSON type fails in every mode with Go's `encoding/json`
//! wording, also wrapped by [`decode_error`]:
//! `json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of
//! type int32`.
//!
//! k8s-openapi supplies the structs: an object is decoded into its k8s-openapi type and
//! encoded again; every key of the input missing from the result is unknown. The pruned
//! object returned is the *input* minus those keys, so nothing else about it changes.

mod duplicates;
mod tracker;

use std::cell::RefCell;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use duplicates::duplicate_fields;
use tracker::{Container, Ctx, Seg, Tracker, go_type_name};

/// Decodes a JSON object into one typed kind and encodes it again.
type RoundTrip = fn(&Value, &RefCell<Ctx>) -> Result<Value, serde_json::Error>;

fn round_trip<T: DeserializeOwned + Serialize>(
    value: &Value,
    ctx: &RefCell<Ctx>,
) -> Result<Value, serde_json::Error> {
    let typed = T::deserialize(Tracker::new(value, ctx))?;
    serde_json::to_value(&typed)
}

fn round_trip_for(group: &str, version: &str, kind: &str) -> Option<RoundTrip> {
    macro_rules! kinds {
        ($(($g:literal, $v:literal, $k:literal) => $t:ty),* $(,)?) => {
            match (group, version, kind) {
                $( ($g, $v, $k) => Some(round_trip::<$t> as RoundTrip), )*
                _ => None,
            }
        };
    }
    crate::kinds::with_builtin_kinds!(kinds)
}

/// Whether [`prune_unknown`] knows the kind (built-in, served version).
pub fn is_typed_kind(group: &str, version: &str, kind: &str) -> bool {
    round_trip_for(group, version, kind).is_some()
}

/// Decodes `obj` as upstream decodes a built-in kind. `Ok(None)`: not a built-in kind
/// (e.g. a custom resource). `Ok(Some((pruned, unknown)))`: `pruned` is `obj` without
/// the unknown fields, `unknown` their paths in upstream's notation
/// (`spec.template.spec.containers[0].foo`) in document order. `Err`: a value of the
/// wrong type, in Go's words (wrap it with [`decode_error`]).
pub fn prune_unknown(
    group: &str,
    version: &str,
    kind: &str,
    obj: &Value,
) -> Result<Option<(Value, Vec<String>)>, String> {
    let Some(rt) = round_trip_for(group, version, kind) else {
        return Ok(None);
    };
    let Value::Object(map) = obj else {
        return Err(format!(
            "json: cannot unmarshal {} into Go value of type {}",
            describe(obj),
            go_type_name(kind, version)
        ));
    };
    // k8s-openapi insists on its own apiVersion/kind; the caller has matched them.
    let mut input = map.clone();
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    input.insert("apiVersion".into(), Value::String(api_version));
    input.insert("kind".into(), Value::String(kind.to_string()));
    let input = Value::Object(input);

    let output = decode(rt, &input, version)?;
    let mut dropped = Vec::new();
    collect_dropped(&input, &output, &mut Vec::new(), &mut dropped);

    let mut unknown = Vec::new();
    for (location, was_null) in dropped {
        // A known optional field set to null decodes to "unset" and vanishes too.
        if was_null && known_when_set(rt, &input, &location, version) {
            continue;
        }
        unknown.push(location);
    }
    let mut pruned = obj.clone();
    for location in &unknown {
        remove_at(&mut pruned, location);
    }
    Ok(Some((
        pruned,
        unknown.iter().map(|l| path_string(l)).collect(),
    )))
}

fn decode(rt: RoundTrip, input: &Value, version: &str) -> Result<Value, String> {
    let ctx = RefCell::new(Ctx::new(version));
    let result = rt(input, &ctx);
    let err = match result {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let Some(failure) = ctx.into_inner().failure else {
        return Err(err.to_string());
    };
    let go_type = match failure.container {
        None => failure.go_type,
        Some(container) => {
            // Find the element type: decode again with a one-element container there.
            let (probe, elem_at) = match container {
                Container::Seq => (serde_json::json!([0]), Seg::Index(0)),
                Container::Map => (serde_json::json!({"k": 0}), Seg::Key("k".into())),
            };
            let mut doc = input.clone();
            set_at(&mut doc, &failure.location, probe);
            let mut at = failure.location.clone();
            at.push(elem_at);
            let ctx = RefCell::new(Ctx::probing(version, at));
            let _ = rt(&doc, &ctx);
            let elem = ctx
                .into_inner()
                .probed_type()
                .unwrap_or_else(|| "interface {}".into());
            format!("{}{elem}", failure.go_type)
        }
    };
    Err(match failure.struct_name {
        Some(s) => format!(
            "json: cannot unmarshal {} into Go struct field {s}.{} of type {go_type}",
            failure.value, failure.field
        ),
        None => format!(
            "json: cannot unmarshal {} into Go value of type {go_type}",
            failure.value
        ),
    })
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Records every key of `input` that `output` lacks, with whether its value was null.
fn collect_dropped(
    input: &Value,
    output: &Value,
    at: &mut Vec<Seg>,
    out: &mut Vec<(Vec<Seg>, bool)>,
) {
    match (input, output) {
        (Value::Object(i), Value::Object(o)) => {
            for (k, v) in i {
                at.push(Seg::Key(k.clone()));
                match o.get(k) {
                    Some(ov) => collect_dropped(v, ov, at, out),
                    None => out.push((at.clone(), v.is_null())),
                }
                at.pop();
            }
        }
        (Value::Array(i), Value::Array(o)) => {
            for (idx, (iv, ov)) in i.iter().zip(o).enumerate() {
                at.push(Seg::Index(idx));
                collect_dropped(iv, ov, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// Whether the field at `location` (null in `input`) is a field of the type: it is if
/// some non-null value of one of the JSON types survives the round trip there.
fn known_when_set(rt: RoundTrip, input: &Value, location: &[Seg], version: &str) -> bool {
    // A timestamp first: it is also a valid string, IntOrString and Quantity, and
    // `creationTimestamp: null` is the null kubectl sends most.
    let candidates = [
        Value::String("1970-01-01T00:00:00Z".into()),
        Value::from(0),
        Value::Bool(false),
        Value::Array(Vec::new()),
        Value::Object(Default::default()),
    ];
    candidates.into_iter().any(|candidate| {
        let mut doc = input.clone();
        set_at(&mut doc, location, candidate);
        let ctx = RefCell::new(Ctx::new(version));
        rt(&doc, &ctx).is_ok_and(|out| get_at(&out, location).is_some())
    })
}

fn get_at<'v>(mut v: &'v Value, location: &[Seg]) -> Option<&'v Value> {
    for seg in location {
        v = match seg {
            Seg::Key(k) => v.get(k)?,
            Seg::Index(i) => v.get(*i)?,
        };
    }
    Some(v)
}

fn parent_mut<'v>(mut v: &'v mut Value, location: &[Seg]) -> Option<&'v mut Value> {
    for seg in location {
        v = match seg {
            Seg::Key(k) => v.get_mut(k)?,
            Seg::Index(i) => v.get_mut(*i)?,
        };
    }
    Some(v)
}

fn set_at(doc: &mut Value, location: &[Seg], value: Value) {
    let Some((last, parent)) = location.split_last() else {
        *doc = value;
        return;
    };
    if let Some(p) = parent_mut(doc, parent) {
        match (last, p) {
            (Seg::Key(k), Value::Object(m)) => {
                m.insert(k.clone(), value);
            }
            (Seg::Index(i), Value::Array(a)) => {
                if let Some(slot) = a.get_mut(*i) {
                    *slot = value;
                }
            }
            _ => {}
        }
    }
}

fn remove_at(doc: &mut Value, location: &[Seg]) {
    if let Some((Seg::Key(k), parent)) = location.split_last()
        && let Some(Value::Object(m)) = parent_mut(doc, parent)
    {
        // shift_remove keeps the order of the remaining keys (preserve_order).
        m.shift_remove(k);
    }
}

fn path_string(location: &[Seg]) -> String {
    let mut s = String::new();
    for seg in location {
        match seg {
            Seg::Key(k) if s.is_empty() => s.push_str(k),
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Go's `strconv.Quote`, as sigs.k8s.io/json uses for field paths.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `unknown field "spec.foo"`: one strict error, and the text of one `Warn` warning.
pub fn unknown_field(path: &str) -> String {
    format!("unknown field {}", go_quote(path))
}

/// `duplicate field "spec.replicas"`: one strict error, and the text of one warning.
pub fn duplicate_field(path: &str) -> String {
    format!("duplicate field {}", go_quote(path))
}

/// The strict errors of one request, in upstream's words: unknown fields, then
/// duplicates. Duplicates inside an unknown field are not reported (upstream skips
/// unknown values), nor duplicated unknown keys (upstream checks known fields only).
pub fn strict_errors(unknown: &[String], duplicates: &[String]) -> Vec<String> {
    let inside_unknown = |d: &str| {
        unknown.iter().any(|u| {
            d == u
                || d.strip_prefix(u.as_str())
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        })
    };
    unknown
        .iter()
        .map(|u| unknown_field(u))
        .chain(
            duplicates
                .iter()
                .filter(|d| !inside_unknown(d))
                .map(|d| duplicate_field(d)),
        )
        .collect()
}

/// `strict decoding error: unknown field "spec.foo", unknown field "spec.bar"`
/// (k8s.io/apimachinery runtime.strictDecodingError).
pub fn strict_decoding_error(errors: &[String]) -> String {
    format!("strict decoding error: {}", errors.join(", "))
}

/// The BadRequest message for a body that fails to decode as `kind` in `version`
/// (apiserver handlers `transformDecodeError`):
/// `Deployment in version "v1" cannot be handled as a Deployment: <err>`.
pub fn decode_error(kind: &str, version: &str, err: &str) -> String {
    format!("{kind} in version \"{version}\" cannot be handled as a {kind}: {err}")
}

#[cfg(test)]
mod tests;
