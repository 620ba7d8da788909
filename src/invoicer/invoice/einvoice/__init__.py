"""EN 16931 e-invoices: the official validation artefacts and what reads them.

* :mod:`.validation` checks a CII (UN/CEFACT Cross Industry Invoice D16B) or
  UBL 2.1 document, or the XML embedded in a Factur-X / ZUGFeRD / XRechnung
  PDF, against the XML Schemas and the official Schematron rules (CEN/TC 434
  EN 16931 v1.3.16; KoSIT XRechnung 3.0.2 with the Peppol BIS Billing 3.0
  rules merged), run in-process with saxonche.
* ``rules/`` holds those artefacts unchanged, with their licences and
  ``SOURCES.md`` (repository, commit and licence of each file).

Nothing here imports the rest of invoicer, and the heavy libraries (lxml,
saxonche, factur-x) are imported only by the functions that need them.
"""
