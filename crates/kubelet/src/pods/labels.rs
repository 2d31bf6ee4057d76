//! Label and annotation keys the kubelet puts on CRI sandboxes and containers (upstream's
//! names, so `crictl` output looks familiar and the kubelet can find its pods again).

pub const POD_NAME: &str = "io.kubernetes.pod.name";
pub const POD_NAMESPACE: &str = "io.kubernetes.pod.namespace";
pub const POD_UID: &str = "io.kubernetes.pod.uid";
pub const CONTAINER_NAME: &str = "io.kubernetes.container.name";
pub const CONTAINER_RESTART_COUNT: &str = "io.kubernetes.container.restartCount";
pub const CONTAINER_TERMINATION_MESSAGE_PATH: &str =
    "io.kubernetes.container.terminationMessagePath";
pub const POD_TERMINATION_GRACE_PERIOD: &str = "io.kubernetes.pod.terminationGracePeriod";
/// Marks the sandboxes this kubelet created, so cleanup never touches foreign ones.
pub const MANAGED_BY: &str = "io.k8rs.managed";
