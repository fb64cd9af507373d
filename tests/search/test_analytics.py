"""Search analytics: counted in process, written in batches, never in a search's way."""

from __future__ import annotations

import asyncio
from datetime import date
from uuid import uuid4

import structlog.testing
from fastapi import FastAPI

from proveo.core.db import Connection, Database
from proveo.search.analytics import MAX_QUERY_CHARS, SearchRecorder, record_search
from tests.fixtures.database import PinnedDatabase

STATS = "SELECT day, query, searches, zero_results FROM proveo.search_query_stat ORDER BY query"


def stored(rows: list[object]) -> dict[str, tuple[int, int]]:
    return {row["query"]: (row["searches"], row["zero_results"]) for row in rows}  # type: ignore[index]


class TestRecorder:
    async def test_counts_wait_in_memory_and_one_flush_writes_them_aggregated(
        self, conn: Connection
    ) -> None:
        recorder = SearchRecorder(PinnedDatabase(conn))
        for _ in range(300):
            record_search(recorder, "aseo industrial", 12)
        for _ in range(40):
            record_search(recorder, "gasfiter", 0)
        record_search(recorder, "gasfiter", 3)
        record_search(recorder, "   ", 0)  # no query: browsing, not a search term

        assert recorder.pending == 2
        assert await conn.fetch(STATS) == []  # nothing written on the search path

        assert await recorder.flush() == 2
        assert recorder.pending == 0
        assert stored(await conn.fetch(STATS)) == {
            "aseo industrial": (300, 0),
            "gasfiter": (41, 40),
        }
        record_search(recorder, "gasfiter", 0)
        await recorder.flush()  # the next batch adds to the day's counts
        assert stored(await conn.fetch(STATS))["gasfiter"] == (42, 41)

    async def test_a_filtered_search_without_results_is_no_zero_result_query(
        self, conn: Connection
    ) -> None:
        # Found by a newcomer: `abogados` with a commune filter listed it as a query that finds
        # nothing, when it has companies elsewhere.
        recorder = SearchRecorder(PinnedDatabase(conn))
        record_search(recorder, "abogados", 0, filtered=True)
        record_search(recorder, "abogados", 22)
        record_search(recorder, "zapateria", 0)
        await recorder.flush()
        assert stored(await conn.fetch(STATS)) == {"abogados": (2, 0), "zapateria": (1, 1)}

    async def test_a_searcher_counts_once_per_query_and_day(self, conn: Connection) -> None:
        """Found by the adversary: one client searching a word 80 times put its category first
        among the front page's "Populares"."""
        days = iter([date(2026, 12, 6)] * 4 + [date(2026, 12, 7)] * 2)
        recorder = SearchRecorder(PinnedDatabase(conn), today=lambda: next(days))
        for _ in range(3):
            record_search(recorder, "construccion", 10, searcher="203.0.113.9")
        record_search(recorder, "construccion", 10, searcher="198.51.100.4")
        record_search(recorder, "construccion", 10, searcher="203.0.113.9")  # the next day
        record_search(recorder, "construccion", 10, searcher="203.0.113.9")
        await recorder.flush()
        rows = await conn.fetch(
            "SELECT day, searches FROM proveo.search_query_stat WHERE query = 'construccion' "
            "ORDER BY day"
        )
        assert [(row["day"].day, row["searches"]) for row in rows] == [(6, 2), (7, 1)]

    async def test_keeps_a_row_per_utc_day(self, conn: Connection) -> None:
        day = date(2026, 11, 24)
        recorder = SearchRecorder(PinnedDatabase(conn), today=lambda: day)
        record_search(recorder, "imprenta", 1)
        day = date(2026, 11, 25)
        record_search(recorder, "imprenta", 1)
        await recorder.flush()
        rows = await conn.fetch(STATS)
        assert [(row["day"], row["searches"]) for row in rows] == [
            (date(2026, 11, 24), 1), (date(2026, 11, 25), 1),
        ]  # fmt: skip

    async def test_stores_no_ip_or_user_only_the_query_text_day_and_counts(
        self, conn: Connection
    ) -> None:
        columns = await conn.fetch(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'proveo' AND table_name = 'search_query_stat'"
        )
        assert {row["column_name"] for row in columns} == {
            "day", "query", "searches", "zero_results",
        }  # fmt: skip

    async def test_memory_is_bounded_new_queries_beyond_the_cap_are_dropped(
        self, conn: Connection
    ) -> None:
        recorder = SearchRecorder(PinnedDatabase(conn), max_keys=3)
        for query in ("a1", "b2", "c3", "d4", "e5"):
            record_search(recorder, query, 1)
        record_search(recorder, "a1", 0)  # a query already waiting keeps counting
        assert recorder.pending == 3
        with structlog.testing.capture_logs() as logs:
            await recorder.flush()
        assert stored(await conn.fetch(STATS)) == {"a1": (2, 1), "b2": (1, 0), "c3": (1, 0)}
        assert {
            "event": "search_stats_queries_dropped",
            "queries": 2,
            "log_level": "warning",
        } in logs

    async def test_long_queries_are_cut_and_nul_is_removed(self, conn: Connection) -> None:
        recorder = SearchRecorder(PinnedDatabase(conn))
        record_search(recorder, "x" * 1000, 0)
        record_search(recorder, "a\x00b", 0)
        await recorder.flush()
        assert sorted(stored(await conn.fetch(STATS))) == ["ab", "x" * MAX_QUERY_CHARS]

    async def test_a_database_failure_never_raises_and_the_counts_wait_for_the_next_flush(
        self,
    ) -> None:
        unreachable = Database("postgresql://nobody@127.0.0.1:9/none")  # never opened
        recorder = SearchRecorder(unreachable)
        record_search(recorder, "climatizacion", 0)
        with structlog.testing.capture_logs() as logs:
            assert await recorder.flush() == 0
        assert recorder.pending == 1
        assert logs[0]["event"] == "search_stats_flush_failed"

    def test_without_a_recorder_nothing_happens(self) -> None:
        record_search(None, "algo", 1)
        record_search(object(), "algo", 1)


class TestLifecycle:
    async def test_a_background_task_flushes_periodically(self, database: Database) -> None:
        query = f"paneles solares {uuid4().hex}"
        select = "SELECT searches FROM proveo.search_query_stat WHERE query = $1"
        recorder = SearchRecorder(database, flush_seconds=0.05)
        recorder.start()
        try:
            record_search(recorder, query, 5)
            async with database.transaction() as conn:
                for _ in range(200):
                    if await conn.fetchval(select, query):
                        break
                    await asyncio.sleep(0.05)
            record_search(recorder, query, 5)
        finally:
            await recorder.stop()  # flushes the second search
            async with database.transaction() as conn:
                searches = await conn.fetchval(select, query)
                await conn.execute("DELETE FROM proveo.search_query_stat WHERE query = $1", query)
        assert searches == 2

    async def test_the_app_records_into_its_state_and_flushes_on_shutdown(
        self, app: FastAPI, conn: Connection
    ) -> None:
        async with app.router.lifespan_context(app):
            record_search(app.state, "control de plagas", 0)
            assert await conn.fetch(STATS) == []
        assert stored(await conn.fetch(STATS)) == {"control de plagas": (1, 1)}
