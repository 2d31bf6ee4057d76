//! The built-in kinds with their k8s-openapi types, listed once: typed decoding
//! ([`crate::typed`]) and the OpenAPI documents ([`crate::openapi`]) both expand it.

pub(crate) use k8s_openapi::api;
pub(crate) use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;

/// Calls `$m! { ("group", "version", "Kind") => Type, ... }` with every served built-in
/// kind (group, served version, kind, k8s-openapi type).
macro_rules! with_builtin_kinds {
    ($m:ident) => {
        $m! {
            ("", "v1", "Binding") => $crate::kinds::api::core::v1::Binding,
            ("", "v1", "ComponentStatus") => $crate::kinds::api::core::v1::ComponentStatus,
            ("", "v1", "ConfigMap") => $crate::kinds::api::core::v1::ConfigMap,
            ("", "v1", "Endpoints") => $crate::kinds::api::core::v1::Endpoints,
            ("", "v1", "Event") => $crate::kinds::api::core::v1::Event,
            ("", "v1", "LimitRange") => $crate::kinds::api::core::v1::LimitRange,
            ("", "v1", "Namespace") => $crate::kinds::api::core::v1::Namespace,
            ("", "v1", "Node") => $crate::kinds::api::core::v1::Node,
            ("", "v1", "PersistentVolume") => $crate::kinds::api::core::v1::PersistentVolume,
            ("", "v1", "PersistentVolumeClaim") => $crate::kinds::api::core::v1::PersistentVolumeClaim,
            ("", "v1", "Pod") => $crate::kinds::api::core::v1::Pod,
            ("", "v1", "PodTemplate") => $crate::kinds::api::core::v1::PodTemplate,
            ("", "v1", "ReplicationController") => $crate::kinds::api::core::v1::ReplicationController,
            ("", "v1", "ResourceQuota") => $crate::kinds::api::core::v1::ResourceQuota,
            ("", "v1", "Secret") => $crate::kinds::api::core::v1::Secret,
            ("", "v1", "Service") => $crate::kinds::api::core::v1::Service,
            ("", "v1", "ServiceAccount") => $crate::kinds::api::core::v1::ServiceAccount,
            ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration") => $crate::kinds::api::admissionregistration::v1::MutatingWebhookConfiguration,
            ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy") => $crate::kinds::api::admissionregistration::v1::ValidatingAdmissionPolicy,
            ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding") => $crate::kinds::api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
            ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration") => $crate::kinds::api::admissionregistration::v1::ValidatingWebhookConfiguration,
            ("apiextensions.k8s.io", "v1", "CustomResourceDefinition") => $crate::kinds::apiextensions::CustomResourceDefinition,
            ("apps", "v1", "ControllerRevision") => $crate::kinds::api::apps::v1::ControllerRevision,
            ("apps", "v1", "DaemonSet") => $crate::kinds::api::apps::v1::DaemonSet,
            ("apps", "v1", "Deployment") => $crate::kinds::api::apps::v1::Deployment,
            ("apps", "v1", "ReplicaSet") => $crate::kinds::api::apps::v1::ReplicaSet,
            ("apps", "v1", "StatefulSet") => $crate::kinds::api::apps::v1::StatefulSet,
            ("authentication.k8s.io", "v1", "SelfSubjectReview") => $crate::kinds::api::authentication::v1::SelfSubjectReview,
            ("authentication.k8s.io", "v1", "TokenRequest") => $crate::kinds::api::authentication::v1::TokenRequest,
            ("authentication.k8s.io", "v1", "TokenReview") => $crate::kinds::api::authentication::v1::TokenReview,
            ("authorization.k8s.io", "v1", "LocalSubjectAccessReview") => $crate::kinds::api::authorization::v1::LocalSubjectAccessReview,
            ("authorization.k8s.io", "v1", "SelfSubjectAccessReview") => $crate::kinds::api::authorization::v1::SelfSubjectAccessReview,
            ("authorization.k8s.io", "v1", "SelfSubjectRulesReview") => $crate::kinds::api::authorization::v1::SelfSubjectRulesReview,
            ("authorization.k8s.io", "v1", "SubjectAccessReview") => $crate::kinds::api::authorization::v1::SubjectAccessReview,
            ("autoscaling", "v1", "HorizontalPodAutoscaler") => $crate::kinds::api::autoscaling::v1::HorizontalPodAutoscaler,
            ("autoscaling", "v1", "Scale") => $crate::kinds::api::autoscaling::v1::Scale,
            ("autoscaling", "v2", "HorizontalPodAutoscaler") => $crate::kinds::api::autoscaling::v2::HorizontalPodAutoscaler,
            ("batch", "v1", "CronJob") => $crate::kinds::api::batch::v1::CronJob,
            ("batch", "v1", "Job") => $crate::kinds::api::batch::v1::Job,
            ("certificates.k8s.io", "v1", "CertificateSigningRequest") => $crate::kinds::api::certificates::v1::CertificateSigningRequest,
            ("coordination.k8s.io", "v1", "Lease") => $crate::kinds::api::coordination::v1::Lease,
            ("discovery.k8s.io", "v1", "EndpointSlice") => $crate::kinds::api::discovery::v1::EndpointSlice,
            ("events.k8s.io", "v1", "Event") => $crate::kinds::api::events::v1::Event,
            ("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema") => $crate::kinds::api::flowcontrol::v1::FlowSchema,
            ("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration") => $crate::kinds::api::flowcontrol::v1::PriorityLevelConfiguration,
            ("networking.k8s.io", "v1", "IPAddress") => $crate::kinds::api::networking::v1::IPAddress,
            ("networking.k8s.io", "v1", "Ingress") => $crate::kinds::api::networking::v1::Ingress,
            ("networking.k8s.io", "v1", "IngressClass") => $crate::kinds::api::networking::v1::IngressClass,
            ("networking.k8s.io", "v1", "NetworkPolicy") => $crate::kinds::api::networking::v1::NetworkPolicy,
            ("networking.k8s.io", "v1", "ServiceCIDR") => $crate::kinds::api::networking::v1::ServiceCIDR,
            ("node.k8s.io", "v1", "RuntimeClass") => $crate::kinds::api::node::v1::RuntimeClass,
            ("policy", "v1", "Eviction") => $crate::kinds::api::policy::v1::Eviction,
            ("policy", "v1", "PodDisruptionBudget") => $crate::kinds::api::policy::v1::PodDisruptionBudget,
            ("rbac.authorization.k8s.io", "v1", "ClusterRole") => $crate::kinds::api::rbac::v1::ClusterRole,
            ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding") => $crate::kinds::api::rbac::v1::ClusterRoleBinding,
            ("rbac.authorization.k8s.io", "v1", "Role") => $crate::kinds::api::rbac::v1::Role,
            ("rbac.authorization.k8s.io", "v1", "RoleBinding") => $crate::kinds::api::rbac::v1::RoleBinding,
            ("scheduling.k8s.io", "v1", "PriorityClass") => $crate::kinds::api::scheduling::v1::PriorityClass,
            ("storage.k8s.io", "v1", "CSIDriver") => $crate::kinds::api::storage::v1::CSIDriver,
            ("storage.k8s.io", "v1", "CSINode") => $crate::kinds::api::storage::v1::CSINode,
            ("storage.k8s.io", "v1", "CSIStorageCapacity") => $crate::kinds::api::storage::v1::CSIStorageCapacity,
            ("storage.k8s.io", "v1", "StorageClass") => $crate::kinds::api::storage::v1::StorageClass,
            ("storage.k8s.io", "v1", "VolumeAttachment") => $crate::kinds::api::storage::v1::VolumeAttachment,
        }
    };
}
pub(crate) use with_builtin_kinds;
