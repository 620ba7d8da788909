"""SQL migrations of the shared infrastructure (the transactional outbox),
applied before every component's by ``invoicer migrate`` (see
:func:`invoicer.common.components.migration_packages`)."""
