"""Search analytics: how often each normalised query is searched, and finds nothing, per UTC day.

`record_search` runs on every search and only adds to an in-process buffer: no I/O, no await,
never an exception. A background task flushes the buffer in one upsert every few seconds
(`SearchRecorder.start`), and `stop` flushes what is left at shutdown. Nothing about who
searched is kept: the key is (day, query text), the values are two counters.

Memory is bounded: at most `max_keys` distinct queries wait for a flush. A new query beyond
that is dropped (and counted in a warning); queries already waiting keep counting.

A query counts once per searcher and day (a digest of the client's address, kept in memory
only, for the day), so one client repeating a query cannot choose the front page's "Populares"
categories. Past `max_searchers` digests a day, searches count without that check.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime

import structlog

from proveo.admin import service as admin_service
from proveo.admin.schemas import SearchCount
from proveo.core.db import Database

log = structlog.get_logger(__name__)

FLUSH_SECONDS = 5.0
MAX_KEYS = 10_000
MAX_SEARCHERS = 200_000
# The stored query is cut to this many characters (the table's limit).
MAX_QUERY_CHARS = 200


def utc_today() -> date:
    return datetime.now(UTC).date()


class SearchRecorder:
    def __init__(
        self,
        database: Database,
        *,
        flush_seconds: float = FLUSH_SECONDS,
        max_keys: int = MAX_KEYS,
        max_searchers: int = MAX_SEARCHERS,
        today: Callable[[], date] = utc_today,
    ) -> None:
        self._database = database
        self._flush_seconds = flush_seconds
        self._max_keys = max_keys
        self._today = today
        # (day, query) -> [searches, zero-result searches]
        self._buffer: dict[tuple[date, str], list[int]] = {}
        self._dropped = 0
        self._max_searchers = max_searchers
        # (query, searcher digest) already counted today.
        self._seen_day: date | None = None
        self._seen: set[tuple[str, bytes]] = set()
        self._flushing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Distinct (day, query) counts waiting for the next flush."""
        return len(self._buffer)

    def record(
        self, query: str, total: int, *, filtered: bool = False, searcher: str | None = None
    ) -> None:
        """Count a search; as zero-result only when it had no commune or product filter (its
        words may well find companies elsewhere: no gap in the directory to report). With a
        `searcher` (the client's address), only its first search of this query today counts."""
        text = query.replace("\x00", "").strip()[:MAX_QUERY_CHARS].rstrip()
        if not text:
            return  # browsing without a query is not a search term
        today = self._today()
        if searcher is not None and not self._first_today(today, text, searcher):
            return
        key = (today, text)
        counts = self._buffer.get(key)
        if counts is None:
            if len(self._buffer) >= self._max_keys:
                self._dropped += 1
                return
            counts = self._buffer[key] = [0, 0]
        counts[0] += 1
        if total == 0 and not filtered:
            counts[1] += 1

    def _first_today(self, today: date, text: str, searcher: str) -> bool:
        if self._seen_day != today:
            self._seen_day, self._seen = today, set()
        digest = hashlib.blake2b(searcher.encode(), digest_size=8).digest()
        if (text, digest) in self._seen:
            return False
        if len(self._seen) < self._max_searchers:
            self._seen.add((text, digest))
        return True

    async def flush(self) -> int:
        """Write the buffered counts in one statement; the number of rows written.

        On a database error the counts go back into the buffer for the next flush (as room
        allows) and 0 is returned: analytics never fail anything else.
        """
        async with self._flushing:
            if not self._buffer:
                return 0
            batch, self._buffer = self._buffer, {}
            counts = [
                SearchCount(day=day, query=query, searches=searches, zero_results=zero)
                for (day, query), (searches, zero) in sorted(batch.items())
            ]
            try:
                async with self._database.transaction() as conn:
                    await admin_service.add_search_counts(conn, counts)
            except Exception as exc:
                self._put_back(batch)
                log.warning("search_stats_flush_failed", error=f"{type(exc).__name__}: {exc}")
                return 0
            if self._dropped:
                log.warning("search_stats_queries_dropped", queries=self._dropped)
                self._dropped = 0
            return len(counts)

    def _put_back(self, batch: dict[tuple[date, str], list[int]]) -> None:
        for key, (searches, zero) in batch.items():
            counts = self._buffer.get(key)
            if counts is None:
                if len(self._buffer) >= self._max_keys:
                    self._dropped += searches
                    continue
                counts = self._buffer[key] = [0, 0]
            counts[0] += searches
            counts[1] += zero

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._flush_periodically(), name="search-stats")

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._flush_seconds)
            # Stopping cancels this task: the shield lets a flush under way finish its batch.
            await asyncio.shield(self.flush())

    async def stop(self) -> None:
        """Stop the periodic flush, then flush what is left."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()


def record_search(
    recorder: object,
    q_normalised: str,
    total: int,
    *,
    filtered: bool = False,
    searcher: str | None = None,
) -> None:
    """Count one search. `recorder` is the `SearchRecorder` or the app's state holding it as
    `search_recorder`; without one, nothing is recorded. Never raises, never waits."""
    target = getattr(recorder, "search_recorder", recorder)
    if not isinstance(target, SearchRecorder):
        return
    try:
        target.record(q_normalised, total, filtered=filtered, searcher=searcher)
    except Exception:
        log.exception("search_stats_record_failed")
