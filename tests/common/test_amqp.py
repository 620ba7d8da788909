"""The per-queue retry policy the consumers apply (settle), unit-tested
with stand-in handlers; the consumer loop itself is tested against the real
broker in tests/worker (test_dead_letters.py, test_long_jobs.py)."""

from __future__ import annotations

import pytest

from invoicer.common import components
from invoicer.common.amqp import (
    MAIL,
    READY,
    RENDER,
    DeadLetter,
    Done,
    Permanent,
    QueuePolicy,
    Retry,
    Topology,
    Transient,
    settle,
)
from invoicer.common.config import Settings


def test_each_queue_gets_its_own_retry_limit_and_the_same_delays():
    topology = Topology.from_settings(
        Settings(amqp_prefix="p", job_max_retries=2, notify_max_retries=7, retry_base_delay_ms=100)
    )
    assert topology.policy(RENDER) == QueuePolicy(2, (100, 400, 1600, 6400, 25600))
    assert topology.policy(READY) == QueuePolicy(7, (100, 400, 1600, 6400, 25600))
    assert [topology.policy(READY).delay_ms(retry) for retry in (1, 2, 5, 6, 9)] == [100, 400, 25600, 25600, 25600]


def test_the_declared_queues_are_those_the_broker_already_has():
    """RabbitMQ refuses a queue redeclared with other arguments, so the
    names (and delays) must not change."""
    names = Topology.from_settings(Settings(amqp_prefix="p")).queue_names()
    # invoice.mail's queues are new (records' mails); the others are as they were.
    for key in (RENDER, READY, MAIL):
        assert f"p.{key}" in names and f"p.{key}.dead" in names
    # Every queue of the registry, no other: its work queue, its dead letters, one retry queue per delay.
    expected = []
    for queue in components.queues():
        key = queue.routing_key
        expected += [
            f"p.{key}",
            f"p.{key}.dead",
            *(f"p.{key}.retry.{ms}ms" for ms in (1000, 4000, 16000, 64000, 256000)),
        ]
    assert names == expected


class Handler:
    def __init__(self, error: Exception | None = None, hook_error: Exception | None = None):
        self.error, self.hook_error = error, hook_error
        self.dead: list[tuple[bytes, str, str]] = []

    def __call__(self, body, correlation_id):
        if self.error is not None:
            raise self.error
        return Done()

    def on_dead_letter(self, body, code, reason):
        if self.hook_error is not None:
            raise self.hook_error
        self.dead.append((body, code, reason))


POLICY = QueuePolicy(max_retries=2)


def test_success_is_done():
    assert settle(Handler(), POLICY, b"m", 0) == Done()


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (Transient("smtp down"), "smtp down"),
        (ZeroDivisionError("oops"), "unexpected ZeroDivisionError: oops"),
    ],
)
def test_transient_and_unexpected_errors_are_retried_up_to_the_limit(error, reason):
    handler = Handler(error)
    assert [settle(handler, POLICY, b"m", retries) for retries in (0, 1)] == [Retry(reason)] * 2
    assert handler.dead == []
    assert settle(handler, POLICY, b"m", 2) == DeadLetter("retries_exhausted", f"gave up after 2 retries: {reason}")
    assert handler.dead == [(b"m", "retries_exhausted", f"gave up after 2 retries: {reason}")]


def test_a_transient_error_may_name_the_code_it_fails_with():
    handler = Handler(Transient("renderer crashed", code="render_error"))
    assert settle(handler, POLICY, b"m", 2).code == "render_error"


def test_a_permanent_error_is_dead_lettered_at_once():
    handler = Handler(Permanent("input_missing", "gone"))
    assert settle(handler, POLICY, b"m", 0) == DeadLetter("input_missing", "gone")
    assert handler.dead == [(b"m", "input_missing", "gone")]


def test_a_failure_the_hook_cannot_record_is_retried_instead():
    handler = Handler(Permanent("input_missing", "gone"), hook_error=ConnectionError("database down"))
    outcome = settle(handler, POLICY, b"m", 5)
    assert isinstance(outcome, Retry)
    assert "database down" in outcome.reason and "input_missing: gone" in outcome.reason


def test_a_handler_without_a_hook_is_dead_lettered_all_the_same():
    def handler(body, correlation_id):
        raise Permanent("bad", "never")

    assert settle(handler, POLICY, b"m", 0) == DeadLetter("bad", "never")
