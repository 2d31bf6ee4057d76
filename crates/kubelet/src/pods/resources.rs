//! Resource quantities → cgroup settings and the pod's QoS class.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Pod, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// A Kubernetes quantity as a number of base units (`100m` → 0.1, `1Gi` → 1073741824).
pub fn parse_quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    let suffixes: [(&str, f64); 14] = [
        ("Ki", 1024.0),
        ("Mi", 1024f64.powi(2)),
        ("Gi", 1024f64.powi(3)),
        ("Ti", 1024f64.powi(4)),
        ("Pi", 1024f64.powi(5)),
        ("Ei", 1024f64.powi(6)),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
    ];
    for (suffix, factor) in suffixes {
        if let Some(num) = q.strip_suffix(suffix) {
            return num
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(|v| v * factor);
        }
    }
    if let Some(num) = q.strip_suffix('E') {
        return num.parse::<f64>().ok().map(|v| v * 1e18);
    }
    q.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn get(map: Option<&BTreeMap<String, Quantity>>, key: &str) -> Option<f64> {
    map.and_then(|m| m.get(key))
        .and_then(|q| parse_quantity(&q.0))
}

/// cgroup v1 values for one container: (cpu_shares, cpu_quota, cpu_period, memory_limit).
#[derive(Debug, PartialEq, Eq)]
pub struct CgroupLimits {
    pub cpu_shares: i64,
    pub cpu_quota: i64,
    pub cpu_period: i64,
    pub memory_limit_bytes: i64,
}

pub fn cgroup_limits(resources: Option<&ResourceRequirements>) -> CgroupLimits {
    let requests = resources.and_then(|r| r.requests.as_ref());
    let limits = resources.and_then(|r| r.limits.as_ref());
    // Requests default to limits, as the API server's defaulting does.
    let cpu_request = get(requests, "cpu").or_else(|| get(limits, "cpu"));
    let cpu_limit = get(limits, "cpu");
    let cpu_shares = match cpu_request {
        Some(cpu) => ((cpu * 1000.0).ceil() as i64 * 1024 / 1000).max(2),
        None => 2,
    };
    let (cpu_quota, cpu_period) = match cpu_limit {
        Some(cpu) => (
            ((cpu * 1000.0).ceil() as i64 * 100_000 / 1000).max(1000),
            100_000,
        ),
        None => (0, 0),
    };
    let memory_limit_bytes = get(limits, "memory").map_or(0, |m| m as i64);
    CgroupLimits {
        cpu_shares,
        cpu_quota,
        cpu_period,
        memory_limit_bytes,
    }
}

pub fn qos_class(pod: &Pod) -> &'static str {
    let Some(spec) = pod.spec.as_ref() else {
        return "BestEffort";
    };
    let containers: Vec<&Container> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .collect();
    let mut any_set = false;
    let mut guaranteed = true;
    for c in containers {
        let requests = c.resources.as_ref().and_then(|r| r.requests.as_ref());
        let limits = c.resources.as_ref().and_then(|r| r.limits.as_ref());
        for resource in ["cpu", "memory"] {
            let request = get(requests, resource).filter(|v| *v > 0.0);
            let limit = get(limits, resource).filter(|v| *v > 0.0);
            if request.is_some() || limit.is_some() {
                any_set = true;
            }
            match (request, limit) {
                (_, None) => guaranteed = false,
                (Some(r), Some(l)) if (r - l).abs() > f64::EPSILON * l.abs().max(1.0) => {
                    guaranteed = false
                }
                _ => {}
            }
        }
    }
    if !any_set {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PodSpec;

    fn res(requests: &[(&str, &str)], limits: &[(&str, &str)]) -> Option<ResourceRequirements> {
        let map = |kv: &[(&str, &str)]| {
            (!kv.is_empty()).then(|| {
                kv.iter()
                    .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                    .collect()
            })
        };
        Some(ResourceRequirements {
            requests: map(requests),
            limits: map(limits),
            ..Default::default()
        })
    }

    fn pod(resources: Vec<Option<ResourceRequirements>>) -> Pod {
        let containers = resources
            .into_iter()
            .enumerate()
            .map(|(i, resources)| Container {
                name: format!("c{i}"),
                resources,
                ..Default::default()
            })
            .collect();
        Pod {
            spec: Some(PodSpec {
                containers,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("100m"), Some(0.1));
        assert_eq!(parse_quantity("2"), Some(2.0));
        assert_eq!(parse_quantity("128Mi"), Some(134217728.0));
        assert_eq!(parse_quantity("1G"), Some(1e9));
        assert_eq!(parse_quantity("bogus"), None);
    }

    #[test]
    fn qos_classes() {
        assert_eq!(qos_class(&pod(vec![None])), "BestEffort");
        assert_eq!(
            qos_class(&pod(vec![res(&[("cpu", "100m")], &[])])),
            "Burstable"
        );
        let full = res(
            &[("cpu", "1"), ("memory", "1Gi")],
            &[("cpu", "1000m"), ("memory", "1Gi")],
        );
        assert_eq!(qos_class(&pod(vec![full.clone()])), "Guaranteed");
        // Limits only: requests default to limits.
        assert_eq!(
            qos_class(&pod(vec![res(&[], &[("cpu", "1"), ("memory", "1Gi")])])),
            "Guaranteed"
        );
        assert_eq!(qos_class(&pod(vec![full, None])), "Burstable");
    }

    #[test]
    fn cgroup_values() {
        let l =
            cgroup_limits(res(&[("cpu", "250m")], &[("cpu", "500m"), ("memory", "64Mi")]).as_ref());
        assert_eq!(
            l,
            CgroupLimits {
                cpu_shares: 256,
                cpu_quota: 50_000,
                cpu_period: 100_000,
                memory_limit_bytes: 67108864
            }
        );
        assert_eq!(cgroup_limits(None).cpu_shares, 2);
    }
}
