"""The README stays true: every setting is in its configuration table, and
the commands it gives exist."""

from __future__ import annotations

import re
from pathlib import Path

from invoicer.cli import build_parser
from invoicer.common.config import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table():
    table = README[README.index("## Configuration"):README.index("## Deploy on Kubernetes")]
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
