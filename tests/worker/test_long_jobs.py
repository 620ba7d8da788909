"""A handler that takes longer than the broker's heartbeat does not cost
the connection: the consumer answers heartbeats while the handler works on
its own thread, and acks once. Over the real broker."""

from __future__ import annotations

import threading
import time

import pika
import pytest

from invoicer.common.amqp import RENDER, Done


class SlowHandler:
    """Works ``seconds`` per message, counting calls."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.calls = 0
        self.finished = threading.Event()

    def __call__(self, body, correlation_id):
        self.calls += 1
        time.sleep(self.seconds)
        self.finished.set()
        return Done()


@pytest.fixture
def channel(stack):
    connection = pika.BlockingConnection(pika.URLParameters(stack.env["AMQP_URL"]))
    yield connection.channel()
    connection.close()


def test_a_handler_slower_than_the_heartbeat_finishes_and_is_acked_once(stack, channel, own_topology, consume):
    topology = own_topology()
    topology.declare(channel)
    handler = SlowHandler(seconds=6)
    consumer = consume(topology, RENDER, handler, heartbeat=2)  # the broker drops a silent peer after ~4 s
    channel.basic_publish(topology.exchange, RENDER, b"slow", pika.BasicProperties(delivery_mode=2))

    assert handler.finished.wait(timeout=30), "the handler never ran"
    time.sleep(1.5)  # the ack follows at once
    consumer.stop()  # closing the connection would give back an unacked message
    time.sleep(3)  # ... and a redelivery would show up here
    assert handler.calls == 1, "the message was redelivered: the connection was dropped before the ack"
    assert consumer.connections == 1, "the consumer had to reconnect"
    assert channel.queue_declare(topology.queue(RENDER), passive=True).method.message_count == 0, (
        "the message was not acked"
    )
