//! What kube-apiserver creates by itself at start: the system namespaces, the `kubernetes`
//! Service with its Endpoints and EndpointSlice pointing at the API server, and the
//! namespaces' default ServiceAccounts.

use std::net::IpAddr;
use std::sync::Arc;

use apimachinery::registry::{self, ResourceInfo};
use serde_json::{Value, json};

use crate::ApiServer;
use crate::rest::{create_object, guaranteed_update};

pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

fn info(group: &str, plural: &str) -> Option<&'static ResourceInfo> {
    let version = "v1";
    registry::lookup(group, version, plural)
}

/// Creates the object, or replaces its spec-like content when it already exists.
async fn ensure(
    api: &ApiServer,
    info: &'static ResourceInfo,
    ns: Option<&str>,
    obj: Value,
    overwrite: &[&str],
) {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match create_object(api, info, ns, obj.clone(), false).await {
        Ok(_) => {}
        Err(e) if e.code == 409 => {
            if overwrite.is_empty() {
                return;
            }
            let res = guaranteed_update(api, info, ns, &name, None, false, |cur| {
                let mut next = cur.clone();
                for key in overwrite {
                    if let Some(v) = obj.get(*key) {
                        next[*key] = v.clone();
                    }
                }
                Ok(next)
            })
            .await;
            if let Err(e) = res {
                tracing::warn!(%e, name, "could not update bootstrap object");
            }
        }
        Err(e) => tracing::warn!(%e, name, "could not create bootstrap object"),
    }
}

pub async fn run(api: &Arc<ApiServer>) {
    let (Some(namespaces), Some(services), Some(endpoints), Some(slices), Some(sas)) = (
        info("", "namespaces"),
        info("", "services"),
        info("", "endpoints"),
        info("discovery.k8s.io", "endpointslices"),
        info("", "serviceaccounts"),
    ) else {
        tracing::error!("registry lacks bootstrap resources");
        return;
    };
    for ns in SYSTEM_NAMESPACES {
        ensure(
            api,
            namespaces,
            None,
            json!({"metadata": {"name": ns}}),
            &[],
        )
        .await;
        ensure(
            api,
            sas,
            Some(ns),
            json!({"metadata": {"name": "default"}}),
            &[],
        )
        .await;
    }
    let cfg = api.config();
    let cluster_ip = first_service_ip(cfg.service_cidr);
    let port = cfg.secure_port;
    let address = cfg.advertise_address.to_string();
    ensure(
        api,
        services,
        Some("default"),
        json!({
            "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": cluster_ip.to_string(),
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
                "sessionAffinity": "None"},
        }),
        &["spec"],
    )
    .await;
    ensure(
        api,
        endpoints,
        Some("default"),
        json!({
            "metadata": {"name": "kubernetes", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": address}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}],
        }),
        &["subsets"],
    )
    .await;
    ensure(
        api,
        slices,
        Some("default"),
        json!({
            "metadata": {"name": "kubernetes", "labels": {"kubernetes.io/service-name": "kubernetes"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [address], "conditions": {"ready": true}}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
        }),
        &["endpoints", "ports"],
    )
    .await;
}

/// The first usable address of the service range (10.43.0.1 for 10.43.0.0/16).
pub fn first_service_ip(cidr: ipnet::IpNet) -> IpAddr {
    match cidr {
        ipnet::IpNet::V4(n) => IpAddr::V4(std::net::Ipv4Addr::from(u32::from(n.network()) + 1)),
        ipnet::IpNet::V6(n) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(n.network()) + 1)),
    }
}
