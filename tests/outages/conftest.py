"""What the outage flow tests share: the outbox rows and alerts an incident wrote, read back."""

from __future__ import annotations

import base64
import json

import pytest
from sqlmodel import select

from storage.models import IncidentAlert, OutboxMessage


class Written:
    """The outbox rows and alerts in the database, by key and partner."""

    def __init__(self, rows: list[OutboxMessage], alerts: list[IncidentAlert]) -> None:
        self.rows = {row.idempotency_key: row for row in rows}
        self.alerts = {alert.partner_id: alert for alert in alerts}

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(key for key in self.rows if key.startswith(prefix))

    def text(self, key: str) -> str:
        """What a person would read of a row: its text and its blocks."""
        payload = json.loads(self.rows[key].payload)
        return payload["text"] + json.dumps(payload["blocks"], ensure_ascii=False)

    def file(self, key: str) -> str:
        """The content of a file the row uploads."""
        return base64.b64decode(json.loads(self.rows[key].payload)["content_b64"]).decode()

    def changes(self, key: str) -> list[str]:
        return json.loads(self.rows[key].payload).get("_changes", [])


@pytest.fixture
def written(sessions):
    async def read() -> Written:
        async with sessions() as session:
            rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
            alerts = (await session.exec(select(IncidentAlert))).all()
        return Written(list(rows), list(alerts))

    return read
