//! CustomResourceDefinitions driven by one kubectl release: the whole life of a namespaced
//! CRD (conditions, versions, printer columns, short names and categories, status and scale
//! subresources, validation, pruning, defaulting, explain, patch types, watch, deletion), a
//! cluster-scoped one, and the naming controller's conflicts. Names carry the release's
//! suffix (group `compat133.example.com`, ...) so both releases run side by side; kinds
//! differ from the `Widget` of the CRUD scenario, which lives in the same group.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow, ensure};
use serde_json::{Value, json};
use testkit::Kubectl;

use super::support::{CONVERGE_TIMEOUT, Ctx, Scenario, ensure_header, expect_error, str_at};
use super::write_paths::{check_fields, ns, path_str, sfx};

type VersionedFn = fn(&Ctx, &str) -> Result<()>;

pub fn scenarios(version: &'static str) -> Vec<(String, Scenario)> {
    let list: [(&str, VersionedFn); 5] = [
        ("crd_lifecycle", crd_lifecycle),
        ("crd_cluster_scoped", crd_cluster_scoped),
        ("crd_names_conflict", crd_names_conflict),
        (
            "crd_names_conflict_accepted_names",
            crd_names_conflict_accepted_names,
        ),
        ("crd_names_conflict_list_kind", crd_names_conflict_list_kind),
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

/// The API group of a release's CRDs.
fn group(version: &str) -> String {
    format!("compat{}.example.com", sfx(version))
}

/// A namespaced CRD with a short name, the `all` category, printer columns, status and
/// scale subresources, and two served versions (v1 stored, v1beta1 without validation).
fn gadget_crd(version: &str) -> String {
    let group = group(version);
    let sfx = sfx(version);
    format!(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.{group}
spec:
  group: {group}
  scope: Namespaced
  names:
    plural: gadgets
    singular: gadget
    kind: Gadget
    shortNames: [gdt{sfx}]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {{}}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    additionalPrinterColumns:
    - {{name: Image, type: string, jsonPath: .spec.image}}
    - {{name: Replicas, type: integer, jsonPath: .spec.replicas}}
    - {{name: Phase, type: string, jsonPath: .status.phase}}
    schema:
      openAPIV3Schema:
        type: object
        description: A Gadget is a compat test object.
        properties:
          spec:
            type: object
            description: Spec of the gadget.
            required: [image]
            properties:
              image: {{type: string, description: Image the gadget runs.}}
              replicas: {{type: integer, minimum: 0, description: How many copies.}}
              mode: {{type: string, default: fast, enum: [fast, slow], description: Speed mode.}}
          status:
            type: object
            properties:
              phase: {{type: string}}
              replicas: {{type: integer}}
  - name: v1beta1
    served: true
    storage: false
    subresources:
      status: {{}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              image: {{type: string}}
              replicas: {{type: integer}}
              mode: {{type: string, default: fast}}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
"
    )
}

/// `type`, `status`, `reason`, `message` of each condition.
fn conditions(obj: &Value) -> Vec<[String; 4]> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    ["/type", "/status", "/reason", "/message"].map(|p| str_at(c, p).to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn condition(obj: &Value, kind: &str) -> Option<[String; 4]> {
    conditions(obj).into_iter().find(|c| c[0] == kind)
}

fn cond(kind: &str, status: &str, reason: &str, message: &str) -> [String; 4] {
    [kind, status, reason, message].map(str::to_string)
}

/// Applies `yaml` (a manifest file in the scratch dir) until it succeeds: a new kind is
/// served within a second of its CRD, but kubectl's discovery cache may lag.
fn apply_when_served(ctx: &Ctx, k: &Kubectl, file: &str, yaml: &str) -> Result<String> {
    let path = ctx.manifest(file, yaml)?;
    let path = path_str(&path)?.to_string();
    let out = testkit::wait_for(
        &format!("kubectl apply -f {file}"),
        CONVERGE_TIMEOUT,
        || anyhow::Ok(k.run(&["apply", "-f", &path]).ok().map(|o| o.stdout)),
    )?;
    Ok(out)
}

/// The whitespace-separated cells of the table row whose first cell is `name`.
fn row(table: &str, name: &str) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .find(|cells| cells.first().map(String::as_str) == Some(name))
        .unwrap_or_default()
}

fn crd_lifecycle(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let sfx = sfx(version);
    let group = group(version);
    let crd = format!("gadgets.{group}");
    let res = format!("gadgets.{group}");
    let crd_path = ctx.manifest(&format!("gadget-crd-{sfx}.yaml"), &gadget_crd(version))?;
    let crd_file = path_str(&crd_path)?.to_string();
    let mut problems = Vec::new();

    k.run(&["apply", "-f", &crd_file])?;
    k.run(&[
        "wait",
        "--for=condition=Established",
        &format!("crd/{crd}"),
        "--timeout=20s",
    ])?;
    let obj = k.json(&["get", "crd", &crd])?;
    for want in [
        cond("NamesAccepted", "True", "NoConflicts", "no conflicts found"),
        cond(
            "Established",
            "True",
            "InitialNamesAccepted",
            "the initial names have been accepted",
        ),
    ] {
        if condition(&obj, &want[0]).as_ref() != Some(&want) {
            problems.push(format!(
                "CRD condition {:?}, upstream {want:?}",
                condition(&obj, &want[0])
            ));
        }
    }

    // Written through v1beta1, stored as v1, read through both.
    let cr = format!(
        "apiVersion: {group}/v1beta1\nkind: Gadget\nmetadata: {{name: g1, namespace: {ns}}}\nspec: {{image: nginx, replicas: 1}}\n"
    );
    let out = apply_when_served(ctx, &k, &format!("gadget-g1-{sfx}.yaml"), &cr)?;
    if !out.contains(&format!("gadget.{group}/g1 created")) {
        problems.push(format!("apply of a custom resource printed {out:?}"));
    }
    let v1 = k.json(&["get", &format!("gadgets.v1.{group}"), "g1", "-n", &ns])?;
    problems.extend(check_fields(
        &v1,
        &[
            ("/apiVersion", Some(json!(format!("{group}/v1")))),
            ("/kind", Some(json!("Gadget"))),
            // `mode` comes from the schema default.
            (
                "/spec",
                Some(json!({"image": "nginx", "replicas": 1, "mode": "fast"})),
            ),
        ],
        "read through v1",
    ));
    let beta = k.json(&["get", &format!("gadgets.v1beta1.{group}"), "g1", "-n", &ns])?;
    problems.extend(check_fields(
        &beta,
        &[("/apiVersion", Some(json!(format!("{group}/v1beta1"))))],
        "read through v1beta1",
    ));

    // Printer columns (no AGE: upstream adds it only when a version declares none).
    let table = k.run(&["get", &res, "-n", &ns])?.stdout;
    if let Err(e) = ensure_header(
        &table,
        &["NAME", "IMAGE", "REPLICAS", "PHASE"],
        "custom resource table",
    ) {
        problems.push(format!("{e:#}"));
    }
    if row(&table, "g1") != ["g1", "nginx", "1"] {
        problems.push(format!("table row of g1: {:?}\n{table}", row(&table, "g1")));
    }
    match k.run(&["get", &format!("gdt{sfx}"), "-n", &ns, "-o", "name"]) {
        Ok(out) if out.stdout.trim() == format!("gadget.{group}/g1") => {}
        Ok(out) => problems.push(format!("get by short name printed {:?}", out.stdout)),
        Err(e) => problems.push(format!("get by short name: {e:#}")),
    }
    let all = k.run(&["get", "all", "-n", &ns])?.stdout;
    if !all.contains(&format!("gadget.{group}/g1")) {
        problems.push(format!("`get all` lacks the category `all` member:\n{all}"));
    }

    // Scale subresource: the printer column follows.
    let out = k.run(&["scale", &res, "g1", "-n", &ns, "--replicas=3"])?;
    if !out.stdout.contains(&format!("gadget.{group}/g1 scaled")) {
        problems.push(format!("scale printed {:?}", out.stdout));
    }
    let scale = k.run(&[
        "get",
        "--raw",
        &format!("/apis/{group}/v1/namespaces/{ns}/gadgets/g1/scale"),
    ])?;
    let scale: Value = serde_json::from_str(&scale.stdout).context("scale JSON")?;
    problems.extend(check_fields(
        &scale,
        &[
            ("/kind", Some(json!("Scale"))),
            ("/apiVersion", Some(json!("autoscaling/v1"))),
            ("/spec/replicas", Some(json!(3))),
        ],
        "the scale subresource",
    ));

    // Status subresource: written through /status only.
    let out = k.run(&[
        "patch",
        &res,
        "g1",
        "-n",
        &ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Ready","replicas":3}}"#,
    ])?;
    if !out.stdout.contains("patched") {
        problems.push(format!("status patch printed {:?}", out.stdout));
    }
    let out = k.run(&[
        "patch",
        &res,
        "g1",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Ignored"}}"#,
    ])?;
    if !out
        .stdout
        .contains(&format!("gadget.{group}/g1 patched (no change)"))
    {
        problems.push(format!(
            "a status change through the main resource printed {:?}, upstream: patched (no change)",
            out.stdout
        ));
    }
    let table = k.run(&["get", &res, "-n", &ns])?.stdout;
    if row(&table, "g1") != ["g1", "nginx", "3", "Ready"] {
        problems.push(format!(
            "after scale and status: row {:?}\n{table}",
            row(&table, "g1")
        ));
    }

    // Validation against the v1 schema.
    let bad = ctx.manifest(
        &format!("gadget-bad-{sfx}.yaml"),
        &format!(
            "apiVersion: {group}/v1\nkind: Gadget\nmetadata: {{name: gbad, namespace: {ns}}}\nspec: {{replicas: -1, mode: medium}}\n"
        ),
    )?;
    match k.run_expect_failure(&["create", "-f", path_str(&bad)?]) {
        Ok(out) => {
            for want in [
                "The Gadget \"gbad\" is invalid: ",
                "* spec.image: Required value",
                "* spec.mode: Unsupported value: \"medium\": supported values: \"fast\", \"slow\"",
                "* spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0",
            ] {
                if !out.stderr.lines().any(|l| l == want) {
                    problems.push(format!(
                        "validation error lacks the line {want:?}:\n{}",
                        out.stderr
                    ));
                }
            }
        }
        Err(e) => problems.push(format!("{e:#}")),
    }

    // Pruning: strict validation rejects the unknown field; without it, it is dropped.
    let unknown = ctx.manifest(
        &format!("gadget-prune-{sfx}.yaml"),
        &format!(
            "apiVersion: {group}/v1\nkind: Gadget\nmetadata: {{name: gprune, namespace: {ns}}}\nspec: {{image: x, bogus: 1}}\n"
        ),
    )?;
    let unknown = path_str(&unknown)?.to_string();
    if let Err(e) = expect_error(
        &k,
        &["create", "-f", &unknown],
        "Gadget in version \"v1\" cannot be handled as a Gadget: strict decoding error: unknown field \"spec.bogus\"",
    ) {
        problems.push(format!("{e:#}"));
    }
    k.run(&["create", "-f", &unknown, "--validate=false"])?;
    let pruned = k.json(&["get", &res, "gprune", "-n", &ns])?;
    problems.extend(check_fields(
        &pruned,
        &[("/spec", Some(json!({"image": "x", "mode": "fast"})))],
        "an unknown field is pruned",
    ));

    // explain from the CRD's schema.
    match k.run(&[
        "explain",
        "gadgets.spec",
        &format!("--api-version={group}/v1"),
    ]) {
        Ok(out) => {
            for want in [
                "KIND:       Gadget",
                "FIELD: spec <Object>",
                "Spec of the gadget.",
                "image\t<string> -required-",
                "Image the gadget runs.",
                "replicas\t<integer>",
                "How many copies.",
            ] {
                if !out.stdout.contains(want) {
                    problems.push(format!(
                        "explain gadgets.spec lacks {want:?}:\n{}",
                        out.stdout
                    ));
                }
            }
        }
        Err(e) => problems.push(format!("{e:#}")),
    }

    // Patch types: no strategic merge for custom resources; merge and JSON patch work.
    if let Err(e) = expect_error(
        &k,
        &[
            "patch",
            &res,
            "g1",
            "-n",
            &ns,
            "-p",
            r#"{"spec":{"image":"y"}}"#,
        ],
        &format!(
            "error: application/strategic-merge-patch+json is not supported by {group}/v1, Kind=Gadget: the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
        ),
    ) {
        problems.push(format!("{e:#}"));
    }
    k.run(&[
        "patch",
        &res,
        "g1",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"spec":{"image":"merged"}}"#,
    ])?;
    k.run(&[
        "patch",
        &res,
        "g1",
        "-n",
        &ns,
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/mode","value":"slow"}]"#,
    ])?;
    let obj = k.json(&["get", &res, "g1", "-n", &ns])?;
    problems.extend(check_fields(
        &obj,
        &[
            ("/spec/image", Some(json!("merged"))),
            ("/spec/mode", Some(json!("slow"))),
            ("/spec/replicas", Some(json!(3))),
        ],
        "after merge and JSON patches",
    ));

    if let Err(e) = watch_sees_change(ctx, &k, &res, &ns, "g1", &format!("gadget.{group}/g1")) {
        problems.push(format!("{e:#}"));
    }

    // Deleting the CRD deletes its objects, then the type goes away.
    k.run(&["delete", "crd", &crd, "--timeout=60s"])?;
    let gone = testkit::wait_for("the gadgets type to disappear", CONVERGE_TIMEOUT, || {
        anyhow::Ok(match k.run_expect_failure(&["get", &res, "-n", &ns]) {
            Ok(out)
                if out
                    .stderr
                    .contains("the server doesn't have a resource type") =>
            {
                Some(())
            }
            _ => None,
        })
    });
    if let Err(e) = gone {
        problems.push(format!("{e:#}"));
    }
    // Re-created, the CRD starts empty: the old objects were deleted with it.
    k.run(&["apply", "-f", &crd_file])?;
    k.run(&[
        "wait",
        "--for=condition=Established",
        &format!("crd/{crd}"),
        "--timeout=20s",
    ])?;
    let left = testkit::wait_for("gadgets to be served again", CONVERGE_TIMEOUT, || {
        anyhow::Ok(k.run(&["get", &res, "-n", &ns, "-o", "name"]).ok())
    })?;
    if !left.stdout.trim().is_empty() {
        problems.push(format!(
            "objects survived the deletion of their CRD: {:?}",
            left.stdout
        ));
    }
    k.run(&["delete", "crd", &crd, "--timeout=60s"])?;
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// `kubectl get <res> -w --watch-only -o name` sees a change made after it started. The
/// change is repeated until the watch reports it, so the test does not depend on when the
/// watch is established.
fn watch_sees_change(
    ctx: &Ctx,
    k: &Kubectl,
    res: &str,
    ns: &str,
    name: &str,
    printed: &str,
) -> Result<()> {
    let mut child = Command::new(k.binary())
        .arg("--kubeconfig")
        .arg(ctx.cluster.kubeconfig_path())
        .args(["get", res, "-n", ns, "-w", "--watch-only", "-o", "name"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting kubectl get -w")?;
    let seen = Arc::new(Mutex::new(String::new()));
    let reader = {
        let seen = Arc::clone(&seen);
        let pipe = child.stdout.take();
        std::thread::spawn(move || {
            let Some(mut pipe) = pipe else { return };
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let (Ok(mut s), Some(chunk)) = (seen.lock(), buf.get(..n)) {
                    s.push_str(&String::from_utf8_lossy(chunk));
                }
            }
        })
    };
    let mut round = 0;
    let result = testkit::wait_for("the watch to report the change", CONVERGE_TIMEOUT, || {
        round += 1;
        k.run(&[
            "patch",
            res,
            name,
            "-n",
            ns,
            "--type=merge",
            "-p",
            &format!(r#"{{"metadata":{{"labels":{{"round":"r{round}"}}}}}}"#),
        ])?;
        let text = seen.lock().map_err(|_| anyhow!("poisoned"))?.clone();
        anyhow::Ok(text.lines().any(|l| l.trim() == printed).then_some(()))
    });
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    let text = seen.lock().map(|s| s.clone()).unwrap_or_default();
    result.map_err(|e| anyhow!("{e}; `get -w --watch-only -o name` printed {text:?}"))?;
    Ok(())
}

/// A cluster-scoped CRD without printer columns: `NAME AGE`, objects without namespace.
fn crd_cluster_scoped(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let sfx = sfx(version);
    let group = group(version);
    let crd = format!("gizmos.{group}");
    let yaml = format!(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {crd}
spec:
  group: {group}
  scope: Cluster
  names: {{plural: gizmos, singular: gizmo, kind: Gizmo}}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              color: {{type: string}}
"
    );
    let path = ctx.manifest(&format!("gizmo-crd-{sfx}.yaml"), &yaml)?;
    k.run(&["apply", "-f", path_str(&path)?])?;
    k.run(&[
        "wait",
        "--for=condition=Established",
        &format!("crd/{crd}"),
        "--timeout=20s",
    ])?;
    let mut problems = Vec::new();
    let cr = format!(
        "apiVersion: {group}/v1\nkind: Gizmo\nmetadata: {{name: gz{sfx}}}\nspec: {{color: red}}\n"
    );
    let out = apply_when_served(ctx, &k, &format!("gizmo-{sfx}.yaml"), &cr)?;
    if !out.contains(&format!("gizmo.{group}/gz{sfx} created")) {
        problems.push(format!("apply printed {out:?}"));
    }
    let res = format!("gizmos.{group}");
    let table = k.run(&["get", &res])?.stdout;
    if let Err(e) = ensure_header(&table, &["NAME", "AGE"], "cluster-scoped CR table") {
        problems.push(format!("{e:#}"));
    }
    if row(&table, &format!("gz{sfx}")).len() != 2 {
        problems.push(format!("no row for gz{sfx}:\n{table}"));
    }
    let obj = k.json(&["get", &res, &format!("gz{sfx}")])?;
    problems.extend(check_fields(
        &obj,
        &[
            ("/metadata/namespace", None),
            ("/spec", Some(json!({"color": "red"}))),
        ],
        "cluster-scoped CR",
    ));
    let self_link = k.run(&["get", "--raw", &format!("/apis/{group}/v1/gizmos/gz{sfx}")])?;
    if !self_link.stdout.contains("\"color\":\"red\"") {
        problems.push(format!(
            "GET /apis/{group}/v1/gizmos/gz{sfx}: {}",
            self_link.stdout
        ));
    }
    let cluster = k
        .run(&[
            "api-resources",
            "--namespaced=false",
            "--api-group",
            &group,
            "-o",
            "name",
        ])?
        .stdout;
    if !cluster.lines().any(|l| l == res) {
        problems.push(format!(
            "api-resources --namespaced=false --api-group={group} lacks {res}: {cluster:?}"
        ));
    }
    k.run(&["delete", &res, &format!("gz{sfx}")])?;
    k.run(&["delete", "crd", &crd, "--timeout=60s"])?;
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// A CRD manifest in `group` whose names are `plural`/`singular`/`kind` (+ `listKind`).
fn named_crd(group: &str, plural: &str, singular: &str, kind: &str, list_kind: &str) -> String {
    let list_kind = if list_kind.is_empty() {
        String::new()
    } else {
        format!(", listKind: {list_kind}")
    };
    format!(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.{group}
spec:
  group: {group}
  scope: Namespaced
  names: {{plural: {plural}, singular: {singular}, kind: {kind}{list_kind}}}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}
"
    )
}

/// Creates the `Knob` CRD of `group`, waits until it is Established, then creates a second
/// CRD with `second` names and returns that CRD once its NamesAccepted condition is set.
fn conflicting_crds(
    ctx: &Ctx,
    k: &Kubectl,
    group: &str,
    second: (&str, &str, &str, &str),
) -> Result<Value> {
    let first = ctx.manifest(
        &format!("knobs.{group}.yaml"),
        &named_crd(group, "knobs", "knob", "Knob", ""),
    )?;
    k.run(&["apply", "-f", path_str(&first)?])?;
    k.run(&[
        "wait",
        "--for=condition=Established",
        &format!("crd/knobs.{group}"),
        "--timeout=20s",
    ])?;
    let (plural, singular, kind, list_kind) = second;
    let path = ctx.manifest(
        &format!("{plural}.{group}.yaml"),
        &named_crd(group, plural, singular, kind, list_kind),
    )?;
    k.run(&["apply", "-f", path_str(&path)?])?;
    let obj = testkit::wait_for(
        &format!("NamesAccepted on {plural}.{group}"),
        CONVERGE_TIMEOUT,
        || {
            let obj = k.json(&["get", "crd", &format!("{plural}.{group}")])?;
            anyhow::Ok(condition(&obj, "NamesAccepted").map(|_| obj))
        },
    )?;
    Ok(obj)
}

fn delete_crds(k: &Kubectl, group: &str, plurals: &[&str]) {
    for plural in plurals {
        let _ = k.run(&[
            "delete",
            "crd",
            &format!("{plural}.{group}"),
            "--ignore-not-found",
            "--timeout=60s",
        ]);
    }
}

/// A second CRD claiming a kind the group already serves is not accepted (upstream's
/// naming controller: `KindConflict`, `"Knob" is already in use`) and not established;
/// once the first CRD is gone, the second is accepted and established.
fn crd_names_conflict(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let group = format!("nc{}.example.com", sfx(version));
    let result = (|| -> Result<()> {
        let obj = conflicting_crds(ctx, &k, &group, ("knobs2", "knob2", "Knob", "KnobTwoList"))?;
        let mut problems = Vec::new();
        for want in [
            cond(
                "NamesAccepted",
                "False",
                "KindConflict",
                "\"Knob\" is already in use",
            ),
            cond(
                "Established",
                "False",
                "NotAccepted",
                "not all names are accepted",
            ),
        ] {
            if condition(&obj, &want[0]).as_ref() != Some(&want) {
                problems.push(format!(
                    "second CRD condition {:?}, upstream {want:?}",
                    condition(&obj, &want[0])
                ));
            }
        }
        // The first CRD gives the name up: the naming controller re-checks the group.
        k.run(&["delete", "crd", &format!("knobs.{group}"), "--timeout=60s"])?;
        let established = k.run(&[
            "wait",
            "--for=condition=Established",
            &format!("crd/knobs2.{group}"),
            "--timeout=30s",
        ]);
        if let Err(e) = established {
            problems.push(format!(
                "once the conflicting CRD is deleted, upstream accepts and establishes the second: {e:#}"
            ));
        }
        ensure!(problems.is_empty(), "{}", problems.join("\n"));
        Ok(())
    })();
    delete_crds(&k, &group, &["knobs", "knobs2"]);
    result
}

/// The names of a conflicting CRD that do not conflict are accepted (status.acceptedNames),
/// the conflicting kind is not.
fn crd_names_conflict_accepted_names(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let group = format!("nca{}.example.com", sfx(version));
    let result = (|| -> Result<()> {
        let obj = conflicting_crds(ctx, &k, &group, ("knobs2", "knob2", "Knob", "KnobTwoList"))?;
        let problems = check_fields(
            &obj,
            &[(
                "/status/acceptedNames",
                Some(json!({
                    "plural": "knobs2",
                    "singular": "knob2",
                    "kind": "",
                    "listKind": "KnobTwoList"
                })),
            )],
            "acceptedNames of the conflicting CRD",
        );
        ensure!(problems.is_empty(), "{}", problems.join("\n"));
        Ok(())
    })();
    delete_crds(&k, &group, &["knobs", "knobs2"]);
    result
}

/// Same kind and the default listKind: upstream checks the list kind last, so the reason
/// is `ListKindConflict` (`"KnobList" is already in use`).
fn crd_names_conflict_list_kind(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let group = format!("ncl{}.example.com", sfx(version));
    let result = (|| -> Result<()> {
        let obj = conflicting_crds(ctx, &k, &group, ("knobs3", "knob3", "Knob", ""))?;
        let want = cond(
            "NamesAccepted",
            "False",
            "ListKindConflict",
            "\"KnobList\" is already in use",
        );
        ensure!(
            condition(&obj, "NamesAccepted").as_ref() == Some(&want),
            "condition {:?}, upstream {want:?}",
            condition(&obj, "NamesAccepted")
        );
        Ok(())
    })();
    delete_crds(&k, &group, &["knobs", "knobs3"]);
    result
}
