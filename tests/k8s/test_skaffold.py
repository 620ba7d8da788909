"""skaffold.yaml parses, uses a v4beta schema, and everything it names exists:
the Dockerfile and build context, the kustomize directory, the charts, the
values it sets, and the parts of the default pipeline the helm profile removes.
(There is no skaffold here to run it; these are the mistakes it would report.)"""

from __future__ import annotations

import re

import pytest


@pytest.fixture(scope="module")
def skaffold(bundle):
    (config,) = bundle.skaffold
    return config


def _get(values, dotted):
    for part in dotted.split("."):
        assert isinstance(values, dict) and part in values, f"no value {dotted}"
        values = values[part]
    return values


def test_schema_version_and_kind(skaffold):
    assert re.fullmatch(r"skaffold/v4beta\d+", skaffold["apiVersion"])
    assert skaffold["kind"] == "Config"
    assert skaffold["metadata"]["name"] == "invoicer"


def test_builds_the_image_the_workloads_run(skaffold, bundle, k8s):
    (artifact,) = skaffold["build"]["artifacts"]
    context = k8s.root / artifact.get("context", ".")
    assert context.is_dir()
    assert (context / artifact["docker"]["dockerfile"]).is_file()
    # Skaffold swaps its build into every image reference with this name.
    image = artifact["image"]
    assert bundle.charts["invoicer"]["values"]["image"]["repository"] == image
    for obj in bundle.workloads(bundle.manifest_objects()):
        for container in bundle.containers(obj):
            if obj["metadata"]["labels"]["app.kubernetes.io/name"] == "invoicer":
                assert container["image"].split(":")[0] == image


def test_default_pipeline_deploys_manifests_with_kustomize(skaffold, k8s):
    paths = skaffold["manifests"]["kustomize"]["paths"]
    assert paths == ["manifests"]
    for path in paths:
        assert (k8s.root / path / "kustomization.yaml").is_file()
    assert "kubectl" in skaffold["deploy"]


def test_helm_profile_deploys_the_charts(skaffold, bundle, k8s):
    (profile,) = [p for p in skaffold["profiles"] if p["name"] == "helm"]
    # The JSON patches remove parts that the default pipeline really has.
    for patch in profile.get("patches", []):
        assert patch.get("op") == "remove"
        node = skaffold
        for part in patch["path"].strip("/").split("/"):
            assert part in node, f"patch {patch['path']} removes nothing"
            node = node[part]
    releases = profile["deploy"]["helm"]["releases"]
    by_name = {release["name"]: release for release in releases}
    # The development charts first, under the names the app's defaults expect.
    assert [r["name"] for r in releases] == [k8s.infra[c]["release"] for c in ("postgresql", "mongodb", "rabbitmq")] + [
        "invoicer"
    ]
    for release in releases:
        chart = k8s.root / release["chartPath"]
        assert (chart / "Chart.yaml").is_file(), release["chartPath"]
        assert release["namespace"] == k8s.namespace
        for values_file in release.get("valuesFiles", []):
            assert (k8s.root / values_file).is_file()
    app = by_name["invoicer"]
    values = bundle.charts["invoicer"]["values"]
    assert set(app["setValueTemplates"]) == {"image.repository", "image.tag"}
    assert "IMAGE_REPO_invoicer" in app["setValueTemplates"]["image.repository"]
    assert "IMAGE_TAG_invoicer" in app["setValueTemplates"]["image.tag"]
    for key in list(app["setValueTemplates"]) + list(app.get("setValues", {})):
        _get(values, key)
