//! Runs the Python client's checks (`tests/compat/python/`, pytest) against the server and
//! turns pytest's per-test results into harness results.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, ensure};
use testkit::cluster::workspace_dir;

use super::support::Ctx;

/// The whole pytest run: about ten tests of seconds each, each wait bounded by
/// `TEST_TIMEOUT` (the 410 test by `Ctx::wait_for_410`, at most 90 s).
const PYTEST_TIMEOUT: Duration = Duration::from_secs(300);

/// A single wait inside a Python test (controllers converging), like `CONVERGE_TIMEOUT`.
const TEST_TIMEOUT: Duration = super::support::CONVERGE_TIMEOUT;

/// Prepares the venv (idempotent), runs pytest and records one `python::<name>` result per
/// pytest test in `ctx.sub_results` (`main` prints and counts them). Errors only when
/// pytest could not run at all.
pub fn run(ctx: &Ctx) -> Result<()> {
    if std::env::var_os("COMPAT_SKIP_PYTHON").is_some() {
        println!("(python checks skipped: COMPAT_SKIP_PYTHON is set)");
        return Ok(());
    }
    let root = workspace_dir();
    let setup = Command::new(root.join("scripts/compat-python-setup.sh"))
        .stderr(Stdio::inherit())
        .output()
        .context("running scripts/compat-python-setup.sh")?;
    ensure!(
        setup.status.success(),
        "scripts/compat-python-setup.sh failed ({})",
        setup.status
    );
    let stdout = String::from_utf8_lossy(&setup.stdout);
    let python = stdout
        .lines()
        .last()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| anyhow!("the setup script printed no interpreter path"))?
        .to_string();

    let mut pytest = Command::new(&python);
    pytest
        .args(["-m", "pytest", "-rA", "-q", "-p", "no:cacheprovider"])
        .arg(root.join("tests/compat/python"));
    if let Some(test) = ctx
        .filter
        .as_deref()
        .and_then(|f| f.strip_prefix("python::"))
    {
        pytest.args(["-k", test]);
    }
    let mut child = pytest
        .env("KUBECONFIG", ctx.cluster.kubeconfig_path())
        .env("COMPAT_NAMESPACE", "compat-py")
        .env("COMPAT_OLD_RV", &ctx.start_rv)
        .env(
            "COMPAT_410_TIMEOUT",
            ctx.wait_for_410().as_secs().to_string(),
        )
        .env("COMPAT_TIMEOUT", TEST_TIMEOUT.as_secs().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {python} -m pytest"))?;
    let out_pipe = child.stdout.take();
    let err_pipe = child.stderr.take();
    let out_thread = std::thread::spawn(move || read_all(out_pipe));
    let err_thread = std::thread::spawn(move || read_all(err_pipe));
    let deadline = Instant::now() + PYTEST_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = out_thread.join().unwrap_or_default();
    let errors = err_thread.join().unwrap_or_default();
    ensure!(
        status.is_some(),
        "pytest did not finish within {}s:\n{output}\n{errors}",
        PYTEST_TIMEOUT.as_secs()
    );

    let results = parse_summary(&output);
    ensure!(
        !results.is_empty(),
        "pytest reported no results ({status:?}):\n{output}\n{errors}"
    );
    let mut sub_results = ctx.sub_results.borrow_mut();
    for (name, ok, reason) in &results {
        let outcome = if *ok {
            Ok(())
        } else {
            Err(format!("{reason}\n{}", failure_section(&output, name)))
        };
        sub_results.push((format!("python::{name}"), outcome));
    }
    Ok(())
}

fn read_all<R: Read>(pipe: Option<R>) -> String {
    let mut buf = Vec::new();
    if let Some(mut p) = pipe {
        let _ = p.read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// `-rA` summary lines: `PASSED path::test_x`, `FAILED path::test_y - reason`,
/// `ERROR path::test_z - reason`.
fn parse_summary(output: &str) -> Vec<(String, bool, String)> {
    output
        .lines()
        .filter_map(|line| {
            let (ok, rest) = if let Some(r) = line.strip_prefix("PASSED ") {
                (true, r)
            } else if let Some(r) = line
                .strip_prefix("FAILED ")
                .or_else(|| line.strip_prefix("ERROR "))
            {
                (false, r)
            } else {
                return None;
            };
            let (id, reason) = rest.split_once(" - ").unwrap_or((rest, ""));
            let name = id.rsplit("::").next().unwrap_or(id).to_string();
            Some((name, ok, reason.to_string()))
        })
        .collect()
}

/// pytest's failure report for one test (the `___ test_name ___` section), trimmed.
fn failure_section(output: &str, name: &str) -> String {
    let marker = format!(" {name} _");
    let Some(start) = output.find(&marker) else {
        return String::new();
    };
    let rest = output.get(start..).unwrap_or("");
    let end = rest
        .get(1..)
        .and_then(|r| r.find("\n____").or_else(|| r.find("\n====")))
        .map(|e| e + 1)
        .unwrap_or(rest.len());
    let section = rest.get(..end).unwrap_or(rest);
    // Keep the tail: the assertion and the values are at the end.
    let lines: Vec<&str> = section.lines().collect();
    lines
        .get(lines.len().saturating_sub(40)..)
        .unwrap_or_default()
        .join("\n")
}
