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

A format may need another format's output (Factur-X: the PDF with the CII XML
embedded): it names those formats in ``needs``, and
:func:`invoicer.invoice.render.render_formats` renders them first (even if
they were not asked for) and hands their bytes to the renderer in
``options.inputs`` (``{"cii": b"<?xml…"}``); only what was asked is returned.
A format with ``kept=True`` may be kept for an issued invoice or credit note
(pdf and xlsx for every one; the e-invoice formats for those whose client takes
one: :data:`invoicer.invoices.rendering.RECORD_FORMATS`)
(:func:`kept_names`: the invoices service's jobs, its
``GET /invoices/{id}/{format}`` route, the ``files`` of an invoice, the web
app's downloads).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from types import MappingProxyType

# Kept light on purpose: the CLI's parser imports this module, so no
# ``typing``, ``dataclasses`` or ``threading`` (tens of ms at every start).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .model import Invoice

__all__ = [
    "Attachment",
    "OutputFormat",
    "RenderOptions",
    "Renderer",
    "UnknownFormat",
    "get",
    "kept_names",
    "legacy_names",
    "names",
    "plan",
    "register",
    "resolve",
    "unregister",
]


class Attachment(namedtuple("Attachment", "name data media_type relationship description", defaults=("Data", ""))):
    """A file embedded in a PDF (PDF 1.7 §7.11.4 embedded file streams, PDF/A-3
    ISO 19005-3 §6.8 associated files): ``name`` (``"factur-x.xml"``),
    ``data`` (bytes), ``media_type`` (``"text/xml"``), ``relationship`` (the
    file specification's ``AFRelationship``: ``Source``, ``Data``,
    ``Alternative``, ``Supplement`` or ``Unspecified``; Factur-X uses
    ``Data`` for EN 16931 and ``Alternative`` for XRechnung) and
    ``description`` (the file specification's ``Desc``)."""

    __slots__ = ()


_NO_INPUTS: Mapping[str, bytes] = MappingProxyType({})


class RenderOptions(
    namedtuple(
        "RenderOptions",
        "page_size locale inputs attachments xmp einvoice",
        defaults=("A4", "en_GB", _NO_INPUTS, (), None, None),
    )
):
    """What a renderer may vary besides the invoice.

    ``page_size``: ``"A4"`` or ``"LETTER"`` (case-insensitive; formats
    without pages ignore it). ``locale``: a CLDR identifier such as
    ``"en_GB"`` or ``"de_DE"`` that decides how numbers, amounts and dates are
    written and the language of the documents' labels (its language's
    catalogue, :mod:`invoicer.invoice.i18n`; English without one). A
    renderer raises ``ValueError`` for a value it does not know.

    ``inputs``: ``{format name: bytes}``, the outputs of the formats this one
    ``needs`` (set by :func:`invoicer.invoice.render.render_formats`; empty
    for a format that needs none). ``attachments``: a tuple of :class:`Attachment`, files
    the PDF renderer embeds (``EmbeddedFiles`` name tree and the catalogue's
    ``AF`` array) and ``xmp``: an XMP packet (a ``str``, RDF/XML) it writes
    as the document's metadata stream; a format built on the PDF (Factur-X)
    sets them with ``options._replace(...)`` before calling the ``pdf``
    renderer. Other renderers ignore both.

    ``einvoice``: the e-invoice profile of the ``cii``, ``ubl`` and
    ``facturx`` formats (``factur-x``, ``xrechnung-cii``, ``xrechnung-ubl``,
    ``peppol-ubl``; :data:`invoicer.invoice.einvoice.writer.PROFILES`), or
    None for each format's default (CII: ``factur-x``, UBL: ``peppol-ubl``).
    """

    __slots__ = ()


Renderer = Callable[["Invoice", RenderOptions], bytes]
"""``render(invoice, options) -> bytes``: the whole file, pure (no I/O but
reading vendored resources such as fonts). A format that ``needs`` others
finds their bytes in ``options.inputs``."""


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
    one the legacy tool documented (``excel`` for ``xlsx``). ``kept``: kept
    for every issued invoice and credit note (:func:`kept_names`); off by
    default, so a new format is offered for uploads until it is declared
    part of the record. ``needs``: names of the formats whose output this
    renderer reads from ``options.inputs`` (rendered first, see
    :func:`plan`).
    """

    __slots__ = ("_renderer", "aliases", "kept", "media_type", "name", "needs", "render", "suffix")

    def __init__(
        self,
        name: str,
        media_type: str,
        suffix: str,
        render: Renderer | str,
        aliases: tuple[str, ...] = (),
        *,
        kept: bool = False,
        needs: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.media_type = media_type
        self.suffix = suffix
        self.render = render
        self.aliases = tuple(aliases)
        self.kept = kept
        self.needs = tuple(needs)
        self._renderer: Renderer | None = render if callable(render) else None

    def __repr__(self) -> str:
        return (
            f"OutputFormat({self.name!r}, {self.media_type!r}, {self.suffix!r}, aliases={self.aliases!r}, "
            f"kept={self.kept!r}, needs={self.needs!r})"
        )

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


def kept_names() -> list[str]:
    """Names of the formats kept for every issued invoice and credit note, in
    registration order (``["pdf", "xlsx"]``): what the invoices service has
    the worker render at issue, what ``GET /invoices/{id}/{format}`` serves,
    the ``files`` of an invoice and the OpenAPI enum of that route."""
    return [fmt.name for fmt in _FORMATS.values() if fmt.kept]


def plan(wanted: list[str]) -> list[OutputFormat]:
    """The formats to render for ``wanted`` (names), each after the formats
    it ``needs``, those needed included even if not wanted: ``plan(["facturx"])``
    is ``[cii, pdf, facturx]`` when ``facturx`` needs ``cii`` and ``pdf``.
    Otherwise in the order of ``wanted``, each once. Raises
    :class:`UnknownFormat` for an unknown name (wanted or needed) and
    ``ValueError`` for a cycle of needs."""
    order: list[OutputFormat] = []
    placed: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in placed:
            return
        if name in path:
            raise ValueError(f"formats need each other in a cycle: {' -> '.join((*path, name))}")
        fmt = get(name)
        for needed in fmt.needs:
            visit(needed, (*path, name))
        placed.add(name)
        order.append(fmt)

    for name in wanted:
        visit(name, ())
    return order


def legacy_names() -> list[str]:
    """Per format, the name the legacy tool used: its first alias, else its
    name (``["pdf", "excel"]``)."""
    return [fmt.aliases[0] if fmt.aliases else fmt.name for fmt in _FORMATS.values()]


# The formats of the pipeline: the one place they are registered.
register(OutputFormat("pdf", "application/pdf", "pdf", "invoicer.invoice.render_pdf:render", kept=True))
register(
    OutputFormat(
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        "invoicer.invoice.render_xlsx:render",
        aliases=("excel",),
        kept=True,
    )
)
# EN 16931 e-invoices (invoice/einvoice): the XML, and the PDF/A-3 that carries it. Kept for
# the records whose client takes them (invoicer.invoices.rendering.RECORD_FORMATS).
register(OutputFormat("cii", "application/xml", "cii.xml", "invoicer.invoice.einvoice.render:render_cii", kept=True))
register(OutputFormat("ubl", "application/xml", "ubl.xml", "invoicer.invoice.einvoice.render:render_ubl", kept=True))
register(
    OutputFormat(
        "facturx",
        "application/pdf",
        "facturx.pdf",
        "invoicer.invoice.einvoice.render:render_facturx",
        needs=("pdf", "cii"),
        kept=True,
    )
)
