//! Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`)
//! into the JSON object a client would have sent.
//!
//! kubectl >= 1.32 sends the bodies of typed commands (`kubectl create deployment ...`,
//! typed DELETE options) as protobuf only. A body is the magic `k8s\0` followed by a
//! `runtime.Unknown` envelope whose `typeMeta` names the kind and whose `raw` holds the
//! object's message. [`decode_to_json`] maps that kind to a message type and converts the
//! message with a generic wire-format decoder driven by `schema.json`, following Go's JSON
//! conventions: zero values of Go `omitempty` value fields are omitted (gogo-protobuf
//! always writes them), pointer fields keep explicit zeros, `[]byte` is base64,
//! `Time`/`MicroTime`/`Duration`/`Quantity`/`IntOrString`/`RawExtension`/`FieldsV1` have
//! their special JSON forms, and `json:",inline"` structs are merged into their parent.
//!
//! # Regenerating `schema.json`
//!
//! `schema.json` is generated (never edit it by hand) from crates in the cargo registry:
//! field tags, wire kinds and message references from the prost sources of `k8s-pb` 0.9.0,
//! JSON field names from the serde impls of `k8s-openapi` 0.29.0 (`v1_33`), and
//! `go_presence.txt` (which scalar fields keep zero values):
//!
//! ```text
//! cargo run -p apimachinery --bin gen-protobuf-schema            # rewrite schema.json
//! cargo run -p apimachinery --bin gen-protobuf-schema -- --check # verify it is current
//! ```
//!
//! `go_presence.txt` is derived from the Go API types, since only they say whether a field
//! is a pointer; refresh it from checkouts of `k8s.io/api` and `k8s.io/apimachinery` at the
//! emulated release (currently v0.33.13), then regenerate the schema:
//!
//! ```text
//! cargo run -p apimachinery --bin gen-protobuf-schema -- extract-go <api dir> <apimachinery dir> "v0.33.13"
//! ```
//!
//! When bumping k8s-pb or k8s-openapi, update the versions in `generate.rs`.
//!
//! `testdata/*.pb` are request bodies captured from real kubectl v1.32.4 `create` commands;
//! `testdata/*.json` is what `kubectl create ... --dry-run=client -o json` prints for them.

mod decode;
mod schema;
mod wellknown;
mod wire;

#[cfg(test)]
mod generate;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use self::schema::Schema;
use self::wire::{Reader, WireValue};

/// Media type of Kubernetes protobuf bodies.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Prefix of every Kubernetes protobuf body.
pub const MAGIC: &[u8] = b"k8s\0";

/// Why a protobuf body could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum ProtobufError {
    #[error(
        "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
    )]
    BadMagic,
    #[error("unexpected end of protobuf data while reading a {0}")]
    Truncated(&'static str),
    #[error("invalid protobuf data: {0}")]
    Invalid(String),
    #[error("no kind \"{kind}\" is registered for version \"{api_version}\"")]
    UnknownKind { api_version: String, kind: String },
    #[error("unsupported protobuf content encoding \"{0}\"")]
    UnsupportedEncoding(String),
    #[error("invalid embedded JSON: {0}")]
    EmbeddedJson(String),
    #[error("protobuf schema: {0}")]
    Schema(String),
}

/// Decodes a Kubernetes protobuf body (magic `b"k8s\0"` + `runtime.Unknown` envelope
/// {typeMeta{apiVersion,kind}, raw, contentEncoding, contentType}) into the JSON object
/// clients would have sent, including `"apiVersion"` and `"kind"`.
pub fn decode_to_json(body: &[u8]) -> Result<Value, ProtobufError> {
    let schema = schema::schema().map_err(ProtobufError::Schema)?;
    decode_envelope(schema, body, 0)
}

/// Whether a `Content-Type` header value names the Kubernetes protobuf media type.
pub fn is_protobuf_content_type(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(CONTENT_TYPE))
}

fn decode_envelope(schema: &Schema, body: &[u8], depth: u32) -> Result<Value, ProtobufError> {
    let envelope = body.strip_prefix(MAGIC).ok_or(ProtobufError::BadMagic)?;
    let unknown = Unknown::parse(envelope)?;
    if !unknown.content_encoding.is_empty() {
        return Err(ProtobufError::UnsupportedEncoding(unknown.content_encoding));
    }
    let mut out = Map::new();
    if !unknown.api_version.is_empty() {
        out.insert(
            "apiVersion".into(),
            Value::String(unknown.api_version.clone()),
        );
    }
    if !unknown.kind.is_empty() {
        out.insert("kind".into(), Value::String(unknown.kind.clone()));
    }
    // An envelope may carry JSON instead of protobuf; accept it as is.
    if unknown.content_type.to_ascii_lowercase().contains("json") {
        let inner: Value = serde_json::from_slice(unknown.raw)
            .map_err(|e| ProtobufError::EmbeddedJson(e.to_string()))?;
        let Value::Object(fields) = inner else {
            return Err(ProtobufError::EmbeddedJson("object expected".into()));
        };
        for (k, v) in fields {
            out.entry(k).or_insert(v);
        }
        return Ok(Value::Object(out));
    }
    let type_name = schema
        .resolve(&unknown.api_version, &unknown.kind)
        .ok_or_else(|| ProtobufError::UnknownKind {
            api_version: unknown.api_version.clone(),
            kind: unknown.kind.clone(),
        })?;
    match decode::message(schema, &type_name, unknown.raw, depth)? {
        Value::Object(fields) => out.extend(fields),
        other => {
            return Err(ProtobufError::Invalid(format!(
                "{type_name} decoded to non-object {other}"
            )));
        }
    }
    Ok(Value::Object(out))
}

/// The `runtime.Unknown` envelope.
struct Unknown<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
    content_encoding: String,
    content_type: String,
}

impl<'a> Unknown<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, ProtobufError> {
        let mut u = Unknown {
            api_version: String::new(),
            kind: String::new(),
            raw: &[],
            content_encoding: String::new(),
            content_type: String::new(),
        };
        let mut r = Reader::new(bytes);
        while !r.is_empty() {
            match r.read_field()? {
                (1, WireValue::Len(type_meta)) => {
                    let mut tr = Reader::new(type_meta);
                    while !tr.is_empty() {
                        match tr.read_field()? {
                            (1, WireValue::Len(v)) => u.api_version = string(v)?,
                            (2, WireValue::Len(v)) => u.kind = string(v)?,
                            _ => {}
                        }
                    }
                }
                (2, WireValue::Len(v)) => u.raw = v,
                (3, WireValue::Len(v)) => u.content_encoding = string(v)?,
                (4, WireValue::Len(v)) => u.content_type = string(v)?,
                (tag @ 1..=4, _) => {
                    return Err(ProtobufError::Invalid(format!(
                        "runtime.Unknown field {tag} has the wrong wire type"
                    )));
                }
                _ => {}
            }
        }
        Ok(u)
    }
}

fn string(bytes: &[u8]) -> Result<String, ProtobufError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ProtobufError::Invalid("string field is not valid UTF-8".into()))
}
