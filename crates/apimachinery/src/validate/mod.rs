//! Validation of built-in kinds with upstream's field paths and messages
//! (kube-apiserver's `pkg/apis/*/validation`). `validate` is run on every write of an
//! object after defaulting; `validate_update` adds the rules upstream only applies to
//! updates (immutable fields).

mod apps;
mod batch;
mod core;
pub mod meta;
mod networking;
mod other;
mod pod;
mod rbac;
mod storage;
pub mod util;

#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::status::Cause;

pub use batch::parse_schedule;

/// Validates `obj` of `kind`; returns the causes of an `Invalid` error.
pub fn validate(kind: &str, obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    meta::object_meta(kind, obj, &mut causes);
    let c = &mut causes;
    match kind {
        "Pod" => pod::pod_spec(obj.get("spec"), "spec", c),
        "PodTemplate" => core::pod_template(obj, c),
        "Deployment" => apps::deployment(obj, c),
        "ReplicaSet" => apps::replica_set(obj, c),
        "StatefulSet" => apps::stateful_set(obj, c),
        "DaemonSet" => apps::daemon_set(obj, c),
        "ReplicationController" => apps::replication_controller(obj, c),
        "Job" => batch::job(obj, c),
        "CronJob" => batch::cron_job(obj, c),
        "Service" => core::service(obj, c),
        "ConfigMap" => core::config_map(obj, c),
        "Secret" => core::secret(obj, c),
        "Namespace" => core::namespace(obj, c),
        "Node" => core::node(obj, c),
        "PersistentVolume" => core::persistent_volume(obj, c),
        "PersistentVolumeClaim" => core::persistent_volume_claim(obj, c),
        "LimitRange" => core::limit_range(obj, c),
        "ResourceQuota" => core::resource_quota(obj, c),
        "Event" => core::event(obj, c),
        "Endpoints" => core::endpoints(obj, c),
        "ServiceAccount" => other::service_account(obj, c),
        "Ingress" => networking::ingress(obj, c),
        "IngressClass" => networking::ingress_class(obj, c),
        "NetworkPolicy" => networking::network_policy(obj, c),
        "Role" => rbac::role(obj, true, c),
        "ClusterRole" => rbac::role(obj, false, c),
        "RoleBinding" => rbac::binding(obj, false, c),
        "ClusterRoleBinding" => rbac::binding(obj, true, c),
        "StorageClass" => storage::storage_class(obj, c),
        "HorizontalPodAutoscaler" => other::horizontal_pod_autoscaler(obj, c),
        "PodDisruptionBudget" => other::pod_disruption_budget(obj, c),
        "PriorityClass" => other::priority_class(obj, c),
        "Lease" => other::lease(obj, c),
        "EndpointSlice" => other::endpoint_slice(obj, c),
        "CustomResourceDefinition" => c.extend(crate::crd::definition::validate(obj)),
        _ => {}
    }
    causes
}

/// Validates an update of `old` to `new`: everything `validate` checks on `new`, plus
/// upstream's update-only rules (identity metadata, immutable fields). For Pods this is
/// the rule for the main resource; /status and /binding writes should use `validate`.
pub fn validate_update(kind: &str, new: &Value, old: &Value) -> Vec<Cause> {
    let mut causes = validate(kind, new);
    let c = &mut causes;
    meta::object_meta_update(new, old, c);
    match kind {
        "Pod" => pod::pod_update(new, old, c),
        "Deployment" | "ReplicaSet" | "DaemonSet" => apps::selector_immutable(new, old, c),
        "StatefulSet" => {
            apps::selector_immutable(new, old, c);
            apps::stateful_set_update(new, old, c);
        }
        "Job" => batch::job_update(new, old, c),
        "Service" => core::service_update(new, old, c),
        "ConfigMap" | "Secret" => core::immutable_data_update(kind, new, old, c),
        "Node" => core::node_update(new, old, c),
        "PersistentVolume" => core::persistent_volume_update(new, old, c),
        "PersistentVolumeClaim" => core::persistent_volume_claim_update(new, old, c),
        "RoleBinding" | "ClusterRoleBinding" => rbac::binding_update(new, old, c),
        "StorageClass" => storage::storage_class_update(new, old, c),
        "PriorityClass" => other::priority_class_update(new, old, c),
        "EndpointSlice" => other::endpoint_slice_update(new, old, c),
        "CustomResourceDefinition" => {
            c.extend(crate::crd::definition::validate_update_only(new, old))
        }
        _ => {}
    }
    causes
}
