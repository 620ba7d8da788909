"""manifests/ is what `make manifests` (tools/render_manifests.py) makes of
the Helm charts' defaults now: regenerating it changes no byte. And what that
generation promises: the same objects as the charts, the same workloads down
to each container's command, environment variable names, ports, probes,
resources and security settings."""

from __future__ import annotations

import subprocess

# In the chart only: the `helm test` pod and its NetworkPolicy. In manifests/
# only: the Namespace (Helm installs into one given on the command line).
CHART_ONLY = {("Pod", "invoicer-test"), ("NetworkPolicy", "invoicer-test")}
MANIFESTS_ONLY = {("Namespace", "invoicer")}


def _by_key(objects):
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def _chart(bundle):
    return {key: obj for key, obj in _by_key(bundle.objects("default")).items() if key not in CHART_ONLY}


def _manifests(bundle):
    return {
        key: obj
        for key, obj in _by_key(bundle.manifest_objects()).items()
        if key not in MANIFESTS_ONLY and key[0] != "Kustomization"
    }


def _differences(left, right, path=""):
    """Paths where two parsed objects differ, for a readable failure."""
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            yield from _differences(left.get(key), right.get(key), f"{path}.{key}")
    elif isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            yield from _differences(a, b, f"{path}[{i}]")
    elif left != right:
        yield f"{path}: chart {left!r} / manifests {right!r}"


def _env_names(container):
    return [entry["name"] for entry in container.get("env", [])]


def test_regenerating_the_manifests_changes_nothing(tools, k8s, tmp_path):
    done = subprocess.run(
        [tools.python, str(k8s.root / "tools" / "render_manifests.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    committed = {p.name: p.read_text() for p in (k8s.root / "manifests").iterdir() if p.is_file()}
    generated = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert sorted(committed) == sorted(generated), "files differ: run `make manifests`"
    stale = [name for name in generated if committed[name] != generated[name]]
    assert stale == [], f"out of date, run `make manifests`: {stale}"


def test_same_objects(bundle):
    chart, manifests = _chart(bundle), _manifests(bundle)
    assert sorted(set(chart) - set(manifests)) == [], "in the chart, missing from manifests/"
    assert sorted(set(manifests) - set(chart)) == [], "in manifests/, missing from the chart"


def test_same_workloads_environment_and_ports(bundle, components):
    chart, manifests = _chart(bundle), _manifests(bundle)
    workloads = [key for key in chart if key[0] in bundle.WORKLOAD_KINDS]
    assert len(workloads) == len(components) + 3  # a Deployment or the Job per component, 3 StatefulSets
    for key in workloads:
        ours, theirs = bundle.containers(chart[key]), bundle.containers(manifests[key])
        assert [c["name"] for c in ours] == [c["name"] for c in theirs], key
        for a, b in zip(ours, theirs, strict=True):
            where = f"{key[0]} {key[1]}, container {a['name']}"
            assert _env_names(a) == _env_names(b), f"{where}: environment variable names differ"
            assert a.get("envFrom") == b.get("envFrom"), f"{where}: envFrom differs"
            assert a.get("ports") == b.get("ports"), f"{where}: ports differ"
            assert a.get("args") == b.get("args") and a.get("command") == b.get("command"), f"{where}: command"
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert a.get(probe) == b.get(probe), f"{where}: {probe} differs"


def test_same_specs_everywhere(bundle):
    """Beyond names and ports: every spec and every ConfigMap is the same.
    Labels and annotations may differ (Helm's own, checksums, hooks), and the
    plain Job cleans itself up after it ran (the chart's is a hook)."""
    chart, manifests = _chart(bundle), _manifests(bundle)
    problems = []
    for key in sorted(set(chart) & set(manifests)):
        ours, theirs = dict(chart[key]), dict(manifests[key])
        if key[0] == "Secret":
            # Generated in the chart, examples in manifests/: the same keys.
            keys = set(ours.get("data", {})) | set(ours.get("stringData", {}))
            example = set(theirs.get("data", {})) | set(theirs.get("stringData", {}))
            if key == ("Secret", "invoicer"):
                keys -= {"SMTP_USERNAME", "SMTP_PASSWORD"}  # optional
            if keys != example:
                problems.append(f"{key}: keys {sorted(keys)} / {sorted(example)}")
            continue
        for obj in (ours, theirs):
            obj.pop("metadata")
            if "template" in obj.get("spec", {}):
                obj["spec"] = dict(obj["spec"], template={"spec": obj["spec"]["template"]["spec"]})
            if "jobTemplate" in obj.get("spec", {}):  # a CronJob: its Job's and pod's labels may differ too
                job = obj["spec"]["jobTemplate"]["spec"]
                job = dict(job, template={"spec": job["template"]["spec"]})
                obj["spec"] = dict(obj["spec"], jobTemplate={"spec": job})
            if key[0] == "StatefulSet":
                obj["spec"]["volumeClaimTemplates"] = [
                    {"spec": t["spec"]} for t in obj["spec"].get("volumeClaimTemplates", [])
                ]
        if key[0] == "Job":
            assert theirs["spec"].pop("ttlSecondsAfterFinished") > 0
        problems += [f"{key[0]} {key[1]} {line}" for line in _differences(ours, theirs)]
    assert problems == [], "\n".join(problems)


def test_same_labels_on_pods(bundle):
    """Selectors and the app.kubernetes.io labels the NetworkPolicies rely on."""
    chart, manifests = _chart(bundle), _manifests(bundle)
    for key, obj in chart.items():
        if key[0] not in bundle.WORKLOAD_KINDS:
            continue
        for label in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"):
            ours = bundle.pod_template(obj)["metadata"]["labels"].get(label)
            theirs = bundle.pod_template(manifests[key])["metadata"]["labels"].get(label)
            assert ours == theirs, f"{key}: {label}"
        assert manifests[key]["metadata"]["labels"]["app.kubernetes.io/part-of"] == "invoicer"
