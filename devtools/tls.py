"""A certificate for the local Microsoft stand-ins (MSAL signs in over https only): issued by a
fresh test CA (trustme, a test dependency) for 127.0.0.1 and localhost, the CA's bundle written
for clients. Used by the tests and by the benchmarks' local Microsoft."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class LocalTls:
    server: ssl.SSLContext  # what the local server serves with
    ca_file: Path  # what its clients trust (INCIDENT_FEED_CA_BUNDLE, PARTNER_CENTER_CA_FILE)


def local_tls(directory: Path) -> LocalTls:
    """A server context with a certificate of a new test CA, whose bundle goes to `directory`."""
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    ca_file = directory / "local-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    return LocalTls(server, ca_file)
