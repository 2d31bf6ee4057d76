//! The generated message schema (`schema.json`), parsed once.
//!
//! File layout: `{"groups": {group: module prefix}, "wrappers": [type...],
//! "types": {type: [[tag, jsonName, kind, typeRef?]...]}}` where `kind` is a scalar letter
//! (`s` string, `y` bytes, `b` bool, `i` int32, `l` int64, `d` double, `m` message,
//! `I` inline message) prefixed by `r` (repeated) or `M` (map with string keys) and
//! suffixed by `z` when a present zero value must be kept.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use serde_json::Value;

const SCHEMA_JSON: &str = include_str!("schema.json");

static SCHEMA: LazyLock<Result<Schema, String>> = LazyLock::new(|| Schema::parse(SCHEMA_JSON));

/// The process-wide schema, or why the embedded file could not be parsed.
pub fn schema() -> Result<&'static Schema, String> {
    SCHEMA.as_ref().map_err(Clone::clone)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    String,
    Bytes,
    Bool,
    Int32,
    Int64,
    Double,
    Message,
    /// A Go struct embedded with `json:",inline"`: its fields merge into the parent.
    Inline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    Single,
    Repeated,
    Map,
}

#[derive(Debug)]
pub struct Field {
    pub json: String,
    pub scalar: Scalar,
    pub cardinality: Cardinality,
    /// A zero value present on the wire is emitted (Go pointer or non-omitempty field).
    pub keep_zero: bool,
    pub type_ref: Option<String>,
}

#[derive(Debug)]
pub struct Schema {
    groups: HashMap<String, String>,
    wrappers: HashSet<String>,
    types: HashMap<String, HashMap<u32, Field>>,
}

/// Kinds upstream registers into every group version (`metav1.AddToGroupVersion`) or as
/// unversioned meta types; they decode with the meta/v1 message.
const META_KINDS: &[&str] = &[
    "DeleteOptions",
    "ListOptions",
    "GetOptions",
    "CreateOptions",
    "UpdateOptions",
    "PatchOptions",
    "WatchEvent",
    "Status",
];
const META_V1: &str = "apimachinery.pkg.apis.meta.v1";

impl Schema {
    fn parse(text: &str) -> Result<Schema, String> {
        let root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let groups = root
            .get("groups")
            .and_then(Value::as_object)
            .ok_or("missing groups")?
            .iter()
            .map(|(g, p)| {
                Ok((
                    g.clone(),
                    p.as_str().ok_or("group prefix not a string")?.to_string(),
                ))
            })
            .collect::<Result<HashMap<_, _>, String>>()?;
        let wrappers = root
            .get("wrappers")
            .and_then(Value::as_array)
            .ok_or("missing wrappers")?
            .iter()
            .filter_map(|w| w.as_str().map(str::to_string))
            .collect();
        let mut types = HashMap::new();
        for (name, rows) in root
            .get("types")
            .and_then(Value::as_object)
            .ok_or("missing types")?
        {
            let rows = rows
                .as_array()
                .ok_or_else(|| format!("{name}: fields not an array"))?;
            let mut fields = HashMap::with_capacity(rows.len());
            for row in rows {
                let (tag, field) = parse_field(row).map_err(|e| format!("{name}: {e}"))?;
                fields.insert(tag, field);
            }
            types.insert(name.clone(), fields);
        }
        Ok(Schema {
            groups,
            wrappers,
            types,
        })
    }

    pub fn message(&self, name: &str) -> Option<&HashMap<u32, Field>> {
        self.types.get(name)
    }

    pub fn is_wrapper(&self, name: &str) -> bool {
        self.wrappers.contains(name)
    }

    /// The message type for an `apiVersion`/`kind` pair, e.g. `apps/v1` `Deployment` ->
    /// `api.apps.v1.Deployment`.
    pub fn resolve(&self, api_version: &str, kind: &str) -> Option<String> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        if let Some(prefix) = self.groups.get(group) {
            let name = format!("{prefix}.{version}.{kind}");
            if self.types.contains_key(&name) {
                return Some(name);
            }
        }
        if META_KINDS.contains(&kind) && !version.is_empty() {
            let name = format!("{META_V1}.{kind}");
            if self.types.contains_key(&name) {
                return Some(name);
            }
        }
        None
    }
}

fn parse_field(row: &Value) -> Result<(u32, Field), String> {
    let row = row.as_array().ok_or("field row not an array")?;
    let tag = row
        .first()
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .ok_or("bad tag")?;
    let json = row
        .get(1)
        .and_then(Value::as_str)
        .ok_or("bad json name")?
        .to_string();
    let kind = row.get(2).and_then(Value::as_str).ok_or("bad kind")?;
    let type_ref = row.get(3).and_then(Value::as_str).map(str::to_string);
    let (cardinality, rest) = match kind.as_bytes().first() {
        Some(b'r') => (Cardinality::Repeated, &kind[1..]),
        Some(b'M') => (Cardinality::Map, &kind[1..]),
        _ => (Cardinality::Single, kind),
    };
    let (rest, keep_zero) = match rest.strip_suffix('z') {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let scalar = match rest {
        "s" => Scalar::String,
        "y" => Scalar::Bytes,
        "b" => Scalar::Bool,
        "i" => Scalar::Int32,
        "l" => Scalar::Int64,
        "d" => Scalar::Double,
        "m" => Scalar::Message,
        "I" => Scalar::Inline,
        other => return Err(format!("unknown kind {other}")),
    };
    if matches!(scalar, Scalar::Message | Scalar::Inline) && type_ref.is_none() {
        return Err(format!("message field {tag} without type"));
    }
    Ok((
        tag,
        Field {
            json,
            scalar,
            cardinality,
            keep_zero,
            type_ref,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_schema_parses_and_resolves_kinds() {
        let s = schema().unwrap();
        assert_eq!(
            s.resolve("apps/v1", "Deployment").as_deref(),
            Some("api.apps.v1.Deployment")
        );
        assert_eq!(s.resolve("v1", "Pod").as_deref(), Some("api.core.v1.Pod"));
        assert_eq!(
            s.resolve("rbac.authorization.k8s.io/v1", "RoleBinding")
                .as_deref(),
            Some("api.rbac.v1.RoleBinding")
        );
        assert_eq!(
            s.resolve("meta.k8s.io/v1", "DeleteOptions").as_deref(),
            Some("apimachinery.pkg.apis.meta.v1.DeleteOptions")
        );
        assert_eq!(
            s.resolve("v1", "DeleteOptions").as_deref(),
            Some("apimachinery.pkg.apis.meta.v1.DeleteOptions")
        );
        assert_eq!(s.resolve("apps/v1", "Nope"), None);
        assert_eq!(s.resolve("nope.example.com/v1", "Deployment"), None);
    }

    #[test]
    fn json_names_come_from_k8s_openapi() {
        let s = schema().unwrap();
        let status = s.message("api.core.v1.PodStatus").unwrap();
        let names: Vec<&str> = status.values().map(|f| f.json.as_str()).collect();
        assert!(names.contains(&"podIPs"), "{names:?}");
        let spec = s.message("api.core.v1.NodeSpec").unwrap();
        assert!(spec.values().any(|f| f.json == "podCIDR"));
        let replicas = &s.message("api.apps.v1.DeploymentSpec").unwrap()[&1];
        assert_eq!(replicas.json, "replicas");
        assert!(replicas.keep_zero);
    }
}
