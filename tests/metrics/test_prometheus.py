"""A real Prometheus (Debian's, on a port and in a directory of its own)
scrapes every METRICS_URL_* of the local stack and a worker of the test's
own, evaluates files/alerts.yaml, and fires InvoicerDeadLetters once a
message that can never succeed has been dead-lettered, and not before."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pika
import pytest
import requests
import yaml
from devstack import free_port

from invoicer.common import components
from invoicer.common.amqp import RENDER, Topology

from .conftest import wait_for

ALERTS = Path(__file__).resolve().parents[2] / "helm_charts" / "invoicer" / "files" / "alerts.yaml"


def _target(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


@pytest.fixture
def prometheus(stack, own_worker, tmp_path):
    """Prometheus scraping the stack (one job per component, named after it)
    and the test's own worker (job ``own-worker``) every second, evaluating
    the alerts every second; its HTTP API's base URL."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is missing: `make install` installs Debian's prometheus package")
    jobs = [
        {"job_name": c.name, "static_configs": [{"targets": [_target(stack.env[c.metrics_url_variable])]}]}
        for c in components.of_kind("http", "consumer")
    ]
    jobs.append({"job_name": "own-worker", "static_configs": [{"targets": [_target(own_worker.metrics_url)]}]})
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],
        "scrape_configs": jobs,
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    address = f"127.0.0.1:{free_port()}"
    log = tmp_path / "prometheus.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address={address}",
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    base = f"http://{address}"

    def ready() -> bool:
        if process.poll() is not None:
            pytest.fail(f"prometheus exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            return requests.get(f"{base}/-/ready", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_for(ready, 60, "Prometheus to be ready")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _alerts(base: str, name: str) -> list[dict]:
    reply = requests.get(f"{base}/api/v1/alerts", timeout=5)
    assert reply.status_code == 200, reply.text
    return [alert for alert in reply.json()["data"]["alerts"] if alert["labels"]["alertname"] == name]


def test_prometheus_scrapes_the_stack_and_fires_the_dead_letter_alert(stack, own_worker, prometheus):
    expected = {c.name for c in components.of_kind("http", "consumer")} | {"own-worker"}

    def all_up() -> bool:
        targets = requests.get(f"{prometheus}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
        return {t["labels"]["job"] for t in targets if t["health"] == "up"} == expected

    wait_for(all_up, 60, f"Prometheus to scrape every target: {sorted(expected)}")
    # The rules are loaded and evaluated; nothing dead-lettered on the test's own queue yet.
    rules = requests.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
    assert "InvoicerDeadLetters" in {rule["name"] for group in rules for rule in group["rules"]}
    time.sleep(3)  # a few evaluations with the worker's queue depths scraped
    assert [a for a in _alerts(prometheus, "InvoicerDeadLetters") if a["labels"]["job"] == "own-worker"] == []

    # A message that can never succeed (not JSON): the worker dead-letters it at once.
    topology = Topology(own_worker.env["AMQP_PREFIX"])
    connection = pika.BlockingConnection(pika.URLParameters(own_worker.env["AMQP_URL"]))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(topology.exchange, RENDER, b"never an invoice", mandatory=True)
    finally:
        connection.close()

    def firing() -> list[dict]:
        return [
            a
            for a in _alerts(prometheus, "InvoicerDeadLetters")
            if a["labels"]["job"] == "own-worker" and a["state"] == "firing"
        ]

    wait_for(lambda: bool(firing()), 60, "InvoicerDeadLetters to fire for the test's own worker")
    (alert,) = firing()
    assert alert["labels"]["queue"] == RENDER
    assert alert["labels"]["severity"] == "warning"
    assert float(alert["value"]) == 1
