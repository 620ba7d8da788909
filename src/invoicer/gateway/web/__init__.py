"""The web app: HTML pages under ``/app/`` for people who never write curl.

Served by the gateway beside its JSON API and built from the same parts: it
signs in through the gateway's auth forwarding, uploads through
:func:`invoicer.gateway.routes.submit_upload`, and reads and writes invoice
records through the invoices service's HTTP API (:mod:`.records`), the way
the gateway forwards them, so no rule exists twice.

* Pages are Jinja2 templates; htmx 2 swaps parts of them (job rows, the
  totals of a draft). htmx, Pico CSS and axe-core (for the browser tests)
  are vendored in ``static/vendor`` (versions in ``VENDORED.md``); nothing
  is loaded from another site.
* The session is the user's JWT in an ``HttpOnly``, ``SameSite=Lax`` cookie
  (``Secure`` when ``PUBLIC_URL`` is https); every form and every htmx
  request carries a CSRF token (Flask-WTF), checked before a view runs.
* Every HTML answer has its own Content-Security-Policy (scripts and styles
  only from this origin, no inline scripts); the JSON API keeps its own.
* Errors under ``/app/`` are pages (400, 403, 404, 500, 503), never JSON
  and never a stack trace; the JSON API answers as before.

:func:`init_app` registers all of it on the gateway app.
"""

from __future__ import annotations

from flask import Flask, redirect, url_for

from ...common.config import Settings
from . import account_pages, expenses, pages, session, views
from .blueprint import blueprint

__all__ = ["blueprint", "init_app"]

# The modules that add routes to the blueprint; imported for that alone.
_ROUTES = (views, pages, expenses, account_pages)


def init_app(app: Flask, settings: Settings) -> None:
    """Register the web app on the gateway ``app``: the blueprint under
    ``/app/``, ``/`` redirecting to it, ``/favicon.ico`` to the icon (asked by
    browsers for any page without a ``<link rel=icon>``, a PDF opened alone
    included), its session cookie and CSRF keys."""
    session.configure(app, settings)
    app.register_blueprint(blueprint)
    app.add_url_rule("/", "web_root", lambda: redirect(url_for("web.dashboard")), methods=["GET"])
    app.add_url_rule(
        "/favicon.ico", "favicon", lambda: redirect(url_for("web.static", filename="favicon.svg")), methods=["GET"]
    )
