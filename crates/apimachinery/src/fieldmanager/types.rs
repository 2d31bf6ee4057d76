//! The schema tree field ownership walks: structs (declared fields), maps (granular by key
//! unless atomic), lists (atomic, set, or map by key fields), scalars, and untyped values
//! (deduced from the value: maps granular, lists atomic).
//!
//! Built-in kinds resolve lazily from `crate::schema`'s tables by definition name, so
//! recursive definitions (JSONSchemaProps) never build an infinite tree. Custom resources
//! build their tree once from the CRD's structural schema.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::schema as defs;

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// How a list's items are identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListKind {
    /// Replaced as a whole.
    Atomic,
    /// Items are scalars identified by value.
    Set,
    /// Items are objects identified by these key fields.
    Map(Vec<String>),
}

/// A node of the schema tree.
#[derive(Debug, Clone)]
pub enum Type {
    Scalar,
    /// No schema: deduced from the value.
    Untyped,
    /// A built-in definition, resolved lazily by name; `atomic` when the definition or the
    /// property referring to it says `x-kubernetes-map-type: atomic`.
    Definition {
        name: Arc<str>,
        atomic: bool,
    },
    Struct(Arc<StructType>),
    Map {
        elem: Arc<Type>,
        atomic: bool,
    },
    List(Arc<ListType>),
}

/// A struct with declared fields (from a structural schema).
#[derive(Debug)]
pub struct StructType {
    pub fields: BTreeMap<String, Type>,
    /// The type of undeclared keys (additionalProperties / preserve-unknown-fields).
    pub rest: Type,
    pub atomic: bool,
}

#[derive(Debug)]
pub struct ListType {
    pub elem: Type,
    pub kind: ListKind,
}

/// What a value is, according to its type (and, when untyped or mismatched, to itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Scalar,
    Map,
    List,
}

impl Type {
    /// The shape of `v` under this type. A value of the wrong shape (a string where a struct
    /// is declared) is treated as a scalar leaf, so bad input never breaks the walkers;
    /// `null` keeps the declared shape.
    pub fn shape(&self, v: &Value) -> Shape {
        let declared = match self {
            Type::Scalar => return Shape::Scalar,
            Type::Untyped => None,
            Type::Definition { .. } | Type::Struct(_) | Type::Map { .. } => Some(Shape::Map),
            Type::List(_) => Some(Shape::List),
        };
        match (declared, v) {
            (Some(s), Value::Null) => s,
            (_, Value::Object(_)) if declared != Some(Shape::List) => Shape::Map,
            (_, Value::Array(_)) if declared != Some(Shape::Map) => Shape::List,
            _ => Shape::Scalar,
        }
    }

    /// Whether a map or list of this type is owned and replaced as a whole.
    pub fn is_atomic(&self) -> bool {
        match self {
            Type::Scalar | Type::Untyped => false,
            Type::Definition { atomic, .. } | Type::Map { atomic, .. } => *atomic,
            Type::Struct(s) => s.atomic,
            Type::List(l) => l.kind == ListKind::Atomic,
        }
    }

    /// Untyped lists are atomic; typed ones follow their list type.
    pub fn list_is_atomic(&self) -> bool {
        match self {
            Type::List(l) => l.kind == ListKind::Atomic,
            _ => true,
        }
    }

    /// The type of key `key` of a struct or map, and whether it is a declared struct field.
    pub fn field(&self, key: &str) -> (Type, bool) {
        match self {
            Type::Definition { name, .. } => (property_type(name, key), true),
            Type::Struct(s) => match s.fields.get(key) {
                Some(t) => (t.clone(), true),
                None => (s.rest.clone(), false),
            },
            Type::Map { elem, .. } => ((**elem).clone(), false),
            _ => (Type::Untyped, false),
        }
    }

    /// The list's item type and kind (untyped lists: atomic lists of untyped items).
    pub fn list(&self) -> (Type, ListKind) {
        match self {
            Type::List(l) => (l.elem.clone(), l.kind.clone()),
            _ => (Type::Untyped, ListKind::Atomic),
        }
    }
}

/// The type a built-in definition's property holds.
fn property_type(def: &str, prop: &str) -> Type {
    let Some(ext) = defs::property(def, prop) else {
        return Type::Scalar;
    };
    let atomic_map = ext.map_type.as_deref() == Some("atomic");
    let value = match &ext.reference {
        Some(r) => named(r, atomic_map && ext.shape.is_none()),
        None => Type::Scalar,
    };
    match ext.shape.as_deref() {
        Some("list") => {
            let kind = match ext.list_type.as_deref() {
                Some("map") if !ext.list_map_keys.is_empty() => {
                    ListKind::Map(ext.list_map_keys.clone())
                }
                Some("set") => ListKind::Set,
                _ => ListKind::Atomic,
            };
            Type::List(Arc::new(ListType { elem: value, kind }))
        }
        Some("map") => Type::Map {
            elem: Arc::new(value),
            atomic: atomic_map,
        },
        _ => value,
    }
}

/// A referenced definition; the wire-scalar and free-form ones are not structs.
fn named(name: &str, atomic: bool) -> Type {
    let short = name.rsplit('.').next().unwrap_or(name);
    match short {
        "Quantity" | "IntOrString" | "Time" | "MicroTime" | "Duration" => Type::Scalar,
        "RawExtension"
        | "JSON"
        | "JSONSchemaPropsOrArray"
        | "JSONSchemaPropsOrBool"
        | "JSONSchemaPropsOrStringArray"
        | "FieldsV1" => Type::Untyped,
        _ => {
            let def_atomic =
                defs::definition(name).is_some_and(|e| e.map_type.as_deref() == Some("atomic"));
            Type::Definition {
                name: Arc::from(name),
                atomic: atomic || def_atomic,
            }
        }
    }
}

/// The schema of one kind: the root of its tree.
#[derive(Debug, Clone)]
pub struct Schema {
    pub(crate) root: Type,
}

impl Schema {
    /// The schema of a built-in kind, `None` when the kind is not in the tables.
    pub fn for_kind(group: &str, version: &str, kind: &str) -> Option<Schema> {
        let name = defs::definition_name(group, version, kind);
        defs::property(&name, "metadata")?;
        Some(Schema {
            root: named(&name, false),
        })
    }

    /// A schema that knows nothing but object metadata: every other map is granular by key
    /// and every list atomic.
    pub fn untyped() -> Schema {
        Schema {
            root: Type::Struct(Arc::new(StructType {
                fields: root_meta_fields(),
                rest: Type::Untyped,
                atomic: false,
            })),
        }
    }

    /// The schema of a custom resource version from its CRD object (`None` when the CRD has
    /// no such version). A version without a schema is untyped.
    pub fn from_crd(crd: &Value, version: &str) -> Option<Schema> {
        let versions = crd.pointer("/spec/versions")?.as_array()?;
        let v = versions
            .iter()
            .find(|v| v.get("name").and_then(Value::as_str) == Some(version))?;
        let schema = v
            .pointer("/schema/openAPIV3Schema")
            .or_else(|| crd.pointer("/spec/validation/openAPIV3Schema"));
        Some(match schema {
            Some(s) => Schema::from_openapi_v3(s),
            None => Schema::untyped(),
        })
    }

    /// The schema from a structural `openAPIV3Schema` (the root object of a custom resource).
    /// `metadata` is always ObjectMeta and `apiVersion`/`kind` scalars, as upstream does.
    pub fn from_openapi_v3(schema: &Value) -> Schema {
        let mut fields = match crd_type(schema) {
            Type::Struct(s) => {
                let mut f = s.fields.clone();
                f.extend(root_meta_fields());
                return Schema {
                    root: Type::Struct(Arc::new(StructType {
                        fields: f,
                        rest: s.rest.clone(),
                        atomic: false,
                    })),
                };
            }
            _ => BTreeMap::new(),
        };
        fields.extend(root_meta_fields());
        Schema {
            root: Type::Struct(Arc::new(StructType {
                fields,
                rest: Type::Untyped,
                atomic: false,
            })),
        }
    }

    pub(crate) fn is_builtin(&self) -> bool {
        matches!(self.root, Type::Definition { .. })
    }
}

fn root_meta_fields() -> BTreeMap<String, Type> {
    BTreeMap::from([
        ("apiVersion".to_string(), Type::Scalar),
        ("kind".to_string(), Type::Scalar),
        (
            "metadata".to_string(),
            Type::Definition {
                name: Arc::from(OBJECT_META),
                atomic: false,
            },
        ),
    ])
}

fn flag(s: &Value, name: &str) -> bool {
    s.get(name).and_then(Value::as_bool).unwrap_or(false)
}

/// One node of a structural schema.
fn crd_type(s: &Value) -> Type {
    if flag(s, "x-kubernetes-int-or-string") {
        return Type::Scalar;
    }
    let preserve = flag(s, "x-kubernetes-preserve-unknown-fields");
    let embedded = flag(s, "x-kubernetes-embedded-resource");
    match s.get("type").and_then(Value::as_str) {
        Some("array") => {
            let elem = s.get("items").map(crd_type).unwrap_or(Type::Untyped);
            let kind = match s.get("x-kubernetes-list-type").and_then(Value::as_str) {
                Some("set") => ListKind::Set,
                Some("map") => {
                    let keys: Vec<String> = s
                        .get("x-kubernetes-list-map-keys")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|k| k.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default();
                    if keys.is_empty() {
                        ListKind::Atomic
                    } else {
                        ListKind::Map(keys)
                    }
                }
                _ => ListKind::Atomic,
            };
            Type::List(Arc::new(ListType { elem, kind }))
        }
        Some("object") => {
            let atomic = s.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic");
            let mut fields: BTreeMap<String, Type> = s
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| p.iter().map(|(k, v)| (k.clone(), crd_type(v))).collect())
                .unwrap_or_default();
            let additional = match s.get("additionalProperties") {
                Some(Value::Object(ap)) => Some(crd_type(&Value::Object(ap.clone()))),
                Some(Value::Bool(true)) => Some(Type::Untyped),
                _ => None,
            };
            if embedded {
                fields.extend(root_meta_fields());
            }
            if fields.is_empty()
                && !preserve
                && let Some(elem) = additional
            {
                return Type::Map {
                    elem: Arc::new(elem),
                    atomic,
                };
            }
            Type::Struct(Arc::new(StructType {
                fields,
                rest: additional.unwrap_or(Type::Untyped),
                atomic,
            }))
        }
        Some(_) => Type::Scalar,
        None if embedded => crd_type(&serde_json::json!({
            "type": "object",
            "x-kubernetes-embedded-resource": true,
            "x-kubernetes-preserve-unknown-fields": preserve,
            "properties": s.get("properties").cloned().unwrap_or(Value::Null),
        })),
        None if s.get("properties").is_some() => {
            let mut o = s.clone();
            o["type"] = "object".into();
            crd_type(&o)
        }
        None => Type::Untyped,
    }
}
