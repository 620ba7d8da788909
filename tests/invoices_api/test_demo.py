"""``make demo``'s billing part (devstack.bill) against the test stack."""

from __future__ import annotations

import json

from devstack import bill

from .conftest import sign_up


def test_the_demo_bills_the_example_and_prints_the_dashboard(stack, example_bytes, capsys):
    user = sign_up(stack.base_url)
    figures = bill(stack.base_url, {"Authorization": f"Bearer {user.token}"}, json.loads(example_bytes))
    eur = figures["currencies"]["EUR"]
    assert eur["counts"]["paid"] == 1 and eur["outstanding"] == "0.00" and eur["paid_last_30_days"] == "330.86"
    out = capsys.readouterr().out
    assert "paid 100.00: partially_paid, 230.86 left" in out and '"paid_last_30_days": "330.86"' in out
