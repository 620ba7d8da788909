"""The README's "Deploy on Kubernetes" section says only things that are true of the charts and
manifests: the values it sets exist, the paths and names it uses are there,
and the values file it shows renders (it is one of the rendered cases)."""

from __future__ import annotations

import re


def _has_value(values: dict, dotted: str) -> bool:
    for part in dotted.split("."):
        if not isinstance(values, dict) or part not in values:
            return False
        values = values[part]
    return True


def _commands(doc: str) -> list[str]:
    """Shell commands of the ```sh blocks, continuation lines joined."""
    blocks = re.findall(r"```sh\n(.*?)```", doc, re.DOTALL)
    return [line.strip() for block in blocks for line in re.sub(r"\\\n\s*", " ", block).splitlines() if line.strip()]


def test_the_section_is_there(k8s):
    assert k8s.doc.startswith("## Deploy on Kubernetes\n"), f"{k8s.doc_path} lacks the section"
    for must in (
        "docker build",
        "helm install",
        "kubectl apply -k manifests/",
        "port-forward",
        "skaffold dev",
        "/register",
        "/login",
        "/upload",
        "/download",
    ):
        assert must in k8s.doc, must


def test_helm_commands_use_real_charts_release_names_and_values(k8s, bundle):
    installs = [c for c in _commands(k8s.doc) if c.startswith(("helm install", "helm upgrade"))]
    assert len(installs) >= 5
    releases = {}
    for command in installs:
        release, chart_path = re.search(r"helm (?:install|upgrade) (\S+)\s+(\S+)", command).groups()
        chart = chart_path.removeprefix("helm_charts/")
        assert (k8s.root / chart_path / "Chart.yaml").is_file(), chart_path
        releases[chart] = release
        for key in re.findall(r"--set(?:-string)? ([\w.]+)=", command):
            assert _has_value(bundle.charts[chart]["values"], key), f"{chart} has no value {key}"
    # The release names under which the app finds the databases by default.
    for chart, spec in k8s.infra.items():
        assert releases[chart] == spec["release"]


def test_the_values_table_names_real_values(k8s, bundle, components):
    values = bundle.charts["invoicer"]["values"]
    table = re.search(r"### The values that matter\n(.*?)\n###", k8s.doc, re.DOTALL).group(1)
    names = re.findall(r"^\| (.+?) \|", table, re.MULTILINE)
    checked = 0
    for cell in names:
        for name in re.findall(r"`([^`]+)`", cell):
            for expanded in [name.replace("<component>", c) for c in components] if "<component>" in name else [name]:
                path = expanded.removesuffix(".*")
                assert _has_value(values, path), f"the table names {name}, which is not a value"
                checked += 1
    assert checked > 20


def test_names_it_uses_exist(k8s, bundle):
    objects = bundle.objects("default")
    for kind, name in re.findall(r"port-forward (service|deploy)/([\w-]+)", k8s.doc) + re.findall(
        r"logs (deploy)/([\w-]+)", k8s.doc
    ):
        kind = {"service": "Service", "deploy": "Deployment"}[kind]
        assert bundle.find(objects, kind, name), f"{kind} {name}"
        assert bundle.find(bundle.manifest_objects(), kind, name), f"{kind} {name} (manifests)"
    for path in set(re.findall(r"\b((?:helm_charts|manifests)/[\w./-]*\w)", k8s.doc)):
        assert (k8s.root / path).exists(), path


def test_the_external_values_example_deploys(k8s, bundle):
    assert k8s.docs_external_values, "the documentation shows no external-values.yaml"
    objects = bundle.objects("docs-external", "invoicer")
    (container,) = bundle.containers(bundle.one(objects, "Deployment", "invoicer-gateway"))
    env = {e["name"]: e for e in container["env"]}
    assert env["DATABASE_URL"]["value"].startswith("postgresql://invoicer:$(DATABASE_PASSWORD)@mydb.")
    assert env["MONGODB_URI"]["valueFrom"]["secretKeyRef"] == {"name": "invoicer-db", "key": "mongodb-uri"}
    assert env["AMQP_URL"]["value"].startswith("amqps://")
