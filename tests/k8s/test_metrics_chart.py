"""The chart's metrics options (values `metrics.*`), rendered offline: the HTTP
components' /metrics port, ServiceMonitors and PodMonitors, the scraper let
through the NetworkPolicies, the PrometheusRule made of files/alerts.yaml
(the file promtool tests) and the Grafana dashboard. All off by default."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client.metrics import MetricWrapperBase

from invoicer.common import metrics

from .test_network_policies import NAMESPACE, OUTSIDE_POD, _allowed, _pods

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "helm_charts" / "invoicer" / "files" / "alerts.yaml"
MONITORING = ("ServiceMonitor", "PodMonitor", "PrometheusRule")
PROMETHEUS = ("monitoring", {"kubernetes.io/metadata.name": "monitoring"}, {"app.kubernetes.io/name": "prometheus"})


def _env(container: dict) -> dict:
    return {item["name"]: item.get("value") for item in container.get("env", [])}


def _container(bundle, objects, component: str) -> dict:
    (container,) = bundle.containers(bundle.one(objects, "Deployment", f"invoicer-{component}"))
    return container


def test_off_by_default(bundle, components):
    objects = bundle.objects("default", "invoicer")
    assert not [o for o in objects if o["kind"] in MONITORING]
    assert not [o for o in bundle.find(objects, "ConfigMap") if "grafana_dashboard" in o["metadata"]["labels"]]
    for name, component in components.items():
        if component.http:
            container = _container(bundle, objects, name)
            assert "METRICS_PORT" not in _env(container)
            assert [port["name"] for port in container["ports"]] == ["http"]


def test_http_components_serve_metrics_on_a_port_of_their_own(bundle, components):
    objects = bundle.objects("metrics", "invoicer")
    port = bundle.charts["invoicer"]["values"]["metrics"]["port"]
    assert port == 9100
    for name, component in components.items():
        if not component.http:
            continue
        container = _container(bundle, objects, name)
        assert _env(container)["METRICS_PORT"] == str(port)
        assert bundle.port_number(container, "metrics") == port != component.http["port"]
        service = bundle.one(objects, "Service", f"invoicer-{name}")
        (metrics_port,) = [p for p in service["spec"]["ports"] if p["name"] == "metrics"]
        assert metrics_port["targetPort"] == "metrics" and metrics_port["port"] == port


def test_a_monitor_for_every_long_running_component(bundle, components):
    """A ServiceMonitor for each HTTP component (its Service's port "metrics"),
    a PodMonitor for each consumer (no Service: its pods' port "health", where
    /metrics is served beside /healthz); kube-prometheus-stack's label on each."""
    objects = bundle.objects("metrics", "invoicer")
    monitored = set()
    for name, component in components.items():
        if component.is_job:
            continue
        kind = "ServiceMonitor" if component.http else "PodMonitor"
        monitor = bundle.one(objects, kind, f"invoicer-{name}")
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
        (endpoint,) = monitor["spec"]["endpoints" if component.http else "podMetricsEndpoints"]
        assert (endpoint["path"], endpoint["interval"], endpoint["scrapeTimeout"]) == ("/metrics", "30s", "10s")
        selector = monitor["spec"]["selector"]["matchLabels"]
        if component.http:
            service = bundle.one(objects, "Service", f"invoicer-{name}")
            assert selector.items() <= service["metadata"]["labels"].items()
            assert endpoint["port"] in [p["name"] for p in service["spec"]["ports"]]
        else:
            deployment = bundle.one(objects, "Deployment", f"invoicer-{name}")
            assert selector.items() <= bundle.pod_template(deployment)["metadata"]["labels"].items()
            (container,) = bundle.containers(deployment)
            assert bundle.port_number(container, endpoint["port"]) == component.port
        monitored.add(name)
    assert {"auth", "gateway", "worker", "notification", "outbox-relay"} <= monitored


def test_the_monitoring_api_must_be_there(bundle):
    """Asked for where Helm does not see monitoring.coreos.com/v1 (an offline
    render, a cluster without the Prometheus Operator): no monitors, no rule;
    the HTTP components serve /metrics all the same."""
    objects = bundle.objects("metrics-without-crds", "invoicer")
    assert not [o for o in objects if o["kind"] in MONITORING]
    assert _env(_container(bundle, objects, "gateway"))["METRICS_PORT"] == "9100"


def test_the_scraper_reaches_every_metrics_port_and_only_those(bundle, components):
    objects = bundle.objects("metrics", "invoicer")
    policies = bundle.find(objects, "NetworkPolicy")
    pods = _pods(bundle, objects)
    for name, component in components.items():
        if component.is_job:
            continue
        metrics_port = 9100 if component.http else component.port
        assert _allowed(policies, pods[name], metrics_port, PROMETHEUS), f"{name}: scraper shut out"
        assert not _allowed(policies, pods[name], metrics_port, OUTSIDE_POD), f"{name}: metrics open to anyone"
    # The scraper gets nothing else: auth's API stays the gateway's alone.
    assert not _allowed(policies, pods["auth"], components["auth"].port, PROMETHEUS)


def test_the_prometheus_rule_is_the_alerts_file_with_the_threshold_set(bundle):
    objects = bundle.objects("metrics", "invoicer")
    (rule,) = bundle.find(objects, "PrometheusRule")
    source = yaml.safe_load(ALERTS.read_text())["groups"]
    rendered = rule["spec"]["groups"]
    assert [g["name"] for g in rendered] == [g["name"] for g in source]
    for ours, theirs in zip(rendered, source, strict=True):
        for a, b in zip(ours["rules"], theirs["rules"], strict=True):
            if a["alert"] == "InvoicerUploadToDoneSlow":  # uploadToDoneP95Seconds: 300 in this case
                assert "> 300  # p95 threshold" in a["expr"] and "> 120  # p95 threshold" in b["expr"]
                a = {**a, "expr": a["expr"].replace("> 300", "> 120")}
            assert a == b


def _sample_names() -> set[str]:
    """Every sample name the metrics of invoicer.common.metrics export."""
    suffixes = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}
    found = set()
    for item in vars(metrics).values():
        kind = getattr(item, "_type", None)
        if isinstance(item, MetricWrapperBase) and kind in suffixes:
            found |= {item._name + suffix for suffix in suffixes[kind]}
    # Read when scraped, by collectors (the outbox relay's).
    found |= {family.name for family in metrics.OutboxCollector(lambda: (0.0, 0.0)).collect()}
    return found


def test_the_dashboard_is_a_labelled_configmap_drawing_our_metrics(bundle):
    objects = bundle.objects("metrics", "invoicer")
    (dashboard,) = [o for o in bundle.find(objects, "ConfigMap") if "grafana_dashboard" in o["metadata"]["labels"]]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert dashboard["metadata"]["annotations"] == {"grafana_folder": "invoicer"}
    board = json.loads(dashboard["data"]["invoicer.json"])
    exprs = [target["expr"] for panel in board["panels"] for target in panel.get("targets", [])]
    assert len(exprs) > 15
    used = {name for expr in exprs for name in re.findall(r"\binvoicer_[a-z_]+", expr)}
    known = _sample_names()
    assert "invoicer_http_requests_total" in known
    assert used <= known, f"the dashboard draws metrics nobody exports: {sorted(used - known)}"
    # Every metric of ours is on it.
    families = {name.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum") for name in used}
    assert {n.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum") for n in known} <= families
