"""The incident feed's settings: Graph by default once an Entra app is named, a half-configured
app refused naming every variable missing, credentials checked for their shape."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from bot.feed_settings import GRAPH_ISSUES_URL
from bot.settings import Settings, SettingsError, load_settings

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
APP = {"incident_feed_tenant_id": TENANT, "incident_feed_client_id": CLIENT}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    return tmp_path


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    issued = trustme.CA().issue_cert("feed.partnerbot.test")
    path = tmp_path / "feed.key.pem"
    issued.private_key_pem.write_to_path(str(path))
    return path


def test_no_feed_without_a_url_or_an_app():
    settings = load_settings()
    assert settings.feed_url is None and not settings.feed_signs_in


def test_an_app_with_a_secret_reads_microsoft_graph():
    settings = load_settings(**APP, incident_feed_client_secret="secret-value")
    assert settings.feed_signs_in
    assert settings.feed_url == "https://graph.microsoft.com/v1.0/admin/serviceAnnouncement/issues"
    assert settings.feed_url == GRAPH_ISSUES_URL
    assert settings.incident_feed_authority_host == "https://login.microsoftonline.com"


def test_a_url_of_ones_own_with_a_fixed_token_still_works():
    settings = load_settings(
        incident_feed_url="https://relay.example.com/issues", incident_feed_token="t0ken"
    )
    assert settings.feed_url == "https://relay.example.com/issues" and not settings.feed_signs_in


def test_a_secret_alone_is_refused_naming_everything_missing():
    with pytest.raises(SettingsError) as refused:
        load_settings(incident_feed_client_secret="secret-value")
    assert str(refused.value) == (
        "INCIDENT_FEED_TENANT_ID, INCIDENT_FEED_CLIENT_ID are not set, but "
        "INCIDENT_FEED_CLIENT_SECRET is: the feed signs in to Microsoft Entra with a tenant id, "
        "a client id and a client secret or certificate"
    )


def test_an_app_without_a_credential_is_refused_naming_both_kinds():
    with pytest.raises(
        SettingsError,
        match=r"^INCIDENT_FEED_CLIENT_SECRET \(or "
        r"INCIDENT_FEED_CERTIFICATE with INCIDENT_FEED_CERTIFICATE_THUMBPRINT\) "
        r"is not set, but INCIDENT_FEED_CLIENT_ID, INCIDENT_FEED_TENANT_ID are",
    ):
        load_settings(**APP)


def test_a_certificate_without_its_thumbprint_is_refused(key_file: Path):
    with pytest.raises(SettingsError, match=r"^INCIDENT_FEED_CERTIFICATE_THUMBPRINT is not set"):
        load_settings(**APP, incident_feed_certificate=key_file)


def test_a_thumbprint_alone_names_the_tenant_client_and_key_file():
    with pytest.raises(
        SettingsError,
        match=r"^INCIDENT_FEED_TENANT_ID, INCIDENT_FEED_CLIENT_ID, "
        r"INCIDENT_FEED_CERTIFICATE are not set",
    ):
        load_settings(incident_feed_certificate_thumbprint="AB" * 20)


def test_a_secret_and_a_certificate_together_are_refused(key_file: Path):
    with pytest.raises(SettingsError, match=r"both set: .* set one of them"):
        load_settings(
            **APP,
            incident_feed_client_secret="secret-value",
            incident_feed_certificate=key_file,
            incident_feed_certificate_thumbprint="AB" * 20,
        )


def test_a_fixed_token_beside_an_app_is_refused():
    with pytest.raises(SettingsError, match=r"^INCIDENT_FEED_TOKEN is set together with"):
        load_settings(**APP, incident_feed_client_secret="s", incident_feed_token="t0ken")


def test_an_app_never_sends_its_tokens_over_plain_http():
    with pytest.raises(SettingsError, match=r"^INCIDENT_FEED_URL must start with https://"):
        load_settings(**APP, incident_feed_client_secret="s", incident_feed_url="http://x/issues")


def test_a_certificate_is_read_with_a_thumbprint_as_entra_shows_it(key_file: Path):
    settings = load_settings(
        **APP,
        incident_feed_certificate=key_file,
        incident_feed_certificate_thumbprint="ab:cd " + "12" * 18,
    )
    assert settings.incident_feed_certificate_thumbprint == "ABCD" + "12" * 18


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("incident_feed_client_id", "my-app", r"^INCIDENT_FEED_CLIENT_ID must be the app's"),
        ("incident_feed_tenant_id", "contoso/../x", r"^INCIDENT_FEED_TENANT_ID must be the direct"),
        ("incident_feed_certificate_thumbprint", "ABC", r"^INCIDENT_FEED_CERTIFICATE_THUMBPRINT "),
        ("incident_feed_authority_host", "http://login", r"^INCIDENT_FEED_AUTHORITY_HOST must st"),
        ("incident_feed_ca_bundle", "/nowhere/ca.pem", r"^INCIDENT_FEED_CA_BUNDLE /nowhere/ca.pem"),
    ],
)
def test_a_malformed_feed_setting_is_refused_naming_it(field, value, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(**{field: value})


def test_a_certificate_file_without_a_private_key_is_refused(tmp_path: Path):
    not_a_key = tmp_path / "cert.pem"
    trustme.CA().cert_pem.write_to_path(str(not_a_key))
    with pytest.raises(SettingsError, match=r"is not a readable file holding an unencrypted PEM"):
        load_settings(**APP, incident_feed_certificate=not_a_key)


def test_blank_feed_settings_in_dot_env_are_unset(clean_environment: Path):
    (clean_environment / ".env").write_text(
        "INCIDENT_FEED_TENANT_ID=\nINCIDENT_FEED_CLIENT_SECRET=\nINCIDENT_FEED_URL=\n"
        "INCIDENT_FEED_TOKEN=\n",
        "utf-8",
    )
    settings = load_settings()
    assert settings.feed_url is None and not settings.feed_signs_in
