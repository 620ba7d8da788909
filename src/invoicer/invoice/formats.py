"""The registry of output formats: one definition of what the pipeline can
render, read by the gateway (accepted ``?formats=``, its 400 message, the
OpenAPI enums), ``invoicer render`` (``--formats`` and its help), and the
worker (renderer, media type, file suffix).

A new format is one module with a renderer and one :func:`register` call
below (or in the module that adds it)::

    register(OutputFormat("txt", "text/plain", "txt", "invoicer.invoice.render_txt:render"))

Every renderer has one signature, ``render(invoice, options) -> bytes``
(:data:`Renderer`). It is named as ``"module:function"`` and imported on first
use, so importing this module (gateway, CLI parser) imports neither ReportLab
nor XlsxWriter.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable

# Kept light on purpose: the CLI's parser imports this module, so no
# ``typing``, ``dataclasses`` or ``threading`` (tens of ms at every start).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .model import Invoice

__all__ = [
    "OutputFormat",
    "RenderOptions",
    "Renderer",
    "UnknownFormat",
    "get",
    "legacy_names",
    "names",
    "register",
    "resolve",
    "unregister",
]


class RenderOptions(namedtuple("RenderOptions", "page_size locale", defaults=("A4", "en_GB"))):
    """What a renderer may vary besides the invoice.

    ``page_size``: ``"A4"`` or ``"LETTER"`` (case-insensitive; formats
    without pages ignore it). ``locale``: a CLDR identifier such as
    ``"en_GB"`` or ``"de_DE"`` that decides how numbers, amounts and dates are
    written. A renderer raises ``ValueError`` for a value it does not know.
    """

    __slots__ = ()


Renderer = Callable[["Invoice", RenderOptions], bytes]
"""``render(invoice, options) -> bytes``: the whole file, pure (no I/O but
reading vendored resources such as fonts)."""


class UnknownFormat(KeyError):
    """No format is registered under this name (or alias)."""


class OutputFormat:
    """One output format.

    ``name``: what clients ask for (``?formats=``, ``--formats``), lower case.
    ``media_type``: the IANA media type the file is served with
    (``Content-Type`` of ``GET /download``). ``suffix``: the file name
    extension, without the dot. ``render``: the :data:`Renderer`, or its
    ``"package.module:function"`` path, imported on first use. ``aliases``:
    other names the legacy ``?format=`` parameter accepts, the first being the
    one the legacy tool documented (``excel`` for ``xlsx``).
    """

    __slots__ = ("_renderer", "aliases", "media_type", "name", "render", "suffix")

    def __init__(
        self, name: str, media_type: str, suffix: str, render: Renderer | str, aliases: tuple[str, ...] = ()
    ) -> None:
        self.name = name
        self.media_type = media_type
        self.suffix = suffix
        self.render = render
        self.aliases = tuple(aliases)
        self._renderer: Renderer | None = render if callable(render) else None

    def __repr__(self) -> str:
        return f"OutputFormat({self.name!r}, {self.media_type!r}, {self.suffix!r}, aliases={self.aliases!r})"

    @property
    def renderer(self) -> Renderer:
        """The render function, imported on first use. Raises
        ``ImportError``/``AttributeError`` if the path names nothing."""
        if self._renderer is None:
            import importlib  # noqa: PLC0415

            module, _, function = str(self.render).partition(":")
            self._renderer = getattr(importlib.import_module(module), function)
        return self._renderer

    def __call__(self, invoice: Invoice, options: RenderOptions) -> bytes:
        """Render ``invoice`` in this format: the file's bytes."""
        return self.renderer(invoice, options)


_FORMATS: dict[str, OutputFormat] = {}  # by name, in registration order
_ALIASES: dict[str, str] = {}  # alias -> name


def register(fmt: OutputFormat) -> OutputFormat:
    """Add ``fmt`` to the registry and return it. Raises ``ValueError`` if
    its name or an alias is taken, or is not lower case."""
    for key in (fmt.name, *fmt.aliases):
        if key != key.lower() or not key.strip() or "," in key:
            raise ValueError(f"format name {key!r} must be lower case, non-empty and without commas")
        if key in _FORMATS or key in _ALIASES:
            raise ValueError(f"format name {key!r} is already registered")
    _FORMATS[fmt.name] = fmt
    for alias in fmt.aliases:
        _ALIASES[alias] = fmt.name
    return fmt


def unregister(name: str) -> None:
    """Remove the format ``name`` and its aliases (tests, plug-ins).
    Raises :class:`UnknownFormat`."""
    fmt = _FORMATS.pop(name, None)
    if fmt is None:
        raise UnknownFormat(name)
    for alias in fmt.aliases:
        _ALIASES.pop(alias, None)


def get(name: str) -> OutputFormat:
    """The format registered as ``name`` (not an alias). Raises
    :class:`UnknownFormat`."""
    try:
        return _FORMATS[name]
    except KeyError:
        raise UnknownFormat(name) from None


def resolve(name: str) -> OutputFormat:
    """The format whose name or alias is ``name`` (legacy ``?format=``).
    Raises :class:`UnknownFormat`."""
    return get(_ALIASES.get(name, name))


def names() -> list[str]:
    """Names of the registered formats, in registration order
    (``["pdf", "xlsx"]``): the order files are listed in a job."""
    return list(_FORMATS)


def legacy_names() -> list[str]:
    """Per format, the name the legacy tool used: its first alias, else its
    name (``["pdf", "excel"]``)."""
    return [fmt.aliases[0] if fmt.aliases else fmt.name for fmt in _FORMATS.values()]


# The formats of the pipeline: the one place they are registered.
register(OutputFormat("pdf", "application/pdf", "pdf", "invoicer.invoice.render_pdf:render"))
register(
    OutputFormat(
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        "invoicer.invoice.render_xlsx:render",
        aliases=("excel",),
    )
)
