"""The components map of helm_charts/invoicer/values.yaml (``components``), as
the Kubernetes tests read it: which invoicer processes exist, what each one
uses, who may call it and where it listens. The tests enumerate components
from here instead of repeating their names; the values come from the chart as
Helm loads it (``bundle.charts["invoicer"]["values"]``).
"""

from __future__ import annotations

from dataclasses import dataclass

# Backend chart -> the variable carrying its connection URL (and, spliced into it, *_PASSWORD).
BACKENDS = {"postgresql": "DATABASE_URL", "mongodb": "MONGODB_URI", "rabbitmq": "AMQP_URL"}
# Secret groups of components.<name>.secrets -> the variables they give.
SECRETS = {"jwt": ("JWT_SECRET",), "smtp": ("SMTP_USERNAME", "SMTP_PASSWORD")}
ANYONE = "*"


@dataclass(frozen=True)
class Component:
    """One entry of the map. ``values`` is the entry as the chart's defaults give it."""

    name: str
    values: dict

    @property
    def uses(self) -> set[str]:
        """Backend charts it connects to (keys of BACKENDS)."""
        return set(self.values.get("uses", []))

    @property
    def secrets(self) -> set[str]:
        """Variables it reads from the chart's Secret."""
        return {var for group in self.values.get("secrets", []) for var in SECRETS[group]}

    @property
    def callers(self) -> set[str]:
        """Component names that may connect to its HTTP port; ANYONE for any source."""
        return set(self.values.get("callers", []))

    @property
    def http(self) -> dict | None:
        """``{port, bindSetting, servicePort, urlSetting}`` for an HTTP service, else None."""
        return self.values.get("http")

    @property
    def port(self) -> int | None:
        """The container port it listens on: HTTP, else a consumer's health port; None for a Job."""
        return self.http["port"] if self.http else self.values.get("healthPort")

    @property
    def is_job(self) -> bool:
        """A run-once hook (migrate) rather than a Deployment."""
        return "job" in self.values


def load(chart_values: dict) -> dict[str, Component]:
    """Every component of the invoicer chart's values, by name."""
    return {name: Component(name, values) for name, values in chart_values["components"].items()}


def long_running(components: dict[str, Component]) -> dict[str, Component]:
    """The components that run as Deployments."""
    return {name: c for name, c in components.items() if not c.is_job}


def users_of(components: dict[str, Component], backend: str) -> set[str]:
    """Names of the components that connect to ``backend``."""
    return {name for name, c in components.items() if backend in c.uses}
