//! ClusterIP and NodePort allocation for Services. Allocation reads the Services in the
//! store under one lock, so two creates never get the same address or port.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use apimachinery::status::{ApiError, Cause};
use ipnet::IpNet;
use rand::Rng;
use serde_json::{Value, json};
use store::RangeOptions;
use tokio::sync::{Mutex, MutexGuard};

use crate::ApiServer;
use crate::object::{decode, meta_str};

pub struct Allocators {
    lock: Mutex<()>,
    cidr: IpNet,
    ports: (u16, u16),
}

struct InUse {
    ips: HashSet<IpAddr>,
    node_ports: HashSet<(u16, String)>,
}

impl Allocators {
    pub fn new(cidr: IpNet, ports: (u16, u16)) -> Self {
        Allocators {
            lock: Mutex::new(()),
            cidr,
            ports,
        }
    }

    pub async fn lock(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().await
    }

    async fn in_use(&self, api: &ApiServer, except: (&str, &str)) -> Result<InUse, ApiError> {
        let res = api
            .store()
            .range("/registry/services/specs/", RangeOptions::default())
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let mut used = InUse {
            ips: HashSet::new(),
            node_ports: HashSet::new(),
        };
        for kv in &res.kvs {
            let svc = decode(kv)?;
            if (
                meta_str(&svc, "namespace").unwrap_or_default(),
                meta_str(&svc, "name").unwrap_or_default(),
            ) == except
            {
                continue;
            }
            if let Some(ip) = svc
                .pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .and_then(|s| s.parse().ok())
            {
                used.ips.insert(ip);
            }
            for p in svc
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(np) = p.get("nodePort").and_then(Value::as_u64) {
                    let proto = p
                        .get("protocol")
                        .and_then(Value::as_str)
                        .unwrap_or("TCP")
                        .to_string();
                    used.node_ports.insert((np as u16, proto));
                }
            }
        }
        Ok(used)
    }

    /// Fills in `spec.clusterIP(s)` and node ports of a Service being created (`old` None)
    /// or updated. The caller holds [`Allocators::lock`].
    pub async fn allocate(
        &self,
        api: &ApiServer,
        svc: &mut Value,
        old: Option<&Value>,
    ) -> Result<(), ApiError> {
        let ns = meta_str(svc, "namespace").unwrap_or_default().to_string();
        let name = meta_str(svc, "name").unwrap_or_default().to_string();
        let used = self.in_use(api, (&ns, &name)).await?;
        let ty = svc
            .pointer("/spec/type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP")
            .to_string();
        let invalid = |causes: Vec<Cause>| ApiError::invalid("", "Service", &name, causes);

        if ty == "ExternalName" {
            if let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) {
                spec.remove("clusterIP");
                spec.remove("clusterIPs");
            }
        } else {
            let requested = svc
                .pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let previous = old
                .and_then(|o| o.pointer("/spec/clusterIP"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let ip = if !previous.is_empty() {
                if !requested.is_empty() && requested != previous {
                    return Err(invalid(vec![Cause::invalid(
                        "spec.clusterIPs[0]",
                        &requested,
                        "may not change once set",
                    )]));
                }
                previous
            } else if requested == "None" {
                requested
            } else if !requested.is_empty() {
                let parsed: IpAddr = requested.parse().map_err(|_| {
                    invalid(vec![Cause::invalid(
                        "spec.clusterIPs[0]",
                        &requested,
                        "must be a valid IP address",
                    )])
                })?;
                if !self.cidr.contains(&parsed) {
                    return Err(invalid(vec![Cause::invalid(
                        "spec.clusterIPs",
                        &format!("[]string{{\"{requested}\"}}"),
                        &format!(
                            "failed to allocate IP {requested}: the provided IP ({requested}) is not in the valid range. The range of valid IPs is {}",
                            self.cidr
                        ),
                    )]));
                }
                if used.ips.contains(&parsed) {
                    return Err(invalid(vec![Cause::invalid(
                        "spec.clusterIPs",
                        &format!("[]string{{\"{requested}\"}}"),
                        &format!(
                            "failed to allocate IP {requested}: provided IP is already allocated"
                        ),
                    )]));
                }
                requested
            } else {
                self.random_ip(&used.ips)
                    .ok_or_else(|| {
                        ApiError::internal("failed to allocate a serviceIP: range is full")
                    })?
                    .to_string()
            };
            svc["spec"]["clusterIP"] = json!(ip);
            svc["spec"]["clusterIPs"] = json!([ip]);
            if ip != "None" {
                svc["spec"]["ipFamilies"] = json!(["IPv4"]);
                svc["spec"]["ipFamilyPolicy"] = json!("SingleStack");
            }
        }

        let wants_node_ports = ty == "NodePort"
            || (ty == "LoadBalancer"
                && svc
                    .pointer("/spec/allocateLoadBalancerNodePorts")
                    .and_then(Value::as_bool)
                    != Some(false));
        let old_ports: Vec<Value> = old
            .and_then(|o| o.pointer("/spec/ports"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut taken = used.node_ports;
        let mut causes = Vec::new();
        if let Some(ports) = svc.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
            for (i, p) in ports.iter_mut().enumerate() {
                let proto = p
                    .get("protocol")
                    .and_then(Value::as_str)
                    .unwrap_or("TCP")
                    .to_string();
                if !wants_node_ports {
                    if ty != "LoadBalancer"
                        && let Some(m) = p.as_object_mut()
                    {
                        m.remove("nodePort");
                    }
                    continue;
                }
                let requested = p.get("nodePort").and_then(Value::as_u64).map(|n| n as u16);
                let port = p.get("port").cloned();
                let previous = old_ports
                    .iter()
                    .find(|o| {
                        o.get("port") == port.as_ref()
                            && o.get("protocol").and_then(Value::as_str).unwrap_or("TCP") == proto
                    })
                    .and_then(|o| o.get("nodePort"))
                    .and_then(Value::as_u64)
                    .map(|n| n as u16);
                let chosen = match requested.or(previous) {
                    Some(np) => {
                        if np < self.ports.0 || np > self.ports.1 {
                            causes.push(Cause::invalid(
                                format!("spec.ports[{i}].nodePort"),
                                &np.to_string(),
                                &format!("provided port is not in the valid range. The range of valid ports is {}-{}", self.ports.0, self.ports.1),
                            ));
                            continue;
                        }
                        if taken.contains(&(np, proto.clone())) && Some(np) != previous {
                            causes.push(Cause::invalid(
                                format!("spec.ports[{i}].nodePort"),
                                &np.to_string(),
                                "provided port is already allocated",
                            ));
                            continue;
                        }
                        np
                    }
                    None => match self.random_port(&taken, &proto) {
                        Some(np) => np,
                        None => {
                            return Err(ApiError::internal(
                                "failed to allocate a nodePort: range is full",
                            ));
                        }
                    },
                };
                taken.insert((chosen, proto));
                p["nodePort"] = json!(chosen);
            }
        }
        if !causes.is_empty() {
            return Err(invalid(causes));
        }
        Ok(())
    }

    fn random_ip(&self, used: &HashSet<IpAddr>) -> Option<IpAddr> {
        let IpNet::V4(net) = self.cidr else {
            return None;
        };
        let base = u32::from(net.network());
        let size = 1u64 << (32 - net.prefix_len());
        if size < 4 {
            return None;
        }
        let mut rng = rand::rng();
        // Skip the network address and the first address (the `kubernetes` Service's).
        let span = (size - 3) as u32;
        let offset = rng.random_range(0..span);
        for k in 0..span {
            let candidate = IpAddr::V4(Ipv4Addr::from(base + 2 + (offset + k) % span));
            if !used.contains(&candidate) {
                return Some(candidate);
            }
        }
        None
    }

    fn random_port(&self, used: &HashSet<(u16, String)>, proto: &str) -> Option<u16> {
        let (lo, hi) = self.ports;
        let span = u32::from(hi - lo) + 1;
        let offset = rand::rng().random_range(0..span);
        (0..span)
            .map(|k| lo + ((offset + k) % span) as u16)
            .find(|p| !used.contains(&(*p, proto.to_string())))
    }
}
