"""Secrets are SecretStr: no repr, str, log line or JSON dump of the settings shows them; the code that needs one
asks for it by name."""

from __future__ import annotations

import logging

from coach.settings import Settings

SECRETS = {"DATABASE_URL": "postgresql+psycopg://coach:pg-pass-1@db:5432/coach", "LLM_API_KEY": "sk-llm-2",
           "EMBEDDINGS_API_KEY": "sk-emb-3", "SLACK_BOT_TOKEN": "xoxb-4", "SLACK_SIGNING_SECRET": "signing-5",
           "SLACK_APP_TOKEN": "xapp-6", "SLACK_CLIENT_SECRET": "client-7", "MICROSOFT_APP_PASSWORD": "ms-8",
           "ADMIN_SECRET_KEY": "admin-9", "ADMIN_OIDC_CLIENT_SECRET": "oidc-10", "XAPI_PASSWORD": "lrs-11"}


def test_no_secret_shows_in_a_repr_a_dump_or_a_log_line(monkeypatch, caplog):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings: %s %r", settings, settings)
    shown = repr(settings) + str(settings) + settings.model_dump_json() + caplog.text
    leaked = [name for name, value in SECRETS.items() if value in shown]
    assert leaked == []
    assert settings.resolved_database_url == SECRETS["DATABASE_URL"]
    assert settings.slack_enabled and settings.llm_api_key.get_secret_value() == "sk-llm-2"
