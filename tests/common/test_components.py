"""The component registry (invoicer.common.components) against what must
agree with it: the Helm chart's ``components:`` map, the settings, the
messages, the CLI and the migration packages."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from invoicer.common import components
from invoicer.common.config import Settings
from invoicer.common.messages import BY_ROUTING_KEY

ROOT = Path(__file__).resolve().parents[2]


def _chart_components() -> dict:
    """The chart's components map, read with tests/k8s/components.py (the
    helper the Kubernetes tests enumerate components with) from values.yaml."""
    spec = importlib.util.spec_from_file_location("k8s_components", ROOT / "tests" / "k8s" / "components.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    values = yaml.safe_load((ROOT / "helm_charts" / "invoicer" / "values.yaml").read_text())
    return module.load(values)


def _chart_kind(component) -> str:
    if component.is_job:
        return "job"
    return "http" if component.http else "consumer"


def test_the_registry_and_the_chart_name_the_same_components_of_the_same_kinds():
    chart = _chart_components()
    assert {name: _chart_kind(c) for name, c in chart.items()} == {c.name: c.kind for c in components.COMPONENTS}


def test_the_chart_sets_the_bind_and_url_settings_the_registry_reads():
    chart = _chart_components()
    for component in components.of_kind("http"):
        http = chart[component.name].http
        assert http["bindSetting"] == component.bind_setting
        assert (http["urlSetting"] or None) == component.url_setting


def test_every_setting_the_registry_names_is_a_setting():
    names = {f.name for f in fields(Settings)}
    for component in components.COMPONENTS:
        for setting in (component.bind_setting, component.url_setting):
            assert setting is None or setting.lower() in names, (component.name, setting)
        for queue in component.queues:
            assert queue.retries_setting in names
            assert isinstance(getattr(Settings(), queue.retries_setting), int)


def test_every_queue_has_one_message_and_one_consumer():
    """A queue of commands has its message class; a queue fed by domain
    events (``Queue.events``: the webhook sender's, the notification
    service's expense reviews) takes DomainEvents of types that exist."""
    keys = [queue.routing_key for queue in components.queues() if not queue.events]
    assert sorted(keys) == sorted(BY_ROUTING_KEY)
    for key, message in BY_ROUTING_KEY.items():
        assert key == message.ROUTING_KEY
    fed_by_events = [queue for queue in components.queues() if queue.events]
    assert {queue.routing_key: queue.events for queue in fed_by_events} == {
        components.WEBHOOK: components.WEBHOOK_EVENTS,
        components.EXPENSE_REVIEW: ("expense.submitted",),
    }


@pytest.mark.parametrize("component", components.COMPONENTS, ids=lambda c: c.name)
def test_every_factory_imports(component):
    assert callable(component.load())


def test_migrations_run_infrastructure_first_then_in_registry_order():
    assert components.migration_packages() == [
        "invoicer.common.migrations",
        "invoicer.migrations",
        "invoicer.invoices.migrations",
        "invoicer.expenses.migrations",  # after the invoices': its tables refer to organisations
    ]


def test_the_gateway_forwards_the_invoices_prefixes_to_the_invoices_url():
    prefixes = components.forwarded_prefixes()
    assert {prefix: c.name for prefix, c in prefixes.items()} == {
        **dict.fromkeys(
            (
                "organisation",
                "organisations",
                "invitations",
                "clients",
                "clients.csv",
                "invoices",
                "invoices.csv",
                "orders",
                "dashboard",
                "webhooks",
            ),
            "invoices",
        ),
        **dict.fromkeys(("expenses", "expenses.csv"), "expenses"),
    }
    settings = Settings(invoices_url="http://records:8082")
    assert prefixes["invoices"].url(settings) == "http://records:8082"


def test_a_new_components_settings_are_read_because_its_entry_names_them():
    extra = components.Component(
        "extra", "http", "x:y", "an extra service", bind_setting="EXTRA_BIND", url_setting="EXTRA_URL"
    )
    environ = {"EXTRA_BIND": "0.0.0.0:9999", "EXTRA_URL": "http://extra:9999", "OTHER_URL": "http://elsewhere:1"}
    assert extra.url(Settings.from_env(environ)) is None  # not in the registry: not read
    components.register(extra)
    try:
        settings = Settings.from_env(environ)
    finally:
        components.unregister("extra")
    assert (extra.bind(settings), extra.url(settings)) == ("0.0.0.0:9999", "http://extra:9999")
    assert dict(settings.component_settings) == {"EXTRA_BIND": "0.0.0.0:9999", "EXTRA_URL": "http://extra:9999"}
    assert "EXTRA_URL" not in Settings.names() and "COMPONENT_SETTINGS" not in Settings.names()
    assert components.by_name("gateway").url(settings) is None


def test_registering_twice_or_claiming_a_taken_prefix_is_refused():
    with pytest.raises(ValueError, match="exists already"):
        components.register(components.Component("auth", "http", "x:y", "again"))
    components.register(components.Component("thief", "http", "x:y", "steals /invoices", prefixes=("invoices",)))
    try:
        with pytest.raises(ValueError, match="both claim /invoices"):
            components.forwarded_prefixes()
    finally:
        components.unregister("thief")
    assert "thief" not in components.names()
