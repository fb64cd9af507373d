"""Each account's share of the image pipeline: one upload in progress, a number per hour.

Found by a review: one verified user sending 12 uploads at once raised another user's small
upload from 0.28 s to 13.9 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from proveo.config import Settings
from proveo.core.db import Connection
from proveo.imaging.schemas import AnalysedImage
from tests.companies.support import ScoredAnalyser, patch_mine, png, publish
from tests.factories import create_user, log_in


class GatedAnalyser(ScoredAnalyser):
    """The real pipeline, entered only once the test opens the gate."""

    def __init__(self) -> None:
        super().__init__(score=0.0)
        self.gate = asyncio.Event()
        self.waiting = 0
        self.arrived = asyncio.Event()

    async def analyse(self, data: bytes, *, request_id: str | None = None) -> AnalysedImage:
        self.waiting += 1
        self.arrived.set()
        await self.gate.wait()
        return await super().analyse(data, request_id=request_id)


@pytest.fixture
def analyser() -> GatedAnalyser:
    return GatedAnalyser()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"uploads_per_hour": 3})


@pytest.fixture
async def other_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.2", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        yield http


async def _until_waiting(analyser: GatedAnalyser, count: int) -> None:
    async with asyncio.timeout(15):
        while analyser.waiting < count:
            analyser.arrived.clear()
            await analyser.arrived.wait()


class TestUploadsInProgress:
    async def test_a_second_upload_while_the_first_is_processed_is_refused_at_once(
        self, client: httpx.AsyncClient, conn: Connection, analyser: GatedAnalyser
    ) -> None:
        session = await log_in(client, await create_user(conn))
        first = asyncio.create_task(publish(client, session, name="Primera"))
        await _until_waiting(analyser, 1)
        again = await publish(client, session, name="Segunda")
        assert again.status_code == 429
        assert again.json()["code"] == "upload_in_progress"
        assert int(again.headers["Retry-After"]) >= 1
        analyser.gate.set()
        assert (await first).status_code == 201

    async def test_another_account_is_not_held_up(
        self,
        client: httpx.AsyncClient,
        other_client: httpx.AsyncClient,
        conn: Connection,
        analyser: GatedAnalyser,
    ) -> None:
        mine = await log_in(client, await create_user(conn))
        theirs = await log_in(other_client, await create_user(conn))
        first = asyncio.create_task(publish(client, mine, name="Primera"))
        await _until_waiting(analyser, 1)
        other = asyncio.create_task(publish(other_client, theirs, name="Otra"))
        await _until_waiting(analyser, 2)  # admitted, not refused
        analyser.gate.set()
        assert (await first).status_code == 201
        assert (await other).status_code == 201


class TestUploadsPerHour:
    async def test_uploads_past_the_hourly_number_are_refused_with_retry_after(
        self, client: httpx.AsyncClient, conn: Connection, analyser: GatedAnalyser
    ) -> None:
        analyser.gate.set()
        session = await log_in(client, await create_user(conn))
        assert (await publish(client, session)).status_code == 201
        for _ in range(2):
            assert (await patch_mine(client, session, image=png())).status_code == 200
        refused = await patch_mine(client, session, image=png())
        assert refused.status_code == 429
        assert refused.json()["code"] == "too_many_uploads"
        assert 1 <= int(refused.headers["Retry-After"]) <= 3600
        # An edit without a new logo is no upload.
        assert (await patch_mine(client, session, name="Nuevo nombre")).status_code == 200
