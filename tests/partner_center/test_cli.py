"""`python -m bot partner connect` and `partner sync` as an operator runs them."""

from __future__ import annotations

from sqlmodel import select

from storage.models import Subscription
from tests.test_cli import run_bot
from tests.utils.factories import make_partner
from tests.utils.partner_center import CLIENT_ID, KEY, SECRET, TENANT, subscription

C1 = "11111111-aaaa-4bbb-8ccc-000000000001"


def pc_environment(local_pc) -> dict[str, str]:
    return {
        "PARTNER_CENTER_KEY": KEY,
        "PARTNER_CENTER_AUTHORITY": local_pc.url,
        "PARTNER_CENTER_API_URL": local_pc.url,
        "PARTNER_CENTER_CA_FILE": str(local_pc.ca_file),
    }


async def test_connect_from_a_secret_file_then_sync(local_pc, database_url, sessions, tmp_path):
    partner = await make_partner(sessions)
    account = local_pc.account(TENANT, CLIENT_ID, SECRET)
    account.add_customer(C1, "Contoso", "contoso.onmicrosoft.com")
    account.subscriptions[C1].append(subscription("s-1", quantity=7))
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET + "\n")
    env = pc_environment(local_pc)

    code, _, err = await run_bot(
        "partner", "connect", "--team-id", partner.team_id, "--tenant", TENANT,
        "--client-id", CLIENT_ID, "--client-secret-file", str(secret_file),
        database_url=database_url, cwd=tmp_path, **env,
    )  # fmt: skip
    assert code == 0, err
    assert "connected to Partner Center" in err and SECRET not in err
    code, _, err = await run_bot(
        "partner", "sync", "--team-id", partner.team_id,
        database_url=database_url, cwd=tmp_path, **env,
    )  # fmt: skip
    assert code == 0, err
    assert "1 added" in err
    async with sessions() as session:
        (row,) = (await session.exec(select(Subscription))).all()
    assert (row.external_id, row.seats) == ("s-1", 7)


async def test_connect_without_the_key_or_with_a_wrong_secret_is_one_line(
    local_pc, database_url, sessions, tmp_path
):
    partner = await make_partner(sessions)
    local_pc.account(TENANT, CLIENT_ID, SECRET)
    env = pc_environment(local_pc)
    args = (
        "partner", "connect", "--team-id", partner.team_id, "--tenant", TENANT,
        "--client-id", CLIENT_ID, "--client-secret-file", "-",
    )  # fmt: skip

    no_key = await run_bot(
        *args, database_url=database_url, cwd=tmp_path, stdin=SECRET,
        **{**env, "PARTNER_CENTER_KEY": ""},
    )  # fmt: skip
    wrong = await run_bot(*args, database_url=database_url, cwd=tmp_path, stdin="nope", **env)

    assert no_key[0] == 1 and no_key[2].startswith("error: PARTNER_CENTER_KEY is not set")
    assert wrong[0] == 1 and "error: Microsoft Entra refused the secret" in wrong[2]
    assert len(wrong[2].strip().splitlines()) == 1


async def test_an_admins_refresh_token_is_checked_then_stored_sealed(
    local_pc, engine, database_url, sessions, tmp_path
):
    from bot.partner_center.sealing import sealer, unseal
    from bot.settings import load_settings
    from storage.models import PartnerCenterConnection
    from tests.utils.partner_center import connected, services_for

    partner = await make_partner(sessions)
    services = services_for(local_pc, engine, database_url)
    account = await connected(services, local_pc, partner.id)
    services.app_tokens.close()
    env = pc_environment(local_pc)
    token_file = tmp_path / "token.txt"
    token_file.write_text("not-a-refresh-token\n")
    args = ("partner", "consent", "--team-id", partner.team_id)

    code, _, err = await run_bot(
        *args, "--refresh-token-file", str(token_file),
        database_url=database_url, cwd=tmp_path, **env,
    )  # fmt: skip
    assert code == 1 and "Microsoft Entra gave no token for it (invalid_grant" in err
    assert "not-a-refresh-token" not in err

    refresh_token = local_pc.entra.consent_user(account.app, "admin@northwind.example")
    token_file.write_text(refresh_token + "\n")
    code, _, err = await run_bot(
        *args, "--refresh-token-file", str(token_file),
        database_url=database_url, cwd=tmp_path, **env,
    )  # fmt: skip
    assert code == 0, err
    assert "consent is stored" in err and refresh_token not in err
    async with sessions() as session:
        stored = await session.get(PartnerCenterConnection, partner.id)
    assert refresh_token not in stored.sealed_user_token
    keys = sealer(
        load_settings(partner_center_key=KEY, database_url=database_url).partner_center_key
    )
    # Kept: the newer refresh token Entra handed out when it was checked.
    kept = unseal(keys, stored.sealed_user_token)
    assert (
        kept != refresh_token
        and local_pc.entra.refresh_tokens[kept][1] == "admin@northwind.example"
    )
