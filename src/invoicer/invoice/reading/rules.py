"""Keyword and layout rules that find an invoice's fields in lines of words, shared by
the text layer (:mod:`.text`) and OCR (:mod:`.ocr`).

Labels in German, French, Dutch, English, Spanish and Italian; amounts printed
``1.234,56``, ``1,234.56`` or ``1234.56``; dates ``31.10.2018``, ``2018-10-31``,
``10/31/2018`` (month first only where the day cannot be the month, or in a document in
US dollars), ``7. Mai 2014``, ``May 7, 2014``, ``7 de mayo de 2014``.

Layout: a value is the one right of its label on the same line, else the one below it
in the label's column. The invoice date is the date labelled as such, never one labelled
as an order, delivery or due date. The seller is found by its legal form (GmbH, Ltd, SAS,
B.V., Sdn Bhd …) in the letterhead, the footer or the sender line above the address window
(DIN 5008), never inside the block below "Bill to" / "Rechnung an" / "Facturé à"; its VAT ID
and IBAN by their check digits (python-stdnum), ignoring those labelled as the customer's.

Confidence (see :mod:`.fields`): a value found once by a label is below 0.9 (0.55-0.85,
lower for a weaker label and scaled by the OCR's score); 0.9 or more only when checked:
net + tax = gross, valid check digits, or the same value under its label twice.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from .fields import Field, Source
from .words import TextLine

__all__ = ["find_fields", "parse_amount", "parse_dates"]

# --- amounts ---------------------------------------------------------------------------------

_AMOUNT = re.compile(
    r"(?<![\w.,/-])(?P<neg>-\s?|\()?(?:[€$£₹]|EUR|USD|GBP|CHF|RM|Rs\.?)?\s?"
    r"(?P<num>\d{1,3}(?:[.,'\u00a0\u202f]\d{3})+[.,]\d{2}|\d+[.,]\d{2})(?P<neg2>-|\))?(?![\d.,]*\d)(?!\s?%)"
)


def parse_amount(text: str) -> Decimal | None:
    """The amount ``text`` holds (``1.234,56``, ``1,234.56``, ``-12.50``, ``(12.50)``) as a Decimal,
    or None. The separator followed by exactly two digits at the end is the decimal one."""
    m = _AMOUNT.search(text)
    return _amount_of(m) if m else None


def _amount_of(m: re.Match[str]) -> Decimal | None:
    num = m["num"]
    whole, frac = num[:-3], num[-2:]
    whole = re.sub(r"[.,'\u00a0\u202f]", "", whole)
    try:
        value = Decimal(f"{whole}.{frac}")
    except InvalidOperation:
        return None
    if (m["neg"] and m["neg"].strip() in ("-", "(")) or m["neg2"] == "-":
        value = -value
    return value


# --- dates -----------------------------------------------------------------------------------

_MONTHS = {
    1: "jan januar january janvier januari enero ene gennaio genn gen jänner",
    2: "feb februar february février fevrier februari febrero febbraio fév fev",
    3: "mar mär märz maerz march mars maart marzo mrt",
    4: "apr april avril abril aprile avr",
    5: "mai may mei mayo maggio mag",
    6: "jun juni june juin junio giugno giu",
    7: "jul juli july juillet julio luglio lug juil",
    8: "aug august août aout augustus agosto ago",
    9: "sep sept september septembre septiembre settembre set",
    10: "okt oct oktober october octobre octubre ottobre ott",
    11: "nov november novembre noviembre",
    12: "dez dec dezember december décembre decembre diciembre dicembre dic déc",
}
_MONTH_OF = {name: number for number, names in _MONTHS.items() for name in names.split()}
_MONTH_RE = "|".join(sorted((re.escape(n) for n in _MONTH_OF), key=len, reverse=True))
_DATE_PATTERNS = [
    ("iso", re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")),
    # The same separator twice; a time may follow without a space (OCR: "18-03-201811:23").
    ("num", re.compile(r"(?<![\d.])(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?:(?!\d)|(?=\d{1,2}:\d\d))")),
    ("compact", re.compile(r"(?<!\d)([0-3]\d)([01]\d)(20\d\d)(?!\d)")),
    ("dmy", re.compile(rf"(?<!\d)(\d{{1,2}})\.?\s*(?:de\s+)?({_MONTH_RE})\.?,?\s*(?:de\s+)?(\d{{4}})(?!\d)", re.I)),
    ("mdy", re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)", re.I)),
]


@dataclass(frozen=True)
class _Found:
    value: str
    line: TextLine
    start: int
    end: int
    strength: float


def parse_dates(text: str, *, month_first: bool = False) -> list[tuple[date, int, int]]:
    """Every date in ``text`` as ``(date, start, end)``. Numeric dates are day first unless the
    day cannot be a month (``10/31/2018``) or ``month_first`` (a US-dollar document) and the
    first number can be a month. Impossible dates are skipped."""
    found: list[tuple[date, int, int]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and m.end() > s for s, e in taken):
                continue
            try:
                if kind == "iso":
                    d = date(int(m[1]), int(m[2]), int(m[3]))
                elif kind == "num":
                    a, b, y = int(m[1]), int(m[3]), int(m[4])
                    y = y + 2000 if y < 100 else y
                    d = date(y, b, a) if a > 12 or (not month_first and b <= 12) else date(y, a, b)
                elif kind == "compact":
                    d = date(int(m[3]), int(m[2]), int(m[1]))
                elif kind == "dmy":
                    d = date(int(m[3]), _MONTH_OF[m[2].lower()], int(m[1]))
                else:
                    d = date(int(m[3]), _MONTH_OF[m[1].lower()], int(m[2]))
            except (ValueError, KeyError):
                continue
            found.append((d, m.start(), m.end()))
            taken.append((m.start(), m.end()))
    found.sort(key=lambda f: f[1])
    return found


# --- labels ----------------------------------------------------------------------------------


def _re(*alternatives: str) -> re.Pattern[str]:
    return re.compile("(?:" + "|".join(alternatives) + ")", re.I)


_ISSUE_DATE = _re(
    r"rechnungs-?\s?datum",
    r"datum\s+der\s+rechnung",
    r"beleg-?datum",
    r"ausstellungsdatum",
    r"invoice\s+date",
    r"date\s+of\s+(?:issue|invoice)",
    r"issue\s+date",
    r"bill\s+date",
    r"date\s+(?:de\s+(?:la\s+)?)?facture",
    r"date\s+d'[ée]mission",
    r"factuurdatum",
    r"fecha\s+(?:de\s+(?:la\s+)?)?(?:factura|emisi[oó]n)",
    r"data\s+(?:della\s+)?fattura",
    r"data\s+(?:di\s+)?emissione",
    r"data\s+documento",
)
_GENERIC_DATE = _re(r"\bdatum\b", r"\bdate\b", r"\bdata\b", r"\bfecha\b", r"\bdatum:", r"\bdated\b")
_OTHER_DATE = _re(
    r"liefer",
    r"leistung",
    r"bestell",
    r"auftrag",
    r"order",
    r"commande",
    r"bestelling",
    r"pedido",
    r"ordine",
    r"deliver",
    r"livraison",
    r"levering",
    r"entrega",
    r"consegna",
    r"ship",
    r"versand",
    r"period",
    r"zeitraum",
    r"p[ée]riode",
    r"valid",
    r"g[üu]ltig",
    r"geburt",
    r"birth",
    r"druck",
    r"print",
    r"expir",
    r"start",
    r"ende?\b",
    r"\bvon\b",
    r"\bbis\b",
    r"\bfrom\b",
    r"\bto\b",
    r"\bdu\b",
    r"\bau\b",
)
_DUE_DATE = _re(
    r"f[äa]llig",
    r"faellig",
    r"due",
    r"zahlbar\s+bis",
    r"zahlungsziel",
    r"[ée]ch[ée]ance",
    r"date\s+limite",
    r"payer\s+avant",
    r"verval",
    r"uiterste",
    r"vencimiento",
    r"scadenza",
    r"pay\s+by",
    r"payable\s+by",
    r"payment\s+date",
)
_NUMBER_LABEL = _re(
    r"rechnungs?-?\s?(?:nummer|nr\.?|no\.?)",
    r"rechnung\s*(?:nr\.?|no\.?|#)",
    r"beleg-?\s?(?:nummer|nr\.?)",
    r"invoice\s*(?:number|no\.?|num\.?|nr\.?|#|id)",
    r"inv\.?\s*(?:no\.?|#)",
    r"n[°ºo]\.?\s*(?:de\s+)?facture",
    r"num[ée]ro\s+(?:de\s+)?facture",
    r"facture\s*(?:n[°ºo]\.?|num[ée]ro)",
    r"factuur\s*-?(?:nummer|nr\.?|no\.?)",
    r"n[uú]mero\s+(?:de\s+)?factura",
    r"factura\s*(?:n[°ºo]\.?|n[uú]m\.?|n[uú]mero)",
    r"n[uú]mero\s+(?:di\s+)?fattura",
    r"fattura\s*(?:n[°ºo]\.?|num\.?|numero)",
    r"bill\s*(?:no\.?|number|#)",
    r"receipt\s*(?:no\.?|number|#)",
    r"document\s*(?:no\.?|number)",
    r"credit\s+note\s*(?:no\.?|number|#)",
    r"gutschrift\s*(?:nr\.?|nummer)",
    r"avoir\s*n[°ºo]",
)
_TITLE_NUMBER = _re(r"^(?:rechnung|invoice|facture|factuur|factura|fattura|gutschrift|credit\s+note)\b")
_NUMBER_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.\-]*\d[A-Za-z0-9/_.\-]*")
_NOT_NUMBER_CONTEXT = _re(
    r"kunden", r"customer", r"client", r"klant", r"order", r"bestell", r"auftrag", r"steuer", r"tax"
)

_GROSS_STRONG = _re(
    r"gesamtbetrag",
    r"rechnungsbetrag",
    r"bruttobetrag",
    r"endbetrag",
    r"zahlbetrag",
    r"zu\s+zahlen",
    r"total\s+ttc",
    r"montant\s+ttc",
    r"net\s+[àa]\s+payer",
    r"montant\s+[àa]\s+payer",
    r"te\s+betalen",
    r"totaalbedrag",
    r"total\s+a\s+pagar",
    r"importe\s+total",
    r"totale\s+(?:documento|fattura|da\s+pagare)",
    r"importo\s+totale",
    r"grand\s+total",
    r"total\s+amount",
    r"amount\s+due",
    r"balance\s+due",
    r"total\s+due",
    r"invoice\s+total",
    r"total\s+(?:\()?incl",
    r"inkl\.?\s+(?:mwst|ust)",
    r"incl\.?\s+(?:btw|vat|tva)",
    r"rounded\s+total",
    r"total\s+rounded",
    r"nett?\s+total",
    r"total\s+payable",
    r"brutto",
)
_GROSS_WEAK = _re(r"\btotal\b", r"\bsumme\b", r"\bgesamt\b", r"\btotaal\b", r"\btotale\b", r"\bamount\b", r"\bbetrag\b")
_NET = _re(
    r"netto",
    r"taxable",
    r"grondslag",
    r"bemessungsgrundlage",
    r"steuerpflichtig",
    r"warenwert",
    r"zwischensumme",
    r"total\s+h\.?t\.?",
    r"montant\s+h\.?t\.?",
    r"sous-?\s?total",
    r"excl",
    r"exkl",
    r"subtota",
    r"sub\s+total",
    r"base\s+imponible",
    r"imponibile",
    r"net\s+amount",
    r"total\s+net\b",
    r"net\s+total\s+\(?excl",
    r"before\s+tax",
    r"ohne\s+(?:mwst|ust)",
    r"\bnet\b",
)
_TAX = _re(
    r"mwst",
    r"mehrwertsteuer",
    r"umsatzsteuer",
    r"\bust\b",
    r"steuerbetrag",
    r"\btva\b",
    r"\bbtw\b",
    r"\biva\b",
    r"\bvat\b",
    r"\bgst\b",
    r"sales\s+tax",
    r"\btax\b",
    r"impuesto",
    r"imposta",
)
_NOT_TOTAL = _re(
    r"\bcash\b",
    r"change",
    r"tender",
    r"bezahlt",
    r"r[üu]ckgeld",
    r"\bpaid\b",
    r"discount",
    r"rabatt",
    r"remise",
    r"korting",
    r"anzahlung",
    r"acompte",
    r"deposit",
    r"\bqty\b",
    r"quantity",
    r"menge",
    r"saving",
    r"credit\s+card",
    r"visa",
    r"mastercard",
)
_ROUNDING = _re(r"round", r"rundung", r"arrondi", r"afronding", r"redondeo", r"arrotondamento")
_INCLUSIVE = _re(r"incl", r"inkl", r"ttc", r"brutto", r"inclusive", r"including")

_BUYER_LABEL = _re(
    r"rechnung\s+an",
    r"rechnungsempf[äa]nger",
    r"leistungsempf[äa]nger",
    r"bill(?:ed)?\s+to",
    r"invoice\s+to",
    r"sold\s+to",
    r"ship\s+to",
    r"deliver(?:y)?\s+(?:to|address)",
    r"customer",
    r"\bkunde\b",
    r"kundenadresse",
    r"\bclient\b",
    r"factur[ée]\s+[àa]",
    r"adresse\s+de\s+facturation",
    r"factuuradres",
    r"\bklant\b",
    r"\bcliente\b",
    r"destinatario",
    r"facturar\s+a",
    r"\bbuyer\b",
    r"acheteur",
)
_SELLER_LABEL = _re(
    r"^\W*(?:verk[äa]ufer|lieferant|rechnungssteller|leistungserbringer|seller|supplier|vendor|sold\s+by|issued\s+by|"
    r"fournisseur|vendeur|[ée]metteur|leverancier|verkoper|proveedor|vendedor|emisor|fornitore|cedente|venditore)\b\W*",
)
_ACCOUNT_HOLDER = _re(
    r"(?:kontoinhaber(?:in)?|account\s+(?:holder|name)|beneficiary|beg[üu]nstigter|titulaire\s+du\s+compte|"
    r"rekeninghouder|titular\s+de\s+la\s+cuenta|intestatario|intestato\s+a)\s*:?\s*",
)
_CUSTOMER_WORDS = _re(
    r"kunde", r"customer", r"client", r"klant", r"cliente", r"ihre", r"your", r"votre", r"uw\b", r"buyer", r"acheteur",
    r"empf[äa]nger", r"recipient",
)  # fmt: skip

_LEGAL_FORM = re.compile(
    r"(?<!\w)(?:gmbh(?:\s*&\s*co\.?\s*kg)?|ag|kg|ohg|e\.\s?k\.|ug|a\.\s?g\.|mbh|ltd\.?|limited|plc|inc\.?|llc|corp\.?|"
    r"b\.\s?v\.?|bv|n\.\s?v\.|nv|sas|sarl|s\.a\.r\.l\.|s\.a\.s\.|s\.a\.|sa|s\.l\.|sl|s\.r\.l\.|srl|s\.p\.a\.|spa|"
    r"sdn\.?\s*bhd\.?|bhd\.?|s/b|pvt\.?\s*ltd\.?|enterprise|trading)(?!\w)",
    re.I,
)
_TITLE_WORDS = _re(
    r"^(?:tax\s+)?invoice\b",
    r"^rechnung\b",
    r"^facture\b",
    r"^factuur\b",
    r"^factura\b",
    r"^fattura\b",
    r"^receipt\b",
    r"^quittung\b",
    r"^gutschrift\b",
    r"^credit\s+note\b",
    r"^simplified",
    r"^official\s+receipt",
    r"^cash\s+(?:bill|sale)",
    r"^page\b",
    r"^seite\b",
)
_NOT_NAME = _re(
    r"gesch[äa]ftsf[üu]hr",
    r"managing",
    r"director",
    r"registergericht",
    r"handelsregister",
    r"amtsgericht",
    r"\bhrb\b",
    r"\biban\b",
    r"\bbic\b",
    r"\bbank\b",
    r"\btel\b",
    r"telefon",
    r"phone",
    r"\bfax\b",
    r"e-?mail",
    r"www\.",
    r"http",
    r"@",
    r"ust-?id",
    r"steuer",
    r"\bvat\b",
    r"\btva\b",
    r"\bbtw\b",
    r"\bgst\b",
    r"seite\s+\d",
    r"page\s+\d",
)
_POSTCODE = re.compile(r"(?<!\d)\d{4,5}(?!\d)")
_SENDER_SEPARATORS = re.compile(r"\s[·•|∙]\s|\s[-\u2013]\s|,\s")

_CURRENCY_CODES = [
    "EUR",
    "USD",
    "GBP",
    "CHF",
    "INR",
    "MYR",
    "JPY",
    "CAD",
    "AUD",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "CZK",
    "HUF",
    "SGD",
    "CNY",
    "RON",
    "BGN",
    "HKD",
    "NZD",
    "ZAR",
    "TRY",
    "BRL",
    "MXN",
    "IDR",
    "THB",
]
_CURRENCY_CODE = re.compile(r"(?<![A-Z])(" + "|".join(_CURRENCY_CODES) + r")(?![A-Z])")
_CURRENCY_SYMBOLS = {"€": "EUR", "£": "GBP", "₹": "INR", "$": "USD"}
_CURRENCY_WORDS = re.compile(r"(?<![A-Za-z])(?:(Rs)\.?\s?-?\d|(RM)\s?\d|(euros?)\b)", re.I)
_EURO_COUNTRIES = {
    "AT",
    "BE",
    "CY",
    "DE",
    "EE",
    "EL",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PT",
    "SI",
    "SK",
}

_VAT_CANDIDATE = re.compile(
    r"(?<![A-Z0-9])(?=((?:ATU|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|GB|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI|CHE)"
    r"[\s.\-]?[0-9A-Z](?:[\s.\-]?[0-9A-Z]){7,13}))"
)  # a lookahead: candidates may overlap ("www.example.de VAT DE 123 …")
_IBAN_CANDIDATE = re.compile(r"(?<![A-Z0-9])(?=([A-Z]{2}\d{2}(?:\s?[A-Z0-9]){10,30}))")


# --- the rules -------------------------------------------------------------------------------


def find_fields(lines: list[TextLine], source: Source) -> dict[str, Field]:
    """The fields found in ``lines`` (all pages, in reading order) by the rules of this module:
    a dict of the pinned field names (:data:`.fields.FIELD_NAMES`) that were found."""
    if not lines:
        return {}
    out: dict[str, Field] = {}
    buyer = _buyer_lines(lines)
    currency = _currency(lines, source)
    if currency:
        out["currency"] = currency
    month_first = bool(currency and currency.value == "USD")
    issue, due = _dates(lines, source, month_first=month_first)
    if issue:
        out["issue_date"] = issue
    if due:
        out["due_date"] = due
    number = _invoice_number(lines, source)
    if number:
        out["invoice_number"] = number
    out.update(_totals(lines, source))
    vat = _vat_id(lines, source, buyer)
    if vat:
        out["supplier_vat_id"] = vat
        if "currency" not in out and vat.value[:2] in _EURO_COUNTRIES:
            out["currency"] = Field("EUR", 0.5, source)
    iban = _iban(lines, source, buyer)
    if iban:
        out["iban"] = iban
    name, address = _supplier(lines, source, buyer)
    if name:
        out["supplier_name"] = name
    if address:
        out["supplier_address"] = address
    return out


def _field(found: _Found, confidence: float, source: Source) -> Field:
    """A field from ``found``, its confidence scaled by the OCR's score of its words."""
    ocr = found.line.span_conf(found.start, found.end) if source == "ocr" else 1.0
    conf = confidence * (0.5 + 0.5 * ocr) if ocr < 0.95 else confidence
    return Field(found.value, round(conf, 2), source, found.line.page, found.line.bbox(found.start, found.end))


def _below(lines: list[TextLine], line: TextLine, x0: float, x1: float, count: int = 2) -> list[TextLine]:
    """Up to ``count`` lines below ``line`` on its page with words overlapping ``x0..x1``,
    each cut to those words (the column under a label)."""
    out = []
    for other in lines[line.index + 1 : line.index + 1 + 8]:
        if other.page != line.page or other.top - line.bottom > 0.08:
            break
        words = [w for w in other.words if w.x1 >= x0 - 0.01 and w.x0 <= x1 + 0.04]
        if words:
            out.append(TextLine(words, index=other.index))
        if len(out) >= count:
            break
    return out


def _buyer_lines(lines: list[TextLine]) -> set[int]:
    """Indexes of lines in the buyer's address block: up to six lines under a buyer label
    ("Bill to", "Rechnung an", …) in its column, and the address window under a DIN 5008 sender line."""
    out: set[int] = set()
    for line in lines:
        for seg in line.segments():
            m = _BUYER_LABEL.search(seg.text)
            if not m:
                continue
            out.add(line.index)
            for below in _below(lines, line, seg.x0, max(seg.x1, seg.x0 + 0.25), count=6):
                if below.page == line.page:
                    out.add(below.index)
    sender = _sender_line(lines)
    if sender is not None:
        seg, line = sender
        for below in _below(lines, line, seg.x0, seg.x1, count=5):
            out.add(below.index)
    return out


def _sender_line(lines: list[TextLine]) -> tuple[TextLine, TextLine] | None:
    """The DIN 5008 sender line above the address window: small print in the top half of page 1,
    several parts split by ``·``, ``|``, `` - `` or commas, one of them with a postcode."""
    first_page = [ln for ln in lines if ln.page == lines[0].page and ln.top < 0.45]
    if not first_page:
        return None
    body = sorted(ln.size for ln in first_page)[len(first_page) // 2]
    for line in first_page:
        for seg in line.segments():
            parts = [p for p in _SENDER_SEPARATORS.split(seg.text) if p.strip()]
            if (
                len(parts) >= 3
                and seg.size <= body * 1.05
                and _POSTCODE.search(seg.text)
                and not _NOT_NAME.search(parts[0])
                and re.search(r"[A-Za-z]{3}", parts[0])
            ):
                return seg, line
    return None


def _currency(lines: list[TextLine], source: Source) -> Field | None:
    counts: Counter[str] = Counter()
    first: dict[str, tuple[TextLine, int, int]] = {}
    for line in lines:
        for m in _CURRENCY_CODE.finditer(line.text):
            counts[m[1]] += 1
            first.setdefault(m[1], (line, m.start(), m.end()))
        for symbol, code in _CURRENCY_SYMBOLS.items():
            pos = line.text.find(symbol)
            if pos >= 0:
                counts[code] += line.text.count(symbol)
                first.setdefault(code, (line, pos, pos + 1))
        for m in _CURRENCY_WORDS.finditer(line.text):
            code = "INR" if m[1] else "MYR" if m[2] else "EUR"
            counts[code] += 1
            first.setdefault(code, (line, m.start(), m.end()))
    if not counts:
        return None
    (code, n), *rest = counts.most_common()
    line, start, end = first[code]
    others = sum(c for _, c in rest)
    conf = 0.92 if n >= 3 and others == 0 else 0.8 if n > others else 0.6
    return _field(_Found(code, line, start, end, 1.0), conf, source)


def _label_kind(text: str) -> str | None:
    if _DUE_DATE.search(text):
        return "due"
    if _ISSUE_DATE.search(text):
        return "issue"
    if _OTHER_DATE.search(text):
        return "other"
    if _GENERIC_DATE.search(text):
        return "generic"
    return None


def _dates(lines: list[TextLine], source: Source, *, month_first: bool) -> tuple[Field | None, Field | None]:
    """The invoice date and the due date: each date gets the label left of it on its line,
    else the one above it in its column; the invoice date is the first date labelled so, else the
    first with a plain "Date" label, else the first unlabelled one."""
    today = date.today()
    found: dict[str, list[tuple[_Found, date]]] = {"issue": [], "generic": [], "due": [], "none": [], "compact": []}
    for line in lines:
        for d, start, end in parse_dates(line.text, month_first=month_first):
            if not (d.year >= 2000 and d <= date(today.year + 1, 12, 31)):
                continue
            before = line.text[:start]
            # The nearest label on the left (the part after the previous date or amount).
            before = re.split(r"\d[\d.,/-]*\d", before)[-1]
            kind = _label_kind(before)
            if kind is None:
                x0, x1 = line.bbox(start, end)[0], line.bbox(start, end)[2]
                for above in reversed(lines[max(0, line.index - 3) : line.index]):
                    if above.page != line.page or line.top - above.bottom > 0.05:
                        continue
                    words = [w for w in above.words if w.x1 >= x0 - 0.02 and w.x0 <= x1 + 0.02]
                    if words:
                        kind = _label_kind(" ".join(w.text for w in words))
                        break
            if kind == "other":
                continue
            if kind is None and not _month_name_or_separator(line.text[start:end]):
                kind = "compact"
            found[kind or "none"].append((_Found(d.isoformat(), line, start, end, 1.0), d))
    issue = None
    for kind, conf in (("issue", 0.85), ("generic", 0.75), ("none", 0.6), ("compact", 0.45)):
        if found[kind]:
            first, _ = found[kind][0]
            again = sum(1 for f, _ in found[kind] if f.value == first.value)
            if kind == "issue" and again >= 2:
                conf = 0.92
            issue = _field(first, conf, source)
            break
    due = None
    for f, d in found["due"]:
        if issue is None or d >= date.fromisoformat(issue.value):
            due = _field(f, 0.8, source)
            break
    return issue, due


def _month_name_or_separator(text: str) -> bool:
    return bool(re.search(r"[./\-\s]|[A-Za-z]", text))


def _invoice_number(lines: list[TextLine], source: Source) -> Field | None:
    """The invoice number: the first token with a digit right of an invoice-number label, or
    under it; else one right of a title ("Rechnung", "Invoice") opening a line."""
    candidates: list[tuple[_Found, float]] = []
    for line in lines:
        for m in _NUMBER_LABEL.finditer(line.text):
            if _NOT_NUMBER_CONTEXT.search(line.text[max(0, m.start() - 12) : m.start()]):
                continue
            rest = line.text[m.end() :]
            v = re.match(r"[\s:.#°º]*(?:n[°ºo]\.?\s*)?[\s:#]*", rest)
            offset = m.end() + (v.end() if v else 0)
            token = _NUMBER_VALUE.match(line.text, offset)
            if token and not parse_dates(token[0]):
                candidates.append((_Found(token[0].rstrip(".,"), line, token.start(), token.end(), 1.0), 0.8))
                continue
            x0, x1 = line.bbox(m.start(), m.end())[0], line.bbox(m.start(), m.end())[2]
            for below in _below(lines, line, x0, x1, count=1):
                token = _NUMBER_VALUE.search(below.text)
                if token and not parse_dates(below.text) and parse_amount(below.text) is None:
                    candidates.append((_Found(token[0].rstrip(".,"), below, token.start(), token.end(), 1.0), 0.75))
    if not candidates:
        for line in lines:
            for seg in line.segments():
                # A table header cell that is only the title word ("Factuur", "Invoice"), the number under it.
                if re.fullmatch(r"(?i)(?:rechnung|invoice|facture|factuur|factura|fattura)\s*[:#]?", seg.text.strip()):
                    for below in _below(lines, line, seg.x0, seg.x1, count=1):
                        token = _NUMBER_VALUE.search(below.text)
                        if token and not parse_dates(below.text) and parse_amount(below.text) is None:
                            candidates.append((_Found(token[0], below, token.start(), token.end(), 1.0), 0.65))
            # "# 12345" alone in the top quarter of the first page.
            hash_number = re.fullmatch(r"#\s*(\S*\d\S*)", line.text.strip())
            if hash_number and line.top < 0.25 and line.page == lines[0].page:
                start = line.text.find(hash_number[1])
                candidates.append((_Found(hash_number[1], line, start, start + len(hash_number[1]), 1.0), 0.6))
    if not candidates:
        for line in lines:
            title = _TITLE_NUMBER.search(line.text)
            if title:
                token = _NUMBER_VALUE.search(line.text, title.end())
                if token and token.start() - title.end() < 6 and not parse_dates(token[0]):
                    candidates.append((_Found(token[0].rstrip(".,"), line, token.start(), token.end(), 1.0), 0.6))
    if not candidates:
        return None
    best, conf = candidates[0]
    if len(best.value) >= 5 and sum(1 for f, _ in candidates if f.value == best.value) >= 2:
        conf = 0.92
    return _field(best, conf, source)


@dataclass(frozen=True)
class _Amount:
    value: Decimal
    found: _Found
    kind: str
    strength: int
    pos: tuple[int, float]


def _line_amount(line: TextLine, label_end: int) -> tuple[Decimal, int, int] | None:
    """The rightmost amount after ``label_end`` on ``line``."""
    last = None
    for m in _AMOUNT.finditer(line.text, label_end):
        value = _amount_of(m)
        if value is not None:
            last = (value, m.start("num"), m.end("num"))
    return last


def _total_kind(text: str) -> tuple[str, int] | None:
    if _NOT_TOTAL.search(text):
        return None
    if _GROSS_STRONG.search(text) or (_GROSS_WEAK.search(text) and _INCLUSIVE.search(text)):
        return "gross", 3
    if _NET.search(text):
        return "net", 2
    if _TAX.search(text) and not re.search(r"(?i)id|nr|no\.|number|reg", text):
        return "tax", 2
    if _GROSS_WEAK.search(text):
        return "gross", 2
    return None


def _totals(lines: list[TextLine], source: Source) -> dict[str, Field]:
    """Net, tax and gross totals: the amount right of (or under) a total label; net + tax = gross
    among the candidates gives confidence 0.95 to all three."""
    amounts: list[_Amount] = []
    rounding = [ln.index for ln in lines if _ROUNDING.search(ln.text)]
    for line in lines:
        for seg in line.segments():
            label = re.match(r"[^\d€$£₹-]*", seg.text)
            if not label or len(label[0].strip()) < 2:
                continue
            kind = _total_kind(label[0])
            if kind is None:
                continue
            start_in_line = line.text.find(seg.text)
            hit = _line_amount(line, start_in_line + label.end())
            target = line
            strength = kind[1]
            if hit is None:
                strength -= 1
            elif len(list(_AMOUNT.finditer(line.text, start_in_line + label.end()))) >= 2 and kind[1] < 3:
                strength -= 1  # a "Total" row of a table (several columns), not the total payable
                x0, x1 = seg.x0, seg.x1
                for below in _below(lines, line, x0, x1, count=1):
                    m = _AMOUNT.search(below.text)
                    if m and not re.search(r"[A-Za-z]{3}", below.text[: m.start()]):
                        value = _amount_of(m)
                        if value is not None:
                            hit, target = (value, m.start("num"), m.end("num")), below
            if hit is None:
                continue
            value, start, end = hit
            found = _Found(("-" if value < 0 else "") + str(abs(value)), target, start, end, 1.0)
            amounts.append(_Amount(value, found, kind[0], strength, (line.page, line.top)))
        amounts.extend(_header_row_amounts(lines, line))
    out: dict[str, Field] = {}
    if rounding:
        # The first total after a rounding adjustment is the one payable.
        after = [a for a in amounts if a.kind == "gross" and a.strength >= 2 and a.found.line.index > rounding[0]]
        if after:
            first = min(after, key=lambda a: a.found.line.index)
            amounts[amounts.index(first)] = _Amount(first.value, first.found, "gross", first.strength + 2, first.pos)
    gross = [a for a in amounts if a.kind == "gross"]
    net = [a for a in amounts if a.kind == "net"]
    tax = [a for a in amounts if a.kind == "tax"]
    # Checked: a net, a tax (or the sum of the tax lines) and a gross that add up.
    for g in sorted(gross, key=lambda a: (-a.strength, -a.pos[0], -a.pos[1])):
        for n in sorted(net, key=lambda a: (-a.pos[0], -a.pos[1])):
            tax_options = [(t.value, t) for t in tax]
            if len(tax) > 1:
                tax_options.append((sum((t.value for t in {t.value: t for t in tax}.values()), Decimal(0)), tax[-1]))
            if g.value == n.value and not tax:
                continue
            for t_value, t in tax_options:
                if n.value + t_value == g.value and g.value != 0:
                    out["total_gross"] = _field(g.found, 0.95, source)
                    out["total_net"] = _field(n.found, 0.95, source)
                    tax_found = _Found(str(t_value), t.found.line, t.found.start, t.found.end, 1.0)
                    out["total_tax"] = _field(tax_found, 0.95 if t_value == t.value else 0.9, source)
                    return out
    if gross:
        best = max(gross, key=lambda a: (a.strength, a.pos[0], a.pos[1]))
        twice = sum(1 for a in gross if a.value == best.value and a.found.line.index != best.found.line.index)
        out["total_gross"] = _field(best.found, 0.9 if twice and best.strength >= 3 else 0.7, source)
    elif net:
        # No total line: the largest subtotal is the total (receipts whose last line is a subtotal).
        best_net = max(net, key=lambda a: a.value)
        out["total_gross"] = _field(best_net.found, 0.5, source)
    if net:
        best_net = net[-1]
        out["total_net"] = _field(best_net.found, 0.65, source)
    if tax:
        out["total_tax"] = _field(tax[-1].found, 0.6, source)
    return out


_ANY_TOTAL_LABEL = re.compile("|".join(f"(?:{p.pattern})" for p in (_NET, _TAX, _GROSS_STRONG, _GROSS_WEAK)), re.I)


def _header_row_amounts(lines: list[TextLine], line: TextLine) -> list[_Amount]:
    """Amounts of a table whose header row holds several total labels and whose values stand under
    them ("Net | VAT | Total" over "41,31 | 8,68 | 49,99"): each header cell runs from its label to the
    next one; a value belongs to the cell its box overlaps most, in the next line or two."""
    if _AMOUNT.search(line.text):
        return []
    matches = list(_ANY_TOTAL_LABEL.finditer(line.text))
    if len(matches) < 2:
        return []
    cells = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line.text)
        kind = _total_kind(line.text[m.start() : end])
        if kind:
            x0, _, x1, _ = line.bbox(m.start(), end)
            cells.append((kind[0], x0, x1))
    out = []
    for other in lines[line.index + 1 : line.index + 3]:
        if other.page != line.page or other.top - line.bottom > 0.05:
            break
        for m in _AMOUNT.finditer(other.text):
            value = _amount_of(m)
            if value is None:
                continue
            ax0, _, ax1, _ = other.bbox(m.start("num"), m.end("num"))
            overlaps = [(min(ax1, x1) - max(ax0, x0), kind) for kind, x0, x1 in cells]
            best = max(overlaps, default=(0.0, ""))
            if best[0] > 0:
                found = _Found(str(value), other, m.start("num"), m.end("num"), 1.0)
                # Weak alone: such a table's "Amount" column may be a breakdown, not the total.
                out.append(_Amount(value, found, best[1], 0 if best[1] == "gross" else 1, (other.page, other.top)))
        if out:
            break
    return out


def _vat_id(lines: list[TextLine], source: Source, buyer: set[int]) -> Field | None:
    """The seller's VAT ID: valid check digits (python-stdnum ``vatin``: EU member states and GB,
    CH, NO and others), not in the buyer's block nor labelled as the customer's; the first valid
    one in reading order when the buyer's is not recognised as such."""
    from stdnum import vatin as vat  # noqa: PLC0415 - loads its country modules lazily

    found: list[tuple[_Found, bool]] = []
    for line in lines:
        for m in _VAT_CANDIDATE.finditer(line.text.upper()):
            if line.index in buyer or _CUSTOMER_WORDS.search(line.text[max(0, m.start() - 25) : m.start()]):
                continue
            raw = re.sub(r"[\s.\-]", "", m[1])
            best = None
            for length in range(len(raw), 9, -1):
                if vat.is_valid(raw[:length]):
                    best = raw[:length]
                    break
            if best:
                found.append((_Found(vat.compact(best), line, m.start(1), m.end(1), 1.0), True))
            else:
                shape = re.match(r"(?:DE|GB)\d{9}(?!\d)|FR[0-9A-Z]{2}\d{9}|NL\d{9}B\d{2}|ATU\d{8}|BE[01]\d{9}", raw)
                if shape:
                    found.append((_Found(shape[0], line, m.start(1), m.end(1), 1.0), False))
    if not found:
        return None
    valid = [f for f, ok in found if ok]
    if valid:
        distinct = {f.value for f in valid}
        return _field(valid[0], 0.95 if len(distinct) == 1 else 0.7, source)
    return _field(found[0][0], 0.55, source)


def _iban(lines: list[TextLine], source: Source, buyer: set[int]) -> Field | None:
    """The seller's IBAN: valid check digits (ISO 13616, python-stdnum ``iban``), not the customer's."""
    from stdnum import iban  # noqa: PLC0415

    for line in lines:
        for m in _IBAN_CANDIDATE.finditer(line.text.upper()):
            if line.index in buyer or _CUSTOMER_WORDS.search(line.text[max(0, m.start() - 25) : m.start()]):
                continue
            raw = re.sub(r"\s", "", m[1])
            for length in range(len(raw), 14, -1):
                if iban.is_valid(raw[:length]):
                    return _field(_Found(raw[:length], line, m.start(1), m.end(1), 1.0), 0.95, source)
    return None


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def _name_part(text: str) -> str | None:
    """The company name in ``text``: up to and including its legal form."""
    for m in _LEGAL_FORM.finditer(text):
        name = text[: m.end()].strip(" ,;:-·|")
        name = re.split(r"\s[·•|∙]\s|\s[-\u2013]\s", name)[-1].strip()
        if re.search(r"[A-Za-z]{2}", name[: -len(m[0])] if len(name) > len(m[0]) else ""):
            return name
    return None


def _supplier(lines: list[TextLine], source: Source, buyer: set[int]) -> tuple[Field | None, Field | None]:
    """The seller's name (and, for receipts, address): candidates from the sender line, names with a
    legal form in the letterhead or footer, and the letterhead's largest or first line; two of them
    agreeing gives confidence 0.9."""
    first_page = [ln for ln in lines if ln.page == lines[0].page]
    candidates: list[tuple[str, TextLine, float, str]] = []
    sender = _sender_line(lines)
    if sender is not None:
        seg, line = sender
        part = _SENDER_SEPARATORS.split(seg.text)[0].strip()
        candidates.append((part, line, 0.75, "sender"))
    for line in lines:
        for seg in line.segments():
            for pattern, conf, where in (
                (_SELLER_LABEL, 0.8, "seller label"),
                (_ACCOUNT_HOLDER, 0.75, "account holder"),
            ):
                m = pattern.search(seg.text)
                if not m:
                    continue
                rest = seg.text[m.end() :].strip(" :,")
                rest = re.split(r"\s[-\u2013|·]\s|,\s|\s{2,}", rest)[0].strip(" ,;")
                if re.search(r"[A-Za-z]{3}", rest) and not _NOT_NAME.search(rest):
                    candidates.append((rest, line, conf, where))
                    continue
                for below in _below(lines, line, seg.x0, max(seg.x1, seg.x0 + 0.2), count=3):
                    if re.match(r"(?i)^\W*(?:nummer|number|nr|no|id|name)\b", below.text):
                        continue
                    if re.search(r"[A-Za-z]{3}", below.text) and not _NOT_NAME.search(below.text):
                        candidates.append((below.segments()[0].text.strip(" ,"), below, conf, where))
                    break
        if line.index in buyer:
            continue
        # A short line alone at the foot of a page: the footer's company name.
        if line.top > 0.88 and len(line.segments()) == 1 and len(line.words) <= 5:
            text = line.text.strip()
            if (
                re.search(r"[A-Za-z]{3}", text)
                and not _NOT_NAME.search(text)
                and not _TITLE_WORDS.search(text)
                and not parse_dates(text)
                and not re.search(r"\d", text)
            ):
                candidates.append((text, line, 0.5, "footer line"))
        for seg in line.segments():
            if _NOT_NAME.search(seg.text) and not _LEGAL_FORM.search(seg.text.split("·")[0]):
                continue
            if _BUYER_LABEL.search(seg.text) or _CUSTOMER_WORDS.search(seg.text):
                continue
            name = _name_part(_SELLER_LABEL.sub("", seg.text))
            if name and (line.top < 0.3 or line.top > 0.75 or (line.page == lines[0].page and line.index < 8)):
                where = "letterhead" if line.top < 0.3 else "footer" if line.top > 0.75 else "top"
                candidates.append((name, line, 0.7, where))
    # The letterhead: the largest print near the top of page 1, else its first text line.
    top = [
        ln
        for ln in first_page
        if ln.top < 0.3
        and ln.index not in buyer
        and re.search(r"[A-Za-z]{3}", ln.text)
        and not _TITLE_WORDS.search(ln.text)
        and not _NOT_NAME.search(ln.text)
        and not parse_dates(ln.text)
        and parse_amount(ln.text) is None
        and not _BUYER_LABEL.search(ln.text)
        and not re.search(r"(?i)^\W*(?:welcome|thank|no\.?\s*\d)", ln.text)
    ]
    if top:
        body = sorted(ln.size for ln in first_page)[len(first_page) // 2]
        largest = max(top[:12], key=lambda ln: ln.size)
        if largest.size > body * 1.3:
            for seg in largest.segments():
                if re.search(r"[A-Za-z]{3}", seg.text):
                    candidates.append((seg.text.strip(), largest, 0.65, "largest"))
                    break
        first = top[0].segments()[0]
        candidates.append((first.text.strip(), top[0], 0.55, "first"))
    if not candidates:
        return None, None
    # Votes: a name several rules agree on (the same, or one containing the other).
    scored = []
    for name, line, conf, where in candidates:
        key = _norm(name)
        if len(key) < 3:
            continue
        agreeing = [
            (w, other.index)
            for n, other, _, w in candidates
            if w != where
            and (
                _norm(n) == key
                or difflib.SequenceMatcher(None, _norm(n), key).ratio() >= 0.9
                or (len(key) >= 6 and key in _norm(n) and len(_norm(n)) <= len(key) + 4)
            )
        ]
        support = {w for w, _ in agreeing}
        # Confident only when found again elsewhere on the page (another line), not twice on one line.
        elsewhere = any(index != line.index for _, index in agreeing)
        legal = 0.05 if _LEGAL_FORM.search(name) else 0.0
        scored.append((conf + legal + 0.1 * len(support), 0.9 if elsewhere and legal else conf + legal, name, line))
    if not scored:
        return None, None
    scored.sort(key=lambda s: -s[0])
    _, conf, name, line = scored[0]
    start = max(0, line.text.find(name))
    field = _field(_Found(name, line, start, start + len(name), 1.0), min(conf, 0.92), source)
    return field, _address_below(lines, line, field.bbox or line.bbox(), source, buyer)


def _address_below(
    lines: list[TextLine], line: TextLine, box: tuple[float, float, float, float], source: Source, buyer: set[int]
) -> Field | None:
    """The lines right under the seller's name (in ``box`` on ``line``) in the letterhead, up to a
    phone, tax or date line."""
    if line.top > 0.4:
        return None
    parts: list[TextLine] = []
    for below in _below(lines, line, box[0], box[2], count=4):
        if below.index in buyer:
            break
        if _NOT_NAME.search(below.text) or parse_dates(below.text) or _TITLE_WORDS.search(below.text):
            break
        if re.search(r"(?i)\b(?:reg|co\.?\s*no|company\s+no)\b|\(\d{5,}", below.text):
            continue
        parts.append(below)
    if not parts:
        return None
    text = " ".join(p.text for p in parts)
    conf = 0.5 * min(p.conf for p in parts) if source == "ocr" else 0.5
    box = (min(p.x0 for p in parts), parts[0].top, max(p.x1 for p in parts), parts[-1].bottom)
    return Field(text, round(conf, 2), source, parts[0].page, box)
