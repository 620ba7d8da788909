"""The Helm charts, rendered offline with helm-python-sdk (Helm v4's own code):
strict lint, values schema, and what the rendered objects promise."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

from invoicer.cli import build_parser
from invoicer.common import components as registry
from invoicer.common.amqp import RENDER, Topology
from invoicer.common.config import Settings

ROOT = Path(__file__).resolve().parents[2]
CHARTS = {"invoicer", "postgresql", "mongodb", "rabbitmq"}
# Settings the chart sets itself; every other one may be given in config. Besides
# these, each HTTP component's bind and URL settings (components.*.http).
CHART_MANAGED = {
    "DATABASE_URL",
    "MONGODB_URI",
    "AMQP_URL",
    "JWT_SECRET",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "HEALTH_PORT",
    "METRICS_PORT",  # from metrics.enabled and metrics.port
}
# Variables that only carry a password into a URL through $(VAR) expansion.
URL_HELPERS = {"DATABASE_PASSWORD", "MONGODB_PASSWORD", "AMQP_PASSWORD"}


def _leaves(values, prefix=""):
    """Dotted paths of every value: a mapping's keys are walked into, anything
    else (scalars, lists, empty mappings) is a leaf."""
    if isinstance(values, dict) and values:
        for key, value in values.items():
            yield from _leaves(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip(".")


def _get(values, path):
    for part in path.split("."):
        if not isinstance(values, dict) or part not in values:
            raise KeyError(path)
        values = values[part]
    return values


def _secret_data(secret: dict) -> dict[str, str]:
    data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    data.update(secret.get("stringData") or {})
    return data


def _env(container: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def _deployment(bundle, case: str, component: str, release: str = "invoicer") -> dict:
    return bundle.one(bundle.objects(case, "invoicer"), "Deployment", f"{release}-{component}")


# --- lint and schema ---------------------------------------------------------------


def test_all_four_charts_are_there(bundle):
    assert set(bundle.charts) == CHARTS
    for name, chart in bundle.charts.items():
        assert chart["metadata"]["apiVersion"] == "v2"
        assert chart["schema"], f"{name} has no values.schema.json"


def test_charts_lint_clean_in_strict_mode(bundle, good_case):
    """helm lint --strict for Kubernetes 1.30: no error and no warning (only
    the informational 'icon is recommended' may remain)."""
    for chart, report in bundle.lint[good_case].items():
        assert report["total_charts_linted"] == 1
        assert report["errors"] == [], f"{chart} ({good_case}): {report['errors']}"
        serious = [m for m in report["messages"] if m["severity"] >= 2]
        assert serious == [], f"{chart} ({good_case}): {serious}"


def test_bad_values_are_refused(bundle, bad_case, k8s):
    chart, _, fragment = k8s.bad_values[bad_case]
    result = bundle.renders[bad_case][chart]
    assert not result["ok"], f"{chart} rendered values it should refuse ({bad_case})"
    assert fragment in result["error"], result["error"]


def _expand(values, path):
    """The existing values a @param path names; a "*" segment stands for every key there."""
    found = [""]
    for part in path.split("."):
        next_found = []
        for prefix in found:
            node = _get(values, prefix) if prefix else values
            if not isinstance(node, dict):
                continue
            keys = list(node) if part == "*" else [part] if part in node else []
            next_found += [f"{prefix}.{key}" if prefix else key for key in keys]
        found = next_found
    return set(found)


def test_every_value_is_documented_with_a_param_line(bundle, k8s):
    """Bitnami's convention: each value, or a mapping holding it, has a
    `## @param path description` line, and no such line names a value that
    does not exist. (A "*" in a path documents that field of every entry,
    e.g. components.*.replicaCount; it must name at least one value.)"""
    for chart in sorted(CHARTS):
        text = (k8s.root / "helm_charts" / chart / "values.yaml").read_text()
        documented = set()
        values = bundle.charts[chart]["values"]
        for path, description in re.findall(r"^\s*## @param (\S+) ?(.*)$", text, re.MULTILINE):
            assert description.strip(), f"{chart}: @param {path} has no description"
            named = _expand(values, path)
            assert named, f"{chart}: @param {path} documents a value that does not exist"
            documented |= named
        for leaf in _leaves(values):
            parts = leaf.split(".")
            ancestors = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
            assert ancestors & documented, f"{chart}: value {leaf} has no ## @param line"


def test_schemas_and_readmes_are_generated_from_the_param_lines(tools, k8s):
    """values.schema.json and the README's Parameters table of every chart are
    what `make charts` (tools/helm_docs.py) makes of values.yaml now."""
    done = subprocess.run(
        [tools.python, str(k8s.root / "tools" / "helm_docs.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    for chart in CHARTS:
        readme = (k8s.root / "helm_charts" / chart / "README.md").read_text()
        assert "\n## Parameters\n" in readme and "| `nameOverride` |" in readme, chart


def test_schema_closes_every_object(bundle):
    """A misspelt key is an error, not a silently ignored value."""

    def walk(schema, where):
        if schema.get("type") == "object" and "properties" in schema:
            assert schema.get("additionalProperties") is not None, f"{where} accepts any key"
            for key, sub in schema["properties"].items():
                walk(sub, f"{where}.{key}")

    for chart in CHARTS:
        schema = bundle.charts[chart]["schema"]
        assert schema["additionalProperties"] is False
        assert set(schema["properties"]) == set(bundle.charts[chart]["values"]), chart
        walk(schema, chart)


def test_config_accepts_exactly_the_settings_the_chart_does_not_set(bundle, components):
    names = set(Settings.names())
    managed = CHART_MANAGED | {
        c.http[key] for c in components.values() if c.http for key in ("bindSetting", "urlSetting") if c.http[key]
    }
    assert {"AUTH_URL", "GATEWAY_BIND", "AUTH_BIND"} <= managed
    schema = bundle.charts["invoicer"]["schema"]["properties"]["config"]
    assert set(schema["properties"]) == names - managed, (
        "values.schema.json's config must list every setting of invoicer.common.config.Settings "
        "except those the chart sets itself"
    )
    assert set(bundle.charts["invoicer"]["values"]["config"]) <= set(schema["properties"])


def test_settings_reach_the_processes_under_their_names(bundle, good_case):
    """Every variable in the ConfigMap and in a container's env is a setting
    (or a password spliced into a URL), and every $(VAR) is defined before it
    is used, as Kubernetes requires for the expansion to happen."""
    names = set(Settings.names())
    objects = bundle.own_objects(good_case)
    for configmap in bundle.find(objects, "ConfigMap"):
        if configmap["metadata"]["labels"].get("grafana_dashboard") == "1":
            continue  # metrics.grafanaDashboard: a dashboard for Grafana, not settings
        assert set(configmap["data"]) <= names, set(configmap["data"]) - names
    for workload in bundle.workloads(objects):
        for container in bundle.containers(workload):
            if container["name"] == "healthz":  # the helm test pod runs python -c
                continue
            defined = set()
            for source in container.get("envFrom", []):
                configmap = bundle.one(objects, "ConfigMap", source["configMapRef"]["name"])
                defined |= set(configmap["data"])
            for entry in container.get("env", []):
                assert entry["name"] in names | URL_HELPERS, f"{workload['metadata']['name']}: {entry['name']}"
                for ref in re.findall(r"\$\((\w+)\)", entry.get("value", "")):
                    assert ref in defined, f"{entry['name']} uses $({ref}) before it is defined"
                defined.add(entry["name"])


# --- workloads ------------------------------------------------------------------------


def test_one_deployment_per_service_each_running_an_invoicer_command(bundle, components, component_tools):
    objects = bundle.objects("default", "invoicer")
    deployments = {d["metadata"]["name"] for d in bundle.find(objects, "Deployment")}
    assert deployments == {f"invoicer-{c}" for c in component_tools.long_running(components)}
    assert {"auth", "gateway", "worker", "notification", "migrate"} <= set(components)
    for workload in bundle.workloads(objects):
        if workload["kind"] == "Pod":
            continue
        (container,) = bundle.containers(workload)
        component = workload["metadata"]["labels"]["app.kubernetes.io/component"]
        assert container["args"] == [component]
        assert build_parser().parse_args(container["args"]).command == component  # a real subcommand
        assert "command" not in container, "the image's entrypoint is `invoicer`"


def test_migration_runs_as_a_pre_install_and_pre_upgrade_hook(bundle, good_case):
    objects = bundle.objects(good_case, "invoicer")
    jobs = bundle.find(objects, "Job")
    if not jobs:
        assert good_case == "minimal", "only the minimal case switches the migration off"
        return
    (job,) = jobs
    annotations = job["metadata"]["annotations"]
    if good_case == "bundled":
        # The database is an object of the release (postgresql.enabled), made after
        # pre-install hooks: the first migration runs once it exists.
        assert set(annotations["helm.sh/hook"].split(",")) == {"post-install", "pre-upgrade"}
        return
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    (container,) = bundle.containers(job)
    assert container["args"] == ["migrate"]
    # Hooks run before the release's other objects exist: the Job may use none of them.
    chart_made = {(o["kind"], o["metadata"]["name"]) for o in objects if not bundle.is_hook(o)}
    spec = bundle.pod_spec(job)
    assert spec.get("serviceAccountName", "default") == "default"
    assert "envFrom" not in container
    hook_weight = int(annotations["helm.sh/hook-weight"])
    for entry in container["env"]:
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            assert ("Secret", ref["name"]) not in chart_made, f"the migration reads {ref['name']}, made after it"
            hook_secrets = [o for o in bundle.find(objects, "Secret", ref["name"]) if bundle.is_hook(o)]
            for secret in hook_secrets:
                assert int(secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < hook_weight
                assert ref["key"] in _secret_data(secret)


def test_probes_on_every_long_running_container(bundle, good_case, components):
    """HTTP /healthz and /readyz for the HTTP components (auth, gateway), the
    consumers' /healthz on HEALTH_PORT; the databases probe themselves."""
    for chart, result in bundle.renders[good_case].items():
        for item in result["objects"]:
            workload = item["object"]
            if workload["kind"] not in bundle.WORKLOAD_KINDS or workload["kind"] in ("Job", "CronJob", "Pod"):
                continue  # not a workload, or one that runs to completion
            for container in bundle.containers(workload):
                name = workload["metadata"]["name"]
                assert container.get("livenessProbe"), f"{name}: no liveness probe"
                assert container.get("readinessProbe"), f"{name}: no readiness probe"
                if chart != "invoicer" or bundle.from_dependency(item):
                    continue
                component = workload["metadata"]["labels"]["app.kubernetes.io/component"]
                live, ready = container["livenessProbe"]["httpGet"], container["readinessProbe"]["httpGet"]
                live_port = bundle.port_number(container, live["port"])
                ready_port = bundle.port_number(container, ready["port"])
                assert live["path"] == "/healthz"
                if components[component].http:
                    assert ready["path"] == "/readyz"
                    assert live_port == ready_port == components[component].port
                else:
                    assert ready["path"] == "/healthz"
                    assert live_port == ready_port == components[component].port == 8090
                    assert _env(container)["HEALTH_PORT"]["value"] == "8090"
    assert (components["gateway"].port, components["auth"].port) == (8080, 8081)


def test_services_listen_where_their_binds_say(bundle, components):
    objects = bundle.objects("default", "invoicer")
    http = {name: c.http for name, c in components.items() if c.http}
    assert (http["gateway"]["bindSetting"], http["auth"]["bindSetting"]) == ("GATEWAY_BIND", "AUTH_BIND")
    configmap = bundle.one(objects, "ConfigMap", "invoicer")
    for component, h in http.items():
        (container,) = bundle.containers(_deployment(bundle, "default", component))
        assert _env(container)[h["bindSetting"]]["value"] == f"0.0.0.0:{h['port']}"
        assert [p["containerPort"] for p in container["ports"]] == [h["port"]]
        service = bundle.one(objects, "Service", f"invoicer-{component}")
        (service_port,) = service["spec"]["ports"]
        assert bundle.port_number(container, service_port["targetPort"]) == h["port"]
        assert service_port["port"] == h["servicePort"]
        if h["urlSetting"]:
            assert configmap["data"][h["urlSetting"]] == f"http://invoicer-{component}:{h['servicePort']}"
    assert configmap["data"]["AUTH_URL"] == "http://invoicer-auth:8081"
    # Only HTTP components have a Service.
    assert {s["metadata"]["name"] for s in bundle.find(objects, "Service")} == {f"invoicer-{c}" for c in http}


def test_restricted_pods_everywhere(bundle, good_case):
    """The restricted Pod Security Standard, resource requests and limits, a
    pinned image, a writable emptyDir /tmp under a read-only root, no API token."""
    for chart, result in bundle.renders[good_case].items():
        for workload in bundle.workloads([item["object"] for item in result["objects"]]):
            name = f"{chart}/{workload['metadata']['name']}"
            spec = bundle.pod_spec(workload)
            assert spec["automountServiceAccountToken"] is False, name
            assert spec["securityContext"]["runAsNonRoot"] is True, name
            assert spec["securityContext"]["runAsUser"] >= 10000, name
            assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
            empty_dirs = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
            for container in bundle.containers(workload):
                sc = container["securityContext"]
                assert sc["allowPrivilegeEscalation"] is False, name
                assert sc["readOnlyRootFilesystem"] is True, name
                assert sc["runAsNonRoot"] is True, name
                assert sc.get("privileged", False) is False, name
                assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"], name
                for kind in ("requests", "limits"):
                    assert {"cpu", "memory"} <= set(container["resources"][kind]), f"{name}: {kind}"
                image = container["image"]
                assert "@sha256:" in image or re.fullmatch(r"[^:]+(:\d+)?/?[^:]*:[\w.-]+", image), image
                assert not image.endswith(":latest"), name
                tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
                assert tmp and tmp[0]["name"] in empty_dirs, f"{name}: /tmp is not a writable emptyDir"


def test_services_are_cluster_ip_only(bundle, good_case):
    for result in bundle.renders[good_case].values():
        for service in bundle.find([item["object"] for item in result["objects"]], "Service"):
            assert service["spec"].get("type", "ClusterIP") == "ClusterIP", service["metadata"]["name"]
            assert all("nodePort" not in port for port in service["spec"]["ports"])


def test_disruption_budgets_and_autoscalers(bundle, components, component_tools):
    objects = bundle.objects("default", "invoicer")
    budgets = {p["metadata"]["name"] for p in bundle.find(objects, "PodDisruptionBudget")}
    assert budgets == {f"invoicer-{c}" for c in component_tools.long_running(components)}
    hpas = {h["metadata"]["name"]: h for h in bundle.find(objects, "HorizontalPodAutoscaler")}
    assert set(hpas) == {"invoicer-gateway", "invoicer-worker"}
    for name, hpa in hpas.items():
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        # The autoscaler owns the replica count.
        assert "replicas" not in bundle.one(objects, "Deployment", name)["spec"]
    assert bundle.find(objects, "ScaledObject") == []
    minimal = bundle.objects("minimal", "invoicer")
    assert bundle.find(minimal, "HorizontalPodAutoscaler") == []
    assert bundle.find(minimal, "PodDisruptionBudget") == []
    assert bundle.one(minimal, "Deployment", "shop-invoicer-gateway")["spec"]["replicas"] == 1


def test_keda_scales_workers_on_the_render_queue(bundle):
    """With worker.keda.enabled a ScaledObject watches <AMQP_PREFIX>.invoice.render
    (the queue the worker consumes) and replaces the worker's CPU autoscaler."""
    expected_secret = {
        "full": ("invoicer-rabbitmq", "url"),
        "external-urls": ("invoicer", "AMQP_URL"),
        "external-secrets": ("mq-credentials", "url"),
    }
    for case, (secret, key) in expected_secret.items():
        objects = bundle.objects(case, "invoicer")
        scaled = bundle.one(objects, "ScaledObject", "invoicer-worker")
        prefix = bundle.one(objects, "ConfigMap", "invoicer")["data"]["AMQP_PREFIX"]
        (trigger,) = scaled["spec"]["triggers"]
        assert trigger["type"] == "rabbitmq"
        assert trigger["metadata"]["queueName"] == Topology(prefix).queue(RENDER)
        assert trigger["metadata"]["mode"] == "QueueLength"
        assert scaled["spec"]["scaleTargetRef"]["name"] == "invoicer-worker"
        auth = bundle.one(objects, "TriggerAuthentication", trigger["authenticationRef"]["name"])
        (ref,) = auth["spec"]["secretTargetRef"]
        assert (ref["parameter"], ref["name"], ref["key"]) == ("host", secret, key)
        assert [h["metadata"]["name"] for h in bundle.find(objects, "HorizontalPodAutoscaler")] == ["invoicer-gateway"]
        assert "replicas" not in bundle.one(objects, "Deployment", "invoicer-worker")["spec"]
    assert Topology("billing").queue(RENDER) == "billing.invoice.render"
    # The development broker's Secret has the key KEDA is pointed at by default.
    rabbit = bundle.one(bundle.objects("default", "rabbitmq"), "Secret", "invoicer-rabbitmq")
    assert _secret_data(rabbit)["url"].startswith("amqp://invoicer:")


def test_every_consumer_can_scale_on_its_own_queues_with_keda(bundle):
    """Every component that consumes queues has a ``keda`` block, off by default, naming
    exactly the registry's queues of that component; turned on, its ScaledObject has one
    trigger per queue (<AMQP_PREFIX>.<routing key>) and its Deployment no fixed replicas."""
    values = bundle.charts["invoicer"]["values"]["components"]
    consumers = {c.name: [q.routing_key for q in c.queues] for c in registry.COMPONENTS if c.queues}
    assert {"worker", "intake", "notification", "webhook"} <= set(consumers)
    for name, keys in consumers.items():
        keda = values[name]["keda"]
        assert keda["enabled"] is False, name
        assert keda["queues"] == keys, f"components.{name}.keda.queues differs from the registry"
    no_queues = {name for name, c in values.items() if "keda" in c} - set(consumers)
    assert not no_queues, f"keda on components without queues: {no_queues}"

    objects = bundle.objects("external-urls", "invoicer")
    prefix = bundle.one(objects, "ConfigMap", "invoicer")["data"]["AMQP_PREFIX"]
    scaled = {o["metadata"]["name"]: o for o in bundle.find(objects, "ScaledObject")}
    assert set(scaled) == {"invoicer-worker", "invoicer-intake", "invoicer-notification"}
    for name in ("intake", "notification"):
        spec = scaled[f"invoicer-{name}"]["spec"]
        assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"invoicer-{name}"}
        queues = [t["metadata"]["queueName"] for t in spec["triggers"]]
        assert queues == [Topology(prefix).queue(key) for key in consumers[name]]
        assert {t["authenticationRef"]["name"] for t in spec["triggers"]} == {f"invoicer-{name}"}
        auth = bundle.one(objects, "TriggerAuthentication", f"invoicer-{name}")
        assert [(r["name"], r["key"]) for r in auth["spec"]["secretTargetRef"]] == [("invoicer", "AMQP_URL")]
        assert "replicas" not in bundle.one(objects, "Deployment", f"invoicer-{name}")["spec"]
    assert scaled["invoicer-intake"]["spec"]["triggers"][0]["metadata"]["queueName"] == f"{prefix}.expense.read"
    # the components left off keep their fixed replica count
    assert bundle.one(objects, "Deployment", "invoicer-webhook")["spec"]["replicas"] == 1


def test_ingress_is_optional_and_sets_the_public_url(bundle):
    default = bundle.objects("default", "invoicer")
    assert bundle.find(default, "Ingress") == []
    data = bundle.one(default, "ConfigMap", "invoicer")["data"]
    assert data["PUBLIC_URL"] == "http://localhost:8080"
    assert "TRUSTED_PROXY_HOPS" not in data

    full = bundle.objects("full", "invoicer")
    ingress = bundle.one(full, "Ingress", "invoicer-gateway")
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "invoices.example.com"
    (path,) = rule["http"]["paths"]
    assert path["backend"]["service"] == {"name": "invoicer-gateway", "port": {"name": "http"}}
    assert ingress["spec"]["tls"] == [{"hosts": ["invoices.example.com"], "secretName": "invoicer-tls"}]
    data = bundle.one(full, "ConfigMap", "invoicer")["data"]
    assert data["PUBLIC_URL"] == "https://invoices.example.com"
    assert data["TRUSTED_PROXY_HOPS"] == "1"
    assert data["MAX_UPLOAD_BYTES"] == "2097152", "integers must not turn into 2.097152e+06"
    assert data["SMTP_STARTTLS"] == "true"


def test_jwt_secret_is_generated_given_or_existing(bundle, components):
    secret = bundle.one(bundle.objects("default", "invoicer"), "Secret", "invoicer")
    assert re.fullmatch(r"[A-Za-z0-9]{48}", _secret_data(secret)["JWT_SECRET"])
    full = bundle.one(bundle.objects("full", "invoicer"), "Secret", "invoicer")
    assert _secret_data(full)["JWT_SECRET"] == "j" * 40
    assert _secret_data(full)["SMTP_PASSWORD"] == "mail-secret"
    # With an existing Secret the chart makes none and points at that one.
    objects = bundle.objects("external-secrets", "invoicer")
    assert [s["metadata"]["name"] for s in bundle.find(objects, "Secret")] == []
    signers = {name for name, c in components.items() if "JWT_SECRET" in c.secrets}
    assert {"auth", "gateway"} <= signers and not {"worker", "notification", "migrate"} & signers
    for component in signers:
        (container,) = bundle.containers(bundle.one(objects, "Deployment", f"invoicer-{component}"))
        ref = _env(container)["JWT_SECRET"]["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"]) == ("invoicer-own", "JWT_SECRET")
    # Only the services that sign or check tokens get the key; only notification gets SMTP.
    assert {name for name, c in components.items() if "SMTP_PASSWORD" in c.secrets} == {"notification"}
    for name, component in components.items():
        if component.is_job:
            continue
        env = _env(bundle.containers(_deployment(bundle, "default", name))[0])
        for var in ("JWT_SECRET", "SMTP_USERNAME", "SMTP_PASSWORD"):
            assert (var in env) == (var in component.secrets), (name, var)
        if "SMTP_PASSWORD" in env:
            assert env["SMTP_PASSWORD"]["valueFrom"]["secretKeyRef"]["optional"] is True


def test_each_service_gets_only_the_connections_it_uses(bundle, components, component_tools):
    """The connection URLs of the backends in components.<name>.uses, no others."""
    urls = component_tools.BACKENDS
    uses = {name: {urls[backend] for backend in c.uses} for name, c in components.items()}
    for name, expected in {
        "auth": {"DATABASE_URL"},
        "gateway": {"DATABASE_URL", "MONGODB_URI", "AMQP_URL"},
        "worker": {"DATABASE_URL", "MONGODB_URI", "AMQP_URL"},
        "notification": {"DATABASE_URL", "AMQP_URL"},
        "migrate": {"DATABASE_URL"},
        "cleanup": {"DATABASE_URL", "MONGODB_URI"},
    }.items():
        assert uses[name] == expected, name
    objects = bundle.objects("default", "invoicer")
    for name, component in components.items():
        kind = ("CronJob" if "schedule" in component.values["job"] else "Job") if component.is_job else "Deployment"
        workload = bundle.one(objects, kind, f"invoicer-{name}")
        (container,) = bundle.containers(workload)
        assert set(urls.values()) & set(_env(container)) == uses[name], name


def test_connections_to_the_development_charts_by_default(bundle):
    (container,) = bundle.containers(_deployment(bundle, "default", "gateway"))
    env = _env(container)
    assert (
        env["DATABASE_URL"]["value"] == "postgresql://invoicer:$(DATABASE_PASSWORD)@invoicer-postgresql:5432/invoicer"
    )
    assert env["MONGODB_URI"]["value"] == "mongodb://invoicer:$(MONGODB_PASSWORD)@invoicer-mongodb:27017/invoicer"
    assert env["AMQP_URL"]["value"] == "amqp://invoicer:$(AMQP_PASSWORD)@invoicer-rabbitmq:5672/%2F"
    # Each password comes from the Secret of the chart installed beside, under a key it has.
    infra_secrets = {}
    for chart in ("postgresql", "mongodb", "rabbitmq"):
        for secret in bundle.find(bundle.objects("default", chart), "Secret"):
            infra_secrets[secret["metadata"]["name"]] = _secret_data(secret)
    for helper in URL_HELPERS:
        ref = env[helper]["valueFrom"]["secretKeyRef"]
        assert ref["key"] in infra_secrets[ref["name"]], ref


def test_connections_to_managed_services(bundle):
    # Complete URLs, kept in the chart's Secret; the migration hook gets its own copy.
    objects = bundle.objects("external-urls", "invoicer")
    secret = _secret_data(bundle.one(objects, "Secret", "invoicer"))
    (container,) = bundle.containers(bundle.one(objects, "Deployment", "invoicer-worker"))
    env = _env(container)
    for var, url in (
        ("DATABASE_URL", "postgresql://app:pw@db.example.com:5432/invoicer?sslmode=require"),
        ("MONGODB_URI", "mongodb://app:pw@mongo.example.com:27017/invoicer?tls=true"),
        ("AMQP_URL", "amqps://app:pw@mq.example.com:5671/invoicer"),
    ):
        assert env[var]["valueFrom"]["secretKeyRef"] == {"name": "invoicer", "key": var}
        assert secret[var] == url
    assert not URL_HELPERS & set(env)
    hook_secret = [s for s in bundle.find(objects, "Secret", "invoicer-migrate") if bundle.is_hook(s)]
    assert len(hook_secret) == 1 and _secret_data(hook_secret[0]) == {"DATABASE_URL": secret["DATABASE_URL"]}

    # Parts and Secrets of the user's own.
    objects = bundle.objects("external-secrets", "invoicer")
    (container,) = bundle.containers(bundle.one(objects, "Deployment", "invoicer-gateway"))
    env = _env(container)
    assert (
        env["DATABASE_URL"]["value"]
        == "postgresql://app:$(DATABASE_PASSWORD)@db.example.com:5432/invoicer?sslmode=require"
    )
    assert env["DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "pg-credentials", "key": "pw"}
    assert env["MONGODB_URI"]["valueFrom"]["secretKeyRef"] == {"name": "mongo-credentials", "key": "uri"}
    assert env["AMQP_URL"]["value"] == "amqps://invoicer:$(AMQP_PASSWORD)@mq.example.com:5671/billing"
    assert env["AMQP_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "mq-credentials", "key": "password"}
    assert bundle.find(objects, "Secret", "invoicer-migrate") == []


def test_development_charts_are_stateful_pinned_and_keep_secrets_out_of_env(bundle):
    images = {"postgresql": "postgres:16", "mongodb": "mongo:7", "rabbitmq": "rabbitmq:3.13-management"}
    for chart, image in images.items():
        objects = bundle.objects("default", chart)
        (statefulset,) = bundle.find(objects, "StatefulSet")
        (container,) = bundle.containers(statefulset)
        assert container["image"] == image
        assert statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
        assert all("valueFrom" not in entry for entry in container.get("env", [])), (
            f"{chart}: a secret in the environment"
        )
        secret_volumes = [v for v in bundle.pod_spec(statefulset)["volumes"] if "secret" in v]
        assert secret_volumes, f"{chart}: credentials are not mounted"
        headless = bundle.one(objects, "Service", f"invoicer-{chart}-headless")
        assert statefulset["spec"]["serviceName"] == headless["metadata"]["name"]
    # Without persistence the data lives in an emptyDir.
    (statefulset,) = bundle.find(bundle.objects("full", "postgresql"), "StatefulSet")
    assert "volumeClaimTemplates" not in statefulset["spec"]
    assert {"name": "data", "emptyDir": {}} in bundle.pod_spec(statefulset)["volumes"]
    # Given passwords are used; generated ones are long.
    assert (
        _secret_data(bundle.one(bundle.objects("full", "postgresql"), "Secret", "invoicer-postgresql"))["password"]
        == "pg-password"
    )
    generated = _secret_data(bundle.one(bundle.objects("default", "mongodb"), "Secret", "invoicer-mongodb"))
    assert len(generated["password"]) == 32 and generated["password"] != generated["root-password"]


def test_notes_show_the_port_forward_and_curl_flow(bundle):
    notes = bundle.render("default")["notes"]
    assert "kubectl --namespace invoicer port-forward service/invoicer-gateway 8080:8080" in notes
    for step in ("/register", "/login", "/upload?formats=pdf,xlsx", "/jobs/", "/download?fid="):
        assert step in notes, step
    assert "https://invoices.example.com" in bundle.render("full")["notes"]


# --- adding a component ---------------------------------------------------------------


def test_a_new_component_is_one_entry_in_the_map(bundle, k8s):
    """The "added-component" case (conftest.ADDED_COMPONENT: an HTTP service
    "reports" using PostgreSQL and RabbitMQ, called by the gateway) gets its
    Deployment, Service, budget and NetworkPolicy, its connections, its URL in
    the ConfigMap and the database clients' labels from the shared templates,
    and lints clean; nothing else changes."""
    for chart, report in bundle.lint["added-component"].items():
        assert report["errors"] == [] and not [m for m in report["messages"] if m["severity"] >= 2], chart
    objects = bundle.objects("added-component", "invoicer")
    deployment = bundle.one(objects, "Deployment", "invoicer-reports")
    (container,) = bundle.containers(deployment)
    assert container["args"] == ["reports"]
    env = _env(container)
    assert env["REPORTS_BIND"]["value"] == "0.0.0.0:8083"
    assert {"DATABASE_URL", "AMQP_URL", "JWT_SECRET"} <= set(env) and "MONGODB_URI" not in env
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    labels = bundle.pod_template(deployment)["metadata"]["labels"]
    assert labels["invoicer/postgresql-client"] == labels["invoicer/rabbitmq-client"] == "true"
    assert "invoicer/mongodb-client" not in labels
    (port,) = bundle.one(objects, "Service", "invoicer-reports")["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (8083, "http")
    assert bundle.one(objects, "ConfigMap", "invoicer")["data"]["REPORTS_URL"] == "http://invoicer-reports:8083"
    assert bundle.find(objects, "PodDisruptionBudget", "invoicer-reports")
    assert bundle.find(objects, "NetworkPolicy", "invoicer-reports")
    # Everything the default render has is still there, unchanged but for the ConfigMap's new URL.
    before = {(o["kind"], o["metadata"]["name"]): o for o in bundle.objects("default", "invoicer")}
    after = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    assert set(after) - set(before) == {
        (kind, "invoicer-reports") for kind in ("Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy")
    }
    for key in set(before) - {("ConfigMap", "invoicer"), ("Secret", "invoicer")}:
        if key[0] in ("Deployment",):  # the config checksum changes with the ConfigMap
            assert after[key]["spec"]["template"]["spec"] == before[key]["spec"]["template"]["spec"], key
        else:
            assert after[key] == before[key], key


# --- use as a subchart, dependencies, scheduling, icon --------------------------------


def test_global_values_are_accepted_by_every_chart(bundle):
    # Helm hands `global:` to a chart used as a subchart; a closed schema must take it.
    for name, chart in bundle.charts.items():
        assert "global" in chart["schema"]["properties"], name
    bundle.render("bundled")


def test_database_charts_are_dependencies_switched_by_enabled(bundle):
    dependencies = {d["name"]: d for d in bundle.charts["invoicer"]["metadata"]["dependencies"]}
    assert {name: d["condition"] for name, d in dependencies.items()} == {
        "postgresql": "postgresql.enabled",
        "mongodb": "mongodb.enabled",
        "rabbitmq": "rabbitmq.enabled",
    }
    # Off by default: the README's flow installs them as releases of their own.
    assert not bundle.find(bundle.objects("default", "invoicer"), "StatefulSet")
    objects = bundle.objects("bundled", "invoicer")
    statefulsets = {obj["metadata"]["name"] for obj in bundle.find(objects, "StatefulSet")}
    assert statefulsets == {"invoicer-postgresql", "invoicer-mongodb", "invoicer-rabbitmq"}
    # The app connects to them with the same default values as to separate releases.
    (container,) = bundle.containers(_deployment(bundle, "bundled", "gateway"))
    env = _env(container)
    assert "@invoicer-postgresql:5432/" in env["DATABASE_URL"]["value"]
    secrets = {obj["metadata"]["name"]: _secret_data(obj) for obj in bundle.find(objects, "Secret")}
    for helper in URL_HELPERS:
        ref = env[helper]["valueFrom"]["secretKeyRef"]
        assert ref["key"] in secrets[ref["name"]], ref


def test_scheduling_per_component_over_the_chart_wide_values(bundle):
    worker = bundle.pod_spec(_deployment(bundle, "bundled", "worker"))
    assert worker["nodeSelector"] == {"example.com/pool": "render"}
    assert worker["tolerations"][0]["key"] == "render"
    assert "podAntiAffinity" in worker["affinity"]
    gateway = bundle.pod_spec(_deployment(bundle, "bundled", "gateway"))
    assert gateway["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert "tolerations" not in gateway and "affinity" not in gateway


def test_chart_icon_is_the_web_app_favicon(bundle):
    icon = bundle.charts["invoicer"]["metadata"]["icon"]
    prefix = "data:image/svg+xml;base64,"
    assert icon.startswith(prefix)
    favicon = ROOT / "src/invoicer/gateway/web/static/favicon.svg"
    assert base64.b64decode(icon[len(prefix) :]) == favicon.read_bytes()
