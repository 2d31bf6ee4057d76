//! Clears stale UDP conntrack entries after endpoint changes.
//!
//! UDP has no connection teardown: a conntrack entry DNATed to an endpoint that went
//! away keeps black-holing a client that reuses its source port (a DNS resolver, say)
//! until the entry times out. kube-proxy deletes such entries; so do we, with the
//! `conntrack` CLI when it is installed.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use tracing::debug;

use crate::model::{Protocol, ServicePort, Snapshot};

/// One `conntrack -D` invocation's filter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Deletion {
    /// Entries to `dst:port` that were DNATed to `endpoint`.
    ToEndpoint {
        dst: Ipv4Addr,
        port: u16,
        endpoint: Ipv4Addr,
    },
    /// Entries to node port `port` that were DNATed to `endpoint`.
    NodePortToEndpoint { port: u16, endpoint: Ipv4Addr },
}

/// The deletions needed when moving from `old` to `new`.
pub fn stale(old: &Snapshot, new: &Snapshot) -> Vec<Deletion> {
    let mut out = BTreeSet::new();
    for before in old
        .service_ports
        .iter()
        .filter(|p| p.protocol == Protocol::Udp)
    {
        let after: Option<&ServicePort> = new.service_ports.iter().find(|p| p.id() == before.id());
        for ep in &before.endpoints {
            if after.is_some_and(|a| a.endpoints.iter().any(|e| e.ip == ep.ip)) {
                continue;
            }
            out.insert(Deletion::ToEndpoint {
                dst: before.cluster_ip,
                port: before.port,
                endpoint: ep.ip,
            });
            for ip in &before.external_ips {
                out.insert(Deletion::ToEndpoint {
                    dst: *ip,
                    port: before.port,
                    endpoint: ep.ip,
                });
            }
            if let Some(np) = before.node_port {
                out.insert(Deletion::NodePortToEndpoint {
                    port: np,
                    endpoint: ep.ip,
                });
            }
        }
    }
    out.into_iter().collect()
}

/// Runs the deletions (inside network namespace `netns` when given); a missing CLI or
/// "no entries matched" are not errors.
pub async fn delete(deletions: &[Deletion], netns: Option<&str>) {
    for d in deletions {
        let args: Vec<String> = match d {
            Deletion::ToEndpoint {
                dst,
                port,
                endpoint,
            } => vec![
                "-D".into(),
                "-p".into(),
                "udp".into(),
                "--orig-dst".into(),
                dst.to_string(),
                "--orig-port-dst".into(),
                port.to_string(),
                "--dst-nat".into(),
                endpoint.to_string(),
            ],
            Deletion::NodePortToEndpoint { port, endpoint } => vec![
                "-D".into(),
                "-p".into(),
                "udp".into(),
                "--orig-port-dst".into(),
                port.to_string(),
                "--dst-nat".into(),
                endpoint.to_string(),
            ],
        };
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = tokio::process::Command::new("ip");
                c.args(["netns", "exec", ns, "conntrack"]);
                c
            }
            None => tokio::process::Command::new("conntrack"),
        };
        match cmd
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .await
        {
            Ok(status) => debug!(?d, %status, "conntrack delete"),
            Err(e) => {
                debug!(error = %e, "conntrack CLI unavailable");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::build;
    use crate::model::testutil::{service, slice};

    #[test]
    fn removed_udp_endpoint_is_flushed() {
        let svc = service(
            "dns",
            "NodePort",
            "10.43.0.10",
            &[("dns", "UDP", 53, Some(30053)), ("tcp", "TCP", 53, None)],
        );
        let both = slice(
            "dns",
            "a",
            &[("dns", "UDP", 53), ("tcp", "TCP", 53)],
            &[
                ("10.42.0.2", Some(true), false),
                ("10.42.0.3", Some(true), false),
            ],
        );
        let one = slice(
            "dns",
            "a",
            &[("dns", "UDP", 53), ("tcp", "TCP", 53)],
            &[("10.42.0.3", Some(true), false)],
        );
        let old = build([&svc], [&both]);
        let new = build([&svc], [&one]);
        let gone: Ipv4Addr = "10.42.0.2".parse().unwrap();
        assert_eq!(
            stale(&old, &new),
            vec![
                Deletion::ToEndpoint {
                    dst: "10.43.0.10".parse().unwrap(),
                    port: 53,
                    endpoint: gone
                },
                Deletion::NodePortToEndpoint {
                    port: 30053,
                    endpoint: gone
                },
            ]
        );
        assert!(stale(&new, &old).is_empty());
    }
}
