"""Fixtures of the Kubernetes packaging checks: the tools, the rendered charts,
the manifests, and the reports of kubernetes-validate and checkov.

No cluster, no docker, no helm binary: the checking tools come from PyPI into
a virtualenv of their own, ``.venv-k8s/`` (``INVOICER_K8S_TOOLS_VENV``
overrides the place), made on first use from ``requirements-k8s-tools.txt``
and made again whenever that file changes. They are kept apart from
``.venv`` because checkov pins many packages the application also uses.

Everything slow runs once per session: one subprocess renders and lints every
chart with every values case below and parses the manifests
(``k8s_bundle.py``), one kubernetes-validate run checks every object, and one
checkov run scans everything.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REQUIREMENTS = ROOT / "requirements-k8s-tools.txt"
TOOLS_VENV = Path(os.environ.get("INVOICER_K8S_TOOLS_VENV", ROOT / ".venv-k8s"))
NAMESPACE = "invoicer"
KUBERNETES_VERSION = "1.30.0"

# The releases of the README's flow: the app and the three development charts
# beside it, named "<app release>-<chart>" so the app finds them by default.
INFRA = {
    "postgresql": {"release": "invoicer-postgresql"},
    "mongodb": {"release": "invoicer-mongodb"},
    "rabbitmq": {"release": "invoicer-rabbitmq"},
}

# Values cases rendered for every check. "default" is what `helm install`
# gives; the others switch on every option at least once.
CASES: dict[str, dict] = {
    "default": {"invoicer": {"release": "invoicer"}, **INFRA},
    # Everything optional on: Ingress with TLS, KEDA, given secrets, a digest.
    "full": {
        "invoicer": {
            "release": "invoicer",
            "values": {
                "image": {"repository": "registry.example.com/invoicer", "digest": "sha256:" + "0123456789abcdef" * 4},
                "imagePullSecrets": [{"name": "regcred"}],
                "ingress": {
                    "enabled": True,
                    "className": "nginx",
                    "host": "invoices.example.com",
                    "tls": {"enabled": True, "secretName": ""},
                },
                "networkPolicy": {
                    "gatewayFrom": [
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
                    ]
                },
                "components": {"worker": {"keda": {"enabled": True}}},
                "secret": {"jwtSecret": "j" * 40, "smtpUsername": "mailer", "smtpPassword": "mail-secret"},
                "config": {
                    "SMTP_HOST": "smtp.example.com",
                    "SMTP_PORT": 587,
                    "SMTP_STARTTLS": True,
                    "MAIL_FROM": "invoices@example.com",
                    "MAX_UPLOAD_BYTES": 2097152,
                    "AMQP_PREFIX": "billing",
                },
                "podAnnotations": {"example.com/team": "billing"},
                "podLabels": {"example.com/cost-centre": "42"},
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "invoicer", "effect": "NoSchedule"}],
            },
        },
        "postgresql": {
            "release": "invoicer-postgresql",
            "values": {"persistence": {"enabled": False}, "auth": {"password": "pg-password"}},
        },
        "mongodb": {"release": "invoicer-mongodb", "values": {"persistence": {"storageClass": "fast", "size": "5Gi"}}},
        "rabbitmq": {"release": "invoicer-rabbitmq", "values": {"networkPolicy": {"allowKeda": True}}},
    },
    # Metrics on: the Prometheus Operator's objects (their API assumed, as `helm template` cannot see
    # a cluster's), the alerts with another threshold, the dashboard, scrapers from one namespace.
    "metrics": {
        "invoicer": {
            "release": "invoicer",
            "values": {
                "metrics": {
                    "enabled": True,
                    "scraperFrom": [
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
                    ],
                    "assumeMonitoringCRDs": True,
                    "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
                    "prometheusRule": {"enabled": True, "uploadToDoneP95Seconds": 300},
                    "grafanaDashboard": {"enabled": True, "annotations": {"grafana_folder": "invoicer"}},
                }
            },
        },
        **INFRA,
    },
    # Monitors and rules asked for where the cluster has no monitoring.coreos.com/v1: left out.
    "metrics-without-crds": {
        "invoicer": {
            "release": "invoicer",
            "values": {"metrics": {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": True}}},
        },
        **INFRA,
    },
    # Managed services given as complete URLs, kept in the chart's Secret.
    "external-urls": {
        "invoicer": {
            "release": "invoicer",
            "values": {
                "postgresql": {"url": "postgresql://app:pw@db.example.com:5432/invoicer?sslmode=require"},
                "mongodb": {"url": "mongodb://app:pw@mongo.example.com:27017/invoicer?tls=true"},
                "rabbitmq": {"url": "amqps://app:pw@mq.example.com:5671/invoicer"},
                "components": {
                    "worker": {"keda": {"enabled": True}},
                    "intake": {"keda": {"enabled": True}},
                    "notification": {"keda": {"enabled": True}},
                },
            },
        },
    },
    # Managed services given by parts, credentials in Secrets of the user's own.
    "external-secrets": {
        "invoicer": {
            "release": "invoicer",
            "values": {
                "secret": {"existingSecret": "invoicer-own"},
                "postgresql": {
                    "host": "db.example.com",
                    "username": "app",
                    "params": "sslmode=require",
                    "existingSecret": "pg-credentials",
                    "existingSecretPasswordKey": "pw",
                },
                "mongodb": {"existingSecret": "mongo-credentials", "existingSecretUrlKey": "uri"},
                "rabbitmq": {
                    "host": "mq.example.com",
                    "port": 5671,
                    "scheme": "amqps",
                    "vhost": "billing",
                    "existingSecret": "mq-credentials",
                },
                "components": {
                    "worker": {"keda": {"enabled": True, "hostSecret": {"name": "mq-credentials", "key": "url"}}}
                },
            },
        },
    },
    # The app installed as a subchart would be (Helm hands it `global:`), with the
    # three development charts as its dependencies, and a component scheduled on
    # nodes of its own.
    "bundled": {
        "invoicer": {
            "release": "invoicer",
            "values": {
                "global": {"imageRegistry": "registry.example.com", "storageClass": "fast"},
                "postgresql": {"enabled": True},
                "mongodb": {"enabled": True},
                "rabbitmq": {"enabled": True},
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "components": {
                    "worker": {
                        "nodeSelector": {"example.com/pool": "render"},
                        "tolerations": [{"key": "render", "operator": "Exists", "effect": "NoSchedule"}],
                        "affinity": {
                            "podAntiAffinity": {
                                "preferredDuringSchedulingIgnoredDuringExecution": [
                                    {
                                        "weight": 100,
                                        "podAffinityTerm": {
                                            "topologyKey": "kubernetes.io/hostname",
                                            "labelSelector": {"matchLabels": {"app.kubernetes.io/component": "worker"}},
                                        },
                                    }
                                ]
                            }
                        },
                    }
                },
            },
        },
    },
    # Everything optional off.
    "minimal": {
        "invoicer": {
            "release": "shop",
            "values": {
                "components": {
                    "gateway": {"autoscaling": {"enabled": False}, "pdb": {"enabled": False}, "replicaCount": 1},
                    "worker": {"autoscaling": {"enabled": False}, "pdb": {"enabled": False}},
                    "auth": {"pdb": {"enabled": False}, "replicaCount": 1},
                    "notification": {"pdb": {"enabled": False}},
                    "invoices": {"pdb": {"enabled": False}, "replicaCount": 1},
                    "outbox-relay": {"pdb": {"enabled": False}},
                    "webhook": {"pdb": {"enabled": False}},
                    "expenses": {"pdb": {"enabled": False}, "replicaCount": 1},
                    "intake": {"pdb": {"enabled": False}},
                    "migrate": {"enabled": False},
                },
                "networkPolicy": {"enabled": False},
                "serviceAccount": {"create": False},
            },
        },
        "rabbitmq": {"release": "invoicer-rabbitmq", "values": {"networkPolicy": {"enabled": False}}},
    },
}


def deploy_doc() -> tuple[Path, str]:
    """The README's "Deploy on Kubernetes" section (empty if it is missing)."""
    readme = (ROOT / "README.md").read_text()
    start = readme.find("\n## Deploy on Kubernetes\n")
    if start < 0:
        return ROOT / "README.md", ""
    end = readme.find("\n## ", start + 1)
    return ROOT / "README.md", readme[start + 1 : end if end > 0 else None]


def _docs_values(name: str) -> str | None:
    """A values file shown in the deploy documentation (a ```yaml block whose
    first line is "# <name>"), so that what users are told to install is
    rendered, linted and validated like the rest."""
    match = re.search(r"```yaml\n# " + re.escape(name) + r"\n(.*?)```", deploy_doc()[1], re.DOTALL)
    return match.group(1) if match else None


DOCS_EXTERNAL_VALUES = _docs_values("external-values.yaml")
if DOCS_EXTERNAL_VALUES:
    CASES["docs-external"] = {"invoicer": {"release": "invoicer", "values_yaml": DOCS_EXTERNAL_VALUES}}

# Values that must be refused, and a fragment of the message that says why.
BAD_VALUES: dict[str, tuple[str, dict, str]] = {
    "bad-short-jwt": ("invoicer", {"secret": {"jwtSecret": "too-short"}}, "jwtSecret"),
    "bad-latest-tag": ("invoicer", {"image": {"tag": "latest"}}, "/image/tag"),
    "bad-managed-setting": ("invoicer", {"config": {"DATABASE_URL": "postgresql://x"}}, "DATABASE_URL"),
    "bad-unknown-setting": ("invoicer", {"config": {"LOG_LEVELS": "DEBUG"}}, "LOG_LEVELS"),
    "bad-typo": ("invoicer", {"components": {"gateway": {"replicas": 3}}}, "replicas"),
    # null removes a default in Helm: a worker without limits.
    "bad-no-limits": ("invoicer", {"components": {"worker": {"resources": {"limits": None}}}}, "limits"),
    "bad-root": ("invoicer", {"securityContext": {"runAsNonRoot": False}}, "runAsNonRoot"),
    "bad-secret-conflict": (
        "invoicer",
        {"secret": {"existingSecret": "mine"}, "postgresql": {"password": "x"}},
        "existingSecret",
    ),
    "bad-keda-without-url": (
        "invoicer",
        {
            "components": {"worker": {"keda": {"enabled": True}}},
            "rabbitmq": {"host": "mq.example.com", "existingSecret": "mq"},
        },
        "hostSecret",
    ),
    "bad-keda-without-queues": (
        "invoicer",
        {"components": {"intake": {"keda": {"enabled": True, "queues": []}}}},
        "keda.queues",
    ),
    "bad-postgresql-nodeport": ("postgresql", {"service": {"type": "NodePort"}}, "type"),
}
for _case, (_chart, _values, _) in BAD_VALUES.items():
    CASES[_case] = {
        _chart: {
            "release": INFRA.get(_chart, {"release": "invoicer"})["release"],
            "values": _values,
            "expect_error": True,
        }
    }

# A component added the way the next one will be: an entry in the components
# map of values.yaml, then `make charts` (tools/helm_docs.py) for the schema.
# The bundle renders a copy of the chart so changed; kubernetes-validate checks
# it like the others, but it is no good_case: its settings do not exist yet.
ADDED_COMPONENT = """\
  reports:
    uses: [postgresql, rabbitmq]
    secrets: [jwt]
    callers: [gateway]
    http:
      port: 8083
      bindSetting: REPORTS_BIND
      servicePort: 8083
      urlSetting: REPORTS_URL
    replicaCount: 2
    resources:
      requests: {cpu: 100m, memory: 192Mi}
      limits: {cpu: "1", memory: 512Mi}
    pdb:
      enabled: true
      maxUnavailable: 1
"""
CASES["added-component"] = {"invoicer": {"release": "invoicer", "chart_path": "<made by the bundle fixture>"}, **INFRA}

GOOD_CASES = [case for case in CASES if case not in BAD_VALUES and case != "added-component"]


# --- the tools ----------------------------------------------------------------


@dataclass(frozen=True)
class Tools:
    """Executables of the tools virtualenv."""

    venv: Path

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    @property
    def python(self) -> str:
        return self.bin("python")


def _install_tools() -> Tools:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = TOOLS_VENV / ".requirements.sha256"
    # One installer at a time, should two sessions start together.
    with open(REQUIREMENTS, "rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if stamp.exists() and stamp.read_text().strip() == digest and (TOOLS_VENV / "bin" / "python").exists():
                return Tools(TOOLS_VENV)
            if not (TOOLS_VENV / "bin" / "python").exists():
                subprocess.run([sys.executable, "-m", "venv", str(TOOLS_VENV)], check=True)
                # Keep the virtualenv out of git whatever .gitignore says.
                (TOOLS_VENV / ".gitignore").write_text("*\n")
            env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
            done = subprocess.run(
                [str(TOOLS_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            if done.returncode != 0:
                pytest.fail(
                    f"could not install the Kubernetes checking tools from {REQUIREMENTS.name}:\n"
                    f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
                )
            stamp.write_text(digest + "\n")
            return Tools(TOOLS_VENV)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def tools() -> Tools:
    return _install_tools()


# --- rendered charts and manifests ----------------------------------------------


class Bundle:
    """What k8s_bundle.py rendered and parsed, with look-ups for the tests."""

    def __init__(self, data: dict, out: Path) -> None:
        self.data = data
        self.out = out
        self.charts: dict = data["charts"]
        self.renders: dict = data["renders"]
        self.lint: dict = data["lint"]
        self.manifests: dict = data["manifests"]
        self.kustomize: dict = data["kustomize"]
        self.skaffold: list = data["skaffold"]

    def render(self, case: str, chart: str = "invoicer") -> dict:
        result = self.renders[case][chart]
        assert result["ok"], f"{chart} did not render with the {case!r} values: {result['error']}"
        return result

    def objects(self, case: str, chart: str | None = None) -> list[dict]:
        charts = [chart] if chart else list(self.renders[case])
        return [item["object"] for name in charts for item in self.render(case, name)["objects"]]

    @staticmethod
    def from_dependency(item: dict) -> bool:
        """Whether a rendered object comes from a dependency (invoicer/charts/...)."""
        return "/charts/" in item["template"]

    def own_objects(self, case: str, chart: str = "invoicer") -> list[dict]:
        """The objects of the chart's own templates, without its dependencies'."""
        return [item["object"] for item in self.render(case, chart)["objects"] if not self.from_dependency(item)]

    def manifest_objects(self) -> list[dict]:
        """The Kubernetes objects of manifests/ (kustomization.yaml is not one)."""
        return [obj for name, objects in self.manifests.items() if name != "kustomization.yaml" for obj in objects]

    @staticmethod
    def find(objects: list[dict], kind: str, name: str | None = None) -> list[dict]:
        return [obj for obj in objects if obj["kind"] == kind and (name is None or obj["metadata"]["name"] == name)]

    @classmethod
    def one(cls, objects: list[dict], kind: str, name: str) -> dict:
        found = cls.find(objects, kind, name)
        assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
        return found[0]

    # Reading workloads.

    WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")

    @classmethod
    def workloads(cls, objects: list[dict]) -> list[dict]:
        return [obj for obj in objects if obj["kind"] in cls.WORKLOAD_KINDS]

    @staticmethod
    def pod_template(obj: dict) -> dict:
        """The pod (metadata and spec) a workload runs."""
        if obj["kind"] == "Pod":
            return obj
        if obj["kind"] == "CronJob":
            return obj["spec"]["jobTemplate"]["spec"]["template"]
        return obj["spec"]["template"]

    @classmethod
    def pod_spec(cls, obj: dict) -> dict:
        return cls.pod_template(obj)["spec"]

    @classmethod
    def containers(cls, obj: dict) -> list[dict]:
        spec = cls.pod_spec(obj)
        return spec.get("initContainers", []) + spec["containers"]

    @staticmethod
    def port_number(container: dict, port) -> int:
        """A probe's or Service's port, by number or by the container port's name."""
        if isinstance(port, int):
            return port
        for declared in container.get("ports", []):
            if declared.get("name") == port:
                return declared["containerPort"]
        raise AssertionError(f"container {container['name']} has no port named {port!r}")

    @staticmethod
    def is_hook(obj: dict) -> bool:
        return "helm.sh/hook" in (obj["metadata"].get("annotations") or {})


def _chart_with_added_component(tools: Tools, out: Path) -> Path:
    """A copy of the invoicer chart with ADDED_COMPONENT in its components map
    and its schema regenerated, as a developer adding a component would do."""
    chart = out / "charts" / "invoicer"
    shutil.copytree(ROOT / "helm_charts" / "invoicer", chart)
    values = chart / "values.yaml"
    text = values.read_text()
    assert "\ncomponents:\n" in text
    values.write_text(text.replace("\ncomponents:\n", "\ncomponents:\n" + ADDED_COMPONENT, 1))
    done = subprocess.run(
        [tools.python, str(ROOT / "tools" / "helm_docs.py"), str(chart)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return chart


@pytest.fixture(scope="session")
def bundle(tools, tmp_path_factory) -> Bundle:
    out = tmp_path_factory.mktemp("k8s")
    cases = json.loads(json.dumps(CASES))
    cases["added-component"]["invoicer"]["chart_path"] = str(_chart_with_added_component(tools, out))
    cases_file = out / "cases.json"
    cases_file.write_text(json.dumps(cases))
    done = subprocess.run(
        [tools.python, str(HERE / "k8s_bundle.py"), str(ROOT), str(cases_file), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"k8s_bundle.py failed:\n{done.stdout}\n{done.stderr}"
    return Bundle(json.loads((out / "bundle.json").read_text()), out)


# --- kubernetes-validate ------------------------------------------------------------

_VALIDATE_LINE = re.compile(r"^(INFO|WARN|ERROR|FATAL) (\S+) (.*)$")


@dataclass
class Validation:
    """kubernetes-validate's verdict, by file: lines "INFO <file> passed for
    resource <kind>/<name> …", "ERROR <file> did not validate …", "WARN <file>
    Couldn't find schema for kind …"."""

    returncode: int
    lines: list[tuple[str, str, str]]
    files: list[str]

    def for_level(self, level: str) -> list[tuple[str, str]]:
        return [(path, text) for lvl, path, text in self.lines if lvl == level]


@pytest.fixture(scope="session")
def validation(tools, bundle) -> Validation:
    files = sorted(str(path) for path in (bundle.out / "rendered").rglob("*.yaml"))
    files += sorted(str(path) for path in (ROOT / "manifests").glob("*.yaml") if path.name != "kustomization.yaml")
    if (bundle.out / "kustomize.yaml").exists():
        files.append(str(bundle.out / "kustomize.yaml"))
    done = subprocess.run(
        [tools.bin("kubernetes-validate"), "--strict", "--kubernetes-version", KUBERNETES_VERSION, *files],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = []
    for line in done.stdout.splitlines():
        match = _VALIDATE_LINE.match(line)
        if match:
            lines.append(match.groups())
    return Validation(done.returncode, lines, files)


# --- checkov ------------------------------------------------------------------------

# Checks that cannot pass by design, with the reason. Everything else must pass.
CHECKOV_SKIPPED = {
    "CKV_K8S_43": "images by digest: the image is built locally and has no registry digest until it is pushed; "
    "the chart takes image.digest when there is one",
    "CKV_K8S_15": "imagePullPolicy Always: the images carry fixed version tags, and Always would break clusters "
    "that are given a locally built image (kind load, minikube, skaffold dev)",
}


@dataclass
class CheckovReport:
    summary: dict
    passed: list[dict]
    failed: list[dict]
    skipped: list[dict]
    parsing_errors: list


@pytest.fixture(scope="session")
def checkov_report(tools, bundle, tmp_path_factory) -> CheckovReport:
    """One checkov run over the charts rendered with the default and the full
    values, and over manifests/ as kubectl would apply it."""
    scan = tmp_path_factory.mktemp("checkov")
    for case in ("default", "full"):
        for chart, result in bundle.renders[case].items():
            for path in result["files"]:
                target = scan / f"chart-{case}" / chart
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target / Path(path).name)
    (scan / "manifests").mkdir()
    for path in (ROOT / "manifests").glob("*.yaml"):
        if path.name != "kustomization.yaml":
            shutil.copy(path, scan / "manifests" / path.name)
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    done = subprocess.run(
        [
            tools.bin("checkov"),
            "--directory",
            str(scan),
            "--framework",
            "kubernetes",
            "--output",
            "json",
            "--skip-download",
            "--compact",
            "--skip-check",
            ",".join(sorted(CHECKOV_SKIPPED)),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=scan,
        check=False,
    )
    assert done.stdout.strip(), f"checkov printed nothing (exit {done.returncode}):\n{done.stderr[-3000:]}"
    report = json.loads(done.stdout)
    if isinstance(report, list):  # one entry per framework
        (report,) = [entry for entry in report if entry.get("check_type") == "kubernetes"]
    results = report.get("results", {})
    return CheckovReport(
        report["summary"],
        results.get("passed_checks", []),
        results.get("failed_checks", []),
        results.get("skipped_checks", []),
        results.get("parsing_errors", []),
    )


# --- parametrisation and constants for the test modules ----------------------------


def pytest_generate_tests(metafunc):
    """``good_case`` runs a test for every values case that must render,
    ``bad_case`` for every one that must be refused."""
    if "good_case" in metafunc.fixturenames:
        metafunc.parametrize("good_case", GOOD_CASES)
    if "bad_case" in metafunc.fixturenames:
        metafunc.parametrize("bad_case", sorted(BAD_VALUES))


@dataclass(frozen=True)
class Constants:
    root: Path
    namespace: str
    infra: dict
    cases: dict
    bad_values: dict
    checkov_skipped: dict
    doc_path: Path
    doc: str
    docs_external_values: str | None


def _load_components_module():
    spec = importlib.util.spec_from_file_location("k8s_components", HERE / "components.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


components_module = _load_components_module()


@pytest.fixture(scope="session")
def components(bundle) -> dict:
    """The invoicer chart's components map, {name: components.Component} (tests/k8s/components.py)."""
    return components_module.load(bundle.charts["invoicer"]["values"])


@pytest.fixture(scope="session")
def component_tools():
    """tests/k8s/components.py itself: BACKENDS, SECRETS, ANYONE, long_running(), users_of()."""
    return components_module


@pytest.fixture(scope="session")
def k8s() -> Constants:
    return Constants(ROOT, NAMESPACE, INFRA, CASES, BAD_VALUES, CHECKOV_SKIPPED, *deploy_doc(), DOCS_EXTERNAL_VALUES)
