"""Bar charts for the dashboard, drawn on the server as inline SVG.

The functions here only compute geometry (pure, unit-testable); the
template ``dashboard/_chart.html`` draws it with SVG presentation attributes, so the
page's Content-Security-Policy needs no inline styles and no script. Each
chart also carries its numbers as a table for screen readers and for anyone
who prefers to read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["AGEING_LABELS", "Bar", "Chart", "ageing_chart", "months_chart"]

#: The ageing buckets of the dashboard API, in order, with their labels.
AGEING_LABELS = {
    "not_due": "Not yet due",
    "1_30": "1-30 days",
    "31_60": "31-60 days",
    "61_90": "61-90 days",
    "over_90": "Over 90 days",
}
#: Short axis labels of the ageing buckets (the table and tooltips use the full ones).
AXIS_LABELS = {"not_due": "Not due", "1_30": "1-30", "31_60": "31-60", "61_90": "61-90", "over_90": "90+"}
WIDTH = 400
HEIGHT = 200
TOP = 12
BOTTOM = 30  # room for the labels under the bars
LEFT = 8
PLOT = HEIGHT - TOP - BOTTOM
NAVY = "#1B2B4B"  # invoice/presentation.py NAVY
BLUE = "#1F63C6"  # invoice/presentation.py ACCENT
OVERDUE = "#B3261E"
PAID = "#2E7D4F"


@dataclass(frozen=True)
class Bar:
    """One bar: ``x``, ``y``, ``width``, ``height`` in SVG user units (the
    view box is ``WIDTH`` x ``HEIGHT``), its ``fill`` colour, the ``amount``
    it stands for and a ``label`` (its group's, for the axis)."""

    x: float
    y: float
    width: float
    height: float
    fill: str
    amount: Decimal
    label: str


@dataclass(frozen=True)
class Chart:
    """A chart: ``title``, ``bars``, axis ``labels`` ``[(x, text)]``, a
    ``legend`` ``[(colour, text)]`` and ``rows`` for its table
    (``[[label, amount, ...]]``, amounts as decimal strings), ``columns``
    naming them; ``empty`` when every amount is zero."""

    title: str
    bars: list[Bar]
    labels: list[tuple[float, str]]
    legend: list[tuple[str, str]]
    columns: list[str]
    rows: list[list[str]]
    empty: bool
    width: int = WIDTH
    height: int = HEIGHT


def _heights(values: list[Decimal]) -> list[float]:
    top = max(values, default=Decimal(0))
    if top <= 0:
        return [0.0 for _ in values]
    return [float(max(value, Decimal(0)) / top) * PLOT for value in values]


def ageing_chart(ageing: dict[str, Any], currency: str) -> Chart:
    """The unpaid balance by days past due (the dashboard API's ``ageing``:
    bucket -> decimal string), one bar per bucket: blue while not yet due,
    red once overdue."""
    values = [Decimal(str(ageing.get(key, 0) or 0)) for key in AGEING_LABELS]
    slot = (WIDTH - 2 * LEFT) / len(values)
    bars, labels = [], []
    for index, (key, height) in enumerate(zip(AGEING_LABELS, _heights(values), strict=True)):
        x = LEFT + index * slot + slot * 0.15
        bars.append(
            Bar(
                round(x, 1),
                round(TOP + PLOT - height, 1),
                round(slot * 0.7, 1),
                round(height, 1),
                BLUE if key == "not_due" else OVERDUE,
                values[index],
                AGEING_LABELS[key],
            )
        )
        labels.append((round(LEFT + index * slot + slot / 2, 1), AXIS_LABELS[key]))
    return Chart(
        title=f"Unpaid balance by age, {currency}",
        bars=bars,
        labels=labels,
        legend=[(BLUE, "Not yet due"), (OVERDUE, "Overdue")],
        columns=["Age", f"Unpaid ({currency})"],
        rows=[[AGEING_LABELS[key], str(value)] for key, value in zip(AGEING_LABELS, values, strict=True)],
        empty=not any(values),
    )


def months_chart(months: list[dict[str, Any]], currency: str) -> Chart:
    """Invoiced (navy) and paid (green) per month of issue, two bars a
    month; ``months`` is ``[{"month": "YYYY-MM", "invoiced", "paid"}]``."""
    invoiced = [Decimal(str(month.get("invoiced", 0))) for month in months]
    paid = [Decimal(str(month.get("paid", 0))) for month in months]
    heights = _heights(invoiced + paid)
    count = max(len(months), 1)
    slot = (WIDTH - 2 * LEFT) / count
    bars, labels = [], []
    for index, month in enumerate(months):
        base = LEFT + index * slot + slot * 0.1
        width = slot * 0.38
        for offset, (value, height, fill) in enumerate(
            ((invoiced[index], heights[index], NAVY), (paid[index], heights[len(months) + index], PAID))
        ):
            bars.append(
                Bar(
                    round(base + offset * width, 1),
                    round(TOP + PLOT - height, 1),
                    round(width, 1),
                    round(height, 1),
                    fill,
                    value,
                    month["month"],
                )
            )
        labels.append((round(LEFT + index * slot + slot / 2, 1), _short_month(month["month"])))
    return Chart(
        title=f"Invoiced and paid by month of issue, {currency}",
        bars=bars,
        labels=labels,
        legend=[(NAVY, "Invoiced"), (PAID, "Paid")],
        columns=["Month", f"Invoiced ({currency})", f"Paid ({currency})"],
        rows=[[month["month"], str(i), str(p)] for month, i, p in zip(months, invoiced, paid, strict=True)],
        empty=not any(invoiced + paid),
    )


_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _short_month(key: str) -> str:
    """``"2026-03"`` -> ``"Mar"``."""
    try:
        return _MONTHS[int(key[5:7]) - 1]
    except (ValueError, IndexError):
        return key
