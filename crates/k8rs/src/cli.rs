//! Command-line interface.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use ipnet::IpNet;

#[derive(Parser, Debug)]
#[command(
    name = "k8rs",
    version,
    about = "Kubernetes in one binary: API server, store, controllers, scheduler, node agent and service proxy"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a single-node cluster: API server, embedded store, controller-manager,
    /// scheduler, and (unless --disable-agent) a node agent with its containerd and the
    /// service proxy.
    Server(Box<ServerArgs>),
    /// Run kubectl with the admin kubeconfig of the local server.
    Kubectl(KubectlArgs),
}

#[derive(Args, Debug, Clone)]
pub struct ServerArgs {
    /// Where the cluster keeps its state (store, certificates, containerd, pod logs).
    #[arg(long, default_value = "/var/lib/k8rs", env = "K8RS_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Address the API server listens on.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,
    /// Port of the API server.
    #[arg(long, default_value_t = 6443)]
    pub https_port: u16,
    /// The node's IP (default: the address of the interface with the default route).
    #[arg(long)]
    pub node_ip: Option<IpAddr>,
    /// The node's name (default: the host name).
    #[arg(long)]
    pub node_name: Option<String>,
    /// Pod network range; each node gets a /24 of it.
    #[arg(long, default_value = "10.42.0.0/16")]
    pub cluster_cidr: IpNet,
    /// Service ClusterIP range.
    #[arg(long, default_value = "10.43.0.0/16")]
    pub service_cidr: IpNet,
    /// ClusterIP of the cluster DNS service, given to pods.
    #[arg(long, default_value = "10.43.0.10")]
    pub cluster_dns: IpAddr,
    /// Cluster domain.
    #[arg(long, default_value = "cluster.local")]
    pub cluster_domain: String,
    /// Port of the kubelet API.
    #[arg(long, default_value_t = 10250)]
    pub kubelet_port: u16,
    /// Run only the control plane (no node agent, containerd or service proxy).
    #[arg(long)]
    pub disable_agent: bool,
    /// Use this existing CRI socket instead of starting containerd.
    #[arg(long)]
    pub container_runtime_endpoint: Option<PathBuf>,
    /// Registries file (mirrors, plain-HTTP registries, credentials), like k3s's
    /// registries.yaml. Default: <data-dir>/registries.yaml if it exists.
    #[arg(long)]
    pub registries_file: Option<PathBuf>,
    /// Where to write the admin kubeconfig. Default: <data-dir>/kubeconfig.yaml.
    #[arg(long)]
    pub write_kubeconfig: Option<PathBuf>,
    /// Keep the cluster's state in etcd instead of the embedded store: comma-separated
    /// endpoints (e.g. https://10.0.0.5:2379). Several servers may share one etcd.
    #[arg(long)]
    pub datastore_endpoint: Option<String>,
    /// CA bundle to verify etcd's certificate.
    #[arg(long)]
    pub datastore_cafile: Option<PathBuf>,
    /// Client certificate for etcd.
    #[arg(long)]
    pub datastore_certfile: Option<PathBuf>,
    /// Client key for etcd.
    #[arg(long)]
    pub datastore_keyfile: Option<PathBuf>,
    /// How much of the store's history is kept: watches can resume from any revision written
    /// within this window; older history is compacted in small steps, every tenth of it
    /// (same flag name as kube-apiserver's --etcd-compaction-interval; 0 disables).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub compaction_interval: std::time::Duration,
    /// How long an Event is kept after its last change (kube-apiserver's --event-ttl;
    /// 0 keeps events forever).
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub event_ttl: std::time::Duration,
    /// Name of the nftables table the service proxy owns.
    #[arg(long, default_value = "k8rs")]
    pub nftables_table: String,
}

#[derive(Args, Debug)]
pub struct KubectlArgs {
    #[arg(long, default_value = "/var/lib/k8rs", env = "K8RS_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Arguments passed to kubectl.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// `300`, `300s`, `5m`, `1h`.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("invalid duration unit in {s:?} (use s, m or h)")),
    };
    Ok(std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m").unwrap().as_secs(), 300);
        assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("2h").unwrap().as_secs(), 7200);
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("m").is_err());
    }
}
