//! The e2e fixture: a real `k8rs server` (with its own containerd) in a throwaway data
//! directory, reachable through its admin kubeconfig.

use std::fmt::Display;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::host::free_port;
use crate::kubectl::Kubectl;
use crate::oci::OciImage;
use crate::pods::condition_is_true;

/// How long `stop` waits after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(30);

/// How to start the cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Written as OCI archives into `<data>/agent/images/` (imported at start).
    pub images: Vec<OciImage>,
    /// Plain-HTTP registries (`host:port`) listed as mirrors of themselves in
    /// `<data>/registries.yaml`.
    pub plain_http_registries: Vec<String>,
    /// The k8rs binary; default: env `K8RS_BIN`, else `<workspace>/target/debug/k8rs`.
    pub k8rs_bin: Option<PathBuf>,
    pub node_name: String,
    pub node_ip: String,
    /// Upper bound for the kubeconfig to appear and the node to become Ready.
    pub startup_timeout: Duration,
    /// Control plane only (`--disable-agent`): no containerd, kubelet or proxy; the
    /// cluster is ready once the API serves the `default` namespace.
    pub disable_agent: bool,
    /// `--bind-address` of the API server (default: the server's own default).
    pub bind_address: Option<String>,
    /// More `k8rs server` flags, appended as given.
    pub extra_args: Vec<String>,
    /// Prefix of the data dir's name under /tmp.
    pub data_dir_prefix: String,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            images: Vec::new(),
            plain_http_registries: Vec::new(),
            k8rs_bin: None,
            node_name: "e2e-node".into(),
            node_ip: "127.0.0.2".into(),
            startup_timeout: Duration::from_secs(120),
            disable_agent: false,
            bind_address: None,
            extra_args: Vec::new(),
            data_dir_prefix: "k8rs-e2e-".into(),
        }
    }
}

/// A running single-node cluster. Dropping it stops the server (prefer [`Cluster::stop`],
/// which reports problems).
#[derive(Debug)]
pub struct Cluster {
    data_dir: PathBuf,
    child: Option<Child>,
    node_name: String,
    node_ip: String,
    https_port: u16,
    kubelet_port: u16,
    /// Keep the data dir after `stop` (set after failures, for post-mortems).
    keep_data_dir: bool,
    /// No node agent: readiness is the API answering, not a Ready node.
    control_plane_only: bool,
}

/// The default k8rs binary: `$K8RS_BIN` or the workspace's debug build.
pub fn default_k8rs_bin() -> PathBuf {
    std::env::var_os("K8RS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_dir().join("target/debug/k8rs"))
}

/// The Cargo workspace root (two levels above this crate).
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The k3s-style registries file making each registry a plain-HTTP mirror of itself.
pub fn registries_yaml(plain_http_registries: &[String]) -> String {
    let mut out = String::from("mirrors:\n");
    for reg in plain_http_registries {
        out.push_str(&format!(
            "  \"{reg}\":\n    endpoint:\n      - \"http://{reg}\"\n"
        ));
    }
    out
}

/// File name for an image archive: the repository's last segment (`demo.tar`).
fn archive_name(image: &OciImage) -> String {
    let last = image.name.rsplit('/').next().unwrap_or(&image.name);
    let repo = last.split_once(':').map(|(r, _)| r).unwrap_or(last);
    format!("{repo}.tar")
}

impl Cluster {
    /// Creates the data dir, starts `k8rs server`, and waits for the admin kubeconfig and
    /// a Ready node.
    pub fn start(opts: ClusterOptions) -> Result<Cluster> {
        let bin = opts.k8rs_bin.clone().unwrap_or_else(default_k8rs_bin);
        if !bin.is_file() {
            return Err(Error::Cluster(format!(
                "k8rs binary {} not found (build it with `cargo build -p k8rs` or set K8RS_BIN)",
                bin.display()
            )));
        }
        // A short path: containerd's sockets live below it and unix socket paths are
        // limited to 108 bytes.
        let data_dir = tempfile::Builder::new()
            .prefix(&opts.data_dir_prefix)
            .tempdir_in("/tmp")
            .map_err(|e| Error::io("creating the data dir under /tmp", e))?
            .keep();

        let images_dir = data_dir.join("agent/images");
        std::fs::create_dir_all(&images_dir)
            .map_err(|e| Error::io(format!("creating {}", images_dir.display()), e))?;
        for image in &opts.images {
            image.write_archive(&images_dir.join(archive_name(image)))?;
        }
        if !opts.plain_http_registries.is_empty() {
            let path = data_dir.join("registries.yaml");
            std::fs::write(&path, registries_yaml(&opts.plain_http_registries))
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        }

        let https_port = free_port()?;
        let kubelet_port = free_port()?;
        let log_path = data_dir.join("server.log");
        let log = File::create(&log_path)
            .map_err(|e| Error::io(format!("creating {}", log_path.display()), e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| Error::io(format!("opening {}", log_path.display()), e))?;
        let mut command = Command::new(&bin);
        command
            .arg("server")
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["--https-port", &https_port.to_string()])
            .args(["--node-ip", &opts.node_ip])
            .args(["--node-name", &opts.node_name])
            .args(["--kubelet-port", &kubelet_port.to_string()]);
        if opts.disable_agent {
            command
                .arg("--disable-agent")
                .arg("--write-kubeconfig")
                .arg(data_dir.join("kubeconfig.yaml"));
        }
        if let Some(addr) = &opts.bind_address {
            command.args(["--bind-address", addr]);
        }
        let child = command
            .args(&opts.extra_args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| Error::io(format!("starting {}", bin.display()), e))?;

        let mut cluster = Cluster {
            data_dir,
            child: Some(child),
            node_name: opts.node_name,
            node_ip: opts.node_ip,
            https_port,
            kubelet_port,
            keep_data_dir: std::env::var_os("K8RS_E2E_KEEP").is_some(),
            control_plane_only: opts.disable_agent,
        };
        if let Err(e) = cluster.wait_until_ready(opts.startup_timeout) {
            eprintln!("{}", cluster.log_tail(200));
            cluster.keep_data_dir();
            let _ = cluster.stop();
            return Err(e);
        }
        Ok(cluster)
    }

    fn wait_until_ready(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let kubeconfig = self.kubeconfig_path();
        crate::wait::wait_for("the admin kubeconfig", timeout, || {
            self.ensure_running()?;
            let ready = std::fs::metadata(&kubeconfig).is_ok_and(|m| m.len() > 0);
            Ok::<_, Error>(ready.then_some(()))
        })?;
        let kubectl = self.kubectl("1.33")?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if self.control_plane_only {
            return crate::wait::wait_for("the default namespace", remaining, || {
                self.ensure_running()?;
                Ok::<_, Error>(kubectl.json(&["get", "ns", "default"]).ok().map(|_| ()))
            });
        }
        let node = self.node_name.clone();
        crate::wait::wait_for(&format!("node {node} to be Ready"), remaining, || {
            self.ensure_running()?;
            let obj: Value = kubectl.json(&["get", "node", &node])?;
            Ok::<_, Error>(condition_is_true(&obj, "Ready").then_some(()))
        })
    }

    /// Errors (with the log tail) if the server process has exited.
    fn ensure_running(&mut self) -> Result<()> {
        let status = match self.child.as_mut() {
            Some(child) => child
                .try_wait()
                .map_err(|e| Error::io("checking k8rs server", e))?,
            None => return Err(Error::Cluster("k8rs server was stopped".into())),
        };
        match status {
            None => Ok(()),
            Some(status) => {
                self.child = None;
                Err(Error::Cluster(format!(
                    "k8rs server exited early ({status}); log tail:\n{}",
                    self.log_tail(200)
                )))
            }
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn kubeconfig_path(&self) -> PathBuf {
        self.data_dir.join("kubeconfig.yaml")
    }

    pub fn containerd_socket(&self) -> PathBuf {
        self.data_dir.join("agent/containerd/containerd.sock")
    }

    pub fn log_path(&self) -> PathBuf {
        self.data_dir.join("server.log")
    }

    pub fn node_name(&self) -> &str {
        &self.node_name
    }

    pub fn node_ip(&self) -> &str {
        &self.node_ip
    }

    pub fn https_port(&self) -> u16 {
        self.https_port
    }

    pub fn kubelet_port(&self) -> u16 {
        self.kubelet_port
    }

    /// A kubectl of `version` (`1.33`, `1.27`, ...) using the admin kubeconfig.
    pub fn kubectl(&self, version: &str) -> Result<Kubectl> {
        Kubectl::new(version, self.kubeconfig_path())
    }

    /// A kube-rs client from the admin kubeconfig.
    pub async fn client(&self) -> Result<kube::Client> {
        let path = self.kubeconfig_path();
        let kube_err = |message: String| Error::Kube {
            path: path.clone(),
            message,
        };
        let kubeconfig =
            kube::config::Kubeconfig::read_from(&path).map_err(|e| kube_err(e.to_string()))?;
        let config = kube::Config::from_custom_kubeconfig(
            kubeconfig,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .map_err(|e| kube_err(e.to_string()))?;
        kube::Client::try_from(config).map_err(|e| kube_err(e.to_string()))
    }

    /// See [`crate::wait::wait_for`].
    pub fn wait_for<T, E: Display>(
        &self,
        what: &str,
        timeout: Duration,
        check: impl FnMut() -> std::result::Result<Option<T>, E>,
    ) -> Result<T> {
        crate::wait::wait_for(what, timeout, check)
    }

    /// Keeps the data dir (logs, containerd state) after `stop`, e.g. because a test
    /// failed. Also enabled by env `K8RS_E2E_KEEP`.
    pub fn keep_data_dir(&mut self) {
        self.keep_data_dir = true;
    }

    /// The last `lines` lines of server.log, framed for printing.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        let tail = all
            .get(all.len().saturating_sub(lines)..)
            .unwrap_or_default();
        format!(
            "--- last {} lines of {} ---\n{}\n--- end of server log ---",
            tail.len(),
            self.log_path().display(),
            tail.join("\n")
        )
    }

    /// Sends SIGTERM, waits up to 30 s (then SIGKILL), and removes the data dir if the
    /// server exited cleanly. On a failure the log tail is printed and the data dir kept.
    pub fn stop(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = libc::pid_t::try_from(child.id())
            .map_err(|_| Error::Cluster("k8rs server pid out of range".into()))?;
        // SAFETY: `pid` is our own child, not yet reaped, so it cannot have been reused.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + STOP_GRACE;
        let mut killed = false;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    killed = true;
                    let _ = child.kill();
                    break child
                        .wait()
                        .map_err(|e| Error::io("waiting for k8rs server", e))?;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(100)),
                Err(e) => return Err(Error::io("waiting for k8rs server", e)),
            }
        };
        if killed || !status.success() {
            eprintln!("{}", self.log_tail(200));
            eprintln!(
                "keeping data dir {} for inspection",
                self.data_dir.display()
            );
            let why = if killed {
                format!(
                    "did not exit within {}s of SIGTERM and was killed",
                    STOP_GRACE.as_secs()
                )
            } else {
                format!("exited with {status} after SIGTERM")
            };
            return Err(Error::Cluster(format!("k8rs server {why}")));
        }
        if self.keep_data_dir {
            eprintln!("keeping data dir {}", self.data_dir.display());
            return Ok(());
        }
        remove_data_dir(&self.data_dir)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.child.is_some()
            && let Err(e) = self.stop()
        {
            eprintln!("stopping the cluster: {e}");
        }
    }
}

/// Unmounts whatever is still mounted below `dir` (deepest first, lazily), then removes
/// it: a recursive delete must never walk into a live mount.
fn remove_data_dir(dir: &Path) -> Result<()> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| Error::io("reading /proc/self/mountinfo", e))?;
    let mut mounts: Vec<PathBuf> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape_mount_path(p)))
        .filter(|p| p.starts_with(dir))
        .collect();
    mounts.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for mount in mounts {
        if let Ok(c) = std::ffi::CString::new(mount.as_os_str().as_encoded_bytes()) {
            // SAFETY: `c` is a valid NUL-terminated path.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
    }
    std::fs::remove_dir_all(dir).map_err(|e| Error::io(format!("removing {}", dir.display()), e))
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo` octal.
fn unescape_mount_path(p: &str) -> String {
    let bytes = p.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes.get(i) == Some(&b'\\') && d.iter().all(|b| (b'0'..=b'7').contains(b)))
            .and_then(|d| u8::from_str_radix(std::str::from_utf8(d).ok()?, 8).ok());
        match octal {
            Some(b) => {
                out.push(b);
                i += 4;
            }
            None => {
                out.extend(bytes.get(i));
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_yaml_lists_plain_http_mirrors() {
        let yaml = registries_yaml(&["127.0.0.1:5000".to_string()]);
        assert_eq!(
            yaml,
            "mirrors:\n  \"127.0.0.1:5000\":\n    endpoint:\n      - \"http://127.0.0.1:5000\"\n"
        );
    }

    #[test]
    fn unescapes_mountinfo_paths() {
        assert_eq!(unescape_mount_path(r"/tmp/a\040b"), "/tmp/a b");
        assert_eq!(unescape_mount_path("/plain"), "/plain");
        assert_eq!(unescape_mount_path(r"/odd\0"), r"/odd\0");
    }

    #[test]
    fn removes_data_dirs() {
        let dir = tempfile::Builder::new()
            .prefix("k8rs-rm-")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("a/b/f"), "x").unwrap();
        remove_data_dir(&dir).unwrap();
        assert!(!dir.exists());
    }

    #[test]
    fn missing_binary_is_reported() {
        let err = Cluster::start(ClusterOptions {
            k8rs_bin: Some(PathBuf::from("/nonexistent/k8rs")),
            ..ClusterOptions::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/k8rs"), "{err}");
    }
}
