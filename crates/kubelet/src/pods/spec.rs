//! Pod spec → CRI sandbox and container configs.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{Container, EnvVar, Pod};

use super::labels;
use super::resources::cgroup_limits;
use crate::KubeletConfig;

pub fn pod_key(pod: &Pod) -> (String, String, String) {
    (
        pod.metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string()),
        pod.metadata.name.clone().unwrap_or_default(),
        pod.metadata.uid.clone().unwrap_or_default(),
    )
}

/// `<data_dir>/pods/<ns>_<name>_<uid>`: the sandbox's log directory.
pub fn log_directory(data_dir: &Path, pod: &Pod) -> PathBuf {
    let (ns, name, uid) = pod_key(pod);
    data_dir.join("pods").join(format!("{ns}_{name}_{uid}"))
}

fn pod_labels(pod: &Pod) -> HashMap<String, String> {
    let (ns, name, uid) = pod_key(pod);
    HashMap::from([
        (labels::POD_NAME.to_string(), name),
        (labels::POD_NAMESPACE.to_string(), ns),
        (labels::POD_UID.to_string(), uid),
    ])
}

pub fn dns_config(
    pod: &Pod,
    config: &KubeletConfig,
    host_resolv_conf: &str,
) -> Option<cri::DnsConfig> {
    let spec = pod.spec.as_ref()?;
    let (ns, _, _) = pod_key(pod);
    let policy = spec.dns_policy.as_deref().unwrap_or("ClusterFirst");
    let host_network = spec.host_network.unwrap_or(false);
    let domain = &config.cluster_domain;
    let mut dns = match policy {
        "None" => cri::DnsConfig::default(),
        "Default" => host_dns(host_resolv_conf),
        "ClusterFirst" if host_network => host_dns(host_resolv_conf),
        _ => cri::DnsConfig {
            servers: vec![config.cluster_dns.to_string()],
            searches: vec![
                format!("{ns}.svc.{domain}"),
                format!("svc.{domain}"),
                domain.clone(),
            ],
            options: vec!["ndots:5".to_string()],
        },
    };
    if let Some(extra) = &spec.dns_config {
        dns.servers
            .extend(extra.nameservers.iter().flatten().cloned());
        dns.searches
            .extend(extra.searches.iter().flatten().cloned());
        for opt in extra.options.iter().flatten() {
            let Some(name) = &opt.name else { continue };
            let rendered = match &opt.value {
                Some(v) => format!("{name}:{v}"),
                None => name.clone(),
            };
            // A pod option replaces a default with the same name (e.g. ndots).
            dns.options
                .retain(|o| o.split(':').next() != Some(name.as_str()));
            dns.options.push(rendered);
        }
    }
    Some(dns)
}

/// The host's resolver settings, for dnsPolicy Default.
pub fn host_dns(resolv_conf: &str) -> cri::DnsConfig {
    let mut dns = cri::DnsConfig::default();
    for line in resolv_conf.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => dns.servers.extend(words.next().map(str::to_string)),
            Some("search") => dns.searches = words.map(str::to_string).collect(),
            Some("options") => dns.options.extend(words.map(str::to_string)),
            _ => {}
        }
    }
    dns
}

pub fn sandbox_config(
    pod: &Pod,
    config: &KubeletConfig,
    attempt: u32,
    host_resolv_conf: &str,
) -> cri::PodSandboxConfig {
    let (ns, name, uid) = pod_key(pod);
    let spec = pod.spec.clone().unwrap_or_default();
    let host_network = spec.host_network.unwrap_or(false);
    let mut sandbox_labels: HashMap<String, String> = pod
        .metadata
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    sandbox_labels.extend(pod_labels(pod));
    sandbox_labels.insert(labels::MANAGED_BY.to_string(), "true".to_string());
    let annotations: HashMap<String, String> = pod
        .metadata
        .annotations
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let port_mappings = spec
        .containers
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let host_port = p.host_port.filter(|hp| *hp > 0)?;
            let protocol = match p.protocol.as_deref() {
                Some("UDP") => cri::Protocol::Udp,
                Some("SCTP") => cri::Protocol::Sctp,
                _ => cri::Protocol::Tcp,
            };
            Some(cri::PortMapping {
                protocol: protocol as i32,
                container_port: p.container_port,
                host_port,
                host_ip: p.host_ip.clone().unwrap_or_default(),
            })
        })
        .collect();
    let psc = spec.security_context.clone().unwrap_or_default();
    let namespace_options = cri::NamespaceOption {
        network: if host_network {
            cri::NamespaceMode::Node
        } else {
            cri::NamespaceMode::Pod
        } as i32,
        pid: if spec.host_pid.unwrap_or(false) {
            cri::NamespaceMode::Node
        } else if spec.share_process_namespace.unwrap_or(false) {
            cri::NamespaceMode::Pod
        } else {
            cri::NamespaceMode::Container
        } as i32,
        ipc: if spec.host_ipc.unwrap_or(false) {
            cri::NamespaceMode::Node
        } else {
            cri::NamespaceMode::Pod
        } as i32,
        ..Default::default()
    };
    let hostname = spec.hostname.clone().unwrap_or_else(|| name.clone());
    cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata {
            name,
            uid,
            namespace: ns,
            attempt,
        }),
        hostname: if host_network {
            String::new()
        } else {
            hostname.chars().take(63).collect()
        },
        log_directory: log_directory(&config.data_dir, pod).display().to_string(),
        dns_config: dns_config(pod, config, host_resolv_conf),
        port_mappings,
        labels: sandbox_labels,
        annotations,
        linux: Some(cri::LinuxPodSandboxConfig {
            security_context: Some(cri::LinuxSandboxSecurityContext {
                namespace_options: Some(namespace_options),
                run_as_user: psc.run_as_user.map(|value| cri::Int64Value { value }),
                run_as_group: psc.run_as_group.map(|value| cri::Int64Value { value }),
                supplemental_groups: psc.supplemental_groups.clone().unwrap_or_default(),
                ..Default::default()
            }),
            sysctls: psc
                .sysctls
                .iter()
                .flatten()
                .map(|s| (s.name.clone(), s.value.clone()))
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Resolves an env var's value (literal or the supported `fieldRef`s).
fn env_value(var: &EnvVar, pod: &Pod, pod_ip: &str, host_ip: &str) -> Option<String> {
    if let Some(value) = &var.value {
        return Some(expand(value, &[]));
    }
    let field = var.value_from.as_ref()?.field_ref.as_ref()?;
    let spec = pod.spec.as_ref();
    match field.field_path.as_str() {
        "metadata.name" => pod.metadata.name.clone(),
        "metadata.namespace" => pod.metadata.namespace.clone(),
        "metadata.uid" => pod.metadata.uid.clone(),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()),
        "spec.serviceAccountName" => spec.and_then(|s| s.service_account_name.clone()),
        "status.podIP" => Some(pod_ip.to_string()),
        "status.hostIP" => Some(host_ip.to_string()),
        path => {
            let key = path.strip_prefix("metadata.labels['")?.strip_suffix("']")?;
            pod.metadata.labels.as_ref()?.get(key).cloned()
        }
    }
}

/// `$(VAR)` references to earlier variables, as upstream expands them.
fn expand(value: &str, env: &[(String, String)]) -> String {
    let mut out = value.to_string();
    for (k, v) in env {
        out = out.replace(&format!("$({k})"), v);
    }
    out
}

pub struct ContainerInputs<'a> {
    pub pod: &'a Pod,
    pub container: &'a Container,
    pub image_ref: &'a str,
    pub attempt: u32,
    pub pod_ip: &'a str,
    pub host_ip: &'a str,
    /// Extra environment (service links such as KUBERNETES_SERVICE_HOST).
    pub service_env: &'a [(String, String)],
}

pub fn container_config(input: &ContainerInputs<'_>) -> cri::ContainerConfig {
    let ContainerInputs {
        pod,
        container,
        image_ref,
        attempt,
        pod_ip,
        host_ip,
        service_env,
    } = *input;
    let mut env: Vec<(String, String)> = service_env.to_vec();
    for var in container.env.iter().flatten() {
        if let Some(value) = env_value(var, pod, pod_ip, host_ip) {
            let value = expand(&value, &env);
            env.retain(|(k, _)| k != &var.name);
            env.push((var.name.clone(), value));
        }
    }
    let mut container_labels = pod_labels(pod);
    container_labels.insert(labels::CONTAINER_NAME.to_string(), container.name.clone());
    let grace = pod
        .spec
        .as_ref()
        .and_then(|s| s.termination_grace_period_seconds)
        .unwrap_or(30);
    let annotations = HashMap::from([
        (
            labels::CONTAINER_RESTART_COUNT.to_string(),
            attempt.to_string(),
        ),
        (
            labels::CONTAINER_TERMINATION_MESSAGE_PATH.to_string(),
            container
                .termination_message_path
                .clone()
                .unwrap_or_else(|| "/dev/termination-log".to_string()),
        ),
        (
            labels::POD_TERMINATION_GRACE_PERIOD.to_string(),
            grace.to_string(),
        ),
    ]);
    let limits = cgroup_limits(container.resources.as_ref());
    let sc = container.security_context.clone().unwrap_or_default();
    let psc = pod
        .spec
        .as_ref()
        .and_then(|s| s.security_context.clone())
        .unwrap_or_default();
    let host_network = pod
        .spec
        .as_ref()
        .and_then(|s| s.host_network)
        .unwrap_or(false);
    let share_pid = pod
        .spec
        .as_ref()
        .and_then(|s| s.share_process_namespace)
        .unwrap_or(false);
    let capabilities = sc.capabilities.as_ref().map(|c| cri::Capability {
        add_capabilities: c.add.clone().unwrap_or_default(),
        drop_capabilities: c.drop.clone().unwrap_or_default(),
        ..Default::default()
    });
    cri::ContainerConfig {
        metadata: Some(cri::ContainerMetadata {
            name: container.name.clone(),
            attempt,
        }),
        image: Some(cri::ImageSpec {
            image: image_ref.to_string(),
            user_specified_image: container.image.clone().unwrap_or_default(),
            ..Default::default()
        }),
        command: container.command.clone().unwrap_or_default(),
        args: container
            .args
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|a| expand(&a, &env))
            .collect(),
        working_dir: container.working_dir.clone().unwrap_or_default(),
        envs: env
            .into_iter()
            .map(|(key, value)| cri::KeyValue { key, value })
            .collect(),
        labels: container_labels,
        annotations,
        log_path: format!("{}/{attempt}.log", container.name),
        stdin: container.stdin.unwrap_or(false),
        stdin_once: container.stdin_once.unwrap_or(false),
        tty: container.tty.unwrap_or(false),
        linux: Some(cri::LinuxContainerConfig {
            resources: Some(cri::LinuxContainerResources {
                cpu_shares: limits.cpu_shares,
                cpu_quota: limits.cpu_quota,
                cpu_period: limits.cpu_period,
                memory_limit_in_bytes: limits.memory_limit_bytes,
                ..Default::default()
            }),
            security_context: Some(cri::LinuxContainerSecurityContext {
                capabilities,
                privileged: sc.privileged.unwrap_or(false),
                namespace_options: Some(cri::NamespaceOption {
                    network: if host_network {
                        cri::NamespaceMode::Node
                    } else {
                        cri::NamespaceMode::Pod
                    } as i32,
                    pid: if share_pid {
                        cri::NamespaceMode::Pod
                    } else {
                        cri::NamespaceMode::Container
                    } as i32,
                    ipc: cri::NamespaceMode::Pod as i32,
                    ..Default::default()
                }),
                run_as_user: sc
                    .run_as_user
                    .or(psc.run_as_user)
                    .map(|value| cri::Int64Value { value }),
                run_as_group: sc
                    .run_as_group
                    .or(psc.run_as_group)
                    .map(|value| cri::Int64Value { value }),
                readonly_rootfs: sc.read_only_root_filesystem.unwrap_or(false),
                supplemental_groups: psc.supplemental_groups.clone().unwrap_or_default(),
                no_new_privs: sc.allow_privilege_escalation == Some(false),
                masked_paths: if sc.privileged.unwrap_or(false) {
                    vec![]
                } else {
                    default_masked_paths()
                },
                readonly_paths: if sc.privileged.unwrap_or(false) {
                    vec![]
                } else {
                    default_readonly_paths()
                },
                ..Default::default()
            }),
        }),
        ..Default::default()
    }
}

fn default_masked_paths() -> Vec<String> {
    [
        "/proc/asound",
        "/proc/acpi",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
    ]
    .map(String::from)
    .to_vec()
}

fn default_readonly_paths() -> Vec<String> {
    [
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/sysrq-trigger",
    ]
    .map(String::from)
    .to_vec()
}

/// Whether a container that exited with `exit_code` is restarted under `policy`.
pub fn should_restart(policy: &str, exit_code: i32) -> bool {
    match policy {
        "Never" => false,
        "OnFailure" => exit_code != 0,
        _ => true,
    }
}

/// Upstream's default pull policy: Always for `:latest` or untagged images.
pub fn pull_policy(container: &Container) -> String {
    if let Some(policy) = &container.image_pull_policy {
        return policy.clone();
    }
    let image = container.image.as_deref().unwrap_or_default();
    if image.contains('@') {
        return "IfNotPresent".to_string();
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always".to_string(),
        Some(_) => "IfNotPresent".to_string(),
    }
}

/// Docker Hub short names as containerd stores them (`nginx` → `docker.io/library/nginx:latest`).
pub fn normalise_image(image: &str) -> String {
    let (name, suffix) = match image.find('@') {
        Some(i) => (&image[..i], &image[i..]),
        None => {
            let last_slash = image.rfind('/').map_or(0, |i| i + 1);
            match image[last_slash..].find(':') {
                Some(i) => (&image[..last_slash + i], &image[last_slash + i..]),
                None => (image, ":latest"),
            }
        }
    };
    let first = name.split('/').next().unwrap_or_default();
    let has_registry =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let full = if has_registry {
        name.to_string()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    format!("{full}{suffix}")
}

pub fn labels_of(pod: &Pod) -> BTreeMap<String, String> {
    pod_labels(pod).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ContainerPort, EnvVarSource, ObjectFieldSelector, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn config() -> KubeletConfig {
        KubeletConfig {
            node_name: "n1".into(),
            node_ip: "192.0.2.1".parse().unwrap(),
            data_dir: "/var/lib/k8rs/agent".into(),
            runtime_endpoint: "/x.sock".into(),
            port: 10250,
            serving_cert_pem: String::new(),
            serving_key_pem: String::new(),
            client_ca_pem: String::new(),
            cluster_dns: "10.43.0.10".parse().unwrap(),
            cluster_domain: "cluster.local".into(),
        }
    }

    fn pod() -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("prod".into()),
                uid: Some("u1".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: Some("n1".into()),
                containers: vec![Container {
                    name: "app".into(),
                    image: Some("nginx".into()),
                    ports: Some(vec![ContainerPort {
                        container_port: 80,
                        host_port: Some(8080),
                        ..Default::default()
                    }]),
                    env: Some(vec![
                        EnvVar {
                            name: "A".into(),
                            value: Some("x".into()),
                            ..Default::default()
                        },
                        EnvVar {
                            name: "B".into(),
                            value: Some("$(A)-y".into()),
                            ..Default::default()
                        },
                        EnvVar {
                            name: "POD".into(),
                            value_from: Some(EnvVarSource {
                                field_ref: Some(ObjectFieldSelector {
                                    field_path: "metadata.name".into(),
                                    ..Default::default()
                                }),
                                ..Default::default()
                            }),
                            ..Default::default()
                        },
                        EnvVar {
                            name: "IP".into(),
                            value_from: Some(EnvVarSource {
                                field_ref: Some(ObjectFieldSelector {
                                    field_path: "status.podIP".into(),
                                    ..Default::default()
                                }),
                                ..Default::default()
                            }),
                            ..Default::default()
                        },
                    ]),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn sandbox_has_cluster_dns_ports_and_labels() {
        let c = sandbox_config(&pod(), &config(), 0, "nameserver 1.1.1.1\n");
        let dns = c.dns_config.unwrap();
        assert_eq!(dns.servers, vec!["10.43.0.10"]);
        assert_eq!(
            dns.searches,
            vec![
                "prod.svc.cluster.local",
                "svc.cluster.local",
                "cluster.local"
            ]
        );
        assert_eq!(dns.options, vec!["ndots:5"]);
        assert_eq!(c.port_mappings[0].host_port, 8080);
        assert_eq!(c.labels[labels::POD_UID], "u1");
        assert_eq!(c.hostname, "web");
        assert_eq!(c.log_directory, "/var/lib/k8rs/agent/pods/prod_web_u1");
    }

    #[test]
    fn container_env_and_log_path() {
        let p = pod();
        let spec = p.spec.as_ref().unwrap();
        let input = ContainerInputs {
            pod: &p,
            container: &spec.containers[0],
            image_ref: "sha256:1",
            attempt: 3,
            pod_ip: "10.42.0.7",
            host_ip: "192.0.2.1",
            service_env: &[],
        };
        let c = container_config(&input);
        let env: HashMap<_, _> = c
            .envs
            .iter()
            .map(|kv| (kv.key.as_str(), kv.value.as_str()))
            .collect();
        assert_eq!(env["B"], "x-y");
        assert_eq!(env["POD"], "web");
        assert_eq!(env["IP"], "10.42.0.7");
        assert_eq!(c.log_path, "app/3.log");
        assert_eq!(c.labels[labels::CONTAINER_NAME], "app");
    }

    #[test]
    fn pull_policy_defaults_and_restart_rules() {
        let with_image = |i: &str| Container {
            image: Some(i.into()),
            ..Default::default()
        };
        assert_eq!(pull_policy(&with_image("nginx")), "Always");
        assert_eq!(pull_policy(&with_image("nginx:latest")), "Always");
        assert_eq!(
            pull_policy(&with_image("127.0.0.1:5000/app:1.0")),
            "IfNotPresent"
        );
        assert_eq!(pull_policy(&with_image("127.0.0.1:5000/app")), "Always");
        assert!(should_restart("Always", 0));
        assert!(!should_restart("OnFailure", 0));
        assert!(should_restart("OnFailure", 1));
        assert!(!should_restart("Never", 1));
    }

    #[test]
    fn image_names_are_normalised() {
        assert_eq!(normalise_image("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(
            normalise_image("k8rs/demo:0.1.0"),
            "docker.io/k8rs/demo:0.1.0"
        );
        assert_eq!(
            normalise_image("127.0.0.1:5000/app"),
            "127.0.0.1:5000/app:latest"
        );
        assert_eq!(
            normalise_image("docker.io/k8rs/pause:0.1.0"),
            "docker.io/k8rs/pause:0.1.0"
        );
    }

    #[test]
    fn host_resolv_conf_is_parsed() {
        let d = host_dns("# c\nnameserver 10.0.0.2\nsearch a b\noptions edns0\n");
        assert_eq!(d.servers, vec!["10.0.0.2"]);
        assert_eq!(d.searches, vec!["a", "b"]);
        assert_eq!(d.options, vec!["edns0"]);
    }
}
