"""Fixtures for running a consumer loop in-process against the real broker,
on queue names of its own (a unique prefix), deleted afterwards."""

from __future__ import annotations

import threading
import uuid

import pika
import pytest

from invoicer.common.amqp import Consumer, Topology
from invoicer.common.config import Settings


@pytest.fixture
def own_topology(stack):
    """Factory: ``own_topology(**settings) -> Topology`` under a fresh prefix,
    with policies from ``Settings`` (e.g. ``retry_base_delay_ms=50``); its
    exchanges and queues are deleted when the test ends."""
    made: list[Topology] = []

    def _make(**overrides) -> Topology:
        settings = Settings(amqp_prefix=f"test_own_{uuid.uuid4().hex[:10]}", **overrides)
        topology = Topology.from_settings(settings)
        made.append(topology)
        return topology

    yield _make
    connection = pika.BlockingConnection(pika.URLParameters(stack.env["AMQP_URL"]))
    try:
        channel = connection.channel()
        for topology in made:
            for queue in topology.queue_names():
                channel.queue_delete(queue)
            for exchange in topology.exchange_names():
                channel.exchange_delete(exchange)
    finally:
        connection.close()


@pytest.fixture
def consume(stack):
    """Factory: ``consume(topology, routing_key, handler, **kwargs) -> Consumer``
    running :meth:`Consumer.run` on a thread until the test ends."""
    running: list[tuple[Consumer, threading.Thread]] = []

    def _start(topology: Topology, routing_key: str, handler, **kwargs) -> Consumer:
        consumer = Consumer(stack.env["AMQP_URL"], topology, routing_key, handler, **kwargs)
        thread = threading.Thread(target=consumer.run, daemon=True, name=f"test-consumer-{routing_key}")
        thread.start()
        running.append((consumer, thread))
        return consumer

    yield _start
    for consumer, thread in running:
        consumer.stop()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the consumer did not stop"
