//! The one error type of the testkit library.

use std::path::PathBuf;

/// Everything that can go wrong in the testkit's helpers. Messages carry enough context
/// (paths, commands, output) to debug a failed e2e run from its log alone.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid JSON from {context}: {source}")]
    Json {
        context: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("invalid image: {0}")]
    Image(String),
    #[error("{0} not found (looked on PATH and in /usr/lib/google-cloud-sdk/bin)")]
    KubectlNotFound(String),
    #[error("`{command}` failed ({status})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}")]
    Command {
        command: String,
        status: String,
        stdout: String,
        stderr: String,
    },
    #[error("timed out after {seconds}s waiting for {what}{}", last.as_ref().map(|l| format!(" (last: {l})")).unwrap_or_default())]
    Timeout {
        what: String,
        seconds: u64,
        last: Option<String>,
    },
    #[error("cluster: {0}")]
    Cluster(String),
    #[error("kube client from {path}: {message}")]
    Kube { path: PathBuf, message: String },
}

impl Error {
    /// Wraps an I/O error with what we were doing.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
