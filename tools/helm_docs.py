"""Generate each chart's values.schema.json and the Parameters table of its
README.md from the ``## @param`` lines of its values.yaml (Bitnami's
convention, as read by @bitnami/readme-generator-for-helm).

    python tools/helm_docs.py [--check] [CHART_DIR ...]

Without chart directories it works on every chart under helm_charts/. With
``--check`` it writes nothing and exits 1, naming the files, when a committed
file differs from what it would write (``make charts`` regenerates them).

Why not Bitnami's tool: its schema infers only the JSON type of each default;
it neither closes objects (``additionalProperties: false``) nor knows enums,
patterns, minimums or required keys, so a misspelt key or ``image.tag=latest``
would pass. This script reads the same comment lines and a few modifiers more.

The comment lines, in values.yaml:

    ## @section Title                  starts a section of the README table
    ## @param path [modifier]... text   documents the value at ``path``

``path`` is dotted; a ``*`` segment matches every key at that level (e.g.
``components.*.replicaCount`` documents the replicas of every component); a
line naming the full path wins over a ``*`` line. Every value must be
documented, by its own line or one of a mapping holding it, and every line
must name at least one value; otherwise :class:`DocError` is raised.

The schema of a value follows its default, made strict:

- a mapping whose keys are documented (or which holds documented values)
  becomes an object with those properties, all of them required (in Helm a
  ``null`` removes a default), and no others (``additionalProperties: false``);
- any other value is a leaf: its JSON type is the type of its default (an
  empty mapping is an open object; a list of strings is an array of strings).

Modifiers, each in its own brackets right after the path:

    [ref: name]        the schema DEFINITIONS[name] instead of the inferred one
    [enum: a, b, ""]   allowed values (YAML flow items); on a list, of its items
    [pattern: re]      a regular expression (RE2 syntax: Helm validates in Go);
                       on a list, of its items; brackets inside must balance
    [minimum: n], [maximum: n], [minLength: n], [minItems: n]
    [not: value]       the value that is refused (e.g. ``[not: latest]``)
    [optional]         an object whose keys may be left out (no ``required``)
    [nullable]         ``null`` is accepted too
    [string], [array], [object]   force the type (Bitnami's modifiers)
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHARTS = ROOT / "helm_charts"

_QUANTITY = {"anyOf": [{"type": "string", "pattern": "^[0-9.]+[a-zA-Z]*$"}, {"type": "number", "exclusiveMinimum": 0}]}
_REQUESTS = {
    "type": "object",
    "properties": {"cpu": _QUANTITY, "memory": _QUANTITY},
    "required": ["cpu", "memory"],
    "additionalProperties": _QUANTITY,
}

# Named schemas for ``[ref: name]``: shapes that recur in every chart.
DEFINITIONS: dict[str, dict] = {
    # Kubernetes resource requirements; both requests and limits, each with cpu and memory.
    "resources": {
        "type": "object",
        "properties": {"requests": _REQUESTS, "limits": _REQUESTS},
        "required": ["requests", "limits"],
        "additionalProperties": False,
    },
    # The restricted Pod Security Standard, which every pod of these charts keeps.
    "podSecurityContext": {
        "type": "object",
        "properties": {"runAsNonRoot": {"const": True}},
        "required": ["runAsNonRoot"],
        "additionalProperties": True,
    },
    "securityContext": {
        "type": "object",
        "properties": {
            "allowPrivilegeEscalation": {"const": False},
            "readOnlyRootFilesystem": {"const": True},
            "runAsNonRoot": {"const": True},
            "privileged": {"const": False},
        },
        "required": ["allowPrivilegeEscalation", "readOnlyRootFilesystem", "runAsNonRoot", "capabilities"],
        "additionalProperties": True,
    },
    # Labels, annotations, node selectors.
    "stringMap": {"type": "object", "additionalProperties": {"type": "string"}},
    # Tolerations, NetworkPolicyPeers.
    "objectList": {"type": "array", "items": {"type": "object"}},
    "imagePullSecrets": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "maxUnavailable": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": "^[0-9]+%$"}]},
    # invoicer settings (environment variables): empty means the built-in default.
    "intSetting": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^[0-9]*$"}]},
    "boolSetting": {"anyOf": [{"type": "boolean"}, {"type": "string", "enum": ["", "true", "false"]}]},
}

_NUMBER_MODIFIERS = {"minimum", "maximum", "minLength", "minItems"}
_FLAG_MODIFIERS = {"optional", "nullable", "string", "array", "object"}
_ARGUMENT_MODIFIERS = {"ref", "enum", "pattern", "not"} | _NUMBER_MODIFIERS


class DocError(ValueError):
    """values.yaml's documentation is inconsistent; the message names the chart and the value."""


@dataclass
class Param:
    """One ``## @param`` line: its dotted path (may hold ``*``), modifiers and description."""

    path: str
    modifiers: dict[str, Any]
    description: str
    used: bool = False

    def matches(self, path: str) -> bool:
        mine, theirs = self.path.split("."), path.split(".")
        return len(mine) == len(theirs) and all(m in ("*", t) for m, t in zip(mine, theirs, strict=True))


@dataclass
class Doc:
    """What values.yaml says: sections, params, the values, and the line of each value's key."""

    chart: str
    values: dict
    params: list[Param]
    sections: list[tuple[int, str]]  # (line, title), in order
    lines: dict[str, int] = field(default_factory=dict)  # dotted path -> line of its key

    def param(self, path: str) -> Param | None:
        """The line documenting ``path`` itself: its own, else a ``*`` line."""
        exact = [p for p in self.params if p.path == path]
        found = exact or [p for p in self.params if "*" in p.path and p.matches(path)]
        if len(found) > 1:
            raise DocError(f"{self.chart}: {path} is documented twice ({', '.join(p.path for p in found)})")
        return found[0] if found else None

    def section(self, path: str) -> str:
        line = self.lines[path]
        titles = [title for start, title in self.sections if start < line]
        return titles[-1] if titles else ""


# --- reading ------------------------------------------------------------------------

_PARAM = re.compile(r"^\s*## @param (\S+)(.*)$")
_SECTION = re.compile(r"^\s*## @section (.+?)\s*$")


def _split_modifiers(rest: str) -> tuple[list[str], str]:
    """Leading ``[...]`` groups (balanced brackets) and the description after them."""
    modifiers = []
    text = rest.lstrip()
    while text.startswith("["):
        depth = 0
        for i, char in enumerate(text):
            depth += {"[": 1, "]": -1}.get(char, 0)
            if depth == 0:
                modifiers.append(text[1:i].strip())
                text = text[i + 1 :].lstrip()
                break
        else:
            raise DocError(f"unbalanced brackets in {rest!r}")
    return modifiers, text.strip()


def _parse_modifier(chart: str, path: str, raw: str) -> tuple[str, Any]:
    name, _, argument = raw.partition(":")
    name, argument = name.strip(), argument.strip()
    if name in _FLAG_MODIFIERS and not argument:
        return name, True
    if name not in _ARGUMENT_MODIFIERS or not argument:
        raise DocError(f"{chart}: @param {path}: unknown modifier [{raw}]")
    if name == "ref":
        if argument not in DEFINITIONS:
            raise DocError(f"{chart}: @param {path}: no definition {argument!r}")
        return name, argument
    if name == "enum":
        return name, yaml.safe_load(f"[{argument}]")
    if name == "not":
        return name, yaml.safe_load(argument)
    if name in _NUMBER_MODIFIERS:
        return name, yaml.safe_load(argument)
    return name, argument  # pattern: taken as written


def _key_lines(node: yaml.Node, prefix: str, lines: dict[str, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = f"{prefix}{key.value}"
            lines[path] = key.start_mark.line
            _key_lines(value, path + ".", lines)


def read(chart_dir: Path) -> Doc:
    """Parse ``chart_dir/values.yaml``. Raises :class:`DocError` on a malformed @param line."""
    text = (chart_dir / "values.yaml").read_text()
    params, sections = [], []
    for number, line in enumerate(text.splitlines()):
        if match := _SECTION.match(line):
            sections.append((number, match.group(1)))
        elif match := _PARAM.match(line):
            path, rest = match.groups()
            raw_modifiers, description = _split_modifiers(rest)
            if not description:
                raise DocError(f"{chart_dir.name}: @param {path} has no description")
            modifiers = dict(_parse_modifier(chart_dir.name, path, raw) for raw in raw_modifiers)
            params.append(Param(path, modifiers, description))
    doc = Doc(chart_dir.name, yaml.safe_load(text) or {}, params, sections)
    _key_lines(yaml.compose(text), "", doc.lines)
    return doc


# --- the schema -----------------------------------------------------------------------


def _documents_inside(doc: Doc, path: str) -> bool:
    """Whether a line documents something below ``path`` (so ``path`` is a closed object)."""
    parts = path.split(".")
    return any(
        len(q) > len(parts)
        and all(a in ("*", b) for a, b in zip(q, parts, strict=False))  # q is longer: a prefix match
        for q in (p.path.split(".") for p in doc.params)
    )


def _inferred(value: Any) -> dict:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        schema: dict = {"type": "array"}
        kinds = {type(item) for item in value}
        if kinds == {str}:
            schema["items"] = {"type": "string"}
        elif kinds == {dict}:
            schema["items"] = {"type": "object"}
        return schema
    if isinstance(value, dict):
        return {"type": "object"}
    return {}


def _apply(schema: dict, modifiers: dict) -> dict:
    for flag in ("string", "array", "object"):
        if modifiers.get(flag):
            schema["type"] = flag
    # On a list, enum and pattern constrain its items.
    target = schema.setdefault("items", {}) if schema.get("type") == "array" else schema
    if "enum" in modifiers:
        target["enum"] = modifiers["enum"]
    if "pattern" in modifiers:
        target["pattern"] = modifiers["pattern"]
    for name in ("minimum", "maximum", "minLength", "minItems"):
        if name in modifiers:
            schema[name] = modifiers[name]
    if "not" in modifiers:
        schema["not"] = {"const": modifiers["not"]}
    if modifiers.get("nullable"):
        if "type" in schema:
            schema["type"] = [schema["type"], "null"]
        else:
            schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def _schema(doc: Doc, path: str, value: Any) -> dict:
    param = doc.param(path)
    if param:
        param.used = True
    modifiers = param.modifiers if param else {}
    if isinstance(value, dict) and value and "ref" not in modifiers and _documents_inside(doc, path):
        schema: dict = {"type": "object"}
        if param:
            schema["description"] = param.description
        schema["properties"] = {key: _schema(doc, f"{path}.{key}", sub) for key, sub in value.items()}
        if not modifiers.get("optional"):
            schema["required"] = list(value)
        schema["additionalProperties"] = False
        return _apply(schema, {k: v for k, v in modifiers.items() if k != "optional"})
    if not param:
        raise DocError(f"{doc.chart}: value {path} has no ## @param line")
    schema = copy.deepcopy(DEFINITIONS[modifiers["ref"]]) if "ref" in modifiers else _inferred(value)
    schema = {**schema, "description": param.description}
    return _apply(schema, modifiers)


def schema(doc: Doc) -> dict:
    """The JSON schema (draft-07) of the chart's values. Raises :class:`DocError` for a
    value without documentation or a line documenting nothing."""
    for param in doc.params:
        param.used = False
    root = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": f"{doc.chart} chart values",
        "type": "object",
        "properties": {key: _schema(doc, key, value) for key, value in doc.values.items()},
        "required": list(doc.values),
        "additionalProperties": False,
    }
    unused = [p.path for p in doc.params if not p.used]
    if unused:
        raise DocError(f"{doc.chart}: @param lines name no value: {', '.join(unused)}")
    return root


# --- the README table -------------------------------------------------------------------


def _cell(text: str, code: bool = False) -> str:
    """Text for a Markdown table cell: no pipe or newline breaks the row and,
    outside a code span, no <word> becomes an HTML tag."""
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if code else text.replace("<", "&lt;").replace(">", "&gt;")


def _default(value: Any) -> str:
    if value == "":
        return '`""`'
    if isinstance(value, str):
        return f"`{_cell(value, code=True)}`"
    return f"`{_cell(json.dumps(value, separators=(', ', ': ')), code=True)}`"


def _rows(doc: Doc, values: dict, prefix: str = ""):
    for key, value in values.items():
        path = f"{prefix}{key}"
        param = doc.param(path)
        inside = (
            isinstance(value, dict)
            and value
            and _documents_inside(doc, path)
            and not (param and "ref" in param.modifiers)
        )
        if param:
            yield doc.section(path), path, param.description, "" if inside else _default(value)
        if inside:
            yield from _rows(doc, value, path + ".")


def parameters_table(doc: Doc) -> str:
    """The ``## Parameters`` section: one table per @section, one row per documented
    value (a ``*`` line gives a row for every value it matches), in values.yaml's order."""
    out = [
        "## Parameters",
        "",
        "Generated from values.yaml by `make charts` (tools/helm_docs.py); edit values.yaml, not this table.",
        "",
    ]
    current = None
    for section, path, description, default in _rows(doc, doc.values):
        if section != current:
            if current is not None:
                out.append("")
            out += [f"### {section}", "", "| Name | Description | Default |", "| --- | --- | --- |"]
            current = section
        out.append(f"| `{path}` | {_cell(description)} | {default} |")
    return "\n".join(out) + "\n"


def readme(chart_dir: Path, doc: Doc) -> str:
    """README.md with its Parameters section replaced (the text before it is kept; a
    new README starts with the chart's name and description from Chart.yaml)."""
    path = chart_dir / "README.md"
    if path.exists():
        text = path.read_text()
    else:
        meta = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
        text = f"# {meta['name']}\n\n{meta.get('description', '').strip()}\n\n## Parameters\n"
    start = text.find("\n## Parameters\n")
    if start < 0:
        head, tail = text.rstrip("\n") + "\n", ""
    else:
        head = text[: start + 1]
        end = text.find("\n## ", start + 1)
        tail = text[end + 1 :] if end > 0 else ""
    return head + parameters_table(doc) + ("\n" + tail if tail else "")


# --- main ---------------------------------------------------------------------------


def with_dependencies(chart_dir: Path, root: dict) -> dict:
    """``root`` (the chart's schema) with each dependency's values accepted under
    the dependency's key. Helm merges a dependency's defaults into the parent's
    values under that key before it checks them against the parent's schema, so
    the parent's object (e.g. ``postgresql``: where the app connects) also takes
    every value of the dependency (e.g. ``postgresql.auth.password``), checked by
    the dependency's own schema and not required (it has its defaults). A
    dependency is read from ``charts/<name>`` (a directory or a link to one)."""
    meta = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
    for dependency in meta.get("dependencies") or []:
        key = dependency.get("alias") or dependency["name"]
        sub_dir = chart_dir / "charts" / dependency["name"]
        own = root["properties"].get(key)
        if not own or "properties" not in own or not (sub_dir / "values.yaml").exists():
            continue
        for name, sub_schema in schema(read(sub_dir))["properties"].items():
            own["properties"].setdefault(name, sub_schema)
    return root


def generate(chart_dir: Path) -> dict[Path, str]:
    """The files this script owns in one chart, by path, with their new text."""
    doc = read(chart_dir)
    text = json.dumps(with_dependencies(chart_dir, schema(doc)), indent=2, ensure_ascii=False) + "\n"
    return {chart_dir / "values.schema.json": text, chart_dir / "README.md": readme(chart_dir, doc)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file would change")
    parser.add_argument("charts", nargs="*", type=Path, help="chart directories (default: helm_charts/*)")
    args = parser.parse_args(argv)
    charts = args.charts or sorted(p.parent for p in CHARTS.glob("*/Chart.yaml"))
    stale = []
    try:
        files = {path: text for chart in charts for path, text in generate(chart).items()}
    except DocError as exc:
        print(f"helm_docs: {exc}", file=sys.stderr)
        return 2
    for path, text in files.items():
        if not path.exists() or path.read_text() != text:
            stale.append(path)
            if not args.check:
                path.write_text(text)
    if args.check and stale:
        print("out of date (run `make charts`): " + ", ".join(str(p) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
