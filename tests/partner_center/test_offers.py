"""Microsoft's published examples read as the sync reads them."""

from __future__ import annotations

from datetime import date

import pytest

from bot.catalogue import BUILT_IN
from bot.partner_center.api import next_page
from bot.partner_center.offers import (
    BadRecord,
    plan_for,
    read_customer,
    read_subscription,
)
from tests.utils.partner_center import fixture


def test_the_published_customer_list_reads_as_two_customers():
    customers = [read_customer(item) for item in fixture("customers.json")["items"]]

    assert [(c.id, c.name, c.domain) for c in customers] == [
        ("b44bb1fb-c595-45b0-9e09-d657365580bf", "companyName", "domain"),
        ("45c44870-ef77-4fdd-b6fe-3dacb075cff2", "companyName", "domain"),
    ]


def test_the_published_legacy_subscription_reads_despite_its_spaced_dates():
    (item,) = fixture("subscriptions.json")["items"]

    legacy = read_subscription(item, BUILT_IN)

    # No offerId or offerName: kept under the offer id of its `links.offer` (dashes dropped, 16
    # characters), shown by its friendly name.
    assert (legacy.plan_code, legacy.offer_name) == ("0CCA44D668E94762", "nickname")
    assert (legacy.start_date, legacy.renewal_date) == (date(2015, 11, 24), date(2016, 12, 12))
    assert (legacy.seats, legacy.status, legacy.auto_renew) == (1, "active", False)
    assert BUILT_IN.get(legacy.plan_code) is None


def test_the_published_new_commerce_business_basic_maps_to_the_catalogue_plan():
    nce = read_subscription(fixture("subscription_nce_business_basic.jsonc"), BUILT_IN)

    assert nce.plan_code == "M365-BB"
    assert (nce.status, nce.billing_cycle, nce.term) == ("cancelled", "monthly", "P1Y")
    assert nce.commitment_end_date == date(2022, 1, 13)
    assert nce.auto_renew is True and nce.reseller_id == ""


def test_an_offer_no_plan_matches_is_kept_by_its_product_and_name():
    marketplace = read_subscription(fixture("subscription_marketplace_deleted.json"), BUILT_IN)

    assert (marketplace.plan_code, marketplace.offer_name) == ("DZH318Z0BXWC", "offer Name")
    assert marketplace.status == "cancelled"
    assert marketplace.start_date == date(2019, 1, 9)


@pytest.mark.parametrize(
    ("offer_id", "offer_name", "code"),
    [
        ("CFQ7TTC0LDPB:0001:X", "", "M365-BS"),
        ("CFQ7TTC0LCHC:0002:X", "", "M365-BP"),
        ("", "Microsoft 365 E5", "M365-E5"),
        ("", "exchange online (plan 1)", "EXO-P1"),
        ("", "Office 365 E3", "O365-E3"),
        ("", "Dynamics 365 Sales", None),
    ],
)
def test_offers_map_by_product_id_then_by_name(offer_id, offer_name, code):
    assert plan_for(offer_id, offer_name, BUILT_IN) == code


def test_a_trial_and_a_suspension_and_an_indirect_reseller():
    base = fixture("subscription_nce_business_basic.jsonc")

    trial = read_subscription({**base, "status": "active", "isTrial": True}, BUILT_IN)
    suspended = read_subscription({**base, "status": "suspended"}, BUILT_IN)
    indirect = read_subscription({**base, "partnerId": "4812345"}, BUILT_IN)

    assert (trial.status, suspended.status, indirect.reseller_id) == (
        "trial", "suspended", "4812345",
    )  # fmt: skip


def test_a_subscription_without_quantity_or_start_is_refused_with_its_id():
    base = fixture("subscription_nce_business_basic.jsonc")

    with pytest.raises(BadRecord, match="a4c1340d.* no quantity"):
        read_subscription({**base, "quantity": None}, BUILT_IN)
    with pytest.raises(BadRecord, match="no start date"):
        read_subscription({**base, "effectiveStartDate": "", "creationDate": None}, BUILT_IN)


def test_the_published_next_link_gives_its_continuation_token():
    uri, headers = next_page({"links": fixture("links_next.json")})

    assert uri.endswith("&seekOperation=Next")
    assert headers == {"MS-ContinuationToken": "AQAAAA=="}
    assert next_page({"links": {"self": fixture("links_next.json")["self"]}}) is None
