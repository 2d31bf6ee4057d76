//! A serde `Deserializer` over a `serde_json::Value` that records where a typed decode
//! failed, so the failure can be reported in the words of Go's `encoding/json`
//! (`json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of
//! type int32`), which is what kube-apiserver returns.
//!
//! It also mirrors Go's leniency towards `null`: a `null` where a struct, list, map or
//! scalar is expected leaves the zero value instead of failing.

use std::cell::RefCell;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Error, Map, Value};

/// One step into a JSON document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A list or map whose Go type needs its element type, found by a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Container {
    Seq,
    Map,
}

/// The first type mismatch met while decoding, with Go's error context.
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    /// Go's description of the JSON value: `string`, `number`, `number 3.5`, `object`...
    pub value: String,
    /// The Go type it could not be stored in (element type missing for containers).
    pub go_type: String,
    pub container: Option<Container>,
    /// The innermost struct whose field was being decoded and the JSON field names
    /// from the root (no list indices, no map keys), as Go's `errorContext`.
    pub struct_name: Option<&'static str>,
    pub field: String,
    /// Where in the document, to probe container element types.
    pub location: Vec<Seg>,
}

/// State shared by every `Tracker` of one decode.
pub(crate) struct Ctx {
    /// The API version, used as the Go package name of the kind's own structs.
    version: String,
    fields: Vec<(&'static str, String)>,
    location: Vec<Seg>,
    pub failure: Option<Failure>,
    /// When probing: the location whose requested Go type is wanted, and that type.
    probe: Option<(Vec<Seg>, Option<String>)>,
}

impl Ctx {
    pub fn new(version: &str) -> Self {
        Ctx {
            version: version.to_string(),
            fields: Vec::new(),
            location: Vec::new(),
            failure: None,
            probe: None,
        }
    }

    pub fn probing(version: &str, at: Vec<Seg>) -> Self {
        let mut ctx = Ctx::new(version);
        ctx.probe = Some((at, None));
        ctx
    }

    pub fn probed_type(&self) -> Option<String> {
        self.probe.as_ref().and_then(|(_, t)| t.clone())
    }
}

/// Go's name for a struct or named type that k8s-openapi deserializes under `name`.
pub(crate) fn go_type_name(name: &str, version: &str) -> String {
    match name {
        "Quantity" => "resource.Quantity".into(),
        "IntOrString" => "intstr.IntOrString".into(),
        "RawExtension" => "runtime.RawExtension".into(),
        // meta/v1 types keep package `v1` whatever the kind's version is.
        "ObjectMeta"
        | "ListMeta"
        | "LabelSelector"
        | "LabelSelectorRequirement"
        | "OwnerReference"
        | "ManagedFieldsEntry"
        | "FieldsV1"
        | "Time"
        | "MicroTime"
        | "Condition"
        | "Duration" => format!("v1.{name}"),
        _ => format!("{version}.{name}"),
    }
}

fn describe(value: &Value, numeric_target: bool) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::String(_) => "string".into(),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
        Value::Number(n) if numeric_target => format!("number {n}"),
        Value::Number(_) => "number".into(),
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Tracker<'a, 'de> {
    value: &'de Value,
    ctx: &'a RefCell<Ctx>,
    /// Set inside `deserialize_newtype_struct`: the Go type to blame is the newtype.
    newtype: Option<&'static str>,
}

impl<'a, 'de> Tracker<'a, 'de> {
    pub fn new(value: &'de Value, ctx: &'a RefCell<Ctx>) -> Self {
        Tracker {
            value,
            ctx,
            newtype: None,
        }
    }

    fn at(self, value: &'de Value) -> Self {
        Tracker {
            value,
            ctx: self.ctx,
            newtype: None,
        }
    }

    /// The Go type to report for a request of `go` (already a Go name).
    fn blame(&self, go: String) -> String {
        match self.newtype {
            Some(n) => go_type_name(n, &self.ctx.borrow().version),
            None => go,
        }
    }

    fn note(&self, go: &str) {
        if self.ctx.borrow().probe.is_none() {
            return;
        }
        let go = self.blame(go.to_string());
        let mut ctx = self.ctx.borrow_mut();
        let ctx = &mut *ctx;
        if let Some((at, found @ None)) = ctx.probe.as_mut()
            && *at == ctx.location
        {
            *found = Some(go);
        }
    }

    fn record(&self, go: String, numeric: bool, container: Option<Container>) {
        if self.ctx.borrow().failure.is_some() {
            return;
        }
        let go_type = self.blame(go);
        let mut ctx = self.ctx.borrow_mut();
        let failure = Failure {
            value: describe(self.value, numeric),
            go_type,
            container: if self.newtype.is_some() {
                None
            } else {
                container
            },
            struct_name: ctx.fields.last().map(|(s, _)| *s),
            field: ctx
                .fields
                .iter()
                .map(|(_, f)| f.as_str())
                .collect::<Vec<_>>()
                .join("."),
            location: ctx.location.clone(),
        };
        ctx.failure = Some(failure);
    }

    fn struct_go_name(&self, name: &str) -> String {
        go_type_name(name, &self.ctx.borrow().version)
    }

    /// A scalar: `null` decodes as the zero value, anything else goes to the visitor,
    /// whose own checks (type, range) decide.
    fn scalar<V: Visitor<'de>>(self, go: &'static str, visitor: V) -> Result<V::Value, Error> {
        self.note(go);
        let numeric = !matches!(go, "string" | "bool");
        let result = match self.value {
            Value::Null => match go {
                "string" => visitor.visit_str(""),
                "bool" => visitor.visit_bool(false),
                "float32" | "float64" => visitor.visit_f64(0.0),
                _ => visitor.visit_u64(0),
            },
            value => value.deserialize_any(visitor),
        };
        if result.is_err() {
            self.record(go.to_string(), numeric, None);
        }
        result
    }
}

macro_rules! scalars {
    ($($method:ident => $go:literal),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                self.scalar($go, visitor)
            }
        )*
    };
}

impl<'de> Deserializer<'de> for Tracker<'_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // Free-form content (IntOrString, Quantity, RawExtension, JSON): not tracked
        // inside. Outside a newtype the only user is IntOrString.
        self.note("intstr.IntOrString");
        let result = self.value.deserialize_any(visitor);
        if result.is_err() {
            self.record("intstr.IntOrString".into(), false, None);
        }
        result
    }

    scalars! {
        deserialize_bool => "bool",
        deserialize_i8 => "int8",
        deserialize_i16 => "int16",
        deserialize_i32 => "int32",
        deserialize_i64 => "int64",
        deserialize_u8 => "uint8",
        deserialize_u16 => "uint16",
        deserialize_u32 => "uint32",
        deserialize_u64 => "uint64",
        deserialize_f32 => "float32",
        deserialize_f64 => "float64",
        deserialize_char => "string",
        deserialize_str => "string",
        deserialize_string => "string",
        deserialize_identifier => "string",
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.value.deserialize_bytes(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.value.deserialize_byte_buf(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.value.deserialize_unit(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let inner = Tracker {
            newtype: Some(name),
            ..self
        };
        inner.note(&inner.struct_go_name(name));
        visitor.visit_newtype_struct(inner)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.note("[]");
        match self.value {
            Value::Array(items) => visitor.visit_seq(Seq::new(self, items)),
            Value::Null => visitor.visit_seq(Seq::new(self, &[])),
            other => {
                self.record("[]".into(), false, Some(Container::Seq));
                Err(de::Error::invalid_type(unexpected(other), &visitor))
            }
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.note("map[string]");
        match self.value {
            Value::Object(map) => visitor.visit_map(Entries::new(self, Some(map), None)),
            Value::Null => visitor.visit_map(Entries::new(self, None, None)),
            other => {
                self.record("map[string]".into(), false, Some(Container::Map));
                Err(de::Error::invalid_type(unexpected(other), &visitor))
            }
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let go = self.struct_go_name(name);
        self.note(&go);
        match self.value {
            Value::Object(map) => visitor.visit_map(Entries::new(self, Some(map), Some(name))),
            Value::Null => visitor.visit_map(Entries::new(self, None, Some(name))),
            other => {
                self.record(go, false, None);
                Err(de::Error::invalid_type(unexpected(other), &visitor))
            }
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.value.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(n) => match n.as_f64() {
            Some(f) => de::Unexpected::Float(f),
            None => de::Unexpected::Other("number"),
        },
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

struct Seq<'a, 'de> {
    parent: Tracker<'a, 'de>,
    items: std::slice::Iter<'de, Value>,
    index: usize,
}

impl<'a, 'de> Seq<'a, 'de> {
    fn new(parent: Tracker<'a, 'de>, items: &'de [Value]) -> Self {
        Seq {
            parent,
            items: items.iter(),
            index: 0,
        }
    }
}

impl<'de> SeqAccess<'de> for Seq<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let ctx = self.parent.ctx;
        ctx.borrow_mut().location.push(Seg::Index(self.index));
        self.index += 1;
        let result = seed.deserialize(self.parent.at(item));
        ctx.borrow_mut().location.pop();
        result.map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Entries<'a, 'de> {
    parent: Tracker<'a, 'de>,
    entries: Option<serde_json::map::Iter<'de>>,
    /// The struct being decoded; `None` for a map.
    struct_name: Option<&'static str>,
    pending: Option<(&'de str, &'de Value)>,
}

impl<'a, 'de> Entries<'a, 'de> {
    fn new(
        parent: Tracker<'a, 'de>,
        map: Option<&'de Map<String, Value>>,
        struct_name: Option<&'static str>,
    ) -> Self {
        Entries {
            parent,
            entries: map.map(|m| m.iter()),
            struct_name,
            pending: None,
        }
    }
}

impl<'de> MapAccess<'de> for Entries<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.as_mut().and_then(|e| e.next()) else {
            return Ok(None);
        };
        self.pending = Some((key.as_str(), value));
        seed.deserialize(BorrowedStrDeserializer::<Error>::new(key.as_str()))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some((key, value)) = self.pending.take() else {
            return Err(de::Error::custom("value requested before key"));
        };
        let ctx = self.parent.ctx;
        {
            let mut c = ctx.borrow_mut();
            c.location.push(Seg::Key(key.to_string()));
            if let Some(name) = self.struct_name {
                c.fields.push((name, key.to_string()));
            }
        }
        let result = seed.deserialize(self.parent.at(value));
        {
            let mut c = ctx.borrow_mut();
            c.location.pop();
            if self.struct_name.is_some() {
                c.fields.pop();
            }
        }
        result
    }

    fn size_hint(&self) -> Option<usize> {
        self.entries.as_ref().map(|e| e.len())
    }
}
