"""The webhook process: ``invoicer webhook`` or ``python -m invoicer.webhook``.

One process, two threads: the consumer of the ``webhook.event`` queue
(:class:`~.recording.EventRecorder`: domain events become deliveries) and
the sender (:class:`~.sending.Sender`: due deliveries go out). SIGTERM or
SIGINT stops both; the sender finishes the attempt in hand first.
"""

from __future__ import annotations

import threading

from ..common.components import WEBHOOK
from ..common.config import Settings
from ..common.consumer_main import Liveness, run_consumers
from ..common.db import Database
from .recording import EventRecorder
from .sending import Sender

__all__ = ["main"]


def main() -> None:
    """Consume ``webhook.event`` and send deliveries until SIGTERM/SIGINT."""
    senders: list[Sender] = []
    threads: list[threading.Thread] = []
    sending = Liveness("webhook.sender")  # /healthz turns 503 when the sender's loop is stuck

    def build(settings: Settings) -> EventRecorder:
        sender = Sender(Database(settings.database_url, max_connections=2), settings, on_round=sending.beat)
        thread = threading.Thread(target=sender.run, name="webhook-sender")
        thread.start()
        senders.append(sender)
        threads.append(thread)
        return EventRecorder(Database(settings.database_url, max_connections=2))

    try:
        run_consumers("webhook", {WEBHOOK: build}, prefetch_setting="worker_prefetch", also_watched=(sending,))
    finally:
        for sender in senders:
            sender.stop()
        for thread in threads:
            thread.join()


if __name__ == "__main__":
    main()
