//! The controller-manager: one module per controller, each an ordinary API client built on
//! `kube::runtime` controllers and reflectors.

mod deployment;
mod discovery;
mod endpoints;
mod garbagecollector;
mod hash;
mod namespace;
mod nodeipam;
mod podutil;
mod replicaset;
mod rootcacert;
mod runtime;
mod selector;
mod serviceaccount;
mod servicelb;
mod time;

use tokio_util::sync::CancellationToken;

pub use hash::pod_template_hash;

/// Settings of the controller-manager that differ between clusters.
#[derive(Clone, Debug)]
pub struct ControllersConfig {
    /// The pod network, e.g. 10.42.0.0/16; node IPAM carves node ranges out of it.
    pub cluster_cidr: ipnet::IpNet,
    /// Prefix length of each node's range, e.g. 24.
    pub node_cidr_mask: u8,
    /// The cluster CA bundle (PEM) that the root CA publisher puts into every namespace's
    /// `kube-root-ca.crt` ConfigMap; `None` disables the publisher.
    pub root_ca_pem: Option<String>,
}

impl Default for ControllersConfig {
    fn default() -> Self {
        ControllersConfig {
            cluster_cidr: ipnet::IpNet::V4(
                ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(10, 42, 0, 0), 16).unwrap_or_default(),
            ),
            node_cidr_mask: 24,
            root_ca_pem: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("serialization: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Other(String),
}

/// Runs every controller until `shutdown` is cancelled.
pub async fn run(
    client: kube::Client,
    config: ControllersConfig,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    let results = tokio::join!(
        deployment::run(client.clone(), shutdown.clone()),
        replicaset::run(client.clone(), shutdown.clone()),
        endpoints::run(client.clone(), shutdown.clone()),
        garbagecollector::run(client.clone(), shutdown.clone()),
        nodeipam::run(client.clone(), config.clone(), shutdown.clone()),
        servicelb::run(client.clone(), shutdown.clone()),
        namespace::run(client.clone(), shutdown.clone()),
        serviceaccount::run(client.clone(), shutdown.clone()),
        async {
            match config.root_ca_pem.clone() {
                Some(pem) => rootcacert::run(client.clone(), pem, shutdown.clone()).await,
                None => Ok(()),
            }
        },
    );
    let (a, b, c, d, e, f, g, h, i) = results;
    a.and(b).and(c).and(d).and(e).and(f).and(g).and(h).and(i)
}
