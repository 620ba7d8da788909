"""The web app's Blueprint, on its own so that every page module can add
routes to it without importing another (see :mod:`invoicer.gateway.web`)."""

from __future__ import annotations

from flask import Blueprint

__all__ = ["blueprint"]

blueprint = Blueprint(
    "web",
    __name__,
    url_prefix="/app",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
