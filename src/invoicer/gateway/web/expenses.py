"""The expenses pages (issue 19): drop received invoices and receipts, watch them being
read, review each one with its document beside its fields, correct, submit, approve,
reject and pay. Every rule is the expenses service's (:mod:`invoicer.expenses`); these views
turn forms into calls of its HTTP API and answers into pages.

* ``/app/expenses``: the list (filters, search) and the upload form; with JavaScript the
  files are sent one by one, each with its own progress bar; rows still being read refresh
  themselves (htmx polling) until the intake worker is done.
* ``/app/expenses/<id>``: the review page. The document's page image, with a box drawn
  where each field was read (an SVG over the image: no inline style, no script), and the
  fields, those below 0.9 confidence marked; duplicates and changed bank details are
  warnings that need a tick before submitting.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

import pypdfium2 as pdfium
import requests
from flask import Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask import session as web_session
from flask.typing import ResponseReturnValue
from PIL import Image, ImageOps

from . import session
from .blueprint import blueprint
from .records import Records, RecordsError, RecordsUnavailable
from .refusals import flash_refusal

__all__ = ["expenses_api"]

PER_PAGE = 25
#: Below this a field is shown as "check this" (the service's review threshold).
CONFIDENT = 0.9
#: The fields of the review form, in reading order, with their labels.
FIELDS = (
    ("supplier_name", "Supplier"),
    ("supplier_vat_id", "Supplier VAT ID"),
    ("supplier_address", "Supplier address"),
    ("iban", "IBAN"),
    ("invoice_number", "Invoice number"),
    ("issue_date", "Issue date"),
    ("due_date", "Due date"),
    ("currency", "Currency"),
    ("total_net", "Net amount"),
    ("total_tax", "VAT"),
    ("total_gross", "Gross amount"),
)
STATUS_LABELS = {
    "processing": "Being read",
    "needs_review": "Needs review",
    "submitted": "Submitted",
    "approved": "Approved",
    "rejected": "Rejected",
    "paid": "Paid",
    "failed": "Could not be read",
}
WARNING_LABELS = {
    "duplicate": "This looks like a duplicate: the same supplier and invoice number as an earlier expense.",
    "bank_details_changed": "The supplier's bank details changed: the IBAN differs from the one on its last "
    "approved expense. Check with the supplier by phone before paying.",
}
#: The largest page image drawn for the review page (pixels of the longer side).
PAGE_PIXELS = 1400


def expenses_api() -> Records:
    """A client of the expenses service for the signed-in user of this request."""
    settings = current_app.config["SETTINGS"]
    return Records(
        settings.expenses_url, g.token, web_session.get("organisation_id"), timeout=settings.forward_timeout_seconds
    )


@blueprint.app_template_filter("expense_status")
def _expense_status(status: str) -> str:
    return STATUS_LABELS.get(status, status)


@blueprint.get("/expenses")
@session.page_login_required
def expenses() -> ResponseReturnValue:
    """The list and the upload form."""
    filters = {"status": request.args.get("status") or None, "q": (request.args.get("q") or "").strip() or None}
    page = max(1, _int(request.args.get("page"), 1))
    error = None
    try:
        answer = expenses_api().get("/expenses", page=page, per_page=PER_PAGE, **filters)
    except RecordsError as exc:
        error, answer = exc.message, {"items": [], "total": 0}
    template = "expenses/_rows.html" if request.headers.get("HX-Request") else "expenses/expenses.html"
    pages = max(1, -(-int(answer.get("total", 0)) // PER_PAGE))
    return render_template(
        template,
        items=answer["items"],
        total=answer.get("total", 0),
        page=page,
        pages=pages,
        filters=filters,
        statuses=STATUS_LABELS,
        error=error,
        reading=any(item["status"] == "processing" for item in answer["items"]),
    )


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


@blueprint.get("/expenses.csv")
@session.page_login_required
def expenses_csv() -> ResponseReturnValue:
    """The expenses (with the list's filters) as CSV, from the service's ``GET /expenses.csv``."""
    params = {key: value for key in ("status", "q") if (value := request.args.get(key))}
    query = "&".join(f"{key}={quote(value)}" for key, value in params.items())
    content, content_type, _ = expenses_api().file("/expenses.csv" + (f"?{query}" if query else ""))
    response = Response(content, mimetype=content_type.split(";")[0])
    response.headers["Content-Disposition"] = 'attachment; filename="expenses.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.post("/expenses/upload")
@session.page_login_required
def upload_expenses() -> ResponseReturnValue:
    """Each posted file (field ``files``) becomes an expense. Without JavaScript the page
    comes back with what happened to each file; the page's script sends one file per request
    and shows the answer (a short JSON) beside its progress bar."""
    files = request.files.getlist("files")
    if not files or all(not upload.filename for upload in files):
        flash("Choose one or more files first.", "error")
        return redirect(url_for("web.expenses"))
    results = []
    for upload in files:
        data = upload.read()
        name = upload.filename or "document"
        try:
            created = _post_document(name, data, upload.mimetype or "application/octet-stream")
            results.append({"file": name, "ok": True, "id": created["id"]})
        except RecordsError as exc:
            results.append({"file": name, "ok": False, "message": exc.message})
    if request.headers.get("X-Requested-With") == "fetch":
        return {"results": results}
    for result in results:
        if result["ok"]:
            flash(f"{result['file']}: received, being read.", "success")
        else:
            flash(f"{result['file']}: {result['message']}", "error")
    return redirect(url_for("web.expenses"))


def _post_document(name: str, data: bytes, content_type: str) -> dict[str, Any]:
    """``POST /expenses`` with the document as the multipart field ``file``."""
    api = expenses_api()
    headers = api.identity()
    try:
        reply = requests.post(
            f"{api.base_url}/expenses", headers=headers, files={"file": (name, data, content_type)}, timeout=60
        )
    except requests.RequestException as exc:
        raise RecordsUnavailable(str(exc)) from None
    try:
        body = reply.json()
    except ValueError:
        raise RecordsUnavailable(f"expenses service answered {reply.status_code} without JSON") from None
    if reply.ok:
        created: dict[str, Any] = body
        return created
    if reply.status_code >= 500:
        raise RecordsUnavailable(f"expenses service answered {reply.status_code}")
    error = body.get("error", {})
    raise RecordsError(reply.status_code, str(error.get("code")), str(error.get("message")), error.get("details") or [])


@blueprint.get("/expenses/<uuid:expense_id>")
@session.page_login_required
def expense_page(expense_id: Any) -> ResponseReturnValue:
    """The review page."""
    expense = expenses_api().get(f"/expenses/{expense_id}")
    boxes = [
        {
            "name": name,
            "label": label,
            "page": found.get("page"),
            "box": _box(found["bbox"]),
            "low": found["confidence"] < CONFIDENT,
        }
        for name, label in FIELDS
        if (found := expense["fields"].get(name)) and found.get("bbox")
    ]
    pages = max(1, int(expense.get("pages") or 1))
    return render_template(
        "expenses/expense.html",
        expense=expense,
        fields=FIELDS,
        confident=CONFIDENT,
        boxes=boxes,
        pages=range(1, pages + 1),
        warnings=WARNING_LABELS,
        statuses=STATUS_LABELS,
        has_image=bool(expense.get("document")) and expense["document"]["content_type"] != "application/xml",
    )


def _box(bbox: list[float]) -> dict[str, float]:
    """A field's box in the SVG's 1000 x 1000 user space over the page image."""
    x0, top, x1, bottom = bbox
    return {
        "x": round(x0 * 1000, 1),
        "y": round(top * 1000, 1),
        "w": round((x1 - x0) * 1000, 1),
        "h": round((bottom - top) * 1000, 1),
    }


@blueprint.get("/expenses/<uuid:expense_id>/pages/<int:number>.png")
@session.page_login_required
def expense_page_image(expense_id: Any, number: int) -> ResponseReturnValue:
    """Page ``number`` (1-based) of the expense's document as a PNG: a PDF page rendered
    with pypdfium2, an image converted (a browser shows no TIFF)."""
    content, content_type, _ = expenses_api().file(f"/expenses/{expense_id}/document")
    try:
        image = _page_image(content, content_type, number)
    except (IndexError, ValueError, OSError):
        abort(404)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    response = Response(buffer.getvalue(), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def _page_image(content: bytes, content_type: str, number: int) -> Any:
    if content_type == "application/pdf":
        pdf = pdfium.PdfDocument(content)
        try:
            if not 1 <= number <= len(pdf):
                raise IndexError(number)
            page = pdf[number - 1]
            width, height = page.get_size()
            image = page.render(scale=min(2.0, PAGE_PIXELS / max(width, height))).to_pil()
        finally:
            pdf.close()
        return image
    if number != 1:
        raise IndexError(number)
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(content)))
    image.thumbnail((PAGE_PIXELS, PAGE_PIXELS))
    return image.convert("RGB")


@blueprint.get("/expenses/<uuid:expense_id>/document")
@session.page_login_required
def expense_document(expense_id: Any) -> ResponseReturnValue:
    """The document as uploaded, as an attachment."""
    content, content_type, _ = expenses_api().file(f"/expenses/{expense_id}/document")
    response = Response(content, mimetype=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="expense-{expense_id}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


#: Refusals the review page shows as a message: bad input, not allowed (nobody approves their
#: own submission), a conflict with the state, a stale form, invalid fields.
_SHOWN = frozenset({400, 403, 409, 412, 422, 428})


@blueprint.post("/expenses/<uuid:expense_id>/fields")
@session.page_login_required
@flash_refusal("web.expense_page", prefix="Not saved: ", statuses=_SHOWN)
def correct_expense(expense_id: Any) -> ResponseReturnValue:
    """Save the changed fields, and the low-confidence ones the person has seen, as the
    person's (``PATCH`` with the version the form was made from)."""
    api = expenses_api()
    expense = api.get(f"/expenses/{expense_id}")
    changes: dict[str, Any] = {}
    for name, _ in FIELDS:
        posted = (request.form.get(name) or "").strip()
        found = expense["fields"].get(name) or {}
        # A changed field, or one read below the threshold that the person has now seen and
        # saved as it is: either is the person's from here on (source "person").
        if posted != (found.get("value") or "") or (posted and found.get("confidence", 1.0) < CONFIDENT):
            changes[name] = posted or None
    for name in ("category", "notes"):
        text = (request.form.get(name) or "").strip() or None
        if text != expense.get(name):
            changes[name] = text
    if not changes:
        flash("Nothing changed.", "info")
        return redirect(url_for("web.expense_page", expense_id=expense_id))
    version = request.form.get("version", "")
    api.request("PATCH", f"/expenses/{expense_id}", json=changes, headers={"If-Match": f'"v{version}"'})
    flash("Saved. Check the fields again, then submit.", "success")
    return redirect(url_for("web.expense_page", expense_id=expense_id))


@blueprint.post("/expenses/<uuid:expense_id>/<any(submit, approve, reject, pay):action>")
@session.page_login_required
@flash_refusal("web.expense_page", statuses=_SHOWN)
def decide_expense(expense_id: Any, action: str) -> ResponseReturnValue:
    """Submit (with the ticked warnings), approve, reject (with a reason) or pay."""
    api = expenses_api()
    if action == "submit":
        api.post(f"/expenses/{expense_id}/submit", {"confirm": request.form.getlist("confirm")})
        flash("Submitted for approval.", "success")
    elif action == "approve":
        api.post(f"/expenses/{expense_id}/approve")
        flash("Approved.", "success")
    elif action == "reject":
        api.post(f"/expenses/{expense_id}/reject", {"reason": (request.form.get("reason") or "").strip()})
        flash("Rejected.", "success")
    else:
        fields = ("amount", "paid_on", "method", "reference")
        body = {key: value for key in fields if (value := (request.form.get(key) or "").strip())}
        api.post(f"/expenses/{expense_id}/payments", body)
        flash("Payment recorded.", "success")
    return redirect(url_for("web.expense_page", expense_id=expense_id))
