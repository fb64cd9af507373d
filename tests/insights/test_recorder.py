"""The insights recorder: counts in memory, one upsert per flush, bounded, never losing counts
to a failed flush, flushed at stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from uuid import UUID, uuid4

from proveo.core.db import Connection, Database
from proveo.insights.recorder import DEDUPE_SECONDS, Counter, InsightsRecorder
from tests.factories import create_company, create_user
from tests.fixtures.database import PinnedDatabase
from tests.fixtures.recording import RecordingConnection
from tests.insights.support import stored

DAY = date(2026, 12, 7)


class FailingDatabase(Database):
    def __init__(self) -> None:
        super().__init__("postgresql://nowhere")
        self.attempts = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        self.attempts += 1
        raise OSError("connection refused")
        yield  # pragma: no cover


class RecordingDatabase(PinnedDatabase):
    """The test's connection, with every statement written down."""

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self.recording = RecordingConnection(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with super().transaction():
            yield self.recording  # type: ignore[misc]


async def _company(conn: Connection) -> UUID:
    return (await create_company(conn, (await create_user(conn)).id)).uuid


class TestBuffer:
    def test_counts_add_up_per_company_and_day(self) -> None:
        recorder = InsightsRecorder(FailingDatabase(), today=lambda: DAY)
        a, b = uuid4(), uuid4()
        recorder.record(Counter.VIEWS, [a])
        recorder.record(Counter.VIEWS, [a])
        recorder.record(Counter.IMPRESSIONS, [a, b, b])
        assert recorder.pending == 2

    def test_memory_is_bounded_new_pairs_dropped_waiting_ones_still_count(self) -> None:
        recorder = InsightsRecorder(FailingDatabase(), max_keys=2, today=lambda: DAY)
        a, b, c = uuid4(), uuid4(), uuid4()
        recorder.record(Counter.IMPRESSIONS, [a, b, c])
        recorder.record(Counter.VIEWS, [a])
        assert recorder.pending == 2
        assert recorder._buffer[(a, DAY)][Counter.VIEWS] == 1
        assert (c, DAY) not in recorder._buffer

    def test_a_viewer_moves_a_counter_of_a_company_once_per_window(self) -> None:
        now = [0.0]
        recorder = InsightsRecorder(FailingDatabase(), today=lambda: DAY, clock=lambda: now[0])
        a, b = uuid4(), uuid4()
        for _ in range(5):
            recorder.record(Counter.VIEWS, [a], viewer="203.0.113.9")
        recorder.record(Counter.PHONE, [a], viewer="203.0.113.9")  # another counter
        recorder.record(Counter.VIEWS, [a], viewer="198.51.100.1")  # another viewer
        recorder.record(Counter.VIEWS, [b], viewer="203.0.113.9")  # another company
        now[0] = DEDUPE_SECONDS  # the next window
        recorder.record(Counter.VIEWS, [a], viewer="203.0.113.9")
        assert recorder._buffer[(a, DAY)][Counter.VIEWS] == 3
        assert recorder._buffer[(a, DAY)][Counter.PHONE] == 1
        assert recorder._buffer[(b, DAY)][Counter.VIEWS] == 1

    def test_past_the_bound_of_viewers_nothing_new_counts(self) -> None:
        recorder = InsightsRecorder(FailingDatabase(), max_seen=2, today=lambda: DAY)
        a = uuid4()
        for n in range(5):
            recorder.record(Counter.VIEWS, [a], viewer=f"203.0.113.{n}")
        assert recorder._buffer[(a, DAY)][Counter.VIEWS] == 2

    def test_a_new_day_is_a_new_pair(self) -> None:
        days = iter([DAY, DAY + timedelta(days=1)])
        recorder = InsightsRecorder(FailingDatabase(), today=lambda: next(days))
        company = uuid4()
        recorder.record(Counter.VIEWS, [company])
        recorder.record(Counter.VIEWS, [company])
        assert recorder.pending == 2


class TestFlush:
    async def test_one_statement_writes_every_pair_and_adds_to_stored_counts(
        self, conn: Connection
    ) -> None:
        a, b = await _company(conn), await _company(conn)
        database = RecordingDatabase(conn)
        recorder = InsightsRecorder(database, today=lambda: DAY)
        recorder.record(Counter.VIEWS, [a, a])
        recorder.record(Counter.IMPRESSIONS, [a, b])
        recorder.record(Counter.WHATSAPP, [b])
        assert await recorder.flush() == 2
        assert len(database.recording.statements) == 1
        assert recorder.pending == 0
        recorder.record(Counter.VIEWS, [a])
        await recorder.flush()
        assert await stored(conn, a) == {
            "views": 3, "impressions": 1, "phone_clicks": 0, "whatsapp_clicks": 0,
            "email_clicks": 0, "website_clicks": 0,
        }  # fmt: skip
        assert (await stored(conn, b))["whatsapp_clicks"] == 1
        assert await recorder.flush() == 0  # nothing waiting: no statement
        assert len(database.recording.statements) == 2

    async def test_a_company_gone_since_is_left_out(self, conn: Connection) -> None:
        company = await _company(conn)
        recorder = InsightsRecorder(PinnedDatabase(conn), today=lambda: DAY)
        recorder.record(Counter.VIEWS, [company, uuid4()])
        assert await recorder.flush() == 2
        assert (await stored(conn, company))["views"] == 1
        assert await conn.fetchval("SELECT count(*) FROM proveo.company_daily_stat") == 1

    async def test_a_failed_flush_puts_the_counts_back_for_the_next(self, conn: Connection) -> None:
        company = await _company(conn)
        failing = FailingDatabase()
        recorder = InsightsRecorder(failing, today=lambda: DAY)
        recorder.record(Counter.EMAIL, [company, company])
        assert await recorder.flush() == 0
        assert failing.attempts == 1
        recorder.record(Counter.EMAIL, [company])
        assert recorder._buffer[(company, DAY)][Counter.EMAIL] == 3
        recorder._database = PinnedDatabase(conn)
        assert await recorder.flush() == 1
        assert (await stored(conn, company))["email_clicks"] == 3

    async def test_counts_put_back_respect_the_bound(self) -> None:
        failing = FailingDatabase()
        recorder = InsightsRecorder(failing, max_keys=1, today=lambda: DAY)
        a, b = uuid4(), uuid4()
        recorder.record(Counter.VIEWS, [a, a])
        batch, recorder._buffer = recorder._buffer, {}
        recorder.record(Counter.VIEWS, [b])  # arrived while the batch was being written
        recorder._put_back(batch)
        assert list(recorder._buffer) == [(b, DAY)]
        assert recorder._dropped == 2


class TestLifecycle:
    async def test_flushes_periodically_and_at_stop(self, conn: Connection) -> None:
        company = await _company(conn)
        recorder = InsightsRecorder(PinnedDatabase(conn), flush_seconds=0.05, today=lambda: DAY)
        recorder.start()
        try:
            recorder.record(Counter.VIEWS, [company])
            for _ in range(100):
                if recorder.pending == 0 and not recorder._flushing.locked():
                    break
                await asyncio.sleep(0.02)
            assert recorder.pending == 0
            assert (await stored(conn, company))["views"] == 1
            recorder.record(Counter.PHONE, [company])
        finally:
            await recorder.stop()
        assert recorder.pending == 0
        assert (await stored(conn, company))["phone_clicks"] == 1

    async def test_stop_without_start_still_flushes(self, conn: Connection) -> None:
        company = await _company(conn)
        recorder = InsightsRecorder(PinnedDatabase(conn), today=lambda: DAY)
        recorder.record(Counter.WEBSITE, [company])
        await recorder.stop()
        assert (await stored(conn, company))["website_clicks"] == 1
