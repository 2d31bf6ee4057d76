//! Supervising k8rs's own containerd: generated config, start, readiness via CRI
//! `Version`, offline image import, restart when it dies, and graceful stop.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::cri::CriClient;
use crate::registries;

const CONTAINERD_BIN: &str = "/usr/bin/containerd";
const CTR_BIN: &str = "/usr/bin/ctr";
const CNI_BIN_DIR: &str = "/usr/lib/cni";

#[derive(Clone, Debug)]
pub struct ContainerdConfig {
    /// `<data-dir>/agent`.
    pub data_dir: PathBuf,
    /// e.g. `docker.io/k8rs/pause:0.1.0`.
    pub sandbox_image: String,
    /// k3s-style registries.yaml.
    pub registries_file: Option<PathBuf>,
}

/// Paths derived from the agent data dir.
struct Layout {
    dir: PathBuf,
    config: PathBuf,
    socket: PathBuf,
    certs_d: PathBuf,
    images: PathBuf,
    cni_conf_dir: PathBuf,
    log: PathBuf,
}

impl Layout {
    fn new(data_dir: &Path) -> Layout {
        let dir = data_dir.join("containerd");
        Layout {
            config: dir.join("config.toml"),
            socket: dir.join("containerd.sock"),
            certs_d: dir.join("certs.d"),
            log: dir.join("containerd.log"),
            images: data_dir.join("images"),
            cni_conf_dir: data_dir.join("cni").join("net.d"),
            dir,
        }
    }
}

/// A containerd child process, restarted by a supervisor task if it exits.
pub struct Containerd {
    socket: PathBuf,
    child: Arc<Mutex<Option<Child>>>,
    stop: CancellationToken,
    supervisor: tokio::task::JoinHandle<()>,
}

impl Containerd {
    pub async fn start(cfg: ContainerdConfig) -> Result<Containerd, Error> {
        let layout = Layout::new(&cfg.data_dir);
        for dir in [
            &layout.dir,
            &layout.certs_d,
            &layout.images,
            &layout.cni_conf_dir,
        ] {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| Error::io(dir, e))?;
        }
        write_registry_hosts(&cfg, &layout.certs_d).await?;
        let config = render_config(
            &layout.dir,
            &layout.socket,
            &cfg.sandbox_image,
            &layout.certs_d,
            &layout.cni_conf_dir,
        );
        tokio::fs::write(&layout.config, config)
            .await
            .map_err(|e| Error::io(&layout.config, e))?;

        let child = spawn(&layout).await?;
        wait_ready(&layout.socket, Duration::from_secs(60)).await?;
        import_images(&layout.socket, &layout.images).await;

        let child = Arc::new(Mutex::new(Some(child)));
        let stop = CancellationToken::new();
        let supervisor = tokio::spawn(supervise(child.clone(), stop.clone(), layout));
        Ok(Containerd {
            socket: Layout::new(&cfg.data_dir).socket,
            child,
            stop,
            supervisor,
        })
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// SIGTERM, then SIGKILL if containerd has not exited after 10 s.
    pub async fn stop(self) -> Result<(), Error> {
        self.stop.cancel();
        let _ = self.supervisor.await;
        let mut guard = self.child.lock().await;
        if let Some(mut child) = guard.take() {
            terminate(&mut child).await;
        }
        Ok(())
    }
}

async fn terminate(child: &mut Child) {
    if let Some(pid) = child.id() {
        let pid = nix::unistd::Pid::from_raw(pid as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    }
    if tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .is_err()
    {
        tracing::warn!("containerd did not exit after SIGTERM; killing it");
        let _ = child.kill().await;
    }
}

async fn supervise(child: Arc<Mutex<Option<Child>>>, stop: CancellationToken, layout: Layout) {
    let mut delay = Duration::from_secs(1);
    loop {
        // Poll rather than hold the lock across `wait()`, so `stop` can take the child.
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        let mut guard = child.lock().await;
        let exited = match guard.as_mut() {
            Some(c) => match c.try_wait() {
                Ok(Some(status)) => Some(status.to_string()),
                Ok(None) => None,
                Err(e) => Some(e.to_string()),
            },
            None => Some("not running".to_string()),
        };
        let Some(status) = exited else {
            delay = Duration::from_secs(1);
            continue;
        };
        tracing::error!(%status, "containerd exited; restarting it");
        *guard = None;
        drop(guard);
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(30));
        match spawn(&layout).await {
            Ok(new_child) => {
                *child.lock().await = Some(new_child);
                if let Err(err) = wait_ready(&layout.socket, Duration::from_secs(60)).await {
                    tracing::error!(%err, "restarted containerd is not answering");
                }
            }
            Err(err) => tracing::error!(%err, "could not restart containerd"),
        }
    }
}

async fn spawn(layout: &Layout) -> Result<Child, Error> {
    // A stale socket from a previous run would make the readiness check lie.
    let _ = tokio::fs::remove_file(&layout.socket).await;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&layout.log)
        .map_err(|e| Error::io(&layout.log, e))?;
    let log_err = log.try_clone().map_err(|e| Error::io(&layout.log, e))?;
    Command::new(CONTAINERD_BIN)
        .arg("--config")
        .arg(&layout.config)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err))
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::io(CONTAINERD_BIN, e))
}

async fn wait_ready(socket: &Path, timeout: Duration) -> Result<(), Error> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = String::new();
    while tokio::time::Instant::now() < deadline {
        if socket.exists() {
            match CriClient::connect(socket).await {
                Ok(mut cri) => match cri.version().await {
                    Ok(v) => {
                        tracing::info!(runtime = %v.runtime_name, version = %v.runtime_version, "containerd is ready");
                        return Ok(());
                    }
                    Err(e) => last = e.to_string(),
                },
                Err(e) => last = e.to_string(),
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(Error::Runtime(format!(
        "containerd did not answer CRI Version at {}: {last}",
        socket.display()
    )))
}

/// Imports every `*.tar` of the images folder into the `k8s.io` namespace, so a cluster
/// works offline. A bad tarball is logged, not fatal.
async fn import_images(socket: &Path, images: &Path) {
    let Ok(mut entries) = tokio::fs::read_dir(images).await else {
        return;
    };
    let mut tars = Vec::new();
    while let Ok(Some(entry)) = entries.next_entry().await {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "tar") {
            tars.push(path);
        }
    }
    tars.sort();
    for tar in tars {
        let output = Command::new(CTR_BIN)
            .arg("--address")
            .arg(socket)
            .args(["-n", "k8s.io", "images", "import", "--all-platforms"])
            .arg(&tar)
            .output()
            .await;
        match output {
            Ok(out) if out.status.success() => {
                tracing::info!(image = %tar.display(), "imported image tarball")
            }
            Ok(out) => {
                tracing::error!(image = %tar.display(), stderr = %String::from_utf8_lossy(&out.stderr), "image import failed")
            }
            Err(err) => tracing::error!(image = %tar.display(), %err, "could not run ctr"),
        }
    }
}

async fn write_registry_hosts(cfg: &ContainerdConfig, certs_d: &Path) -> Result<(), Error> {
    let Some(file) = &cfg.registries_file else {
        return Ok(());
    };
    let yaml = match tokio::fs::read_to_string(file).await {
        Ok(yaml) => yaml,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(file, e)),
    };
    let registries =
        registries::parse(&yaml).map_err(|e| Error::Config(format!("{}: {e}", file.display())))?;
    for (host, content) in registries::hosts_files(&registries) {
        // Host names come from a local file; still refuse path tricks.
        if host.contains('/') || host == ".." || host == "." {
            return Err(Error::Config(format!("invalid registry host {host:?}")));
        }
        let dir = certs_d.join(&host);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| Error::io(&dir, e))?;
        let path = dir.join("hosts.toml");
        tokio::fs::write(&path, content)
            .await
            .map_err(|e| Error::io(&path, e))?;
    }
    Ok(())
}

/// containerd 1.6 config (version 2).
pub fn render_config(
    dir: &Path,
    socket: &Path,
    sandbox_image: &str,
    certs_d: &Path,
    cni_conf_dir: &Path,
) -> String {
    let q = |p: &Path| format!("{:?}", p.display().to_string());
    let cri = "plugins.\"io.containerd.grpc.v1.cri\"";
    let sandbox_literal = format!("{sandbox_image:?}");
    format!(
        r#"version = 2
root = {root}
state = {state}

[grpc]
  address = {socket}

[plugins."io.containerd.internal.v1.opt"]
  path = {opt}

[{cri}]
  sandbox_image = {sandbox}
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  restrict_oom_score_adj = {restrict_oom}

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false

[{cri}.cni]
  bin_dir = "{cni_bin}"
  conf_dir = {cni_conf}

[{cri}.registry]
  config_path = {certs}
"#,
        root = q(&dir.join("root")),
        state = q(&dir.join("state")),
        socket = q(socket),
        opt = q(&dir.join("opt")),
        sandbox = sandbox_literal,
        cni_bin = CNI_BIN_DIR,
        cni_conf = q(cni_conf_dir),
        certs = q(certs_d),
        restrict_oom = !has_cap_sys_resource(),
    )
}

/// Without CAP_SYS_RESOURCE (some VMs and containers) runc cannot lower a sandbox's
/// oom_score_adj below containerd's own, so containerd must clamp it.
fn has_cap_sys_resource() -> bool {
    const CAP_SYS_RESOURCE: u32 = 24;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    cap_eff_has(&status, CAP_SYS_RESOURCE)
}

fn cap_eff_has(proc_status: &str, cap: u32) -> bool {
    proc_status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|mask| mask & (1u64 << cap) != 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_effective_capabilities() {
        assert!(super::cap_eff_has("CapEff:\t000001ffffffffff\n", 24));
        assert!(!super::cap_eff_has("CapEff:\t000001fffeffffff\n", 24));
        assert!(!super::cap_eff_has("", 24));
    }

    use super::*;

    #[test]
    fn config_names_socket_sandbox_and_cni_dirs() {
        let layout = Layout::new(Path::new("/var/lib/k8rs/agent"));
        let cfg = render_config(
            &layout.dir,
            &layout.socket,
            "docker.io/k8rs/pause:0.1.0",
            &layout.certs_d,
            &layout.cni_conf_dir,
        );
        assert!(cfg.starts_with("version = 2\n"));
        assert!(cfg.contains("address = \"/var/lib/k8rs/agent/containerd/containerd.sock\""));
        assert!(cfg.contains("sandbox_image = \"docker.io/k8rs/pause:0.1.0\""));
        assert!(cfg.contains("conf_dir = \"/var/lib/k8rs/agent/cni/net.d\""));
        assert!(cfg.contains("config_path = \"/var/lib/k8rs/agent/containerd/certs.d\""));
        assert!(cfg.contains("SystemdCgroup = false"));
    }
}
