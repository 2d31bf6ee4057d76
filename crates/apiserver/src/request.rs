//! Who is asking and what for: the authenticated user and the parsed request path
//! (kube-apiserver's RequestInfo).

use apimachinery::registry::{self, ResourceInfo};
use apimachinery::status::ApiError;

/// The authenticated user of a request, put into request extensions by the TLS layer
/// (from the client certificate) or by the in-process transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    pub fn new(name: impl Into<String>, groups: &[&str]) -> Self {
        UserInfo {
            name: name.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }
}

/// What a request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/api`
    CoreVersions,
    /// `/apis`
    Groups,
    /// `/apis/<group>`
    Group(String),
    /// `/api/v1`, `/apis/<group>/<version>`
    ResourceList { group: String, version: String },
    /// A resource, collection, object or subresource.
    Resource(ResourceRequest),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRequest {
    pub info: &'static ResourceInfo,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
    /// The legacy `/watch/` path prefix was used.
    pub watch_path: bool,
}

/// Parses an API path.
pub fn parse_path(path: &str) -> Result<Target, ApiError> {
    let parts: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let (group, version, rest): (&str, &str, &[&str]) = match parts.as_slice() {
        ["api"] => return Ok(Target::CoreVersions),
        ["apis"] => return Ok(Target::Groups),
        ["apis", g] => return Ok(Target::Group(g.to_string())),
        ["api", v, rest @ ..] => ("", v, rest),
        ["apis", g, v, rest @ ..] => (g, v, rest),
        _ => return Err(ApiError::path_not_found()),
    };
    if rest.is_empty() {
        if registry::resources_of(group, version).next().is_none() {
            return Err(ApiError::path_not_found());
        }
        return Ok(Target::ResourceList {
            group: group.into(),
            version: version.into(),
        });
    }
    let (watch_path, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, rest),
    };
    let lookup = |plural: &str| {
        registry::lookup(group, version, plural).ok_or_else(ApiError::path_not_found)
    };
    let (info, namespace, name, subresource) = match rest {
        // /namespaces/{name}/{status|finalize} is the namespace's own subresource.
        ["namespaces", ns, sub] if *sub == "status" || *sub == "finalize" => (
            lookup("namespaces")?,
            None,
            Some(ns.to_string()),
            Some(sub.to_string()),
        ),
        ["namespaces", ns, plural, tail @ ..] => {
            let info = lookup(plural)?;
            if !info.namespaced {
                return Err(ApiError::path_not_found());
            }
            match tail {
                [] => (info, Some(ns.to_string()), None, None),
                [name] => (info, Some(ns.to_string()), Some(name.to_string()), None),
                [name, sub] => (
                    info,
                    Some(ns.to_string()),
                    Some(name.to_string()),
                    Some(sub.to_string()),
                ),
                _ => return Err(ApiError::path_not_found()),
            }
        }
        [plural] => (lookup(plural)?, None, None, None),
        [plural, name] => {
            let info = lookup(plural)?;
            if info.namespaced {
                return Err(ApiError::path_not_found());
            }
            (info, None, Some(name.to_string()), None)
        }
        [plural, name, sub] => {
            let info = lookup(plural)?;
            if info.namespaced {
                return Err(ApiError::path_not_found());
            }
            (info, None, Some(name.to_string()), Some(sub.to_string()))
        }
        _ => return Err(ApiError::path_not_found()),
    };
    if let Some(sub) = &subresource
        && !info.has_subresource(sub)
    {
        return Err(ApiError::path_not_found());
    }
    Ok(Target::Resource(ResourceRequest {
        info,
        namespace,
        name,
        subresource,
        watch_path,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourceRequest {
        match parse_path(path).unwrap() {
            Target::Resource(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_paths() {
        assert_eq!(parse_path("/api").unwrap(), Target::CoreVersions);
        assert_eq!(
            parse_path("/apis/apps").unwrap(),
            Target::Group("apps".into())
        );
        let r = res("/api/v1/namespaces/default/pods/p/log");
        assert_eq!(
            (
                r.info.plural,
                r.namespace.as_deref(),
                r.name.as_deref(),
                r.subresource.as_deref()
            ),
            ("pods", Some("default"), Some("p"), Some("log"))
        );
        let r = res("/api/v1/namespaces/default");
        assert_eq!(
            (r.info.plural, r.name.as_deref()),
            ("namespaces", Some("default"))
        );
        let r = res("/api/v1/namespaces/kube-system/status");
        assert_eq!(
            (r.info.plural, r.name.as_deref(), r.subresource.as_deref()),
            ("namespaces", Some("kube-system"), Some("status"))
        );
        let r = res("/apis/apps/v1/watch/namespaces/x/deployments");
        assert!(r.watch_path);
        assert_eq!(res("/api/v1/pods").namespace, None);
        assert!(parse_path("/api/v1/namespaces/default/bogus").is_err());
        assert!(parse_path("/api/v1/namespaces/default/pods/p/bogus").is_err());
        assert!(parse_path("/api/v1/nodes/n/status").is_ok());
    }
}
