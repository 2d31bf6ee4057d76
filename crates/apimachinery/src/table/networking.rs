//! Printers of networking.k8s.io and discovery.k8s.io kinds.

use std::collections::BTreeSet;

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::{
    Col, age, arr, format_label_selector, is_set, list_with_more, name, opt_i, opt_s, or_default, s,
};

pub(super) const INGRESS: &[Col] = &[
    Col::name(),
    Col::new(
        "Class",
        "string",
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    Col::new(
        "Hosts",
        "string",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    Col::new(
        "Address",
        "string",
        "Address is a list containing ingress points for the load-balancer",
    ),
    Col::new("Ports", "string", "Ports of TLS configurations that open"),
    Col::age(),
];

/// Up to three hosts, then ` + N more...` counted over all rules; `*` without hosts.
fn format_hosts(rules: &[Value]) -> String {
    const MAX: usize = 3;
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if list.len() == MAX {
            more = true;
        }
        let host = s(rule, "/host");
        if !more && !host.is_empty() {
            list.push(host);
        }
    }
    if list.is_empty() {
        return "*".into();
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", rules.len() - MAX)
    } else {
        joined
    }
}

pub(super) fn ingress(o: &Value, now: Timestamp) -> Vec<Value> {
    let address: BTreeSet<&str> = arr(o, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| or_default(s(i, "/ip"), s(i, "/hostname")))
        .filter(|a| !a.is_empty())
        .collect();
    let ports = if arr(o, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        json!(name(o)),
        json!(opt_s(o, "/spec/ingressClassName").unwrap_or("<none>")),
        json!(format_hosts(arr(o, "/spec/rules"))),
        json!(address.into_iter().collect::<Vec<_>>().join(",")),
        json!(ports),
        json!(age(o, now)),
    ]
}

pub(super) const INGRESS_CLASS: &[Col] = &[
    Col::name(),
    Col::new(
        "Controller",
        "string",
        "Controller that is responsible for handling this class",
    ),
    Col::new(
        "Parameters",
        "string",
        "A reference to a resource with additional parameters",
    ),
    Col::age(),
];

pub(super) fn ingress_class(o: &Value, now: Timestamp) -> Vec<Value> {
    let parameters = match o.pointer("/spec/parameters").filter(|p| !p.is_null()) {
        Some(p) => {
            let mut out = s(p, "/kind").to_string();
            if let Some(group) = opt_s(p, "/apiGroup") {
                out = format!("{out}.{group}");
            }
            format!("{out}/{}", s(p, "/name"))
        }
        None => "<none>".into(),
    };
    vec![
        json!(name(o)),
        json!(s(o, "/spec/controller")),
        json!(parameters),
        json!(age(o, now)),
    ]
}

pub(super) const NETWORK_POLICY: &[Col] = &[
    Col::name(),
    Col::new(
        "Pod-Selector",
        "string",
        "Selects the pods to which this NetworkPolicy object applies.",
    ),
    Col::age(),
];

pub(super) fn network_policy(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(format_label_selector(o.pointer("/spec/podSelector"))),
        json!(age(o, now)),
    ]
}

pub(super) const ENDPOINT_SLICE: &[Col] = &[
    Col::name(),
    Col::new(
        "AddressType",
        "string",
        "addressType specifies the type of address carried by this EndpointSlice.",
    ),
    Col::new(
        "Ports",
        "string",
        "ports specifies the list of network ports exposed by each endpoint in this slice.",
    ),
    Col::new(
        "Endpoints",
        "string",
        "endpoints is a list of unique endpoints in this slice.",
    ),
    Col::age(),
];

pub(super) fn endpoint_slice(o: &Value, now: Timestamp) -> Vec<Value> {
    let ports: Vec<String> = arr(o, "/ports")
        .iter()
        .map(|p| match (opt_i(p, "/port"), opt_s(p, "/name")) {
            (Some(n), _) => n.to_string(),
            (None, Some(name)) => name.to_string(),
            (None, None) => "*".into(),
        })
        .collect();
    let addresses: Vec<String> = arr(o, "/endpoints")
        .iter()
        .flat_map(|e| arr(e, "/addresses").iter().filter_map(Value::as_str))
        .map(String::from)
        .collect();
    vec![
        json!(name(o)),
        json!(s(o, "/addressType")),
        json!(list_with_more(&ports, 3)),
        json!(list_with_more(&addresses, 3)),
        json!(age(o, now)),
    ]
}

pub(super) const SERVICE_CIDR: &[Col] = &[
    Col::name(),
    Col::new(
        "CIDRs",
        "string",
        "CIDRs defines the IP blocks in CIDR notation from which to assign service cluster IPs.",
    ),
    Col::age(),
];

pub(super) fn service_cidr(o: &Value, now: Timestamp) -> Vec<Value> {
    let cidrs: Vec<&str> = arr(o, "/spec/cidrs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    vec![json!(name(o)), json!(cidrs.join(",")), json!(age(o, now))]
}

pub(super) const IP_ADDRESS: &[Col] = &[
    Col::name(),
    Col::new(
        "ParentRef",
        "string",
        "ParentRef references the resource that an IPAddress is attached to.",
    ),
];

pub(super) fn ip_address(o: &Value, _now: Timestamp) -> Vec<Value> {
    let parent = match o
        .pointer("/spec/parentRef")
        .filter(|p| !p.is_null() && p.is_object())
    {
        Some(p) => {
            let group = s(p, "/group");
            let resource = s(p, "/resource");
            let mut out = if group.is_empty() {
                resource.to_lowercase()
            } else {
                format!("{resource}.{group}").to_lowercase()
            };
            if is_set(p, "/namespace") && !s(p, "/namespace").is_empty() {
                out = format!("{out}/{}", s(p, "/namespace"));
            }
            format!("{out}/{}", s(p, "/name"))
        }
        None => "<none>".into(),
    };
    vec![json!(name(o)), json!(parent)]
}

#[cfg(test)]
mod tests {
    use super::super::test_support::row;
    use serde_json::{Value, json};

    fn meta(name: &str) -> Value {
        json!({"name": name, "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"})
    }

    #[test]
    fn ingress_rows() {
        let ing = json!({"metadata": meta("web"), "spec": {"ingressClassName": "nginx",
            "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}],
            "tls": [{"hosts": ["a.example.com"]}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}, {"hostname": "lb.example.com"}, {"ip": "192.0.2.10"}]}}});
        assert_eq!(
            row("Ingress", ing),
            [
                json!("web"),
                json!("nginx"),
                json!("a.example.com,b.example.com"),
                json!("192.0.2.10,lb.example.com"),
                json!("80, 443"),
                json!("10m")
            ]
        );
        let default_backend = json!({"metadata": meta("d"), "spec": {"defaultBackend": {}}});
        assert_eq!(
            row("Ingress", default_backend),
            [
                json!("d"),
                json!("<none>"),
                json!("*"),
                json!(""),
                json!("80"),
                json!("10m")
            ]
        );
        let many = json!({"metadata": meta("m"), "spec": {"rules": [
            {"host": "a"}, {}, {"host": "b"}, {"host": "c"}, {"host": "d"}, {"host": "e"}]}});
        assert_eq!(row("Ingress", many)[2], "a,b,c + 3 more...");
    }

    #[test]
    fn ingress_class_and_network_policy() {
        let ic = json!({"metadata": {"name": "nginx", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"controller": "k8s.io/ingress-nginx",
                "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb"}}});
        assert_eq!(
            row("IngressClass", ic),
            [
                json!("nginx"),
                json!("k8s.io/ingress-nginx"),
                json!("IngressParameters.k8s.example.com/external-lb"),
                json!("10m")
            ]
        );
        let bare = json!({"metadata": {"name": "x"}, "spec": {"controller": "c"}});
        assert_eq!(row("IngressClass", bare)[2], "<none>");
        let np = json!({"metadata": meta("deny"), "spec": {"podSelector": {}}});
        assert_eq!(
            row("NetworkPolicy", np),
            [json!("deny"), json!("<none>"), json!("10m")]
        );
        let np = json!({"metadata": meta("web"), "spec": {"podSelector": {"matchLabels": {"role": "db"}}}});
        assert_eq!(row("NetworkPolicy", np)[1], "role=db");
    }

    #[test]
    fn endpoint_slice_rows() {
        let es = json!({"metadata": meta("web-abc12"), "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}, {"name": "metrics"}, {}, {"port": 1}],
            "endpoints": [{"addresses": ["10.42.0.5"]}, {"addresses": ["10.42.0.6", "10.42.0.7"]}]});
        assert_eq!(
            row("EndpointSlice", es),
            [
                json!("web-abc12"),
                json!("IPv4"),
                json!("8080,metrics,* + 1 more..."),
                json!("10.42.0.5,10.42.0.6,10.42.0.7"),
                json!("10m")
            ]
        );
        let empty = json!({"metadata": meta("e"), "addressType": "IPv4"});
        let c = row("EndpointSlice", empty);
        assert_eq!(c[2], "<unset>");
        assert_eq!(c[3], "<unset>");
    }

    #[test]
    fn service_cidr_and_ip_address() {
        let sc = json!({"metadata": {"name": "kubernetes", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"cidrs": ["10.43.0.0/16", "fd00:43::/112"]}});
        assert_eq!(
            row("ServiceCIDR", sc),
            [
                json!("kubernetes"),
                json!("10.43.0.0/16,fd00:43::/112"),
                json!("10m")
            ]
        );
        let ip = json!({"metadata": {"name": "10.43.0.1"},
            "spec": {"parentRef": {"group": "", "resource": "services", "namespace": "default", "name": "kubernetes"}}});
        assert_eq!(
            row("IPAddress", ip),
            [json!("10.43.0.1"), json!("services/default/kubernetes")]
        );
    }
}
