//! API discovery for the controllers that act on every kind (namespace deletion, garbage
//! collection): the preferred version of every group, as client-go's
//! `ServerPreferredResources` returns it, tolerating groups whose discovery fails.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList;
use kube::api::ApiResource;

/// One resource the API serves (subresources are left out).
#[derive(Clone, Debug, PartialEq)]
pub struct Discovered {
    pub resource: ApiResource,
    pub namespaced: bool,
    pub verbs: Vec<String>,
}

impl Discovered {
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    pub fn supports_all(&self, verbs: &[&str]) -> bool {
        verbs.iter().all(|v| self.supports(v))
    }
}

/// The outcome of one discovery run: what was found, and which group versions failed.
#[derive(Debug, Default)]
pub struct Discovery {
    pub resources: Vec<Discovered>,
    /// Group version → error, for the groups that could not be discovered.
    pub failed: BTreeMap<String, String>,
    /// Group versions whose name could not be parsed.
    pub unparsable: Vec<String>,
}

impl Discovery {
    /// client-go's `ErrGroupDiscoveryFailed` message, if any group failed.
    pub fn failure_message(&self) -> Option<String> {
        if self.failed.is_empty() {
            return None;
        }
        let groups: Vec<String> = self
            .failed
            .iter()
            .map(|(g, e)| format!("{g}: {e}"))
            .collect();
        Some(format!(
            "unable to retrieve the complete list of server APIs: {}",
            groups.join(", ")
        ))
    }

    /// apimachinery's `ParseGroupVersion` error for the first unparsable group version.
    pub fn parse_failure_message(&self) -> Option<String> {
        self.unparsable
            .first()
            .map(|gv| format!("unexpected GroupVersion string: {gv}"))
    }
}

/// Splits "group/version" (or "version" for the core group); `None` for anything else.
pub fn parse_group_version(gv: &str) -> Option<(&str, &str)> {
    if gv.is_empty() {
        return Some(("", ""));
    }
    match gv.split('/').collect::<Vec<_>>().as_slice() {
        [v] => Some(("", v)),
        [g, v] => Some((g, v)),
        _ => None,
    }
}

/// The resources of one `APIResourceList`, without subresources.
pub fn resources_of(list: &APIResourceList) -> Result<Vec<Discovered>, String> {
    let (group, version) =
        parse_group_version(&list.group_version).ok_or_else(|| list.group_version.clone())?;
    Ok(list
        .resources
        .iter()
        .filter(|r| !r.name.contains('/'))
        .map(|r| {
            let group = r.group.clone().unwrap_or_else(|| group.to_string());
            let version = r.version.clone().unwrap_or_else(|| version.to_string());
            let api_version = if group.is_empty() {
                version.clone()
            } else {
                format!("{group}/{version}")
            };
            Discovered {
                resource: ApiResource {
                    group,
                    version,
                    api_version,
                    kind: r.kind.clone(),
                    plural: r.name.clone(),
                },
                namespaced: r.namespaced,
                verbs: r.verbs.clone(),
            }
        })
        .collect())
}

fn error_text(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

/// Discovers the preferred version of every group (core included).
pub async fn discover(client: &kube::Client) -> Result<Discovery, kube::Error> {
    let mut out = Discovery::default();
    let mut lists = Vec::new();
    let core = client.list_core_api_versions().await?;
    for v in core.versions.iter().take(1) {
        match client.list_core_api_resources(v).await {
            Ok(list) => lists.push(list),
            Err(err) => {
                out.failed.insert(v.clone(), error_text(&err));
            }
        }
    }
    let groups = client.list_api_groups().await?;
    for g in groups.groups {
        let Some(gv) = g
            .preferred_version
            .as_ref()
            .map(|p| p.group_version.clone())
            .or_else(|| g.versions.first().map(|v| v.group_version.clone()))
        else {
            continue;
        };
        match client.list_api_group_resources(&gv).await {
            Ok(list) => lists.push(list),
            Err(err) => {
                out.failed.insert(gv, error_text(&err));
            }
        }
    }
    for list in &lists {
        match resources_of(list) {
            Ok(mut rs) => out.resources.append(&mut rs),
            Err(gv) => out.unparsable.push(gv),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResource;

    fn res(name: &str, kind: &str, verbs: &[&str]) -> APIResource {
        APIResource {
            name: name.into(),
            kind: kind.into(),
            namespaced: true,
            singular_name: String::new(),
            verbs: verbs.iter().map(|v| v.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn subresources_are_skipped_and_group_versions_split() {
        let list = APIResourceList {
            group_version: "apps/v1".into(),
            resources: vec![
                res("deployments", "Deployment", &["list", "delete"]),
                res("deployments/scale", "Scale", &["get"]),
            ],
        };
        let rs = resources_of(&list).unwrap();
        assert_eq!(rs.len(), 1);
        assert_eq!(rs[0].resource.api_version, "apps/v1");
        assert_eq!(rs[0].resource.group, "apps");
        assert!(rs[0].supports_all(&["list", "delete"]));
        assert!(!rs[0].supports("watch"));
    }

    #[test]
    fn bad_group_versions_are_reported() {
        assert_eq!(parse_group_version("v1"), Some(("", "v1")));
        assert_eq!(parse_group_version("a/b/c"), None);
        let list = APIResourceList {
            group_version: "a/b/c".into(),
            resources: vec![],
        };
        assert_eq!(resources_of(&list), Err("a/b/c".to_string()));
    }

    #[test]
    fn failure_message_matches_client_go() {
        let mut d = Discovery::default();
        assert_eq!(d.failure_message(), None);
        d.failed
            .insert("metrics.k8s.io/v1beta1".into(), "boom".into());
        assert_eq!(
            d.failure_message().unwrap(),
            "unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: boom"
        );
    }
}
