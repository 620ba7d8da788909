"""The worker loads its renderers, fonts and locale data at start-up
(issue 13), so that the first job does not pay for them. Each check runs
in a fresh interpreter, where nothing is loaded yet."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import json, sys
from invoicer.common.config import Settings
from invoicer.worker.__main__ import warm_up
before = sorted(m for m in ("invoicer.invoice.render_pdf", "invoicer.invoice.render_xlsx") if m in sys.modules)
warm_up(Settings(invoice_locale=sys.argv[1]))
from reportlab.pdfbase import pdfmetrics
from babel import localedata
print(json.dumps({
    "before": before,
    "after": sorted(m for m in ("invoicer.invoice.render_pdf", "invoicer.invoice.render_xlsx") if m in sys.modules),
    "fonts": sorted(n for n in pdfmetrics.getRegisteredFontNames() if n.startswith("DejaVuSans")),
    "locales": sorted(localedata._cache),
}))
"""


def _probe(locale: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, locale], check=False, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_warm_up_loads_renderers_fonts_and_locale_data():
    seen = _probe("de_DE")
    assert seen["before"] == []  # importing the worker does not load them by itself
    assert seen["after"] == ["invoicer.invoice.render_pdf", "invoicer.invoice.render_xlsx"]
    assert seen["fonts"] == ["DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique"]
    assert "de_DE" in seen["locales"]


def test_a_failing_warm_up_does_not_stop_the_worker():
    # An unknown locale fails every render; the worker still starts and its
    # jobs report the error as before.
    seen = _probe("xx_NOPE")
    assert seen["after"] == ["invoicer.invoice.render_pdf", "invoicer.invoice.render_xlsx"]
