//! What the compat scenarios share: the server, a scratch directory for manifests, and
//! helpers to read kubectl's table output and its errors.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, ensure};
use serde_json::Value;
use testkit::{Cluster, Kubectl};

/// Controllers reacting to a change (garbage collection, namespace deletion). They react
/// within a second or two when they work; the margin is for a loaded CI machine.
pub const CONVERGE_TIMEOUT: Duration = Duration::from_secs(30);

/// How much watch history the server keeps (`--compaction-interval`): short, so that the
/// suite can observe `410 Gone` for a resourceVersion it recorded at the start.
pub const COMPACTION_INTERVAL: Duration = Duration::from_secs(60);

/// When the start-up resourceVersion must be compacted, counted from when it was
/// recorded: the server compacts to revisions sampled (every tenth of the interval) at
/// least one interval ago, so one interval plus a sampling step plus margin.
const COMPACTED_AFTER: Duration = Duration::from_secs(90);

/// The least time a 410 check polls, even when `COMPACTED_AFTER` has long passed: a few
/// watch attempts, not a single one.
const MIN_410_WAIT: Duration = Duration::from_secs(20);

/// One named check; an error fails it.
pub type Scenario = Box<dyn Fn(&Ctx) -> Result<()>>;

pub struct Ctx {
    pub cluster: Cluster,
    /// Runs kube-rs calls.
    pub runtime: tokio::runtime::Runtime,
    /// Manifests written by scenarios.
    pub scratch: tempfile::TempDir,
    /// A resourceVersion recorded right after start-up; compacted away by the time the
    /// 410 checks run.
    pub start_rv: String,
    /// When `start_rv` was recorded.
    pub start_rv_at: Instant,
    /// The scenario filter of the run (`python::<test>` selects pytest tests).
    pub filter: Option<String>,
    /// Results of tests a scenario ran itself (name, error text); `main` reports and
    /// counts them against the known failures.
    pub sub_results: RefCell<Vec<(String, Result<(), String>)>>,
}

impl Ctx {
    pub fn new(cluster: Cluster, filter: Option<String>) -> Result<Ctx> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("starting the tokio runtime")?;
        let k = cluster.kubectl("1.33")?;
        // A write so that the recorded revision is a real one, then the list's revision.
        k.run(&["create", "namespace", "compat-start"])?;
        // kubectl's own `-o json` list has an empty resourceVersion: ask the API directly.
        let raw = k.run(&["get", "--raw", "/api/v1/namespaces"])?.stdout;
        let list: Value = serde_json::from_str(&raw).context("namespace list JSON")?;
        let start_rv = list
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .filter(|rv| !rv.is_empty())
            .ok_or_else(|| anyhow!("namespace list has no metadata.resourceVersion"))?
            .to_string();
        Ok(Ctx {
            cluster,
            runtime,
            scratch: tempfile::tempdir().context("creating the scratch dir")?,
            start_rv,
            start_rv_at: Instant::now(),
            filter,
            sub_results: RefCell::new(Vec::new()),
        })
    }

    /// How long a check may keep waiting for `start_rv` to be answered with 410 Gone: until
    /// it must have been compacted, but at least `MIN_410_WAIT`.
    pub fn wait_for_410(&self) -> Duration {
        (self.start_rv_at + COMPACTED_AFTER)
            .saturating_duration_since(Instant::now())
            .max(MIN_410_WAIT)
    }

    pub fn kubectl(&self, version: &str) -> Result<Kubectl> {
        Ok(self.cluster.kubectl(version)?)
    }

    /// Writes `content` to `<scratch>/<name>` and returns its path.
    pub fn manifest(&self, name: &str, content: &str) -> Result<PathBuf> {
        let path = self.scratch.path().join(name);
        std::fs::write(&path, content).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

/// The column names of kubectl's table output: the first line, split at runs of two or
/// more spaces (names themselves contain single spaces, e.g. `NODE SELECTOR`).
pub fn table_header(stdout: &str) -> Vec<String> {
    let line = stdout.lines().next().unwrap_or("");
    let mut cols = Vec::new();
    let mut current = String::new();
    let mut spaces = 0;
    for c in line.chars() {
        if c == ' ' {
            spaces += 1;
            continue;
        }
        if spaces >= 2 && !current.is_empty() {
            cols.push(std::mem::take(&mut current));
        } else if spaces == 1 && !current.is_empty() {
            current.push(' ');
        }
        spaces = 0;
        current.push(c);
    }
    if !current.is_empty() {
        cols.push(current);
    }
    cols
}

/// The first column of every row after the header.
pub fn table_names(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Asserts the table's header equals `want`.
pub fn ensure_header(stdout: &str, want: &[&str], what: &str) -> Result<()> {
    let got = table_header(stdout);
    ensure!(
        got == want,
        "{what}: table header is {got:?}, upstream prints {want:?}\n--- output ---\n{stdout}"
    );
    Ok(())
}

/// Names printed by `-o name` (`configmap/a` -> `a`).
pub fn object_names(stdout: &str) -> Vec<String> {
    let mut names: Vec<String> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.rsplit('/').next().unwrap_or(l).trim().to_string())
        .collect();
    names.sort();
    names
}

/// Runs a command that must fail and checks stderr contains `want`.
pub fn expect_error(k: &Kubectl, args: &[&str], want: &str) -> Result<String> {
    let out = k.run_expect_failure(args)?;
    ensure!(
        out.stderr.contains(want),
        "`kubectl {}`: expected upstream's error containing\n  {want}\ngot stderr:\n  {}\nstdout:\n  {}",
        args.join(" "),
        out.stderr.trim(),
        out.stdout.trim()
    );
    Ok(out.stderr)
}

/// Polls until `kubectl get <args>` fails with NotFound.
pub fn wait_gone(k: &Kubectl, args: &[&str], what: &str) -> Result<()> {
    let mut full: Vec<&str> = vec!["get"];
    full.extend(args);
    testkit::wait_for(&format!("{what} to be gone"), CONVERGE_TIMEOUT, || match k
        .run_expect_failure(&full)
    {
        Ok(out) if out.stderr.contains("(NotFound)") => Ok(Some(())),
        Ok(out) => Err(anyhow!("get failed otherwise: {}", out.stderr.trim())),
        Err(_) => Ok(None),
    })?;
    Ok(())
}

pub fn str_at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// `metadata.ownerReferences` kinds/names of `obj`.
pub fn owner_refs(obj: &Value) -> Vec<(String, String)> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .map(|r| {
                    (
                        str_at(r, "/kind").to_string(),
                        str_at(r, "/name").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
