//! Printers of storage.k8s.io kinds.

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::{Col, age, arr, name, obj, opt_b, opt_s, quantity, s};

/// A class is the default when either the GA or the beta annotation says "true".
fn is_default_class(o: &Value, annotations: &[&str]) -> bool {
    obj(o, "/metadata/annotations").is_some_and(|a| {
        annotations
            .iter()
            .any(|k| a.get(*k).and_then(Value::as_str) == Some("true"))
    })
}

pub(super) const STORAGE_CLASS: &[Col] = &[
    Col::name(),
    Col::new(
        "Provisioner",
        "string",
        "provisioner indicates the type of the provisioner.",
    ),
    Col::new(
        "ReclaimPolicy",
        "string",
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.",
    ),
    Col::new(
        "VolumeBindingMode",
        "string",
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
    ),
    Col::new(
        "AllowVolumeExpansion",
        "string",
        "allowVolumeExpansion shows whether the storage class allow volume expand.",
    ),
    Col::age(),
];

pub(super) fn storage_class(o: &Value, now: Timestamp) -> Vec<Value> {
    let mut display = name(o).to_string();
    if is_default_class(
        o,
        &[
            "storageclass.kubernetes.io/is-default-class",
            "storageclass.beta.kubernetes.io/is-default-class",
        ],
    ) {
        display.push_str(" (default)");
    }
    vec![
        json!(display),
        json!(s(o, "/provisioner")),
        json!(opt_s(o, "/reclaimPolicy").unwrap_or("Delete")),
        json!(opt_s(o, "/volumeBindingMode").unwrap_or("Immediate")),
        json!(opt_b(o, "/allowVolumeExpansion").unwrap_or(false)),
        json!(age(o, now)),
    ]
}

pub(super) const VOLUME_ATTRIBUTES_CLASS: &[Col] = &[
    Col::name(),
    Col::new("DriverName", "string", "Name of the CSI driver"),
    Col::age(),
];

pub(super) fn volume_attributes_class(o: &Value, now: Timestamp) -> Vec<Value> {
    let mut display = name(o).to_string();
    if is_default_class(o, &["storage.kubernetes.io/is-default-class"]) {
        display.push_str(" (default)");
    }
    vec![
        json!(display),
        json!(s(o, "/driverName")),
        json!(age(o, now)),
    ]
}

pub(super) const CSI_DRIVER: &[Col] = &[
    Col::name(),
    Col::new(
        "AttachRequired",
        "boolean",
        "attachRequired indicates this CSI volume driver requires an attach operation.",
    ),
    Col::new(
        "PodInfoOnMount",
        "boolean",
        "podInfoOnMount indicates this CSI volume driver requires additional pod information (like podName, podUID, etc.) during mount operations.",
    ),
    Col::new(
        "StorageCapacity",
        "boolean",
        "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity that the driver deployment will report.",
    ),
    Col::new(
        "TokenRequests",
        "string",
        "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting volume for to do necessary authentication.",
    ),
    Col::new(
        "RequiresRepublish",
        "boolean",
        "requiresRepublish indicates the CSI driver wants NodePublishVolume being periodically called to reflect any possible change in the mounted volume.",
    ),
    Col::new(
        "Modes",
        "string",
        "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports.",
    ),
    Col::age(),
];

pub(super) fn csi_driver(o: &Value, now: Timestamp) -> Vec<Value> {
    let token_requests = match o.pointer("/spec/tokenRequests").and_then(Value::as_array) {
        Some(list) => list
            .iter()
            .map(|t| s(t, "/audience"))
            .collect::<Vec<_>>()
            .join(","),
        None => "<unset>".into(),
    };
    let modes: Vec<&str> = arr(o, "/spec/volumeLifecycleModes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    vec![
        json!(name(o)),
        json!(opt_b(o, "/spec/attachRequired").unwrap_or(true)),
        json!(opt_b(o, "/spec/podInfoOnMount").unwrap_or(false)),
        json!(opt_b(o, "/spec/storageCapacity").unwrap_or(false)),
        json!(token_requests),
        json!(opt_b(o, "/spec/requiresRepublish").unwrap_or(false)),
        json!(if modes.is_empty() {
            "<none>".to_string()
        } else {
            modes.join(",")
        }),
        json!(age(o, now)),
    ]
}

pub(super) const CSI_NODE: &[Col] = &[
    Col::name(),
    Col::new(
        "Drivers",
        "integer",
        "Drivers indicates the number of CSI drivers registered on the node",
    ),
    Col::age(),
];

pub(super) fn csi_node(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(arr(o, "/spec/drivers").len()),
        json!(age(o, now)),
    ]
}

pub(super) const CSI_STORAGE_CAPACITY: &[Col] = &[
    Col::name(),
    Col::new(
        "StorageClassName",
        "string",
        "storageClassName represents the name of the StorageClass that the reported capacity applies to.",
    ),
    Col::new(
        "Capacity",
        "string",
        "capacity is the value reported by the CSI driver in its GetCapacityResponse for a GetCapacityRequest with topology and parameters that match the previous fields.",
    ),
];

pub(super) fn csi_storage_capacity(o: &Value, _now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(s(o, "/storageClassName")),
        json!(quantity(o.get("capacity")).unwrap_or_else(|| "<unset>".into())),
    ]
}

pub(super) const VOLUME_ATTACHMENT: &[Col] = &[
    Col::name(),
    Col::new(
        "Attacher",
        "string",
        "attacher indicates the name of the volume driver that MUST handle this request.",
    )
    .named(),
    Col::new(
        "PV",
        "string",
        "persistentVolumeName represents the name of the persistent volume to attach.",
    ),
    Col::new(
        "Node",
        "string",
        "nodeName represents the node that the volume should be attached to.",
    ),
    Col::new(
        "Attached",
        "boolean",
        "attached indicates the volume is successfully attached.",
    ),
    Col::age(),
];

pub(super) fn volume_attachment(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(o)),
        json!(s(o, "/spec/attacher")),
        json!(s(o, "/spec/source/persistentVolumeName")),
        json!(s(o, "/spec/nodeName")),
        json!(opt_b(o, "/status/attached").unwrap_or(false)),
        json!(age(o, now)),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::test_support::row;
    use serde_json::json;

    #[test]
    fn storage_class_rows() {
        let sc = json!({"metadata": {"name": "local-path", "creationTimestamp": "2026-01-01T00:00:00Z",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true});
        assert_eq!(
            row("StorageClass", sc),
            [
                json!("local-path (default)"),
                json!("rancher.io/local-path"),
                json!("Delete"),
                json!("WaitForFirstConsumer"),
                json!(true),
                json!("10m")
            ]
        );
        let bare = json!({"metadata": {"name": "x", "annotations": {"storageclass.kubernetes.io/is-default-class": "false"}},
            "provisioner": "p"});
        assert_eq!(
            row("StorageClass", bare),
            [
                json!("x"),
                json!("p"),
                json!("Delete"),
                json!("Immediate"),
                json!(false),
                json!("<unknown>")
            ]
        );
        let vac = json!({"metadata": {"name": "gold", "annotations": {"storage.kubernetes.io/is-default-class": "true"}},
            "driverName": "csi.example.com"});
        assert_eq!(
            row("VolumeAttributesClass", vac),
            [
                json!("gold (default)"),
                json!("csi.example.com"),
                json!("<unknown>")
            ]
        );
    }

    #[test]
    fn csi_kinds() {
        let d = json!({"metadata": {"name": "csi.example.com", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"attachRequired": false, "podInfoOnMount": true, "volumeLifecycleModes": ["Persistent", "Ephemeral"],
                "tokenRequests": [{"audience": "vault"}, {"audience": "gcp"}]}});
        assert_eq!(
            row("CSIDriver", d),
            [
                json!("csi.example.com"),
                json!(false),
                json!(true),
                json!(false),
                json!("vault,gcp"),
                json!(false),
                json!("Persistent,Ephemeral"),
                json!("10m")
            ]
        );
        let bare = json!({"metadata": {"name": "d"}, "spec": {}});
        let c = row("CSIDriver", bare);
        assert_eq!(c[1], true);
        assert_eq!(c[4], "<unset>");
        assert_eq!(c[6], "<none>");
        let n = json!({"metadata": {"name": "node-1"}, "spec": {"drivers": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(
            row("CSINode", n),
            [json!("node-1"), json!(2), json!("<unknown>")]
        );
        let cap = json!({"metadata": {"name": "csisc-abc"}, "storageClassName": "local", "capacity": "100Gi"});
        assert_eq!(
            row("CSIStorageCapacity", cap),
            [json!("csisc-abc"), json!("local"), json!("100Gi")]
        );
        let cap = json!({"metadata": {"name": "csisc-x"}, "storageClassName": "local"});
        assert_eq!(row("CSIStorageCapacity", cap)[2], "<unset>");
    }

    #[test]
    fn volume_attachment_row() {
        let va = json!({"metadata": {"name": "csi-123", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"attacher": "csi.example.com", "nodeName": "node-1", "source": {"persistentVolumeName": "pv-1"}},
            "status": {"attached": true}});
        assert_eq!(
            row("VolumeAttachment", va),
            [
                json!("csi-123"),
                json!("csi.example.com"),
                json!("pv-1"),
                json!("node-1"),
                json!(true),
                json!("10m")
            ]
        );
    }
}
