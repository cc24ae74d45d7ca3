"""The local Microsoft servers' limits: a bucket of calls per caller refilled at its rate, and a
Partner Center that answers a partner past its limit 429 with Retry-After in whole seconds."""

from __future__ import annotations

from devtools.microsoft_limits import CallLimit, retry_after
from tests.utils.partner_center import CLIENT_ID, SECRET, TENANT
from tests.utils.tls import trusting_session


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_limit_lets_its_burst_through_then_says_how_long_to_wait():
    clock = Clock()
    limit = CallLimit(per_minute=60, burst=3, clock=clock)

    assert [limit.wait("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limit.wait("a") == 1.0  # one call a second
    assert limit.wait("b") == 0.0  # each caller has its own bucket
    clock.now += 0.5
    assert limit.wait("a") == 0.5
    clock.now += 0.5
    assert limit.wait("a") == 0.0
    clock.now += 3600  # a quiet hour refills the burst, no more
    assert [limit.wait("a") for _ in range(4)][-1] == 1.0
    assert limit.refused == 3
    assert retry_after(0.2) == "1" and retry_after(1.0) == "1" and retry_after(1.01) == "2"


async def test_partner_center_throttles_each_partner_past_its_limit(local_pc):
    local_pc.account(TENANT, CLIENT_ID, SECRET)
    local_pc.limit = CallLimit(per_minute=60, burst=2)
    async with trusting_session(local_pc.ca_file) as http:
        async with http.post(
            f"{local_pc.url}/{TENANT}/oauth2/v2.0/token",
            data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                  "client_secret": SECRET,
                  "scope": "https://api.partnercenter.microsoft.com/.default"},
        ) as response:  # fmt: skip
            token = (await response.json())["access_token"]
        statuses, answers = [], []
        for _ in range(3):
            async with http.get(
                f"{local_pc.url}/v1/customers?size=10",
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                statuses.append(response.status)
                answers.append((response.headers.get("Retry-After"), await response.json()))
        # Without a valid token there is no partner to count: 401, not 429.
        async with http.get(f"{local_pc.url}/v1/customers?size=10") as response:
            anonymous = response.status

    assert statuses == [200, 200, 429]
    assert answers[2] == (
        "1",
        {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 1 seconds."},
    )
    assert anonymous == 401
