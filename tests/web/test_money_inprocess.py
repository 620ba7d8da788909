"""The list pages' amounts (issue 22, "Lists"): :func:`invoicer.gateway.web.pages.money`."""

from __future__ import annotations

from invoicer.gateway.web.pages import money


def test_amounts_are_written_with_the_locales_currency_and_grouping():
    assert money("165000", "JPY", "en_US") == "¥165,000"  # no minor unit
    assert money("1234.50", "EUR", "de_DE") == "1.234,50\xa0€"
    assert money("1234.50", "EUR", None) == "€1,234.50"  # the service's default locale, en_GB


def test_a_credit_note_is_negative_and_zero_has_no_sign():
    assert money("238.00", "EUR", "en_GB", credit=True) == "-€238.00"
    assert money("0.00", "EUR", "en_GB", credit=True) == "€0.00"


def test_what_is_not_an_amount_is_shown_as_given():
    assert money(None, "EUR", "en_GB") == "—"
    assert money("n/a", "EUR", "en_GB") == "n/a EUR"
    assert money("12.00", "EUR", "zz_ZZ") == "12.00 EUR"  # an unknown locale
