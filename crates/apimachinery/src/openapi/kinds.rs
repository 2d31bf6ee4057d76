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
    use k8s_openapi::api;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
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
    kinds! {
        ("", "v1", "Binding") => api::core::v1::Binding,
        ("", "v1", "ComponentStatus") => api::core::v1::ComponentStatus,
        ("", "v1", "ConfigMap") => api::core::v1::ConfigMap,
        ("", "v1", "Endpoints") => api::core::v1::Endpoints,
        ("", "v1", "Event") => api::core::v1::Event,
        ("", "v1", "LimitRange") => api::core::v1::LimitRange,
        ("", "v1", "Namespace") => api::core::v1::Namespace,
        ("", "v1", "Node") => api::core::v1::Node,
        ("", "v1", "PersistentVolume") => api::core::v1::PersistentVolume,
        ("", "v1", "PersistentVolumeClaim") => api::core::v1::PersistentVolumeClaim,
        ("", "v1", "Pod") => api::core::v1::Pod,
        ("", "v1", "PodTemplate") => api::core::v1::PodTemplate,
        ("", "v1", "ReplicationController") => api::core::v1::ReplicationController,
        ("", "v1", "ResourceQuota") => api::core::v1::ResourceQuota,
        ("", "v1", "Secret") => api::core::v1::Secret,
        ("", "v1", "Service") => api::core::v1::Service,
        ("", "v1", "ServiceAccount") => api::core::v1::ServiceAccount,
        ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration") => api::admissionregistration::v1::MutatingWebhookConfiguration,
        ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy") => api::admissionregistration::v1::ValidatingAdmissionPolicy,
        ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding") => api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
        ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration") => api::admissionregistration::v1::ValidatingWebhookConfiguration,
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition") => apiextensions::CustomResourceDefinition,
        ("apps", "v1", "ControllerRevision") => api::apps::v1::ControllerRevision,
        ("apps", "v1", "DaemonSet") => api::apps::v1::DaemonSet,
        ("apps", "v1", "Deployment") => api::apps::v1::Deployment,
        ("apps", "v1", "ReplicaSet") => api::apps::v1::ReplicaSet,
        ("apps", "v1", "StatefulSet") => api::apps::v1::StatefulSet,
        ("authentication.k8s.io", "v1", "SelfSubjectReview") => api::authentication::v1::SelfSubjectReview,
        ("authentication.k8s.io", "v1", "TokenRequest") => api::authentication::v1::TokenRequest,
        ("authentication.k8s.io", "v1", "TokenReview") => api::authentication::v1::TokenReview,
        ("authorization.k8s.io", "v1", "LocalSubjectAccessReview") => api::authorization::v1::LocalSubjectAccessReview,
        ("authorization.k8s.io", "v1", "SelfSubjectAccessReview") => api::authorization::v1::SelfSubjectAccessReview,
        ("authorization.k8s.io", "v1", "SelfSubjectRulesReview") => api::authorization::v1::SelfSubjectRulesReview,
        ("authorization.k8s.io", "v1", "SubjectAccessReview") => api::authorization::v1::SubjectAccessReview,
        ("autoscaling", "v1", "HorizontalPodAutoscaler") => api::autoscaling::v1::HorizontalPodAutoscaler,
        ("autoscaling", "v1", "Scale") => api::autoscaling::v1::Scale,
        ("autoscaling", "v2", "HorizontalPodAutoscaler") => api::autoscaling::v2::HorizontalPodAutoscaler,
        ("batch", "v1", "CronJob") => api::batch::v1::CronJob,
        ("batch", "v1", "Job") => api::batch::v1::Job,
        ("certificates.k8s.io", "v1", "CertificateSigningRequest") => api::certificates::v1::CertificateSigningRequest,
        ("coordination.k8s.io", "v1", "Lease") => api::coordination::v1::Lease,
        ("discovery.k8s.io", "v1", "EndpointSlice") => api::discovery::v1::EndpointSlice,
        ("events.k8s.io", "v1", "Event") => api::events::v1::Event,
        ("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema") => api::flowcontrol::v1::FlowSchema,
        ("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration") => api::flowcontrol::v1::PriorityLevelConfiguration,
        ("networking.k8s.io", "v1", "IPAddress") => api::networking::v1::IPAddress,
        ("networking.k8s.io", "v1", "Ingress") => api::networking::v1::Ingress,
        ("networking.k8s.io", "v1", "IngressClass") => api::networking::v1::IngressClass,
        ("networking.k8s.io", "v1", "NetworkPolicy") => api::networking::v1::NetworkPolicy,
        ("networking.k8s.io", "v1", "ServiceCIDR") => api::networking::v1::ServiceCIDR,
        ("node.k8s.io", "v1", "RuntimeClass") => api::node::v1::RuntimeClass,
        ("policy", "v1", "Eviction") => api::policy::v1::Eviction,
        ("policy", "v1", "PodDisruptionBudget") => api::policy::v1::PodDisruptionBudget,
        ("rbac.authorization.k8s.io", "v1", "ClusterRole") => api::rbac::v1::ClusterRole,
        ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding") => api::rbac::v1::ClusterRoleBinding,
        ("rbac.authorization.k8s.io", "v1", "Role") => api::rbac::v1::Role,
        ("rbac.authorization.k8s.io", "v1", "RoleBinding") => api::rbac::v1::RoleBinding,
        ("scheduling.k8s.io", "v1", "PriorityClass") => api::scheduling::v1::PriorityClass,
        ("storage.k8s.io", "v1", "CSIDriver") => api::storage::v1::CSIDriver,
        ("storage.k8s.io", "v1", "CSINode") => api::storage::v1::CSINode,
        ("storage.k8s.io", "v1", "CSIStorageCapacity") => api::storage::v1::CSIStorageCapacity,
        ("storage.k8s.io", "v1", "StorageClass") => api::storage::v1::StorageClass,
        ("storage.k8s.io", "v1", "VolumeAttachment") => api::storage::v1::VolumeAttachment,
    }
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
