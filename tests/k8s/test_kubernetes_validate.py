"""Every rendered object, every file in manifests/ and what `kubectl apply -k
manifests/` would send, validated by kubernetes-validate --strict against the
Kubernetes 1.30 API schemas (unknown fields are errors)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

# Custom resources with no schema in kubernetes-validate: KEDA's, checked below by hand.
CUSTOM_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("keda.sh/v1alpha1", "TriggerAuthentication"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}


def _documents(bundle, path: str) -> list[dict]:
    """The objects of one validated file, as the bundle parsed them."""
    for results in bundle.renders.values():
        for result in results.values():
            if path in result["files"]:
                name = Path(path).name.replace("__", "/")
                return [item["object"] for item in result["objects"] if item["template"] == name]
    if Path(path).parent.name == "manifests":
        return bundle.manifests[Path(path).name]
    return bundle.kustomize["objects"]


def test_no_object_fails_validation(validation):
    errors = validation.for_level("ERROR") + validation.for_level("FATAL")
    assert errors == [], "\n".join(f"{path}: {text}" for path, text in errors)
    assert validation.returncode == 0


def test_every_object_was_validated(validation, bundle):
    """Each object got its own "passed" line: none was skipped for want of a
    schema, except KEDA's custom resources."""
    passed = Counter(path for path, text in validation.for_level("INFO") if "passed for resource" in text)
    warned = Counter(path for path, _ in validation.for_level("WARN"))
    assert len(validation.files) > 40
    for path in validation.files:
        documents = _documents(bundle, path)
        custom = sum((doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS for doc in documents)
        assert documents, f"{path} holds no object"
        assert passed[path] == len(documents) - custom, f"{path}: {passed[path]} of {len(documents)} validated"
        assert warned[path] == custom, f"{path}: unexpected warnings"
    # Kubernetes 1.30 it was.
    assert all("against version 1.30" in text for _, text in validation.for_level("INFO") if "passed" in text)


def test_keda_objects_have_the_fields_keda_requires(bundle):
    """No schema for them here, so the few fields KEDA's CRDs require are checked directly."""
    seen = 0
    for case in bundle.renders:
        if not bundle.renders[case].get("invoicer", {}).get("ok"):
            continue
        for obj in bundle.objects(case, "invoicer"):
            if (obj["apiVersion"], obj["kind"]) == ("keda.sh/v1alpha1", "ScaledObject"):
                seen += 1
                spec = obj["spec"]
                assert spec["scaleTargetRef"]["name"]
                assert 0 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
                for trigger in spec["triggers"]:
                    assert trigger["type"] and isinstance(trigger["metadata"], dict)
                    assert all(isinstance(v, str) for v in trigger["metadata"].values()), (
                        "trigger metadata values must be strings"
                    )
            elif (obj["apiVersion"], obj["kind"]) == ("keda.sh/v1alpha1", "TriggerAuthentication"):
                for ref in obj["spec"]["secretTargetRef"]:
                    assert set(ref) == {"parameter", "name", "key"}
    assert seen >= 3


def test_kustomize_builds_what_the_manifests_say(bundle):
    """`kubectl kustomize manifests/` (what `kubectl apply -k` applies) builds,
    and yields exactly the objects of the files, all in the invoicer namespace."""
    assert bundle.kustomize["ok"], bundle.kustomize["error"]
    built = {(o["kind"], o["metadata"]["name"]): o for o in bundle.kustomize["objects"]}
    files = {(o["kind"], o["metadata"]["name"]): o for o in bundle.manifest_objects() if o["kind"] != "Kustomization"}
    assert set(built) == set(files)
    for key, obj in built.items():
        if key[0] != "Namespace":
            assert obj["metadata"]["namespace"] == "invoicer", key
    listed = set(bundle.manifests["kustomization.yaml"][0]["resources"])
    on_disk = {name for name in bundle.manifests if name != "kustomization.yaml"}
    assert listed == on_disk, "every file in manifests/ is deployed by the kustomization, and only those"
