//! A pure, sorted snapshot of what the data plane must implement.
//!
//! `build` turns the Services and EndpointSlices seen by the reflectors into one
//! `ServicePort` entry per (service, port). Everything is sorted and de-duplicated so
//! rendering the same cluster state always gives byte-identical rules (which lets the
//! run loop skip no-op syncs and lets tests compare strings).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv4Addr;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::{Endpoint as SliceEndpoint, EndpointSlice};

/// Label linking an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// Services carrying this label are handled by another proxy (kube-proxy skips them too).
pub const SERVICE_PROXY_NAME_LABEL: &str = "service.kubernetes.io/service-proxy-name";
/// Default ClientIP affinity timeout (3 hours), as in the Service API defaults.
pub const DEFAULT_AFFINITY_TIMEOUT_SECONDS: u32 = 10800;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// Parses a Kubernetes protocol string; a missing protocol means TCP.
    pub fn parse(s: Option<&str>) -> Option<Protocol> {
        match s.unwrap_or("TCP") {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// The nft keyword for this protocol.
    pub fn nft(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.nft())
    }
}

/// One backend of a service port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    pub ip: Ipv4Addr,
    pub port: u16,
}

/// One port of one Service, with everything needed to render its rules.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServicePort {
    pub namespace: String,
    pub name: String,
    /// The port's name, or its number when the port is unnamed (names always contain a
    /// letter, so the two never collide).
    pub port_name: String,
    pub protocol: Protocol,
    pub cluster_ip: Ipv4Addr,
    pub port: u16,
    pub node_port: Option<u16>,
    /// LoadBalancer ingress IPs and spec.externalIPs, sorted and unique.
    pub external_ips: Vec<Ipv4Addr>,
    /// Endpoints traffic may be sent to, sorted and unique. Empty means "reject".
    pub endpoints: Vec<Endpoint>,
    /// ClientIP session affinity timeout, when affinity is enabled.
    pub affinity_timeout_seconds: Option<u32>,
}

impl ServicePort {
    /// `namespace/name/protocol/port-name`, the identity used in chain names.
    pub fn id(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.namespace, self.name, self.protocol, self.port_name
        )
    }
}

/// Everything the data plane implements, sorted by service port identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub service_ports: Vec<ServicePort>,
}

/// Builds the snapshot from the reflector contents.
pub fn build<'a>(
    services: impl IntoIterator<Item = &'a Service>,
    slices: impl IntoIterator<Item = &'a EndpointSlice>,
) -> Snapshot {
    // Group slices by (namespace, service name) once.
    let mut slices_by_service: BTreeMap<(String, String), Vec<&EndpointSlice>> = BTreeMap::new();
    for slice in slices {
        if slice.address_type != "IPv4" {
            continue;
        }
        let Some(namespace) = slice.metadata.namespace.clone() else {
            continue;
        };
        let Some(service) = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(SERVICE_NAME_LABEL))
        else {
            continue;
        };
        slices_by_service
            .entry((namespace, service.clone()))
            .or_default()
            .push(slice);
    }

    let mut service_ports = Vec::new();
    for svc in services {
        let key = (
            svc.metadata.namespace.clone().unwrap_or_default(),
            svc.metadata.name.clone().unwrap_or_default(),
        );
        let slices = slices_by_service
            .get(&key)
            .map(Vec::as_slice)
            .unwrap_or_default();
        service_ports.extend(service_entries(svc, slices));
    }
    service_ports.sort();
    service_ports.dedup_by(|a, b| a.id() == b.id());
    Snapshot { service_ports }
}

/// The entries of one Service; none for services the proxy does not handle
/// (ExternalName, headless, non-IPv4, or owned by another proxy).
fn service_entries(svc: &Service, slices: &[&EndpointSlice]) -> Vec<ServicePort> {
    let (Some(namespace), Some(name), Some(spec)) = (
        svc.metadata.namespace.as_ref(),
        svc.metadata.name.as_ref(),
        svc.spec.as_ref(),
    ) else {
        return Vec::new();
    };
    if svc
        .metadata
        .labels
        .as_ref()
        .is_some_and(|l| l.contains_key(SERVICE_PROXY_NAME_LABEL))
    {
        return Vec::new();
    }
    if spec.type_.as_deref() == Some("ExternalName") {
        return Vec::new();
    }
    let Some(cluster_ip) = spec
        .cluster_ip
        .as_deref()
        .and_then(|ip| ip.parse::<Ipv4Addr>().ok())
    else {
        // Headless ("None"), unallocated or IPv6-only: nothing to proxy in `ip` family.
        return Vec::new();
    };

    let is_load_balancer = spec.type_.as_deref() == Some("LoadBalancer");
    let mut external_ips: BTreeSet<Ipv4Addr> = spec
        .external_ips
        .iter()
        .flatten()
        .filter_map(|ip| ip.parse().ok())
        .collect();
    if is_load_balancer {
        external_ips.extend(
            svc.status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_ref())
                .into_iter()
                .flatten()
                .filter_map(|ing| ing.ip.as_deref())
                .filter_map(|ip| ip.parse::<Ipv4Addr>().ok()),
        );
    }
    let node_ports_enabled = matches!(spec.type_.as_deref(), Some("NodePort"))
        || (is_load_balancer && spec.allocate_load_balancer_node_ports != Some(false));

    let affinity_timeout_seconds =
        (spec.session_affinity.as_deref() == Some("ClientIP")).then(|| {
            spec.session_affinity_config
                .as_ref()
                .and_then(|c| c.client_ip.as_ref())
                .and_then(|c| c.timeout_seconds)
                .and_then(|t| u32::try_from(t).ok())
                .filter(|t| *t > 0)
                .unwrap_or(DEFAULT_AFFINITY_TIMEOUT_SECONDS)
        });

    let mut out = Vec::new();
    for sp in spec.ports.iter().flatten() {
        let Some(protocol) = Protocol::parse(sp.protocol.as_deref()) else {
            continue;
        };
        let Ok(port) = u16::try_from(sp.port) else {
            continue;
        };
        let port_name = sp.name.clone().unwrap_or_default();
        let node_port = if node_ports_enabled {
            sp.node_port
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p != 0)
        } else {
            None
        };
        out.push(ServicePort {
            namespace: namespace.clone(),
            name: name.clone(),
            port_name: if port_name.is_empty() {
                port.to_string()
            } else {
                port_name.clone()
            },
            protocol,
            cluster_ip,
            port,
            node_port,
            external_ips: external_ips.iter().copied().collect(),
            endpoints: endpoints_for_port(slices, &port_name, protocol),
            affinity_timeout_seconds,
        });
    }
    out
}

/// Usable endpoints of one service port across all slices.
///
/// Like kube-proxy: ready endpoints (a missing `ready` counts as ready) that are not
/// terminating; only when there are none, fall back to endpoints that are terminating
/// but still serving, so connections drain gracefully during rollouts.
fn endpoints_for_port(
    slices: &[&EndpointSlice],
    port_name: &str,
    protocol: Protocol,
) -> Vec<Endpoint> {
    let mut ready = BTreeSet::new();
    let mut serving_terminating = BTreeSet::new();
    for slice in slices {
        let Some(port) = slice.ports.iter().flatten().find_map(|p| {
            let same_name = p.name.as_deref().unwrap_or("") == port_name;
            let same_proto = Protocol::parse(p.protocol.as_deref()) == Some(protocol);
            (same_name && same_proto)
                .then_some(p.port)
                .flatten()
                .and_then(|n| u16::try_from(n).ok())
        }) else {
            continue;
        };
        for ep in &slice.endpoints {
            let Some(ip) = ep
                .addresses
                .first()
                .and_then(|a| a.parse::<Ipv4Addr>().ok())
            else {
                continue;
            };
            let endpoint = Endpoint { ip, port };
            match classify(ep) {
                Readiness::Ready => {
                    ready.insert(endpoint);
                }
                Readiness::ServingTerminating => {
                    serving_terminating.insert(endpoint);
                }
                Readiness::Unusable => {}
            }
        }
    }
    if ready.is_empty() {
        serving_terminating.into_iter().collect()
    } else {
        ready.into_iter().collect()
    }
}

enum Readiness {
    Ready,
    ServingTerminating,
    Unusable,
}

fn classify(ep: &SliceEndpoint) -> Readiness {
    let cond = ep.conditions.as_ref();
    let ready = cond.and_then(|c| c.ready).unwrap_or(true);
    let serving = cond.and_then(|c| c.serving).unwrap_or(ready);
    let terminating = cond.and_then(|c| c.terminating).unwrap_or(false);
    if ready && !terminating {
        Readiness::Ready
    } else if serving && terminating {
        Readiness::ServingTerminating
    } else {
        Readiness::Unusable
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Builders for Services and EndpointSlices used by unit tests.
    use k8s_openapi::api::core::v1::{Service, ServicePort as ApiServicePort, ServiceSpec};
    use k8s_openapi::api::discovery::v1::{
        Endpoint, EndpointConditions, EndpointPort, EndpointSlice,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    pub fn service(
        name: &str,
        type_: &str,
        cluster_ip: &str,
        ports: &[(&str, &str, i32, Option<i32>)],
    ) -> Service {
        Service {
            metadata: ObjectMeta {
                namespace: Some("default".into()),
                name: Some(name.into()),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                type_: Some(type_.into()),
                cluster_ip: Some(cluster_ip.into()),
                ports: Some(
                    ports
                        .iter()
                        .map(|(pname, proto, port, node_port)| ApiServicePort {
                            name: (!pname.is_empty()).then(|| pname.to_string()),
                            protocol: Some(proto.to_string()),
                            port: *port,
                            node_port: *node_port,
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            status: None,
        }
    }

    /// `endpoints`: (ip, ready, terminating).
    pub fn slice(
        service: &str,
        suffix: &str,
        ports: &[(&str, &str, i32)],
        endpoints: &[(&str, Option<bool>, bool)],
    ) -> EndpointSlice {
        EndpointSlice {
            address_type: "IPv4".into(),
            metadata: ObjectMeta {
                namespace: Some("default".into()),
                name: Some(format!("{service}-{suffix}")),
                labels: Some([(super::SERVICE_NAME_LABEL.to_string(), service.to_string())].into()),
                ..Default::default()
            },
            ports: Some(
                ports
                    .iter()
                    .map(|(pname, proto, port)| EndpointPort {
                        name: (!pname.is_empty()).then(|| pname.to_string()),
                        protocol: Some(proto.to_string()),
                        port: Some(*port),
                        ..Default::default()
                    })
                    .collect(),
            ),
            endpoints: endpoints
                .iter()
                .map(|(ip, ready, terminating)| Endpoint {
                    addresses: vec![ip.to_string()],
                    conditions: Some(EndpointConditions {
                        ready: *ready,
                        serving: *ready,
                        terminating: Some(*terminating),
                    }),
                    ..Default::default()
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::{service, slice};
    use super::*;

    fn ep(ip: &str, port: u16) -> Endpoint {
        Endpoint {
            ip: ip.parse().unwrap(),
            port,
        }
    }

    #[test]
    fn links_slices_by_label_and_port_name() {
        let svc = service(
            "web",
            "ClusterIP",
            "10.43.0.20",
            &[("http", "TCP", 80, None), ("metrics", "TCP", 9090, None)],
        );
        let s1 = slice(
            "web",
            "a",
            &[("http", "TCP", 8080), ("metrics", "TCP", 9100)],
            &[("10.42.0.5", Some(true), false)],
        );
        let s2 = slice(
            "web",
            "b",
            &[("http", "TCP", 8080)],
            &[("10.42.0.6", None, false), ("10.42.0.5", Some(true), false)],
        );
        let other = slice(
            "other",
            "a",
            &[("http", "TCP", 8080)],
            &[("10.42.0.9", Some(true), false)],
        );
        let snap = build([&svc], [&s1, &s2, &other]);
        assert_eq!(snap.service_ports.len(), 2);
        assert_eq!(snap.service_ports[0].port_name, "http");
        assert_eq!(
            snap.service_ports[0].endpoints,
            vec![ep("10.42.0.5", 8080), ep("10.42.0.6", 8080)]
        );
        assert_eq!(snap.service_ports[1].port_name, "metrics");
        assert_eq!(snap.service_ports[1].endpoints, vec![ep("10.42.0.5", 9100)]);
    }

    #[test]
    fn excludes_not_ready_and_terminating_but_falls_back_to_serving_terminating() {
        let svc = service("web", "ClusterIP", "10.43.0.20", &[("", "TCP", 80, None)]);
        let s = slice(
            "web",
            "a",
            &[("", "TCP", 8080)],
            &[
                ("10.42.0.5", Some(true), false),
                ("10.42.0.6", Some(false), false),
                ("10.42.0.7", Some(false), true),
            ],
        );
        let snap = build([&svc], [&s]);
        assert_eq!(snap.service_ports[0].port_name, "80");
        assert_eq!(snap.service_ports[0].endpoints, vec![ep("10.42.0.5", 8080)]);

        // Only a terminating-but-serving endpoint left: it is used.
        let mut s = slice(
            "web",
            "a",
            &[("", "TCP", 8080)],
            &[("10.42.0.7", Some(false), true)],
        );
        if let Some(c) = s.endpoints[0].conditions.as_mut() {
            c.serving = Some(true);
        }
        let snap = build([&svc], [&s]);
        assert_eq!(snap.service_ports[0].endpoints, vec![ep("10.42.0.7", 8080)]);
    }

    #[test]
    fn skips_headless_external_name_and_clusterip_node_ports() {
        let headless = service("h", "ClusterIP", "None", &[("", "TCP", 80, None)]);
        let ext = service("e", "ExternalName", "", &[("", "TCP", 80, None)]);
        let cip = service(
            "c",
            "ClusterIP",
            "10.43.0.3",
            &[("", "TCP", 80, Some(30001))],
        );
        let snap = build([&headless, &ext, &cip], []);
        assert_eq!(snap.service_ports.len(), 1);
        assert_eq!(snap.service_ports[0].node_port, None);
    }

    #[test]
    fn protocol_must_match() {
        let svc = service(
            "dns",
            "ClusterIP",
            "10.43.0.10",
            &[("dns", "UDP", 53, None), ("dns-tcp", "TCP", 53, None)],
        );
        let s = slice(
            "dns",
            "a",
            &[("dns", "UDP", 53), ("dns-tcp", "TCP", 53)],
            &[("10.42.0.2", Some(true), false)],
        );
        let snap = build([&svc], [&s]);
        let protos: Vec<_> = snap
            .service_ports
            .iter()
            .map(|p| (p.protocol, p.endpoints.len()))
            .collect();
        assert_eq!(protos, vec![(Protocol::Udp, 1), (Protocol::Tcp, 1)]);
    }
}
