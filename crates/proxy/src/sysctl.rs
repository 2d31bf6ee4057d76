//! Kernel settings the data plane depends on.

use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use tracing::{debug, warn};

/// Sets sysctl `key` (dotted form) to `value`: directly through /proc/sys, or with
/// `ip netns exec <netns> sysctl` for another network namespace (net.* settings are
/// per namespace).
pub fn set(key: &str, value: &str, netns: Option<&str>) -> std::io::Result<()> {
    if let Some(ns) = netns {
        let status = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                "sysctl",
                "-q",
                "-w",
                &format!("{key}={value}"),
            ])
            .status()?;
        return if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!(
                "sysctl -w {key}={value} in {ns}: {status}"
            )))
        };
    }
    let path = Path::new("/proc/sys").join(key.replace('.', "/"));
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current.trim() == value {
        return Ok(());
    }
    std::fs::write(&path, value)?;
    debug!(key, value, "set sysctl");
    Ok(())
}

/// Enables what Service traffic needs; failures are logged, not fatal, because a
/// setting may already be provided by the host (or be unavailable in a container).
pub fn ensure(node_ips: &[IpAddr], netns: Option<&str>) {
    // Pod -> ClusterIP -> pod traffic is routed through the host.
    if let Err(e) = set("net.ipv4.ip_forward", "1", netns) {
        warn!(error = %e, "cannot enable net.ipv4.ip_forward");
    }
    // A node port on a 127.0.0.0/8 node IP is DNATed to a pod: the packet then leaves
    // the loopback device with a 127.x source until it is masqueraded, which the kernel
    // only allows with route_localnet (kube-proxy sets it for localhost node ports).
    if node_ips.iter().any(IpAddr::is_loopback)
        && let Err(e) = set("net.ipv4.conf.all.route_localnet", "1", netns)
    {
        warn!(error = %e, "cannot enable net.ipv4.conf.all.route_localnet");
    }
    // Pods on the same bridge talk at layer 2; without br_netfilter the reply of a
    // DNATed pod -> service -> pod connection bypasses conntrack and is never
    // un-DNATed. With it, bridged IPv4 traffic traverses the `ip` family hooks.
    if !Path::new("/proc/sys/net/bridge").exists() {
        match Command::new("modprobe").arg("br_netfilter").status() {
            Ok(s) if s.success() => {}
            Ok(s) => warn!(status = %s, "modprobe br_netfilter failed"),
            Err(e) => warn!(error = %e, "cannot run modprobe br_netfilter"),
        }
    }
    if let Err(e) = set("net.bridge.bridge-nf-call-iptables", "1", netns) {
        warn!(error = %e, "cannot enable net.bridge.bridge-nf-call-iptables");
    }
}
