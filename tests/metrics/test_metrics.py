"""GET /metrics of every process, as Prometheus scrapes it: the local stack
writes each process's address into var/stack.env (METRICS_URL_<COMPONENT>),
the counters move when a user uploads an invoice, gunicorn's workers all
count, and a consumer reports what it dead-lettered."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pika
import requests
from devstack import metrics_lines

from invoicer.common import components
from invoicer.common.amqp import RENDER, Topology

from .conftest import scrape, value, wait_for


def _children(pid: int) -> list[int]:
    """The pids of ``pid``'s child processes (gunicorn's master: its workers)."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_every_component_of_the_registry_serves_metrics_where_stack_env_says(stack):
    env_file = stack.stack.env_file.read_text()
    for component in components.of_kind("http", "consumer"):
        variable = component.metrics_url_variable
        assert f"{variable}=http://127.0.0.1:" in env_file, f"{variable} missing from {stack.stack.env_file}"
        url = stack.env[variable]
        assert url.endswith("/metrics")
        samples = scrape(url)
        assert any(name.startswith("invoicer_") for name, _ in samples), f"{component.name}: no invoicer_ metric"
    # make demo prints where to see them: one line per process, as in var/stack.env.
    lines = metrics_lines(stack.env)
    assert len(lines) == len(components.of_kind("http", "consumer"))
    assert all(line in env_file.splitlines() for line in lines)
    # The HTTP services keep /metrics off their public port.
    assert requests.get(f"{stack.base_url}/metrics", timeout=10).status_code == 404
    # Consumers: their loop's last poll is recent.
    worker = scrape(stack.env["METRICS_URL_WORKER"])
    assert time.time() - value(worker, "invoicer_consumer_last_poll_timestamp_seconds", queue=RENDER) < 30
    relay = scrape(stack.env["METRICS_URL_OUTBOX_RELAY"])
    assert time.time() - value(relay, "invoicer_consumer_last_poll_timestamp_seconds", queue="outbox") < 30
    assert ("invoicer_outbox_backlog", frozenset()) in relay
    assert ("invoicer_outbox_oldest_age_seconds", frozenset()) in relay


def test_an_upload_moves_the_request_job_and_render_metrics(stack, client, example_bytes):
    gateway_url, worker_url = stack.env["METRICS_URL_GATEWAY"], stack.env["METRICS_URL_WORKER"]
    gateway_before, worker_before = scrape(gateway_url), scrape(worker_url)

    reply = client.upload(example_bytes, formats="pdf,xlsx")
    assert reply.status_code == 202, reply.text
    assert client.wait(reply.json()["job_id"])["status"] == "done"

    gateway, worker = scrape(gateway_url), scrape(worker_url)

    def moved(before, after, name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    # Other tests may share the stack: at least ours is counted.
    upload = {"route": "/upload", "method": "POST", "status": "202"}
    assert moved(gateway_before, gateway, "invoicer_http_requests_total", **upload) >= 1
    duration = {"route": "/upload", "method": "POST"}
    assert moved(gateway_before, gateway, "invoicer_http_request_duration_seconds_count", **duration) >= 1
    assert value(gateway, "invoicer_http_requests_total", route="/jobs/<job_id>", method="GET", status="200") >= 1
    assert moved(gateway_before, gateway, "invoicer_jobs_accepted_total", source="upload") >= 1
    assert moved(worker_before, worker, "invoicer_jobs_done_total") >= 1
    assert moved(worker_before, worker, "invoicer_job_upload_to_done_seconds_count") >= 1
    for fmt in ("pdf", "xlsx"):
        assert moved(worker_before, worker, "invoicer_render_duration_seconds_count", format=fmt) >= 1
        assert value(worker, "invoicer_render_duration_seconds_sum", format=fmt) > 0
    assert value(worker, "invoicer_queue_messages", queue=RENDER) >= 0  # read from the broker


def test_multiprocess_mode_counts_every_request_of_every_gunicorn_worker(own_http_service):
    base = f"http://{own_http_service.env['BIND']}"
    route = {"route": "/healthz", "method": "GET", "status": "200"}
    assert value(scrape(own_http_service.metrics_url), "invoicer_http_requests_total", **route) == 0
    master = own_http_service.process.pid
    wait_for(lambda: len(_children(master)) == 3, 30, "gunicorn's three workers")
    workers = _children(master)

    def get(_: int) -> None:
        # A new connection each time, so the kernel hands them to different workers.
        assert requests.get(f"{base}/healthz", timeout=60, headers={"Connection": "close"}).status_code == 200

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(get, range(30)))
    assert value(scrape(own_http_service.metrics_url), "invoicer_http_requests_total", **route) == 30

    # A worker that goes away (recycled, killed) keeps what it counted; its replacement counts on.
    os.kill(workers[0], signal.SIGKILL)
    wait_for(
        lambda: len(now := _children(master)) == 3 and workers[0] not in now,
        30,
        "gunicorn to replace the killed worker",
    )
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(get, range(30)))
    samples = scrape(own_http_service.metrics_url)
    assert value(samples, "invoicer_http_requests_total", **route) == 60
    assert value(samples, "invoicer_http_request_duration_seconds_count", route="/healthz", method="GET") == 60


def test_a_dead_lettered_message_is_counted_and_its_queue_depth_reported(own_worker):
    assert value(scrape(own_worker.metrics_url), "invoicer_dead_letter_messages", queue=RENDER) == 0
    topology = Topology(own_worker.env["AMQP_PREFIX"])
    connection = pika.BlockingConnection(pika.URLParameters(own_worker.env["AMQP_URL"]))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(topology.exchange, RENDER, b"this can never be rendered", mandatory=True)
    finally:
        connection.close()

    def dead_lettered() -> bool:
        samples = scrape(own_worker.metrics_url)
        counted = value(samples, "invoicer_messages_dead_lettered_total", queue=RENDER, reason="malformed_message")
        return counted == 1 and value(samples, "invoicer_dead_letter_messages", queue=RENDER) == 1

    wait_for(dead_lettered, 30, "the worker to dead-letter the message and report it")


def test_stack_env_of_an_older_stack_gets_the_metrics_urls(tmp_path):
    """An env file written before metrics existed is completed, as for a new service."""
    from devstack import Stack, read_env

    var = tmp_path / "var"
    var.mkdir()
    (var / "stack.env").write_text(
        "GATEWAY_BIND=127.0.0.1:1\nAUTH_BIND=127.0.0.1:2\nAUTH_URL=http://127.0.0.1:2\n"
        "INVOICES_BIND=127.0.0.1:3\nINVOICES_URL=http://127.0.0.1:3\n"
    )
    env = Stack(var=var, root=Path.cwd()).settings()
    assert read_env(var / "stack.env") == env
    names = {c.metrics_url_variable for c in components.of_kind("http", "consumer")}
    assert names == {"METRICS_URL_AUTH", "METRICS_URL_INVOICES", "METRICS_URL_GATEWAY", "METRICS_URL_WORKER"} | {
        "METRICS_URL_NOTIFICATION",
        "METRICS_URL_OUTBOX_RELAY",
        "METRICS_URL_EXPENSES",
        "METRICS_URL_INTAKE",
        "METRICS_URL_WEBHOOK",
    }
    assert names <= set(env)
    ports = {env[name] for name in names}
    assert len(ports) == len(names), "one port per process"
