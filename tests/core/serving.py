"""The app under test on a real loopback socket, served by uvicorn in the test's own loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from proveo.cli import uvicorn_config
from proveo.config import Settings


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


@asynccontextmanager
async def served(app: FastAPI, settings: Settings) -> AsyncIterator[int]:
    """The app on a loopback port, run by uvicorn exactly as `proveo serve` configures it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn_config(app, settings)
    config.timeout_graceful_shutdown = 2  # a failed test's open requests must not hang it
    server = _Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        await asyncio.wait_for(server.ready.wait(), timeout=10)
        yield listener.getsockname()[1]
    finally:
        server.should_exit = True
        await serving
        listener.close()
