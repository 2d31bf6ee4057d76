//! The server under test: either one this command starts (control plane only, in a
//! throwaway data dir, on a free loopback port), or an existing one named by a kubeconfig.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// How long `stop` waits after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(30);
/// Upper bound for the kubeconfig to appear and `/readyz` to answer ok.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(200);

/// A `k8rs server --disable-agent` started by this command.
pub struct OwnServer {
    child: Option<Child>,
    data_dir: PathBuf,
    keep_data_dir: bool,
}

impl OwnServer {
    /// Starts the server and waits until its admin kubeconfig exists.
    pub fn start(bin: &Path, node_name: &str, keep_data_dir: bool) -> anyhow::Result<OwnServer> {
        if !bin.is_file() {
            bail!(
                "k8rs binary {} not found (build it with `cargo build --release -p k8rs` or pass --k8rs-bin)",
                bin.display()
            );
        }
        let data_dir = tempfile::Builder::new()
            .prefix("k8rs-load-")
            .tempdir_in("/tmp")
            .context("creating the data dir under /tmp")?
            .keep();
        let port = testkit::host::free_port()?;
        let log_path = data_dir.join("server.log");
        let log =
            File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
        let log_err = log.try_clone().context("duplicating the log file")?;
        let kubeconfig = data_dir.join("kubeconfig.yaml");
        let child = Command::new(bin)
            .arg("server")
            .arg("--disable-agent")
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["--https-port", &port.to_string()])
            .args(["--bind-address", "127.0.0.1", "--node-ip", "127.0.0.4"])
            .args(["--node-name", node_name])
            .arg("--write-kubeconfig")
            .arg(&kubeconfig)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut server = OwnServer {
            child: Some(child),
            data_dir,
            keep_data_dir,
        };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while !std::fs::metadata(&kubeconfig).is_ok_and(|m| m.len() > 0) {
            server.ensure_running()?;
            if Instant::now() >= deadline {
                server.keep_data_dir = true;
                bail!("k8rs server wrote no kubeconfig within {STARTUP_TIMEOUT:?}");
            }
            std::thread::sleep(POLL);
        }
        Ok(server)
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.data_dir.join("kubeconfig.yaml")
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn log_path(&self) -> PathBuf {
        self.data_dir.join("server.log")
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Errors if the server process has exited.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        let Some(child) = self.child.as_mut() else {
            bail!("k8rs server was stopped");
        };
        if let Some(status) = child.try_wait().context("checking k8rs server")? {
            self.child = None;
            self.keep_data_dir = true;
            bail!(
                "k8rs server exited ({status}); see {}",
                self.log_path().display()
            );
        }
        Ok(())
    }

    /// SIGTERM, up to 30 s grace, then SIGKILL; removes the data dir unless kept.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = libc::pid_t::try_from(child.id()).context("k8rs server pid out of range")?;
        // SAFETY: `pid` is our own child, not yet reaped, so it cannot have been reused.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + STOP_GRACE;
        let clean = loop {
            match child.try_wait().context("waiting for k8rs server")? {
                Some(status) => break status.success(),
                None if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break false;
                }
                None => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        if !clean || self.keep_data_dir {
            eprintln!("keeping data dir {}", self.data_dir.display());
            if !clean {
                bail!("k8rs server did not stop cleanly after SIGTERM");
            }
            return Ok(());
        }
        std::fs::remove_dir_all(&self.data_dir)
            .with_context(|| format!("removing {}", self.data_dir.display()))
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("stopping k8rs server: {e:#}");
        }
    }
}

/// A kube-rs client from a kubeconfig file (its current context).
pub async fn client(kubeconfig: &Path) -> anyhow::Result<kube::Client> {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig)
        .with_context(|| format!("reading {}", kubeconfig.display()))?;
    let mut config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .with_context(|| format!("loading {}", kubeconfig.display()))?;
    // LISTs of 50k pods are large; never cut a response short on the client side.
    config.read_timeout = None;
    kube::Client::try_from(config).context("building the kube client")
}

/// Polls `/readyz` until it answers `ok`.
pub async fn wait_ready(client: &kube::Client, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let req = http::Request::get("/readyz").body(Vec::new())?;
        let last = match client.request_text(req).await {
            Ok(body) if body.trim() == "ok" => return Ok(()),
            Ok(body) => body,
            Err(e) => e.to_string(),
        };
        if Instant::now() >= deadline {
            bail!("the API server was not ready within {timeout:?}: {last}");
        }
        tokio::time::sleep(POLL).await;
    }
}
