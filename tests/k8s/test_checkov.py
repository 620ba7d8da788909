"""checkov's Kubernetes checks over the charts (default and full values) and
manifests/: nothing fails, the container-hardening checks really looked at
every workload, and every suppression is one of the few argued for.

Skipped for the whole run (conftest.CHECKOV_SKIPPED, with the reasons):
CKV_K8S_43 (image digests) and CKV_K8S_15 (imagePullPolicy Always).
Suppressed per object by a `checkov.io/skipN` annotation beside the object:
CKV_K8S_35 (secrets as files) on invoicer's own workloads, which read their
settings only from environment variables, and CKV_K8S_8/9 (probes) on the
one-shot `helm test` pod.
"""

from __future__ import annotations

from collections import defaultdict

# The container-hardening checks that must pass on every workload.
HARDENING = {
    "CKV_K8S_8": "liveness probe",
    "CKV_K8S_9": "readiness probe",
    "CKV_K8S_10": "CPU requests",
    "CKV_K8S_11": "CPU limits",
    "CKV_K8S_12": "memory requests",
    "CKV_K8S_13": "memory limits",
    "CKV_K8S_14": "image tag fixed, not latest",
    "CKV_K8S_16": "not privileged",
    "CKV_K8S_20": "no privilege escalation",
    "CKV_K8S_22": "read-only root filesystem",
    "CKV_K8S_23": "no root containers",
    "CKV_K8S_25": "no added capabilities",
    "CKV_K8S_28": "no NET_RAW",
    "CKV_K8S_29": "pod security context",
    "CKV_K8S_30": "container security context",
    "CKV_K8S_31": "seccomp RuntimeDefault",
    "CKV_K8S_37": "capabilities dropped",
    "CKV_K8S_38": "no service account token",
    "CKV_K8S_40": "high uid",
}
# checkov does not ask Jobs (nor CronJobs' jobs) for probes (they run to completion).
NOT_FOR_JOBS = {"CKV_K8S_8", "CKV_K8S_9"}
JOB_KINDS = {"Job", "CronJob"}
# The only per-object suppressions allowed: (check, kind, name prefix).
ALLOWED_SUPPRESSIONS = {
    ("CKV_K8S_35", "Deployment", "invoicer-"),
    ("CKV_K8S_35", "Job", "invoicer-migrate"),
    ("CKV_K8S_35", "CronJob", "invoicer-cleanup"),
    ("CKV_K8S_8", "Pod", "invoicer-test"),
    ("CKV_K8S_9", "Pod", "invoicer-test"),
}


def _where(result: dict) -> tuple[str, str]:
    """(scanned directory, resource id "Kind.namespace.name")."""
    directory = result["file_path"].strip("/").split("/")[0]
    return directory, result["resource"]


def _workloads(bundle) -> set[tuple[str, str, str]]:
    """(directory, kind, "Kind.namespace.name") of every workload checkov was given."""
    found = set()
    for case in ("default", "full"):
        for obj in bundle.workloads(bundle.objects(case)):
            found.add((f"chart-{case}", obj["kind"], f"{obj['kind']}.invoicer.{obj['metadata']['name']}"))
    for obj in bundle.workloads(bundle.manifest_objects()):
        found.add(("manifests", obj["kind"], f"{obj['kind']}.invoicer.{obj['metadata']['name']}"))
    return found


def test_checkov_scanned_everything_and_nothing_failed(checkov_report):
    assert checkov_report.parsing_errors == []
    assert checkov_report.summary["passed"] > 0
    assert checkov_report.summary["resource_count"] > 50
    failures = [f"{r['check_id']} {r['check_name']}: {r['resource']} ({r['file_path']})" for r in checkov_report.failed]
    assert failures == [], "\n".join(failures)
    assert checkov_report.summary["failed"] == 0


def test_hardening_checks_passed_on_every_workload(checkov_report, bundle):
    """Each hardening check ran on, and passed for, every Deployment,
    StatefulSet, Job, CronJob and Pod of the charts and of manifests/ (so deleting a
    probe or a limit anywhere fails here, not just somewhere)."""
    passed = defaultdict(set)
    for result in checkov_report.passed:
        passed[result["check_id"]].add(_where(result))
    suppressed = {(r["check_id"], *_where(r)) for r in checkov_report.skipped}
    workloads = _workloads(bundle)
    assert {kind for _, kind, _ in workloads} == {"Deployment", "StatefulSet", "Job", "CronJob", "Pod"}
    for check, what in HARDENING.items():
        for directory, kind, resource in sorted(workloads):
            if kind in JOB_KINDS and check in NOT_FOR_JOBS:
                continue
            if (check, directory, resource) in suppressed:
                continue
            assert (directory, resource) in passed[check], (
                f"{check} ({what}) did not pass for {resource} in {directory}"
            )


def test_only_the_argued_suppressions(checkov_report, k8s):
    for result in checkov_report.skipped:
        kind, _, name = result["resource"].split(".", 2)
        allowed = any(
            result["check_id"] == check and kind == k and name.startswith(prefix)
            for check, k, prefix in ALLOWED_SUPPRESSIONS
        )
        assert allowed, f"{result['check_id']} is suppressed for {result['resource']} ({result['file_path']})"
    # The run-wide skips are the documented ones, and they are not hardening checks.
    assert set(k8s.checkov_skipped) == {"CKV_K8S_43", "CKV_K8S_15"}
    assert not set(k8s.checkov_skipped) & set(HARDENING)
