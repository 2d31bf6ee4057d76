//! Node registration, status heartbeats and the node Lease.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{
    DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeStatus,
    NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use tokio_util::sync::CancellationToken;

use crate::{Error, KUBELET_VERSION, KubeletConfig, sysinfo};

const LEASE_NAMESPACE: &str = "kube-node-lease";
const LEASE_DURATION_SECONDS: i32 = 40;
const HEARTBEAT: Duration = Duration::from_secs(10);

pub fn labels(node_name: &str) -> BTreeMap<String, String> {
    [
        ("kubernetes.io/hostname", node_name),
        ("kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/os", "linux"),
        ("beta.kubernetes.io/arch", "amd64"),
        ("node-role.kubernetes.io/control-plane", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Creates the Node or updates its labels, then posts its first status.
pub async fn register(
    client: &kube::Client,
    config: &KubeletConfig,
    runtime_version: &str,
) -> Result<(), Error> {
    let nodes: Api<Node> = Api::all(client.clone());
    let started = Timestamp::now();
    match nodes.get_opt(&config.node_name).await? {
        None => {
            let node = Node {
                metadata: ObjectMeta {
                    name: Some(config.node_name.clone()),
                    labels: Some(labels(&config.node_name)),
                    annotations: Some(BTreeMap::from([(
                        "volumes.kubernetes.io/controller-managed-attach-detach".to_string(),
                        "true".to_string(),
                    )])),
                    ..Default::default()
                },
                ..Default::default()
            };
            match nodes.create(&PostParams::default(), &node).await {
                Ok(_) => tracing::info!(node = %config.node_name, "registered node"),
                Err(kube::Error::Api(e)) if e.code == 409 => {}
                Err(e) => return Err(e.into()),
            }
        }
        Some(_) => {
            let patch = serde_json::json!({ "metadata": { "labels": labels(&config.node_name) } });
            nodes
                .patch(
                    &config.node_name,
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await?;
        }
    }
    let status = node_status(config, runtime_version, started, Timestamp::now());
    nodes
        .patch_status(
            &config.node_name,
            &PatchParams::default(),
            &Patch::Merge(&serde_json::json!({ "status": status })),
        )
        .await?;
    Ok(())
}

/// Every 10 s: node status with fresh heartbeat times, and the Lease renewal.
pub async fn heartbeat(
    client: kube::Client,
    config: KubeletConfig,
    runtime_version: String,
    shutdown: CancellationToken,
) {
    let nodes: Api<Node> = Api::all(client.clone());
    let leases: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
    let started = Timestamp::now();
    loop {
        if let Err(err) = renew_lease(&nodes, &leases, &config.node_name).await {
            tracing::warn!(%err, "could not renew node lease");
        }
        let status = node_status(&config, &runtime_version, started, Timestamp::now());
        let patch = serde_json::json!({ "status": status });
        if let Err(err) = nodes
            .patch_status(
                &config.node_name,
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
        {
            tracing::warn!(%err, "could not update node status");
            // The Node may have been deleted: register it again.
            if matches!(&err, kube::Error::Api(e) if e.code == 404)
                && let Err(err) = register(&client, &config, &runtime_version).await
            {
                tracing::warn!(%err, "could not re-register node");
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(HEARTBEAT) => {}
        }
    }
}

async fn renew_lease(
    nodes: &Api<Node>,
    leases: &Api<Lease>,
    node_name: &str,
) -> Result<(), kube::Error> {
    let now = MicroTime(Timestamp::now());
    match leases.get_opt(node_name).await? {
        Some(mut lease) => {
            let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
            spec.holder_identity = Some(node_name.to_string());
            spec.lease_duration_seconds = Some(LEASE_DURATION_SECONDS);
            spec.renew_time = Some(now);
            leases
                .replace(node_name, &PostParams::default(), &lease)
                .await?;
        }
        None => {
            let node = nodes.get(node_name).await?;
            let owner = OwnerReference {
                api_version: "v1".to_string(),
                kind: "Node".to_string(),
                name: node_name.to_string(),
                uid: node.metadata.uid.unwrap_or_default(),
                ..Default::default()
            };
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(node_name.to_string()),
                    namespace: Some(LEASE_NAMESPACE.to_string()),
                    owner_references: Some(vec![owner]),
                    ..Default::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(node_name.to_string()),
                    lease_duration_seconds: Some(LEASE_DURATION_SECONDS),
                    renew_time: Some(now),
                    ..Default::default()
                }),
            };
            leases.create(&PostParams::default(), &lease).await?;
        }
    }
    Ok(())
}

/// Polls until the node-ipam controller has set `spec.podCIDR`.
pub async fn wait_for_pod_cidr(client: &kube::Client, node_name: &str) -> String {
    let nodes: Api<Node> = Api::all(client.clone());
    loop {
        match nodes.get_opt(node_name).await {
            Ok(Some(node)) => {
                if let Some(cidr) = node.spec.and_then(|s| s.pod_cidr).filter(|c| !c.is_empty()) {
                    return cidr;
                }
            }
            Ok(None) => {}
            Err(err) => tracing::debug!(%err, "waiting for pod CIDR"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The full Node status this kubelet reports. `transition` is when the conditions last
/// changed (they only change when the kubelet starts).
pub fn node_status(
    config: &KubeletConfig,
    runtime_version: &str,
    transition: Timestamp,
    now: Timestamp,
) -> NodeStatus {
    let memory_kib = sysinfo::memory_kib();
    let storage = sysinfo::filesystem_bytes(&config.data_dir);
    let capacity: BTreeMap<String, Quantity> = [
        ("cpu", sysinfo::cpu_count().to_string()),
        ("memory", format!("{memory_kib}Ki")),
        ("pods", "110".to_string()),
        ("ephemeral-storage", storage.to_string()),
        ("hugepages-2Mi", "0".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), Quantity(v)))
    .collect();
    let condition = |type_: &str, status: &str, reason: &str, message: &str| NodeCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        last_heartbeat_time: Some(Time(now)),
        last_transition_time: Some(Time(transition)),
    };
    NodeStatus {
        allocatable: Some(capacity.clone()),
        capacity: Some(capacity),
        addresses: Some(vec![
            NodeAddress {
                type_: "InternalIP".to_string(),
                address: config.node_ip.to_string(),
            },
            NodeAddress {
                type_: "Hostname".to_string(),
                address: config.node_name.clone(),
            },
        ]),
        conditions: Some(vec![
            condition(
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            condition(
                "DiskPressure",
                "False",
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
            ),
            condition(
                "PIDPressure",
                "False",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
            condition(
                "Ready",
                "True",
                "KubeletReady",
                "kubelet is posting ready status",
            ),
        ]),
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(DaemonEndpoint {
                port: i32::from(config.port),
            }),
        }),
        node_info: Some(NodeSystemInfo {
            architecture: "amd64".to_string(),
            boot_id: sysinfo::read_trimmed("/proc/sys/kernel/random/boot_id"),
            container_runtime_version: runtime_version.to_string(),
            kernel_version: sysinfo::kernel_version(),
            kube_proxy_version: KUBELET_VERSION.to_string(),
            kubelet_version: KUBELET_VERSION.to_string(),
            machine_id: sysinfo::read_trimmed("/etc/machine-id"),
            operating_system: "linux".to_string(),
            os_image: sysinfo::os_image(),
            system_uuid: sysinfo::read_trimmed("/sys/class/dmi/id/product_uuid"),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> KubeletConfig {
        KubeletConfig {
            node_name: "n1".into(),
            node_ip: "127.0.0.1".parse().unwrap(),
            data_dir: "/".into(),
            runtime_endpoint: "/x.sock".into(),
            port: 10250,
            serving_cert_pem: String::new(),
            serving_key_pem: String::new(),
            client_ca_pem: String::new(),
            cluster_dns: "10.43.0.10".parse().unwrap(),
            cluster_domain: "cluster.local".into(),
        }
    }

    #[test]
    fn status_reports_ready_capacity_and_versions() {
        let now = Timestamp::now();
        let s = node_status(&config(), "containerd://1.6.20", now, now);
        let ready = s
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(ready.status, "True");
        assert_eq!(ready.reason.as_deref(), Some("KubeletReady"));
        let cap = s.capacity.unwrap();
        assert_eq!(cap["pods"].0, "110");
        assert!(cap["memory"].0.ends_with("Ki"));
        let info = s.node_info.unwrap();
        assert_eq!(info.kubelet_version, "v1.33.0-k8rs");
        assert_eq!(info.container_runtime_version, "containerd://1.6.20");
        assert_eq!(
            s.daemon_endpoints.unwrap().kubelet_endpoint.unwrap().port,
            10250
        );
        assert_eq!(s.addresses.unwrap()[0].address, "127.0.0.1");
    }

    #[test]
    fn labels_mark_control_plane_linux_amd64() {
        let l = labels("n1");
        assert_eq!(l["kubernetes.io/hostname"], "n1");
        assert_eq!(l["node-role.kubernetes.io/control-plane"], "true");
    }
}
