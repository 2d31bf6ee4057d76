//! Resource quantities and what pods request, as the scheduler accounts them.

use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::BTreeMap;

/// Parses a Kubernetes quantity into thousandths of its unit, rounding up
/// ("100m" -> 100, "1" -> 1000, "1Ki" -> 1_024_000).
pub fn parse_milli(q: &str) -> Option<i128> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(split);
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    let negative = int_part.starts_with('-');
    let int_digits = int_part.trim_start_matches(['+', '-']);
    // value = digits / 10^scale
    let digits: String = format!("{int_digits}{frac_part}");
    let mantissa: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let scale = i32::try_from(frac_part.len()).ok()?;
    let (mul_num, exp10): (i128, i32) = match suffix {
        "" => (1, 0),
        "m" => (1, -3),
        "k" => (1, 3),
        "M" => (1, 6),
        "G" => (1, 9),
        "T" => (1, 12),
        "P" => (1, 15),
        "E" => (1, 18),
        "Ki" => (1 << 10, 0),
        "Mi" => (1 << 20, 0),
        "Gi" => (1 << 30, 0),
        "Ti" => (1 << 40, 0),
        "Pi" => (1 << 50, 0),
        "Ei" => (1 << 60, 0),
        s if s.starts_with(['e', 'E']) => (1, s[1..].parse().ok()?),
        _ => return None,
    };
    // milli = mantissa * mul * 10^(exp10 + 3 - scale), rounded up.
    let power = exp10 + 3 - scale;
    let base = mantissa.checked_mul(mul_num)?;
    let value = if power >= 0 {
        base.checked_mul(10i128.checked_pow(u32::try_from(power).ok()?)?)?
    } else {
        let div = 10i128.checked_pow(u32::try_from(-power).ok()?)?;
        (base + div - 1) / div
    };
    Some(if negative { -value } else { value })
}

/// cpu in millicores, memory in bytes, and the pod count, as the scheduler's `Resource`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
    pub pods: i64,
}

fn get(map: Option<&BTreeMap<String, Quantity>>, name: &str) -> Option<i128> {
    map.and_then(|m| m.get(name))
        .and_then(|q| parse_milli(&q.0))
}

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn container_requests(c: &Container, non_zero: bool) -> (i64, i64) {
    let req = c.resources.as_ref().and_then(|r| r.requests.as_ref());
    let cpu = get(req, "cpu").map(clamp);
    let mem = get(req, "memory").map(|m| clamp((m + 999) / 1000));
    if non_zero {
        // Upstream's defaults for scoring pods that request nothing: 100m and 200MiB.
        (
            cpu.filter(|v| *v != 0).unwrap_or(100),
            mem.filter(|v| *v != 0).unwrap_or(200 * 1024 * 1024),
        )
    } else {
        (cpu.unwrap_or(0), mem.unwrap_or(0))
    }
}

/// What a pod requests: sum over containers, at least the largest init container (sidecars,
/// restartPolicy Always, add up), plus the pod overhead.
pub fn pod_requests(pod: &Pod, non_zero: bool) -> Resources {
    let Some(spec) = pod.spec.as_ref() else {
        return Resources::default();
    };
    let (mut cpu, mut mem) = (0i64, 0i64);
    for c in &spec.containers {
        let (c_cpu, c_mem) = container_requests(c, non_zero);
        cpu = cpu.saturating_add(c_cpu);
        mem = mem.saturating_add(c_mem);
    }
    let (mut sidecar_cpu, mut sidecar_mem) = (0i64, 0i64);
    for c in spec.init_containers.iter().flatten() {
        let (c_cpu, c_mem) = container_requests(c, false);
        if c.restart_policy.as_deref() == Some("Always") {
            sidecar_cpu = sidecar_cpu.saturating_add(c_cpu);
            sidecar_mem = sidecar_mem.saturating_add(c_mem);
            cpu = cpu.saturating_add(c_cpu);
            mem = mem.saturating_add(c_mem);
        } else {
            cpu = cpu.max(sidecar_cpu.saturating_add(c_cpu));
            mem = mem.max(sidecar_mem.saturating_add(c_mem));
        }
    }
    if let Some(overhead) = spec.overhead.as_ref() {
        cpu = cpu.saturating_add(get(Some(overhead), "cpu").map(clamp).unwrap_or(0));
        mem = mem.saturating_add(
            get(Some(overhead), "memory")
                .map(|m| clamp((m + 999) / 1000))
                .unwrap_or(0),
        );
    }
    Resources {
        milli_cpu: cpu,
        memory: mem,
        pods: 1,
    }
}

/// A node's allocatable resources.
pub fn allocatable(node: &k8s_openapi::api::core::v1::Node) -> Resources {
    let alloc = node
        .status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref().or(s.capacity.as_ref()));
    Resources {
        milli_cpu: get(alloc, "cpu").map(clamp).unwrap_or(0),
        memory: get(alloc, "memory")
            .map(|m| clamp((m + 999) / 1000))
            .unwrap_or(0),
        pods: get(alloc, "pods").map(|p| clamp(p / 1000)).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_milli("100m"), Some(100));
        assert_eq!(parse_milli("1"), Some(1000));
        assert_eq!(parse_milli("0.5"), Some(500));
        assert_eq!(parse_milli("2Ki"), Some(2048 * 1000));
        assert_eq!(parse_milli("1Gi"), Some((1i128 << 30) * 1000));
        assert_eq!(parse_milli("1G"), Some(1_000_000_000_000));
        assert_eq!(parse_milli("1e3"), Some(1_000_000));
        assert_eq!(parse_milli("110"), Some(110_000));
        assert_eq!(parse_milli("abc"), None);
    }
}
