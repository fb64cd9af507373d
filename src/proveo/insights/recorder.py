"""The insights recorder: profile views, search impressions and contact clicks, per company and
UTC day, counted in process and written in batches (the design of `search/analytics.py`).

Counting (`record`) only adds to an in-process buffer: no I/O, no await, never an exception. A
background task flushes the buffer in one upsert into `company_daily_stat` every few seconds
(`start`), and `stop` flushes what is left at shutdown. Nothing about who viewed or clicked is
kept: the key is (company uuid, day), the values are six counters. The uuid becomes the
company's id in the upsert itself, which also drops the counts of a company deleted meanwhile.

Memory is bounded: at most `max_keys` (company, day) pairs wait for a flush. A new pair beyond
that is dropped (and counted in a warning); pairs already waiting keep counting. A failed flush
puts its counts back (as room allows) for the next one.

One client counts once: given the `viewer` (the client's address), a counter of a company moves
at most once per viewer every `dedupe_seconds` (`PROVEO_INSIGHTS_DEDUPE_SECONDS`), so a
script reloading a competitor's page
cannot pump its figures. What is kept for that is an 8-byte digest per (counter, company,
viewer), in memory, for the current window only; past `max_seen` digests in a window, counts
that would need a new one are not made (an attacker cannot buy the check off by flooding it).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from enum import IntEnum
from uuid import UUID

import structlog

from proveo.core.db import Database
from proveo.insights import repository
from proveo.insights.schemas import ContactKind, DailyCount

log = structlog.get_logger(__name__)

FLUSH_SECONDS = 5.0
# About 200 bytes a pair: 50,000 pairs is 10 MB at most between two flushes.
MAX_KEYS = 50_000
# A viewer's view, appearance or click of a company counts once per window.
DEDUPE_SECONDS = 30 * 60
# About 70 bytes a digest: 10 MB at most.
MAX_SEEN = 150_000


class Counter(IntEnum):
    """A counter's place in a buffered pair's list."""

    VIEWS = 0
    IMPRESSIONS = 1
    PHONE = 2
    WHATSAPP = 3
    EMAIL = 4
    WEBSITE = 5


CONTACT_COUNTERS: dict[ContactKind, Counter] = {
    "phone": Counter.PHONE,
    "whatsapp": Counter.WHATSAPP,
    "email": Counter.EMAIL,
    "website": Counter.WEBSITE,
}


def utc_today() -> date:
    return datetime.now(UTC).date()


Key = tuple[UUID, date]


class InsightsRecorder:
    def __init__(
        self,
        database: Database,
        *,
        flush_seconds: float = FLUSH_SECONDS,
        max_keys: int = MAX_KEYS,
        max_seen: int = MAX_SEEN,
        dedupe_seconds: float = DEDUPE_SECONDS,
        today: Callable[[], date] = utc_today,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._database = database
        self._flush_seconds = flush_seconds
        self._max_keys = max_keys
        self._max_seen = max_seen
        self._dedupe_seconds = dedupe_seconds
        self._today = today
        self._clock = clock
        self._window = -1
        self._seen: set[bytes] = set()
        self._unchecked = 0
        self._buffer: dict[Key, list[int]] = {}
        self._dropped = 0
        self._flushing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Distinct (company, day) pairs waiting for the next flush."""
        return len(self._buffer)

    def record(
        self, counter: Counter, companies: Iterable[UUID], *, viewer: str | None = None
    ) -> None:
        """Add one to `counter` of each of `companies` (a company listed twice counts twice);
        with a `viewer`, only the companies it has not moved that counter of in this window."""
        day = self._today()
        if viewer is not None and self._dedupe_seconds > 0:
            companies = [c for c in companies if self._first_in_window(counter, c, viewer)]
        for company in companies:
            counts = self._buffer.get((company, day))
            if counts is None:
                if len(self._buffer) >= self._max_keys:
                    self._dropped += 1
                    continue
                counts = self._buffer[(company, day)] = [0] * len(Counter)
            counts[counter] += 1

    def _first_in_window(self, counter: Counter, company: UUID, viewer: str) -> bool:
        window = int(self._clock() // self._dedupe_seconds)
        if window != self._window:
            if self._unchecked:
                log.warning("insights_dedupe_full", counts_not_made=self._unchecked)
            self._window, self._seen, self._unchecked = window, set(), 0
        digest = hashlib.blake2b(
            f"{counter.value}|{company}|{viewer}".encode(), digest_size=8
        ).digest()
        if digest in self._seen:
            return False
        if len(self._seen) >= self._max_seen:
            self._unchecked += 1
            return False
        self._seen.add(digest)
        return True

    async def flush(self) -> int:
        """Write the buffered counts in one statement; the number of pairs written.

        On a database error the counts go back into the buffer for the next flush (as room
        allows) and 0 is returned: insights never fail anything else.
        """
        async with self._flushing:
            if not self._buffer:
                return 0
            batch, self._buffer = self._buffer, {}
            counts = [
                DailyCount(
                    company_uuid=company,
                    day=day,
                    views=values[Counter.VIEWS],
                    impressions=values[Counter.IMPRESSIONS],
                    phone_clicks=values[Counter.PHONE],
                    whatsapp_clicks=values[Counter.WHATSAPP],
                    email_clicks=values[Counter.EMAIL],
                    website_clicks=values[Counter.WEBSITE],
                )
                for (company, day), values in sorted(batch.items())
            ]
            try:
                async with self._database.transaction() as conn:
                    await repository.upsert_daily_counts(conn, counts)
            except Exception as exc:
                self._put_back(batch)
                log.warning("insights_flush_failed", error=f"{type(exc).__name__}: {exc}")
                return 0
            if self._dropped:
                log.warning("insights_counts_dropped", counts=self._dropped)
                self._dropped = 0
            return len(counts)

    def _put_back(self, batch: dict[Key, list[int]]) -> None:
        for key, values in batch.items():
            counts = self._buffer.get(key)
            if counts is None:
                if len(self._buffer) >= self._max_keys:
                    self._dropped += sum(values)
                    continue
                counts = self._buffer[key] = [0] * len(Counter)
            for index, value in enumerate(values):
                counts[index] += value

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._flush_periodically(), name="insights")

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
