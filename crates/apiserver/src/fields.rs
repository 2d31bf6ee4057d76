//! Unknown and duplicate fields in request bodies, as kube-apiserver handles them
//! (`fieldValidation`): unknown fields of built-in kinds are always dropped before storing;
//! `Strict` rejects the request naming them, `Warn` (the default) answers with one
//! `Warning` header per field, `Ignore` says nothing. A value of the wrong type is always
//! a 400, with Go's decoding wording.

use apimachinery::registry::ResourceInfo;
use apimachinery::status::ApiError;
use apimachinery::typed;
use serde_json::Value;

use crate::handler::Ctx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ignore,
    Warn,
    Strict,
}

fn mode(ctx: &Ctx) -> Result<Mode, ApiError> {
    match ctx.q("fieldValidation") {
        None | Some("") | Some("Warn") => Ok(Mode::Warn),
        Some("Strict") => Ok(Mode::Strict),
        Some("Ignore") => Ok(Mode::Ignore),
        Some(other) => Err(ApiError::bad_request(format!(
            "fieldValidation parameter unsupported: {other}; supported values: Ignore, Warn, Strict"
        ))),
    }
}

/// Duplicate keys of a JSON request body (other encodings cannot carry duplicates here).
pub fn body_duplicates(ctx: &Ctx, body: &[u8]) -> Vec<String> {
    let json = ctx.content_type.is_empty() || ctx.content_type.contains("json");
    if json && !apimachinery::protobuf::is_protobuf_content_type(&ctx.content_type) {
        typed::duplicate_fields(body)
    } else {
        Vec::new()
    }
}

/// Checks `obj` (decoded from a request, or a patch's result) and returns it without
/// unknown fields, plus the warnings to send. `duplicates` come from [`body_duplicates`].
pub fn check(
    info: &ResourceInfo,
    ctx: &Ctx,
    obj: Value,
    duplicates: &[String],
) -> Result<(Value, Vec<String>), ApiError> {
    let mode = mode(ctx)?;
    let decoded = if info.custom {
        let mut obj = obj.clone();
        let unknown = crate::crd::prune(info, &mut obj);
        Some((obj, unknown))
    } else {
        typed::prune_unknown(info.group, info.version, info.kind, &obj)
            .map_err(|e| ApiError::bad_request(typed::decode_error(info.kind, info.version, &e)))?
    };
    let (pruned, unknown) = match decoded {
        Some((pruned, unknown)) => (pruned, unknown),
        None => (obj, Vec::new()),
    };
    let errors = typed::strict_errors(&unknown, duplicates);
    if errors.is_empty() || mode == Mode::Ignore {
        return Ok((pruned, Vec::new()));
    }
    if mode == Mode::Strict {
        return Err(ApiError::bad_request(typed::decode_error(
            info.kind,
            info.version,
            &typed::strict_decoding_error(&errors),
        )));
    }
    Ok((pruned, errors))
}
