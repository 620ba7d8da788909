"""Retention: ``invoicer cleanup`` deletes what is kept only for a while
(uploads, rendered files, job rows, delivery logs) once it is older than
``RETENTION_DAYS``, and never an issued invoice's or credit note's documents
before ``RETENTION_LEGAL_YEARS`` have passed since its issue. The rules are a
list (:data:`invoicer.retention.rules.RULES`): a new kind of record is one more
rule there."""
