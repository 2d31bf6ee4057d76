//! Building a Service's EndpointSlice and legacy Endpoints from its pods (pure).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service,
    ServicePort,
};
use k8s_openapi::api::discovery::v1::{
    Endpoint, EndpointConditions, EndpointPort as SlicePort, EndpointSlice,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::{podutil, selector};

pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "endpointslice-controller.k8s.io";

/// The pods a Service selects that can be endpoints: selected, with an IP, not terminal.
pub fn service_pods<'a>(svc: &Service, pods: &'a [&'a Pod]) -> Vec<&'a Pod> {
    let Some(sel) = svc.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
        return Vec::new();
    };
    let ns = svc.metadata.namespace.as_deref();
    let mut out: Vec<&Pod> = pods
        .iter()
        .copied()
        .filter(|p| p.metadata.namespace.as_deref() == ns)
        .filter(|p| {
            sel.iter()
                .all(|(k, v)| p.metadata.labels.as_ref().and_then(|l| l.get(k)) == Some(v))
        })
        .filter(|p| pod_ip(p).is_some())
        .filter(|p| !matches!(podutil::phase(p), "Succeeded" | "Failed"))
        .collect();
    out.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    out
}

fn pod_ip(pod: &Pod) -> Option<&str> {
    pod.status
        .as_ref()
        .and_then(|s| s.pod_ip.as_deref())
        .filter(|ip| !ip.is_empty())
}

/// Resolves a Service port's targetPort on one pod: numbers as is, names via container ports.
pub fn target_port(port: &ServicePort, pod: &Pod) -> Option<i32> {
    match &port.target_port {
        None => Some(port.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => {
            let protocol = port.protocol.as_deref().unwrap_or("TCP");
            pod.spec
                .as_ref()?
                .containers
                .iter()
                .flat_map(|c| c.ports.iter().flatten())
                .find_map(|cp| {
                    (cp.name.as_deref() == Some(name)
                        && cp.protocol.as_deref().unwrap_or("TCP") == protocol)
                        .then_some(cp.container_port)
                })
        }
    }
}

fn pod_ref(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".into()),
        name: pod.metadata.name.clone(),
        namespace: pod.metadata.namespace.clone(),
        uid: pod.metadata.uid.clone(),
        ..Default::default()
    }
}

fn publish_not_ready(svc: &Service) -> bool {
    svc.spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false)
}

/// The resolved ports of the service on one pod, as (name, port, protocol).
fn ports_for(svc: &Service, pod: &Pod) -> Vec<(Option<String>, i32, String)> {
    svc.spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let port = target_port(p, pod)?;
            Some((
                p.name.clone(),
                port,
                p.protocol.clone().unwrap_or_else(|| "TCP".into()),
            ))
        })
        .collect()
}

/// The EndpointSlice content for a Service (metadata name/generateName left to the caller).
pub fn build_slice(svc: &Service, pods: &[&Pod]) -> EndpointSlice {
    let selected = service_pods(svc, pods);
    let publish = publish_not_ready(svc);
    let endpoints: Vec<Endpoint> = selected
        .iter()
        .filter_map(|pod| {
            let ip = pod_ip(pod)?;
            let terminating = pod.metadata.deletion_timestamp.is_some();
            let ready = podutil::is_ready(pod);
            Some(Endpoint {
                addresses: vec![ip.to_string()],
                conditions: Some(EndpointConditions {
                    ready: Some(publish || (ready && !terminating)),
                    serving: Some(publish || ready),
                    terminating: Some(terminating),
                }),
                node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
                target_ref: Some(pod_ref(pod)),
                ..Default::default()
            })
        })
        .collect();
    // One port set per slice: taken from the first pod (all pods of a Deployment agree).
    let ports = selected
        .first()
        .map(|pod| ports_for(svc, pod))
        .unwrap_or_else(|| {
            svc.spec
                .as_ref()
                .and_then(|s| s.ports.as_ref())
                .into_iter()
                .flatten()
                .filter(|p| !matches!(p.target_port, Some(IntOrString::String(_))))
                .map(|p| {
                    (
                        p.name.clone(),
                        target_port(p, &Pod::default()).unwrap_or(p.port),
                        p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                    )
                })
                .collect()
        });
    let name = svc.metadata.name.clone().unwrap_or_default();
    EndpointSlice {
        metadata: ObjectMeta {
            namespace: svc.metadata.namespace.clone(),
            generate_name: Some(format!("{name}-")),
            labels: Some(BTreeMap::from([
                (SERVICE_NAME_LABEL.to_string(), name),
                (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
            ])),
            owner_references: Some(vec![selector::controller_ref(
                "v1",
                "Service",
                &svc.metadata,
            )]),
            ..Default::default()
        },
        address_type: "IPv4".into(),
        endpoints,
        ports: Some(
            ports
                .into_iter()
                .map(|(name, port, protocol)| SlicePort {
                    name: Some(name.unwrap_or_default()),
                    port: Some(port),
                    protocol: Some(protocol),
                    app_protocol: None,
                })
                .collect(),
        ),
    }
}

/// The legacy Endpoints object: pods grouped into subsets by their resolved port set.
pub fn build_endpoints(svc: &Service, pods: &[&Pod]) -> Endpoints {
    let selected = service_pods(svc, pods);
    let publish = publish_not_ready(svc);
    let mut subsets: Vec<EndpointSubset> = Vec::new();
    for pod in selected {
        let Some(ip) = pod_ip(pod) else { continue };
        if pod.metadata.deletion_timestamp.is_some() && !publish {
            continue;
        }
        let ports: Vec<EndpointPort> = ports_for(svc, pod)
            .into_iter()
            .map(|(name, port, protocol)| EndpointPort {
                name,
                port,
                protocol: Some(protocol),
                app_protocol: None,
            })
            .collect();
        let address = EndpointAddress {
            ip: ip.to_string(),
            node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            target_ref: Some(pod_ref(pod)),
            ..Default::default()
        };
        let subset = match subsets
            .iter_mut()
            .find(|s| s.ports.as_deref().unwrap_or_default() == ports.as_slice())
        {
            Some(s) => s,
            None => {
                subsets.push(EndpointSubset {
                    ports: Some(ports),
                    ..Default::default()
                });
                let Some(last) = subsets.last_mut() else {
                    continue;
                };
                last
            }
        };
        if publish || podutil::is_ready(pod) {
            subset.addresses.get_or_insert_with(Vec::new).push(address);
        } else {
            subset
                .not_ready_addresses
                .get_or_insert_with(Vec::new)
                .push(address);
        }
    }
    Endpoints {
        metadata: ObjectMeta {
            name: svc.metadata.name.clone(),
            namespace: svc.metadata.namespace.clone(),
            labels: svc.metadata.labels.clone(),
            ..Default::default()
        },
        subsets: (!subsets.is_empty()).then_some(subsets),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replicaset::logic::tests::pod;
    use k8s_openapi::api::core::v1::{Container, ContainerPort, PodSpec, ServiceSpec};

    fn svc() -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some("demo".into()),
                namespace: Some("default".into()),
                uid: Some("s1".into()),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                selector: Some([("app".to_string(), "demo".to_string())].into()),
                ports: Some(vec![ServicePort {
                    name: Some("http".into()),
                    port: 80,
                    target_port: Some(IntOrString::String("web".into())),
                    protocol: Some("TCP".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn demo_pod(name: &str, ip: Option<&str>, ready: bool) -> Pod {
        let mut p = pod(name, Some("node1"), "Running", ready, 0);
        p.metadata.namespace = Some("default".into());
        p.metadata.labels = Some([("app".to_string(), "demo".to_string())].into());
        p.spec = Some(PodSpec {
            node_name: Some("node1".into()),
            containers: vec![Container {
                name: "demo".into(),
                ports: Some(vec![ContainerPort {
                    name: Some("web".into()),
                    container_port: 8080,
                    ..Default::default()
                }]),
                ..Default::default()
            }],
            ..Default::default()
        });
        if let Some(s) = p.status.as_mut() {
            s.pod_ip = ip.map(Into::into);
        }
        p
    }

    #[test]
    fn slice_has_ready_and_not_ready_endpoints_and_named_port() {
        let a = demo_pod("a", Some("10.42.0.5"), true);
        let b = demo_pod("b", Some("10.42.0.6"), false);
        let c = demo_pod("c", None, false);
        let mut other = demo_pod("x", Some("10.42.0.9"), true);
        other.metadata.labels = None;
        let slice = build_slice(&svc(), &[&a, &b, &c, &other]);
        assert_eq!(slice.endpoints.len(), 2);
        assert_eq!(slice.endpoints[0].addresses, vec!["10.42.0.5"]);
        assert_eq!(
            slice.endpoints[0].conditions.as_ref().and_then(|c| c.ready),
            Some(true)
        );
        assert_eq!(
            slice.endpoints[1].conditions.as_ref().and_then(|c| c.ready),
            Some(false)
        );
        assert_eq!(slice.endpoints[1].node_name.as_deref(), Some("node1"));
        let ports = slice.ports.clone().unwrap_or_default();
        assert_eq!(ports.len(), 1);
        assert_eq!(ports[0].port, Some(8080));
        assert_eq!(ports[0].name.as_deref(), Some("http"));
        let labels = slice.metadata.labels.clone().unwrap_or_default();
        assert_eq!(
            labels.get(SERVICE_NAME_LABEL).map(String::as_str),
            Some("demo")
        );
        assert_eq!(
            labels.get(MANAGED_BY_LABEL).map(String::as_str),
            Some(MANAGED_BY)
        );
        assert_eq!(slice.metadata.generate_name.as_deref(), Some("demo-"));
    }

    #[test]
    fn endpoints_split_ready_and_not_ready() {
        let a = demo_pod("a", Some("10.42.0.5"), true);
        let b = demo_pod("b", Some("10.42.0.6"), false);
        let ep = build_endpoints(&svc(), &[&a, &b]);
        let subsets = ep.subsets.unwrap_or_default();
        assert_eq!(subsets.len(), 1);
        assert_eq!(subsets[0].addresses.as_ref().map(|a| a.len()), Some(1));
        assert_eq!(
            subsets[0]
                .not_ready_addresses
                .as_ref()
                .map(|a| a[0].ip.clone()),
            Some("10.42.0.6".to_string())
        );
        assert_eq!(subsets[0].ports.as_ref().map(|p| p[0].port), Some(8080));
    }
}
