//! Renders a snapshot into one complete `nft -f` input.
//!
//! The layout follows kube-proxy's nftables mode:
//! - `services` (jumped to from the nat prerouting and output hooks) dispatches with
//!   verdict maps: `service-ips` on `daddr . proto . dport` (cluster, external and load
//!   balancer IPs) and `service-nodeports` on `proto . dport` for packets addressed to a
//!   node IP.
//! - `service-<id>` chains mark host/off-cluster clients for masquerade and pick an
//!   endpoint with `numgen random mod N`; `external-<id>` chains (node ports, external
//!   and LB IPs) always mark, then go to the service chain; `endpoint-<id>__<ip>/<port>`
//!   chains mark hairpin traffic and DNAT.
//! - Ports without endpoints are listed in `no-endpoint-*` maps that the filter hooks
//!   use to reject new connections, so clients fail fast instead of timing out.
//! - `nat-postrouting` masquerades everything carrying the mark bit.
//!
//! The output starts with `add table` + `delete table` so applying it atomically replaces
//! whatever the table held before (including leftovers from a previous run).

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::model::{Endpoint, ServicePort, Snapshot};

/// The packet mark bit meaning "masquerade this connection" (kube-proxy's default).
pub const MASQUERADE_MARK: u32 = 0x4000;

/// Node-level inputs to rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderConfig {
    /// nftables table name (family `ip`).
    pub table: String,
    /// Pod CIDR: traffic from outside it to a cluster IP is masqueraded.
    pub cluster_cidr: Ipv4Net,
    /// Addresses node ports are served on.
    pub node_ips: Vec<Ipv4Addr>,
}

/// Ruleset that removes the table (whether or not it exists).
pub fn render_delete(table: &str) -> String {
    format!("add table ip {table}\ndelete table ip {table}\n")
}

/// The complete ruleset for `snapshot`.
pub fn render(snapshot: &Snapshot, config: &RenderConfig) -> String {
    let mut node_ips = config.node_ips.clone();
    node_ips.sort();
    node_ips.dedup();

    let mut cluster_ips = Vec::new();
    let mut service_ips = Vec::new();
    let mut service_nodeports = Vec::new();
    let mut no_endpoint_services = Vec::new();
    let mut no_endpoint_nodeports = Vec::new();
    let mut chains = String::new();
    let mut affinity_sets = String::new();

    for sp in &snapshot.service_ports {
        let id = sp.id();
        let proto = sp.protocol.nft();
        cluster_ips.push(sp.cluster_ip.to_string());
        if sp.endpoints.is_empty() {
            no_endpoint_services.push(format!(
                "{} . {proto} . {} : goto reject-chain",
                sp.cluster_ip, sp.port
            ));
            for ip in &sp.external_ips {
                no_endpoint_services
                    .push(format!("{ip} . {proto} . {} : goto reject-chain", sp.port));
            }
            if let Some(np) = sp.node_port {
                no_endpoint_nodeports.push(format!("{proto} . {np} : goto reject-chain"));
            }
            continue;
        }

        let service_chain = format!("service-{id}");
        let external_chain = format!("external-{id}");
        service_ips.push(format!(
            "{} . {proto} . {} : goto {service_chain}",
            sp.cluster_ip, sp.port
        ));
        for ip in &sp.external_ips {
            service_ips.push(format!(
                "{ip} . {proto} . {} : goto {external_chain}",
                sp.port
            ));
        }
        if let Some(np) = sp.node_port {
            service_nodeports.push(format!("{proto} . {np} : goto {external_chain}"));
        }

        render_service_chain(&mut chains, sp, &service_chain, config);
        if sp.node_port.is_some() || !sp.external_ips.is_empty() {
            // Traffic arriving via a node port or external IP may come from anywhere and
            // must return through this node, so it is always masqueraded
            // (externalTrafficPolicy: Cluster).
            let _ = write!(
                chains,
                "\tchain {external_chain} {{\n\t\tjump mark-for-masquerade\n\t\tgoto {service_chain}\n\t}}\n\n"
            );
        }
        for ep in &sp.endpoints {
            let ep_chain = endpoint_chain(sp, ep);
            let affinity = sp
                .affinity_timeout_seconds
                .map(|t| (affinity_set(sp, ep), t));
            if let Some((set, timeout)) = &affinity {
                let _ = write!(
                    affinity_sets,
                    "\tset {set} {{\n\t\ttype ipv4_addr\n\t\tflags dynamic,timeout\n\t\ttimeout {timeout}s\n\t}}\n\n"
                );
            }
            let _ = writeln!(chains, "\tchain {ep_chain} {{");
            // Hairpin: a pod reaching itself through the service must see the reply
            // come from the service, so its source is rewritten.
            let _ = writeln!(chains, "\t\tip saddr {} jump mark-for-masquerade", ep.ip);
            if let Some((set, _)) = &affinity {
                let _ = writeln!(chains, "\t\tupdate @{set} {{ ip saddr }}");
            }
            let _ = writeln!(
                chains,
                "\t\tmeta l4proto {proto} dnat to {}:{}",
                ep.ip, ep.port
            );
            let _ = write!(chains, "\t}}\n\n");
        }
    }
    cluster_ips.sort();
    cluster_ips.dedup();
    service_ips.sort();
    service_nodeports.sort();
    no_endpoint_services.sort();
    no_endpoint_nodeports.sort();

    let table = &config.table;
    let mark = format!("{MASQUERADE_MARK:#010x}");
    let mut out = render_delete(table);
    let _ = writeln!(out, "table ip {table} {{");
    let _ = writeln!(out, "\tcomment \"rules for k8rs service proxy\"\n");

    write_set(&mut out, "cluster-ips", "ipv4_addr", &cluster_ips);
    let node_ip_strings: Vec<String> = node_ips.iter().map(ToString::to_string).collect();
    write_set(&mut out, "nodeport-ips", "ipv4_addr", &node_ip_strings);
    write_map(
        &mut out,
        "service-ips",
        "ipv4_addr . inet_proto . inet_service : verdict",
        &service_ips,
    );
    write_map(
        &mut out,
        "service-nodeports",
        "inet_proto . inet_service : verdict",
        &service_nodeports,
    );
    write_map(
        &mut out,
        "no-endpoint-services",
        "ipv4_addr . inet_proto . inet_service : verdict",
        &no_endpoint_services,
    );
    write_map(
        &mut out,
        "no-endpoint-nodeports",
        "inet_proto . inet_service : verdict",
        &no_endpoint_nodeports,
    );
    out.push_str(&affinity_sets);

    // Filter hooks run just before (input/forward) or around (output) NAT; only new
    // connections to ports without endpoints are rejected here.
    for (chain, hook) in [
        ("filter-input", "input"),
        ("filter-forward", "forward"),
        ("filter-output", "output"),
    ] {
        let _ = write!(
            out,
            "\tchain {chain} {{\n\t\ttype filter hook {hook} priority -110; policy accept;\n\t\tct state new jump endpoints-check\n\t}}\n\n"
        );
    }
    // A cluster IP on a port that is not a service port was not DNATed: reject it
    // instead of letting it wander off through the default route.
    out.push_str(
        "\tchain filter-forward-post-dnat {\n\t\ttype filter hook forward priority -90; policy accept;\n\t\tct state new ip daddr @cluster-ips reject\n\t}\n\n",
    );
    out.push_str(
        "\tchain filter-output-post-dnat {\n\t\ttype filter hook output priority -90; policy accept;\n\t\tct state new ip daddr @cluster-ips reject\n\t}\n\n",
    );
    out.push_str(
        "\tchain endpoints-check {\n\t\tip daddr . meta l4proto . th dport vmap @no-endpoint-services\n\t\tip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports\n\t}\n\n",
    );
    out.push_str("\tchain reject-chain {\n\t\treject\n\t}\n\n");

    out.push_str(
        "\tchain nat-prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tjump services\n\t}\n\n",
    );
    out.push_str("\tchain nat-output {\n\t\ttype nat hook output priority -100; policy accept;\n\t\tjump services\n\t}\n\n");
    out.push_str(
        "\tchain nat-postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\tjump masquerading\n\t}\n\n",
    );
    let _ = write!(
        out,
        "\tchain masquerading {{\n\t\tmeta mark & {mark} == 0x00000000 return\n\t\tmeta mark set meta mark ^ {mark}\n\t\tmasquerade fully-random\n\t}}\n\n"
    );
    let _ = write!(
        out,
        "\tchain mark-for-masquerade {{\n\t\tmeta mark set meta mark | {mark}\n\t}}\n\n"
    );
    out.push_str(
        "\tchain services {\n\t\tip daddr . meta l4proto . th dport vmap @service-ips\n\t\tip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports\n\t}\n\n",
    );
    out.push_str(&chains);
    // Drop the blank line after the last block.
    if out.ends_with("\n\n") {
        out.pop();
    }
    out.push_str("}\n");
    out
}

fn render_service_chain(out: &mut String, sp: &ServicePort, chain: &str, config: &RenderConfig) {
    let proto = sp.protocol.nft();
    let _ = writeln!(out, "\tchain {chain} {{");
    // Clients outside the pod network (the host itself, other hosts) are masqueraded so
    // the reply comes back through this node's conntrack entry.
    let _ = writeln!(
        out,
        "\t\tip daddr {} {proto} dport {} ip saddr != {} jump mark-for-masquerade",
        sp.cluster_ip, sp.port, config.cluster_cidr
    );
    if sp.affinity_timeout_seconds.is_some() {
        for ep in &sp.endpoints {
            let _ = writeln!(
                out,
                "\t\tip saddr @{} goto {}",
                affinity_set(sp, ep),
                endpoint_chain(sp, ep)
            );
        }
    }
    let targets: Vec<String> = sp
        .endpoints
        .iter()
        .enumerate()
        .map(|(i, ep)| format!("{i} : goto {}", endpoint_chain(sp, ep)))
        .collect();
    let _ = writeln!(
        out,
        "\t\tnumgen random mod {} vmap {{ {} }}",
        sp.endpoints.len(),
        targets.join(", ")
    );
    let _ = write!(out, "\t}}\n\n");
}

fn endpoint_chain(sp: &ServicePort, ep: &Endpoint) -> String {
    format!("endpoint-{}__{}/{}", sp.id(), ep.ip, ep.port)
}

fn affinity_set(sp: &ServicePort, ep: &Endpoint) -> String {
    format!("affinity-{}__{}/{}", sp.id(), ep.ip, ep.port)
}

fn write_set(out: &mut String, name: &str, type_: &str, elements: &[String]) {
    let _ = writeln!(out, "\tset {name} {{\n\t\ttype {type_}");
    write_elements(out, elements);
    let _ = write!(out, "\t}}\n\n");
}

fn write_map(out: &mut String, name: &str, type_: &str, elements: &[String]) {
    let _ = writeln!(out, "\tmap {name} {{\n\t\ttype {type_}");
    write_elements(out, elements);
    let _ = write!(out, "\t}}\n\n");
}

fn write_elements(out: &mut String, elements: &[String]) {
    // An empty `elements = { }` is a syntax error, so it is omitted.
    if elements.is_empty() {
        return;
    }
    let _ = writeln!(out, "\t\telements = {{");
    for (i, e) in elements.iter().enumerate() {
        let sep = if i + 1 == elements.len() { "" } else { "," };
        let _ = writeln!(out, "\t\t\t{e}{sep}");
    }
    let _ = writeln!(out, "\t\t}}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::build;
    use crate::model::testutil::{service, slice};
    use k8s_openapi::api::core::v1::{LoadBalancerIngress, LoadBalancerStatus, ServiceStatus};

    fn config() -> RenderConfig {
        RenderConfig {
            table: "k8rs".into(),
            cluster_cidr: "10.42.0.0/16".parse().unwrap(),
            node_ips: vec!["127.0.0.2".parse().unwrap()],
        }
    }

    /// The lines of the ruleset between `chain <name> {` and its closing brace.
    fn chain_body(ruleset: &str, name: &str) -> Vec<String> {
        let header = format!("\tchain {name} {{");
        let mut lines = ruleset.lines().skip_while(|l| *l != header);
        assert!(
            lines.next().is_some(),
            "chain {name} missing in:\n{ruleset}"
        );
        lines
            .take_while(|l| *l != "\t}")
            .map(|l| l.trim().to_string())
            .collect()
    }

    /// The element lines of a set or map.
    fn elements(ruleset: &str, kind: &str, name: &str) -> Vec<String> {
        let header = format!("\t{kind} {name} {{");
        let mut lines = ruleset.lines().skip_while(|l| *l != header);
        assert!(lines.next().is_some(), "{kind} {name} missing");
        lines
            .take_while(|l| *l != "\t}")
            .skip_while(|l| !l.contains("elements = {"))
            .skip(1)
            .take_while(|l| l.trim() != "}")
            .map(|l| l.trim().trim_end_matches(',').to_string())
            .collect()
    }

    #[test]
    fn cluster_ip_with_two_endpoints() {
        let svc = service(
            "web",
            "ClusterIP",
            "10.43.0.20",
            &[("http", "TCP", 80, None)],
        );
        let s = slice(
            "web",
            "a",
            &[("http", "TCP", 8080)],
            &[("10.42.0.6", Some(true), false), ("10.42.0.5", None, false)],
        );
        let out = render(&build([&svc], [&s]), &config());

        assert!(out.starts_with("add table ip k8rs\ndelete table ip k8rs\ntable ip k8rs {\n"));
        assert_eq!(
            elements(&out, "map", "service-ips"),
            vec!["10.43.0.20 . tcp . 80 : goto service-default/web/tcp/http"]
        );
        assert_eq!(elements(&out, "set", "cluster-ips"), vec!["10.43.0.20"]);
        assert_eq!(
            chain_body(&out, "service-default/web/tcp/http"),
            vec![
                "ip daddr 10.43.0.20 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
                "numgen random mod 2 vmap { 0 : goto endpoint-default/web/tcp/http__10.42.0.5/8080, 1 : goto endpoint-default/web/tcp/http__10.42.0.6/8080 }",
            ]
        );
        assert_eq!(
            chain_body(&out, "endpoint-default/web/tcp/http__10.42.0.5/8080"),
            vec![
                "ip saddr 10.42.0.5 jump mark-for-masquerade",
                "meta l4proto tcp dnat to 10.42.0.5:8080",
            ]
        );
        assert!(elements(&out, "map", "no-endpoint-services").is_empty());
        // Not a NodePort service: no external chain.
        assert!(!out.contains("external-default/web"));
        // Deterministic.
        assert_eq!(out, render(&build([&svc], [&s]), &config()));
    }

    #[test]
    fn no_endpoints_rejects() {
        let svc = service(
            "web",
            "NodePort",
            "10.43.0.20",
            &[("", "TCP", 80, Some(30080))],
        );
        let out = render(&build([&svc], []), &config());
        assert_eq!(
            elements(&out, "map", "no-endpoint-services"),
            vec!["10.43.0.20 . tcp . 80 : goto reject-chain"]
        );
        assert_eq!(
            elements(&out, "map", "no-endpoint-nodeports"),
            vec!["tcp . 30080 : goto reject-chain"]
        );
        assert!(elements(&out, "map", "service-ips").is_empty());
        assert!(!out.contains("chain service-default/web"));
        assert_eq!(chain_body(&out, "reject-chain"), vec!["reject"]);
        assert_eq!(
            chain_body(&out, "filter-input"),
            vec![
                "type filter hook input priority -110; policy accept;",
                "ct state new jump endpoints-check"
            ]
        );
    }

    #[test]
    fn node_port() {
        let svc = service(
            "web",
            "NodePort",
            "10.43.0.20",
            &[("", "TCP", 80, Some(30080))],
        );
        let s = slice(
            "web",
            "a",
            &[("", "TCP", 8080)],
            &[("10.42.0.5", Some(true), false)],
        );
        let mut cfg = config();
        cfg.node_ips = vec![
            "192.168.1.10".parse().unwrap(),
            "127.0.0.2".parse().unwrap(),
        ];
        let out = render(&build([&svc], [&s]), &cfg);
        assert_eq!(
            elements(&out, "set", "nodeport-ips"),
            vec!["127.0.0.2", "192.168.1.10"]
        );
        assert_eq!(
            elements(&out, "map", "service-nodeports"),
            vec!["tcp . 30080 : goto external-default/web/tcp/80"]
        );
        assert_eq!(
            chain_body(&out, "external-default/web/tcp/80"),
            vec![
                "jump mark-for-masquerade",
                "goto service-default/web/tcp/80"
            ]
        );
        assert_eq!(
            chain_body(&out, "services"),
            vec![
                "ip daddr . meta l4proto . th dport vmap @service-ips",
                "ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports",
            ]
        );
        assert_eq!(
            chain_body(&out, "masquerading"),
            vec![
                "meta mark & 0x00004000 == 0x00000000 return",
                "meta mark set meta mark ^ 0x00004000",
                "masquerade fully-random",
            ]
        );
    }

    #[test]
    fn load_balancer_ingress() {
        let mut svc = service(
            "web",
            "LoadBalancer",
            "10.43.0.20",
            &[("", "TCP", 80, Some(30080))],
        );
        svc.status = Some(ServiceStatus {
            load_balancer: Some(LoadBalancerStatus {
                ingress: Some(vec![
                    LoadBalancerIngress {
                        ip: Some("192.168.5.5".into()),
                        ..Default::default()
                    },
                    LoadBalancerIngress {
                        hostname: Some("lb.example".into()),
                        ..Default::default()
                    },
                ]),
            }),
            ..Default::default()
        });
        let s = slice(
            "web",
            "a",
            &[("", "TCP", 8080)],
            &[("10.42.0.5", Some(true), false)],
        );
        let out = render(&build([&svc], [&s]), &config());
        assert_eq!(
            elements(&out, "map", "service-ips"),
            vec![
                "10.43.0.20 . tcp . 80 : goto service-default/web/tcp/80",
                "192.168.5.5 . tcp . 80 : goto external-default/web/tcp/80",
            ]
        );
        assert_eq!(
            elements(&out, "map", "service-nodeports"),
            vec!["tcp . 30080 : goto external-default/web/tcp/80"]
        );

        // Without endpoints the LB IP is rejected too.
        let out = render(&build([&svc], []), &config());
        assert_eq!(
            elements(&out, "map", "no-endpoint-services"),
            vec![
                "10.43.0.20 . tcp . 80 : goto reject-chain",
                "192.168.5.5 . tcp . 80 : goto reject-chain",
            ]
        );
    }

    #[test]
    fn not_ready_endpoint_excluded() {
        let svc = service("web", "ClusterIP", "10.43.0.20", &[("", "TCP", 80, None)]);
        let s = slice(
            "web",
            "a",
            &[("", "TCP", 8080)],
            &[
                ("10.42.0.5", Some(true), false),
                ("10.42.0.6", Some(false), false),
            ],
        );
        let out = render(&build([&svc], [&s]), &config());
        assert!(!out.contains("10.42.0.6"));
        assert_eq!(
            chain_body(&out, "service-default/web/tcp/80")[1],
            "numgen random mod 1 vmap { 0 : goto endpoint-default/web/tcp/80__10.42.0.5/8080 }"
        );

        // All endpoints not ready: reject.
        let s = slice(
            "web",
            "a",
            &[("", "TCP", 8080)],
            &[("10.42.0.6", Some(false), false)],
        );
        let out = render(&build([&svc], [&s]), &config());
        assert_eq!(
            elements(&out, "map", "no-endpoint-services"),
            vec!["10.43.0.20 . tcp . 80 : goto reject-chain"]
        );
    }

    #[test]
    fn udp_port() {
        let svc = service(
            "dns",
            "ClusterIP",
            "10.43.0.10",
            &[("dns", "UDP", 53, None)],
        );
        let s = slice(
            "dns",
            "a",
            &[("dns", "UDP", 5353)],
            &[("10.42.0.3", Some(true), false)],
        );
        let out = render(&build([&svc], [&s]), &config());
        assert_eq!(
            elements(&out, "map", "service-ips"),
            vec!["10.43.0.10 . udp . 53 : goto service-default/dns/udp/dns"]
        );
        assert_eq!(
            chain_body(&out, "service-default/dns/udp/dns")[0],
            "ip daddr 10.43.0.10 udp dport 53 ip saddr != 10.42.0.0/16 jump mark-for-masquerade"
        );
        assert_eq!(
            chain_body(&out, "endpoint-default/dns/udp/dns__10.42.0.3/5353")[1],
            "meta l4proto udp dnat to 10.42.0.3:5353"
        );
    }

    #[test]
    fn multiple_ports() {
        let svc = service(
            "web",
            "ClusterIP",
            "10.43.0.20",
            &[
                ("http", "TCP", 80, None),
                ("https", "TCP", 443, None),
                ("quic", "UDP", 443, None),
            ],
        );
        let s = slice(
            "web",
            "a",
            &[("http", "TCP", 8080), ("https", "TCP", 8443)],
            &[("10.42.0.5", Some(true), false)],
        );
        let out = render(&build([&svc], [&s]), &config());
        assert_eq!(
            elements(&out, "map", "service-ips"),
            vec![
                "10.43.0.20 . tcp . 443 : goto service-default/web/tcp/https",
                "10.43.0.20 . tcp . 80 : goto service-default/web/tcp/http",
            ]
        );
        assert_eq!(
            elements(&out, "map", "no-endpoint-services"),
            vec!["10.43.0.20 . udp . 443 : goto reject-chain"]
        );
        assert_eq!(
            chain_body(&out, "endpoint-default/web/tcp/https__10.42.0.5/8443")[1],
            "meta l4proto tcp dnat to 10.42.0.5:8443"
        );
        // One cluster IP in the set despite three ports.
        assert_eq!(elements(&out, "set", "cluster-ips"), vec!["10.43.0.20"]);
    }

    #[test]
    fn session_affinity_client_ip() {
        let mut svc = service("web", "ClusterIP", "10.43.0.20", &[("", "TCP", 80, None)]);
        if let Some(spec) = svc.spec.as_mut() {
            spec.session_affinity = Some("ClientIP".into());
        }
        let s = slice(
            "web",
            "a",
            &[("", "TCP", 8080)],
            &[("10.42.0.5", Some(true), false)],
        );
        let out = render(&build([&svc], [&s]), &config());
        assert!(out.contains(
            "\tset affinity-default/web/tcp/80__10.42.0.5/8080 {\n\t\ttype ipv4_addr\n\t\tflags dynamic,timeout\n\t\ttimeout 10800s\n\t}\n"
        ));
        assert_eq!(
            chain_body(&out, "service-default/web/tcp/80")[1],
            "ip saddr @affinity-default/web/tcp/80__10.42.0.5/8080 goto endpoint-default/web/tcp/80__10.42.0.5/8080"
        );
        assert_eq!(
            chain_body(&out, "endpoint-default/web/tcp/80__10.42.0.5/8080")[1],
            "update @affinity-default/web/tcp/80__10.42.0.5/8080 { ip saddr }"
        );
    }

    #[test]
    fn empty_snapshot_still_has_hooks() {
        let out = render(&Snapshot::default(), &config());
        assert!(out.contains("type nat hook prerouting priority dstnat"));
        assert!(out.contains("type nat hook output priority -100"));
        assert!(out.contains("type nat hook postrouting priority srcnat"));
        assert!(!out.contains("elements = {\n\t\t}"));
        assert!(out.ends_with("\t}\n}\n"));
    }
}
