from __future__ import annotations

import asyncio
import time

import pytest
import structlog

from proveo.core import cache as cache_module
from proveo.core.cache import REPLY_TIMEOUT, Cache


class TestSlowRedis:
    async def test_a_silent_redis_costs_a_cache_read_its_own_deadline(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The client allows REPLY_TIMEOUT (the limiter needs it); a cache read gives up sooner."""
        connections: list[asyncio.StreamWriter] = []

        async def accept_and_say_nothing(_: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            connections.append(w)

        server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        cache = Cache.from_url(f"redis://127.0.0.1:{port}/0")
        monkeypatch.setattr(cache_module, "log", structlog.get_logger("cache-test"))
        try:
            with structlog.testing.capture_logs() as logs:
                started = time.monotonic()
                assert await cache.get_bytes("k") is None
                elapsed = time.monotonic() - started
            assert elapsed < REPLY_TIMEOUT / 2
            assert [entry["event"] for entry in logs] == [
                "redis_unavailable_using_in_process_cache"
            ]
            await cache.set_bytes("k", b"v")  # skipped Redis: kept in process at once
            assert await cache.get_bytes("k") == b"v"
        finally:
            await cache.close()
            for writer in connections:
                writer.close()
            server.close()
            await server.wait_closed()
