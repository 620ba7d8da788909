"""The auth app's behaviour under configuration, through Flask's test client."""

from __future__ import annotations

import pytest

from invoicer.auth.app import create_app
from invoicer.common.config import ConfigError, Settings

SECRET = "s" * 40


def test_registration_can_be_switched_off():
    app = create_app(Settings(jwt_secret=SECRET, registration_enabled=False))
    reply = app.test_client().post("/register", json={"email": "a@example.com", "password": "long-enough-pw"})
    assert reply.status_code == 403
    assert reply.get_json()["error"]["code"] == "registration_disabled"


def test_refuses_to_start_without_a_strong_jwt_secret():
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        create_app(Settings(jwt_secret="short"))


def test_settings_parse_environment_and_name_the_bad_variable():
    settings = Settings.from_env(
        {"MAX_UPLOAD_BYTES": "2048", "REGISTRATION_ENABLED": "false", "MONGODB_URI": "mongodb://db:27017/invoices"}
    )
    assert settings.max_upload_bytes == 2048
    assert settings.registration_enabled is False
    assert settings.mongodb_database == "invoices"
    with pytest.raises(ConfigError, match="WORKER_PREFETCH"):
        Settings.from_env({"WORKER_PREFETCH": "many"})
