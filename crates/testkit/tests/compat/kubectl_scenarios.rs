//! Scenarios driven by one kubectl release. Each version works in its own namespace
//! (`compat-133`, ...) and suffixes cluster-scoped names, so both releases run the same
//! scenarios against the same server.

use anyhow::{Context, Result, anyhow, ensure};
use serde_json::Value;
use testkit::Kubectl;
use testkit::pods::{items, name_of};

use super::manifests::{KindCase, cases};
use super::support::{
    CONVERGE_TIMEOUT, Ctx, Scenario, ensure_header, expect_error, object_names, owner_refs, str_at,
    table_header, table_names, wait_gone,
};

type VersionedFn = fn(&Ctx, &str) -> Result<()>;

/// `1.33` -> `133`.
fn sfx(version: &str) -> String {
    version.replace('.', "")
}

/// The namespace a kubectl release's scenarios work in.
fn ns(version: &str) -> String {
    format!("compat-{}", sfx(version))
}

pub fn scenarios(version: &'static str) -> Vec<(String, Scenario)> {
    let mut list: Vec<(String, Scenario)> = vec![(
        "namespace_setup".into(),
        Box::new(move |ctx: &Ctx| namespace_setup(ctx, version)),
    )];
    for (i, case) in cases().into_iter().enumerate() {
        list.push((
            format!("crud_{}", case.label),
            Box::new(move |ctx: &Ctx| {
                let all = cases();
                let case = all.get(i).ok_or_else(|| anyhow!("no case {i}"))?;
                crud(ctx, version, case)
            }),
        ));
    }
    let more: [(&str, VersionedFn); 14] = [
        ("apply_kind_list", apply_list),
        ("label_selectors", label_selectors),
        ("field_selectors", field_selectors),
        ("field_selector_unsupported", field_selector_unsupported),
        ("pagination", pagination),
        ("delete_foreground", delete_foreground),
        ("delete_background", delete_background),
        ("delete_orphan", delete_orphan),
        ("namespace_deletion", namespace_deletion),
        ("dry_run_server", dry_run_server),
        ("conflict_stale_resource_version", conflict),
        ("auth_can_i", auth_can_i),
        ("api_resources", api_resources),
        ("get_all", get_all),
    ];
    for (name, f) in more {
        list.push((name.into(), Box::new(move |ctx: &Ctx| f(ctx, version))));
    }
    if version == "1.33" {
        // kubectl 1.27 asks for authentication.k8s.io v1alpha1/v1beta1, which an upstream
        // 1.33 server does not serve by default; only the 1.33 client is checked.
        list.push(("auth_whoami".into(), Box::new(|ctx: &Ctx| auth_whoami(ctx))));
    }
    list
}

/// `["-n", ns]` for namespaced objects.
fn scoped<'a>(args: &[&'a str], ns: Option<&'a str>) -> Vec<&'a str> {
    let mut v = args.to_vec();
    if let Some(ns) = ns {
        v.extend(["-n", ns]);
    }
    v
}

/// The scenario namespace, plus upstream's per-namespace defaults (the `default`
/// ServiceAccount, without which pods are rejected, and `kube-root-ca.crt`).
fn namespace_setup(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let out = k.run(&["create", "namespace", &ns])?;
    ensure!(
        out.stdout.contains(&format!("namespace/{ns} created")),
        "create namespace printed: {}",
        out.stdout
    );
    let mut problems = Vec::new();
    // One deadline for both: the controllers create them together, and a missing feature
    // must not cost two full timeouts.
    let deadline = std::time::Instant::now() + CONVERGE_TIMEOUT;
    for (what, args) in [
        ("ServiceAccount default", ["get", "sa", "default"]),
        (
            "ConfigMap kube-root-ca.crt",
            ["get", "cm", "kube-root-ca.crt"],
        ),
    ] {
        let left = deadline
            .saturating_duration_since(std::time::Instant::now())
            .max(std::time::Duration::from_secs(1));
        let found = testkit::wait_for(&format!("{what} in {ns}"), left, || {
            let mut full = args.to_vec();
            full.extend(["-n", &ns]);
            anyhow::Ok(k.run(&full).ok().map(|_| ()))
        });
        if let Err(e) = found {
            problems.push(format!("upstream creates {what} in every namespace: {e}"));
        }
    }
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// `apiVersion` and `kind` of a single-object manifest.
fn manifest_type(yaml: &str) -> (String, String) {
    let field = |key: &str| {
        yaml.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    (field("apiVersion:"), field("kind:"))
}

/// create -f, get -o json/yaml, table (list and single), describe, apply twice, label,
/// delete -f, and upstream's NotFound afterwards.
fn crud(ctx: &Ctx, version: &str, case: &KindCase) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let sfx = sfx(version);
    let ns_name = ns(version);
    let ns = case.namespaced.then_some(ns_name.as_str());
    let name = case.object_name(&sfx);
    let yaml = case.render(&ns_name, &sfx);
    let path = ctx.manifest(&format!("{}-{sfx}.yaml", case.label), &yaml)?;
    let file = path.to_str().ok_or_else(|| anyhow!("non-UTF-8 path"))?;
    let res = case.resource;
    let (mut api_version, kind) = manifest_type(&yaml);
    if case.label == "hpa_v1" {
        // kubectl reads the group's preferred version: the v1 object comes back as v2.
        api_version = "autoscaling/v2".into();
    }

    let out = k.run(&["create", "-f", file])?;
    ensure!(
        out.stdout.contains(&format!("/{name} created")),
        "create -f printed {:?}",
        out.stdout
    );

    let obj = k.json(&scoped(&["get", res, &name], ns))?;
    let checks = [
        ("/apiVersion", api_version.as_str()),
        ("/kind", kind.as_str()),
        ("/metadata/name", name.as_str()),
    ];
    for (ptr, want) in checks {
        ensure!(
            str_at(&obj, ptr) == want,
            "get -o json: {ptr} is {:?}, want {want:?}",
            str_at(&obj, ptr)
        );
    }
    for ptr in [
        "/metadata/uid",
        "/metadata/resourceVersion",
        "/metadata/creationTimestamp",
    ] {
        ensure!(!str_at(&obj, ptr).is_empty(), "get -o json: {ptr} is empty");
    }
    if let Some(ns) = ns {
        ensure!(
            str_at(&obj, "/metadata/namespace") == ns,
            "metadata.namespace is {:?}",
            str_at(&obj, "/metadata/namespace")
        );
    }
    if case.label == "hpa_v1" {
        let util = obj.pointer("/spec/metrics/0/resource/target/averageUtilization");
        ensure!(
            util == Some(&Value::from(50)),
            "autoscaling/v1 targetCPUUtilizationPercentage 50 read as v2: metrics {:#}",
            obj.pointer("/spec/metrics").unwrap_or(&Value::Null)
        );
        let v1 = k.json(&scoped(
            &["get", "horizontalpodautoscalers.v1.autoscaling", &name],
            ns,
        ))?;
        ensure!(
            v1.pointer("/spec/targetCPUUtilizationPercentage") == Some(&Value::from(50)),
            "v1 read-back: {:#}",
            v1["spec"]
        );
    }
    if case.label == "secret" {
        // stringData is write-only: merged into data, base64-encoded.
        ensure!(
            str_at(&obj, "/data/password") == "aHVudGVyMg==" && obj.get("stringData").is_none(),
            "secret stringData not folded into data: {:#}",
            obj
        );
    }

    let yaml_out = k
        .run(&scoped(&["get", res, &name, "-o", "yaml"], ns))?
        .stdout;
    ensure!(
        yaml_out.contains(&format!("kind: {kind}")) && yaml_out.contains(&format!("name: {name}")),
        "get -o yaml lacks kind/name:\n{yaml_out}"
    );

    let list_table = k.run(&scoped(&["get", res], ns))?.stdout;
    ensure_header(&list_table, case.header, &format!("kubectl get {res}"))?;
    let single_table = k.run(&scoped(&["get", res, &name], ns))?.stdout;
    ensure_header(
        &single_table,
        case.header,
        &format!("kubectl get {res} {name}"),
    )?;
    if case.header.first() == Some(&"NAME") {
        ensure!(
            table_names(&list_table).contains(&name),
            "{name} missing from the table:\n{list_table}"
        );
    } else {
        ensure!(
            list_table.contains("CompatTest"),
            "event missing from the table:\n{list_table}"
        );
    }

    let describe = k.run(&scoped(&["describe", res, &name], ns))?.stdout;
    ensure!(
        describe.contains("Name:") && describe.contains(&name),
        "describe output lacks Name:\n{describe}"
    );

    if case.create_only {
        return crd_usable(&k, &name, &sfx, &ns_name);
    }

    // create -f left no last-applied annotation: the first apply adds it (with a warning),
    // the second must find nothing to change.
    let out = k.run(&["apply", "-f", file])?;
    ensure!(
        out.stdout.contains(&format!("/{name} configured"))
            || out.stdout.contains(&format!("/{name} unchanged")),
        "first apply printed {:?} (stderr {:?})",
        out.stdout,
        out.stderr
    );
    let out = k.run(&["apply", "-f", file])?;
    // Upstream, too, re-patches objects whose server defaults land inside atomic lists
    // (Endpoints ports get `protocol: TCP`, LimitRange items get `default`/`defaultRequest`)
    // and Secrets (stringData never reads back), and PodDisruptionBudgets (spec.selector has
    // patchStrategy=replace, so kubectl's three-way patch always carries it): only the
    // others must be "unchanged".
    let repatched_upstream = ["secret", "endpoints", "limitrange", "poddisruptionbudget"];
    if !repatched_upstream.contains(&case.label)
        && !out.stdout.contains(&format!("/{name} unchanged"))
    {
        // Show the patch kubectl computed: it is what differs from upstream's read-back.
        let verbose = k.run(&["apply", "-f", file, "--dry-run=server", "-v=8"])?;
        let patch: Vec<&str> = verbose
            .stderr
            .lines()
            .filter(|l| l.contains("Request Body") && !l.contains("body=\"\""))
            .collect();
        return Err(anyhow!(
            "second apply of the same manifest printed {:?}, upstream prints \"<kind>/{name} unchanged\"; kubectl's patch: {patch:?}",
            out.stdout
        ));
    }
    let applied = k.json(&scoped(&["get", res, &name], ns))?;
    ensure!(
        !str_at(
            &applied,
            "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration"
        )
        .is_empty(),
        "apply did not store the last-applied-configuration annotation"
    );

    k.run(&scoped(&["label", res, &name, "compat=labelled"], ns))?;
    let labelled = k
        .run(&scoped(
            &["get", res, "-l", "compat=labelled", "-o", "name"],
            ns,
        ))?
        .stdout;
    ensure!(
        object_names(&labelled).contains(&name),
        "label selector after `kubectl label` returned {labelled:?}"
    );

    let out = k.run(&["delete", "-f", file, "--timeout=60s"])?;
    ensure!(
        out.stdout.contains(&format!("\"{name}\" deleted")),
        "delete -f printed {:?}",
        out.stdout
    );
    let err = k.run_expect_failure(&scoped(&["get", res, &name], ns))?;
    let want = format!("Error from server (NotFound): {res} \"{name}\" not found");
    ensure!(
        err.stderr.contains(&want),
        "after delete: stderr {:?}, upstream prints {want:?}",
        err.stderr.trim()
    );
    Ok(())
}

/// A freshly created CRD becomes Established and serves its kind (also by short name).
fn crd_usable(k: &Kubectl, crd: &str, sfx: &str, ns: &str) -> Result<()> {
    k.run(&[
        "wait",
        "--for=condition=Established",
        &format!("crd/{crd}"),
        // Upstream establishes a CRD with no conflicting names at once.
        "--timeout=20s",
    ])?;
    let widget = format!(
        "apiVersion: compat{sfx}.example.com/v1\nkind: Widget\nmetadata:\n  name: w1\n  namespace: {ns}\nspec:\n  size: 3\n"
    );
    let path = std::env::temp_dir().join(format!("k8rs-compat-widget-{sfx}.yaml"));
    std::fs::write(&path, widget)?;
    let file = path.to_string_lossy().into_owned();
    // Discovery of a new group can lag; kubectl re-discovers on each run.
    testkit::wait_for("the Widget kind to be served", CONVERGE_TIMEOUT, || {
        anyhow::Ok(k.run(&["apply", "-f", &file]).ok().map(|_| ()))
    })?;
    let table = k
        .run(&["get", &format!("widgets.compat{sfx}.example.com"), "-n", ns])?
        .stdout;
    ensure_header(&table, &["NAME", "AGE"], "custom resource table")?;
    ensure!(table_names(&table) == ["w1"], "widgets:\n{table}");
    let obj = k.json(&[
        "get",
        &format!("widgets.compat{sfx}.example.com"),
        "w1",
        "-n",
        ns,
    ])?;
    ensure!(
        obj.pointer("/spec/size") == Some(&Value::from(3)),
        "custom resource spec lost: {obj:#}"
    );
    let _ = std::fs::remove_file(&path);
    Ok(())
}

const SELECTOR_CMS: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: sel-1, namespace: NS, labels: {app: sel, env: a, tier: web}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: sel-2, namespace: NS, labels: {app: sel, env: b}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: sel-3, namespace: NS, labels: {app: sel, env: c}}
";

/// `kind: List` manifests (what `kubectl get -o yaml` prints) apply item by item.
fn apply_list(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let doc = format!(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: list-1, namespace: {ns}}}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: list-2, namespace: {ns}}}\n"
    );
    let path = ctx.manifest(&format!("list-{}.yaml", sfx(version)), &doc)?;
    let out = k.run(&["apply", "-f", &path.to_string_lossy()])?;
    ensure!(
        out.stdout.contains("configmap/list-1 created")
            && out.stdout.contains("configmap/list-2 created"),
        "apply of a List printed {:?}",
        out.stdout
    );
    k.run(&["delete", "-f", &path.to_string_lossy()])?;
    Ok(())
}

fn label_selectors(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let path = ctx.manifest(
        &format!("selectors-{}.yaml", sfx(version)),
        &SELECTOR_CMS.replace("NS", &ns),
    )?;
    k.run(&["apply", "-f", &path.to_string_lossy()])?;
    let cases: [(&str, &[&str]); 6] = [
        ("app=sel", &["sel-1", "sel-2", "sel-3"]),
        ("app=sel,env in (a,b)", &["sel-1", "sel-2"]),
        ("app=sel,!tier", &["sel-2", "sel-3"]),
        ("app=sel,env notin (a)", &["sel-2", "sel-3"]),
        ("app=sel,env!=c", &["sel-1", "sel-2"]),
        ("tier", &["sel-1"]),
    ];
    let mut problems = Vec::new();
    for (selector, want) in cases {
        let out = k.run(&["get", "cm", "-n", &ns, "-l", selector, "-o", "name"])?;
        let got = object_names(&out.stdout);
        if got != want {
            problems.push(format!("-l '{selector}': got {got:?}, want {want:?}"));
        }
    }
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

fn field_selectors(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let mut problems = Vec::new();
    let mut check = |args: &[&str], want: &[&str], must_contain: bool| -> Result<()> {
        let mut full = vec!["get"];
        full.extend(args);
        full.extend(["-o", "name"]);
        let got = object_names(&k.run(&full)?.stdout);
        let ok = if must_contain {
            want.iter().all(|w| got.iter().any(|g| g == w))
        } else {
            got == want
        };
        if !ok {
            problems.push(format!(
                "{}: got {got:?}, {} {want:?}",
                args.join(" "),
                if must_contain { "must contain" } else { "want" }
            ));
        }
        Ok(())
    };
    check(
        &["cm", "-n", &ns, "--field-selector", "metadata.name=sel-2"],
        &["sel-2"],
        false,
    )?;
    check(
        &[
            "cm",
            "-n",
            &ns,
            "-l",
            "app=sel",
            "--field-selector",
            "metadata.name!=sel-2",
        ],
        &["sel-1", "sel-3"],
        false,
    )?;
    check(
        &[
            "cm",
            "-A",
            "-l",
            "app=sel",
            "--field-selector",
            &format!("metadata.namespace={ns}"),
        ],
        &["sel-1", "sel-2", "sel-3"],
        false,
    )?;

    k.run(&[
        "run",
        "sel-pod",
        "-n",
        &ns,
        "--image=docker.io/k8rs/demo:0.1.0",
        "--restart=Never",
        "--labels=app=sel-pod",
    ])?;
    check(
        &[
            "pods",
            "-n",
            &ns,
            "--field-selector",
            "status.phase=Pending",
        ],
        &["sel-pod"],
        true,
    )?;
    check(
        &[
            "pods",
            "-n",
            &ns,
            "--field-selector",
            "status.phase=Running",
        ],
        &[],
        false,
    )?;
    // No node runs it, so it is unscheduled: spec.nodeName is empty.
    check(
        &["pods", "-n", &ns, "--field-selector", "spec.nodeName="],
        &["sel-pod"],
        true,
    )?;
    check(
        &[
            "pods",
            "-n",
            &ns,
            "--field-selector",
            "status.phase!=Succeeded,metadata.name=sel-pod",
        ],
        &["sel-pod"],
        false,
    )?;
    check(
        &[
            "secrets",
            "-n",
            &ns,
            "--field-selector",
            "type=kubernetes.io/dockercfg",
        ],
        &[],
        false,
    )?;
    k.run(&["delete", "pod", "sel-pod", "-n", &ns, "--timeout=60s"])?;
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// Unknown field labels are a 400 with upstream's wording: pods have their own list of
/// labels; kinds without one accept only metadata.name and metadata.namespace.
fn field_selector_unsupported(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let mut problems = Vec::new();
    for (args, want) in [
        (
            vec!["get", "pods", "-n", &ns, "--field-selector", "spec.foo=bar"],
            "field label not supported: spec.foo".to_string(),
        ),
        (
            vec!["get", "cm", "-n", &ns, "--field-selector", "spec.foo=bar"],
            "\"spec.foo\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"".to_string(),
        ),
    ] {
        // kubectl prefixes the server's message with `Unable to find ... field selector ...: `.
        match expect_error(&k, &args, &want) {
            Err(e) => problems.push(format!("{e:#}")),
            Ok(stderr) if !stderr.contains("(BadRequest)") => {
                problems.push(format!("not a 400 BadRequest: {stderr}"))
            }
            Ok(_) => {}
        }
    }
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

fn pagination(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let mut doc = String::new();
    for i in 1..=7 {
        doc.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: page-{i}, namespace: {ns}, labels: {{page: \"yes\"}}}}\ndata: {{i: \"{i}\"}}\n"
        ));
    }
    let path = ctx.manifest(&format!("pages-{}.yaml", sfx(version)), &doc)?;
    k.run(&["apply", "-f", &path.to_string_lossy()])?;
    let want: Vec<String> = (1..=7).map(|i| format!("page-{i}")).collect();

    // -v=6 logs each request URL: the second and later chunks carry `continue=`.
    let out = k.run(&[
        "get",
        "cm",
        "-n",
        &ns,
        "-l",
        "page=yes",
        "--chunk-size=2",
        "-o",
        "name",
        "-v=6",
    ])?;
    ensure!(
        object_names(&out.stdout) == want,
        "--chunk-size=2 -o name returned {:?}",
        object_names(&out.stdout)
    );
    let requests = out.stderr.lines().filter(|l| l.contains("limit=2")).count();
    ensure!(
        requests == 4 && out.stderr.contains("continue="),
        "7 objects in chunks of 2 should take 4 requests with continue tokens; kubectl made {requests}:\n{}",
        out.stderr
    );
    let table = k
        .run(&["get", "cm", "-n", &ns, "-l", "page=yes", "--chunk-size=2"])?
        .stdout;
    ensure_header(&table, &["NAME", "DATA", "AGE"], "chunked table")?;
    let mut rows = table_names(&table);
    rows.sort();
    ensure!(rows == want, "chunked table rows {rows:?}:\n{table}");

    // The raw protocol: limit, metadata.continue, last page without a token.
    let mut seen = Vec::new();
    let mut token = String::new();
    for page in 0.. {
        ensure!(page < 10, "continue tokens never ended");
        let mut url =
            format!("/api/v1/namespaces/{ns}/configmaps?labelSelector=page%3Dyes&limit=2");
        if !token.is_empty() {
            url.push_str(&format!("&continue={token}"));
        }
        let list: Value =
            serde_json::from_str(&k.run(&["get", "--raw", &url])?.stdout).context("list JSON")?;
        let names: Vec<String> = items(&list)
            .iter()
            .map(|o| name_of(o).to_string())
            .collect();
        ensure!(names.len() <= 2, "limit=2 returned {} items", names.len());
        seen.extend(names);
        token = str_at(&list, "/metadata/continue").to_string();
        if token.is_empty() {
            break;
        }
    }
    seen.sort();
    ensure!(seen == want, "paging with continue returned {seen:?}");
    let bad = k.run_expect_failure(&[
        "get",
        "--raw",
        &format!("/api/v1/namespaces/{ns}/configmaps?limit=2&continue=not-a-token"),
    ])?;
    ensure!(
        bad.stderr.contains("(BadRequest)") || bad.stderr.contains("(Gone)"),
        "a garbage continue token: {}",
        bad.stderr.trim()
    );
    Ok(())
}

const PROP_DEPLOY: &str = "apiVersion: apps/v1
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
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: docker.io/k8rs/demo:0.1.0
";

/// Creates a Deployment and waits for the ReplicaSet it owns; returns the RS name.
fn deployment_with_rs(ctx: &Ctx, k: &Kubectl, ns: &str, name: &str) -> Result<String> {
    let path = ctx.manifest(
        &format!("{name}.yaml"),
        &PROP_DEPLOY.replace("NAME", name).replace("NS", ns),
    )?;
    k.run(&["apply", "-f", &path.to_string_lossy()])?;
    let rs = testkit::wait_for(
        &format!("the ReplicaSet of deployment {name}"),
        CONVERGE_TIMEOUT,
        || {
            let list = k.json(&["get", "rs", "-n", ns, "-l", &format!("app={name}")])?;
            anyhow::Ok(
                items(&list)
                    .iter()
                    .find(|rs| owner_refs(rs).contains(&("Deployment".into(), name.into())))
                    .map(|rs| name_of(rs).to_string()),
            )
        },
    )?;
    Ok(rs)
}

fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Foreground: the owner stays (deletionTimestamp + `foregroundDeletion`) until its
/// dependents are gone. A finalizer on the ReplicaSet holds that state observable.
fn delete_foreground(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let rs = deployment_with_rs(ctx, &k, &ns, "prop-fg")?;
    k.run(&[
        "patch",
        "rs",
        &rs,
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":["compat.example.com/hold"]}}"#,
    ])?;
    let out = k.run(&[
        "delete",
        "deployment",
        "prop-fg",
        "-n",
        &ns,
        "--cascade=foreground",
        "--wait=false",
    ])?;
    ensure!(
        out.stdout.contains("\"prop-fg\" deleted"),
        "delete printed {:?}",
        out.stdout
    );
    let result = (|| -> Result<()> {
        let deploy = k.json(&["get", "deployment", "prop-fg", "-n", &ns])?;
        ensure!(
            !str_at(&deploy, "/metadata/deletionTimestamp").is_empty()
                && finalizers(&deploy).contains(&"foregroundDeletion".to_string()),
            "right after a foreground delete the Deployment must still exist with deletionTimestamp and the foregroundDeletion finalizer; metadata: {:#}",
            deploy["metadata"]
        );
        testkit::wait_for(
            "the ReplicaSet to be marked for deletion",
            CONVERGE_TIMEOUT,
            || {
                let obj = k.json(&["get", "rs", &rs, "-n", &ns])?;
                anyhow::Ok((!str_at(&obj, "/metadata/deletionTimestamp").is_empty()).then_some(()))
            },
        )?;
        let deploy = k.json(&["get", "deployment", "prop-fg", "-n", &ns])?;
        ensure!(
            finalizers(&deploy).contains(&"foregroundDeletion".to_string()),
            "the Deployment lost foregroundDeletion while its ReplicaSet still exists"
        );
        Ok(())
    })();
    // Release the ReplicaSet whatever happened, then everything must go.
    k.run(&[
        "patch",
        "rs",
        &rs,
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ])?;
    result?;
    wait_gone(&k, &["rs", &rs, "-n", &ns], "the ReplicaSet")?;
    wait_gone(&k, &["deployment", "prop-fg", "-n", &ns], "the Deployment")?;
    Ok(())
}

fn delete_background(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let rs = deployment_with_rs(ctx, &k, &ns, "prop-bg")?;
    k.run(&[
        "delete",
        "deployment",
        "prop-bg",
        "-n",
        &ns,
        "--cascade=background",
        "--timeout=60s",
    ])?;
    wait_gone(
        &k,
        &["rs", &rs, "-n", &ns],
        "the ReplicaSet (garbage collected)",
    )?;
    testkit::wait_for(
        "the pods of prop-bg to be collected",
        CONVERGE_TIMEOUT,
        || {
            let list = k.json(&["get", "pods", "-n", &ns, "-l", "app=prop-bg"])?;
            anyhow::Ok(items(&list).is_empty().then_some(()))
        },
    )?;
    Ok(())
}

fn delete_orphan(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let rs = deployment_with_rs(ctx, &k, &ns, "prop-orphan")?;
    k.run(&[
        "delete",
        "deployment",
        "prop-orphan",
        "-n",
        &ns,
        "--cascade=orphan",
        "--timeout=60s",
    ])?;
    wait_gone(
        &k,
        &["deployment", "prop-orphan", "-n", &ns],
        "the Deployment",
    )?;
    let obj = testkit::wait_for(
        "the orphaned ReplicaSet to lose its ownerReference",
        CONVERGE_TIMEOUT,
        || {
            let obj = k.json(&["get", "rs", &rs, "-n", &ns])?;
            anyhow::Ok(owner_refs(&obj).is_empty().then_some(obj))
        },
    )?;
    ensure!(
        str_at(&obj, "/metadata/deletionTimestamp").is_empty(),
        "the orphaned ReplicaSet is being deleted"
    );
    k.run(&["delete", "rs", &rs, "-n", &ns, "--timeout=60s"])?;
    Ok(())
}

/// Terminating while content remains (held by a finalizer), creation refused with
/// upstream's message, status conditions, then gone once the finalizer is removed.
fn namespace_deletion(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = format!("compat-nsdel-{}", sfx(version));
    k.run(&["create", "namespace", &ns])?;
    k.run(&["create", "configmap", "c1", "-n", &ns, "--from-literal=a=b"])?;
    k.run(&[
        "create",
        "secret",
        "generic",
        "s1",
        "-n",
        &ns,
        "--from-literal=a=b",
    ])?;
    deployment_with_rs(ctx, &k, &ns, "d1")?;
    let hold = ctx.manifest(
        &format!("hold-{ns}.yaml"),
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hold\n  namespace: {ns}\n  finalizers: [compat.example.com/hold]\n"
        ),
    )?;
    k.run(&["create", "-f", &hold.to_string_lossy()])?;

    let out = k.run(&["delete", "namespace", &ns, "--wait=false"])?;
    ensure!(
        out.stdout.contains(&format!("namespace \"{ns}\" deleted")),
        "delete printed {:?}",
        out.stdout
    );
    let result = (|| -> Result<()> {
        let obj = k.json(&["get", "namespace", &ns])?;
        ensure!(
            str_at(&obj, "/status/phase") == "Terminating"
                && !str_at(&obj, "/metadata/deletionTimestamp").is_empty(),
            "right after delete the namespace must be Terminating with a deletionTimestamp: {:#}",
            obj
        );
        let table = k.run(&["get", "namespace", &ns])?.stdout;
        ensure!(
            table
                .lines()
                .nth(1)
                .is_some_and(|l| l.contains("Terminating")),
            "table does not show Terminating:\n{table}"
        );
        expect_error(
            &k,
            &[
                "create",
                "configmap",
                "late",
                "-n",
                &ns,
                "--from-literal=a=b",
            ],
            &format!(
                "configmaps \"late\" is forbidden: unable to create new content in namespace {ns} because it is being terminated"
            ),
        )?;
        testkit::wait_for(
            "the namespace's content to be deleted",
            CONVERGE_TIMEOUT,
            || {
                let left = k
                    .run(&["get", "deploy,rs,secret,cm", "-n", &ns, "-o", "name"])?
                    .stdout;
                let left: Vec<&str> = left.lines().filter(|l| !l.is_empty()).collect();
                if left == ["configmap/hold"] {
                    Ok(Some(()))
                } else {
                    Err(anyhow!("still there: {left:?}"))
                }
            },
        )?;
        testkit::wait_for(
            "condition NamespaceFinalizersRemaining",
            CONVERGE_TIMEOUT,
            || {
                let obj = k.json(&["get", "namespace", &ns])?;
                let found = obj
                    .pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .is_some_and(|c| {
                        c.iter().any(|c| {
                            str_at(c, "/type") == "NamespaceFinalizersRemaining"
                                && str_at(c, "/status") == "True"
                                && str_at(c, "/message").contains("compat.example.com/hold")
                        })
                    });
                anyhow::Ok(found.then_some(()))
            },
        )?;
        Ok(())
    })();
    k.run(&[
        "patch",
        "cm",
        "hold",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ])?;
    result?;
    wait_gone(&k, &["namespace", &ns], "the namespace")?;
    Ok(())
}

fn dry_run_server(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    let obj = k.json(&[
        "create",
        "configmap",
        "dry1",
        "-n",
        &ns,
        "--from-literal=a=b",
        "--dry-run=server",
    ])?;
    ensure!(
        str_at(&obj, "/metadata/name") == "dry1" && str_at(&obj, "/data/a") == "b",
        "dry-run create printed {obj:#}"
    );
    ensure!(
        !str_at(&obj, "/metadata/uid").is_empty()
            && !str_at(&obj, "/metadata/creationTimestamp").is_empty(),
        "a server dry-run returns the object as it would be stored (uid, creationTimestamp): {obj:#}"
    );
    expect_error(
        &k,
        &["get", "cm", "dry1", "-n", &ns],
        "Error from server (NotFound): configmaps \"dry1\" not found",
    )?;

    let path = ctx.manifest(
        &format!("dry-{ns}.yaml"),
        &PROP_DEPLOY.replace("NAME", "dry-deploy").replace("NS", &ns),
    )?;
    let out = k.run(&["apply", "-f", &path.to_string_lossy(), "--dry-run=server"])?;
    ensure!(
        out.stdout
            .contains("deployment.apps/dry-deploy created (server dry run)"),
        "apply --dry-run=server printed {:?}",
        out.stdout
    );
    expect_error(
        &k,
        &["get", "deploy", "dry-deploy", "-n", &ns],
        "Error from server (NotFound): deployments.apps \"dry-deploy\" not found",
    )?;

    k.run(&[
        "create",
        "configmap",
        "dry-existing",
        "-n",
        &ns,
        "--from-literal=a=b",
    ])?;
    let out = k.run(&[
        "delete",
        "cm",
        "dry-existing",
        "-n",
        &ns,
        "--dry-run=server",
    ])?;
    ensure!(
        out.stdout
            .contains("configmap \"dry-existing\" deleted (server dry run)"),
        "delete --dry-run=server printed {:?}",
        out.stdout
    );
    k.run(&[
        "label",
        "cm",
        "dry-existing",
        "-n",
        &ns,
        "dry=yes",
        "--dry-run=server",
    ])?;
    let obj = k.json(&["get", "cm", "dry-existing", "-n", &ns])?;
    ensure!(
        obj.pointer("/metadata/labels/dry").is_none(),
        "a dry-run label was persisted: {:#}",
        obj["metadata"]
    );
    k.run(&["delete", "cm", "dry-existing", "-n", &ns])?;
    Ok(())
}

fn conflict(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = ns(version);
    k.run(&[
        "create",
        "configmap",
        "conflict1",
        "-n",
        &ns,
        "--from-literal=v=0",
    ])?;
    let mut stale = k.json(&["get", "cm", "conflict1", "-n", &ns])?;
    k.run(&[
        "patch",
        "cm",
        "conflict1",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"data":{"v":"1"}}"#,
    ])?;
    if let Some(data) = stale.get_mut("data") {
        data["v"] = Value::from("stale");
    }
    let path = ctx.manifest(&format!("conflict-{ns}.json"), &stale.to_string())?;
    expect_error(
        &k,
        &["replace", "-f", &path.to_string_lossy()],
        "Error from server (Conflict): error when replacing",
    )?;
    expect_error(
        &k,
        &["replace", "-f", &path.to_string_lossy()],
        "Operation cannot be fulfilled on configmaps \"conflict1\": the object has been modified; please apply your changes to the latest version and try again",
    )?;
    let obj = k.json(&["get", "cm", "conflict1", "-n", &ns])?;
    ensure!(str_at(&obj, "/data/v") == "1", "stale write won: {obj:#}");
    // With the current resourceVersion the same replace succeeds.
    let mut fresh = obj.clone();
    fresh["data"]["v"] = Value::from("2");
    let path = ctx.manifest(&format!("fresh-{ns}.json"), &fresh.to_string())?;
    k.run(&["replace", "-f", &path.to_string_lossy()])?;
    k.run(&["delete", "cm", "conflict1", "-n", &ns])?;
    Ok(())
}

fn auth_can_i(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    for args in [
        vec!["auth", "can-i", "create", "pods"],
        vec![
            "auth",
            "can-i",
            "delete",
            "deployments.apps",
            "-n",
            "kube-system",
        ],
        vec!["auth", "can-i", "*", "*"],
    ] {
        let out = k.run(&args)?;
        ensure!(
            out.stdout.trim() == "yes",
            "`kubectl {}` printed {:?}",
            args.join(" "),
            out.stdout
        );
    }
    // An unknown user has no RBAC grants: "no" and exit status 1.
    let out = k.run_expect_failure(&["auth", "can-i", "create", "pods", "--as=compat-nobody"])?;
    ensure!(
        out.stdout.trim() == "no",
        "can-i as an unprivileged user printed {:?} / {:?}",
        out.stdout,
        out.stderr
    );
    let list = k.run(&["auth", "can-i", "--list"])?.stdout;
    ensure_header(
        &list,
        &["Resources", "Non-Resource URLs", "Resource Names", "Verbs"],
        "auth can-i --list",
    )?;
    ensure!(list.contains("*.*"), "can-i --list lacks *.*:\n{list}");
    Ok(())
}

fn auth_whoami(ctx: &Ctx) -> Result<()> {
    let k = ctx.kubectl("1.33")?;
    let out = k.run(&["auth", "whoami"])?.stdout;
    ensure_header(&out, &["ATTRIBUTE", "VALUE"], "auth whoami")?;
    let row = |attr: &str| {
        out.lines()
            .find(|l| l.starts_with(attr))
            .unwrap_or("")
            .to_string()
    };
    ensure!(
        row("Username").contains("system:admin"),
        "whoami Username row: {:?}\n{out}",
        row("Username")
    );
    let groups = row("Groups");
    ensure!(
        groups.contains("system:masters") && groups.contains("system:authenticated"),
        "whoami Groups row: {groups:?}"
    );
    Ok(())
}

/// (resource, apiVersion, short names, namespaced, kind) rows of `kubectl api-resources`.
const API_RESOURCES: &[(&str, &str, &str, &str, &str)] = &[
    ("pods", "v1", "po", "true", "Pod"),
    ("services", "v1", "svc", "true", "Service"),
    ("configmaps", "v1", "cm", "true", "ConfigMap"),
    ("events", "v1", "ev", "true", "Event"),
    ("events", "events.k8s.io/v1", "ev", "true", "Event"),
    ("namespaces", "v1", "ns", "false", "Namespace"),
    ("nodes", "v1", "no", "false", "Node"),
    ("persistentvolumes", "v1", "pv", "false", "PersistentVolume"),
    (
        "persistentvolumeclaims",
        "v1",
        "pvc",
        "true",
        "PersistentVolumeClaim",
    ),
    ("serviceaccounts", "v1", "sa", "true", "ServiceAccount"),
    (
        "replicationcontrollers",
        "v1",
        "rc",
        "true",
        "ReplicationController",
    ),
    ("endpoints", "v1", "ep", "true", "Endpoints"),
    ("limitranges", "v1", "limits", "true", "LimitRange"),
    ("resourcequotas", "v1", "quota", "true", "ResourceQuota"),
    ("secrets", "v1", "", "true", "Secret"),
    ("deployments", "apps/v1", "deploy", "true", "Deployment"),
    ("replicasets", "apps/v1", "rs", "true", "ReplicaSet"),
    ("statefulsets", "apps/v1", "sts", "true", "StatefulSet"),
    ("daemonsets", "apps/v1", "ds", "true", "DaemonSet"),
    ("jobs", "batch/v1", "", "true", "Job"),
    ("cronjobs", "batch/v1", "cj", "true", "CronJob"),
    (
        "horizontalpodautoscalers",
        "autoscaling/v2",
        "hpa",
        "true",
        "HorizontalPodAutoscaler",
    ),
    (
        "ingresses",
        "networking.k8s.io/v1",
        "ing",
        "true",
        "Ingress",
    ),
    (
        "ingressclasses",
        "networking.k8s.io/v1",
        "",
        "false",
        "IngressClass",
    ),
    (
        "networkpolicies",
        "networking.k8s.io/v1",
        "netpol",
        "true",
        "NetworkPolicy",
    ),
    (
        "poddisruptionbudgets",
        "policy/v1",
        "pdb",
        "true",
        "PodDisruptionBudget",
    ),
    (
        "priorityclasses",
        "scheduling.k8s.io/v1",
        "pc",
        "false",
        "PriorityClass",
    ),
    (
        "storageclasses",
        "storage.k8s.io/v1",
        "sc",
        "false",
        "StorageClass",
    ),
    ("csidrivers", "storage.k8s.io/v1", "", "false", "CSIDriver"),
    (
        "customresourcedefinitions",
        "apiextensions.k8s.io/v1",
        "crd,crds",
        "false",
        "CustomResourceDefinition",
    ),
    (
        "certificatesigningrequests",
        "certificates.k8s.io/v1",
        "csr",
        "false",
        "CertificateSigningRequest",
    ),
    ("leases", "coordination.k8s.io/v1", "", "true", "Lease"),
    (
        "endpointslices",
        "discovery.k8s.io/v1",
        "",
        "true",
        "EndpointSlice",
    ),
    ("roles", "rbac.authorization.k8s.io/v1", "", "true", "Role"),
    (
        "clusterroles",
        "rbac.authorization.k8s.io/v1",
        "",
        "false",
        "ClusterRole",
    ),
    (
        "runtimeclasses",
        "node.k8s.io/v1",
        "",
        "false",
        "RuntimeClass",
    ),
    (
        "validatingwebhookconfigurations",
        "admissionregistration.k8s.io/v1",
        "",
        "false",
        "ValidatingWebhookConfiguration",
    ),
    (
        "mutatingwebhookconfigurations",
        "admissionregistration.k8s.io/v1",
        "",
        "false",
        "MutatingWebhookConfiguration",
    ),
    ("podtemplates", "v1", "", "true", "PodTemplate"),
];

/// Splits a fixed-width table row at the header's column starts.
fn columns_by_header(header: &str, row: &str) -> Vec<String> {
    let names = table_header(header);
    let mut starts: Vec<usize> = Vec::new();
    let mut from = 0;
    for n in &names {
        if let Some(pos) = header.get(from..).and_then(|h| h.find(n.as_str())) {
            starts.push(from + pos);
            from += pos + n.len();
        }
    }
    (0..starts.len())
        .map(|i| {
            let start = starts.get(i).copied().unwrap_or(0);
            let end = starts.get(i + 1).copied().unwrap_or(row.len());
            row.get(start.min(row.len())..end.min(row.len()))
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .collect()
}

fn api_resources(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let out = k.run(&["api-resources"])?.stdout;
    ensure_header(
        &out,
        &["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"],
        "api-resources",
    )?;
    let header = out.lines().next().unwrap_or("");
    let rows: Vec<Vec<String>> = out
        .lines()
        .skip(1)
        .map(|r| columns_by_header(header, r))
        .collect();
    let mut problems = Vec::new();
    for (name, api_version, short, namespaced, kind) in API_RESOURCES {
        let want = [*name, *short, *api_version, *namespaced, *kind];
        match rows.iter().find(|r| {
            r.first().map(String::as_str) == Some(name)
                && r.get(2).map(String::as_str) == Some(api_version)
        }) {
            Some(r) if r.iter().map(String::as_str).eq(want.iter().copied()) => {}
            Some(r) => problems.push(format!("row {r:?}, upstream {want:?}")),
            None => problems.push(format!("no row for {name} ({api_version})")),
        }
    }
    let versions = k.run(&["api-versions"])?.stdout;
    for gv in [
        "v1",
        "apps/v1",
        "batch/v1",
        "autoscaling/v1",
        "autoscaling/v2",
        "networking.k8s.io/v1",
        "policy/v1",
        "rbac.authorization.k8s.io/v1",
        "storage.k8s.io/v1",
        "discovery.k8s.io/v1",
        "events.k8s.io/v1",
        "coordination.k8s.io/v1",
        "scheduling.k8s.io/v1",
        "node.k8s.io/v1",
        "certificates.k8s.io/v1",
        "admissionregistration.k8s.io/v1",
        "apiextensions.k8s.io/v1",
        "authentication.k8s.io/v1",
        "authorization.k8s.io/v1",
    ] {
        if !versions.lines().any(|l| l.trim() == gv) {
            problems.push(format!("api-versions lacks {gv}"));
        }
    }
    let cluster_scoped = k
        .run(&["api-resources", "--namespaced=false", "-o", "name"])?
        .stdout;
    if !cluster_scoped.lines().any(|l| l == "nodes") || cluster_scoped.lines().any(|l| l == "pods")
    {
        problems.push(format!("--namespaced=false listed:\n{cluster_scoped}"));
    }
    let apps = k
        .run(&["api-resources", "--api-group=apps", "-o", "name"])?
        .stdout;
    let mut apps: Vec<&str> = apps.lines().collect();
    apps.sort();
    let want_apps = [
        "controllerrevisions.apps",
        "daemonsets.apps",
        "deployments.apps",
        "replicasets.apps",
        "statefulsets.apps",
    ];
    if apps != want_apps {
        problems.push(format!(
            "--api-group=apps: {apps:?}, upstream {want_apps:?}"
        ));
    }
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// `kubectl get all` lists the `all` category (pods, services, workloads) and nothing else.
fn get_all(ctx: &Ctx, version: &str) -> Result<()> {
    let k = ctx.kubectl(version)?;
    let ns = format!("compat-all-{}", sfx(version));
    k.run(&["create", "namespace", &ns])?;
    let rs = deployment_with_rs(ctx, &k, &ns, "all-deploy")?;
    k.run(&[
        "create",
        "service",
        "clusterip",
        "all-svc",
        "-n",
        &ns,
        "--tcp=80:8080",
    ])?;
    k.run(&["create", "configmap", "not-in-all", "-n", &ns])?;
    testkit::wait_for("a pod of all-deploy", CONVERGE_TIMEOUT, || {
        let list = k.json(&["get", "pods", "-n", &ns, "-l", "app=all-deploy"])?;
        anyhow::Ok((!items(&list).is_empty()).then_some(()))
    })?;
    let out = k.run(&["get", "all", "-n", &ns])?.stdout;
    let mut problems = Vec::new();
    for want in [
        "pod/all-deploy-".to_string(),
        "service/all-svc".into(),
        "deployment.apps/all-deploy".into(),
        format!("replicaset.apps/{rs}"),
    ] {
        if !out.contains(&want) {
            problems.push(format!("missing {want:?}"));
        }
    }
    let service_header = [
        "NAME",
        "TYPE",
        "CLUSTER-IP",
        "EXTERNAL-IP",
        "PORT(S)",
        "AGE",
    ];
    if !out.lines().any(|l| table_header(l) == service_header) {
        problems.push(format!("no Service section with header {service_header:?}"));
    }
    if out.contains("configmap/") {
        problems.push("configmaps are not in the `all` category".into());
    }
    let names = k.run(&["get", "all", "-n", &ns, "-o", "name"])?.stdout;
    ensure!(
        problems.is_empty(),
        "{}\n--- get all ---\n{out}\n--- -o name ---\n{names}",
        problems.join("\n")
    );
    k.run(&["delete", "namespace", &ns, "--wait=false"])?;
    Ok(())
}
