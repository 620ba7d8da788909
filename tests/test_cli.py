"""``invoicer render``: local rendering with the worker's code."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pypdf
import pytest
from devstack import free_port

INVOICER = str(Path(sys.executable).parent / "invoicer")


def test_render_writes_pdf_and_xlsx(tmp_path, example_path):
    result = subprocess.run(
        [INVOICER, "render", str(example_path), "--out", str(tmp_path / "out")],
        check=False,
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


@pytest.mark.parametrize("serial", [False, True], ids=["formats-at-once", "serial"])
def test_a_long_invoice_renders_the_same_with_its_formats_at_once_or_one_after_another(tmp_path, example_path, serial):
    from invoicer.cli import PARALLEL_MIN_LINES

    document = json.loads(example_path.read_text())
    first = document["lines"][0]
    document["lines"] = [
        {**first, "description": f"Line {n} ünïcødé", "quantity": "1", "unit_price": f"{n}.25"}
        for n in range(1, PARALLEL_MIN_LINES + 1)
    ]
    path = tmp_path / "long.json"
    path.write_text(json.dumps(document))
    result = subprocess.run(
        [INVOICER, "render", str(path), "--out", str(tmp_path / "out"), *(["--serial"] if serial else [])],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert sorted(Path(line).name for line in result.stdout.split()) == ["long.pdf", "long.xlsx"]
    sheet = openpyxl.load_workbook(tmp_path / "out" / "long.xlsx").active
    descriptions = [c.value for row in sheet.iter_rows() for c in row if str(c.value).startswith("Line ")]
    assert descriptions == [f"Line {n} ünïcødé" for n in range(1, PARALLEL_MIN_LINES + 1)]
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(tmp_path / "out" / "long.pdf").pages)
    assert f"Line {PARALLEL_MIN_LINES} ünïcødé" in text


def test_render_pdf_only(tmp_path, example_path):
    result = subprocess.run(
        [INVOICER, "render", str(example_path), "--out", str(tmp_path), "--formats", "pdf"],
        check=False,
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
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "/currency" in result.stderr
    assert "/buyer/name" in result.stderr
    assert "broken.json: not valid JSON" in result.stderr
    assert not list((tmp_path / "out").glob("*"))


# --- start-up errors: one clear line, no traceback ------------------------------------


def _run(argv: list[str], env: dict[str, str], stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
    """``invoicer argv`` with ``env`` added; a command that is still running
    after ``timeout`` (a service that started) fails the test."""
    try:
        return subprocess.run(
            [INVOICER, *argv],
            input=stdin,
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **env},
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"invoicer {' '.join(argv)} kept running instead of refusing to start")


def _offline_env() -> dict[str, str]:
    """Settings whose dependencies are on ports nothing listens on, so that a
    command that wrongly starts touches nobody's database or queues."""
    return {
        "JWT_SECRET": "cli-test-secret-" + "x" * 32,
        "DATABASE_URL": f"postgresql://postgres:Sesame-{free_port()}@127.0.0.1:{free_port()}/invoicer",
        "MONGODB_URI": f"mongodb://127.0.0.1:{free_port()}/invoicer",
        "AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F",
        "AMQP_PREFIX": f"cli_test_{free_port()}",
        "AUTH_BIND": f"127.0.0.1:{free_port()}",
        "GATEWAY_BIND": f"127.0.0.1:{free_port()}",
    }


def _assert_one_clear_line(result: subprocess.CompletedProcess, expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [expected], result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["migrate"],
        ["create-user", "someone@example.com", "--password-stdin"],
        ["render", "EXAMPLE", "--out", "OUT"],
        ["auth"],
        ["gateway"],
        ["worker"],
        ["notification"],
    ],
    ids=lambda argv: argv[0],
)
def test_a_bad_locale_stops_every_command_with_one_line(tmp_path, example_path, argv):
    argv = [{"OUT": str(tmp_path / "out"), "EXAMPLE": str(example_path)}.get(arg, arg) for arg in argv]
    env = {**_offline_env(), "INVOICE_LOCALE": "xx_YY"}
    result = _run(argv, env, stdin="A-long-password-1\n", timeout=30)
    _assert_one_clear_line(result, "invoicer: INVOICE_LOCALE 'xx_YY' is not a locale Babel knows")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    "argv", [["migrate"], ["create-user", "someone@example.com", "--password-stdin"]], ids=lambda argv: argv[0]
)
def test_a_database_that_is_down_gives_one_line_without_the_password(argv):
    env = _offline_env()
    result = _run(argv, env, stdin="A-long-password-1\n")
    url = env["DATABASE_URL"]
    password = url.split(":")[2].split("@")[0]
    shown = url.replace(password, "***")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"invoicer: the database at {shown} is unavailable: "), lines[0]
    assert password not in result.stderr


def test_a_service_without_a_signing_key_stops_with_one_line():
    env = {**_offline_env(), "JWT_SECRET": ""}
    result = _run(["gateway"], env, timeout=30)
    _assert_one_clear_line(result, "invoicer: JWT_SECRET must be set to at least 32 characters")


# --- --version and render - ---------------------------------------------------------


def test_version_comes_from_the_package_metadata():
    result = subprocess.run([INVOICER, "--version"], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"invoicer {importlib.metadata.version('invoicer')}"


def test_render_reads_the_document_from_standard_input(tmp_path, example_bytes):
    out = tmp_path / "out"
    result = subprocess.run(
        [INVOICER, "render", "-", "--out", str(out)], input=example_bytes, check=False, capture_output=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in out.iterdir()) == ["INV-2026-0001.pdf", "INV-2026-0001.xlsx"]
    assert sorted(result.stdout.decode().split()) == [str(out / "INV-2026-0001.pdf"), str(out / "INV-2026-0001.xlsx")]
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(out / "INV-2026-0001.pdf").pages)
    assert "330.86" in text


def test_render_from_standard_input_reports_problems_as_stdin(tmp_path):
    result = subprocess.run(
        [INVOICER, "render", "-", "--out", str(tmp_path / "out")],
        input=b'{"invoice_number": ',
        check=False,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "<stdin>: not valid JSON" in result.stderr.decode()


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
