"""Render, lint and parse everything the Kubernetes tests look at, in one go.

Runs inside the tools virtualenv (.venv-k8s, see requirements-k8s-tools.txt),
which has helm-python-sdk and PyYAML; the tests themselves run in the
project's .venv and only read the JSON this writes:

    python k8s_bundle.py ROOT CASES.json OUT

CASES.json is ``{case: {chart: {"release": str, "values": {...}}}}`` (or
``"values_yaml"``: the text of a values file; ``"chart_path"``: render that
chart directory instead of helm_charts/<chart>). For each
case and chart it renders the chart offline (``helm template``'s work: no
cluster, ``lookup`` finds nothing) and, unless the case is expected to fail,
lints it strictly for Kubernetes 1.30. Rendered templates are written to
``OUT/rendered/<case>/<chart>/<template path with / as __>`` for the CLI
checkers (kubernetes-validate, checkov); ``OUT/bundle.json`` holds:

    charts:    {chart: {metadata, values, schema}}
    renders:   {case: {chart: {ok, error, objects: [...], notes, files: [...]}}}
               (and chart_values: the defaults of a chart_path chart)
    lint:      {case: {chart: report}}      (helm lint --strict --kube-version 1.30)
    manifests: {file name: [objects]}        (manifests/*.yaml)
    kustomize: {ok, error, objects}          (kubectl kustomize manifests/)
    skaffold:  [documents of skaffold.yaml]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import helm_python as helm
import yaml

NAMESPACE = "invoicer"
KUBE_VERSION = "v1.30.0"


def _documents(text: str) -> list:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def render_case(root: Path, out: Path, case: str, charts: dict) -> tuple[dict, dict]:
    renders: dict = {}
    lints: dict = {}
    for chart_name, spec in charts.items():
        # "chart_path": a changed copy of the chart instead of the one in helm_charts/.
        chart_dir = Path(spec["chart_path"]) if spec.get("chart_path") else root / "helm_charts" / chart_name
        values = spec.get("values") or None
        if spec.get("values_yaml"):  # a values file, as `helm install -f` reads it
            values = yaml.safe_load(spec["values_yaml"])
        result: dict = {"ok": False, "error": None, "objects": [], "notes": "", "files": []}
        try:
            with helm.Chart.load(chart_dir) as chart:
                rendered = chart.render(values, name=spec["release"], namespace=NAMESPACE, is_install=True)
                if spec.get("chart_path"):
                    result["chart_values"] = chart.values
        except helm.HelmError as exc:
            result["error"] = f"{type(exc).__name__}: {exc}"
            renders[chart_name] = result
            continue
        target = out / "rendered" / case / chart_name
        target.mkdir(parents=True, exist_ok=True)
        for template, text in sorted(rendered.items()):
            if template.endswith("NOTES.txt"):
                result["notes"] = text
                continue
            docs = _documents(text)
            if not docs:
                continue
            path = target / template.replace("/", "__")
            path.write_text(text)
            result["files"].append(str(path))
            result["objects"] += [{"template": template, "object": doc} for doc in docs]
        result["ok"] = True
        renders[chart_name] = result
        if not spec.get("expect_error"):
            lints[chart_name] = helm.lint(
                chart_dir, values, strict=True, namespace=NAMESPACE, kube_version=KUBE_VERSION
            )
    return renders, lints


def main() -> int:
    root, cases_file, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    cases = json.loads(cases_file.read_text())
    bundle: dict = {"charts": {}, "renders": {}, "lint": {}, "manifests": {}, "kustomize": {}, "skaffold": []}

    for chart_dir in sorted((root / "helm_charts").iterdir()):
        if not (chart_dir / "Chart.yaml").exists():
            continue
        with helm.Chart.load(chart_dir) as chart:
            bundle["charts"][chart_dir.name] = {
                "metadata": chart.metadata,
                "values": chart.values,
                "schema": chart.schema,
            }

    for case, charts in cases.items():
        bundle["renders"][case], bundle["lint"][case] = render_case(root, out, case, charts)

    manifests = root / "manifests"
    for path in sorted(manifests.glob("*.yaml")):
        bundle["manifests"][path.name] = _documents(path.read_text())

    kubectl = Path(sys.executable).parent / "kubectl"
    built = subprocess.run(
        [str(kubectl), "kustomize", str(manifests)],
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": os.devnull},
        check=False,
    )
    bundle["kustomize"] = {
        "ok": built.returncode == 0,
        "error": built.stderr,
        "objects": _documents(built.stdout) if built.returncode == 0 else [],
    }
    if built.returncode == 0:
        (out / "kustomize.yaml").write_text(built.stdout)

    skaffold = root / "skaffold.yaml"
    if skaffold.exists():
        bundle["skaffold"] = _documents(skaffold.read_text())

    (out / "bundle.json").write_text(json.dumps(bundle, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
