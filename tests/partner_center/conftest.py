from __future__ import annotations

import pytest

from tests.utils.partner_center import services_for


@pytest.fixture
def pc_services(local_pc, engine, database_url, sessions):
    services = services_for(local_pc, engine, database_url)
    yield services
    services.app_tokens.close()
