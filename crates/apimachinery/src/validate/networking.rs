//! networking.k8s.io/v1 Ingress, IngressClass and NetworkPolicy.

use serde_json::Value;

use super::util::{arr_of, has, int_of, invalid_int, label_selector, str_of};
use crate::status::Cause;
use crate::validation::{cidr, dns1035_label, dns1123_subdomain, ip_address, port_name, port_num};

fn backend(b: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let svc = b.and_then(|b| b.get("service")).filter(|v| !v.is_null());
    let res = has(b, "resource");
    match (res, svc) {
        (true, Some(_)) => causes.push(Cause::invalid(
            path,
            "",
            "cannot set both resource and service backends",
        )),
        (true, None) => {
            let r = b.and_then(|b| b.get("resource"));
            if str_of(r, "kind").is_empty() {
                causes.push(Cause::required(format!("{path}.resource.kind")));
            }
            if str_of(r, "name").is_empty() {
                causes.push(Cause::required(format!("{path}.resource.name")));
            }
        }
        (false, Some(s)) => {
            let name = str_of(Some(s), "name");
            if name.is_empty() {
                causes.push(Cause::required(format!("{path}.service.name")));
            } else if let Err(msgs) = dns1035_label(name) {
                for m in msgs {
                    causes.push(Cause::invalid(format!("{path}.service.name"), name, &m));
                }
            }
            let port = s.get("port");
            let pname = str_of(port, "name");
            let pnum = int_of(port, "number").unwrap_or(0);
            if !pname.is_empty() && pnum != 0 {
                causes.push(Cause::invalid(
                    path,
                    "",
                    "cannot set both port name & port number",
                ));
            } else if !pname.is_empty() {
                if let Err(msgs) = port_name(pname) {
                    for m in msgs {
                        causes.push(Cause::invalid(
                            format!("{path}.service.port.name"),
                            pname,
                            &m,
                        ));
                    }
                }
            } else if pnum != 0 {
                if let Err(msgs) = port_num(pnum) {
                    for m in msgs {
                        causes.push(invalid_int(format!("{path}.service.port.number"), pnum, &m));
                    }
                }
            } else {
                causes.push(super::util::required_msg(
                    format!("{path}.service.port"),
                    "port name or number is required",
                ));
            }
        }
        (false, None) => causes.push(Cause::invalid(
            path,
            "",
            "resource or service backend is required",
        )),
    }
}

pub fn ingress(obj: &Value, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    let rules = arr_of(spec, "rules");
    let default = spec
        .and_then(|s| s.get("defaultBackend"))
        .filter(|v| !v.is_null());
    if rules.is_empty() && default.is_none() {
        causes.push(super::util::invalid_raw(
            "spec",
            "[]networking.IngressRule(nil)",
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(d) = default {
        backend(Some(d), "spec.defaultBackend", causes);
    }
    for (i, rule) in rules.iter().enumerate() {
        let p = format!("spec.rules[{i}]");
        let host = str_of(Some(rule), "host");
        if !host.is_empty() {
            if ip_address(host).is_ok() {
                causes.push(Cause::invalid(
                    format!("{p}.host"),
                    host,
                    "must be a DNS name, not an IP address",
                ));
            } else if let Some(rest) = host.strip_prefix("*.") {
                if dns1123_subdomain(rest).is_err() {
                    causes.push(Cause::invalid(
                        format!("{p}.host"),
                        host,
                        "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                    ));
                }
            } else if let Err(msgs) = dns1123_subdomain(host) {
                for m in msgs {
                    causes.push(Cause::invalid(format!("{p}.host"), host, &m));
                }
            }
        }
        let Some(http) = rule.get("http").filter(|v| !v.is_null()) else {
            continue;
        };
        let hp = format!("{p}.http");
        let paths = arr_of(Some(http), "paths");
        if paths.is_empty() {
            causes.push(Cause::required(format!("{hp}.paths")));
        }
        for (j, path) in paths.iter().enumerate() {
            let pp = format!("{hp}.paths[{j}]");
            let pt = str_of(Some(path), "pathType");
            let ps = str_of(Some(path), "path");
            const TYPES: &[&str] = &["Exact", "ImplementationSpecific", "Prefix"];
            if pt.is_empty() {
                causes.push(super::util::required_msg(
                    format!("{pp}.pathType"),
                    "pathType must be specified",
                ));
            } else if !TYPES.contains(&pt) {
                causes.push(Cause::not_supported(format!("{pp}.pathType"), pt, TYPES));
            }
            let exact_or_prefix = pt == "Exact" || pt == "Prefix";
            if (!ps.is_empty() && !ps.starts_with('/')) || (exact_or_prefix && ps.is_empty()) {
                causes.push(Cause::invalid(
                    format!("{pp}.path"),
                    ps,
                    "must be an absolute path",
                ));
            } else if pt == "Exact" || pt == "Prefix" {
                for bad in ["//", "/./", "/../", "%2f", "%2F"] {
                    if ps.contains(bad) {
                        causes.push(Cause::invalid(
                            format!("{pp}.path"),
                            ps,
                            &format!("must not contain '{bad}'"),
                        ));
                    }
                }
            }
            backend(path.get("backend"), &format!("{pp}.backend"), causes);
        }
    }
    for (i, tls) in arr_of(spec, "tls").iter().enumerate() {
        for (j, h) in arr_of(Some(tls), "hosts").iter().enumerate() {
            let h = h.as_str().unwrap_or_default();
            let check = h.strip_prefix("*.").unwrap_or(h);
            if let Err(msgs) = dns1123_subdomain(check) {
                for m in msgs {
                    causes.push(Cause::invalid(format!("spec.tls[{i}].hosts[{j}]"), h, &m));
                }
            }
        }
    }
    let class = str_of(spec, "ingressClassName");
    if !class.is_empty()
        && let Err(msgs) = dns1123_subdomain(class)
    {
        for m in msgs {
            causes.push(Cause::invalid("spec.ingressClassName", class, &m));
        }
    }
}

pub fn ingress_class(obj: &Value, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    let controller = str_of(spec, "controller");
    if controller.is_empty() {
        causes.push(Cause::required("spec.controller"));
    } else if controller.len() > 250 {
        causes.push(super::util::too_long("spec.controller", 250));
    }
}

fn peer_ports(rule: &Value, path: &str, peer_key: &str, causes: &mut Vec<Cause>) {
    for (i, port) in arr_of(Some(rule), "ports").iter().enumerate() {
        let pp = format!("{path}.ports[{i}]");
        let proto = str_of(Some(port), "protocol");
        if !proto.is_empty() && !["SCTP", "TCP", "UDP"].contains(&proto) {
            causes.push(Cause::not_supported(
                format!("{pp}.protocol"),
                proto,
                &["SCTP", "TCP", "UDP"],
            ));
        }
        if let Some(p) = port.get("port").filter(|v| !v.is_null()) {
            super::pod::port_num_or_name(Some(p), &format!("{pp}.port"), causes);
        }
        if let Some(end) = int_of(Some(port), "endPort") {
            let start = int_of(Some(port), "port");
            match start {
                None => causes.push(super::util::required_msg(
                    format!("{pp}.port"),
                    "must be specified when endPort is specified",
                )),
                Some(s) if end < s => causes.push(invalid_int(
                    format!("{pp}.endPort"),
                    end,
                    "must be greater than or equal to `port`",
                )),
                _ => {}
            }
        }
    }
    for (i, peer) in arr_of(Some(rule), peer_key).iter().enumerate() {
        let pp = format!("{path}.{peer_key}[{i}]");
        let n = ["podSelector", "namespaceSelector", "ipBlock"]
            .iter()
            .filter(|k| has(Some(peer), k))
            .count();
        if n == 0 {
            causes.push(super::util::required_msg(&pp, "must specify a peer"));
        } else if has(Some(peer), "ipBlock") && n > 1 {
            causes.push(Cause::forbidden(
                &pp,
                "may not specify both ipBlock and another peer",
            ));
        }
        label_selector(
            peer.get("podSelector"),
            &format!("{pp}.podSelector"),
            causes,
        );
        label_selector(
            peer.get("namespaceSelector"),
            &format!("{pp}.namespaceSelector"),
            causes,
        );
        if let Some(ib) = peer.get("ipBlock").filter(|v| !v.is_null()) {
            let c = str_of(Some(ib), "cidr");
            if c.is_empty() {
                causes.push(Cause::required(format!("{pp}.ipBlock.cidr")));
            } else if let Err(msgs) = cidr(c) {
                for m in msgs {
                    causes.push(Cause::invalid(format!("{pp}.ipBlock.cidr"), c, &m));
                }
            }
            for (j, e) in arr_of(Some(ib), "except").iter().enumerate() {
                let e = e.as_str().unwrap_or_default();
                if let Err(msgs) = cidr(e) {
                    for m in msgs {
                        causes.push(Cause::invalid(format!("{pp}.ipBlock.except[{j}]"), e, &m));
                    }
                }
            }
        }
    }
}

pub fn network_policy(obj: &Value, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    label_selector(
        spec.and_then(|s| s.get("podSelector")),
        "spec.podSelector",
        causes,
    );
    for (i, r) in arr_of(spec, "ingress").iter().enumerate() {
        peer_ports(r, &format!("spec.ingress[{i}]"), "from", causes);
    }
    for (i, r) in arr_of(spec, "egress").iter().enumerate() {
        peer_ports(r, &format!("spec.egress[{i}]"), "to", causes);
    }
    let types = arr_of(spec, "policyTypes");
    for (i, t) in types.iter().enumerate() {
        let t = t.as_str().unwrap_or_default();
        if t != "Ingress" && t != "Egress" {
            causes.push(Cause::not_supported(
                format!("spec.policyTypes[{i}]"),
                t,
                &["Egress", "Ingress"],
            ));
        }
    }
    if types.len() > 2 {
        causes.push(super::util::invalid_raw(
            "spec.policyTypes",
            &super::util::go_string_slice(types).replace("[]string", "[]networking.PolicyType"),
            "may not specify more than two policyTypes",
        ));
    }
}
