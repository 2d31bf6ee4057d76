//! Runs a fixed upstream kubectl release (`kubectl.1.33`, `kubectl.1.27`, ...) against a
//! kubeconfig, with failures that say exactly what was run and what it printed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{Error, Result};

/// Where the Google Cloud SDK installs its versioned kubectl binaries.
const GCLOUD_BIN: &str = "/usr/lib/google-cloud-sdk/bin";

/// A kubectl command never takes this long against a healthy cluster.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// What a successful kubectl run printed.
#[derive(Debug, Clone)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

/// A kubectl binary of one version bound to one kubeconfig.
#[derive(Debug, Clone)]
pub struct Kubectl {
    binary: PathBuf,
    kubeconfig: PathBuf,
    timeout: Duration,
}

impl Kubectl {
    /// `version` is `1.33` or `kubectl.1.33`; the binary is looked up on PATH, then in the
    /// Google Cloud SDK's bin directory.
    pub fn new(version: &str, kubeconfig: impl Into<PathBuf>) -> Result<Self> {
        let name = if version.starts_with("kubectl") {
            version.to_string()
        } else {
            format!("kubectl.{version}")
        };
        let binary = find_binary(&name).ok_or(Error::KubectlNotFound(name))?;
        Ok(Self {
            binary,
            kubeconfig: kubeconfig.into(),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Kills kubectl runs that take longer than `timeout` (default 120 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// Runs `kubectl --kubeconfig <cfg> <args>`; a non-zero exit is an error carrying
    /// the arguments, stdout and stderr.
    pub fn run(&self, args: &[&str]) -> Result<Output> {
        let (success, status, out) = self.exec(args)?;
        if success {
            Ok(out)
        } else {
            Err(self.command_error(args, status, out))
        }
    }

    /// Runs a command that is expected to fail and returns its output; success is an error.
    pub fn run_expect_failure(&self, args: &[&str]) -> Result<Output> {
        let (success, status, out) = self.exec(args)?;
        if success {
            Err(self.command_error(args, format!("{status}, but failure was expected"), out))
        } else {
            Ok(out)
        }
    }

    /// Runs `args` plus `-o json` and parses stdout.
    pub fn json(&self, args: &[&str]) -> Result<Value> {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["-o", "json"]);
        let out = self.run(&full)?;
        serde_json::from_str(&out.stdout).map_err(|source| Error::Json {
            context: self.describe(&full),
            source,
        })
    }

    fn describe(&self, args: &[&str]) -> String {
        let name = self
            .binary
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "kubectl".into());
        format!("{name} {}", args.join(" "))
    }

    fn command_error(&self, args: &[&str], status: String, out: Output) -> Error {
        Error::Command {
            command: self.describe(args),
            status,
            stdout: out.stdout,
            stderr: out.stderr,
        }
    }

    /// Runs kubectl to completion (or the timeout) and returns (success, status text, output).
    fn exec(&self, args: &[&str]) -> Result<(bool, String, Output)> {
        let mut child = Command::new(&self.binary)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::io(format!("starting {}", self.describe(args)), e))?;
        // Drain both pipes on threads so a chatty kubectl cannot block on a full pipe.
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let deadline = Instant::now() + self.timeout;
        let mut timed_out = false;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    timed_out = true;
                    let _ = child.kill();
                    break child.wait().map_err(|e| {
                        Error::io(format!("waiting for {}", self.describe(args)), e)
                    })?;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(Error::io(format!("waiting for {}", self.describe(args)), e)),
            }
        };
        let out = Output {
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        };
        let status_text = if timed_out {
            format!("killed after {}s", self.timeout.as_secs())
        } else {
            status.to_string()
        };
        Ok((status.success() && !timed_out, status_text, out))
    }
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(std::iter::once(PathBuf::from(GCLOUD_BIN)))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_version_is_a_clear_error() {
        let err = Kubectl::new("0.0", "/nonexistent").unwrap_err();
        assert!(err.to_string().contains("kubectl.0.0 not found"), "{err}");
    }

    #[test]
    fn failures_carry_args_and_output() {
        // Needs a kubectl; skipped on machines without one.
        let Ok(k) = Kubectl::new("1.33", "/nonexistent/kubeconfig") else {
            return;
        };
        let err = k.run(&["get", "pods", "--request-timeout=1s"]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("kubectl.1.33 get pods"), "{msg}");
        assert!(msg.contains("--- stderr ---"), "{msg}");
        assert!(k.run(&["version", "--client"]).is_ok());
    }
}
