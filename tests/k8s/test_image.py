"""The Dockerfile: hadolint-clean, multi-stage on a pinned slim Python, nothing
from the build stage but the virtualenv in the final image, a numeric non-root
user, no secrets; and the build context that .dockerignore lets through is
enough to build the package, data files included. (No docker engine here: the
build stage's wheel step is run on its own.)"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile

import pytest

BASE_IMAGE = "python:3.11-slim"
COMPILERS = re.compile(r"\b(gcc|g\+\+|cc|clang|make|build-essential|libc6-dev|python3-dev)\b")


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [
        (parts[0].upper(), parts[1].strip() if len(parts) > 1 else "")
        for parts in (line.strip().split(None, 1) for line in joined.splitlines() if line.strip())
    ]


@pytest.fixture(scope="module")
def dockerfile(k8s):
    return (k8s.root / "Dockerfile").read_text()


@pytest.fixture(scope="module")
def global_args(dockerfile):
    """The ARGs before the first FROM, with their defaults: what FROM lines may use."""
    found = {}
    for instruction, args in _instructions(dockerfile):
        if instruction == "FROM":
            break
        if instruction == "ARG":
            name, _, default = args.partition("=")
            found[name.strip()] = default.strip().strip('"')
    return found


@pytest.fixture(scope="module")
def stages(dockerfile, global_args):
    found = []
    for instruction, args in _instructions(dockerfile):
        if instruction == "FROM":
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: global_args.get(m[1], m[0]), args)
            found.append({"from": image, "as_written": args, "steps": []})
        elif found:
            found[-1]["steps"].append((instruction, args))
    return found


def test_hadolint_has_nothing_to_say(tools, k8s):
    done = subprocess.run(
        [tools.bin("hadolint"), "--format", "json", "--failure-threshold", "warning", str(k8s.root / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(done.stdout or "[]")
    serious = [f for f in findings if f["level"] in ("error", "warning")]
    assert serious == [], serious
    assert done.returncode == 0, done.stdout + done.stderr


def test_multi_stage_on_a_pinned_slim_python(stages, global_args):
    """By default both stages stand on python:3.11-slim; BASE_IMAGE (a build
    argument) swaps the base of both at once, never of one stage alone, since
    the virtualenv links to the interpreter of the base it was made on."""
    assert len(stages) >= 2
    assert global_args.get("BASE_IMAGE") == BASE_IMAGE
    for stage in stages:
        image = stage["from"].split()[0]
        assert image == BASE_IMAGE, f"FROM {image}: the base is {BASE_IMAGE}, pinned by tag"
        assert stage["as_written"].split()[0] == "${BASE_IMAGE}", stage["as_written"]
    assert stages[0]["from"].split()[-1] == "build"


def test_every_step_finds_python_on_the_path(dockerfile):
    """python:3.11-slim has CPython in /usr/local/bin, Debian's python3 package
    in /usr/bin: no step names either path, and both bases have `python3`."""
    assert "/usr/local/bin/python" not in dockerfile and "/usr/bin/python" not in dockerfile
    assert not re.search(r"^RUN python ", dockerfile, re.MULTILINE), "`python` is not in Debian's python3 package"


def test_final_stage_copies_the_virtualenv_and_builds_nothing(stages):
    final = stages[-1]["steps"]
    copies = [args for instruction, args in final if instruction == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"], copies
    for instruction, args in final:
        if instruction == "RUN":
            assert not COMPILERS.search(args), f"a compiler in the final stage: {args}"
            assert "pip" not in args, f"the final stage installs: {args}"


def test_runs_as_a_numeric_non_root_user(stages, bundle):
    users = [args for instruction, args in stages[-1]["steps"] if instruction == "USER"]
    assert users, "no USER in the final stage"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) >= 10000 and (not gid or gid.isdigit())
    # The same uid the chart asks Kubernetes to enforce.
    assert bundle.charts["invoicer"]["values"]["podSecurityContext"]["runAsUser"] == int(uid)


def test_one_image_every_command(stages):
    final = {instruction: args for instruction, args in stages[-1]["steps"] if instruction in ("ENTRYPOINT", "CMD")}
    assert json.loads(final["ENTRYPOINT"]) == ["invoicer"]
    exposed = " ".join(args for instruction, args in stages[-1]["steps"] if instruction == "EXPOSE").split()
    assert {"8080", "8081", "8090"} <= set(exposed)


def test_no_secrets_baked_in(dockerfile, stages):
    for stage in stages:
        for instruction, args in stage["steps"]:
            if instruction in ("ENV", "ARG", "LABEL"):
                assert not re.search(r"SECRET|PASSWORD|TOKEN|_KEY\b", args, re.IGNORECASE), args
            if instruction in ("COPY", "ADD"):
                assert not re.search(r"\bvar/|\.env\b|secrets", args), args


def test_dockerignore_lets_in_only_what_the_build_needs(k8s, stages):
    lines = [
        line.strip()
        for line in (k8s.root / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "**", "everything is excluded first"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"requirements.lock", "pyproject.toml", "README.md", "src"}
    sources = set()
    for instruction, args in stages[0]["steps"]:
        if instruction == "COPY":
            sources |= {part.rstrip("/") for part in args.split()[:-1] if not part.startswith("--")}
    assert sources == allowed


def test_the_build_context_builds_a_complete_wheel(tools, k8s, tmp_path):
    """What the build stage does with what .dockerignore lets through: a wheel
    with the migrations, the fonts and the schemas, and the `invoicer` command."""
    context = tmp_path / "context"
    context.mkdir()
    shutil.copy(k8s.root / "pyproject.toml", context)
    shutil.copy(k8s.root / "README.md", context)
    shutil.copytree(
        k8s.root / "src", context / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    )
    done = subprocess.run(
        [
            tools.python,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(tmp_path / "dist"),
            str(context),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("invoicer-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for expected in (
        r"invoicer/migrations/\d{4}_\w+\.sql",
        r"invoicer/invoice/fonts/DejaVuSans\.ttf",
        r"invoicer/invoice/invoice\.schema\.json",
        r"invoicer/cli\.py",
    ):
        assert any(re.fullmatch(expected, name) for name in names), f"the wheel lacks {expected}"
    # Every migration of every service's history (invoicer/migrations, invoicer/invoices/migrations, ...).
    sql_in_tree = sorted(str(p.relative_to(k8s.root / "src")) for p in (k8s.root / "src").rglob("migrations/*.sql"))
    assert sorted(n for n in names if n.endswith(".sql")) == sql_in_tree
    # Every file of the web app (templates, scripts, styles, the icon) ships: a page asking for one
    # that is missing answers 404 in the image while it works from the tree.
    web = k8s.root / "src" / "invoicer" / "gateway" / "web"
    web_files = sorted(
        str(p.relative_to(k8s.root / "src"))
        for folder in ("templates", "static")
        for p in (web / folder).rglob("*")
        if p.is_file()
    )
    assert sorted(n for n in names if n.startswith("invoicer/gateway/web/") and not n.endswith(".py")) == web_files
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert re.search(r"^invoicer = invoicer\.cli:run$", entry_points, re.MULTILINE)
