"""SQL migrations of the invoices service, applied in name order by :func:`invoicer.common.db.migrate`."""
