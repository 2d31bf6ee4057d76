//! Patch metadata of a field, looked up in the schema table: which definition its value
//! (or each element of its list) is, its patch strategy and its merge key.

use super::Error;
use crate::schema;

/// Where in the schema a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node<'a> {
    /// An object of an OpenAPI definition, e.g. `io.k8s.api.core.v1.PodSpec`.
    Definition(&'a str),
    /// A map (labels, ConfigMap data, ...) whose values are of the given definition, or
    /// scalars when `None`.
    MapOf(Option<&'a str>),
    /// Anything without patch metadata: scalars, `RawExtension`, unknown fields.
    Untyped,
}

/// How a field's value is patched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// Maps merge, lists are replaced.
    Default,
    /// Lists merge (by merge key for objects, as a set for primitives).
    Merge,
    /// The patch value replaces the field.
    Replace,
}

/// The patch metadata of one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldMeta<'a> {
    /// The node of the field's value, or of each element when it is a list.
    pub node: Node<'a>,
    pub strategy: Strategy,
    pub merge_key: Option<&'a str>,
}

impl FieldMeta<'_> {
    const UNTYPED: FieldMeta<'static> = FieldMeta {
        node: Node::Untyped,
        strategy: Strategy::Default,
        merge_key: None,
    };
}

impl<'a> Node<'a> {
    /// The metadata of field `key` of a value at this node.
    pub(crate) fn field(self, key: &str) -> Result<FieldMeta<'a>, Error> {
        match self {
            Node::Untyped => Ok(FieldMeta::UNTYPED),
            Node::MapOf(values) => Ok(FieldMeta {
                node: values.map_or(Node::Untyped, Node::Definition),
                ..FieldMeta::UNTYPED
            }),
            Node::Definition(def) => {
                let Some(ext) = schema::property(def, key) else {
                    return Ok(FieldMeta::UNTYPED);
                };
                let reference = ext.reference.as_deref();
                let node = match ext.shape.as_deref() {
                    Some("map") => Node::MapOf(reference),
                    _ => reference.map_or(Node::Untyped, Node::Definition),
                };
                Ok(FieldMeta {
                    node,
                    strategy: strategy(ext.patch_strategy.as_deref())?,
                    merge_key: ext.patch_merge_key.as_deref().filter(|k| !k.is_empty()),
                })
            }
        }
    }
}

/// The strategy of a `patchStrategy` value; `retainKeys` only matters when a patch is
/// computed (the `$retainKeys` directive is honoured wherever it appears).
fn strategy(value: Option<&str>) -> Result<Strategy, Error> {
    let Some(value) = value else {
        return Ok(Strategy::Default);
    };
    let parts: Vec<&str> = value.split(',').collect();
    let other = match parts.as_slice() {
        [one] if *one == "retainKeys" => "",
        [one] => one,
        [a, b] if *a == "retainKeys" => b,
        [a, b] if *b == "retainKeys" => a,
        _ => {
            return Err(Error::Failed(format!(
                "unexpected patch strategy: [{}]",
                parts.join(" ")
            )));
        }
    };
    Ok(match other {
        "merge" => Strategy::Merge,
        "replace" => Strategy::Replace,
        _ => Strategy::Default,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_merge_by_name_and_volumes_retain_keys() {
        let spec = Node::Definition("io.k8s.api.core.v1.PodSpec");
        let c = spec.field("containers").unwrap();
        assert_eq!(c.strategy, Strategy::Merge);
        assert_eq!(c.merge_key, Some("name"));
        assert_eq!(c.node, Node::Definition("io.k8s.api.core.v1.Container"));
        let v = spec.field("volumes").unwrap();
        assert_eq!((v.strategy, v.merge_key), (Strategy::Merge, Some("name")));
        assert_eq!(spec.field("hostname").unwrap(), FieldMeta::UNTYPED);
    }

    #[test]
    fn maps_and_replace_strategy() {
        let meta = Node::Definition("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
        let labels = meta.field("labels").unwrap();
        assert_eq!(labels.node, Node::MapOf(None));
        assert_eq!(labels.node.field("app").unwrap(), FieldMeta::UNTYPED);
        let pdb = Node::Definition("io.k8s.api.policy.v1.PodDisruptionBudgetSpec");
        assert_eq!(pdb.field("selector").unwrap().strategy, Strategy::Replace);
        let fin = meta.field("finalizers").unwrap();
        assert_eq!((fin.strategy, fin.merge_key), (Strategy::Merge, None));
    }

    #[test]
    fn strategy_strings() {
        assert_eq!(strategy(Some("merge,retainKeys")), Ok(Strategy::Merge));
        assert_eq!(strategy(Some("retainKeys")), Ok(Strategy::Default));
        assert_eq!(strategy(Some("replace")), Ok(Strategy::Replace));
        assert!(strategy(Some("a,b")).is_err());
    }
}
