//! Schema metadata k8s-openapi does not carry: the type graph of the built-in definitions
//! (which definition a property holds, as a value, a list or a map) and their
//! `x-kubernetes-*` extensions (list types and keys, map types, patch strategies and merge
//! keys), generated into `extensions.tsv` by `scripts/gen-schema-extensions.py`.
//! Strategic merge patch, server-side apply's field sets and the OpenAPI documents read
//! them from here.

use std::collections::HashMap;
use std::sync::OnceLock;

const TABLE: &str = include_str!("extensions.tsv");

/// The extensions of one definition or property.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    /// The definition the property's value, list items or map values are.
    pub reference: Option<String>,
    /// `list` or `map` when the property holds several values.
    pub shape: Option<String>,
    /// `atomic`, `set` or `map`.
    pub list_type: Option<String>,
    pub list_map_keys: Vec<String>,
    /// `atomic` or `granular`.
    pub map_type: Option<String>,
    /// `merge`, `replace`, `retainKeys` or `merge,retainKeys`.
    pub patch_strategy: Option<String>,
    pub patch_merge_key: Option<String>,
}

impl Extensions {
    fn parse(fields: &[&str]) -> Extensions {
        let mut ext = Extensions::default();
        for f in fields {
            let Some((k, v)) = f.split_once('=') else {
                continue;
            };
            let v = v.to_string();
            match k {
                "ref" => ext.reference = Some(v),
                "shape" => ext.shape = Some(v),
                "list-type" => ext.list_type = Some(v),
                "list-map-keys" => ext.list_map_keys = v.split(',').map(String::from).collect(),
                "map-type" => ext.map_type = Some(v),
                "patch-strategy" => ext.patch_strategy = Some(v),
                "patch-merge-key" => ext.patch_merge_key = Some(v),
                _ => {}
            }
        }
        ext
    }

    /// The extensions as OpenAPI keys and values (`x-kubernetes-list-type`, ...).
    pub fn to_openapi(&self) -> Vec<(&'static str, serde_json::Value)> {
        let mut out = Vec::new();
        if let Some(v) = &self.list_type {
            out.push(("x-kubernetes-list-type", v.clone().into()));
        }
        if !self.list_map_keys.is_empty() {
            out.push((
                "x-kubernetes-list-map-keys",
                self.list_map_keys.clone().into(),
            ));
        }
        if let Some(v) = &self.map_type {
            out.push(("x-kubernetes-map-type", v.clone().into()));
        }
        if let Some(v) = &self.patch_merge_key {
            out.push(("x-kubernetes-patch-merge-key", v.clone().into()));
        }
        if let Some(v) = &self.patch_strategy {
            out.push(("x-kubernetes-patch-strategy", v.clone().into()));
        }
        out
    }
}

type Table = HashMap<(String, String), Extensions>;

fn table() -> &'static Table {
    static TABLE_CELL: OnceLock<Table> = OnceLock::new();
    TABLE_CELL.get_or_init(|| {
        TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|line| {
                let cols: Vec<&str> = line.split('\t').collect();
                let (def, prop) = (cols.first()?, cols.get(1)?);
                Some((
                    (def.to_string(), prop.to_string()),
                    Extensions::parse(&cols[2..]),
                ))
            })
            .collect()
    })
}

/// The extensions of `property` of `definition` (e.g. `io.k8s.api.core.v1.PodSpec`,
/// `containers`).
pub fn property(definition: &str, property: &str) -> Option<&'static Extensions> {
    table().get(&(definition.to_string(), property.to_string()))
}

/// The extensions of a definition itself (e.g. `map-type=atomic` of ObjectReference).
pub fn definition(definition: &str) -> Option<&'static Extensions> {
    property(definition, ".")
}

/// Every (definition, property) with extensions; property `.` is the definition itself.
pub fn all() -> impl Iterator<Item = (&'static str, &'static str, &'static Extensions)> {
    table()
        .iter()
        .map(|((d, p), e)| (d.as_str(), p.as_str(), e))
}

/// The OpenAPI definition name of a built-in kind: `io.k8s.api.apps.v1.Deployment` for
/// (`apps`, `v1`, `Deployment`). Definition names use the group's first label (`rbac` for
/// `rbac.authorization.k8s.io`, `core` for the core group); apiextensions lives apart.
pub fn definition_name(group: &str, version: &str, kind: &str) -> String {
    match group {
        "" => format!("io.k8s.api.core.{version}.{kind}"),
        "apiextensions.k8s.io" => {
            format!("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{version}.{kind}")
        }
        "apiregistration.k8s.io" => {
            format!("io.k8s.kube-aggregator.pkg.apis.apiregistration.{version}.{kind}")
        }
        _ => {
            let first = group.split('.').next().unwrap_or(group);
            format!("io.k8s.api.{first}.{version}.{kind}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_merge_by_name_and_ports_by_port_and_protocol() {
        let containers = property("io.k8s.api.core.v1.PodSpec", "containers").unwrap();
        assert_eq!(containers.list_type.as_deref(), Some("map"));
        assert_eq!(containers.list_map_keys, vec!["name"]);
        assert_eq!(containers.patch_merge_key.as_deref(), Some("name"));
        assert_eq!(containers.patch_strategy.as_deref(), Some("merge"));
        let ports = property("io.k8s.api.core.v1.Container", "ports").unwrap();
        assert_eq!(ports.list_map_keys, vec!["containerPort", "protocol"]);
        let volumes = property("io.k8s.api.core.v1.PodSpec", "volumes").unwrap();
        assert_eq!(volumes.patch_strategy.as_deref(), Some("merge,retainKeys"));
        assert!(property("io.k8s.api.core.v1.PodSpec", "hostname").is_none());
        assert_eq!(
            containers.reference.as_deref(),
            Some("io.k8s.api.core.v1.Container")
        );
        assert_eq!(containers.shape.as_deref(), Some("list"));
        let labels = property("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "labels").unwrap();
        assert_eq!(
            (labels.shape.as_deref(), labels.reference.as_deref()),
            (Some("map"), None)
        );
    }

    #[test]
    fn definition_names_of_kinds() {
        for (g, v, k) in [
            ("", "v1", "Pod"),
            ("apps", "v1", "Deployment"),
            ("rbac.authorization.k8s.io", "v1", "Role"),
            ("networking.k8s.io", "v1", "Ingress"),
            ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
        ] {
            let def = definition_name(g, v, k);
            assert!(property(&def, "metadata").is_some(), "{def}");
        }
    }

    #[test]
    fn definition_level_map_types() {
        let selector = definition("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").unwrap();
        assert_eq!(selector.map_type.as_deref(), Some("atomic"));
        assert!(all().count() > 400);
    }
}
