//! Discovery documents: the legacy `/api`, `/apis`, per-group-version resource lists, and
//! aggregated discovery (apidiscovery.k8s.io v2 and v2beta1) that kubectl asks for first.

use apimachinery::registry::{self, ResourceInfo};
use serde_json::{Value, json};

/// The kind and verbs of a subresource, as discovery reports them.
fn subresource_kind(info: &ResourceInfo, sub: &str) -> (Value, &'static [&'static str]) {
    let gvk = |g: &str, v: &str, k: &str| json!({"group": g, "version": v, "kind": k});
    let own = gvk(info.group, info.version, info.kind);
    match sub {
        "status" => (own, &["get", "patch", "update"]),
        "scale" => (
            gvk("autoscaling", "v1", "Scale"),
            &["get", "patch", "update"],
        ),
        "log" => (gvk("", "v1", "Pod"), &["get"]),
        "binding" => (gvk("", "v1", "Binding"), &["create"]),
        "eviction" => (gvk("policy", "v1", "Eviction"), &["create"]),
        "exec" => (gvk("", "v1", "PodExecOptions"), &["create", "get"]),
        "attach" => (gvk("", "v1", "PodAttachOptions"), &["create", "get"]),
        "portforward" => (gvk("", "v1", "PodPortForwardOptions"), &["create", "get"]),
        "proxy" => {
            let k = match info.kind {
                "Node" => "NodeProxyOptions",
                "Service" => "ServiceProxyOptions",
                _ => "PodProxyOptions",
            };
            (
                gvk("", "v1", k),
                &["create", "delete", "get", "patch", "update"],
            )
        }
        "finalize" => (own, &["update"]),
        "token" => (
            gvk("authentication.k8s.io", "v1", "TokenRequest"),
            &["create"],
        ),
        _ => (own, &["get", "patch", "update"]),
    }
}

/// `GET /api`
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn api_group(name: &str, versions: &[&str]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({"name": name, "versions": vs, "preferredVersion": vs.first().cloned().unwrap_or(Value::Null)})
}

/// `GET /apis`
pub fn group_list() -> Value {
    let groups: Vec<Value> = registry::groups()
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, vs)| api_group(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/<group>`
pub fn group(name: &str) -> Option<Value> {
    let groups = registry::groups();
    let (_, versions) = groups.iter().find(|(g, _)| *g == name && !g.is_empty())?;
    let mut g = api_group(name, versions);
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    Some(g)
}

/// `GET /api/v1` or `/apis/<group>/<version>`
pub fn resource_list(group: &str, version: &str) -> Value {
    let mut resources = Vec::new();
    for r in registry::resources_of(group, version) {
        let mut entry = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs(),
        });
        if !r.short_names.is_empty() {
            entry["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            entry["categories"] = json!(r.categories);
        }
        resources.push(entry);
        for sub in r.subresources {
            let (kind, verbs) = subresource_kind(r, sub);
            let mut e = json!({
                "name": format!("{}/{}", r.plural, sub),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": kind["kind"],
                "verbs": verbs,
            });
            if kind["group"] != json!(r.group) || kind["version"] != json!(r.version) {
                e["group"] = kind["group"].clone();
                e["version"] = kind["version"].clone();
            }
            resources.push(e);
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

/// The aggregated discovery document for the core group (`core == true`) or all named groups.
pub fn aggregated(core: bool, api_version: &str) -> Value {
    let mut items = Vec::new();
    for (group, versions) in registry::groups() {
        if group.is_empty() != core {
            continue;
        }
        let versions: Vec<Value> = versions
            .iter()
            .map(|v| {
                let resources: Vec<Value> = registry::resources_of(group, v)
                    .map(|r| {
                        let mut e = json!({
                            "resource": r.plural,
                            "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
                            "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                            "singularResource": r.singular,
                            "verbs": r.verbs(),
                        });
                        if !r.short_names.is_empty() {
                            e["shortNames"] = json!(r.short_names);
                        }
                        if !r.categories.is_empty() {
                            e["categories"] = json!(r.categories);
                        }
                        let subs: Vec<Value> = r
                            .subresources
                            .iter()
                            .map(|s| {
                                let (kind, verbs) = subresource_kind(r, s);
                                json!({"subresource": s, "responseKind": kind, "verbs": verbs})
                            })
                            .collect();
                        if !subs.is_empty() {
                            e["subresources"] = json!(subs);
                        }
                        e
                    })
                    .collect();
                json!({"version": v, "resources": resources, "freshness": "Current"})
            })
            .collect();
        let metadata = if group.is_empty() {
            json!({"creationTimestamp": null})
        } else {
            json!({"name": group, "creationTimestamp": null})
        };
        items.push(json!({"metadata": metadata, "versions": versions}));
    }
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items})
}

/// Which aggregated discovery version the Accept header asks for, if any (v2 preferred).
pub fn wants_aggregated(accept: &str) -> Option<&'static str> {
    let mut best: Option<&'static str> = None;
    for part in accept.split(',') {
        let p = part.replace(' ', "");
        if p.contains("g=apidiscovery.k8s.io") && p.contains("as=APIGroupDiscoveryList") {
            if p.contains("v=v2beta1") {
                best = best.or(Some("v2beta1"));
            } else if p.contains("v=v2") {
                return Some("v2");
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregated_has_pods_with_short_names() {
        let doc = aggregated(true, "apidiscovery.k8s.io/v2");
        let pods = doc["items"][0]["versions"][0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "pods")
            .unwrap()
            .clone();
        assert_eq!(pods["shortNames"], json!(["po"]));
        assert_eq!(pods["categories"], json!(["all"]));
        assert!(
            pods["subresources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["subresource"] == "log")
        );
    }

    #[test]
    fn accept_negotiation() {
        let a = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(wants_aggregated(a), Some("v2"));
        assert_eq!(wants_aggregated("application/json"), None);
    }

    #[test]
    fn resource_list_includes_subresources() {
        let l = resource_list("apps", "v1");
        let names: Vec<&str> = l["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert!(names.contains(&"deployments/scale"));
        assert_eq!(l["groupVersion"], "apps/v1");
    }
}
