"""Write paths with the official Kubernetes Python client: custom resources through
CustomObjectsApi (CRD created with ApiextensionsV1Api) and server-side apply with a conflict.

Driven by crates/testkit/tests/compat.rs (see test_compat.py for the environment). Works in
its own namespace (`<COMPAT_NAMESPACE>-wp`) and API group, created and deleted here.
"""

import os
import time

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

NS = os.environ.get("COMPAT_NAMESPACE", "compat-py") + "-wp"
TIMEOUT = float(os.environ.get("COMPAT_TIMEOUT", "30"))
GROUP = "pycompat.example.com"
PLURAL = "sprockets"
CRD_NAME = f"{PLURAL}.{GROUP}"
APPLY = "application/apply-patch+yaml"


def wait_until(what, check, timeout=TIMEOUT):
    """Polls check() until it returns a truthy value; fails with the last value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except ApiException as e:  # not served yet, or still settling
            last = e
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what} (last: {last!r})")


def sprocket_crd():
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": PLURAL, "singular": "sprocket", "kind": "Sprocket"},
            "versions": [{
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {"spec": {
                        "type": "object",
                        "properties": {
                            "teeth": {"type": "integer"},
                            "color": {"type": "string", "default": "grey"},
                        },
                    }},
                }},
            }],
        },
    }


@pytest.fixture(scope="module", autouse=True)
def write_paths_env():
    config.load_kube_config(config_file=os.environ["KUBECONFIG"])
    core = client.CoreV1Api()
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NS)))
    ext = client.ApiextensionsV1Api()
    ext.create_custom_resource_definition(sprocket_crd())

    def established():
        crd = ext.read_custom_resource_definition(CRD_NAME)
        return any(c.type == "Established" and c.status == "True"
                   for c in (crd.status.conditions or []))
    wait_until("the CRD to be Established", established)
    yield
    ext.delete_custom_resource_definition(CRD_NAME)
    core.delete_namespace(NS)


def test_custom_objects_crud():
    co = client.CustomObjectsApi()
    body = {"apiVersion": f"{GROUP}/v1", "kind": "Sprocket",
            "metadata": {"name": "s1", "labels": {"py": "yes"}},
            "spec": {"teeth": 12}}
    created = wait_until(
        "the Sprocket kind to be served",
        lambda: co.create_namespaced_custom_object(GROUP, "v1", NS, PLURAL, body))
    assert created["metadata"]["uid"] and created["metadata"]["resourceVersion"]
    # The schema default is applied on create.
    assert created["spec"] == {"teeth": 12, "color": "grey"}

    got = co.get_namespaced_custom_object(GROUP, "v1", NS, PLURAL, "s1")
    assert got["kind"] == "Sprocket" and got["spec"]["teeth"] == 12

    listed = co.list_namespaced_custom_object(GROUP, "v1", NS, PLURAL, label_selector="py=yes")
    assert listed["kind"] == "SprocketList"
    assert [o["metadata"]["name"] for o in listed["items"]] == ["s1"]

    patched = co.patch_namespaced_custom_object(
        GROUP, "v1", NS, PLURAL, "s1", {"spec": {"teeth": 14, "color": None}},
        _content_type="application/merge-patch+json")
    # The merge patch removed color; defaulting puts it back.
    assert patched["spec"] == {"teeth": 14, "color": "grey"}
    assert patched["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]

    co.delete_namespaced_custom_object(GROUP, "v1", NS, PLURAL, "s1")

    def gone():
        try:
            co.get_namespaced_custom_object(GROUP, "v1", NS, PLURAL, "s1")
            return False
        except ApiException as e:
            return e.status == 404
    wait_until("the Sprocket to be deleted", gone)


def applied_deployment(name, replicas):
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [
                    {"name": "app", "image": "docker.io/k8rs/demo:0.1.0"}]},
            },
        },
    }


def appliers(obj):
    """Managers of Apply operations (controllers' status updates come and go)."""
    return sorted(m.manager for m in (obj.metadata.managed_fields or [])
                  if m.operation == "Apply")


def test_server_side_apply_conflict():
    apps = client.AppsV1Api()
    name = "py-ssa"
    created = apps.patch_namespaced_deployment(
        name, NS, applied_deployment(name, 1), field_manager="py-a", _content_type=APPLY)
    assert created.spec.replicas == 1
    assert created.spec.strategy.type == "RollingUpdate"  # defaulted
    assert appliers(created) == ["py-a"]

    # Re-applying the same configuration changes nothing (the controller may still write
    # status, so compare the spec's generation rather than resourceVersion).
    again = apps.patch_namespaced_deployment(
        name, NS, applied_deployment(name, 1), field_manager="py-a", _content_type=APPLY)
    assert again.metadata.generation == created.metadata.generation

    with pytest.raises(ApiException) as exc:
        apps.patch_namespaced_deployment(
            name, NS, applied_deployment(name, 3), field_manager="py-b", _content_type=APPLY)
    assert exc.value.status == 409
    body = exc.value.body
    assert '"reason":"Conflict"' in body.replace(" ", "")
    assert 'conflict with \\"py-a\\"' in body and ".spec.replicas" in body
    assert apps.read_namespaced_deployment(name, NS).spec.replicas == 1

    forced = apps.patch_namespaced_deployment(
        name, NS, applied_deployment(name, 3), field_manager="py-b", force=True,
        _content_type=APPLY)
    assert forced.spec.replicas == 3
    assert forced.metadata.generation == created.metadata.generation + 1
    assert appliers(forced) == ["py-a", "py-b"]
    apps.delete_namespaced_deployment(name, NS)
