"""The expenses service (issue 19): received supplier invoices and receipts, read by the
intake worker (:mod:`.intake`) with a confidence per field, reviewed, approved and paid.

:mod:`.routes` speaks HTTP, :mod:`.records` holds the rules, :mod:`.models` the shapes,
:mod:`.contract` the OpenAPI fragment the gateway publishes.
"""
