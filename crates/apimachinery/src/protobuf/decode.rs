//! Schema-driven conversion of a protobuf message into the JSON Go's encoding/json would
//! produce for the same object.

use serde_json::{Map, Number, Value};

use super::ProtobufError;
use super::schema::{Cardinality, Field, Scalar, Schema};
use super::wellknown;
use super::wire::{Reader, WireType, WireValue};

/// Nesting bound; real objects are far shallower (JSONSchemaProps is the deepest).
const MAX_DEPTH: u32 = 64;

const META: &str = "apimachinery.pkg.apis.meta.v1.";
const APIEXT_V1: &str = "apiextensions_apiserver.pkg.apis.apiextensions.v1.";
const APIEXT_V1BETA1: &str = "apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.";

/// Decodes `bytes` as message `type_name`.
pub fn message(
    schema: &Schema,
    type_name: &str,
    bytes: &[u8],
    depth: u32,
) -> Result<Value, ProtobufError> {
    if depth > MAX_DEPTH {
        return Err(ProtobufError::Invalid("message nesting too deep".into()));
    }
    if let Some(v) = special(schema, type_name, bytes, depth)? {
        return Ok(v);
    }
    let fields = schema.message(type_name).ok_or_else(|| {
        ProtobufError::Schema(format!("message type {type_name} is not in the schema"))
    })?;
    if schema.is_wrapper(type_name) {
        // Go `type ExtraValue []string`: the JSON is the bare array.
        let obj = object(schema, fields, bytes, depth)?;
        return Ok(obj
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .unwrap_or(Value::Array(Vec::new())));
    }
    Ok(Value::Object(object(schema, fields, bytes, depth)?))
}

fn object(
    schema: &Schema,
    fields: &std::collections::HashMap<u32, Field>,
    bytes: &[u8],
    depth: u32,
) -> Result<Map<String, Value>, ProtobufError> {
    let mut out = Map::new();
    let mut reader = Reader::new(bytes);
    while !reader.is_empty() {
        let (tag, value) = reader.read_field()?;
        // Unknown tags are skipped, like upstream's generated unmarshalers do.
        let Some(field) = fields.get(&tag) else {
            continue;
        };
        match field.cardinality {
            Cardinality::Single if field.scalar == Scalar::Inline => {
                let bytes = expect_len(field, value)?;
                if let Value::Object(inner) = message(schema, type_ref(field)?, bytes, depth + 1)? {
                    out.extend(inner);
                }
            }
            Cardinality::Single => {
                if let Some(v) = single(schema, field, value, depth)? {
                    out.insert(field.json.clone(), v);
                } else {
                    out.remove(&field.json);
                }
            }
            Cardinality::Repeated => {
                let entry = out
                    .entry(field.json.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                let Value::Array(items) = entry else {
                    return Err(ProtobufError::Schema(format!(
                        "field {} is not an array",
                        field.json
                    )));
                };
                repeated(schema, field, value, items, depth)?;
            }
            Cardinality::Map => {
                let entry = out
                    .entry(field.json.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                let Value::Object(map) = entry else {
                    return Err(ProtobufError::Schema(format!(
                        "field {} is not an object",
                        field.json
                    )));
                };
                let (k, v) = map_entry(schema, field, expect_len(field, value)?, depth)?;
                map.insert(k, v);
            }
        }
    }
    Ok(out)
}

fn type_ref(field: &Field) -> Result<&str, ProtobufError> {
    field
        .type_ref
        .as_deref()
        .ok_or_else(|| ProtobufError::Schema(format!("field {} has no message type", field.json)))
}

fn wrong_wire(field: &Field, got: WireType) -> ProtobufError {
    ProtobufError::Invalid(format!(
        "field {:?}: unexpected wire type {got:?}",
        field.json
    ))
}

fn expect_len<'a>(field: &Field, value: WireValue<'a>) -> Result<&'a [u8], ProtobufError> {
    match value {
        WireValue::Len(b) => Ok(b),
        other => Err(wrong_wire(field, other.wire_type())),
    }
}

/// A non-repeated field; `None` when Go's JSON would omit it (zero of an omitempty value).
fn single(
    schema: &Schema,
    field: &Field,
    value: WireValue<'_>,
    depth: u32,
) -> Result<Option<Value>, ProtobufError> {
    let v = scalar(schema, field, field.scalar, value, depth)?;
    if field.keep_zero || field.scalar == Scalar::Message {
        return Ok(Some(v));
    }
    let zero = match &v {
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        _ => false,
    };
    Ok((!zero).then_some(v))
}

fn repeated(
    schema: &Schema,
    field: &Field,
    value: WireValue<'_>,
    items: &mut Vec<Value>,
    depth: u32,
) -> Result<(), ProtobufError> {
    let packable = matches!(
        field.scalar,
        Scalar::Bool | Scalar::Int32 | Scalar::Int64 | Scalar::Double
    );
    match value {
        // Packed encoding of numeric repeated fields.
        WireValue::Len(bytes) if packable => {
            let mut r = Reader::new(bytes);
            while !r.is_empty() {
                let element = if field.scalar == Scalar::Double {
                    WireValue::Fixed64(r.read_fixed64()?)
                } else {
                    WireValue::Varint(r.read_varint()?)
                };
                items.push(scalar(schema, field, field.scalar, element, depth)?);
            }
        }
        other => items.push(scalar(schema, field, field.scalar, other, depth)?),
    }
    Ok(())
}

fn map_entry(
    schema: &Schema,
    field: &Field,
    bytes: &[u8],
    depth: u32,
) -> Result<(String, Value), ProtobufError> {
    let mut key = String::new();
    let mut value = None;
    let mut r = Reader::new(bytes);
    while !r.is_empty() {
        match r.read_field()? {
            (1, v) => key = utf8(expect_len(field, v)?)?,
            (2, v) => value = Some(scalar(schema, field, field.scalar, v, depth)?),
            _ => {}
        }
    }
    let value = match value {
        Some(v) => v,
        // An absent value is the type's zero value.
        None => scalar(schema, field, field.scalar, WireValue::Len(&[]), depth)
            .or_else(|_| scalar(schema, field, field.scalar, WireValue::Varint(0), depth))?,
    };
    Ok((key, value))
}

fn utf8(bytes: &[u8]) -> Result<String, ProtobufError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ProtobufError::Invalid("string field is not valid UTF-8".into()))
}

fn scalar(
    schema: &Schema,
    field: &Field,
    kind: Scalar,
    value: WireValue<'_>,
    depth: u32,
) -> Result<Value, ProtobufError> {
    Ok(match (kind, value) {
        (Scalar::String, WireValue::Len(b)) => Value::String(utf8(b)?),
        (Scalar::Bytes, WireValue::Len(b)) => Value::String(wellknown::base64(b)),
        (Scalar::Bool, WireValue::Varint(v)) => Value::Bool(v != 0),
        // int32 is sign-extended to 64 bits on the wire.
        (Scalar::Int32, WireValue::Varint(v)) => Value::from(v as i64 as i32),
        (Scalar::Int64, WireValue::Varint(v)) => Value::from(v as i64),
        (Scalar::Double, WireValue::Fixed64(bits)) => Number::from_f64(f64::from_bits(bits))
            .map(Value::Number)
            .unwrap_or(Value::Null),
        (Scalar::Message | Scalar::Inline, WireValue::Len(b)) => {
            message(schema, type_ref(field)?, b, depth + 1)?
        }
        (_, other) => return Err(wrong_wire(field, other.wire_type())),
    })
}

/// Well-known messages whose Go types have custom JSON marshalling.
fn special(
    schema: &Schema,
    type_name: &str,
    bytes: &[u8],
    depth: u32,
) -> Result<Option<Value>, ProtobufError> {
    let name = type_name
        .strip_prefix(META)
        .map(|n| ("meta", n))
        .or_else(|| type_name.strip_prefix(APIEXT_V1).map(|n| ("apiext", n)))
        .or_else(|| {
            type_name
                .strip_prefix(APIEXT_V1BETA1)
                .map(|n| ("apiext", n))
        });
    let v =
        match (type_name, name) {
            (_, Some(("meta", "Time"))) => {
                // Zero time marshals as an empty message; its JSON is null.
                if bytes.is_empty() {
                    return Ok(Some(Value::Null));
                }
                let f = fields(bytes)?;
                Value::String(wellknown::format_time(varint(&f, 1) as i64)?)
            }
            (_, Some(("meta", "MicroTime"))) => {
                if bytes.is_empty() {
                    return Ok(Some(Value::Null));
                }
                let f = fields(bytes)?;
                Value::String(wellknown::format_micro_time(
                    varint(&f, 1) as i64,
                    varint(&f, 2) as i64 as i32,
                )?)
            }
            (_, Some(("meta", "Duration"))) => Value::String(wellknown::format_go_duration(
                varint(&fields(bytes)?, 1) as i64,
            )),
            (_, Some(("meta", "FieldsV1"))) | (_, Some(("apiext", "Json"))) => {
                embedded_json(schema, len(&fields(bytes)?, 1), depth)?
            }
            ("apimachinery.pkg.runtime.RawExtension", _) => {
                embedded_json(schema, len(&fields(bytes)?, 1), depth)?
            }
            ("apimachinery.pkg.api.resource.Quantity", _) => {
                let s = len(&fields(bytes)?, 1).map(utf8).transpose()?;
                Value::String(s.filter(|s| !s.is_empty()).unwrap_or_else(|| "0".into()))
            }
            ("apimachinery.pkg.util.intstr.IntOrString", _) => {
                let f = fields(bytes)?;
                if varint(&f, 1) == 1 {
                    Value::String(len(&f, 3).map(utf8).transpose()?.unwrap_or_default())
                } else {
                    Value::from(varint(&f, 2) as i64 as i32)
                }
            }
            (_, Some(("apiext", "JSONSchemaPropsOrBool" | "JsonSchemaPropsOrBool"))) => {
                let f = fields(bytes)?;
                match len(&f, 2) {
                    Some(schema_bytes) => message(
                        schema,
                        &sibling(type_name, "JsonSchemaProps"),
                        schema_bytes,
                        depth + 1,
                    )?,
                    None => Value::Bool(varint(&f, 1) != 0),
                }
            }
            (_, Some(("apiext", "JsonSchemaPropsOrArray"))) => {
                let f = fields(bytes)?;
                let props = sibling(type_name, "JsonSchemaProps");
                let array: Vec<&[u8]> = all_len(&f, 2);
                if !array.is_empty() {
                    let items = array
                        .into_iter()
                        .map(|b| message(schema, &props, b, depth + 1))
                        .collect::<Result<Vec<_>, _>>()?;
                    Value::Array(items)
                } else {
                    match len(&f, 1) {
                        Some(b) => message(schema, &props, b, depth + 1)?,
                        None => Value::Null,
                    }
                }
            }
            (_, Some(("apiext", "JsonSchemaPropsOrStringArray"))) => {
                let f = fields(bytes)?;
                let array: Vec<&[u8]> = all_len(&f, 2);
                if !array.is_empty() {
                    Value::Array(
                        array
                            .into_iter()
                            .map(|b| utf8(b).map(Value::String))
                            .collect::<Result<Vec<_>, _>>()?,
                    )
                } else {
                    match len(&f, 1) {
                        Some(b) => {
                            message(schema, &sibling(type_name, "JsonSchemaProps"), b, depth + 1)?
                        }
                        None => Value::Null,
                    }
                }
            }
            _ => return Ok(None),
        };
    Ok(Some(v))
}

fn sibling(type_name: &str, name: &str) -> String {
    match type_name.rsplit_once('.') {
        Some((module, _)) => format!("{module}.{name}"),
        None => name.to_string(),
    }
}

/// Raw fields of a small well-known message, in wire order.
fn fields(bytes: &[u8]) -> Result<Vec<(u32, WireValue<'_>)>, ProtobufError> {
    let mut r = Reader::new(bytes);
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(r.read_field()?);
    }
    Ok(out)
}

/// Last varint value of `tag` (proto semantics: last one wins), 0 if absent.
fn varint(fields: &[(u32, WireValue<'_>)], tag: u32) -> u64 {
    fields
        .iter()
        .rev()
        .find_map(|(t, v)| match (t, v) {
            (t, WireValue::Varint(n)) if *t == tag => Some(*n),
            _ => None,
        })
        .unwrap_or(0)
}

fn len<'a>(fields: &[(u32, WireValue<'a>)], tag: u32) -> Option<&'a [u8]> {
    fields.iter().rev().find_map(|(t, v)| match v {
        WireValue::Len(b) if *t == tag => Some(*b),
        _ => None,
    })
}

fn all_len<'a>(fields: &[(u32, WireValue<'a>)], tag: u32) -> Vec<&'a [u8]> {
    fields
        .iter()
        .filter_map(|(t, v)| match v {
            WireValue::Len(b) if *t == tag => Some(*b),
            _ => None,
        })
        .collect()
}

/// `runtime.RawExtension`/`FieldsV1`/`JSON` raw bytes: JSON text, or a nested protobuf object.
fn embedded_json(schema: &Schema, raw: Option<&[u8]>, depth: u32) -> Result<Value, ProtobufError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(Value::Null);
    };
    if raw.starts_with(super::MAGIC) {
        return super::decode_envelope(schema, raw, depth + 1);
    }
    serde_json::from_slice(raw).map_err(|e| ProtobufError::EmbeddedJson(e.to_string()))
}
