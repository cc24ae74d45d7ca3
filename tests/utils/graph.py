"""A local Graph with its Entra, served over TLS (tests/utils/tls.py), an app registered in it,
and the settings that point the feed at them; Microsoft's published issues as fixtures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from devtools.local_graph import LocalGraph
from tests.utils.tls import local_tls

TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
SECRET = "Qh58Q~local-graph-client-secret-value"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "graph"


@dataclass
class GraphSite:
    graph: LocalGraph
    ca_bundle: Path

    def settings(self, **overrides) -> dict:
        """Settings of a feed that signs in with the app's secret, as the operator writes them."""
        return {
            "incident_feed_url": self.graph.issues_url,
            "incident_feed_tenant_id": TENANT_ID,
            "incident_feed_client_id": CLIENT_ID,
            "incident_feed_client_secret": SECRET,
            "incident_feed_authority_host": self.graph.authority_host,
            "incident_feed_ca_bundle": self.ca_bundle,
            "incident_feed_token": None,
            **overrides,
        }


async def start_graph_site(directory: Path) -> GraphSite:
    """A local Graph on https://127.0.0.1 with a certificate of a fresh test CA, whose bundle is
    written to `directory`; the app CLIENT_ID is registered in TENANT_ID with SECRET."""
    tls = local_tls(directory)
    graph = await LocalGraph().start(tls.server)
    graph.entra.register(TENANT_ID, CLIENT_ID, secret=SECRET)
    return GraphSite(graph, tls.ca_file)


def published_issues() -> list[dict]:
    """Microsoft's published serviceHealthIssue examples (tests/fixtures/graph/README.md)."""
    issues = list(fixture("graph-docs-list-issues.json")["value"])
    issues.append(fixture("graph-docs-get-servicehealthissue.json"))
    issues.append(fixture("cli-m365-healthissue-get.json"))
    issues.extend(fixture("cli-m365-health-get-issues.json")["issues"])
    return issues


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text("utf-8"))


def issue_changed_at(when: str, **fields) -> dict:
    """Microsoft's published EX226792 (Exchange Online), still open and last changed `when`:
    the variation of a published body the feed tests poll (with other ids where they need more
    issues)."""
    published = fixture("graph-docs-list-issues.json")["value"][0]
    return {
        **published,
        "status": "serviceDegradation",
        "isResolved": False,
        "endDateTime": None,
        "lastModifiedDateTime": when,
        **fields,
    }


class Sleeps:
    """Stands in for asyncio.sleep: records how long the code under test asked to wait (for a
    Retry-After), and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
