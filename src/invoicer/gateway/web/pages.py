"""The records pages: dashboard, invoices, the draft editor, clients,
orders and the organisation, all over the invoices service's HTTP API
(:mod:`.records`). Every rule (who may do what, the lifecycle, numbering,
payments) is the service's; these views turn forms into API calls and
answers into pages. Totals shown while a draft is typed come from
:func:`invoicer.invoice.model.compute_totals`, the EN 16931 model that the
service and the renderers use, never from arithmetic in the browser.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...invoice import formats as output_formats
from ...invoice.model import AllowanceCharge, Line, compute_totals
from ...invoice.presentation import Formatter, parse_locale, totals_rows
from . import charts, labels, session
from .blueprint import blueprint
from .records import RecordsError, RecordsUnavailable, records
from .refusals import flash_refusal, form_errors

__all__ = ["EditorLine", "editor_discount", "editor_lines", "preview_totals"]

PER_PAGE = 20
#: A quantity to credit on the invoice page: ``credit-<line position>``.
_CREDIT_FIELD = re.compile(r"^credit-([1-9][0-9]{0,4})$")
_LINE_FIELD = re.compile(r"^lines-(\d+)-(description|quantity|unit_price|tax_rate|unit)$")
_CLIENT_FIELDS = ("name", "company", "email", "phone", "vat_id", "currency", "buyer_reference", "locale")
_ORG_FIELDS = (
    "name",
    "company",
    "vat_id",
    "email",
    "phone",
    "bank_details",
    "currency",
    "locale",
    "tax_number",
    "legal_registration",
)
#: The EN 16931 objects of a party as form fields ``<object>_<key>`` (BT-34/49, BG-6, BG-17).
_PARTY_OBJECTS = {
    "electronic_address": ("scheme", "value"),
    "contact": ("name", "phone", "email"),
    "bank_account": ("iban", "bic", "account_name"),
}
#: What a client may take as an e-invoice, as the client form offers it (the API's e_invoice).
E_INVOICE_CHOICES = (
    ("auto", "Automatic: Factur-X when the details are complete"),
    ("factur-x", "Factur-X (PDF with the XML inside)"),
    ("xrechnung-cii", "XRechnung, CII"),
    ("xrechnung-ubl", "XRechnung, UBL"),
    ("peppol-ubl", "Peppol BIS 3 (UBL)"),
    ("none", "None: the PDF only"),
)
#: The inputs of a structured address, ``(field of the API's address object, label, kind)``;
#: each is posted as ``address_<field>`` (EN 16931 BT-35..40 seller, BT-50..55 buyer).
ADDRESS_INPUTS = (
    ("line1", "Address line 1", "text"),
    ("line2", "Address line 2", "textarea"),
    ("postal_code", "Postal code", "text"),
    ("city", "City", "text"),
    ("region", "Region", "text"),
    ("country_code", "Country code", "text"),
)


@blueprint.app_context_processor
def _address_inputs() -> dict[str, Any]:
    """The address inputs, for ``_address_fields.html``."""
    return {"address_inputs": ADDRESS_INPUTS}


def form_object(name: str) -> dict[str, str] | None:
    """The party object ``name`` (``electronic_address``, ``contact``,
    ``bank_account``) from its form fields ``<name>_<key>``, stripped; None
    when all are empty (which clears it)."""
    value = {key: (request.form.get(f"{name}_{key}") or "").strip() for key in _PARTY_OBJECTS[name]}
    kept = {key: text for key, text in value.items() if text}
    return kept or None


def form_address() -> dict[str, str] | None:
    """The address object posted by ``_address_fields.html`` (``address_line1``,
    ..., ``address_country_code``, the code upper-cased): its non-empty fields,
    or None when all are empty (which clears the address)."""
    address = {field: (request.form.get(f"address_{field}") or "").strip() for field, _, _ in ADDRESS_INPUTS}
    address["country_code"] = address["country_code"].upper()
    return {field: value for field, value in address.items() if value} or None


blueprint.add_app_template_filter(labels.status_label, "status_label")
blueprint.add_app_template_filter(labels.event_sentence, "event_sentence")
blueprint.add_app_template_global(labels.pointer_sentence, "pointer_sentence")


def _status(item: dict[str, Any]) -> str:
    return "overdue" if item.get("overdue") else str(item.get("status", ""))


blueprint.add_app_template_filter(_status, "shown_status")

#: The locale of amounts when the organisation has none (the service's default, 0001_records.sql).
DEFAULT_LOCALE = "en_GB"


def money(amount: str | Decimal | None, currency: str | None, locale: str | None, *, credit: bool = False) -> str:
    """An amount of the API (a decimal string, already rounded to the
    currency's minor unit) as ``locale`` writes it with its currency and
    grouping (Babel, CLDR): ``"165000"``, ``"JPY"``, ``"en_US"`` ->
    ``"¥165,000"``; ``"1234.50"``, ``"EUR"``, ``"de_DE"`` -> ``"1.234,50 €"``.
    ``credit`` signs it negative: a credit note takes money off what the client
    owes (EN 16931 BT-3 type 381). An amount that is not a number, a missing
    currency or an unknown locale shows the amount as given; None shows "—"."""
    if amount is None or amount == "":
        return "—"
    try:
        value = Decimal(str(amount))
        formatter = Formatter(str(currency or ""), parse_locale(locale or DEFAULT_LOCALE))
        return formatter.money(-value if credit and value else value) if currency else str(amount)
    except (InvalidOperation, ValueError):
        return f"{'-' if credit else ''}{amount} {currency or ''}".strip()


blueprint.add_app_template_filter(money, "money")


def organisation_locale(api: Any) -> str:
    """The signed-in organisation's locale (``GET /organisation``), the one its
    lists write amounts in; :data:`DEFAULT_LOCALE` if it has none or the
    service does not answer it."""
    try:
        return str(api.get("/organisation").get("locale") or DEFAULT_LOCALE)
    except RecordsError:
        return DEFAULT_LOCALE


# --- dashboard ------------------------------------------------------------------------


@blueprint.get("/")
@session.page_login_required
def dashboard() -> ResponseReturnValue:
    """Outstanding, overdue and paid in 30 days per currency, the ageing
    and 12-month charts, and the overdue invoices, oldest first. Every figure
    is the invoices service's (``GET /dashboard``, its ``months`` included):
    this page only draws them."""
    api = records()
    unavailable = False
    figures: dict[str, Any] = {}
    overdue: list[dict[str, Any]] = []
    try:
        answer = api.get("/dashboard")
        figures = answer.get("currencies", {})
        overdue = api.get("/invoices", status="overdue", sort="due_date", order="asc", per_page=10)["items"]
    except RecordsUnavailable:
        unavailable = True
    currencies = []
    for code, numbers in figures.items():
        currencies.append(
            {
                "code": code,
                "numbers": numbers,
                "ageing_chart": charts.ageing_chart(numbers.get("ageing", {}), code),
                "months_chart": charts.months_chart(numbers.get("months", []), code),
            }
        )
    return render_template("dashboard/dashboard.html", currencies=currencies, overdue=overdue, unavailable=unavailable)


# --- invoices -------------------------------------------------------------------------


@blueprint.get("/invoices")
@session.page_login_required
def invoices() -> ResponseReturnValue:
    """The invoice list: filters, search, sort and pages."""
    api = records()
    filters = {
        "status": request.args.get("status") or None,
        "client_id": request.args.get("client_id") or None,
        "issued_from": request.args.get("issued_from") or None,
        "issued_to": request.args.get("issued_to") or None,
        "q": (request.args.get("q") or "").strip() or None,
        "sort": request.args.get("sort") or "created_at",
        "order": request.args.get("order") or "desc",
    }
    # Pages are walked by the service's keyset cursors (Previous / Next); ?page=
    # still works for links made before, at the cost of an OFFSET.
    cursor = request.args.get("cursor") or None
    page = max(1, _int(request.args.get("page"), 1))
    position: dict[str, Any] = {"cursor": cursor} if cursor else {"page": page}
    error = None
    try:
        answer = api.get("/invoices", per_page=PER_PAGE, **position, **filters)
    except RecordsError as exc:
        form_errors(exc, (400, 422))  # a bad filter is shown above the list; anything else is the error page's
        error, answer = exc.message, {"items": [], "total": 0}
    clients = api.get("/clients", per_page=100)["items"]
    total = int(answer.get("total", 0))
    pages = max(1, -(-total // PER_PAGE))
    args = {key: value for key, value in filters.items() if value}
    filtered = any(filters[key] for key in ("status", "client_id", "issued_from", "issued_to", "q"))
    template = "invoices/_invoice_rows.html" if request.headers.get("HX-Request") else "invoices/invoices.html"
    return render_template(
        template,
        items=answer["items"],
        total=total,
        total_exact=answer.get("total_exact", True),
        page=answer.get("page"),
        pages=pages,
        next_cursor=answer.get("next"),
        prev_cursor=answer.get("prev"),
        filters=filters,
        args=args,
        filtered=filtered,
        clients=clients,
        statuses=labels.STATUS_LABELS,
        sorts=labels.SORT_LABELS,
        error=error,
        locale=organisation_locale(api),
    )


#: The invoice list's query parameters that ``GET /invoices.csv`` takes (all but the page).
_INVOICE_EXPORT_ARGS = ("status", "client_id", "issued_from", "issued_to", "q", "sort", "order")


@blueprint.get("/invoices.csv")
@session.page_login_required
def invoices_csv() -> ResponseReturnValue:
    """Every invoice the list's filters match, as CSV: the service's ``GET /invoices.csv``."""
    return _csv_download("/invoices.csv", _INVOICE_EXPORT_ARGS)


@blueprint.get("/clients.csv")
@session.page_login_required
def clients_csv() -> ResponseReturnValue:
    """Every client the search finds, as CSV: the service's ``GET /clients.csv``."""
    return _csv_download("/clients.csv", ("q",))


def _csv_download(path: str, names: tuple[str, ...]) -> Response:
    """The invoices service's CSV at ``path`` with the query parameters
    ``names`` of this request, for the signed-in organisation, as an
    attachment named like ``path``; its refusals are the error pages'."""
    query = urlencode({name: value for name in names if (value := request.args.get(name))})
    content, content_type, _ = records().file(path + (f"?{query}" if query else ""))
    response = Response(content, mimetype=content_type.split(";")[0])
    response.headers["Content-Disposition"] = f'attachment; filename="{path.lstrip("/")}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


#: How many invoices one bulk action takes (one call to the service each).
BULK_LIMIT = 50
_INVOICE_ID = re.compile(r"[0-9a-fA-F-]{36}")


@blueprint.post("/invoices/bulk")
@session.page_login_required
def invoices_bulk() -> ResponseReturnValue:
    """What the invoice list's bulk bar does with the ticked invoices
    (``invoice_id``, at most :data:`BULK_LIMIT`): ``action=download`` answers
    one ZIP of their PDFs (``GET /invoices/{id}/pdf`` each, issued ones
    only); ``action=send`` mails each issued one to its client (``POST
    /invoices/{id}/send`` each) and says per invoice what happened. Nothing
    ticked, or too many, is said above the list."""
    ids = list(dict.fromkeys(value for value in request.form.getlist("invoice_id") if _INVOICE_ID.fullmatch(value)))
    action = request.form.get("action")
    back = redirect(url_for("web.invoices"))
    if not ids:
        flash("Tick at least one issued invoice first.", "error")
        return back
    if len(ids) > BULK_LIMIT:
        flash(f"At most {BULK_LIMIT} invoices at once; {len(ids)} were ticked.", "error")
        return back
    if action == "send":
        for invoice_id in ids:
            category, message = _send_one(invoice_id)
            flash(message, category)
        return back
    if action != "download":
        abort(400)
    archive, missing = _pdf_archive(ids)
    if archive is None:
        for message in missing:
            flash(message, "error")
        return back
    response = Response(archive, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="invoices-{date.today().isoformat()}.zip"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _issued_invoice(invoice_id: str) -> tuple[dict[str, Any] | None, str]:
    """The invoice ``invoice_id`` and what to call it, or None and why it is left out."""
    try:
        invoice = records().get(f"/invoices/{invoice_id}")
    except RecordsError as exc:
        return None, f"{invoice_id}: {exc.message or 'not found'}"
    name = str(invoice.get("number") or "A draft")
    if invoice.get("status") == "draft" or not invoice.get("number"):
        return None, f"{name}: a draft has no final PDF and is not sent; issue it first."
    return invoice, name


def _send_one(invoice_id: str) -> tuple[str, str]:
    """``(flash category, sentence)`` after sending one issued invoice."""
    invoice, name = _issued_invoice(invoice_id)
    if invoice is None:
        return "error", name
    try:
        records().post(f"/invoices/{invoice_id}/send")
    except RecordsError as exc:
        return "error", f"{name}: not sent. {exc.message}"
    return "success", f"{name}: sent to the client."


def _pdf_archive(ids: list[str]) -> tuple[bytes | None, list[str]]:
    """A ZIP (stored names from the service's file names) of the issued
    invoices' PDFs, with ``not-included.txt`` saying why any was left out;
    None and the reasons if none could be included."""
    buffer = io.BytesIO()
    missing: list[str] = []
    names: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for invoice_id in ids:
            invoice, name = _issued_invoice(invoice_id)
            if invoice is None:
                missing.append(name)
                continue
            try:
                content, _, filename = records().file(f"/invoices/{invoice_id}/pdf")
            except RecordsError as exc:
                reason = (
                    "its PDF is still being rendered; try again in a moment" if exc.code == "rendering" else exc.message
                )
                missing.append(f"{name}: {reason}")
                continue
            stored = re.sub(r"[^A-Za-z0-9._-]", "_", filename or f"{name}.pdf")
            while stored in names:
                stored = "_" + stored
            names.add(stored)
            archive.writestr(stored, content)
        if names and missing:
            archive.writestr("not-included.txt", "\r\n".join(missing) + "\r\n")
    return (buffer.getvalue() if names else None), missing


#: A draft's version as the editor's hidden field holds it: ASCII digits.
_VERSION = re.compile(r"[0-9]{1,9}")


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


@blueprint.route("/invoices/new", methods=["GET", "POST"])
@session.page_login_required
def new_invoice() -> ResponseReturnValue:
    """The editor for a new draft; saving creates it (``POST /invoices``)."""
    api = records()
    clients = [client for client in api.get("/clients", per_page=100)["items"] if not client.get("archived")]
    if request.method == "GET":
        draft = {
            "client_id": request.args.get("client_id", ""),
            "currency": "",
            "issue_date": "",
            "due_date": "",
            "lines": [{"description": "", "quantity": "1", "unit_price": "", "tax_rate": ""}],
            "payment_terms": "",
            "notes": "",
        }
        return _editor(draft, clients, errors={}, invoice=None)
    body, lines = _draft_body()
    try:
        created = api.post("/invoices", body)
    except RecordsError as exc:
        return _editor({**body, "lines": lines}, clients, errors=form_errors(exc), invoice=None, status=422)
    flash("Draft saved.", "success")
    return redirect(url_for("web.invoice_page", invoice_id=created["id"]))


@blueprint.route("/invoices/<invoice_id>/edit", methods=["GET", "POST"])
@session.page_login_required
def edit_invoice(invoice_id: str) -> ResponseReturnValue:
    """The editor for a draft; saving sends ``PATCH`` with ``If-Match``."""
    api = records()
    invoice = api.get(f"/invoices/{invoice_id}")
    if invoice["status"] != "draft":
        flash("Issued invoices are final; correct one with a credit note.", "warning")
        return redirect(url_for("web.invoice_page", invoice_id=invoice_id))
    clients = [client for client in api.get("/clients", per_page=100)["items"] if not client.get("archived")]
    if request.method == "GET":
        return _editor(invoice, clients, errors={}, invoice=invoice)
    version = request.form.get("version", "")
    if not _VERSION.fullmatch(version):
        # The form's own hidden field, changed by hand: never put into a header unchecked
        # (If-Match holds ISO-8859-1 only, RFC 9110 section 5.5).
        abort(400, description="the form's version must be the draft's version number; reload the draft")
    body, lines = _draft_body()
    try:
        api.request("PATCH", f"/invoices/{invoice_id}", json=body, headers={"If-Match": f'"v{version}"'})
    except RecordsError as exc:
        if exc.status == 412:
            flash("Someone else changed this draft meanwhile; here is their version.", "warning")
            return redirect(url_for("web.edit_invoice", invoice_id=invoice_id))
        return _editor(
            {**invoice, **body, "lines": lines}, clients, errors=form_errors(exc), invoice=invoice, status=422
        )
    flash("Draft saved.", "success")
    return redirect(url_for("web.invoice_page", invoice_id=invoice_id))


def _editor(
    draft: dict[str, Any],
    clients: list[dict[str, Any]],
    *,
    errors: dict[str, str],
    invoice: dict[str, Any] | None,
    status: int = 200,
) -> ResponseReturnValue:
    lines = draft.get("lines") or [{}]
    allowances = draft.get("allowances") or []
    discount = {key: str(allowances[0].get(key) or "") for key in _DISCOUNT_FIELDS} if allowances else {}
    currency = draft.get("currency") or _default_currency(clients, draft)
    body = render_template(
        "invoices/editor.html",
        draft=draft,
        lines=lines,
        discount=discount,
        ship_to=draft.get("ship_to") or {},
        clients=clients,
        errors=errors,
        invoice=invoice,
        totals=preview_totals(editor_lines(lines), currency, discount),
    )
    return body, status


def _default_currency(clients: list[dict[str, Any]], draft: dict[str, Any]) -> str:
    for client in clients:
        if client["id"] == draft.get("client_id") and client.get("currency"):
            return str(client["currency"])
    return "EUR"


def _form_lines() -> list[dict[str, str]]:
    """The editor's lines in the order they stand on the page (the
    ``lines-<n>-<field>`` inputs, ``n`` increasing), blank lines dropped;
    each row keeps its ``n`` as ``"_index"`` (the ids of its inputs)."""
    rows: dict[int, dict[str, str]] = {}
    for key, value in request.form.items():
        match = _LINE_FIELD.match(key)
        if match:
            rows.setdefault(int(match.group(1)), {"_index": match.group(1)})[match.group(2)] = value.strip()
    return [row for _, row in sorted(rows.items()) if any(row.get(k) for k in ("description", "unit_price"))]


#: The editor's discount: one document-level allowance (EN 16931 BG-20), its form fields.
_DISCOUNT_FIELDS = ("amount", "reason", "tax_rate")
#: The ship-to party's form fields besides its address (``ship_to_address_<field>``).
_SHIP_TO_FIELDS = ("name", "company")


def _form_discount() -> dict[str, str]:
    """The discount as typed: ``{"amount", "reason", "tax_rate"}`` (stripped)."""
    return {key: (request.form.get(f"discount_{key}") or "").strip() for key in _DISCOUNT_FIELDS}


def _form_ship_to() -> dict[str, Any] | None:
    """The ship-to party (BG-13) from the editor: ``{"name", "company",
    "address"}`` with its non-empty fields, or None when all are empty."""
    party: dict[str, Any] = {key: (request.form.get(f"ship_to_{key}") or "").strip() for key in _SHIP_TO_FIELDS}
    address = {field: (request.form.get(f"ship_to_address_{field}") or "").strip() for field, _, _ in ADDRESS_INPUTS}
    address["country_code"] = address["country_code"].upper()
    party["address"] = {field: value for field, value in address.items() if value} or None
    kept = {key: value for key, value in party.items() if value}
    return kept or None


def _draft_body() -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The API body of ``POST``/``PATCH /invoices`` from the editor form,
    and the lines as typed (to show them again next to their errors). The
    discount and the ship-to party are always sent (``[]`` and ``null``
    clear them on a draft that had them)."""
    lines = _form_lines()
    body: dict[str, Any] = {
        "client_id": request.form.get("client_id") or None,
        "currency": (request.form.get("currency") or "").strip().upper() or None,
        "issue_date": request.form.get("issue_date") or None,
        "due_date": request.form.get("due_date") or None,
        "payment_terms": (request.form.get("payment_terms") or "").strip() or None,
        "notes": (request.form.get("notes") or "").strip() or None,
        "lines": [
            {
                "description": line.get("description", ""),
                "quantity": line.get("quantity", ""),
                "unit_price": line.get("unit_price", ""),
                "tax_rate": line.get("tax_rate", ""),
                **({"unit": line["unit"]} if line.get("unit") else {}),
            }
            for line in lines
        ],
    }
    body = {key: value for key, value in body.items() if value is not None}
    discount = _form_discount()
    body["allowances"] = (
        [
            {
                "amount": discount["amount"],
                "reason": discount["reason"] or "Discount",
                "tax_rate": discount["tax_rate"] or _first_rate(lines),
            }
        ]
        if discount["amount"]
        else []
    )
    body["ship_to"] = _form_ship_to()
    return body, lines


def _first_rate(lines: list[dict[str, str]]) -> str:
    """The VAT rate a discount takes when none is typed: the first line's, else 0."""
    return next((line["tax_rate"] for line in lines if line.get("tax_rate")), "0")


#: What each editor number must be, as the invoices service checks it
#: (invoice/schema.py, LineDocument): (field, label, lowest, highest, lowest allowed).
_LINE_NUMBERS = (
    ("quantity", "quantity", Decimal(0), None, False),
    ("unit_price", "unit price", Decimal(0), None, True),
    ("tax_rate", "VAT %", Decimal(0), Decimal(100), True),
)


def _editor_number(raw: Any, label: str, low: Decimal, high: Decimal | None, low_ok: bool) -> Decimal | str:
    """``raw`` as a Decimal, or what is wrong with it in words ("must be a number")."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        return f"{label} is missing"
    try:
        number = Decimal(text)
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        return f"{label} must be a number"
    if number < low or (number == low and not low_ok):
        return f"{label} must be {'0 or more' if low_ok else 'more than 0'}"
    if high is not None and number > high:
        return f"{label} must be at most {high}"
    return number


class EditorLine:
    """One editor line checked for the totals: ``line`` (the model
    :class:`Line`, or None when a number is missing or wrong), ``index`` (the
    ``n`` of its ``lines-<n>-<field>`` inputs) and ``problems``:
    ``[(field, "Line 2: quantity must be a number")]``."""

    def __init__(self, line: Line | None, index: str, problems: list[tuple[str, str]]) -> None:
        self.line = line
        self.index = index
        self.problems = problems


def editor_lines(lines: list[dict[str, Any]]) -> list[EditorLine]:
    """Each editor line as an :class:`EditorLine`: the model :class:`Line`,
    or the problem of each field that keeps it from being counted (missing,
    not a number, or outside what the invoices service takes: quantity above
    0, unit price 0 or more, VAT 0 to 100 %)."""
    parsed: list[EditorLine] = []
    for position, row in enumerate(lines, start=1):
        index = str(row.get("_index", position - 1))
        numbers: dict[str, Decimal] = {}
        problems: list[tuple[str, str]] = []
        for field, label, low, high, low_ok in _LINE_NUMBERS:
            value = _editor_number(row.get(field), label, low, high, low_ok)
            if isinstance(value, str):
                problems.append((field, f"Line {position}: {value}"))
            else:
                numbers[field] = value
        if problems:
            parsed.append(EditorLine(None, index, problems))
            continue
        line = Line(
            position,
            str(row.get("description") or ""),
            numbers["quantity"],
            numbers["unit_price"],
            numbers["tax_rate"],
            unit=str(row.get("unit") or "") or None,
        )
        parsed.append(EditorLine(line, index, []))
    return parsed


def editor_discount(discount: dict[str, Any], lines: list[EditorLine]) -> tuple[AllowanceCharge | None, list[str]]:
    """The editor's discount as a document-level allowance (BG-20: amount
    above 0, its VAT rate defaulting to the first line's), or the problems
    with it in words; ``(None, [])`` when no amount is typed."""
    if not str(discount.get("amount") or "").strip():
        return None, []
    amount = _editor_number(discount.get("amount"), "Discount", Decimal(0), None, False)
    first = next((item.line.tax_rate for item in lines if item.line is not None), Decimal(0))
    rate = (
        _editor_number(discount.get("tax_rate"), "Discount VAT %", Decimal(0), Decimal(100), True)
        if str(discount.get("tax_rate") or "").strip()
        else first
    )
    problems = [value for value in (amount, rate) if isinstance(value, str)]
    if problems or isinstance(amount, str) or isinstance(rate, str):
        return None, problems
    return AllowanceCharge(amount, str(discount.get("reason") or "").strip() or "Discount", rate), []


def preview_totals(lines: list[EditorLine], currency: str, discount: dict[str, Any] | None = None) -> dict[str, Any]:
    """The totals box of the editor: ``{"currency", "rows": [(label,
    text)], "total": (label, text), "complete": bool, "problems": [str],
    "invalid": [input id], "line_nets": [text or ""]}``, computed by the
    EN 16931 model (:func:`compute_totals`, BR-CO-10, -11, -13, -14, -15,
    -17) and worded as on the PDF (:func:`totals_rows`). A line that cannot
    be counted is never left out silently: its fields are named in
    ``invalid`` and ``problems``, and the total reads "—" (``complete``
    false) until it is fixed, beside the subtotal of the others."""
    currency = (currency or "EUR").strip().upper()[:3] or "EUR"
    good = [item.line for item in lines if item.line is not None]
    problems = [message for item in lines for _, message in item.problems]
    invalid = [f"lines-{item.index}-{field}" for item in lines for field, _ in item.problems]
    allowance, discount_problems = editor_discount(discount or {}, lines)
    problems += discount_problems
    if discount_problems:
        invalid.append("discount_amount")
    allowances = [allowance] if allowance else []
    try:
        fmt = Formatter(currency, parse_locale("en_GB"))
        totals = compute_totals(good, currency, allowances=allowances)
    except (ValueError, KeyError, InvalidOperation):
        fmt = Formatter("EUR", parse_locale("en_GB"))
        totals = compute_totals(good, "EUR", allowances=allowances)
        problems.append(f"{currency} is not a currency code; totals shown in EUR")
        invalid.append("currency")
    rows, total = totals_rows(totals, fmt, allowances=allowances)
    nets = iter(totals.line_nets)
    line_nets = [fmt.money(next(nets)) if item.line is not None else "" for item in lines]
    complete = not any(item.problems for item in lines) and not discount_problems
    return {
        "currency": totals.currency,
        "rows": [(label, fmt.money(amount)) for label, amount in rows],
        "total": (total[0], fmt.money(total[1]) if complete else "—"),
        "complete": complete,
        "problems": problems,
        "invalid": invalid,
        "line_nets": line_nets,
    }


@blueprint.post("/invoices/totals")
@session.page_login_required
def totals_preview() -> ResponseReturnValue:
    """The editor's totals, recomputed by the server as the user types (htmx)."""
    lines = _form_lines()
    totals = preview_totals(editor_lines(lines), request.form.get("currency", ""), _form_discount())
    return render_template("invoices/_totals.html", totals=totals)


@blueprint.get("/invoices/<invoice_id>")
@session.page_login_required
def invoice_page(invoice_id: str) -> ResponseReturnValue:
    """One invoice: PDF preview, downloads, actions by status, payments,
    credit notes and the activity log."""
    api = records()
    invoice = api.get(f"/invoices/{invoice_id}")
    events = api.get(f"/invoices/{invoice_id}/events", per_page=100)["items"]
    client = None
    if invoice.get("client_id"):
        try:
            client = api.get(f"/clients/{invoice['client_id']}")
        except RecordsError:
            client = None
    return render_template(
        "invoices/invoice.html",
        invoice=invoice,
        events=events,
        client=client,
        today=date.today(),
        downloads=_downloads(invoice),
    )


#: How a download is offered, by format; others read "Download <NAME>".
_DOWNLOAD_LABELS = {"cii": "Download e-invoice (CII XML)", "ubl": "Download e-invoice (UBL XML)"}
#: What a draft's preview can be downloaded as.
_PREVIEW_FORMATS = ("pdf", "xlsx")


def _downloads(invoice: dict[str, Any]) -> list[dict[str, str]]:
    """The invoice's download links: one per document the service keeps for
    it (the ``format`` of each of its ``files``: PDF, XLSX and, for a client
    that takes one, the e-invoice XML), or the PDF and XLSX previews of a
    draft: ``[{"kind", "label", "url"}]``. The PDF, otherwise shown in the
    page, is asked for as an attachment."""
    kinds = [item["format"] for item in invoice.get("files") or []] or [
        kind for kind in _PREVIEW_FORMATS if kind in output_formats.kept_names()
    ]
    return [
        {
            "kind": kind,
            "label": _DOWNLOAD_LABELS.get(kind, f"Download {kind.upper()}"),
            "url": url_for(
                "web.invoice_file", invoice_id=invoice["id"], kind=kind, download=1 if kind == "pdf" else None
            ),
        }
        for kind in kinds
    ]


@blueprint.get("/invoices/<invoice_id>/<kept_format:kind>")
@session.page_login_required
def invoice_file(invoice_id: str, kind: str) -> ResponseReturnValue:
    """The invoice in a kept format of the registry (the PDF shown in the
    page, the others and ``?download=1`` downloaded), as the service keeps
    or previews it."""
    try:
        content, mimetype, filename = records().file(f"/invoices/{invoice_id}/{kind}")
    except RecordsError as exc:
        if exc.code != "rendering" or request.args.get("download"):
            raise
        # Issued a moment ago: the worker is still rendering it. The preview
        # frame says so and reloads itself (a meta refresh: no script needed).
        message = "The document is being made; it appears here in a moment."
        return render_template("invoices/file_missing.html", kind=kind, message=message, refresh=2)
    response = Response(content, mimetype=mimetype)
    disposition = "inline" if kind == "pdf" and not request.args.get("download") else "attachment"
    name = (filename or f"invoice-{invoice_id}.{kind}").replace('"', "")
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    # The PDF is framed by the invoice page: same origin only.
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'self'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


_ACTIONS = {
    "issue": ("Invoice issued with its number.", "/issue"),
    "send": ("Invoice sent to the client.", "/send"),
}


@blueprint.post("/invoices/<invoice_id>/<any(issue, send):action>")
@session.page_login_required
@flash_refusal("web.invoice_page", statuses=(409, 422))
def invoice_action(invoice_id: str, action: str) -> ResponseReturnValue:
    """Issue or send an invoice (the service checks the status and role)."""
    message, path = _ACTIONS[action]
    records().post(f"/invoices/{invoice_id}{path}")
    flash(message, "success")
    return redirect(url_for("web.invoice_page", invoice_id=invoice_id))


@blueprint.post("/invoices/<invoice_id>/delete")
@session.page_login_required
@flash_refusal("web.invoice_page", statuses=(409, 422))
def delete_invoice(invoice_id: str) -> ResponseReturnValue:
    """Delete a draft."""
    records().delete(f"/invoices/{invoice_id}")
    flash("Draft deleted.", "success")
    return redirect(url_for("web.invoices"))


@blueprint.post("/invoices/<invoice_id>/payments")
@session.page_login_required
@flash_refusal("web.invoice_page", prefix="Payment not recorded: ")
def record_payment(invoice_id: str) -> ResponseReturnValue:
    """Record a payment (``amount``, ``date``, ``method``, ``reference``)."""
    body = {key: (request.form.get(key) or "").strip() or None for key in ("amount", "date", "method", "reference")}
    records().post(f"/invoices/{invoice_id}/payments", {k: v for k, v in body.items() if v is not None})
    flash(f"Payment of {body['amount']} recorded.", "success")
    return redirect(url_for("web.invoice_page", invoice_id=invoice_id))


@blueprint.post("/invoices/<invoice_id>/refunds")
@session.page_login_required
@flash_refusal("web.invoice_page", prefix="Refund not recorded: ")
def record_refund(invoice_id: str) -> ResponseReturnValue:
    """Record money paid back to the client (``amount``, ``date``, ``method``, ``reference``)."""
    body = {key: (request.form.get(key) or "").strip() or None for key in ("amount", "date", "method", "reference")}
    records().post(f"/invoices/{invoice_id}/refunds", {k: v for k, v in body.items() if v is not None})
    flash(f"Refund of {body['amount']} recorded.", "success")
    return redirect(url_for("web.invoice_page", invoice_id=invoice_id))


@blueprint.post("/invoices/<invoice_id>/credit-notes")
@session.page_login_required
@flash_refusal("web.invoice_page", prefix="Credit note not issued: ")
def credit_note(invoice_id: str) -> ResponseReturnValue:
    """Issue a credit note, with a reason: for the whole invoice (``scope=all``:
    all that is left), or for the quantities typed per line (``credit-<position>``
    inputs; blank ones are not credited)."""
    reason = (request.form.get("reason") or "").strip() or None
    body: dict[str, Any] = {"reason": reason} if reason else {}
    if request.form.get("scope") == "lines":
        lines = [
            {"position": int(match.group(1)), "quantity": value.strip()}
            for key, value in request.form.items()
            if (match := _CREDIT_FIELD.match(key)) and value.strip()
        ]
        if not lines:
            flash("Credit note not issued: type the quantity to credit on at least one line.", "error")
            return redirect(url_for("web.invoice_page", invoice_id=invoice_id))
        body["lines"] = sorted(lines, key=lambda line: int(line["position"]))
    done = records().post(f"/invoices/{invoice_id}/credit-notes", body)
    flash(f"Credit note {done['credit_note'].get('number') or ''} issued.", "success")
    return redirect(url_for("web.invoice_page", invoice_id=invoice_id))


# --- clients --------------------------------------------------------------------------


@blueprint.get("/clients")
@session.page_login_required
def clients() -> ResponseReturnValue:
    """The organisation's clients, by name; ``?q=`` finds them by name or
    company (the service's search, ``GET /clients?q=``)."""
    q = (request.args.get("q") or "").strip() or None
    error = None
    try:
        answer = records().get("/clients", per_page=100, q=q)
    except RecordsError as exc:
        form_errors(exc, (400, 422))  # a search the service refuses is said above the list
        error, answer = exc.message, {"items": [], "total": 0}
    return render_template(
        "clients/clients.html", clients=answer["items"], total=answer.get("total", 0), q=q, error=error
    )


@blueprint.route("/clients/new", methods=["GET", "POST"])
@blueprint.route("/clients/<client_id>", methods=["GET", "POST"])
@session.page_login_required
def client_form(client_id: str | None = None) -> ResponseReturnValue:
    """Create a client, or change one (``PATCH``)."""
    api = records()
    client = api.get(f"/clients/{client_id}") if client_id else {}
    if request.method == "GET":
        return render_template(
            "clients/client_form.html", client=client, errors={}, client_id=client_id, choices=E_INVOICE_CHOICES
        )
    body: dict[str, Any] = {key: (request.form.get(key) or "").strip() for key in _CLIENT_FIELDS}
    body["currency"] = body["currency"].upper()
    body["address"] = form_address()
    body["electronic_address"] = form_object("electronic_address")
    body["e_invoice"] = (request.form.get("e_invoice") or "auto").strip()
    terms = (request.form.get("payment_terms_days") or "").strip()
    body["payment_terms_days"] = int(terms) if terms.isdigit() else (terms or None)
    if client_id:
        body = {key: (value if value != "" else None) for key, value in body.items()}
        body["name"] = body["name"] or ""
    else:
        body = {key: value for key, value in body.items() if value not in ("", None)}
    try:
        saved = api.patch(f"/clients/{client_id}", body) if client_id else api.post("/clients", body)
    except RecordsError as exc:
        errors = form_errors(exc)
        return render_template(
            "clients/client_form.html",
            client={**client, **body},
            errors=errors,
            client_id=client_id,
            choices=E_INVOICE_CHOICES,
        ), 422
    flash(f"Client {saved.get('name', '')} saved.", "success")
    return redirect(url_for("web.clients"))


@blueprint.post("/clients/<client_id>/archive")
@session.page_login_required
def archive_client(client_id: str) -> ResponseReturnValue:
    """Archive a client (deleted when it has no invoices; the service decides)."""
    records().delete(f"/clients/{client_id}")
    flash("Client archived.", "success")
    return redirect(url_for("web.clients"))


# --- orders ---------------------------------------------------------------------------


@blueprint.get("/orders")
@session.page_login_required
def orders() -> ResponseReturnValue:
    """Customer orders, open first, each one click from a draft invoice."""
    api = records()
    items = api.get("/orders", per_page=100)["items"]
    names = {client["id"]: client.get("name", "") for client in api.get("/clients", per_page=100)["items"]}
    return render_template("orders/orders.html", orders=items, names=names)


@blueprint.route("/orders/new", methods=["GET", "POST"])
@session.page_login_required
def new_order() -> ResponseReturnValue:
    """Take a customer's order by hand (``POST /orders``: a client, its lines,
    currency and notes); it then waits, open, for "Make invoice"."""
    api = records()
    clients = [client for client in api.get("/clients", per_page=100)["items"] if not client.get("archived")]
    order: dict[str, Any] = {
        "client_id": request.args.get("client_id", ""),
        "currency": "",
        "notes": "",
        "lines": [{"description": "", "quantity": "1", "unit_price": "", "tax_rate": ""}],
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        lines = _form_lines()
        body: dict[str, Any] = {
            "client_id": request.form.get("client_id") or "",
            "currency": (request.form.get("currency") or "").strip().upper() or None,
            "notes": (request.form.get("notes") or "").strip() or None,
            "lines": [
                {
                    "description": line.get("description", ""),
                    "quantity": line.get("quantity", ""),
                    "unit_price": line.get("unit_price", ""),
                    "tax_rate": line.get("tax_rate", ""),
                    **({"unit": line["unit"]} if line.get("unit") else {}),
                }
                for line in lines
            ],
        }
        try:
            api.post("/orders", {key: value for key, value in body.items() if value is not None})
        except RecordsError as exc:
            errors = form_errors(exc)
            order = {**order, **body, "lines": lines or order["lines"]}
        else:
            flash("Order saved.", "success")
            return redirect(url_for("web.orders"))
    body_html = render_template(
        "orders/order_form.html", order=order, lines=order["lines"], clients=clients, errors=errors
    )
    return body_html, 422 if errors else 200


@blueprint.post("/orders/<order_id>/invoice")
@session.page_login_required
@flash_refusal("web.orders", statuses=(409, 422))
def invoice_order(order_id: str) -> ResponseReturnValue:
    """Make a draft invoice from an open order and open it in the editor."""
    done = records().post(f"/orders/{order_id}/invoice")
    flash("Draft made from the order.", "success")
    return redirect(url_for("web.edit_invoice", invoice_id=done["invoice"]["id"]))


# --- organisation ---------------------------------------------------------------------


@blueprint.route("/organisation", methods=["GET", "POST"])
@session.page_login_required
def organisation() -> ResponseReturnValue:
    """The seller profile, numbering and members with their roles."""
    api = records()
    profile = api.get("/organisation")
    members = api.get("/organisation/members", per_page=100)["items"]
    numbering = api.get("/organisation/numbering")["items"]
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        body: dict[str, Any] = {key: (request.form.get(key) or "").strip() or None for key in _ORG_FIELDS}
        if body.get("currency"):
            body["currency"] = body["currency"].upper()
        body["address"] = form_address()
        for name in _PARTY_OBJECTS:
            body[name] = form_object(name)
        body["payment_reference"] = (request.form.get("payment_reference") or "invoice_number").strip()
        terms = (request.form.get("payment_terms_days") or "").strip()
        body["payment_terms_days"] = int(terms) if terms.isdigit() else (terms or None)
        body["name"] = body.get("name") or ""
        try:
            profile = api.patch("/organisation", body)
        except RecordsError as exc:
            errors, status = form_errors(exc), exc.status
            profile = {**profile, **body}
        else:
            flash("Organisation saved.", "success")
            return redirect(url_for("web.organisation"))
    return render_template(
        "organisation/organisation.html",
        profile=profile,
        members=members,
        numbering=numbering,
        series_labels=_SERIES_LABELS,
        is_owner=any(
            item.get("status") == "active"
            and item.get("user_id") == (g.claims.sub if g.claims else None)
            and item.get("role") == "owner"
            for item in members
        ),
        errors=errors,
        roles=labels.ROLES,
        roles_help=labels.ROLES_HELP,
        default_role=labels.DEFAULT_ROLE,
    ), status


#: The series of ``GET /organisation/numbering``, as the Organisation page names them.
_SERIES_LABELS = {"invoices": "Invoices", "credit_notes": "Credit notes"}


@blueprint.post("/organisation/numbering/<series>")
@session.page_login_required
@flash_refusal("web.organisation", prefix="Numbering not saved: ", statuses=(403, 404, 409, 422))
def set_numbering(series: str) -> ResponseReturnValue:
    """Set a series' prefix, format and (optionally) next number; the
    invoices service refuses a bad format (422) or one that would repeat a
    number the organisation holds (409), and the page says why."""
    body: dict[str, Any] = {
        "prefix": (request.form.get("prefix") or "").strip(),
        "format": (request.form.get("format") or "").strip(),
    }
    next_number = (request.form.get("next_number") or "").strip()
    if next_number:
        body["next_number"] = int(next_number) if next_number.isdigit() else next_number
    saved = records().put(f"/organisation/numbering/{series}", body)
    flash(f"{_SERIES_LABELS.get(series, series)} are numbered {saved['format']}: next {saved['next']}.", "success")
    return redirect(url_for("web.organisation"))


@blueprint.get("/organisation/logo")
@session.page_login_required
def organisation_logo() -> ResponseReturnValue:
    """The organisation's logo as the invoices service stored it (404 when none)."""
    try:
        content, mimetype, _ = records().file("/organisation/logo")
    except RecordsError as exc:
        if exc.status == 404:
            abort(404)
        raise
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blueprint.post("/organisation/logo")
@session.page_login_required
@flash_refusal("web.organisation", prefix="Logo not saved: ", statuses=(403, 413, 415, 422))
def upload_logo() -> ResponseReturnValue:
    """Set the logo from the form's file field ``file`` (PNG or JPEG); the
    service checks and re-encodes it."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Logo not saved: choose a PNG or JPEG file.", "error")
        return redirect(url_for("web.organisation"))
    data = upload.read()
    content_type = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    records().put_image("/organisation/logo", data, content_type)
    flash("Logo saved.", "success")
    return redirect(url_for("web.organisation"))


@blueprint.post("/organisation/logo/delete")
@session.page_login_required
@flash_refusal("web.organisation", prefix="Logo not removed: ")
def delete_logo() -> ResponseReturnValue:
    """Remove the logo."""
    records().delete("/organisation/logo")
    flash("Logo removed.", "success")
    return redirect(url_for("web.organisation"))


@blueprint.post("/organisation/members")
@session.page_login_required
@flash_refusal("web.organisation", prefix="Not invited: ")
def invite_member() -> ResponseReturnValue:
    """Invite someone by e-mail with a role."""
    body = {
        "email": (request.form.get("email") or "").strip(),
        "role": request.form.get("role") or labels.FALLBACK_ROLE,
    }
    records().post("/organisation/members", body)
    flash(f"{body['email']} invited as {body['role']}.", "success")
    return redirect(url_for("web.organisation"))


# --- webhooks (owners only; the invoices service decides) ------------------------------

#: The events an endpoint may subscribe to, as the form offers them (the API's ``events``).
WEBHOOK_EVENTS = (
    ("invoice.issued", "An invoice is issued"),
    ("invoice.sent", "An invoice is sent to its client"),
    ("invoice.paid", "An invoice is paid in full"),
    ("payment.recorded", "A payment is recorded"),
    ("credit_note.issued", "A credit note is issued"),
    ("job.done", "A document is rendered"),
    ("job.failed", "A document could not be rendered"),
)


def _webhooks_page(
    *, secret: dict[str, Any] | None = None, errors: dict[str, str] | None = None, form: dict[str, Any] | None = None
) -> ResponseReturnValue:
    """The webhooks page; ``secret`` (an endpoint as created or rotated, with
    its ``secret``) is shown this once, so the answer is never stored."""
    api = records()
    endpoints = api.get("/webhooks", per_page=100)["items"]
    response = Response(
        render_template(
            "organisation/webhooks.html",
            endpoints=endpoints,
            secret=secret,
            errors=errors or {},
            form=form or {"events": ["invoice.issued", "invoice.paid"]},
            events=WEBHOOK_EVENTS,
        ),
        status=422 if errors else 200,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/organisation/webhooks")
@session.page_login_required
def webhooks() -> ResponseReturnValue:
    """The organisation's webhook endpoints, and a form for a new one."""
    return _webhooks_page()


@blueprint.post("/organisation/webhooks")
@session.page_login_required
def create_webhook() -> ResponseReturnValue:
    """Register an endpoint; its secret is shown on the page this once."""
    body = {
        "url": (request.form.get("url") or "").strip(),
        "events": request.form.getlist("events"),
        "description": (request.form.get("description") or "").strip(),
    }
    try:
        created = records().post("/webhooks", body)
    except RecordsError as exc:
        return _webhooks_page(errors=form_errors(exc), form=body)
    return _webhooks_page(secret=created)


@blueprint.post("/organisation/webhooks/<webhook_id>/rotate")
@session.page_login_required
@flash_refusal("web.webhooks", prefix="Secret not rotated: ")
def rotate_webhook(webhook_id: str) -> ResponseReturnValue:
    """A new secret for the endpoint, shown this once; the old one still signs for the grace period."""
    return _webhooks_page(secret=records().post(f"/webhooks/{webhook_id}/rotate-secret"))


@blueprint.post("/organisation/webhooks/<webhook_id>/enabled")
@session.page_login_required
@flash_refusal("web.webhooks", prefix="Not changed: ")
def toggle_webhook(webhook_id: str) -> ResponseReturnValue:
    """Turn the endpoint on or off (the form's ``enabled``: ``true`` or ``false``)."""
    enabled = request.form.get("enabled") == "true"
    records().patch(f"/webhooks/{webhook_id}", {"enabled": enabled})
    flash("Endpoint turned on." if enabled else "Endpoint turned off.", "success")
    return redirect(url_for("web.webhooks"))


@blueprint.post("/organisation/webhooks/<webhook_id>/delete")
@session.page_login_required
@flash_refusal("web.webhooks", prefix="Not removed: ")
def delete_webhook(webhook_id: str) -> ResponseReturnValue:
    """Remove the endpoint and its delivery log."""
    records().delete(f"/webhooks/{webhook_id}")
    flash("Endpoint removed.", "success")
    return redirect(url_for("web.webhooks"))


@blueprint.get("/organisation/webhooks/<webhook_id>")
@session.page_login_required
def webhook_log(webhook_id: str) -> ResponseReturnValue:
    """The endpoint's deliveries, newest first, with every attempt and a button to send one again."""
    api = records()
    endpoint = next((item for item in api.get("/webhooks", per_page=100)["items"] if item["id"] == webhook_id), None)
    if endpoint is None:
        abort(404)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    deliveries = api.get(f"/webhooks/{webhook_id}/deliveries", page=page, per_page=PER_PAGE)
    return render_template("organisation/webhook_log.html", endpoint=endpoint, deliveries=deliveries, page=page)


@blueprint.post("/organisation/webhooks/<webhook_id>/deliveries/<delivery_id>/retry")
@session.page_login_required
@flash_refusal("web.webhook_log", prefix="Not sent again: ")
def retry_webhook_delivery(webhook_id: str, delivery_id: str) -> ResponseReturnValue:
    """Send a delivery again, with the same webhook-id."""
    records().post(f"/webhooks/{webhook_id}/deliveries/{delivery_id}/retry")
    flash("The delivery will be sent again in a moment.", "success")
    return redirect(url_for("web.webhook_log", webhook_id=webhook_id))
