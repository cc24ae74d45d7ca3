"""What `partner add` accepts: Slack ids cleaned up, bad values refused naming their option."""

from __future__ import annotations

import pytest

from bot.errors import UserError
from bot.partners.flows import registration


def register(**changes):
    values = {
        "name": "Northwind Cloud",
        "team_id": "T0123ABCD",
        "alert_channel": "C0ALERTS1",
        "manager_channel": "C0MGRS01",
        "orders_channel": None,
        "timezone": "Europe/Berlin",
        "managers": None,
    }
    return registration(**(values | changes))


def test_a_valid_registration_is_returned_as_given():
    result = register(orders_channel="C0ORDERS1", managers="U01,U02")
    assert result.name == "Northwind Cloud"
    assert result.team_id == "T0123ABCD"
    assert result.alert_channel == "C0ALERTS1"
    assert result.manager_channel == "C0MGRS01"
    assert result.orders_channel == "C0ORDERS1"
    assert result.timezone == "Europe/Berlin"
    assert result.managers == ["U01", "U02"]


def test_ids_are_cleaned_to_upper_case_without_spaces():
    result = register(
        team_id=" t0123abcd ", alert_channel="c0alerts1 ", manager_channel=" g0private",
        orders_channel="c0orders1", managers=" u01abc , w02def ",
    )  # fmt: skip
    assert result.team_id == "T0123ABCD"
    assert result.alert_channel == "C0ALERTS1"
    assert result.manager_channel == "G0PRIVATE"
    assert result.orders_channel == "C0ORDERS1"
    assert result.managers == ["U01ABC", "W02DEF"]


def test_an_enterprise_grid_workspace_id_is_accepted():
    assert register(team_id="E0123ABCD").team_id == "E0123ABCD"


def test_the_name_has_its_spaces_collapsed():
    assert register(name="  Northwind   Cloud \t").name == "Northwind Cloud"


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_an_empty_or_too_long_name_is_refused(name):
    with pytest.raises(UserError, match=r"^NAME must be 1 to 200 characters"):
        register(name=name)


def test_a_name_of_exactly_200_characters_is_accepted():
    assert register(name="x" * 200).name == "x" * 200


@pytest.mark.parametrize("team_id", ["", "C0123ABCD", "T", "T01-23", "T0123 ABCD", "T" + "1" * 32])
def test_a_bad_workspace_id_is_refused_naming_team_id(team_id):
    with pytest.raises(UserError, match=r"^--team-id .* is not a Slack workspace id"):
        register(team_id=team_id)


@pytest.mark.parametrize(
    ("option", "bad"),
    [
        ("alert_channel", "#alerts"),
        ("alert_channel", "U0123ABCD"),
        ("manager_channel", ""),
        ("manager_channel", "C01 23"),
        ("orders_channel", "orders-team"),
    ],
)
def test_a_bad_channel_id_is_refused_naming_its_option(option, bad):
    flag = "--" + option.replace("_", "-")
    with pytest.raises(UserError, match=rf"^{flag} '.*' is not a Slack channel id"):
        register(**{option: bad})


def test_a_missing_orders_channel_stays_none():
    assert register(orders_channel=None).orders_channel is None


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "Berlin", "", "CEST"])
def test_an_unknown_time_zone_is_refused_naming_timezone(timezone):
    with pytest.raises(UserError, match=r"^--timezone .* is not an IANA time zone"):
        register(timezone=timezone)


def test_utc_is_a_time_zone():
    assert register(timezone="UTC").timezone == "UTC"


@pytest.mark.parametrize("managers", ["U01,bob", "C0123ABCD", "U01,,@jane"])
def test_a_bad_manager_id_is_refused_naming_managers(managers):
    with pytest.raises(UserError, match=r"^--managers: .* is not a Slack user id"):
        register(managers=managers)


def test_managers_are_deduplicated_keeping_their_order():
    # "u02" and "U02 " are the same person after cleaning.
    assert register(managers="U03,u02,U01,U02 ,U03").managers == ["U03", "U02", "U01"]


def test_no_managers_is_an_empty_list():
    assert register(managers=None).managers == []
    assert register(managers=" , ").managers == []
