//! rbac.authorization.k8s.io/v1 Roles, ClusterRoles and their bindings.

use serde_json::Value;

use super::util::{arr_of, invalid_raw, required_msg, same, str_of};
use crate::status::Cause;
use crate::validation::path_segment_name;

const GROUP: &str = "rbac.authorization.k8s.io";

pub fn role(obj: &Value, namespaced: bool, causes: &mut Vec<Cause>) {
    for (i, rule) in arr_of(Some(obj), "rules").iter().enumerate() {
        let p = format!("rules[{i}]");
        let r = Some(rule);
        if arr_of(r, "verbs").is_empty() {
            causes.push(required_msg(
                format!("{p}.verbs"),
                "verbs must contain at least one value",
            ));
        }
        let nonres = arr_of(r, "nonResourceURLs");
        if !nonres.is_empty() {
            let repr = super::util::go_string_slice(nonres);
            if namespaced {
                causes.push(invalid_raw(
                    format!("{p}.nonResourceURLs"),
                    &repr,
                    "namespaced rules cannot apply to non-resource URLs",
                ));
            }
            if !arr_of(r, "apiGroups").is_empty() || !arr_of(r, "resources").is_empty() {
                causes.push(invalid_raw(
                    format!("{p}.nonResourceURLs"),
                    &repr,
                    "rules cannot apply to both regular resources and non-resource URLs",
                ));
            }
            continue;
        }
        if arr_of(r, "apiGroups").is_empty() {
            causes.push(required_msg(
                format!("{p}.apiGroups"),
                "resource rules must supply at least one api group",
            ));
        }
        if arr_of(r, "resources").is_empty() {
            causes.push(required_msg(
                format!("{p}.resources"),
                "resource rules must supply at least one resource",
            ));
        }
    }
}

pub fn binding(obj: &Value, cluster: bool, causes: &mut Vec<Cause>) {
    let rr = obj.get("roleRef");
    let group = str_of(rr, "apiGroup");
    if group != GROUP {
        causes.push(Cause::not_supported("roleRef.apiGroup", group, &[GROUP]));
    }
    let kind = str_of(rr, "kind");
    let kinds: &[&str] = if cluster {
        &["ClusterRole"]
    } else {
        &["Role", "ClusterRole"]
    };
    if !kinds.contains(&kind) {
        causes.push(Cause::not_supported("roleRef.kind", kind, kinds));
    }
    let name = str_of(rr, "name");
    if name.is_empty() {
        causes.push(Cause::required("roleRef.name"));
    } else if let Err(msgs) = path_segment_name(name, false) {
        for m in msgs {
            causes.push(Cause::invalid("roleRef.name", name, &m));
        }
    }
    for (i, s) in arr_of(Some(obj), "subjects").iter().enumerate() {
        let p = format!("subjects[{i}]");
        let s = Some(s);
        let name = str_of(s, "name");
        if name.is_empty() {
            causes.push(Cause::required(format!("{p}.name")));
        }
        let group = str_of(s, "apiGroup");
        match str_of(s, "kind") {
            "ServiceAccount" => {
                if !name.is_empty()
                    && let Err(msgs) = crate::validation::dns1123_subdomain(name)
                {
                    for m in msgs {
                        causes.push(Cause::invalid(format!("{p}.name"), name, &m));
                    }
                }
                if !group.is_empty() {
                    causes.push(Cause::not_supported(format!("{p}.apiGroup"), group, &[""]));
                }
                if cluster && str_of(s, "namespace").is_empty() {
                    causes.push(Cause::required(format!("{p}.namespace")));
                }
            }
            "User" | "Group" => {
                if group != GROUP {
                    causes.push(Cause::not_supported(
                        format!("{p}.apiGroup"),
                        group,
                        &[GROUP],
                    ));
                }
            }
            other => causes.push(Cause::not_supported(
                format!("{p}.kind"),
                other,
                &["ServiceAccount", "User", "Group"],
            )),
        }
    }
}

/// A binding's roleRef never changes.
pub fn binding_update(new: &Value, old: &Value, causes: &mut Vec<Cause>) {
    if !same(new.get("roleRef"), old.get("roleRef")) {
        let rr = new.get("roleRef");
        causes.push(invalid_raw(
            "roleRef",
            &format!(
                "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
                super::util::quote(str_of(rr, "apiGroup")),
                super::util::quote(str_of(rr, "kind")),
                super::util::quote(str_of(rr, "name"))
            ),
            "cannot change roleRef",
        ));
    }
}
