"""The domain and persistence core of the ``invoices`` service (no web layer).

Modules, lowest first: :mod:`errors` (domain exceptions with a stable code),
:mod:`documents` (checks against the canonical invoice format; the one place
importing :mod:`invoicer.invoice`'s loader), :mod:`identity` (actors,
memberships, roles), :mod:`events` (its events in the outbox; the activity log),
:mod:`numbering` (gapless series), :mod:`organisations`, :mod:`clients`,
:mod:`invoices` (drafts and lifecycle), :mod:`payments`, :mod:`credit_notes`,
:mod:`orders`, :mod:`importing`, :mod:`queries` (list and dashboard),
:mod:`idempotency`. The outbox and its relay are common infrastructure
(:mod:`invoicer.common.outbox`, :mod:`invoicer.common.relay`).

Every operation takes a cursor of one transaction (``Database.transaction()``)
and a :class:`~invoicer.invoices.identity.Member`; the caller commits, so an
operation, its outbox event and an idempotency record commit or roll back
together. Money is :class:`decimal.Decimal`; totals come from
:mod:`invoicer.invoice.model`.
"""
