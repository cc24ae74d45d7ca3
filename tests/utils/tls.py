"""The local Microsoft stand-ins' TLS for the tests (devtools/tls.py), and a client trusting it."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp

from devtools.tls import LocalTls, local_tls

__all__ = ["LocalTls", "local_tls", "trusting_session"]


def trusting_session(ca_file: Path) -> aiohttp.ClientSession:
    """An HTTP client that trusts the local CA of `ca_file` (and nothing else)."""
    trusted = ssl.create_default_context(cafile=str(ca_file))
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusted))
