"""The baseline: invoices rendered the way the legacy worker did it.

    python bench/baseline_legacy.py FILE... --out DIR

What users have today, rebuilt for the benchmark on the same input files:
ReportLab platypus (``SimpleDocTemplate`` + ``Table`` + ``Paragraph``) in
the built-in Helvetica, and a styled openpyxl ``Workbook`` with a new
``Font``/``Fill``/``Border`` per cell. Like the legacy tool it reads the JSON
with plain ``json`` (amounts become floats), computes totals in float, prints
every amount with ``$``, pads the item table with empty filler rows and has
no font for non-Latin text (Helvetica shows such characters as boxes).

It exists only to be measured against ``invoicer render``; it is not part of
the package and nothing imports it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

MIN_ROWS = 12  # the legacy table was padded to this many rows


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _lines(text: str | None) -> str:
    return "<br/>".join(escape(part) for part in (text or "").split("\n"))


def _party_html(party: dict | None) -> str:
    if not party:
        return ""
    out = [f"<b>{escape(party['name'])}</b>"]
    if party.get("company"):
        out.append(escape(party["company"]))
    if party.get("address"):
        out.append(_lines(party["address"]))
    if party.get("email"):
        out.append(escape(party["email"]))
    return "<br/>".join(out)


def compute(data: dict) -> tuple[list[tuple], float, float, float]:
    """Rows (pos, description, qty, price, rate, total) and subtotal, tax, total, in float."""
    rows = []
    subtotal = tax = 0.0
    for i, item in enumerate(data["lines"], start=1):
        qty, price, rate = float(item["quantity"]), float(item["unit_price"]), float(item["tax_rate"])
        total = round(qty * price, 2)
        subtotal += total
        tax += total * rate / 100
        rows.append((i, item["description"], qty, price, rate, total))
    tax = round(tax, 2)
    return rows, subtotal, tax, subtotal + tax


def generate_pdf(data: dict, path: Path) -> None:
    styles = getSampleStyleSheet()
    normal = styles["Normal"]
    small = ParagraphStyle("small", parent=normal, fontSize=8, leading=10, textColor=colors.grey)
    cell = ParagraphStyle("cell", parent=normal, fontSize=9, leading=11)
    right = ParagraphStyle("right", parent=normal, alignment=TA_RIGHT)
    title = ParagraphStyle(
        "title", parent=styles["Title"], textColor=colors.HexColor("#1F63C6"), alignment=TA_RIGHT, fontSize=26
    )

    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=22 * mm,
        title=f"Invoice {data['invoice_number']}",
        author=data["seller"]["name"],
    )
    rows, subtotal, tax, total = compute(data)
    seller = data["seller"]
    story = []

    seller_block = [
        Paragraph(f"<b>{escape(seller['name'])}</b>", styles["Heading2"]),
        Paragraph(_lines(seller.get("address")), small),
    ]
    for label, key in (("Phone", "phone"), ("Email", "email"), ("VAT ID", "vat_id")):
        if seller.get(key):
            seller_block.append(Paragraph(f"{label}: {escape(seller[key])}", small))
    title_block = [
        Paragraph("INVOICE", title),
        Paragraph(f"Invoice no.: <b>{escape(data['invoice_number'])}</b>", right),
        Paragraph(f"Date: {escape(data['issue_date'])}", right),
    ]
    if data.get("due_date"):
        title_block.append(Paragraph(f"Due: {escape(data['due_date'])}", right))
    head = Table([[seller_block, title_block]], colWidths=[95 * mm, 75 * mm])
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [head, Spacer(1, 8 * mm)]

    parties = [
        [Paragraph("<b>BILL TO</b>", normal), Paragraph("<b>SHIP TO</b>", normal)],
        [
            Paragraph(_party_html(data["buyer"]), normal),
            Paragraph(_party_html(data.get("ship_to") or data["buyer"]), normal),
        ],
    ]
    bill = Table(parties, colWidths=[85 * mm, 85 * mm])
    bill.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F4F6F9")),
            ]
        )
    )
    story += [bill, Spacer(1, 8 * mm)]

    table_data = [["ITEM #", "DESCRIPTION", "QTY", "UNIT PRICE", "VAT %", "TOTAL"]]
    for pos, desc, qty, price, rate, line_total in rows:
        table_data.append(
            [str(pos), Paragraph(escape(desc), cell), f"{qty:g}", _money(price), f"{rate:g}%", _money(line_total)]
        )
    for _ in range(max(0, MIN_ROWS - len(rows))):
        table_data.append(["", "", "", "", "", ""])
    items = Table(table_data, colWidths=[16 * mm, 70 * mm, 16 * mm, 26 * mm, 16 * mm, 26 * mm], repeatRows=1)
    items.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1B2B4B")),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F2F5F9")]),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#C9D0DA")),
            ]
        )
    )
    story += [items, Spacer(1, 6 * mm)]

    totals = Table(
        [["Subtotal", _money(subtotal)], ["Tax", _money(tax)], ["Total", _money(total)]],
        colWidths=[40 * mm, 35 * mm],
        hAlign="RIGHT",
    )
    totals.setStyle(
        TableStyle(
            [
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("FONTNAME", (0, 2), (-1, 2), "Helvetica-Bold"),
                ("BACKGROUND", (0, 2), (-1, 2), colors.HexColor("#E2E6EC")),
                ("LINEBELOW", (0, 0), (-1, 1), 0.5, colors.HexColor("#C9D0DA")),
            ]
        )
    )
    story += [totals, Spacer(1, 8 * mm)]
    if data.get("payment_terms"):
        story += [Paragraph("<b>Payment terms</b>", normal), Paragraph(_lines(data["payment_terms"]), normal)]
    if data.get("notes"):
        story += [Spacer(1, 4 * mm), Paragraph(f"<i>{_lines(data['notes'])}</i>", normal)]

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawRightString(A4[0] - 20 * mm, 12 * mm, f"Page {canvas.getPageNumber()}")
        canvas.drawString(20 * mm, 12 * mm, f"{seller['name']} - Invoice {data['invoice_number']}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def generate_excel(data: dict, path: Path) -> None:
    rows, subtotal, tax, total = compute(data)
    wb = Workbook()
    ws = wb.active
    ws.title = "Invoice"
    thin = Side(style="thin", color="C9D0DA")

    ws["A1"] = data["seller"]["name"]
    ws["A1"].font = Font(size=16, bold=True, color="1B2B4B")
    ws["F1"] = "INVOICE"
    ws["F1"].font = Font(size=22, bold=True, color="1F63C6")
    r = 2
    for line in (data["seller"].get("address") or "").split("\n"):
        ws.cell(row=r, column=1, value=line).font = Font(size=9, color="5F6B7A")
        r += 1
    ws["E2"], ws["F2"] = "Invoice no.", data["invoice_number"]
    ws["E3"], ws["F3"] = "Date", data["issue_date"]
    ws["E4"], ws["F4"] = "Due", data.get("due_date", "")
    r = max(r, 5) + 1
    ws.cell(row=r, column=1, value="BILL TO").font = Font(bold=True, color="1B2B4B")
    ws.cell(row=r, column=4, value="SHIP TO").font = Font(bold=True, color="1B2B4B")
    bill = [data["buyer"]["name"], data["buyer"].get("company", ""), *data["buyer"].get("address", "").split("\n")]
    ship_party = data.get("ship_to") or data["buyer"]
    ship = [ship_party["name"], ship_party.get("company", ""), *ship_party.get("address", "").split("\n")]
    for i in range(max(len(bill), len(ship))):
        r += 1
        ws.cell(row=r, column=1, value=bill[i] if i < len(bill) else None)
        ws.cell(row=r, column=4, value=ship[i] if i < len(ship) else None)
    r += 2

    header = ["ITEM #", "DESCRIPTION", "QTY", "UNIT PRICE", "VAT %", "TOTAL"]
    for col, text in enumerate(header, start=1):
        c = ws.cell(row=r, column=col, value=text)
        c.font = Font(bold=True, color="FFFFFF")
        c.fill = PatternFill(start_color="1B2B4B", end_color="1B2B4B", fill_type="solid")
        c.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        c.alignment = Alignment(horizontal="center", vertical="center")
    ws.freeze_panes = ws.cell(row=r + 1, column=1)
    for n, (pos, desc, qty, price, rate, line_total) in enumerate(rows):
        r += 1
        values = [pos, desc, qty, price, rate / 100, line_total]
        for col, value in enumerate(values, start=1):
            c = ws.cell(row=r, column=col, value=value)
            c.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            c.font = Font(size=10)
            if n % 2:
                c.fill = PatternFill(start_color="F2F5F9", end_color="F2F5F9", fill_type="solid")
            if col == 2:
                c.alignment = Alignment(wrap_text=True, vertical="top")
            elif col in (4, 6):
                c.number_format = '"$"#,##0.00'
            elif col == 5:
                c.number_format = "0%"
    r += 2
    for label, value, bold in (("Subtotal", subtotal, False), ("Tax", tax, False), ("Total", total, True)):
        ws.cell(row=r, column=5, value=label).font = Font(bold=bold)
        c = ws.cell(row=r, column=6, value=value)
        c.number_format = '"$"#,##0.00'
        c.font = Font(bold=bold)
        if bold:
            c.fill = PatternFill(start_color="E2E6EC", end_color="E2E6EC", fill_type="solid")
        r += 1
    if data.get("payment_terms"):
        r += 1
        ws.cell(row=r, column=1, value="Payment terms").font = Font(bold=True)
        ws.cell(row=r + 1, column=1, value=data["payment_terms"])

    # Auto-fit the columns the way the legacy tool did: measure every cell.
    for column_cells in ws.columns:
        length = max(len(str(c.value)) if c.value is not None else 0 for c in column_cells)
        ws.column_dimensions[get_column_letter(column_cells[0].column)].width = min(length + 2, 60)
    wb.save(str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="legacy-style invoice renderer (benchmark baseline)")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.files:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        generate_pdf(data, args.out / f"{path.stem}.pdf")
        generate_excel(data, args.out / f"{path.stem}.xlsx")
        print(args.out / f"{path.stem}.pdf")
        print(args.out / f"{path.stem}.xlsx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
