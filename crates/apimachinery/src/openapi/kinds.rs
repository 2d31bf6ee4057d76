//! The Rust types behind every built-in kind the documents describe, and the
//! group-version-kinds each definition is tagged with (`x-kubernetes-group-version-kind`).
//!
//! k8s-openapi implements `JsonSchema` for every type (the schema name is the OpenAPI
//! definition name), but not for its generic `List<T>`: list definitions are written in
//! [`super::definitions`] from the registry.

use k8s_openapi::schemars::SchemaGenerator;

/// One kind and the definition that describes it.
#[derive(Debug, Clone)]
pub(crate) struct KindDef {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// Definition name, e.g. `io.k8s.api.core.v1.Pod`.
    pub definition: String,
}

/// Adds the schema of every kind (and all it references) to `generator`; returns the
/// kinds with their definition names.
pub(crate) fn register(generator: &mut SchemaGenerator) -> Vec<KindDef> {
    use k8s_openapi::schemars::JsonSchema;
    let mut out = Vec::new();
    macro_rules! kinds {
        ($(($g:literal, $v:literal, $k:literal) => $t:ty),* $(,)?) => {
            $(
                generator.subschema_for::<$t>();
                out.push(KindDef {
                    group: $g,
                    version: $v,
                    kind: $k,
                    definition: <$t as JsonSchema>::schema_name().into_owned(),
                });
            )*
        };
    }
    crate::kinds::with_builtin_kinds!(kinds);
    register_meta(generator);
    out
}

/// meta/v1 types the paths reference (request bodies, responses, watch events) and the
/// discovery documents, which upstream also publishes.
fn register_meta(generator: &mut SchemaGenerator) {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
    generator.subschema_for::<meta::DeleteOptions>();
    generator.subschema_for::<meta::Status>();
    generator.subschema_for::<meta::WatchEvent<k8s_openapi::api::core::v1::Pod>>();
    generator.subschema_for::<meta::Patch>();
    generator.subschema_for::<meta::APIGroup>();
    generator.subschema_for::<meta::APIGroupList>();
    generator.subschema_for::<meta::APIResourceList>();
    generator.subschema_for::<meta::APIVersions>();
}

pub(crate) const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

/// Meta definitions tagged with the core group's `v1` only, as upstream does.
pub(crate) const CORE_META_KINDS: &[&str] = &[
    "Status",
    "APIGroup",
    "APIGroupList",
    "APIResourceList",
    "APIVersions",
];

/// Meta definitions tagged with every served group-version: clients (kubectl's delete
/// and watch decoding) look them up by the group-version of the resource at hand.
pub(crate) const PER_GROUP_META_KINDS: &[&str] = &["DeleteOptions", "WatchEvent"];
