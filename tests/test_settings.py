"""Settings: defaults, overrides, .env, database URLs and what `serve` refuses to start without."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, async_database_url, load_settings

GOOD_SECRETS = {
    "slack_bot_token": "xoxb-1234-5678-abcdef",
    "slack_signing_secret": "8f742231b10e8888abcd99yyyzzz85a5",
    "secret_key": "a-long-random-secret-key-for-csrf",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No .env and none of the bot's variables, whatever the machine running the tests has."""
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_defaults_match_the_contract():
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///./partnerbot.db"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.port == 3000
    assert settings.order_link_ttl_days == 14
    assert settings.slack_bot_token is None
    assert settings.commission_first_year_rate == Decimal("0.12")
    assert settings.commission_later_rate == Decimal("0.06")


def test_overrides_win_over_defaults():
    settings = load_settings(port=8080, order_link_ttl_days=7, default_time_zone="Europe/Berlin")
    assert settings.port == 8080
    assert settings.order_link_ttl_days == 7
    assert settings.default_time_zone == "Europe/Berlin"


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PORT", "4100")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    settings = load_settings()
    assert settings.port == 4100
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-env"


def test_dot_env_in_the_working_directory_is_read(clean_environment: Path):
    (clean_environment / ".env").write_text("PORT=4200\nSECRET_KEY=from-dot-env\n", "utf-8")
    settings = load_settings()
    assert settings.port == 4200
    assert settings.secret_key.get_secret_value() == "from-dot-env"


def test_environment_wins_over_dot_env(clean_environment: Path, monkeypatch: pytest.MonkeyPatch):
    (clean_environment / ".env").write_text("PORT=4200\n", "utf-8")
    monkeypatch.setenv("PORT", "4300")
    assert load_settings().port == 4300


def test_secrets_are_not_shown_when_settings_are_printed():
    settings = load_settings(**GOOD_SECRETS)
    assert "xoxb-1234" not in repr(settings)
    assert "a-long-random-secret-key" not in str(settings)


# Database URLs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://bot:pw@db:5432/partners", "postgresql+asyncpg://bot:pw@db:5432/partners"),
        ("postgresql://bot:pw@db/partners", "postgresql+asyncpg://bot:pw@db/partners"),
        ("sqlite:///./partnerbot.db", "sqlite+aiosqlite:///./partnerbot.db"),
        ("sqlite:////var/lib/bot.db", "sqlite+aiosqlite:////var/lib/bot.db"),
        ("postgresql+asyncpg://db/partners", "postgresql+asyncpg://db/partners"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("  postgres://db/partners \n", "postgresql+asyncpg://db/partners"),
    ],
)
def test_database_urls_map_to_async_drivers(url, expected):
    assert async_database_url(url) == expected
    assert load_settings(database_url=url).database_url == expected


@pytest.mark.parametrize("url", ["mysql://db/partners", "postgresql+psycopg2://db/x", "db.sqlite"])
def test_an_unknown_database_scheme_is_refused_naming_database_url(url):
    with pytest.raises(SettingsError, match=r"^DATABASE_URL must be a sqlite:// or postgresql://"):
        load_settings(database_url=url)


def test_an_empty_database_url_is_refused_naming_database_url(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", "  ")
    with pytest.raises(SettingsError, match=r"^DATABASE_URL must not be empty"):
        load_settings()


# Ports and URLs


@pytest.mark.parametrize("port", [-1, 65536, 70000])
def test_a_port_out_of_range_is_refused_naming_port(port):
    with pytest.raises(SettingsError, match=r"^PORT must be a port number between 1 and 65535"):
        load_settings(port=port)


def test_a_port_that_is_not_a_number_is_refused_naming_port(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PORT", "http")
    with pytest.raises(SettingsError, match=r"^PORT "):
        load_settings()


def test_base_url_defaults_to_localhost_on_the_port():
    assert load_settings().base_url == "http://localhost:3000"
    assert load_settings(port=8080).base_url == "http://localhost:8080"


def test_base_url_is_the_public_url_without_a_trailing_slash():
    assert load_settings(public_base_url="https://bot.example.com/").base_url == (
        "https://bot.example.com"
    )


def test_public_base_url_must_be_http():
    with pytest.raises(SettingsError, match=r"^PUBLIC_BASE_URL must start with http"):
        load_settings(public_base_url="bot.example.com")


def test_slack_api_url_gets_a_trailing_slash():
    assert load_settings(slack_api_url="http://127.0.0.1:9999/api").slack_api_url == (
        "http://127.0.0.1:9999/api/"
    )
    assert load_settings(slack_api_url="https://slack-gov.com/api/").slack_api_url == (
        "https://slack-gov.com/api/"
    )


def test_slack_api_url_must_be_http():
    with pytest.raises(SettingsError, match=r"^SLACK_API_URL must start with http"):
        load_settings(slack_api_url="slack.com/api")


def test_order_link_ttl_must_be_at_least_a_day():
    with pytest.raises(SettingsError, match=r"^ORDER_LINK_TTL_DAYS must be at least 1"):
        load_settings(order_link_ttl_days=0)


def test_commission_rates_must_be_fractions():
    with pytest.raises(SettingsError, match=r"^COMMISSION_FIRST_YEAR_RATE must be a fraction"):
        load_settings(commission_first_year_rate=Decimal("12"))


def test_an_unknown_time_zone_is_refused_naming_the_variable():
    with pytest.raises(SettingsError, match=r"^DEFAULT_TIME_ZONE 'Mars/Base' is not an IANA"):
        load_settings(default_time_zone="Mars/Base")


def test_a_missing_plan_catalogue_file_is_refused(clean_environment: Path):
    with pytest.raises(SettingsError, match=r"^PLAN_CATALOGUE .* is not a readable file"):
        load_settings(plan_catalogue=clean_environment / "missing.csv")


# What serve requires


def test_serve_starts_with_every_secret_set():
    settings = load_settings(**GOOD_SECRETS)
    settings.require_for_serve()
    assert settings.slack_configured


@pytest.mark.parametrize("variable", ["SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SECRET_KEY"])
def test_serve_refuses_a_missing_secret_naming_it(variable):
    secrets = {name: value for name, value in GOOD_SECRETS.items() if name != variable.lower()}
    settings = load_settings(**secrets)
    with pytest.raises(SettingsError, match=rf"^{variable} is not set"):
        settings.require_for_serve()


def test_serve_names_every_missing_or_placeholder_secret_in_one_line():
    settings = load_settings(slack_bot_token="xoxb-your-token")
    with pytest.raises(SettingsError) as refused:
        settings.require_for_serve()
    assert str(refused.value) == (
        "SLACK_SIGNING_SECRET and SECRET_KEY are not set; SLACK_BOT_TOKEN still holds a "
        "placeholder value; set them in the environment or in .env"
    )


@pytest.mark.parametrize(("length", "refused"), [(31, True), (32, False)])
def test_serve_refuses_a_secret_key_shorter_than_32_characters(length, refused):
    settings = load_settings(**(GOOD_SECRETS | {"secret_key": "k" * length}))
    if refused:
        with pytest.raises(SettingsError, match=r"^SECRET_KEY is 31 characters long, too short"):
            settings.require_for_serve()
    else:
        settings.require_for_serve()


@pytest.mark.parametrize(
    ("variable", "placeholder"),
    [
        ("SLACK_SIGNING_SECRET", "your-signing-secret"),
        ("SLACK_SIGNING_SECRET", "  "),
        ("SLACK_BOT_TOKEN", "xoxb-your-token"),
        ("SECRET_KEY", "changeme"),
        ("SECRET_KEY", "CHANGE-ME"),
        ("SECRET_KEY", "..."),
    ],
)
def test_serve_refuses_a_placeholder_secret_naming_it(variable, placeholder):
    settings = load_settings(**(GOOD_SECRETS | {variable.lower(): placeholder}))
    with pytest.raises(SettingsError, match=rf"^{variable} still holds a placeholder value"):
        settings.require_for_serve()


def test_serve_refuses_a_secret_missing_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-3")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing")
    settings = load_settings()
    with pytest.raises(SettingsError, match=r"^SECRET_KEY is not set"):
        settings.require_for_serve()


@pytest.mark.parametrize("token", ["xoxp-1234-user-token", "xapp-1-A1-1", "bot-token"])
def test_serve_refuses_a_token_that_is_not_a_bot_token(token):
    settings = load_settings(**(GOOD_SECRETS | {"slack_bot_token": token}))
    with pytest.raises(SettingsError, match=r"^SLACK_BOT_TOKEN must be a bot token starting with"):
        settings.require_for_serve()


def test_serve_refuses_an_app_token_that_is_not_an_app_token():
    settings = load_settings(**(GOOD_SECRETS | {"slack_app_token": "xoxb-not-an-app-token"}))
    with pytest.raises(SettingsError, match=r"^SLACK_APP_TOKEN must be an app-level token"):
        settings.require_for_serve()
    load_settings(**(GOOD_SECRETS | {"slack_app_token": "xapp-1-A1-1"})).require_for_serve()


def test_slack_is_not_configured_without_both_token_and_signing_secret():
    assert not load_settings().slack_configured
    assert not load_settings(slack_bot_token="xoxb-1").slack_configured
    assert load_settings(slack_bot_token="xoxb-1", slack_signing_secret="s").slack_configured


# Many workspaces (OAuth)

OAUTH_SECRETS = {
    "slack_client_id": "1234567890.0987654321",
    "slack_client_secret": "a-client-secret-from-basic-information",
    "slack_state_secret": "a-long-random-state-secret",
    "slack_signing_secret": "8f742231b10e8888abcd99yyyzzz85a5",
    "secret_key": "a-long-random-secret-key-for-csrf",
}


def test_oauth_serves_without_a_bot_token():
    settings = load_settings(**OAUTH_SECRETS)
    assert settings.oauth_enabled and settings.slack_configured
    settings.require_for_serve()


@pytest.mark.parametrize(
    "variable",
    [
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "SLACK_STATE_SECRET",
        "SLACK_SIGNING_SECRET",
        "SECRET_KEY",
    ],
)
def test_oauth_serve_refuses_a_missing_secret_naming_it(variable):
    secrets = {name: value for name, value in OAUTH_SECRETS.items() if name != variable.lower()}
    with pytest.raises(SettingsError, match=rf"^{variable} is not set"):
        load_settings(**secrets).require_for_serve()


def test_oauth_serve_refuses_a_placeholder_state_secret():
    settings = load_settings(**(OAUTH_SECRETS | {"slack_state_secret": "changeme"}))
    with pytest.raises(SettingsError, match=r"^SLACK_STATE_SECRET still holds a placeholder"):
        settings.require_for_serve()


def test_oauth_serve_refuses_a_client_id_that_is_not_one():
    settings = load_settings(**(OAUTH_SECRETS | {"slack_client_id": "my-app"}))
    with pytest.raises(SettingsError, match=r"^SLACK_CLIENT_ID must look like 1234567890\."):
        settings.require_for_serve()


def test_a_bot_token_and_oauth_together_are_refused_naming_both():
    settings = load_settings(**(OAUTH_SECRETS | {"slack_bot_token": "xoxb-1-2-3"}))
    with pytest.raises(SettingsError, match=r"^SLACK_BOT_TOKEN is set together with SLACK_CLIENT"):
        settings.require_for_serve()


def test_oauth_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SLACK_CLIENT_ID", "1.2")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "client-secret")
    settings = load_settings()
    assert settings.oauth_enabled
    assert settings.slack_client_secret.get_secret_value() == "client-secret"
    assert "client-secret" not in repr(settings)
    assert not load_settings(slack_client_id=None, slack_client_secret=None).oauth_enabled


def test_the_vendor_is_microsoft_unless_named_otherwise():
    assert load_settings().vendor_name == "Microsoft"
    assert load_settings(vendor_name="  Contoso   Cloud ").vendor_name == "Contoso Cloud"
    with pytest.raises(SettingsError, match=r"^VENDOR_NAME must name the vendor"):
        load_settings(vendor_name="   ")
