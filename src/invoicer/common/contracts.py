"""The registry of service contracts: which service publishes an OpenAPI
fragment, and where the function that builds it lives (issue 17: "typed
contracts owned by each service").

Each service builds its own fragment, ``{"paths": {...}, "components":
{"schemas": {...}}}``, from its pydantic models and route table; the gateway
merges every registered fragment into ``/openapi.json``
(:func:`merge_into`) without importing the service: a provider is named as
``"module:function"`` and imported on first use (as the output formats name
their renderers, :mod:`invoicer.invoice.formats`), so the import contracts
("services depend on common, never on each other") hold. A service names its
provider in its entry of the component registry (``contract=`` in
:mod:`invoicer.common.components`); :data:`PROVIDERS` is read from there.

:data:`ERROR_SCHEMA` is the one JSON error body every service answers
(:func:`invoicer.common.web.make_app`), shared by every fragment.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any

from . import components

__all__ = ["ERROR_SCHEMA", "PROVIDERS", "fragment", "fragments", "merge_into"]

#: Service name -> ``"module:function"`` returning its OpenAPI fragment (no Flask, no database):
#: the ``contract`` of every entry of the component registry that has one.
PROVIDERS: dict[str, str] = {
    component.name: component.contract for component in components.COMPONENTS if component.contract
}

#: ``{"error": {"code", "message", "details"}}``: the JSON error body of every service.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "examples": ["invalid_invoice"]},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "description": "Field errors carry pointer (RFC 6901), code and message; "
                        "parameter errors carry parameter and message.",
                        "properties": {
                            "pointer": {"type": "string"},
                            "parameter": {"type": "string"},
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "line": {"type": ["integer", "null"]},
                            "column": {"type": ["integer", "null"]},
                        },
                    },
                },
            },
        }
    },
}


def fragment(name: str) -> dict[str, Any]:
    """The OpenAPI fragment of the service ``name`` (a key of :data:`PROVIDERS`).

    Raises KeyError for an unknown name, ImportError/AttributeError when the
    provider named there does not exist (a programming error)."""
    module, function = PROVIDERS[name].split(":")
    provider: Callable[[], dict[str, Any]] = getattr(importlib.import_module(module), function)
    return provider()


def fragments() -> Iterator[tuple[str, dict[str, Any]]]:
    """``(name, fragment)`` of every registered service, in registration order."""
    for name in PROVIDERS:
        yield name, fragment(name)


def merge_into(document: dict[str, Any], part: dict[str, Any], *, source: str = "fragment") -> None:
    """Add ``part``'s paths and component schemas to the OpenAPI ``document``.

    A schema name both define must have the same schema (e.g. ``Error``); a
    path both define, or a schema of the same name that differs, raises
    ValueError naming ``source``: two services must not claim one contract."""
    paths = document.setdefault("paths", {})
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for path, operations in part.get("paths", {}).items():
        if path in paths:
            raise ValueError(f"{source}: path {path} is defined twice")
        paths[path] = operations
    for name, schema in part.get("components", {}).get("schemas", {}).items():
        if name in schemas and schemas[name] != schema:
            raise ValueError(f"{source}: component schema {name} differs from the one defined already")
        schemas[name] = schema
