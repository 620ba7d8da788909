"""``invoicer create-user`` applies the same account rules as POST /register
without loading the web layer (it runs where no HTTP service does)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from devstack import free_port

# Runs create-user in a fresh interpreter, then says which web modules it loaded.
SCRIPT = """
import sys
from invoicer import cli
try:
    cli.main(["create-user", sys.argv[1], "--password-stdin"])
except SystemExit as exc:
    print("exit:", exc.code, file=sys.stderr)
print(sorted(name for name in ("flask", "werkzeug") if name in sys.modules))
"""


@pytest.mark.parametrize(
    ("email", "password", "says"),
    [
        ("not-an-address", "a-long-enough-password", "@-sign"),
        ("someone@example.com", "short", "at least 12 characters"),
        ("someone@example.com", "a-long-enough-password", "the database at postgresql://postgres@127.0.0.1:"),
    ],
)
def test_create_user_refuses_clearly_and_loads_no_flask(email, password, says):
    env = {**os.environ, "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/invoicer"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, email],
        input=password + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert says in done.stderr, done.stderr
    assert done.stdout.strip() == "[]", "create-user loaded the web layer"
