"""A database that a test can take down and bring back: a TCP proxy in front of PostgreSQL, or a
SQLite file in a folder that vanishes and reappears."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from sqlalchemy.engine import make_url


class TcpProxy:
    """Forwards loopback connections to a server; `down()` drops them all and refuses new ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader, writer) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream_writer}

        async def pipe(source, sink) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


class DatabaseSwitch:
    """Gives a database URL for the backend under test whose database can be switched off."""

    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self._database_url = make_url(database_url)
        self._folder = tmp_path / "switchable"
        self._proxy: TcpProxy | None = None
        self.url = ""

    async def __aenter__(self) -> DatabaseSwitch:
        if self._database_url.get_backend_name() == "postgresql":
            self._proxy = TcpProxy(self._database_url.host or "127.0.0.1",
                                   self._database_url.port or 5432)  # fmt: skip
            await self._proxy.up()
            self.url = self._database_url.set(
                host="127.0.0.1", port=self._proxy.port
            ).render_as_string(hide_password=False)
        else:
            self._folder.mkdir()
            self.url = f"sqlite+aiosqlite:///{self._folder / 'bot.db'}"
        return self

    async def __aexit__(self, *_exc) -> None:
        if self._proxy is not None:
            await self._proxy.down()

    async def down(self) -> None:
        if self._proxy is not None:
            await self._proxy.down()
        else:
            shutil.rmtree(self._folder)

    async def up(self) -> None:
        if self._proxy is not None:
            await self._proxy.up()
        else:
            self._folder.mkdir()
