"""The lock files: requirements.lock (the runtime, installed into the image)
and requirements-dev.lock (runtime, test, bench and lint tools, installed by
`make install`), both written by `make lock`.

What an operator relies on: every package is pinned to one version with the
hashes of its files, so an install gets exactly those files or fails; the
locks still satisfy what pyproject.toml asks for (a dependency added without
`make lock` fails here, not in a container); both locks agree on every
version they share; and the virtualenv the tests run in is the locked one.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCKS = ("requirements.lock", "requirements-dev.lock")
DEV_EXTRAS = ("test", "bench", "lint")


def read_lock(name: str) -> dict[str, tuple[str, list[str]]]:
    """{canonical name: (version, [sha256 hashes])} of a pip-compile lock file."""
    entries: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in (ROOT / name).read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            requirement = Requirement(line.rstrip(" \\"))
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"{name}: {line!r} is not pinned to one version"
            current = canonicalize_name(requirement.name)
            assert current not in entries, f"{name}: {current} twice"
            entries[current] = (specifier.version, [])
        else:
            found = re.fullmatch(r"\s*--hash=sha256:([0-9a-f]{64})\s*\\?", line)
            assert found and current, f"{name}: unexpected line {line!r}"
            entries[current][1].append(found.group(1))
    return entries


@pytest.fixture(scope="module", params=LOCKS)
def lock(request):
    return request.param, read_lock(request.param)


def test_every_package_is_pinned_with_hashes(lock):
    name, entries = lock
    assert entries, f"{name} is empty"
    unhashed = sorted(package for package, (_, hashes) in entries.items() if not hashes)
    assert not unhashed, f"{name}: no hashes for {unhashed}; run `make lock`"


def _satisfied(requirements: list[str], entries: dict[str, tuple[str, list[str]]], lock_name: str) -> None:
    for text in requirements:
        requirement = Requirement(text)
        package = canonicalize_name(requirement.name)
        assert package in entries, f"{lock_name} lacks {text!r} from pyproject.toml; run `make lock`"
        version = entries[package][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock_name} pins {package}=={version}, outside {text!r} in pyproject.toml; run `make lock`"
        )


def test_the_runtime_lock_satisfies_pyproject():
    _satisfied(PYPROJECT["project"]["dependencies"], read_lock("requirements.lock"), "requirements.lock")


def test_the_dev_lock_satisfies_pyproject_with_every_extra():
    extras = PYPROJECT["project"]["optional-dependencies"]
    wanted = PYPROJECT["project"]["dependencies"] + [text for extra in DEV_EXTRAS for text in extras[extra]]
    _satisfied(wanted, read_lock("requirements-dev.lock"), "requirements-dev.lock")


def test_both_locks_agree_on_every_shared_version():
    runtime, dev = read_lock("requirements.lock"), read_lock("requirements-dev.lock")
    missing = sorted(set(runtime) - set(dev))
    assert not missing, f"requirements-dev.lock lacks runtime packages {missing}; run `make lock`"
    differ = {
        package: (runtime[package][0], dev[package][0]) for package in runtime if runtime[package][0] != dev[package][0]
    }
    assert not differ, f"the locks disagree (runtime, dev): {differ}; run `make lock`"


def test_the_image_installs_the_runtime_lock_with_hashes_then_the_wheel_alone():
    dockerfile = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    installs = [line for line in dockerfile.splitlines() if "pip install" in line and not line.lstrip().startswith("#")]
    commands = [command.strip() for line in installs for command in line.split("&&") if "pip install" in command]
    assert len(commands) == 2, commands
    lock_install, wheel_install = commands
    assert "--require-hashes" in lock_install and "-r requirements.lock" in lock_install, lock_install
    assert "--no-deps" in wheel_install and "invoicer-*.whl" in wheel_install, wheel_install


def test_the_test_environment_is_the_locked_one():
    """`make install` installs requirements-dev.lock exactly: what runs the
    tests is what the lock says, not whatever pip last resolved."""
    differ = {}
    for package, (version, _) in read_lock("requirements-dev.lock").items():
        try:
            installed = metadata.version(package)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            differ[package] = (version, installed)
    assert not differ, f"(locked, installed) differ: {differ}; run `make install`"
