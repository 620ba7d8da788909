"""The repository runs on its own: the demo's and the tests' inputs are in it
(issue 22, "make demo needs ../shared"), and a missing input stops the demo
with one line before anything starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_makefile_demo_uploads_an_example_of_the_repository():
    makefile = (ROOT / "Makefile").read_text()
    assert "INVOICE ?= examples/invoice.json" in makefile
    assert (ROOT / "examples" / "invoice.json").is_file()
    assert (ROOT / "examples" / "legacy_invoice_data.json").is_file()


def test_nothing_outside_the_repository_is_named_by_the_demo_or_the_readme():
    for path in ("Makefile", "README.md", "tools/devstack.py"):
        assert "../shared" not in (ROOT / path).read_text(), path


def test_a_missing_invoice_stops_the_demo_with_one_line_before_anything_starts(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "devstack.py"), "demo", "--invoice", "missing.json", "--var", "var"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["[stack] error: the invoice to upload, missing.json, does not exist"]
    assert not (tmp_path / "var").exists()  # nothing was started


def test_a_port_in_use_by_another_program_stops_make_up_with_one_line(tmp_path):
    """Issue 22: a busy 8080 (another stack's gateway) was taken for this stack's."""
    import socket

    from devstack import Stack

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        stack = Stack(var=tmp_path / "var", root=ROOT)
        env = stack.settings(gateway_port=port)
        assert env["GATEWAY_BIND"] == f"127.0.0.1:{port}"
        with pytest.raises(RuntimeError, match=rf"^port {port} \(gateway\) is already in use by another program"):
            stack.start("gateway", env)
        assert stack.pid("gateway") is None  # nothing was started
