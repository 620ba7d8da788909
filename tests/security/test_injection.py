"""User text is data: ReportLab markup shows as text in the PDF, and
spreadsheet formulas stay text in the XLSX, in every user field, end to end."""

from __future__ import annotations

import copy
import io
import json

import openpyxl
import pypdf

MARKUP = '<font color="red">M1</font> & <para>M2</para> <b>&amp;</b>'
FORMULAS = ["=1+1", "+SUM(A1:A2)", "-2+3", "@cmd", '=HYPERLINK("http://evil.example","x")']
TEXT_FIELDS = {
    ("invoice_number",),
    ("payment_terms",),
    ("notes",),
    *[
        (party, key)
        for party in ("seller", "buyer", "ship_to")
        for key in ("name", "company", "address", "phone", "vat_id")
    ],
    ("lines", 0, "description"),
    ("lines", 0, "unit"),
    ("lines", 1, "description"),
    ("lines", 2, "unit"),
}


def _with_every_field(example: dict, make) -> tuple[dict, dict]:
    document = copy.deepcopy(example)
    expected = {}
    for index, path in enumerate(sorted(TEXT_FIELDS, key=str)):
        target = document
        for step in path[:-1]:
            target = target[step]
        value = make(index)
        target[path[-1]] = value
        expected[path] = value
    return document, expected


def _render(client, document: dict, formats: str) -> dict:
    reply = client.post("/upload", params={"formats": formats}, json=document)
    assert reply.status_code == 202, reply.text
    job = client.wait(reply.json()["job_id"])
    assert job["status"] == "done", job
    return {item["format"]: client.get(item["download_url"]).content for item in job["files"]}


def test_markup_in_every_field_shows_as_text_in_the_pdf(client, example_bytes):
    document, expected = _with_every_field(json.loads(example_bytes), lambda i: f"F{i} {MARKUP}"[:60])
    files = _render(client, document, "pdf")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(files["pdf"])).pages)
    flat = text.replace("\n", "")
    for path, value in expected.items():
        # Long values may wrap; compare without line breaks and without the
        # spaces a wrap may swallow.
        assert value.replace(" ", "") in flat.replace(" ", ""), f"{path}: {value!r} not shown literally"
    assert '<font color="red">' in text and "&amp;" in text


def test_formulas_in_every_field_stay_text_in_the_xlsx(client, example_bytes):
    document, expected = _with_every_field(json.loads(example_bytes), lambda i: FORMULAS[i % len(FORMULAS)] + f" F{i}")
    files = _render(client, document, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(files["xlsx"])).active
    cells = {}
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                for line in cell.value.split("\n"):
                    cells.setdefault(line, cell)
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)
    for path, value in expected.items():
        found = [cell for text, cell in cells.items() if value in text]
        assert found, f"{path}: {value!r} missing from the sheet"
        assert all(cell.data_type == "s" for cell in found), f"{path}: {value!r} became {found[0].data_type}"
