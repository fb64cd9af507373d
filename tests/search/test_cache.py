"""The result cache: identical searches within the TTL share one answer and one load, and the
pages of one search share its count, corrections and filters."""

from __future__ import annotations

import asyncio

import pytest

from proveo.core.db import Connection
from proveo.search import repository
from proveo.search.service import (
    ResultCache,
    SearchCaches,
    SearchRequest,
    search_companies,
    search_facets,
)
from tests.fixtures.database import PinnedDatabase
from tests.fixtures.recording import RecordingConnection
from tests.search.conftest import add_company


async def test_concurrent_misses_share_one_load() -> None:
    cache: ResultCache[int] = ResultCache(ttl=1.0)
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.05)
        return 42

    results = await asyncio.gather(*(cache.get_or_load("q", load) for _ in range(32)))
    assert results == [42] * 32
    assert loads == 1
    assert await cache.get_or_load("q", load) == 42
    assert loads == 1


async def test_an_answer_expires_after_the_ttl() -> None:
    cache: ResultCache[int] = ResultCache(ttl=0.05)
    cache.put("q", 1)
    assert cache.get("q") == 1
    await asyncio.sleep(0.06)
    assert cache.get("q") is None


async def test_a_failed_load_is_not_cached_and_reaches_every_waiter() -> None:
    cache: ResultCache[int] = ResultCache(ttl=1.0)

    async def fail() -> int:
        await asyncio.sleep(0.01)
        raise ValueError("boom")

    outcomes = await asyncio.gather(
        *(cache.get_or_load("q", fail) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(outcome, ValueError) for outcome in outcomes)
    assert cache.get("q") is None


async def test_waiters_load_themselves_when_the_loading_request_is_cancelled() -> None:
    cache: ResultCache[int] = ResultCache(ttl=1.0)
    started = asyncio.Event()

    async def slow() -> int:
        started.set()
        await asyncio.sleep(10)
        return 1

    async def quick() -> int:
        return 2

    loader = asyncio.create_task(cache.get_or_load("q", slow))
    await started.wait()
    waiter = asyncio.create_task(cache.get_or_load("q", quick))
    await asyncio.sleep(0)
    loader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loader
    assert await waiter == 2


def test_the_oldest_entries_go_first() -> None:
    cache: ResultCache[int] = ResultCache(ttl=10, max_entries=2)
    for key in ("a", "b", "c"):
        cache.put(key, 1)
    assert [cache.get(key) for key in ("a", "b", "c")] == [None, 1, 1]


async def test_the_pages_of_a_search_share_its_count_correction_and_filters(
    conn: Connection,
) -> None:
    for index in range(3):
        await add_company(conn, f"Grúas Andinas {index}", commune_name="Santiago")
    recording = RecordingConnection(conn)
    database = PinnedDatabase(recording.as_connection())
    caches = SearchCaches.create()
    pages = []
    for offset in range(3):
        request = SearchRequest(q="gruaz", commune="santiago", product=None, lang="es",
                                limit=1, offset=offset)  # fmt: skip
        pages.append(await search_companies(database, caches, None, request))
    assert [page.total for page in pages] == [3, 3, 3]
    assert len({page.items[0].uuid for page in pages}) == 3
    ran = recording.sql
    assert ran.count(repository.CORRECT_WORDS) == 1
    # The misspelt words, then the corrected, each in the commune and among those serving it.
    assert ran.count(repository.COUNT_MATCHES) == 4
    assert ran.count(repository.SELECT_COMMUNE_UUID) == 1
    assert ran.count(repository.SELECT_COMMUNE_PLACE) == 1


async def _three_cranes_and_short_lived_answers(
    conn: Connection,
) -> tuple[RecordingConnection, PinnedDatabase, SearchCaches]:
    """Three companies that match `gruas`, and caches whose exact answers expire after 50 ms
    and whose estimates outlive the test."""
    for index in range(3):
        await add_company(conn, f"Grúas Andinas {index}", commune_name="Santiago")
    recording = RecordingConnection(conn)
    caches = SearchCaches.create(ttl=0.05)
    caches.estimates_ttl = 60
    return recording, PinnedDatabase(recording.as_connection()), caches


@pytest.mark.parametrize(("count_limit", "kept"), [(10, False), (2, True)])
async def test_facets_that_are_estimates_are_kept_longer(
    conn: Connection, monkeypatch: pytest.MonkeyPatch, count_limit: int, kept: bool
) -> None:
    # Past `COUNT_LIMIT` matches facets are counted on a sample: estimates, kept for
    # `estimates_ttl`; exact facets expire with the other answers.
    monkeypatch.setattr(repository, "COUNT_LIMIT", count_limit)
    recording, database, caches = await _three_cranes_and_short_lived_answers(conn)
    request = SearchRequest(q="gruas", commune=None, product=None, lang="es", limit=20, offset=0)
    first = await search_facets(database, caches, request)
    assert first.counts_exact is not kept
    await asyncio.sleep(0.1)
    assert await search_facets(database, caches, request) == first
    assert recording.sql.count(repository.SELECT_FACETS) == (1 if kept else 2)


async def test_an_estimated_count_is_kept_longer_and_its_pages_complete_words_afresh(
    conn: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "COUNT_LIMIT", 2)
    recording, database, caches = await _three_cranes_and_short_lived_answers(conn)
    request = SearchRequest(q="grua", commune=None, product=None, lang="es", limit=20, offset=0)
    first = await search_companies(database, caches, None, request)
    assert not first.total_exact
    # A word published after the count: the pages find it with the count kept.
    await add_company(conn, "Gruassur", commune_name="Santiago")
    await asyncio.sleep(0.1)
    second = await search_companies(database, caches, None, request)
    assert "Gruassur" in {hit.name for hit in second.items}
    assert len(second.items) == 4
    assert recording.sql.count(repository.COUNT_MATCHES) == 1
