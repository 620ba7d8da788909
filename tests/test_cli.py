"""``invoicer render``: local rendering with the worker's code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pypdf

INVOICER = str(Path(sys.executable).parent / "invoicer")


def test_render_writes_pdf_and_xlsx(tmp_path, example_path):
    result = subprocess.run(
        [INVOICER, "render", str(example_path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    written = [Path(line) for line in result.stdout.split()]
    assert sorted(path.suffix for path in written) == [".pdf", ".xlsx"]
    pdf = next(path for path in written if path.suffix == ".pdf")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert "INV-2026-0001" in text and "330.86" in text
    xlsx = next(path for path in written if path.suffix == ".xlsx")
    values = [c.value for row in openpyxl.load_workbook(xlsx).active.iter_rows() for c in row]
    assert 330.86 in values


def test_render_pdf_only(tmp_path, example_path):
    result = subprocess.run(
        [INVOICER, "render", str(example_path), "--out", str(tmp_path), "--formats", "pdf"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert [p.suffix for p in tmp_path.iterdir()] == [".pdf"]


def test_invalid_input_gives_a_clear_message_and_non_zero_exit(tmp_path, example_path):
    bad = json.loads(example_path.read_text())
    bad["currency"] = "EURO"
    del bad["buyer"]["name"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    broken = tmp_path / "broken.json"
    broken.write_text('{"invoice_number": ')
    result = subprocess.run(
        [INVOICER, "render", str(path), str(broken), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "/currency" in result.stderr
    assert "/buyer/name" in result.stderr
    assert "broken.json: not valid JSON" in result.stderr
    assert not list((tmp_path / "out").glob("*"))


HEAVY = ("reportlab", "xlsxwriter", "pydantic", "pydantic_core", "babel", "flask", "werkzeug", "pika", "gunicorn")


def _imported_top_level(argv: list[str]) -> set[str]:
    """Top-level packages a real ``invoicer ARGV`` start imports, read from
    CPython's ``-X importtime`` report on stderr (one ``import time:`` line
    per module, the name in the last column)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", INVOICER, *argv], check=False, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "usage: invoicer" in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert len(lines) > 20, result.stderr[-2000:]  # the report is there: the check below can fail
    return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines[1:]}


def test_help_starts_without_the_heavy_libraries():
    # Issue 13: a CLI start stays cheap; the renderers, the input models and
    # the web and queue stacks load only for the command that uses them.
    for argv in (["--help"], ["render", "--help"], ["worker", "--help"]):
        imported = _imported_top_level(argv)
        assert "invoicer" in imported
        assert sorted(imported & set(HEAVY)) == [], argv
