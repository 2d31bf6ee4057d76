//! Node IPAM: gives each Node without `spec.podCIDR` the next free range of the cluster CIDR.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipnet::IpNet;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use tokio_util::sync::CancellationToken;

use crate::runtime::drain;
use crate::{ControllersConfig, Error};

/// The first `/mask` range of `cluster` that overlaps none of `used`.
pub fn allocate(cluster: IpNet, mask: u8, used: &[IpNet]) -> Option<IpNet> {
    let mut subnets = cluster.subnets(mask).ok()?;
    subnets.find(|candidate| {
        !used
            .iter()
            .any(|u| u.contains(&candidate.network()) || candidate.contains(&u.network()))
    })
}

struct Ctx {
    client: kube::Client,
    config: ControllersConfig,
    nodes: Store<Node>,
    /// Allocations made by this process that the cache may not show yet.
    recent: Mutex<HashMap<String, IpNet>>,
}

pub async fn run(
    client: kube::Client,
    config: ControllersConfig,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    let controller = Controller::new(Api::<Node>::all(client.clone()), watcher::Config::default());
    let ctx = Arc::new(Ctx {
        client,
        config,
        nodes: controller.store(),
        recent: Mutex::new(HashMap::new()),
    });
    let controller = controller
        .graceful_shutdown_on(shutdown.cancelled_owned())
        .run(
            reconcile,
            |_, _, _| Action::requeue(Duration::from_secs(2)),
            ctx,
        );
    drain("nodeipam", controller).await;
    Ok(())
}

fn pod_cidrs(node: &Node) -> Vec<IpNet> {
    let spec = node.spec.as_ref();
    let mut out: Vec<IpNet> = spec
        .and_then(|s| s.pod_cidrs.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|c| c.parse().ok())
        .collect();
    if let Some(c) = spec
        .and_then(|s| s.pod_cidr.as_ref())
        .and_then(|c| c.parse().ok())
    {
        out.push(c);
    }
    out
}

async fn reconcile(node: Arc<Node>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let name = node.metadata.name.clone().unwrap_or_default();
    if !pod_cidrs(&node).is_empty() {
        return Ok(Action::await_change());
    }
    let cidr = {
        let mut recent = ctx
            .recent
            .lock()
            .map_err(|_| Error::Other("ipam lock poisoned".into()))?;
        if let Some(existing) = recent.get(&name) {
            *existing
        } else {
            let mut used: Vec<IpNet> = ctx
                .nodes
                .state()
                .iter()
                .flat_map(|n| pod_cidrs(n))
                .collect();
            used.extend(recent.values().copied());
            let cidr = allocate(ctx.config.cluster_cidr, ctx.config.node_cidr_mask, &used)
                .ok_or_else(|| Error::Other(format!("no free pod CIDR for node {name}")))?;
            recent.insert(name.clone(), cidr);
            cidr
        }
    };
    let patch =
        serde_json::json!({"spec": {"podCIDR": cidr.to_string(), "podCIDRs": [cidr.to_string()]}});
    Api::<Node>::all(ctx.client.clone())
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap_or_else(|_| IpNet::default())
    }

    #[test]
    fn first_node_gets_first_range_then_next_free() {
        let cluster = net("10.42.0.0/16");
        assert_eq!(allocate(cluster, 24, &[]), Some(net("10.42.0.0/24")));
        assert_eq!(
            allocate(cluster, 24, &[net("10.42.0.0/24")]),
            Some(net("10.42.1.0/24"))
        );
        assert_eq!(
            allocate(cluster, 24, &[net("10.42.1.0/24")]),
            Some(net("10.42.0.0/24"))
        );
        let all: Vec<IpNet> = cluster.subnets(24).map(|s| s.collect()).unwrap_or_default();
        assert_eq!(allocate(cluster, 24, &all), None);
    }
}
