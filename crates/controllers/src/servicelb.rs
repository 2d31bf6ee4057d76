//! ServiceLB (as k3s's, without svclb pods): a LoadBalancer Service gets the InternalIPs of the
//! Ready nodes as its ingress; the service proxy answers on them.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{LoadBalancerIngress, Node, Service};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::runtime::{drain, spawn_reflector};

struct Ctx {
    client: kube::Client,
    nodes: Store<Node>,
}

/// The ingress list for LoadBalancer Services: one VIP per Ready node's InternalIP.
pub fn ingress_for(nodes: &[&Node]) -> Vec<LoadBalancerIngress> {
    let mut ips: Vec<String> = nodes
        .iter()
        .filter(|n| {
            n.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .filter_map(|n| {
            n.status
                .as_ref()?
                .addresses
                .as_ref()?
                .iter()
                .find(|a| a.type_ == "InternalIP")
                .map(|a| a.address.clone())
        })
        .collect();
    ips.sort();
    ips.dedup();
    ips.into_iter()
        .map(|ip| LoadBalancerIngress {
            ip: Some(ip),
            ip_mode: Some("VIP".into()),
            ..Default::default()
        })
        .collect()
}

pub async fn run(client: kube::Client, shutdown: CancellationToken) -> Result<(), Error> {
    let nodes = spawn_reflector(Api::<Node>::all(client.clone()), shutdown.clone());
    if !crate::runtime::ready(&nodes, &shutdown).await {
        return Ok(());
    }
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        nodes,
    });
    let controller = Controller::new(
        Api::<Service>::all(client.clone()),
        watcher::Config::default(),
    );
    let services = controller.store();
    let controller = controller
        .watches(
            Api::<Node>::all(client),
            watcher::Config::default(),
            move |_node: Node| {
                services
                    .state()
                    .iter()
                    .map(|s| ObjectRef::from_obj(s.as_ref()))
                    .collect::<Vec<_>>()
            },
        )
        .graceful_shutdown_on(shutdown.cancelled_owned())
        .run(
            reconcile,
            |_, _, _| Action::requeue(Duration::from_secs(2)),
            ctx,
        );
    drain("servicelb", controller).await;
    Ok(())
}

async fn reconcile(svc: Arc<Service>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let is_lb = svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer");
    let current = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.clone());
    let nodes = ctx.nodes.state();
    let desired = if is_lb {
        Some(ingress_for(
            &nodes.iter().map(|n| n.as_ref()).collect::<Vec<_>>(),
        ))
    } else {
        None
    };
    let desired = desired.filter(|d| !d.is_empty());
    if current == desired {
        return Ok(Action::await_change());
    }
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let patch = serde_json::json!({"status": {"loadBalancer": {"ingress": desired}}});
    Api::<Service>::namespaced(ctx.client.clone(), &ns)
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeAddress, NodeCondition, NodeStatus};

    fn node(ip: &str, ready: bool) -> Node {
        Node {
            status: Some(NodeStatus {
                addresses: Some(vec![NodeAddress {
                    type_: "InternalIP".into(),
                    address: ip.into(),
                }]),
                conditions: Some(vec![NodeCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn only_ready_nodes() {
        let a = node("192.0.2.1", true);
        let b = node("192.0.2.2", false);
        let ingress = ingress_for(&[&a, &b]);
        assert_eq!(ingress.len(), 1);
        assert_eq!(ingress[0].ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(ingress[0].ip_mode.as_deref(), Some("VIP"));
    }
}
