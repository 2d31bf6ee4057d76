//! The resource registry: every resource the API serves, with what discovery, routing and
//! storage need to know about it (group/version/kind, scope, names, verbs, subresources,
//! storage key prefix).

/// One served resource (one group-version-resource).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResourceInfo {
    /// API group; "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// Plural resource name, as in URLs.
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Subresources (`status`, `scale`, `log`, `binding`, ...).
    pub subresources: &'static [&'static str],
    /// Storage prefix below `/registry/`, as kube-apiserver lays out etcd.
    pub storage: &'static str,
    /// Whether the verbs are limited to `create` (review-style and binding resources).
    pub create_only: bool,
    /// Defined by a CustomResourceDefinition (served from its schema, not a built-in type).
    pub custom: bool,
}

impl ResourceInfo {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pods` or `deployments.apps`, as used in error messages.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub fn verbs(&self) -> &'static [&'static str] {
        if self.create_only {
            &["create"]
        } else {
            &[
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ]
        }
    }

    pub fn has_subresource(&self, name: &str) -> bool {
        self.subresources.contains(&name)
    }

    /// The storage key prefix of all objects of this resource, ending with `/`.
    pub fn key_prefix(&self) -> String {
        format!("/registry/{}/", self.storage)
    }

    /// The storage key of one object.
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        match namespace {
            Some(ns) if self.namespaced => format!("/registry/{}/{}/{}", self.storage, ns, name),
            _ => format!("/registry/{}/{}", self.storage, name),
        }
    }

    /// The prefix of one namespace's objects (or all objects for cluster scope / `None`).
    pub fn namespace_prefix(&self, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) if self.namespaced => format!("/registry/{}/{}/", self.storage, ns),
            _ => self.key_prefix(),
        }
    }
}

macro_rules! res {
    ($group:expr, $version:expr, $kind:expr, $plural:expr, $singular:expr, $ns:expr,
     short: [$($short:expr),*], cat: [$($cat:expr),*], sub: [$($sub:expr),*], storage: $storage:expr) => {
        ResourceInfo {
            group: $group, version: $version, kind: $kind, plural: $plural, singular: $singular,
            namespaced: $ns, short_names: &[$($short),*], categories: &[$($cat),*],
            subresources: &[$($sub),*], storage: $storage, create_only: false, custom: false,
        }
    };
}

/// A create-only resource (reviews, bindings): nothing is stored.
macro_rules! create_only {
    ($group:expr, $version:expr, $kind:expr, $plural:expr, $singular:expr, $ns:expr) => {
        ResourceInfo {
            group: $group,
            version: $version,
            kind: $kind,
            plural: $plural,
            singular: $singular,
            namespaced: $ns,
            short_names: &[],
            categories: &[],
            subresources: &[],
            storage: $plural,
            create_only: true,
            custom: false,
        }
    };
}

const NS: bool = true;
const CLUSTER: bool = false;

/// Every served built-in resource.
pub static RESOURCES: &[ResourceInfo] = &[
    // core/v1
    create_only!("", "v1", "Binding", "bindings", "binding", NS),
    res!("", "v1", "ComponentStatus", "componentstatuses", "componentstatus", CLUSTER, short: ["cs"], cat: [], sub: [], storage: "componentstatuses"),
    res!("", "v1", "ConfigMap", "configmaps", "configmap", NS, short: ["cm"], cat: [], sub: [], storage: "configmaps"),
    res!("", "v1", "Endpoints", "endpoints", "endpoints", NS, short: ["ep"], cat: [], sub: [], storage: "services/endpoints"),
    res!("", "v1", "Event", "events", "event", NS, short: ["ev"], cat: [], sub: [], storage: "events"),
    res!("", "v1", "LimitRange", "limitranges", "limitrange", NS, short: ["limits"], cat: [], sub: [], storage: "limitranges"),
    res!("", "v1", "Namespace", "namespaces", "namespace", CLUSTER, short: ["ns"], cat: [], sub: ["finalize", "status"], storage: "namespaces"),
    res!("", "v1", "Node", "nodes", "node", CLUSTER, short: ["no"], cat: [], sub: ["proxy", "status"], storage: "minions"),
    res!("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", NS, short: ["pvc"], cat: [], sub: ["status"], storage: "persistentvolumeclaims"),
    res!("", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", CLUSTER, short: ["pv"], cat: [], sub: ["status"], storage: "persistentvolumes"),
    res!("", "v1", "Pod", "pods", "pod", NS, short: ["po"], cat: ["all"], sub: ["attach", "binding", "ephemeralcontainers", "eviction", "exec", "log", "portforward", "proxy", "resize", "status"], storage: "pods"),
    res!("", "v1", "PodTemplate", "podtemplates", "podtemplate", NS, short: [], cat: [], sub: [], storage: "podtemplates"),
    res!("", "v1", "ReplicationController", "replicationcontrollers", "replicationcontroller", NS, short: ["rc"], cat: ["all"], sub: ["scale", "status"], storage: "controllers"),
    res!("", "v1", "ResourceQuota", "resourcequotas", "resourcequota", NS, short: ["quota"], cat: [], sub: ["status"], storage: "resourcequotas"),
    res!("", "v1", "Secret", "secrets", "secret", NS, short: [], cat: [], sub: [], storage: "secrets"),
    res!("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", NS, short: ["sa"], cat: [], sub: ["token"], storage: "serviceaccounts"),
    res!("", "v1", "Service", "services", "service", NS, short: ["svc"], cat: ["all"], sub: ["proxy", "status"], storage: "services/specs"),
    // apps/v1
    res!("apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", NS, short: [], cat: [], sub: [], storage: "controllerrevisions"),
    res!("apps", "v1", "DaemonSet", "daemonsets", "daemonset", NS, short: ["ds"], cat: ["all"], sub: ["status"], storage: "daemonsets"),
    res!("apps", "v1", "Deployment", "deployments", "deployment", NS, short: ["deploy"], cat: ["all"], sub: ["scale", "status"], storage: "deployments"),
    res!("apps", "v1", "ReplicaSet", "replicasets", "replicaset", NS, short: ["rs"], cat: ["all"], sub: ["scale", "status"], storage: "replicasets"),
    res!("apps", "v1", "StatefulSet", "statefulsets", "statefulset", NS, short: ["sts"], cat: ["all"], sub: ["scale", "status"], storage: "statefulsets"),
    // batch/v1
    res!("batch", "v1", "CronJob", "cronjobs", "cronjob", NS, short: ["cj"], cat: ["all"], sub: ["status"], storage: "cronjobs"),
    res!("batch", "v1", "Job", "jobs", "job", NS, short: [], cat: ["all"], sub: ["status"], storage: "jobs"),
    // autoscaling
    // v2 first: the preferred version (and the storage version) comes first.
    res!("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", "horizontalpodautoscaler", NS, short: ["hpa"], cat: ["all"], sub: ["status"], storage: "horizontalpodautoscalers"),
    res!("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", "horizontalpodautoscaler", NS, short: ["hpa"], cat: ["all"], sub: ["status"], storage: "horizontalpodautoscalers"),
    // coordination
    res!("coordination.k8s.io", "v1", "Lease", "leases", "lease", NS, short: [], cat: [], sub: [], storage: "leases"),
    // discovery
    res!("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", NS, short: [], cat: [], sub: [], storage: "endpointslices"),
    // events.k8s.io
    // networking
    res!("events.k8s.io", "v1", "Event", "events", "event", NS, short: ["ev"], cat: [], sub: [], storage: "events"),
    res!("networking.k8s.io", "v1", "IPAddress", "ipaddresses", "ipaddress", CLUSTER, short: ["ip"], cat: [], sub: [], storage: "ipaddresses"),
    res!("networking.k8s.io", "v1", "ServiceCIDR", "servicecidrs", "servicecidr", CLUSTER, short: [], cat: [], sub: ["status"], storage: "servicecidrs"),
    res!("networking.k8s.io", "v1", "IngressClass", "ingressclasses", "ingressclass", CLUSTER, short: [], cat: [], sub: [], storage: "ingressclasses"),
    res!("networking.k8s.io", "v1", "Ingress", "ingresses", "ingress", NS, short: ["ing"], cat: [], sub: ["status"], storage: "ingress"),
    res!("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", NS, short: ["netpol"], cat: [], sub: [], storage: "networkpolicies"),
    // policy
    res!("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget", NS, short: ["pdb"], cat: [], sub: ["status"], storage: "poddisruptionbudgets"),
    // rbac
    res!("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding", CLUSTER, short: [], cat: [], sub: [], storage: "clusterrolebindings"),
    res!("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", CLUSTER, short: [], cat: [], sub: [], storage: "clusterroles"),
    res!("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", NS, short: [], cat: [], sub: [], storage: "rolebindings"),
    res!("rbac.authorization.k8s.io", "v1", "Role", "roles", "role", NS, short: [], cat: [], sub: [], storage: "roles"),
    // scheduling
    res!("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", CLUSTER, short: ["pc"], cat: [], sub: [], storage: "priorityclasses"),
    // storage
    res!("storage.k8s.io", "v1", "CSIDriver", "csidrivers", "csidriver", CLUSTER, short: [], cat: [], sub: [], storage: "csidrivers"),
    res!("storage.k8s.io", "v1", "CSIStorageCapacity", "csistoragecapacities", "csistoragecapacity", NS, short: [], cat: [], sub: [], storage: "csistoragecapacities"),
    res!("storage.k8s.io", "v1", "CSINode", "csinodes", "csinode", CLUSTER, short: [], cat: [], sub: [], storage: "csinodes"),
    res!("storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", CLUSTER, short: ["sc"], cat: [], sub: [], storage: "storageclasses"),
    res!("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", "volumeattachment", CLUSTER, short: [], cat: [], sub: ["status"], storage: "volumeattachments"),
    // node
    res!("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", "runtimeclass", CLUSTER, short: [], cat: [], sub: [], storage: "runtimeclasses"),
    res!("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", "certificatesigningrequest", CLUSTER, short: ["csr"], cat: [], sub: ["approval", "status"], storage: "certificatesigningrequests"),
    res!("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration", CLUSTER, short: [], cat: ["api-extensions"], sub: [], storage: "mutatingwebhookconfigurations"),
    res!("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", "validatingadmissionpolicy", CLUSTER, short: [], cat: ["api-extensions"], sub: ["status"], storage: "validatingadmissionpolicies"),
    res!("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", "validatingadmissionpolicybinding", CLUSTER, short: [], cat: ["api-extensions"], sub: [], storage: "validatingadmissionpolicybindings"),
    res!("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", "validatingwebhookconfiguration", CLUSTER, short: [], cat: ["api-extensions"], sub: [], storage: "validatingwebhookconfigurations"),
    res!("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", "customresourcedefinition", CLUSTER, short: ["crd", "crds"], cat: ["api-extensions"], sub: ["status"], storage: "apiextensions.k8s.io/customresourcedefinitions"),
    // Reviews: created and answered, never stored.
    create_only!(
        "authentication.k8s.io",
        "v1",
        "SelfSubjectReview",
        "selfsubjectreviews",
        "selfsubjectreview",
        CLUSTER
    ),
    create_only!(
        "authentication.k8s.io",
        "v1",
        "TokenReview",
        "tokenreviews",
        "tokenreview",
        CLUSTER
    ),
    create_only!(
        "authorization.k8s.io",
        "v1",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        "localsubjectaccessreview",
        NS
    ),
    create_only!(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        CLUSTER
    ),
    create_only!(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
        CLUSTER
    ),
    create_only!(
        "authorization.k8s.io",
        "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        "subjectaccessreview",
        CLUSTER
    ),
];

/// Every served resource: the built-in ones, then those of CustomResourceDefinitions.
pub fn all() -> impl Iterator<Item = &'static ResourceInfo> {
    let custom = custom::snapshot();
    RESOURCES
        .iter()
        .chain((0..custom.len()).map(move |i| custom[i]))
}

/// The groups in discovery order (core first), with their versions (preferred first).
pub fn groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for r in all() {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) => {
                if !versions.contains(&r.version) {
                    versions.push(r.version);
                }
            }
            None => out.push((r.group, vec![r.version])),
        }
    }
    out
}

/// Resources of one group-version.
pub fn resources_of<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static ResourceInfo> + 'a {
    all().filter(move |r| r.group == group && r.version == version)
}

/// Looks up a resource by group, version and plural name.
pub fn lookup(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    all().find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Looks up a resource by apiVersion (`v1`, `apps/v1`) and kind.
pub fn lookup_kind(api_version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    let (group, version) = split_api_version(api_version);
    all().find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// The resources CustomResourceDefinitions add. Each API server sets its own (it owns
/// an id); lookups see the union, so several servers in one process (tests) each serve
/// theirs. Entries are interned: a definition seen again reuses its `&'static` entry, so
/// memory grows only with distinct definitions, not with updates.
pub mod custom {
    use std::collections::{BTreeMap, HashSet};
    use std::sync::{Arc, LazyLock, Mutex, RwLock};

    use super::ResourceInfo;

    static SETS: LazyLock<RwLock<BTreeMap<u64, Vec<&'static ResourceInfo>>>> =
        LazyLock::new(Default::default);
    static UNION: LazyLock<RwLock<Arc<Vec<&'static ResourceInfo>>>> =
        LazyLock::new(Default::default);
    static STRINGS: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Default::default);
    static SLICES: LazyLock<Mutex<HashSet<&'static [&'static str]>>> =
        LazyLock::new(Default::default);
    static INFOS: LazyLock<Mutex<HashSet<&'static ResourceInfo>>> = LazyLock::new(Default::default);

    /// A string that lives as long as the process, shared by every caller asking for it.
    pub fn intern(s: &str) -> &'static str {
        let mut set = STRINGS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = set.get(s) {
            return found;
        }
        let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
        set.insert(leaked);
        leaked
    }

    /// A list of strings that lives as long as the process (interned like [`intern`]).
    pub fn intern_list(items: &[String]) -> &'static [&'static str] {
        let items: Vec<&'static str> = items.iter().map(|s| intern(s)).collect();
        let mut set = SLICES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = set.get(items.as_slice()) {
            return found;
        }
        let leaked: &'static [&'static str] = Box::leak(items.into_boxed_slice());
        set.insert(leaked);
        leaked
    }

    /// The process-lifetime entry for `info` (interned like [`intern`]).
    pub fn intern_info(info: ResourceInfo) -> &'static ResourceInfo {
        let mut set = INFOS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = set.get(&info) {
            return found;
        }
        let leaked: &'static ResourceInfo = Box::leak(Box::new(info));
        set.insert(leaked);
        leaked
    }

    /// Replaces the custom resources server `owner` serves; returns their entries.
    pub fn set(owner: u64, resources: Vec<ResourceInfo>) -> Vec<&'static ResourceInfo> {
        let entries: Vec<&'static ResourceInfo> = resources.into_iter().map(intern_info).collect();
        publish(owner, entries.clone());
        entries
    }

    /// Replaces the (interned) entries server `owner` serves.
    pub fn publish(owner: u64, entries: Vec<&'static ResourceInfo>) {
        let mut sets = SETS.write().unwrap_or_else(|e| e.into_inner());
        if entries.is_empty() {
            sets.remove(&owner);
        } else {
            sets.insert(owner, entries.clone());
        }
        let mut union: Vec<&'static ResourceInfo> = Vec::new();
        for r in sets.values().flatten() {
            if !union.contains(r) {
                union.push(r);
            }
        }
        *UNION.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(union);
    }

    pub(super) fn snapshot() -> Arc<Vec<&'static ResourceInfo>> {
        UNION.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Splits `apps/v1` into (`apps`, `v1`) and `v1` into (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_per_group_version() {
        for (i, a) in RESOURCES.iter().enumerate() {
            for b in &RESOURCES[i + 1..] {
                assert!(
                    !(a.group == b.group && a.version == b.version && a.plural == b.plural),
                    "duplicate {}",
                    a.plural
                );
            }
        }
    }

    #[test]
    fn keys_follow_kube_apiserver_layout() {
        let pods = lookup("", "v1", "pods").unwrap();
        assert_eq!(pods.key(Some("default"), "a"), "/registry/pods/default/a");
        let nodes = lookup("", "v1", "nodes").unwrap();
        assert_eq!(nodes.key(None, "n1"), "/registry/minions/n1");
        let svc = lookup_kind("v1", "Service").unwrap();
        assert_eq!(
            svc.namespace_prefix(Some("x")),
            "/registry/services/specs/x/"
        );
        assert_eq!(
            lookup("apps", "v1", "deployments")
                .unwrap()
                .group_resource(),
            "deployments.apps"
        );
    }

    #[test]
    fn core_group_comes_first() {
        assert_eq!(groups()[0], ("", vec!["v1"]));
    }
}
