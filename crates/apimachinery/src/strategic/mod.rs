//! Strategic merge patch: applying an `application/strategic-merge-patch+json` body to an
//! object the way kube-apiserver does for built-in kinds.
//!
//! How each field merges comes from the schema table (`crate::schema`): a list with
//! `patchStrategy: merge` and a `patchMergeKey` is merged element by element, a primitive
//! list with `merge` is a set union, a map merges key by key, everything else is
//! replaced. The patch may carry directives: `$patch` (`replace`, `delete`, and in
//! lists `merge`), `$retainKeys`, `$setElementOrder/<list>` and
//! `$deleteFromPrimitiveList/<list>`; none of them ends up in the result.
//!
//! Fields the table knows nothing about (scalars, `RawExtension`, untyped JSON) merge like
//! a JSON merge patch: maps recursively, `null` deletes, lists are replaced.

mod format;
mod merge;
mod meta;
mod order;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use crate::status::ApiError;

use meta::Node;

/// Why a patch could not be applied. Each variant maps to the status upstream answers
/// with; the message is upstream's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A malformed directive (`$retainKeys`, `$setElementOrder`, `$deleteFromPrimitiveList`)
    /// or a body that is not a JSON object: 400 Bad Request.
    #[error("{0}")]
    BadRequest(String),
    /// Lists of lists, or patch content that contradicts `$retainKeys`: 422.
    #[error("{0}")]
    Unprocessable(String),
    /// Every other failure (a list element without its merge key, an unknown `$patch`
    /// value, an element order that contradicts the patch...). Upstream passes these on
    /// as bare errors with no reason.
    #[error("{0}")]
    Failed(String),
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        match e {
            Error::BadRequest(m) => ApiError::bad_request(m),
            // Upstream builds these with NewGenericServerResponse(422, ...), which keeps
            // only its generic message.
            Error::Unprocessable(_) => ApiError::new(
                422,
                "Invalid",
                "the server rejected our request due to an error in our request",
            ),
            // Upstream lets these through as a reason-less 500; the message (what kubectl
            // prints: `Error from server: <message>`) is kept, the code is a 4xx because
            // the request, not the server, is at fault.
            Error::Failed(m) => ApiError::new(422, "", m),
        }
    }
}

/// Applies strategic merge patch `patch` to `original`.
///
/// `definition` is the OpenAPI definition of the object's kind (see
/// [`crate::schema::definition_name`]); `None` merges without any schema (maps by key,
/// lists replaced), which is what a patch of an untyped document gets.
pub fn apply(original: &Value, patch: &Value, definition: Option<&str>) -> Result<Value, Error> {
    let node = definition.map_or(Node::Untyped, Node::Definition);
    let patch = match patch {
        // Decoding `null` into a map leaves no patch at all.
        Value::Null => return Ok(original.clone()),
        Value::Object(m) => m.clone(),
        other => {
            return Err(Error::BadRequest(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                format::json_type_word(other)
            )));
        }
    };
    let original = match original {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    merge::merge_map(original, patch, node).map(Value::Object)
}
