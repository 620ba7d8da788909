"""Rules about what the runtime package (what the image ships) may do."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "invoicer"


def _reads_environment(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in {"environ", "getenv", "environb", "putenv"}
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in {"environ", "getenv", "environb"} for alias in node.names)
        ):
            return True
    return False


def test_only_config_reads_the_environment():
    readers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if _reads_environment(ast.parse(path.read_text(), str(path)))
    )
    assert readers == ["common/config.py"]


def test_the_development_stack_is_not_in_the_package():
    # tools/devstack.py installs Debian packages and may set a database
    # password: nothing of it may ship in the image.
    assert not list(PACKAGE.rglob("devstack*"))
    assert not any("apt-get" in path.read_text() for path in PACKAGE.rglob("*.py"))
