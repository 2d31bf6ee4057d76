//! Pod network: the CNI conflist containerd's CRI plugin reads (bridge + host-local IPAM +
//! portmap; containerd adds loopback itself) and IPv4 forwarding.

use std::path::{Path, PathBuf};

use crate::Error;

pub const CONFLIST_NAME: &str = "10-k8rs.conflist";

pub fn conflist(pod_cidr: &str, ipam_data_dir: &Path) -> serde_json::Value {
    serde_json::json!({
        "cniVersion": "1.0.0",
        "name": "k8rs",
        "plugins": [
            {
                "type": "bridge",
                "bridge": "cni0",
                "isGateway": true,
                "ipMasq": true,
                "hairpinMode": true,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{ "subnet": pod_cidr }]],
                    "routes": [{ "dst": "0.0.0.0/0" }],
                    "dataDir": ipam_data_dir.display().to_string(),
                }
            },
            { "type": "portmap", "capabilities": { "portMappings": true } }
        ]
    })
}

/// Writes `<data_dir>/cni/net.d/10-k8rs.conflist` atomically (containerd watches the dir).
pub async fn write_cni_config(data_dir: &Path, pod_cidr: &str) -> Result<PathBuf, Error> {
    let dir = data_dir.join("cni").join("net.d");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| Error::io(&dir, e))?;
    let ipam = data_dir.join("cni").join("ipam");
    let body = serde_json::to_vec_pretty(&conflist(pod_cidr, &ipam))
        .map_err(|e| Error::Config(e.to_string()))?;
    let path = dir.join(CONFLIST_NAME);
    let tmp = dir.join(format!(".{CONFLIST_NAME}.tmp"));
    tokio::fs::write(&tmp, body)
        .await
        .map_err(|e| Error::io(&tmp, e))?;
    tokio::fs::rename(&tmp, &path)
        .await
        .map_err(|e| Error::io(&path, e))?;
    tracing::info!(%pod_cidr, path = %path.display(), "wrote CNI config");
    Ok(path)
}

/// Pods reach the outside through the bridge only when the host forwards.
pub async fn enable_ip_forward() {
    if let Err(err) = tokio::fs::write("/proc/sys/net/ipv4/ip_forward", "1").await {
        tracing::warn!(%err, "could not enable net.ipv4.ip_forward");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflist_has_bridge_with_pod_cidr_and_portmap() {
        let c = conflist("10.42.0.0/24", Path::new("/x/ipam"));
        assert_eq!(c["plugins"][0]["type"], "bridge");
        assert_eq!(c["plugins"][0]["bridge"], "cni0");
        assert_eq!(
            c["plugins"][0]["ipam"]["ranges"][0][0]["subnet"],
            "10.42.0.0/24"
        );
        assert_eq!(c["plugins"][0]["ipam"]["routes"][0]["dst"], "0.0.0.0/0");
        assert_eq!(c["plugins"][1]["type"], "portmap");
        assert_eq!(c["plugins"][1]["capabilities"]["portMappings"], true);
    }
}
