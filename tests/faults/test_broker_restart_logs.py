"""What a broker restart leaves in the logs: for each consumer (one per
queue of the worker and the notification service, as the component registry
lists them) one warning that the connection was lost and one line when it
consumes again, and one such pair from the outbox relay; no stack traces, no
error lines, however many reconnect attempts the outage took. On the test's
own RabbitMQ node (``private_rabbitmq``), never the shared one."""

from __future__ import annotations

import json
import time

from invoicer.common.components import by_name

#: The consumers of each process, by the queue they name in their lines.
CONSUMERS = {name: [queue.routing_key for queue in by_name(name).queues] for name in ("worker", "notification")}


def _records(stack, name: str, offset: int) -> list[dict]:
    with open(stack.stack.log_file(name), "rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            records.append({"message": line, "level": "not JSON"})
    return records


def test_a_broker_restart_is_one_warning_and_one_recovery_per_consumer(
    private_stack, private_rabbitmq, client_at, example_bytes, faults
):
    stack = private_stack
    names = [*CONSUMERS, "outbox-relay"]
    offsets = {name: stack.stack.log_file(name).stat().st_size for name in names}
    private_rabbitmq.ctl("stop_app")
    try:
        time.sleep(8)  # several reconnect attempts (0.5 s, 1 s, 2 s, 4 s apart)
    finally:
        private_rabbitmq.ctl("start_app")
    client = client_at(stack.base_url)
    job_id = client.upload(example_bytes, formats="pdf").json()["job_id"]
    assert client.wait(job_id, timeout=120)["status"] == "done"  # everything is back

    deadline = time.monotonic() + 60
    while True:
        records = {name: _records(stack, name, offsets[name]) for name in names}
        recovered = {
            name: [
                r
                for r in records[name]
                if r.get("message") in ("broker connection recovered", "outbox relay recovered")
            ]
            for name in names
        }
        if all(len(recovered[name]) == len(CONSUMERS.get(name, [None])) for name in names):
            break
        assert time.monotonic() < deadline, recovered
        time.sleep(0.5)
    prefix = stack.env["AMQP_PREFIX"]
    for name, queues in CONSUMERS.items():
        lost = [r for r in records[name] if r.get("message") == "broker connection lost; reconnecting"]
        assert sorted(r["queue"] for r in lost) == sorted(f"{prefix}.{queue}" for queue in queues), lost
        assert sorted(r["queue"] for r in recovered[name]) == sorted(f"{prefix}.{queue}" for queue in queues)
        assert all(r["outage_s"] > 0 for r in recovered[name])
    relay_lost = [r for r in records["outbox-relay"] if r.get("message") == "outbox relay cannot publish; retrying"]
    assert len(relay_lost) == 1, relay_lost
    for name in names:
        loud = [r for r in records[name] if r.get("level") not in ("INFO", "DEBUG")]
        expected = len(CONSUMERS.get(name, [None]))
        assert len(loud) == expected, json.dumps(loud, indent=1)[:3000]
        assert not [r for r in records[name] if "exc_info" in r], name
