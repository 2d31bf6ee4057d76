//! Printers of rbac.authorization.k8s.io kinds. Roles and ClusterRoles have no printer
//! upstream and get the default table.

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::{Col, age, arr, name, s};

pub(super) const ROLE_BINDING: &[Col] = &[
    Col::name(),
    Col::new(
        "Role",
        "string",
        "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
    ),
    Col::age(),
    Col::wide("Users", "string", "Users in the roleBinding"),
    Col::wide("Groups", "string", "Groups in the roleBinding"),
    Col::wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the roleBinding",
    ),
];

pub(super) const CLUSTER_ROLE_BINDING: &[Col] = &[
    Col::name(),
    Col::new(
        "Role",
        "string",
        "RoleRef can only reference a ClusterRole in the global namespace.",
    ),
    Col::age(),
    Col::wide("Users", "string", "Users in the clusterRoleBinding"),
    Col::wide("Groups", "string", "Groups in the clusterRoleBinding"),
    Col::wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the clusterRoleBinding",
    ),
];

/// Cells of a RoleBinding or ClusterRoleBinding: `Kind/name` of the role, then the
/// subjects split into users, groups and `namespace/name` service accounts.
pub(super) fn binding(o: &Value, now: Timestamp) -> Vec<Value> {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut service_accounts = Vec::new();
    for subject in arr(o, "/subjects") {
        match s(subject, "/kind") {
            "ServiceAccount" => service_accounts.push(format!(
                "{}/{}",
                s(subject, "/namespace"),
                s(subject, "/name")
            )),
            "User" => users.push(s(subject, "/name").to_string()),
            "Group" => groups.push(s(subject, "/name").to_string()),
            _ => {}
        }
    }
    vec![
        json!(name(o)),
        json!(format!(
            "{}/{}",
            s(o, "/roleRef/kind"),
            s(o, "/roleRef/name")
        )),
        json!(age(o, now)),
        json!(users.join(", ")),
        json!(groups.join(", ")),
        json!(service_accounts.join(", ")),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{column_names, row};
    use serde_json::json;

    #[test]
    fn bindings_split_subjects() {
        let rb = json!({"metadata": {"name": "read-pods", "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [
            {"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"},
            {"kind": "User", "name": "bob", "apiGroup": "rbac.authorization.k8s.io"},
            {"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"},
            {"kind": "ServiceAccount", "name": "default", "namespace": "kube-system"}
        ]});
        assert_eq!(
            row("RoleBinding", rb),
            [
                json!("read-pods"),
                json!("Role/pod-reader"),
                json!("10m"),
                json!("jane, bob"),
                json!("devs"),
                json!("kube-system/default")
            ]
        );
        let crb = json!({"metadata": {"name": "cluster-admin"},
            "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "Group", "name": "system:masters"}]});
        assert_eq!(
            row("ClusterRoleBinding", crb),
            [
                json!("cluster-admin"),
                json!("ClusterRole/cluster-admin"),
                json!("<unknown>"),
                json!(""),
                json!("system:masters"),
                json!("")
            ]
        );
        assert_eq!(
            column_names("ClusterRoleBinding"),
            ["Name", "Role", "Age", "Users", "Groups", "ServiceAccounts"]
        );
    }
}
