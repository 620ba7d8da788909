-- Where a message came from, for the logs and the traces of the services it
-- reaches (invoicer.common.outbox, invoicer.common.relay): the W3C
-- traceparent of the span that wrote the row (null when tracing is off) and
-- the X-Request-ID of the request it was written for (null outside one). The
-- relay sends both as AMQP headers (traceparent, x-request-id).
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS traceparent text;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS request_id text;
