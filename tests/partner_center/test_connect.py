"""Connecting, throttling, refusals: what the partner is told, and what is stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlmodel import select

from bot.entra import AppTokens
from bot.partner_center.connect import ConnectForm, ConnectProblem, connect
from bot.partner_center.sealing import SealingError, seal, sealer, unseal
from bot.partner_center.sync import sync_due_partners, sync_partner
from storage.models import Customer, PartnerCenterConnection, Subscription
from tests.utils.factories import make_partner
from tests.utils.partner_center import (
    CLIENT_ID,
    KEY,
    SECRET,
    TENANT,
    connected,
    services_for,
    subscription,
)  # fmt: skip

C1 = "11111111-aaaa-4bbb-8ccc-000000000001"


async def test_the_secret_is_stored_sealed_and_opens_with_the_key(pc_services, local_pc, sessions):
    partner = await make_partner(sessions)
    await connected(pc_services, local_pc, partner.id)

    async with sessions() as session:
        (row,) = (await session.exec(select(PartnerCenterConnection))).all()
    assert SECRET not in row.sealed_secret
    assert unseal(sealer(SecretStr(KEY)), row.sealed_secret) == SECRET
    # A new key in front of the old one: old secrets still open, new ones use the new key.
    rotated = sealer(SecretStr(f"{Fernet.generate_key().decode()},{KEY}"))
    assert unseal(rotated, row.sealed_secret) == SECRET
    with pytest.raises(SealingError, match="cannot be opened"):
        unseal(sealer(SecretStr(Fernet.generate_key().decode())), row.sealed_secret)
    assert unseal(rotated, seal(rotated, "x")) == "x"


async def test_connecting_without_the_key_is_refused_saying_how_to_make_one(
    local_pc, engine, database_url, sessions
):
    services = services_for(local_pc, engine, database_url, partner_center_key="")
    partner = await make_partner(sessions)
    local_pc.account(TENANT, CLIENT_ID, SECRET)

    with pytest.raises(SealingError, match="PARTNER_CENTER_KEY is not set.*Fernet.generate_key"):
        await connect(
            services, partner_id=partner.id, form=ConnectForm(TENANT, CLIENT_ID, SECRET), by="U1"
        )
    services.app_tokens.close()


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        (ConnectForm("not a tenant", CLIENT_ID, SECRET), "tenant", "Directory (tenant) ID"),
        (ConnectForm(TENANT, "12345", SECRET), "client_id", "Application (client) ID"),
        (ConnectForm(TENANT, CLIENT_ID, ""), "secret", "Value"),
        (ConnectForm(TENANT, CLIENT_ID, SECRET, "MPN-1"), "mpn_id", "a number"),
        (ConnectForm(TENANT, CLIENT_ID, "wrong-secret"), "secret", "AADSTS7000215"),
        (ConnectForm(TENANT, "0" * 8 + CLIENT_ID[8:], SECRET), "secret", "AADSTS700016"),
    ],
)
async def test_bad_details_are_refused_beside_their_field_and_nothing_is_stored(
    pc_services, local_pc, sessions, form, field, words
):
    partner = await make_partner(sessions)
    local_pc.account(TENANT, CLIENT_ID, SECRET)

    with pytest.raises(ConnectProblem) as refused:
        await connect(pc_services, partner_id=partner.id, form=form, by="U1")

    assert refused.value.field == field and words in str(refused.value)
    async with sessions() as session:
        assert (await session.exec(select(PartnerCenterConnection))).all() == []


async def test_a_429_is_waited_out_within_the_budget(pc_services, local_pc, sessions):
    partner = await make_partner(sessions)
    account = await connected(pc_services, local_pc, partner.id)
    account.add_customer(C1, "Contoso", "contoso.onmicrosoft.com")
    account.subscriptions[C1].append(subscription("s-1"))
    local_pc.throttle(2, retry_after=1)

    outcome = await sync_partner(pc_services, partner.id)

    assert outcome.problem is None and outcome.report.added == 1
    assert [path for _, path in local_pc.requests].count("/v1/customers?size=100") == 3


async def test_429s_past_the_budget_change_nothing(pc_services, local_pc, sessions):
    partner = await make_partner(sessions)
    account = await connected(pc_services, local_pc, partner.id)
    account.add_customer(C1, "Contoso", "contoso.onmicrosoft.com")
    account.subscriptions[C1].append(subscription("s-1"))
    local_pc.throttle(1, retry_after=57)  # Microsoft's example; the budget here is 5 seconds

    outcome = await sync_partner(pc_services, partner.id)

    assert outcome.report is None
    assert "kept asking partnerbot to slow down" in outcome.problem
    async with sessions() as session:
        assert (await session.exec(select(Customer))).all() == []
        assert (await session.exec(select(Subscription))).all() == []


async def test_an_expired_secret_says_to_make_a_new_one(
    pc_services, local_pc, sessions, engine, database_url
):
    partner = await make_partner(sessions)
    account = await connected(pc_services, local_pc, partner.id)
    account.app.secrets = {"the-new-secret"}  # the old one expired in Microsoft Entra
    restarted = services_for(local_pc, engine, database_url)  # no token cached any more

    outcome = await sync_partner(restarted, partner.id)
    restarted.app_tokens.close()

    assert "refused the app's client secret (AADSTS7000215" in outcome.problem
    assert "Certificates & secrets" in outcome.problem


async def test_the_schedule_syncs_a_due_partner_once(pc_services, local_pc, sessions):
    partner = await make_partner(sessions)
    account = await connected(pc_services, local_pc, partner.id)
    account.add_customer(C1, "Contoso", "contoso.onmicrosoft.com")
    now = pc_services.clock()
    pc_services.clock = lambda: now + timedelta(seconds=1)

    first = await sync_due_partners(pc_services)
    second = await sync_due_partners(pc_services)  # claimed: due again in 60 minutes

    assert (first, second) == (1, 0)
    pc_services.clock = lambda: now + timedelta(minutes=61)
    assert await sync_due_partners(pc_services) == 1


def test_app_credentials_never_print_their_secret():
    from bot.entra import AppCredentials

    assert SECRET not in repr(AppCredentials("https://x", TENANT, CLIENT_ID, SECRET))
    assert SECRET not in repr(ConnectForm(TENANT, CLIENT_ID, SECRET))
    AppTokens().close()


async def test_the_sync_job_is_scheduled_only_with_a_key(local_pc, engine, database_url):
    from bot.scheduler import jobs_for

    with_key = services_for(local_pc, engine, database_url)
    without = services_for(local_pc, engine, database_url, partner_center_key="")

    for job_id in ("partner-center-sync", "partner-center-orders"):
        assert job_id in [job.id for job in jobs_for(with_key)]
        assert job_id not in [job.id for job in jobs_for(without)]
