"""Fields of an EN 16931 e-invoice's XML: CII (Factur-X, ZUGFeRD 2, XRechnung-CII),
ZUGFeRD 1 (``CrossIndustryDocument``) and UBL 2.1 ``Invoice`` / ``CreditNote``.

Read with namespace-agnostic lxml XPath (``local-name()``), so that ZUGFeRD 1's and
2's namespaces and UBL's read alike. Kept in its own module so that the EN 16931
readers of the e-invoicing work can replace it: :func:`read_xml` is its only entry.

Everything it returns has confidence 1.0 and source ``xml`` (the XML states it).
Business terms (EN 16931-1): BT-1 number, BT-2 issue date, BT-5 currency, BT-9 due
date, BT-27 seller name, BT-31 seller VAT ID, BT-35..BT-40 seller address, BT-84 IBAN,
BT-109 net total, BT-110 tax total, BT-112 gross total.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .fields import Field, Line

__all__ = ["NotXmlInvoice", "read_xml"]


class NotXmlInvoice(ValueError):
    """The bytes are not well-formed XML of a CII or UBL invoice; the message says why."""


def _parser() -> Any:
    from lxml import etree  # noqa: PLC0415 - lxml loads only when XML is read

    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _ln(*names: str) -> str:
    """An XPath step matching any of ``names`` whatever the namespace."""
    return "*[" + " or ".join(f"local-name()='{n}'" for n in names) + "]"


def _first(node: Any, path: str) -> Any:
    found = node.xpath(path)
    return found[0] if found else None


def _text(node: Any, path: str) -> str | None:
    found = _first(node, path)
    if found is None:
        return None
    text = found if isinstance(found, str) else found.text
    text = " ".join((text or "").split())
    return text or None


def _date(raw: str | None) -> str | None:
    """ISO date from CII format 102 (``20181031``) or ISO (``2018-10-31``)."""
    if not raw:
        return None
    raw = raw.strip()
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", raw) or re.match(r"(\d{4})-(\d{2})-(\d{2})", raw)
    return f"{m[1]}-{m[2]}-{m[3]}" if m else None


def _amount(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return str(Decimal(raw.strip()))
    except InvalidOperation:
        return None


def read_xml(data: bytes) -> tuple[dict[str, Field], list[Line], str]:
    """``(fields, lines, syntax)`` of CII or UBL XML ``data``; ``syntax`` is ``CII``,
    ``ZUGFeRD1`` or ``UBL``. Fields the XML lacks are absent. Raises
    :class:`NotXmlInvoice` when ``data`` is not well-formed XML or has another root.
    A DOCTYPE, entities and network access are refused (lxml ``resolve_entities=False``)."""
    from lxml import etree  # noqa: PLC0415

    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise NotXmlInvoice(f"not well-formed XML: {exc}") from None
    name = etree.QName(root).localname
    if name == "CrossIndustryInvoice":
        values, lines = _cii(root, header="ExchangedDocument"), _cii_lines(root)
        syntax = "CII"
    elif name == "CrossIndustryDocument":
        values, lines = _cii(root, header="HeaderExchangedDocument"), _cii_lines(root)
        syntax = "ZUGFeRD1"
    elif name in ("Invoice", "CreditNote"):
        values, lines = _ubl(root), _ubl_lines(root)
        syntax = "UBL"
    else:
        raise NotXmlInvoice(f"the XML root is {name}, not a CII or UBL invoice")
    fields = {key: Field(value, 1.0, "xml") for key, value in values.items() if value}
    return fields, lines, syntax


def _cii(root: Any, *, header: str) -> dict[str, str | None]:
    seller = _first(root, f".//{_ln('SellerTradeParty')}")
    settlement = _first(root, f".//{_ln('ApplicableHeaderTradeSettlement', 'ApplicableSupplyChainTradeSettlement')}")
    summation = (
        _first(
            settlement,
            f"./{_ln('SpecifiedTradeSettlementHeaderMonetarySummation', 'SpecifiedTradeSettlementMonetarySummation')}",
        )
        if settlement is not None
        else None
    )
    currency = _text(settlement, f"./{_ln('InvoiceCurrencyCode')}") if settlement is not None else None
    out: dict[str, str | None] = {
        "invoice_number": _text(root, f"./{_ln(header)}/{_ln('ID')}"),
        "issue_date": _date(_text(root, f"./{_ln(header)}/{_ln('IssueDateTime')}/{_ln('DateTimeString')}")),
        "currency": currency,
        "due_date": _date(
            _text(root, f".//{_ln('SpecifiedTradePaymentTerms')}/{_ln('DueDateDateTime')}/{_ln('DateTimeString')}")
        ),
        "iban": _text(root, f".//{_ln('PayeePartyCreditorFinancialAccount')}/{_ln('IBANID')}"),
    }
    if seller is not None:
        out["supplier_name"] = _text(seller, f"./{_ln('Name')}")
        out["supplier_vat_id"] = _text(
            seller, f"./{_ln('SpecifiedTaxRegistration')}/{_ln('ID')}[@schemeID='VA']"
        ) or _text(seller, f"./{_ln('SpecifiedTaxRegistration')}/{_ln('ID')}")
        address = _first(seller, f"./{_ln('PostalTradeAddress')}")
        if address is not None:
            parts = [
                _text(address, f"./{_ln(tag)}")
                for tag in ("LineOne", "LineTwo", "LineThree", "PostcodeCode", "CityName", "CountryID")
            ]
            out["supplier_address"] = ", ".join(p for p in parts if p) or None
    if summation is not None:
        out["total_net"] = _amount(_text(summation, f"./{_ln('TaxBasisTotalAmount')}"))
        # BT-110 is the TaxTotalAmount in the invoice currency (BT-111 may repeat it in another).
        tax = _text(summation, f"./{_ln('TaxTotalAmount')}[@currencyID='{currency}']") if currency else None
        out["total_tax"] = _amount(tax or _text(summation, f"./{_ln('TaxTotalAmount')}"))
        out["total_gross"] = _amount(_text(summation, f"./{_ln('GrandTotalAmount')}"))
    return out


def _cii_lines(root: Any) -> list[Line]:
    lines = []
    for item in root.xpath(f".//{_ln('IncludedSupplyChainTradeLineItem')}"):
        lines.append(
            Line(
                description=_text(item, f"./{_ln('SpecifiedTradeProduct')}/{_ln('Name')}") or "",
                quantity=_amount(_text(item, f".//{_ln('BilledQuantity')}")),
                unit_price=_amount(_text(item, f".//{_ln('NetPriceProductTradePrice')}/{_ln('ChargeAmount')}")),
                net_amount=_amount(_text(item, f".//{_ln('LineTotalAmount')}")),
            )
        )
    return lines


def _ubl(root: Any) -> dict[str, str | None]:
    party = _first(root, f"./{_ln('AccountingSupplierParty')}/{_ln('Party')}")
    totals = _first(root, f"./{_ln('LegalMonetaryTotal')}")
    currency = _text(root, f"./{_ln('DocumentCurrencyCode')}")
    tax = _text(root, f"./{_ln('TaxTotal')}/{_ln('TaxAmount')}[@currencyID='{currency}']") if currency else None
    out: dict[str, str | None] = {
        "invoice_number": _text(root, f"./{_ln('ID')}"),
        "issue_date": _date(_text(root, f"./{_ln('IssueDate')}")),
        "due_date": _date(
            _text(root, f"./{_ln('DueDate')}") or _text(root, f"./{_ln('PaymentMeans')}/{_ln('PaymentDueDate')}")
        ),
        "currency": currency,
        "iban": _text(root, f"./{_ln('PaymentMeans')}/{_ln('PayeeFinancialAccount')}/{_ln('ID')}"),
        "total_tax": _amount(tax or _text(root, f"./{_ln('TaxTotal')}/{_ln('TaxAmount')}")),
    }
    if party is not None:
        out["supplier_name"] = _text(party, f"./{_ln('PartyName')}/{_ln('Name')}") or _text(
            party, f"./{_ln('PartyLegalEntity')}/{_ln('RegistrationName')}"
        )
        out["supplier_vat_id"] = _text(party, f"./{_ln('PartyTaxScheme')}/{_ln('CompanyID')}")
        address = _first(party, f"./{_ln('PostalAddress')}")
        if address is not None:
            parts = [
                _text(address, f"./{_ln(tag)}")
                for tag in ("StreetName", "AdditionalStreetName", "PostalZone", "CityName")
            ]
            parts.append(_text(address, f"./{_ln('Country')}/{_ln('IdentificationCode')}"))
            out["supplier_address"] = ", ".join(p for p in parts if p) or None
    if totals is not None:
        out["total_net"] = _amount(_text(totals, f"./{_ln('TaxExclusiveAmount')}"))
        out["total_gross"] = _amount(_text(totals, f"./{_ln('TaxInclusiveAmount')}"))
    return out


def _ubl_lines(root: Any) -> list[Line]:
    lines = []
    for item in root.xpath(f"./{_ln('InvoiceLine', 'CreditNoteLine')}"):
        lines.append(
            Line(
                description=_text(item, f"./{_ln('Item')}/{_ln('Name')}") or "",
                quantity=_amount(_text(item, f"./{_ln('InvoicedQuantity', 'CreditedQuantity')}")),
                unit_price=_amount(_text(item, f"./{_ln('Price')}/{_ln('PriceAmount')}")),
                net_amount=_amount(_text(item, f"./{_ln('LineExtensionAmount')}")),
            )
        )
    return lines
