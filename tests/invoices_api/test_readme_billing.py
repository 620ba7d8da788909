"""The README's billing curl block works when pasted, against the test stack."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _billing_block() -> str:
    section = README[README.index("## Billing: clients, invoices, payments") :]
    start = section.index("```sh\n") + len("```sh\n")
    return section[start : section.index("```\n", start)]


def test_the_billing_block_runs_a_whole_life(stack, tmp_path):
    if shutil.which("jq") is None or shutil.which("curl") is None:
        pytest.fail("curl and jq must be installed (the Makefile's install step does it)")
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", _billing_block()],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "BASE": stack.base_url},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    pdf = tmp_path / f"INV-{date.today().year}-0001.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-"), sorted(p.name for p in tmp_path.iterdir())
    for expected in (
        '"status": "issued"',
        '"gross": "283.26"',
        "sent",
        '"balance_due": "183.26"',
        '"paid"',
        '"number": "CN-',
        '"balance_due": "214.20"',
        '"invoice.paid"',
        '"paid_last_30_days": "283.26"',
    ):
        assert expected in out, (expected, out)
