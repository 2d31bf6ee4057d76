//! The k8rs node agent: supervises containerd, registers the Node, keeps its status and
//! Lease fresh, runs the pods bound to it through CRI, and serves the kubelet API.

pub mod containerd;
pub mod cri;
pub mod events;
pub mod logs;
pub mod network;
pub mod node;
pub mod pods;
pub mod registries;
pub mod server;
mod sysinfo;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;

pub use containerd::{Containerd, ContainerdConfig};

/// The version the node reports (`kubectl get nodes` VERSION column).
pub const KUBELET_VERSION: &str = "v1.33.0-k8rs";

#[derive(Clone, Debug)]
pub struct KubeletConfig {
    pub node_name: String,
    pub node_ip: IpAddr,
    /// `<data-dir>/agent`.
    pub data_dir: PathBuf,
    /// CRI unix socket.
    pub runtime_endpoint: PathBuf,
    /// Kubelet API port (10250).
    pub port: u16,
    pub serving_cert_pem: String,
    pub serving_key_pem: String,
    /// CA that signs the API server's kubelet-client certificate.
    pub client_ca_pem: String,
    pub cluster_dns: IpAddr,
    pub cluster_domain: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Cri(#[from] cri::CriError),
    #[error(transparent)]
    Kube(#[from] kube::Error),
    #[error("container runtime: {0}")]
    Runtime(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("tls: {0}")]
    Tls(String),
}

impl Error {
    pub(crate) fn io(path: impl AsRef<Path>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

/// Runs the node agent until `shutdown` is cancelled; then stops and removes every pod
/// sandbox it runs (the pod objects stay, so a restart recreates them).
pub async fn run(
    client: kube::Client,
    config: KubeletConfig,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    let mut cri = cri::CriClient::connect(&config.runtime_endpoint).await?;
    let version = cri.version().await?;
    let runtime_version = format!("{}://{}", version.runtime_name, version.runtime_version);

    node::register(&client, &config, &runtime_version).await?;
    let heartbeat = tokio::spawn(node::heartbeat(
        client.clone(),
        config.clone(),
        runtime_version,
        shutdown.clone(),
    ));
    let api = tokio::spawn(server::serve(config.clone(), shutdown.clone()));

    let pod_cidr = tokio::select! {
        _ = shutdown.cancelled() => None,
        cidr = node::wait_for_pod_cidr(&client, &config.node_name) => Some(cidr),
    };
    let result = match pod_cidr {
        Some(cidr) => {
            network::write_cni_config(&config.data_dir, &cidr).await?;
            network::enable_ip_forward().await;
            pods::run(client.clone(), cri, config.clone(), shutdown.clone()).await
        }
        None => Ok(()),
    };
    let _ = heartbeat.await;
    match api.await {
        Ok(Err(err)) => tracing::error!(%err, "kubelet API server failed"),
        Err(err) => tracing::error!(%err, "kubelet API server panicked"),
        Ok(Ok(())) => {}
    }
    result
}
