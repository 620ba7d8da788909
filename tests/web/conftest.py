"""Fixtures of the web app's tests.

Browser tests drive Debian's chromium (``make install`` puts it at
/usr/bin/chromium) through Playwright against the session's stack, one
browser per test session and a fresh context (cookies) per test. Every page
a test visits can be checked with :func:`check_page`: a screenshot at
1280 px and at 390 px into ``var/screenshots/``, no horizontal scroll at
390 px, and no serious or critical axe-core violation (WCAG 2.1 AA).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "var" / "screenshots"
AXE = ROOT / "src" / "invoicer" / "gateway" / "web" / "static" / "vendor" / "axe-4.14.1.min.js"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs Debian's chromium")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
    }


# What each test's page logged as an error: console.error lines (Chromium also
# logs every failed load there) and uncaught exceptions. check_page fails on any.
CONSOLE_ERRORS: dict[int, list[str]] = {}


@pytest.fixture
def page(page):
    """pytest-playwright's page, with what the browser logs as an error recorded.
    A page the test navigated to on purpose that answers 4xx (an error page) is
    not counted: Chromium logs its status as a failed load."""
    errors: list[str] = []
    pages: set[str] = set()

    def on_console(message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource") and url in pages:
            return
        errors.append(f"{message.text} ({url})")

    def on_response(response) -> None:
        if response.request.is_navigation_request() and response.request.frame == page.main_frame:
            pages.add(response.url)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught {exc}"))
    page.on("response", on_response)
    CONSOLE_ERRORS[id(page)] = errors
    yield page
    CONSOLE_ERRORS.pop(id(page), None)


@pytest.fixture
def web_user(make_client):
    """A registered account (e-mail, password, API token) for the browser to sign in with."""
    return make_client()


def sign_in(page, base_url: str, email: str, password: str) -> None:
    """Sign in through the form and wait for the dashboard."""
    page.goto(f"{base_url}/app/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/app/$"))


@pytest.fixture
def signed_in(page, stack, web_user):
    """A page whose context is signed in as ``web_user``."""
    sign_in(page, stack.base_url, web_user.email, web_user.password)
    return page


def check_page(page, name: str) -> None:
    """Screenshots of the current page at both widths, and the checks every
    page must pass: no horizontal scroll at 390 px and no serious or
    critical axe-core violation (WCAG 2.0/2.1 A and AA rules)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")
    # From the app's own static files: the page's CSP refuses inline scripts, injected ones included.
    origin = re.match(r"https?://[^/]+", page.url).group(0)
    page.add_script_tag(url=f"{origin}/app/static/vendor/{AXE.name}")
    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        # At each width: what scrolls on a phone (a wide table) must be reachable by keyboard.
        result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", tags)
        bad = [
            {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"{name} at {width}px: accessibility violations {json.dumps(bad, indent=1)}"
    page.set_viewport_size({"width": 1280, "height": 900})
    errors = CONSOLE_ERRORS.get(id(page), [])
    assert not errors, f"{name}: the browser logged errors: {errors}"
