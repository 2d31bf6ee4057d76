//! Write paths driven by one kubectl release: client-side `apply` (three-way merge),
//! `patch` of every type, a table of strategic-merge-patch directives, the `set` family,
//! `edit`, `diff`, server-side apply with managedFields and conflicts, `explain` and
//! server-side field validation. Each release works in its own namespace (`compat-133`,
//! created by `namespace_setup`), so both run the same scenarios against one server.
//! Expected results are upstream's (kube-apiserver 1.33 with that kubectl).

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, ensure};
use serde_json::{Value, json};
use testkit::Kubectl;

use super::support::{Ctx, Scenario, expect_error, str_at};

type VersionedFn = fn(&Ctx, &str) -> Result<()>;

/// `1.33` -> `133`.
pub fn sfx(version: &str) -> String {
    version.replace('.', "")
}

/// The namespace a kubectl release's scenarios work in (created by `namespace_setup`).
pub fn ns(version: &str) -> String {
    format!("compat-{}", sfx(version))
}

pub fn scenarios(version: &'static str) -> Vec<(String, Scenario)> {
    let list: [(&str, VersionedFn); 17] = [
        ("apply_idempotent", apply_idempotent),
        ("apply_remove_container", apply_remove_container),
        ("apply_change_env", apply_change_env),
        ("apply_add_port", apply_add_port),
        ("apply_remove_volume", apply_remove_volume),
        ("patch_types", patch_types),
        ("patch_json_errors", patch_json_errors),
        ("smp_table", smp_table),
        ("set_commands", set_commands),
        ("set_resources", set_resources),
        ("edit", edit),
        ("diff", diff),
        ("server_side_apply", server_side_apply),
        ("server_side_apply_upgrade", server_side_apply_upgrade),
        ("explain", explain),
        ("create_validate", create_validate),
        ("create_validate_modes", create_validate_modes),
    ];
    list.into_iter()
        .map(|(name, f)| {
            (
                name.to_string(),
                Box::new(move |ctx: &Ctx| f(ctx, version)) as Scenario,
            )
        })
        .collect()
}

/// What a kubectl run with a custom environment printed, and its exit code.
pub struct EnvOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs kubectl with extra environment variables (`EDITOR`, ...) and returns its exit code
/// instead of failing on non-zero: `kubectl diff` exits 1 for "differences found". The
/// variables in `unset` are removed (a `KUBE_EDITOR` of the caller would win over
/// `EDITOR`). Killed after two minutes, like `Kubectl::run`.
pub fn run_env(
    ctx: &Ctx,
    k: &Kubectl,
    args: &[&str],
    env: &[(&str, &str)],
    unset: &[&str],
) -> Result<EnvOutput> {
    let mut cmd = Command::new(k.binary());
    cmd.arg("--kubeconfig")
        .arg(ctx.cluster.kubeconfig_path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in unset {
        cmd.env_remove(var);
    }
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting kubectl {}", args.join(" ")))?;
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let status = status.ok_or_else(|| {
        anyhow!(
            "kubectl {} did not finish in 120 s\nstdout: {stdout}\nstderr: {stderr}",
            args.join(" ")
        )
    })?;
    Ok(EnvOutput {
        code: status.code(),
        stdout,
        stderr,
    })
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

pub fn path_str(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| anyhow!("non-UTF-8 path {}", path.display()))
}

/// Collects every mismatch of `obj` against `(JSON pointer, expected)`; `None` means the
/// field must be absent (upstream omits empty maps and lists).
pub fn check_fields(obj: &Value, checks: &[(&str, Option<Value>)], what: &str) -> Vec<String> {
    checks
        .iter()
        .filter_map(|(ptr, want)| {
            let got = obj.pointer(ptr);
            (got != want.as_ref()).then(|| {
                format!(
                    "{what}: {ptr} is {}, upstream: {}",
                    got.map(Value::to_string).unwrap_or_else(|| "absent".into()),
                    want.as_ref()
                        .map(Value::to_string)
                        .unwrap_or_else(|| "absent".into())
                )
            })
        })
        .collect()
}

/// The names of `spec.template.spec.containers` of a Deployment.
fn container_names(obj: &Value) -> Vec<String> {
    obj.pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| cs.iter().map(|c| str_at(c, "/name").to_string()).collect())
        .unwrap_or_default()
}

/// The containers of the base Deployment the apply scenarios start from.
const BASE_CONTAINERS: &str = "      - name: app
        image: docker.io/k8rs/demo:0.1.0
        env:
        - {name: A, value: \"1\"}
        - {name: B, value: \"2\"}
        ports:
        - {containerPort: 8080, name: http}
        volumeMounts:
        - {name: data, mountPath: /data}
        - {name: cache, mountPath: /cache}
      - name: side
        image: docker.io/k8rs/pause:0.1.0
";

const BASE_VOLUMES: &str = "      - {name: data, emptyDir: {}}
      - {name: cache, emptyDir: {}}
";

/// A Deployment manifest with the given containers and volumes blocks (YAML indented for
/// `spec.template.spec`).
fn deployment(name: &str, ns: &str, replicas: u32, containers: &str, volumes: &str) -> String {
    let volumes = if volumes.is_empty() {
        String::new()
    } else {
        format!("      volumes:\n{volumes}")
    };
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
{containers}{volumes}"
    )
}

/// `kubectl apply -f` of `yaml` (written to the scratch dir as `file`); returns stdout.
fn apply(ctx: &Ctx, k: &Kubectl, file: &str, yaml: &str) -> Result<String> {
    let path = ctx.manifest(file, yaml)?;
    Ok(k.run(&["apply", "-f", path_str(&path)?])?.stdout)
}

/// Applies the base Deployment `name`, then `changed`, and checks the second apply
/// configured it and a third (same manifest) finds nothing to change. Returns the live
/// object.
fn apply_change(ctx: &Ctx, version: &str, name: &str, changed: &str) -> Result<Value> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let sfx = sfx(version);
    let base = deployment(name, &ns, 1, BASE_CONTAINERS, BASE_VOLUMES);
    let out = apply(ctx, &k, &format!("{name}-{sfx}.yaml"), &base)?;
    ensure!(
        out.contains(&format!("deployment.apps/{name} created")),
        "first apply printed {out:?}"
    );
    let out = apply(ctx, &k, &format!("{name}-{sfx}-2.yaml"), changed)?;
    ensure!(
        out.contains(&format!("deployment.apps/{name} configured")),
        "apply of the edited manifest printed {out:?}"
    );
    let out = apply(ctx, &k, &format!("{name}-{sfx}-2.yaml"), changed)?;
    ensure!(
        out.contains(&format!("deployment.apps/{name} unchanged")),
        "re-apply of the edited manifest printed {out:?}, upstream: unchanged"
    );
    let obj = k.json(&["get", "deploy", name, "-n", &ns])?;
    k.run(&["delete", "deploy", name, "-n", &ns, "--wait=false"])?;
    Ok(obj)
}

/// Applying the same manifest twice: the second apply finds nothing to change.
fn apply_idempotent(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let name = "apply-idem";
    let yaml = deployment(name, &ns, 1, BASE_CONTAINERS, BASE_VOLUMES);
    let file = format!("{name}-{}.yaml", sfx(version));
    let out = apply(ctx, &k, &file, &yaml)?;
    ensure!(
        out.contains(&format!("deployment.apps/{name} created")),
        "first apply printed {out:?}"
    );
    let before = k.json(&["get", "deploy", name, "-n", &ns])?;
    let out = apply(ctx, &k, &file, &yaml)?;
    ensure!(
        out.contains(&format!("deployment.apps/{name} unchanged")),
        "second apply printed {out:?}, upstream: deployment.apps/{name} unchanged"
    );
    let after = k.json(&["get", "deploy", name, "-n", &ns])?;
    ensure!(
        before.pointer("/metadata/generation") == after.pointer("/metadata/generation"),
        "an unchanged apply bumped metadata.generation: {:?} -> {:?}",
        before.pointer("/metadata/generation"),
        after.pointer("/metadata/generation")
    );
    k.run(&["delete", "deploy", name, "-n", &ns, "--wait=false"])?;
    Ok(())
}

fn apply_remove_container(ctx: &Ctx, version: &str) -> Result<()> {
    let name = "apply-rmc";
    let containers = BASE_CONTAINERS
        .split("      - name: side")
        .next()
        .unwrap_or(BASE_CONTAINERS);
    let changed = deployment(name, &ns(version), 1, containers, BASE_VOLUMES);
    let obj = apply_change(ctx, version, name, &changed)?;
    let mut problems = Vec::new();
    if container_names(&obj) != ["app"] {
        problems.push(format!(
            "containers {:?}, the manifest has only [\"app\"]",
            container_names(&obj)
        ));
    }
    problems.extend(check_fields(
        &obj,
        &[
            (
                "/spec/template/spec/containers/0/terminationMessagePath",
                Some(json!("/dev/termination-log")),
            ),
            (
                "/spec/template/spec/containers/0/imagePullPolicy",
                Some(json!("IfNotPresent")),
            ),
        ],
        "server defaults after apply",
    ));
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

fn apply_change_env(ctx: &Ctx, version: &str) -> Result<()> {
    let name = "apply-env";
    // B removed, A changed and moved after a new C.
    let containers = BASE_CONTAINERS.replace(
        "        - {name: A, value: \"1\"}\n        - {name: B, value: \"2\"}\n",
        "        - {name: C, value: \"3\"}\n        - {name: A, value: \"9\"}\n",
    );
    let changed = deployment(name, &ns(version), 1, &containers, BASE_VOLUMES);
    let obj = apply_change(ctx, version, name, &changed)?;
    let problems = check_fields(
        &obj,
        &[
            (
                "/spec/template/spec/containers/0/env",
                Some(json!([{"name": "C", "value": "3"}, {"name": "A", "value": "9"}])),
            ),
            (
                "/spec/template/spec/containers/0/terminationMessagePolicy",
                Some(json!("File")),
            ),
        ],
        "after apply",
    );
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

fn apply_add_port(ctx: &Ctx, version: &str) -> Result<()> {
    let name = "apply-port";
    let containers = BASE_CONTAINERS.replace(
        "        - {containerPort: 8080, name: http}\n",
        "        - {containerPort: 8080, name: http}\n        - {containerPort: 9090, name: metrics}\n",
    );
    let changed = deployment(name, &ns(version), 1, &containers, BASE_VOLUMES);
    let obj = apply_change(ctx, version, name, &changed)?;
    let problems = check_fields(
        &obj,
        &[(
            "/spec/template/spec/containers/0/ports",
            Some(json!([
                {"containerPort": 8080, "name": "http", "protocol": "TCP"},
                {"containerPort": 9090, "name": "metrics", "protocol": "TCP"}
            ])),
        )],
        "after apply",
    );
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

fn apply_remove_volume(ctx: &Ctx, version: &str) -> Result<()> {
    let name = "apply-vol";
    let containers = BASE_CONTAINERS.replace("        - {name: cache, mountPath: /cache}\n", "");
    let volumes = BASE_VOLUMES.replace("      - {name: cache, emptyDir: {}}\n", "");
    let changed = deployment(name, &ns(version), 1, &containers, &volumes);
    let obj = apply_change(ctx, version, name, &changed)?;
    let problems = check_fields(
        &obj,
        &[
            (
                "/spec/template/spec/volumes",
                Some(json!([{"emptyDir": {}, "name": "data"}])),
            ),
            (
                "/spec/template/spec/containers/0/volumeMounts",
                Some(json!([{"mountPath": "/data", "name": "data"}])),
            ),
            ("/spec/template/spec/containers/1/name", Some(json!("side"))),
        ],
        "after apply",
    );
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// `kubectl patch` with each patch type.
fn patch_types(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let name = "patch-types";
    let base = deployment(name, &ns, 1, BASE_CONTAINERS, BASE_VOLUMES);
    let path = ctx.manifest(&format!("{name}-{}.yaml", sfx(version)), &base)?;
    k.run(&["create", "-f", path_str(&path)?])?;
    let get = || k.json(&["get", "deploy", name, "-n", &ns]);
    let patch = |kind: &str, body: &str| {
        k.run(&[
            "patch",
            "deploy",
            name,
            "-n",
            &ns,
            &format!("--type={kind}"),
            "-p",
            body,
        ])
    };
    let mut problems = Vec::new();

    // Strategic: containers merge by name; a new one goes in front of the live ones.
    let out = patch(
        "strategic",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"extra","image":"docker.io/k8rs/pause:0.1.0"},{"name":"app","image":"docker.io/k8rs/pause:0.1.0"}]}}}}"#,
    )?;
    if !out
        .stdout
        .contains(&format!("deployment.apps/{name} patched"))
    {
        problems.push(format!("strategic patch printed {:?}", out.stdout));
    }
    let obj = get()?;
    if container_names(&obj) != ["extra", "app", "side"] {
        problems.push(format!(
            "strategic patch: containers {:?}, upstream [\"extra\", \"app\", \"side\"]",
            container_names(&obj)
        ));
    }
    problems.extend(check_fields(
        &obj,
        &[
            (
                "/spec/template/spec/containers/1/image",
                Some(json!("docker.io/k8rs/pause:0.1.0")),
            ),
            (
                "/spec/template/spec/containers/1/env",
                Some(json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])),
            ),
        ],
        "strategic patch keeps the rest of a merged container",
    ));

    // Merge (RFC 7386): lists are replaced whole; server defaults are filled in again.
    patch(
        "merge",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"docker.io/k8rs/demo:0.1.0"}]}}}}"#,
    )?;
    let obj = get()?;
    if container_names(&obj) != ["only"] {
        problems.push(format!(
            "merge patch: containers {:?}, upstream replaces the list: [\"only\"]",
            container_names(&obj)
        ));
    }
    problems.extend(check_fields(
        &obj,
        &[
            (
                "/spec/template/spec/containers/0/terminationMessagePath",
                Some(json!("/dev/termination-log")),
            ),
            ("/spec/template/spec/containers/0/env", None),
        ],
        "merge patch",
    ));

    // JSON patch (RFC 6902).
    patch(
        "json",
        r#"[{"op":"replace","path":"/spec/replicas","value":3},{"op":"add","path":"/metadata/labels","value":{"x":"y","z":"w"}},{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"tail","image":"docker.io/k8rs/pause:0.1.0"}}]"#,
    )?;
    patch(
        "json",
        r#"[{"op":"test","path":"/spec/replicas","value":3},{"op":"remove","path":"/metadata/labels/z"}]"#,
    )?;
    let obj = get()?;
    problems.extend(check_fields(
        &obj,
        &[
            ("/spec/replicas", Some(json!(3))),
            ("/metadata/labels", Some(json!({"x": "y"}))),
            ("/spec/template/spec/containers/1/name", Some(json!("tail"))),
            (
                "/spec/template/spec/containers/1/imagePullPolicy",
                Some(json!("IfNotPresent")),
            ),
        ],
        "json patch",
    ));
    // A failing `test` makes the whole patch fail: the replace before it is not applied.
    let stderr = expect_error(
        &k,
        &[
            "patch",
            "deploy",
            name,
            "-n",
            &ns,
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/spec/replicas","value":7},{"op":"test","path":"/spec/replicas","value":5}]"#,
        ],
        "The request is invalid: the server rejected our request due to an error in our request",
    );
    if let Err(e) = stderr {
        problems.push(format!("{e:#}"));
    }
    let obj = get()?;
    problems.extend(check_fields(
        &obj,
        &[("/spec/replicas", Some(json!(3)))],
        "a JSON patch with a failing test is atomic",
    ));
    k.run(&["delete", "deploy", name, "-n", &ns, "--wait=false"])?;
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// Failing JSON patch operations: upstream answers 422 with the generic message only
/// (`NewGenericServerResponse`), and kubectl prints exactly this line.
fn patch_json_errors(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let name = "patch-json-errors";
    k.run(&["create", "configmap", name, "-n", &ns, "--from-literal=a=1"])?;
    let want =
        "The request is invalid: the server rejected our request due to an error in our request";
    let mut problems = Vec::new();
    for body in [
        r#"[{"op":"test","path":"/data/a","value":"2"}]"#,
        r#"[{"op":"remove","path":"/data/nope"}]"#,
        r#"[{"op":"replace","path":"/data/nope/deeper","value":"x"}]"#,
    ] {
        let out =
            k.run_expect_failure(&["patch", "cm", name, "-n", &ns, "--type=json", "-p", body])?;
        if out.stderr.trim() != want {
            problems.push(format!(
                "json patch {body}: stderr {:?}, upstream prints exactly {want:?}",
                out.stderr.trim()
            ));
        }
    }
    k.run(&["delete", "cm", name, "-n", &ns])?;
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// One strategic-merge-patch case: the object to create, the patch, and the fields the
/// patched object must have.
struct SmpCase {
    label: &'static str,
    /// `kubectl` resource name.
    resource: &'static str,
    /// The object's manifest; `NAME`/`NS` are replaced.
    initial: &'static str,
    patch: &'static str,
    checks: Vec<(&'static str, Option<Value>)>,
}

const SMP_CM: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: NAME
  namespace: NS
  labels: {a: \"1\", b: \"2\"}
data: {a: \"1\", b: \"2\"}
";

const SMP_CM_FINALIZERS: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: NAME
  namespace: NS
  finalizers: [x.io/a, x.io/b, x.io/c]
data: {a: \"1\"}
";

const SMP_DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
  namespace: NS
spec:
  replicas: 1
  selector:
    matchLabels: {app: NAME}
  template:
    metadata:
      labels: {app: NAME}
      annotations: {note: a, keep: b}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: docker.io/k8rs/demo:0.1.0
        env:
        - {name: A, value: \"1\"}
        - {name: B, value: \"2\"}
        ports:
        - {containerPort: 8080}
        - {containerPort: 7070, name: admin}
      - name: side
        image: docker.io/k8rs/pause:0.1.0
      volumes:
      - {name: data, emptyDir: {}}
";

const SMP_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: NAME
  namespace: NS
  labels: {a: \"1\"}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: first
    image: docker.io/k8rs/demo:0.1.0
  - name: second
    image: docker.io/k8rs/pause:0.1.0
";

const DEMO: &str = "docker.io/k8rs/demo:0.1.0";
const PAUSE: &str = "docker.io/k8rs/pause:0.1.0";

fn smp_cases() -> Vec<SmpCase> {
    vec![
        SmpCase {
            label: "labels-merge",
            resource: "cm",
            initial: SMP_CM,
            patch: r#"{"metadata":{"labels":{"b":"3","c":"4"}}}"#,
            checks: vec![(
                "/metadata/labels",
                Some(json!({"a": "1", "b": "3", "c": "4"})),
            )],
        },
        SmpCase {
            label: "null-deletes",
            resource: "cm",
            initial: SMP_CM,
            patch: r#"{"data":{"a":null,"c":"3"},"metadata":{"labels":{"a":null}}}"#,
            checks: vec![
                ("/data", Some(json!({"b": "2", "c": "3"}))),
                ("/metadata/labels", Some(json!({"b": "2"}))),
            ],
        },
        SmpCase {
            label: "map-patch-replace",
            resource: "cm",
            initial: SMP_CM,
            patch: r#"{"data":{"$patch":"replace","z":"26"}}"#,
            checks: vec![
                ("/data", Some(json!({"z": "26"}))),
                ("/metadata/labels", Some(json!({"a": "1", "b": "2"}))),
            ],
        },
        SmpCase {
            label: "delete-from-primitive-list",
            resource: "cm",
            initial: SMP_CM_FINALIZERS,
            patch: r#"{"metadata":{"$deleteFromPrimitiveList/finalizers":["x.io/b"]}}"#,
            checks: vec![("/metadata/finalizers", Some(json!(["x.io/a", "x.io/c"])))],
        },
        SmpCase {
            // finalizers merge (patchStrategy merge): the patch's own order is kept, and
            // an entry the live list lacks goes before the live entries.
            label: "primitive-list-merge",
            resource: "cm",
            initial: SMP_CM_FINALIZERS,
            patch: r#"{"metadata":{"finalizers":["x.io/z","x.io/b"]}}"#,
            checks: vec![(
                "/metadata/finalizers",
                Some(json!(["x.io/z", "x.io/a", "x.io/b", "x.io/c"])),
            )],
        },
        SmpCase {
            label: "containers-merge-by-name",
            resource: "deploy",
            initial: SMP_DEPLOY,
            patch: r#"{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"docker.io/k8rs/demo:0.1.0"}]}}}}"#,
            checks: vec![
                ("/spec/template/spec/containers/0/name", Some(json!("app"))),
                ("/spec/template/spec/containers/0/image", Some(json!(DEMO))),
                ("/spec/template/spec/containers/1/name", Some(json!("side"))),
                ("/spec/template/spec/containers/1/image", Some(json!(DEMO))),
                ("/spec/template/spec/containers/2", None),
            ],
        },
        SmpCase {
            label: "list-item-patch-delete",
            resource: "deploy",
            initial: SMP_DEPLOY,
            patch: r#"{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}"#,
            checks: vec![
                ("/spec/template/spec/containers/0/name", Some(json!("app"))),
                ("/spec/template/spec/containers/1", None),
            ],
        },
        SmpCase {
            label: "list-patch-replace",
            resource: "deploy",
            initial: SMP_DEPLOY,
            patch: r#"{"spec":{"template":{"spec":{"containers":[{"$patch":"replace"},{"name":"solo","image":"docker.io/k8rs/pause:0.1.0"}]}}}}"#,
            checks: vec![
                ("/spec/template/spec/containers/0/name", Some(json!("solo"))),
                (
                    "/spec/template/spec/containers/0/terminationMessagePath",
                    Some(json!("/dev/termination-log")),
                ),
                ("/spec/template/spec/containers/1", None),
            ],
        },
        SmpCase {
            label: "set-element-order",
            resource: "deploy",
            initial: SMP_DEPLOY,
            patch: r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"side"},{"name":"app"}],"containers":[{"name":"app","image":"docker.io/k8rs/pause:0.1.0"}]}}}}"#,
            checks: vec![
                ("/spec/template/spec/containers/0/name", Some(json!("side"))),
                ("/spec/template/spec/containers/1/name", Some(json!("app"))),
                ("/spec/template/spec/containers/1/image", Some(json!(PAUSE))),
                (
                    "/spec/template/spec/containers/1/env",
                    Some(json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])),
                ),
            ],
        },
        SmpCase {
            label: "env-delete-and-change",
            resource: "deploy",
            initial: SMP_DEPLOY,
            patch: r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"B","$patch":"delete"},{"name":"A","value":"x"}]}]}}}}"#,
            checks: vec![(
                "/spec/template/spec/containers/0/env",
                Some(json!([{"name": "A", "value": "x"}])),
            )],
        },
        SmpCase {
            // ports merge on containerPort: 8080 gains a name, 9090 is new and goes first.
            label: "ports-by-container-port",
            resource: "deploy",
            initial: SMP_DEPLOY,
            patch: r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","ports":[{"containerPort":9090,"name":"metrics"},{"containerPort":8080,"name":"http"}]}]}}}}"#,
            checks: vec![(
                "/spec/template/spec/containers/0/ports",
                Some(json!([
                    {"containerPort": 9090, "name": "metrics", "protocol": "TCP"},
                    {"containerPort": 8080, "name": "http", "protocol": "TCP"},
                    {"containerPort": 7070, "name": "admin", "protocol": "TCP"}
                ])),
            )],
        },
        SmpCase {
            // Without $retainKeys the defaulted rollingUpdate would stay and Recreate
            // would be rejected.
            label: "retain-keys-strategy",
            resource: "deploy",
            initial: SMP_DEPLOY,
            patch: r#"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"#,
            checks: vec![("/spec/strategy", Some(json!({"type": "Recreate"})))],
        },
        SmpCase {
            label: "nested-null-and-volumes-merge",
            resource: "deploy",
            initial: SMP_DEPLOY,
            patch: r#"{"spec":{"template":{"metadata":{"annotations":{"note":null}},"spec":{"volumes":[{"name":"cache","emptyDir":{}}]}}}}"#,
            checks: vec![
                (
                    "/spec/template/metadata/annotations",
                    Some(json!({"keep": "b"})),
                ),
                (
                    "/spec/template/spec/volumes",
                    Some(json!([
                        {"emptyDir": {}, "name": "cache"},
                        {"emptyDir": {}, "name": "data"}
                    ])),
                ),
                ("/spec/template/spec/containers/0/name", Some(json!("app"))),
            ],
        },
        SmpCase {
            label: "pod-labels-and-image-by-name",
            resource: "pod",
            initial: SMP_POD,
            patch: r#"{"metadata":{"labels":{"b":"2"}},"spec":{"containers":[{"name":"second","image":"docker.io/k8rs/demo:0.1.0"}]}}"#,
            checks: vec![
                ("/metadata/labels", Some(json!({"a": "1", "b": "2"}))),
                ("/spec/containers/0/name", Some(json!("first"))),
                ("/spec/containers/0/image", Some(json!(DEMO))),
                ("/spec/containers/1/name", Some(json!("second"))),
                ("/spec/containers/1/image", Some(json!(DEMO))),
            ],
        },
    ]
}

/// A table of strategic-merge-patch directives through `kubectl patch --type strategic`.
fn smp_table(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let cases = smp_cases();
    ensure!(
        cases.len() >= 12,
        "the table has only {} cases",
        cases.len()
    );
    let mut problems = Vec::new();
    for case in &cases {
        let name = format!("smp-{}", case.label);
        let yaml = case.initial.replace("NAME", &name).replace("NS", &ns);
        let path = ctx.manifest(&format!("{name}-{}.yaml", sfx(version)), &yaml)?;
        let result = (|| -> Result<Vec<String>> {
            k.run(&["create", "-f", path_str(&path)?])?;
            k.run(&[
                "patch",
                case.resource,
                &name,
                "-n",
                &ns,
                "--type",
                "strategic",
                "-p",
                case.patch,
            ])?;
            let obj = k.json(&["get", case.resource, &name, "-n", &ns])?;
            Ok(check_fields(
                &obj,
                &case.checks,
                &format!("{} ({})", case.label, case.patch),
            ))
        })();
        match result {
            Ok(p) => problems.extend(p),
            Err(e) => problems.push(format!("{}: {e:#}", case.label)),
        }
        // Finalizers would keep the object; clear them, then delete without waiting.
        let _ = k.run(&[
            "patch",
            case.resource,
            &name,
            "-n",
            &ns,
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ]);
        let _ = k.run(&[
            "delete",
            case.resource,
            &name,
            "-n",
            &ns,
            "--wait=false",
            "--ignore-not-found",
        ]);
    }
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// `set image`, `set env` (add, change, remove), `label` and `annotate`.
fn set_commands(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let name = "set-cmds";
    let d = format!("deploy/{name}");
    k.run(&[
        "create",
        "deploy",
        name,
        "-n",
        &ns,
        &format!("--image={DEMO}"),
    ])?;
    let get = || k.json(&["get", "deploy", name, "-n", &ns]);
    let env = "/spec/template/spec/containers/0/env";
    let mut problems = Vec::new();
    // Problems found outside `expect` (which borrows `problems`).
    let mut other = Vec::new();
    let mut expect = |what: &str, out: &str, printed: &str, checks: &[(&str, Option<Value>)]| {
        if !out.contains(printed) {
            problems.push(format!("{what} printed {out:?}, upstream {printed:?}"));
        }
        match get() {
            Ok(obj) => problems.extend(check_fields(&obj, checks, what)),
            Err(e) => problems.push(format!("{what}: {e:#}")),
        }
    };

    let out = k.run(&["set", "image", &d, "-n", &ns, &format!("demo={PAUSE}")])?;
    expect(
        "set image",
        &out.stdout,
        &format!("deployment.apps/{name} image updated"),
        &[("/spec/template/spec/containers/0/image", Some(json!(PAUSE)))],
    );
    let out = k.run(&["set", "env", &d, "-n", &ns, "A=1", "B=2"])?;
    expect(
        "set env A=1 B=2",
        &out.stdout,
        &format!("deployment.apps/{name} env updated"),
        &[(
            env,
            Some(json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])),
        )],
    );
    let out = k.run(&["set", "env", &d, "-n", &ns, "A=3"])?;
    expect(
        "set env A=3",
        &out.stdout,
        "env updated",
        &[(
            env,
            Some(json!([{"name": "A", "value": "3"}, {"name": "B", "value": "2"}])),
        )],
    );
    let out = k.run(&["set", "env", &d, "-n", &ns, "B-"])?;
    expect(
        "set env B-",
        &out.stdout,
        "env updated",
        &[(env, Some(json!([{"name": "A", "value": "3"}])))],
    );
    let listed = k.run(&["set", "env", &d, "-n", &ns, "--list"])?.stdout;
    if !listed.lines().any(|l| l == "A=3") {
        other.push(format!("set env --list printed {listed:?}"));
    }

    let out = k.run(&["label", &d, "-n", &ns, "tier=a"])?;
    expect(
        "label tier=a",
        &out.stdout,
        &format!("deployment.apps/{name} labeled"),
        &[("/metadata/labels/tier", Some(json!("a")))],
    );
    if let Err(e) = expect_error(
        &k,
        &["label", &d, "-n", &ns, "tier=b"],
        "error: 'tier' already has a value (a), and --overwrite is false",
    ) {
        other.push(format!("{e:#}"));
    }
    let out = k.run(&["label", &d, "-n", &ns, "tier=b", "--overwrite"])?;
    expect(
        "label --overwrite",
        &out.stdout,
        "labeled",
        &[("/metadata/labels/tier", Some(json!("b")))],
    );
    let out = k.run(&["label", &d, "-n", &ns, "tier-"])?;
    expect(
        "label tier-",
        &out.stdout,
        &format!("deployment.apps/{name} unlabeled"),
        &[("/metadata/labels", Some(json!({"app": name})))],
    );
    // The message is kubectl's own: 1.27 prints "annotate" (its printer was given the
    // verb, fixed in later releases), 1.33 "annotated".
    let annotated = if version == "1.27" {
        "annotate"
    } else {
        "annotated"
    };
    let out = k.run(&["annotate", &d, "-n", &ns, "note=hi"])?;
    expect(
        "annotate",
        &out.stdout,
        &format!("deployment.apps/{name} {annotated}"),
        &[("/metadata/annotations/note", Some(json!("hi")))],
    );
    let out = k.run(&["annotate", &d, "-n", &ns, "note=bye", "--overwrite"])?;
    expect(
        "annotate --overwrite",
        &out.stdout,
        annotated,
        &[("/metadata/annotations/note", Some(json!("bye")))],
    );
    let out = k.run(&["annotate", &d, "-n", &ns, "note-"])?;
    expect(
        "annotate note-",
        &out.stdout,
        annotated,
        &[("/metadata/annotations/note", None)],
    );
    problems.extend(other);
    k.run(&["delete", "deploy", name, "-n", &ns, "--wait=false"])?;
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// `set resources`: a pod template keeps exactly what was set (upstream defaults requests
/// from limits only on Pods, never on PodTemplates), a Pod gets requests = limits.
fn set_resources(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let name = "set-res";
    k.run(&[
        "create",
        "deploy",
        name,
        "-n",
        &ns,
        &format!("--image={DEMO}"),
    ])?;
    let mut problems = Vec::new();
    let out = k.run(&[
        "set",
        "resources",
        &format!("deploy/{name}"),
        "-n",
        &ns,
        "--limits=cpu=200m",
    ])?;
    if !out.stdout.contains(&format!(
        "deployment.apps/{name} resource requirements updated"
    )) {
        problems.push(format!("set resources printed {:?}", out.stdout));
    }
    let obj = k.json(&["get", "deploy", name, "-n", &ns])?;
    problems.extend(check_fields(
        &obj,
        &[(
            "/spec/template/spec/containers/0/resources",
            Some(json!({"limits": {"cpu": "200m"}})),
        )],
        "set resources --limits=cpu=200m on a Deployment",
    ));
    k.run(&[
        "set",
        "resources",
        &format!("deploy/{name}"),
        "-n",
        &ns,
        "--requests=memory=32Mi",
    ])?;
    let obj = k.json(&["get", "deploy", name, "-n", &ns])?;
    problems.extend(check_fields(
        &obj,
        &[(
            "/spec/template/spec/containers/0/resources",
            Some(json!({"limits": {"cpu": "200m"}, "requests": {"memory": "32Mi"}})),
        )],
        "set resources --requests=memory=32Mi",
    ));
    k.run(&["delete", "deploy", name, "-n", &ns, "--wait=false"])?;

    // The Pod defaulting: requests copied from limits.
    let pod = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: app\n    image: {DEMO}\n    resources: {{limits: {{cpu: 200m}}}}\n"
    );
    let path = ctx.manifest(&format!("{name}-pod-{}.yaml", sfx(version)), &pod)?;
    k.run(&["create", "-f", path_str(&path)?])?;
    let obj = k.json(&["get", "pod", name, "-n", &ns])?;
    problems.extend(check_fields(
        &obj,
        &[(
            "/spec/containers/0/resources",
            Some(json!({"limits": {"cpu": "200m"}, "requests": {"cpu": "200m"}})),
        )],
        "a Pod with limits only",
    ));
    k.run(&["delete", "pod", name, "-n", &ns, "--wait=false"])?;
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// `kubectl edit` with an editor script that changes `replicas: 1` to `replicas: 2`:
/// once through `EDITOR`, once through `KUBE_EDITOR` (which wins over `EDITOR`).
fn edit(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let name = "edit-me";
    let sfx = sfx(version);
    let script = ctx.manifest(
        &format!("edit-replicas-{sfx}.sh"),
        "#!/bin/sh\n# kubectl passes the file to edit as the last argument.\nfor f; do :; done\nsed -i 's/^  replicas: 1$/  replicas: 2/' \"$f\"\n",
    )?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    let script = path_str(&script)?.to_string();
    k.run(&[
        "create",
        "deploy",
        name,
        "-n",
        &ns,
        &format!("--image={DEMO}"),
    ])?;
    let target = format!("deploy/{name}");
    let mut problems = Vec::new();
    for (how, env) in [
        ("EDITOR", vec![("EDITOR", script.as_str())]),
        (
            "KUBE_EDITOR",
            vec![("KUBE_EDITOR", script.as_str()), ("EDITOR", "false")],
        ),
    ] {
        k.run(&["scale", &target, "-n", &ns, "--replicas=1"])?;
        let unset: &[&str] = if how == "EDITOR" {
            &["KUBE_EDITOR"]
        } else {
            &[]
        };
        let out = run_env(ctx, &k, &["edit", &target, "-n", &ns], &env, unset)?;
        if out.code != Some(0)
            || !out
                .stdout
                .contains(&format!("deployment.apps/{name} edited"))
        {
            problems.push(format!(
                "edit with {how}: exit {:?}, stdout {:?}, stderr {:?}",
                out.code, out.stdout, out.stderr
            ));
        }
        let obj = k.json(&["get", "deploy", name, "-n", &ns])?;
        problems.extend(check_fields(
            &obj,
            &[("/spec/replicas", Some(json!(2)))],
            &format!("after edit with {how}"),
        ));
    }
    k.run(&["delete", "deploy", name, "-n", &ns, "--wait=false"])?;
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// `kubectl diff -f` (server-side dry-run): exit 0 and no output for an unchanged
/// manifest, exit 1 and the changed line for a modified one.
fn diff(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let name = "diff-me";
    let sfx = sfx(version);
    let yaml = deployment(name, &ns, 1, BASE_CONTAINERS, BASE_VOLUMES);
    apply(ctx, &k, &format!("{name}-{sfx}.yaml"), &yaml)?;
    let same = ctx.manifest(&format!("{name}-{sfx}.yaml"), &yaml)?;
    let changed = ctx.manifest(
        &format!("{name}-{sfx}-changed.yaml"),
        &yaml.replace("  replicas: 1\n", "  replicas: 3\n"),
    )?;
    let mut problems = Vec::new();
    let out = run_env(ctx, &k, &["diff", "-f", path_str(&same)?], &[], &[])?;
    if out.code != Some(0) || !out.stdout.trim().is_empty() {
        problems.push(format!(
            "diff of the applied manifest: exit {:?} (upstream 0, no output), stdout:\n{}\nstderr: {}",
            out.code, out.stdout, out.stderr
        ));
    }
    let out = run_env(ctx, &k, &["diff", "-f", path_str(&changed)?], &[], &[])?;
    let lines: Vec<&str> = out.stdout.lines().collect();
    if out.code != Some(1)
        || !lines.contains(&"-  replicas: 1")
        || !lines.contains(&"+  replicas: 3")
    {
        problems.push(format!(
            "diff of a modified manifest: exit {:?} (upstream 1 with -/+ replicas lines), stdout:\n{}\nstderr: {}",
            out.code, out.stdout, out.stderr
        ));
    }
    // Only the changed field (and generation, which the dry-run update bumps) differ.
    let changed_lines: Vec<&&str> = lines
        .iter()
        .filter(|l| {
            (l.starts_with('-') || l.starts_with('+'))
                && !l.starts_with("---")
                && !l.starts_with("+++")
        })
        .collect();
    let unexpected: Vec<&&&str> = changed_lines
        .iter()
        .filter(|l| !l.contains("replicas:") && !l.contains("generation:"))
        .collect();
    if !unexpected.is_empty() {
        problems.push(format!(
            "diff shows changes beyond replicas/generation: {unexpected:?}"
        ));
    }
    let obj = k.json(&["get", "deploy", name, "-n", &ns])?;
    problems.extend(check_fields(
        &obj,
        &[("/spec/replicas", Some(json!(1)))],
        "kubectl diff must not change the object",
    ));
    k.run(&["delete", "deploy", name, "-n", &ns, "--wait=false"])?;
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// (manager, operation) of every managedFields entry.
pub fn managers(obj: &Value) -> Vec<(String, String)> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    (
                        str_at(e, "/manager").to_string(),
                        str_at(e, "/operation").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The fieldsV1 of the `manager`'s entry with `operation`.
fn fields_of<'a>(obj: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    obj.pointer("/metadata/managedFields")?
        .as_array()?
        .iter()
        .find(|e| str_at(e, "/manager") == manager && str_at(e, "/operation") == operation)?
        .get("fieldsV1")
}

fn cm_yaml(name: &str, ns: &str, data: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata: {data}\n"
    )
}

/// Server-side apply: create, idempotent re-apply, a conflict naming the owner and field,
/// `--force-conflicts`, managedFields, and removal of a field dropped from the manifest.
fn server_side_apply(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let sfx = sfx(version);
    let name = "ssa-cm";
    let mut problems = Vec::new();
    let first = ctx.manifest(
        &format!("{name}-{sfx}.yaml"),
        &cm_yaml(name, &ns, "{a: \"1\", b: \"2\"}"),
    )?;
    let first = path_str(&first)?.to_string();
    let out = k.run(&["apply", "--server-side", "-f", &first])?;
    if !out
        .stdout
        .contains(&format!("configmap/{name} serverside-applied"))
    {
        problems.push(format!("first server-side apply printed {:?}", out.stdout));
    }
    let created = k.json(&["get", "cm", name, "-n", &ns, "--show-managed-fields"])?;
    let out = k.run(&["apply", "--server-side", "-f", &first])?;
    if !out
        .stdout
        .contains(&format!("configmap/{name} serverside-applied"))
    {
        problems.push(format!("second server-side apply printed {:?}", out.stdout));
    }
    let again = k.json(&["get", "cm", name, "-n", &ns, "--show-managed-fields"])?;
    if str_at(&created, "/metadata/resourceVersion") != str_at(&again, "/metadata/resourceVersion")
    {
        problems.push(
            "re-applying the same configuration wrote the object (resourceVersion changed); upstream's apply is a no-op"
                .into(),
        );
    }
    if managers(&again) != [("kubectl".to_string(), "Apply".to_string())] {
        problems.push(format!(
            "managedFields after server-side apply: {:?}, upstream [(kubectl, Apply)]",
            managers(&again)
        ));
    }
    // Without --show-managed-fields kubectl strips them (both releases).
    let plain = k.json(&["get", "cm", name, "-n", &ns])?;
    if plain.pointer("/metadata/managedFields").is_some() {
        problems.push("get -o json without --show-managed-fields printed managedFields".into());
    }

    let other = ctx.manifest(
        &format!("{name}-{sfx}-other.yaml"),
        &cm_yaml(name, &ns, "{a: \"other\"}"),
    )?;
    let other = path_str(&other)?.to_string();
    if let Err(e) = expect_error(
        &k,
        &[
            "apply",
            "--server-side",
            "--field-manager=other",
            "-f",
            &other,
        ],
        "Apply failed with 1 conflict: conflict with \"kubectl\": .data.a",
    ) {
        problems.push(format!("{e:#}"));
    }
    let obj = k.json(&["get", "cm", name, "-n", &ns])?;
    problems.extend(check_fields(
        &obj,
        &[("/data/a", Some(json!("1")))],
        "a conflicting apply must not write",
    ));
    let out = k.run(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
        "-f",
        &other,
    ])?;
    if !out.stdout.contains("serverside-applied") {
        problems.push(format!("--force-conflicts printed {:?}", out.stdout));
    }
    let obj = k.json(&["get", "cm", name, "-n", &ns, "--show-managed-fields"])?;
    problems.extend(check_fields(
        &obj,
        &[("/data", Some(json!({"a": "other", "b": "2"})))],
        "after --force-conflicts",
    ));
    let mut got = managers(&obj);
    got.sort();
    let want = vec![
        ("kubectl".to_string(), "Apply".to_string()),
        ("other".to_string(), "Apply".to_string()),
    ];
    if got != want {
        problems.push(format!(
            "managers after the takeover: {got:?}, upstream {want:?}"
        ));
    }
    let kubectl_fields = fields_of(&obj, "kubectl", "Apply");
    let other_fields = fields_of(&obj, "other", "Apply");
    let owns = |f: Option<&Value>, key: &str| {
        f.and_then(|f| f.pointer(&format!("/f:data/f:{key}")))
            .is_some()
    };
    if !owns(kubectl_fields, "b") || owns(kubectl_fields, "a") || !owns(other_fields, "a") {
        problems.push(format!(
            "after the forced takeover kubectl must own only .data.b and other .data.a: kubectl {kubectl_fields:?}, other {other_fields:?}"
        ));
    }

    // kubectl drops b and adds c: b is removed (kubectl was its only manager).
    let third = ctx.manifest(
        &format!("{name}-{sfx}-third.yaml"),
        &cm_yaml(name, &ns, "{c: \"3\"}"),
    )?;
    k.run(&["apply", "--server-side", "-f", path_str(&third)?])?;
    let obj = k.json(&["get", "cm", name, "-n", &ns])?;
    problems.extend(check_fields(
        &obj,
        &[("/data", Some(json!({"a": "other", "c": "3"})))],
        "a field removed from the applied configuration is removed from the object",
    ));
    k.run(&["delete", "cm", name, "-n", &ns])?;
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// An object created by client-side apply, then applied with `--server-side`: kubectl
/// migrates the client-side manager's fields to its Apply entry (a JSON patch of
/// managedFields guarded by a `replace` of resourceVersion), so a later server-side apply
/// without a field removes it.
fn server_side_apply_upgrade(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let sfx = sfx(version);
    let name = "ssa-upgrade";
    let mut problems = Vec::new();
    let csa = ctx.manifest(
        &format!("{name}-{sfx}.yaml"),
        &cm_yaml(name, &ns, "{a: \"1\"}"),
    )?;
    k.run(&["apply", "-f", path_str(&csa)?])?;
    let obj = k.json(&["get", "cm", name, "-n", &ns, "--show-managed-fields"])?;
    if managers(&obj)
        != [(
            "kubectl-client-side-apply".to_string(),
            "Update".to_string(),
        )]
    {
        problems.push(format!(
            "client-side apply managers {:?}, upstream [(kubectl-client-side-apply, Update)]",
            managers(&obj)
        ));
    }
    let ssa = ctx.manifest(
        &format!("{name}-{sfx}-ssa.yaml"),
        &cm_yaml(name, &ns, "{a: \"1\", b: \"2\"}"),
    )?;
    let out = k.run(&["apply", "--server-side", "-f", path_str(&ssa)?])?;
    if !out.stdout.contains("serverside-applied") || out.stderr.contains("Warning") {
        problems.push(format!(
            "server-side apply over client-side apply: stdout {:?}, stderr {:?}",
            out.stdout, out.stderr
        ));
    }
    let obj = k.json(&["get", "cm", name, "-n", &ns, "--show-managed-fields"])?;
    if managers(&obj)
        .iter()
        .any(|(m, _)| m == "kubectl-client-side-apply")
        || !managers(&obj)
            .iter()
            .any(|(m, o)| m == "kubectl" && o == "Apply")
    {
        problems.push(format!(
            "after the upgrade the client-side manager's fields belong to (kubectl, Apply); managers {:?}",
            managers(&obj)
        ));
    }
    let only_b = ctx.manifest(
        &format!("{name}-{sfx}-b.yaml"),
        &cm_yaml(name, &ns, "{b: \"2\"}"),
    )?;
    k.run(&["apply", "--server-side", "-f", path_str(&only_b)?])?;
    let obj = k.json(&["get", "cm", name, "-n", &ns])?;
    problems.extend(check_fields(
        &obj,
        &[("/data", Some(json!({"b": "2"})))],
        "after the upgrade, applying without .data.a removes it",
    ));
    k.run(&["delete", "cm", name, "-n", &ns])?;
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// `kubectl explain` from the server's OpenAPI (v3 for 1.33, v2/v3 for 1.27).
fn explain(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let mut problems = Vec::new();
    let mut expect = |args: &[&str], wants: &[&str]| match k.run(args) {
        Ok(out) => {
            for want in wants {
                if !out.stdout.contains(want) {
                    problems.push(format!(
                        "`kubectl {}` lacks {want:?}:\n{}",
                        args.join(" "),
                        out.stdout
                    ));
                }
            }
        }
        Err(e) => problems.push(format!("{e:#}")),
    };
    expect(
        &["explain", "pods.spec.containers.livenessProbe"],
        &[
            "KIND:       Pod",
            "VERSION:    v1",
            "FIELD: livenessProbe <Probe>",
            "Periodic probe of container liveness.",
            "httpGet\t<HTTPGetAction>",
            "initialDelaySeconds\t<integer>",
        ],
    );
    expect(
        &["explain", "deploy", "--recursive"],
        &[
            "KIND:       Deployment",
            "strategy\t<DeploymentStrategy>",
            "maxSurge\t<IntOrString>",
        ],
    );
    expect(
        &["explain", "hpa", "--api-version=autoscaling/v1"],
        &["GROUP:      autoscaling", "VERSION:    v1"],
    );
    expect(
        &["explain", "hpa.spec", "--api-version=autoscaling/v1"],
        &["targetCPUUtilizationPercentage\t<integer>"],
    );
    expect(
        &["explain", "hpa.spec"],
        &["VERSION:    v2", "metrics\t<[]MetricSpec>"],
    );
    let out = k.run_expect_failure(&["explain", "pods.spec.bogus"])?;
    if !out.stderr.contains("field \"bogus\" does not exist") {
        problems.push(format!(
            "explain of an unknown field: stderr {:?}",
            out.stderr
        ));
    }
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

const BAD_SERVICE: &str = "apiVersion: v1
kind: Service
metadata: {name: NAME, namespace: NS}
spec:
  bogus: 1
  ports: [{port: 80}]
";

/// An unknown field in `create -f`: kubectl (1.33 and 1.27 alike, both default to
/// `--validate=strict` and leave the check to the server's fieldValidation=Strict) gets
/// the strict decoding error.
fn create_validate(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let name = "bad-svc";
    let path = ctx.manifest(
        &format!("{name}-{}.yaml", sfx(version)),
        &BAD_SERVICE.replace("NAME", name).replace("NS", &ns),
    )?;
    let file = path_str(&path)?;
    let stderr = expect_error(
        &k,
        &["create", "-f", file],
        "cannot be handled as a Service: strict decoding error: unknown field \"spec.bogus\"",
    )?;
    ensure!(
        stderr.contains("Error from server (BadRequest): error when creating"),
        "not a 400 BadRequest: {stderr}"
    );
    expect_error(
        &k,
        &["get", "svc", name, "-n", &ns],
        &format!("services \"{name}\" not found"),
    )?;
    Ok(())
}

/// `--validate=warn` creates with a warning; `--validate=false` creates silently; both
/// drop the unknown field.
fn create_validate_modes(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let name = "warn-svc";
    let path = ctx.manifest(
        &format!("{name}-{}.yaml", sfx(version)),
        &BAD_SERVICE.replace("NAME", name).replace("NS", &ns),
    )?;
    let file = path_str(&path)?;
    let mut problems = Vec::new();
    let out = k.run(&["create", "-f", file, "--validate=warn"])?;
    if !out.stderr.contains("Warning: unknown field \"spec.bogus\"")
        || !out.stdout.contains(&format!("service/{name} created"))
    {
        problems.push(format!(
            "--validate=warn: stdout {:?}, stderr {:?}",
            out.stdout, out.stderr
        ));
    }
    k.run(&["delete", "svc", name, "-n", &ns])?;
    let out = k.run(&["create", "-f", file, "--validate=false"])?;
    if out.stderr.contains("unknown field") {
        problems.push(format!("--validate=false still warned: {:?}", out.stderr));
    }
    let obj = k.json(&["get", "svc", name, "-n", &ns])?;
    problems.extend(check_fields(
        &obj,
        &[
            ("/spec/bogus", None),
            ("/spec/ports/0/port", Some(json!(80))),
        ],
        "created with --validate=false",
    ));
    k.run(&["delete", "svc", name, "-n", &ns])?;
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}
