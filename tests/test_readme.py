"""The README stays true: every setting is in its configuration table, the
commands it gives exist, and its curl block works when pasted."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from invoicer.cli import build_parser
from invoicer.common.config import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table():
    table = README[README.index("## Configuration") : README.index("## Deploy on Kubernetes")]
    first_cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    documented = {name for cell in first_cells for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)}
    assert set(Settings.names()) <= documented, set(Settings.names()) - documented
    assert documented <= set(Settings.names()), documented - set(Settings.names())


def test_the_make_targets_it_names_exist():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    named = set(re.findall(r"`make ([a-z-]+)`", README))
    assert named and named <= targets, named - targets


def test_the_invoicer_commands_it_names_exist():
    commands = set(build_parser()._subparsers._group_actions[0].choices)
    named = set(re.findall(r"^invoicer ([a-z-]+)", README, re.MULTILINE))
    assert named and named <= commands, named - commands
    assert {"create-user", "migrate", "render", "auth", "gateway", "worker", "notification"} <= commands


def _curl_block() -> str:
    section = README[README.index("## Using it with curl") :]
    return section[section.index("```sh\n") + len("```sh\n") : section.index("```\n", section.index("```sh\n") + 6)]


def test_the_curl_block_works_when_pasted(stack, tmp_path):
    """The block as a user would paste it, run by bash with errexit so that any
    failing step fails the test, from a directory laid out like the project's
    (``examples/`` in it); the PDF lands in ``out/``."""
    if shutil.which("jq") is None or shutil.which("curl") is None:
        pytest.fail("curl and jq must be installed (the Makefile's install step does it)")
    work = tmp_path / "invoicer"
    work.mkdir()
    shutil.copytree(ROOT / "examples", work / "examples")
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", _curl_block()],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "BASE": stack.base_url},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    pdf = work / "out" / "INV-2026-0001.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-"), sorted(p.name for p in work.iterdir())
    assert '"status": "done"' in result.stdout
    assert '"gross": "330.86"' in result.stdout


def test_it_says_how_to_run_the_invoicer_command():
    section = README[README.index("## The `invoicer` command") :]
    assert ".venv/bin/invoicer" in section and ". .venv/bin/activate" in section
    assert (ROOT / ".venv" / "bin" / "invoicer").exists() or not (ROOT / ".venv").exists()


def _layout_entries() -> dict[str, str]:
    """The Development section's tree: package folder -> what its entry says."""
    start = README.index("```\nsrc/invoicer/\n")
    block = README[start : README.index("```", start + 4)]
    entries: dict[str, str] = {}
    current, parent = None, ""
    for line in block.splitlines()[1:]:
        match = re.match(r"^( {2}| {4})([a-z_]+)/\s+(.*)$", line)
        if match:
            nested = len(match.group(1)) == 4
            current = f"{parent}/{match.group(2)}" if nested else match.group(2)
            parent = parent if nested else match.group(2)
            entries[current] = match.group(3)
        elif current and line.startswith(" " * 6):
            entries[current] += " " + line.strip()
        else:
            current = None
    return entries


def test_the_package_layout_names_every_package_module_and_migrations_folder():
    entries = _layout_entries()
    package = ROOT / "src" / "invoicer"
    folders = {p.name for p in package.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert folders <= set(entries), folders - set(entries)
    for name, text in entries.items():
        folder = package / name
        assert folder.is_dir(), f"the layout names {name}/, which does not exist"
        words = set(re.findall(r"[a-z0-9_]+", text))
        missing = [p.stem for p in folder.glob("*.py") if not p.stem.startswith("_") and p.stem not in words]
        missing += [
            f"{p.name}/"
            for p in folder.iterdir()
            if p.is_dir() and not p.name.startswith("__") and p.name not in words and f"{name}/{p.name}" not in entries
        ]
        assert not missing, f"README's layout of {name}/ does not name {missing}"
