"""The alerting rules (helm_charts/invoicer/files/alerts.yaml) checked and
unit-tested by Prometheus' own promtool (Debian's prometheus package, which
`make install` installs where it is missing): every alert fires on the series
it is meant for and not on a healthy one (tests/metrics/alerts_test.yaml)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "helm_charts" / "invoicer" / "files" / "alerts.yaml"
TESTS = Path(__file__).with_name("alerts_test.yaml")


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is missing: `make install` installs Debian's prometheus package")
    return found


def _run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_rules_are_valid(promtool):
    assert "SUCCESS: 7 rules found" in _run(promtool, "check", "rules", str(RULES))


def test_each_alert_fires_on_its_series_and_not_on_healthy_ones(promtool):
    assert "SUCCESS" in _run(promtool, "test", "rules", str(TESTS))


def test_every_alert_has_a_test_that_sees_it_fire_and_one_that_does_not():
    alerts = {rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]}
    assert alerts == {
        "InvoicerHighErrorRatio",
        "InvoicerDeadLetters",
        "InvoicerUploadToDoneSlow",
        "InvoicerJobSuccessLow",
        "InvoicerOutboxBacklogGrowing",
        "InvoicerWebhookEndpointFailing",
        "InvoicerConsumerNotPolling",
    }
    cases = [case for test in yaml.safe_load(TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    for alert in alerts:
        fired = [case for case in cases if case["alertname"] == alert and case["exp_alerts"]]
        silent = [case for case in cases if case["alertname"] == alert and not case["exp_alerts"]]
        assert fired and silent, f"{alert}: needs a case where it fires and one where it does not"
