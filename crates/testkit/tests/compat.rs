//! API compatibility suite: upstream clients against ONE control-plane-only `k8rs server`.
//!
//! kubectl 1.33 and 1.27, the official Python client and kube-rs exercise the API semantics
//! clients rely on (CRUD of every built-in kind with upstream's table columns, selectors,
//! pagination, watch resume and 410, deletion propagation, namespace termination, dry-run,
//! conflicts, authorization checks, discovery). The server runs with `--disable-agent`: no
//! containerd and no node, so pods stay Pending — enough for API semantics.
//!
//! Needs the k8rs binary (`K8RS_BIN`, default `target/release/k8rs`), `kubectl.1.33` and
//! `kubectl.1.27`, and python3 (`scripts/compat-python-setup.sh` builds a venv with the
//! `kubernetes` client; `COMPAT_SKIP_PYTHON=1` skips the Python part).
//!
//! Output: `test <name> ... ok|FAILED|known failure (<reason>)` per scenario, then
//! `N passed, N failed, N known failures`. Scenarios listed in
//! `crates/testkit/tests/compat/known_failures.txt` (exact names or `*` patterns, with a
//! `# reason`) may fail without failing the run; a listed scenario that passes fails it, so
//! the list stays true (see `testkit::known_failures`).
//! `cargo test -p testkit --test compat -- <filter>` runs only scenarios whose name
//! contains `<filter>` (`python::<test>` runs that pytest test; setup, the namespace
//! setup scenarios and shutdown always run).

mod compat {
    pub mod crds;
    pub mod kube_rs;
    pub mod kubectl_scenarios;
    pub mod manifests;
    pub mod python;
    pub mod support;
    pub mod write_paths;
}

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use testkit::cluster::workspace_dir;
use testkit::{Cluster, ClusterOptions, Kubectl};

use compat::support::{COMPACTION_INTERVAL, Ctx, Scenario};
use testkit::known_failures::{KnownFailures, Tally};

/// kubectl releases the suite runs every kubectl scenario with.
const KUBECTL_VERSIONS: &[&str] = &["1.33", "1.27"];

/// Tests expected to fail until tracked features land (format: `testkit::known_failures`).
const KNOWN_FAILURES: &str = "crates/testkit/tests/compat/known_failures.txt";

fn main() -> ExitCode {
    let filter: Option<String> = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .filter(|a| !a.is_empty());
    let scenarios = scenarios();
    if std::env::args().any(|a| a == "--list") {
        for (name, _) in &scenarios {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    let known_path = workspace_dir().join(KNOWN_FAILURES);
    let known = match KnownFailures::load(&known_path) {
        Ok(known) => known,
        Err(e) => {
            eprintln!("{KNOWN_FAILURES}: {e}");
            println!("0 passed, 1 failed, 0 known failures");
            return ExitCode::FAILURE;
        }
    };
    let mut tally = Tally::new(known);
    let mut ctx = match setup(filter.clone()) {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("compat setup failed: {e:#}");
            println!("0 passed, 1 failed, 0 known failures");
            return ExitCode::FAILURE;
        }
    };

    for (name, scenario) in &scenarios {
        if let Some(f) = &filter
            && !selected(name, f)
        {
            continue;
        }
        // A panic in one scenario must not skip the others or leave the server running.
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| scenario(&ctx)))
            .unwrap_or_else(|panic| Err(anyhow!("panicked: {}", panic_message(&panic))));
        // Tests a scenario ran on its own (the Python ones) are reported before it.
        for (sub, result) in ctx.sub_results.take() {
            println!("{}", tally.record(&sub, result).1);
        }
        println!(
            "{}",
            tally.record(name, outcome.map_err(|e| format!("{e:#}"))).1
        );
    }

    if filter.is_none() {
        // A pattern whose tests all passed no longer describes a failure: fail the run.
        let stale: Vec<(usize, String)> = tally
            .stale_patterns()
            .iter()
            .map(|e| (e.line, e.pattern.clone()))
            .collect();
        for (line, pattern) in stale {
            println!(
                "{KNOWN_FAILURES}:{line}: every test matching `{pattern}` passed: remove the pattern"
            );
            tally.fail(&format!("{KNOWN_FAILURES}:{line} ({pattern})"));
        }
        for entry in tally.unused_entries() {
            println!(
                "warning: {KNOWN_FAILURES}:{}: `{}` matched no test",
                entry.line, entry.pattern
            );
        }
    }

    if tally.failed > 0 {
        eprintln!("{}", ctx.cluster.log_tail(100));
        ctx.cluster.keep_data_dir();
    }
    let stopped = ctx.cluster.stop().map_err(|e| format!("{e:#}"));
    println!("{}", tally.record("server_shutdown", stopped).1);
    if !tally.failures.is_empty() {
        println!("failures:");
        for f in &tally.failures {
            println!("    {f}");
        }
    }
    println!("{}", tally.summary());
    if tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Whether a scenario runs under `filter`: its name contains the filter, it is the Python
/// scenario and the filter names Python tests (`python::...`), or it creates the namespace
/// the kubectl scenarios work in.
fn selected(name: &str, filter: &str) -> bool {
    name.contains(filter)
        || (name == "python" && filter.starts_with("python::"))
        || name.starts_with("namespace_setup@")
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Every scenario, in run order: kubectl ones once per kubectl release, then Python, then
/// kube-rs (the 410 checks last, when the start-of-suite resourceVersion is compacted).
fn scenarios() -> Vec<(String, Scenario)> {
    let mut list: Vec<(String, Scenario)> = Vec::new();
    for version in KUBECTL_VERSIONS {
        let per_version = compat::kubectl_scenarios::scenarios(version)
            .into_iter()
            .chain(compat::write_paths::scenarios(version))
            .chain(compat::crds::scenarios(version));
        for (name, scenario) in per_version {
            list.push((format!("{name}@kubectl-{version}"), scenario));
        }
    }
    list.push(("python".into(), Box::new(compat::python::run) as Scenario));
    for (name, scenario) in compat::kube_rs::scenarios() {
        list.push((format!("kube_rs::{name}"), scenario));
    }
    list
}

fn setup(filter: Option<String>) -> Result<Ctx> {
    let bin = std::env::var_os("K8RS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_dir().join("target/release/k8rs"));
    for version in KUBECTL_VERSIONS {
        Kubectl::new(version, "/dev/null").with_context(|| format!("kubectl {version}"))?;
    }
    let cluster = Cluster::start(ClusterOptions {
        k8rs_bin: Some(bin),
        node_name: "compat-node".into(),
        node_ip: "127.0.0.3".into(),
        disable_agent: true,
        bind_address: Some("127.0.0.1".into()),
        extra_args: vec![
            "--compaction-interval".into(),
            format!("{}s", COMPACTION_INTERVAL.as_secs()),
        ],
        data_dir_prefix: "k8rs-compat-".into(),
        startup_timeout: Duration::from_secs(120),
        ..ClusterOptions::default()
    })
    .context("starting the control-plane-only server")?;
    Ctx::new(cluster, filter)
}
