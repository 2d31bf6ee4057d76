"""API compatibility checks with the official Kubernetes Python client.

Driven by crates/testkit/tests/compat.rs against a running k8rs server:
  KUBECONFIG        admin kubeconfig of the server
  COMPAT_NAMESPACE  namespace to work in (created here, deleted at the end)
  COMPAT_OLD_RV     a resourceVersion old enough to be compacted (for the 410 check)
Run alone: KUBECONFIG=... COMPAT_NAMESPACE=compat-py COMPAT_OLD_RV=1 pytest tests/compat/python
"""

import os
import time

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

NS = os.environ.get("COMPAT_NAMESPACE", "compat-py")
# Bounds set by the harness (crates/testkit/tests/compat/python.rs): one controller wait,
# and how long the start-up resourceVersion may take to be compacted.
TIMEOUT = float(os.environ.get("COMPAT_TIMEOUT", "30"))
TIMEOUT_410 = float(os.environ.get("COMPAT_410_TIMEOUT", "90"))


def wait_until(what, check, timeout=TIMEOUT):
    """Polls check() until it returns a truthy value; fails with the last value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except ApiException as e:  # the cluster may still be settling
            last = e
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what} (last: {last!r})")


@pytest.fixture(scope="session", autouse=True)
def api_client():
    config.load_kube_config(config_file=os.environ["KUBECONFIG"])
    core = client.CoreV1Api()
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NS)))
    yield
    core.delete_namespace(NS)


def cm(name, labels=None, data=None):
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels=labels or {}),
        data=data or {"k": "v"})


def deployment(name, replicas=1):
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    termination_grace_period_seconds=0,
                    containers=[client.V1Container(
                        name="app", image="docker.io/k8rs/demo:0.1.0")]))))


def owned_replicasets(apps, name):
    rss = apps.list_namespaced_replica_set(NS, label_selector=f"app={name}").items
    return [rs for rs in rss
            if any(r.kind == "Deployment" and r.name == name
                   for r in (rs.metadata.owner_references or []))]


def test_crud_configmap():
    core = client.CoreV1Api()
    created = core.create_namespaced_config_map(NS, cm("py-cm", {"app": "py"}, {"a": "1"}))
    assert created.metadata.uid and created.metadata.resource_version
    got = core.read_namespaced_config_map("py-cm", NS)
    assert got.data == {"a": "1"}
    got.data["b"] = "2"
    replaced = core.replace_namespaced_config_map("py-cm", NS, got)
    assert replaced.data == {"a": "1", "b": "2"}
    assert replaced.metadata.resource_version != created.metadata.resource_version
    patched = core.patch_namespaced_config_map("py-cm", NS, {"data": {"c": "3"}})
    assert patched.data == {"a": "1", "b": "2", "c": "3"}
    core.delete_namespaced_config_map("py-cm", NS)
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_config_map("py-cm", NS)
    assert exc.value.status == 404
    assert '"reason":"NotFound"' in exc.value.body.replace(" ", "")


def test_crud_secret_service_deployment():
    core, apps = client.CoreV1Api(), client.AppsV1Api()
    s = core.create_namespaced_secret(NS, client.V1Secret(
        metadata=client.V1ObjectMeta(name="py-secret"), string_data={"pw": "x"}))
    assert s.data == {"pw": "eA=="} and s.type == "Opaque"
    svc = core.create_namespaced_service(NS, client.V1Service(
        metadata=client.V1ObjectMeta(name="py-svc"),
        spec=client.V1ServiceSpec(selector={"app": "py"},
                                  ports=[client.V1ServicePort(port=80, target_port=8080)])))
    assert svc.spec.cluster_ip and svc.spec.cluster_ip.startswith("10.43.")
    assert svc.spec.type == "ClusterIP"
    d = apps.create_namespaced_deployment(NS, deployment("py-deploy"))
    assert d.spec.strategy.type == "RollingUpdate"  # defaulted
    scaled = apps.patch_namespaced_deployment_scale("py-deploy", NS, {"spec": {"replicas": 2}})
    assert scaled.spec.replicas == 2
    assert apps.read_namespaced_deployment("py-deploy", NS).spec.replicas == 2
    for delete in (lambda: core.delete_namespaced_secret("py-secret", NS),
                   lambda: core.delete_namespaced_service("py-svc", NS),
                   lambda: apps.delete_namespaced_deployment("py-deploy", NS)):
        delete()


def test_list_limit_continue():
    core = client.CoreV1Api()
    for i in range(7):
        core.create_namespaced_config_map(NS, cm(f"py-page-{i}", {"py-page": "yes"}))
    names, token, pages = [], None, 0
    while True:
        kwargs = {"label_selector": "py-page=yes", "limit": 3}
        if token:
            kwargs["_continue"] = token
        page = core.list_namespaced_config_map(NS, **kwargs)
        pages += 1
        assert len(page.items) <= 3
        names += [o.metadata.name for o in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert pages < 10
    assert pages == 3
    assert sorted(names) == sorted(f"py-page-{i}" for i in range(7))
    core.delete_collection_namespaced_config_map(NS, label_selector="py-page=yes")
    assert core.list_namespaced_config_map(NS, label_selector="py-page=yes").items == []


def test_watch_from_resource_version():
    core = client.CoreV1Api()
    core.create_namespaced_config_map(NS, cm("py-w-before", {"py-watch": "yes"}))
    rv = core.list_namespaced_config_map(NS, label_selector="py-watch=yes").metadata.resource_version
    core.create_namespaced_config_map(NS, cm("py-w-after", {"py-watch": "yes"}))
    core.patch_namespaced_config_map("py-w-after", NS, {"data": {"k": "v2"}})
    core.delete_namespaced_config_map("py-w-after", NS)
    events = []
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_config_map, NS, label_selector="py-watch=yes",
                       resource_version=rv, timeout_seconds=10):
        events.append((ev["type"], ev["object"].metadata.name))
        if ev["type"] == "DELETED":
            w.stop()
    # Changes after rv only, in order; the object listed before rv is not replayed.
    assert events == [("ADDED", "py-w-after"), ("MODIFIED", "py-w-after"),
                      ("DELETED", "py-w-after")]
    core.delete_namespaced_config_map("py-w-before", NS)


def test_watch_without_resource_version_sends_initial_state():
    core = client.CoreV1Api()
    core.create_namespaced_config_map(NS, cm("py-w-init", {"py-init": "yes"}))
    w = watch.Watch()
    first = None
    for ev in w.stream(core.list_namespaced_config_map, NS, label_selector="py-init=yes",
                       timeout_seconds=10):
        first = (ev["type"], ev["object"].metadata.name)
        w.stop()
    assert first == ("ADDED", "py-w-init")
    core.delete_namespaced_config_map("py-w-init", NS)


def test_watch_expired_resource_version_410_then_relist():
    core = client.CoreV1Api()
    old_rv = os.environ.get("COMPAT_OLD_RV", "1")

    def expired():
        # Either the request fails with 410 or the stream carries an ERROR event whose
        # Status has code 410 (the Python client raises ApiException(410) for it).
        try:
            for ev in watch.Watch().stream(core.list_namespaced_config_map, NS,
                                           resource_version=old_rv, timeout_seconds=5):
                if ev["type"] == "ERROR":
                    return ev["raw_object"].get("code") == 410
            return False
        except ApiException as e:
            return e.status == 410

    wait_until(f"a watch from resourceVersion {old_rv} to be answered with 410 Gone",
               expired, timeout=TIMEOUT_410)
    # The client's recovery: relist, then watch from the new list's resourceVersion.
    rv = core.list_namespaced_config_map(NS).metadata.resource_version
    core.create_namespaced_config_map(NS, cm("py-relist"))
    w = watch.Watch()
    seen = None
    for ev in w.stream(core.list_namespaced_config_map, NS, resource_version=rv,
                       timeout_seconds=10):
        seen = (ev["type"], ev["object"].metadata.name)
        w.stop()
    assert seen == ("ADDED", "py-relist")
    core.delete_namespaced_config_map("py-relist", NS)


def test_label_and_field_selectors():
    core = client.CoreV1Api()
    for name, labels in [("py-sel-1", {"app": "pysel", "env": "a", "tier": "web"}),
                         ("py-sel-2", {"app": "pysel", "env": "b"}),
                         ("py-sel-3", {"app": "pysel", "env": "c"})]:
        core.create_namespaced_config_map(NS, cm(name, labels))

    def names(**kw):
        return sorted(o.metadata.name for o in core.list_namespaced_config_map(NS, **kw).items)

    assert names(label_selector="app=pysel,env in (a,b)") == ["py-sel-1", "py-sel-2"]
    assert names(label_selector="app=pysel,!tier") == ["py-sel-2", "py-sel-3"]
    assert names(label_selector="app=pysel", field_selector="metadata.name=py-sel-3") == ["py-sel-3"]
    core.create_namespaced_pod(NS, client.V1Pod(
        metadata=client.V1ObjectMeta(name="py-pod"),
        spec=client.V1PodSpec(containers=[client.V1Container(
            name="app", image="docker.io/k8rs/demo:0.1.0")])))
    pending = core.list_namespaced_pod(NS, field_selector="status.phase=Pending").items
    assert "py-pod" in [p.metadata.name for p in pending]
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_pod(NS, field_selector="spec.nope=x")
    assert exc.value.status == 400
    assert "field label not supported: spec.nope" in exc.value.body
    core.delete_namespaced_pod("py-pod", NS, grace_period_seconds=0)
    core.delete_collection_namespaced_config_map(NS, label_selector="app=pysel")


def test_delete_propagation_orphan():
    apps = client.AppsV1Api()
    apps.create_namespaced_deployment(NS, deployment("py-orphan"))
    rs = wait_until("the ReplicaSet of py-orphan", lambda: owned_replicasets(apps, "py-orphan"))[0]
    apps.delete_namespaced_deployment("py-orphan", NS, propagation_policy="Orphan")
    wait_until("py-orphan's ReplicaSet to be orphaned",
               lambda: not apps.read_namespaced_replica_set(rs.metadata.name, NS)
               .metadata.owner_references)
    apps.delete_namespaced_replica_set(rs.metadata.name, NS, propagation_policy="Background")


def test_delete_propagation_foreground():
    apps = client.AppsV1Api()
    apps.create_namespaced_deployment(NS, deployment("py-fg"))
    rs = wait_until("the ReplicaSet of py-fg", lambda: owned_replicasets(apps, "py-fg"))[0]
    apps.patch_namespaced_replica_set(rs.metadata.name, NS,
                                      {"metadata": {"finalizers": ["compat.example.com/hold"]}})
    apps.delete_namespaced_deployment("py-fg", NS, propagation_policy="Foreground")
    try:
        d = apps.read_namespaced_deployment("py-fg", NS)
        assert d.metadata.deletion_timestamp is not None
        assert "foregroundDeletion" in (d.metadata.finalizers or [])
    finally:
        apps.patch_namespaced_replica_set(rs.metadata.name, NS, {"metadata": {"finalizers": None}})

    def gone():
        try:
            apps.read_namespaced_deployment("py-fg", NS)
            return False
        except ApiException as e:
            return e.status == 404
    wait_until("py-fg to be deleted after its dependents", gone)


def test_delete_propagation_background():
    apps = client.AppsV1Api()
    apps.create_namespaced_deployment(NS, deployment("py-bg"))
    wait_until("the ReplicaSet of py-bg", lambda: owned_replicasets(apps, "py-bg"))
    apps.delete_namespaced_deployment("py-bg", NS, propagation_policy="Background")
    wait_until("py-bg's ReplicaSet to be collected",
               lambda: owned_replicasets(apps, "py-bg") == [] and
               apps.list_namespaced_replica_set(NS, label_selector="app=py-bg").items == [])


def test_dry_run_all():
    core, apps = client.CoreV1Api(), client.AppsV1Api()
    obj = core.create_namespaced_config_map(NS, cm("py-dry"), dry_run="All")
    assert obj.metadata.name == "py-dry" and obj.metadata.uid
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_config_map("py-dry", NS)
    assert exc.value.status == 404
    d = apps.create_namespaced_deployment(NS, deployment("py-dry-deploy"), dry_run="All")
    assert d.spec.strategy.type == "RollingUpdate"  # defaults applied in a dry run
    assert apps.list_namespaced_deployment(NS, field_selector="metadata.name=py-dry-deploy").items == []
    core.create_namespaced_config_map(NS, cm("py-dry-keep"))
    core.delete_namespaced_config_map("py-dry-keep", NS, dry_run="All")
    assert core.read_namespaced_config_map("py-dry-keep", NS).metadata.name == "py-dry-keep"
    core.patch_namespaced_config_map("py-dry-keep", NS, {"data": {"k": "changed"}}, dry_run="All")
    assert core.read_namespaced_config_map("py-dry-keep", NS).data == {"k": "v"}
    core.delete_namespaced_config_map("py-dry-keep", NS)


def test_conflict_on_stale_resource_version():
    core = client.CoreV1Api()
    core.create_namespaced_config_map(NS, cm("py-conflict"))
    stale = core.read_namespaced_config_map("py-conflict", NS)
    core.patch_namespaced_config_map("py-conflict", NS, {"data": {"k": "new"}})
    stale.data = {"k": "stale"}
    with pytest.raises(ApiException) as exc:
        core.replace_namespaced_config_map("py-conflict", NS, stale)
    assert exc.value.status == 409
    assert ('Operation cannot be fulfilled on configmaps \\"py-conflict\\": the object has been '
            'modified; please apply your changes to the latest version and try again'
            in exc.value.body)
    core.delete_namespaced_config_map("py-conflict", NS)
