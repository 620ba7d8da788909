"""The webhook sender (issue 20): ``invoicer webhook``.

It consumes the domain events its queue is bound to (:data:`invoicer.common.components.WEBHOOK_EVENTS`
on the outbox relay's ``<AMQP_PREFIX>.events``) and records one delivery
per subscribed endpoint (:mod:`.recording`); a thread of the same process
sends the due deliveries, signed per Standard Webhooks, to addresses the
policy allows, and schedules the retries (:mod:`.sending`, :mod:`.transport`).
"""
