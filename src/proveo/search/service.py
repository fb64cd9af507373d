"""Search rules: query normalisation, filter resolution, a short-lived result cache."""

from __future__ import annotations

import asyncio
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

from proveo.core import metrics
from proveo.core.db import Connection, Database
from proveo.core.errors import Unprocessable
from proveo.search import analytics, repository
from proveo.search.schemas import Facets, Lang, SearchPage, SearchParams, Suggestion

MAX_WORDS = 16
# Search pages through the first results only, as large directories do: deeper pages cost the
# database a sort of everything before them and no reader goes there; narrowing the search does.
MAX_RESULT_DEPTH = 1_000
MAX_WORD_LENGTH = 64
# Letters that Unicode decomposition leaves alone but PostgreSQL's unaccent folds.
_FOLDS = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def normalise_query(text: str | None) -> str:
    """What the index stores for a text (`proveo.search_text`): no accents, lower case, words
    of letters and digits separated by one space. Anything else (quotes, tsquery operators,
    emoji, NUL) is a separator. Long queries keep their first words."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLDS))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = [word[:MAX_WORD_LENGTH] for word in _NOT_WORD.split(plain) if word]
    return " ".join(words[:MAX_WORDS])


T = TypeVar("T")


class ResultCache(Generic[T]):
    """Answers for identical searches within `ttl` seconds, in this process.

    The whole bound on staleness is the TTL (plus replica lag): with a TTL of 1 s a write is
    in every answer within the 2 s the rules allow, whichever process served it, so no
    cross-process invalidation is needed. Concurrent misses for one key share one load, so an
    expiring popular search costs one query, not one per waiting client. Bounded: the oldest
    entries go first.
    """

    def __init__(self, ttl: float = 1.0, max_entries: int = 2048) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._loading: dict[Hashable, asyncio.Future[T]] = {}

    def get(self, key: Hashable) -> T | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if time.monotonic() >= expires:
            del self._entries[key]
            return None
        return value

    def put(self, key: Hashable, value: T) -> None:
        if self.ttl <= 0:
            return
        self._entries[key] = (time.monotonic() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        found = self.get(key)
        if found is not None:
            return found
        pending = self._loading.get(key)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not pending.cancelled() or (task is not None and task.cancelling()):
                    raise
                return await load()  # the request that was loading went away: load for this one
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await load()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: nobody else may be waiting for it
            raise
        else:
            future.set_result(value)
            self.put(key, value)
            return value
        finally:
            del self._loading[key]

    def clear(self) -> None:
        self._entries.clear()


@dataclass
class SearchCaches:
    pages: ResultCache[SearchPage]
    counts: ResultCache[repository.MatchCounts]
    corrections: ResultCache[list[str]]
    filters: ResultCache[UUID | None]
    facets: ResultCache[Facets]
    suggestions: ResultCache[list[Suggestion]]

    @classmethod
    def create(cls, ttl: float = 1.0) -> SearchCaches:
        return cls(
            pages=ResultCache(ttl),
            counts=ResultCache(ttl),
            corrections=ResultCache(ttl),
            filters=ResultCache(ttl),
            facets=ResultCache(ttl),
            suggestions=ResultCache(ttl),
        )


def _unknown(field: str, what: str) -> Unprocessable:
    return Unprocessable(
        [{"loc": ["query", field], "msg": f"unknown {what}", "type": "unknown_" + what}]
    )


def _as_uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


async def resolve_commune(conn: Connection, value: str | None) -> UUID | None:
    """A commune named by uuid or by name (accents, case and punctuation ignored)."""
    if not value or not value.strip():
        return None
    as_uuid = _as_uuid(value.strip())
    if as_uuid is not None and await repository.select_commune_exists(conn, as_uuid):
        return as_uuid
    name = normalise_query(value)
    found = await repository.select_commune_uuid(conn, name) if name else None
    if found is None:
        raise _unknown("commune", "commune")
    return found


async def resolve_product(conn: Connection, value: str | None) -> UUID | None:
    """A product named by uuid or by its Spanish or English name."""
    if not value or not value.strip():
        return None
    as_uuid = _as_uuid(value.strip())
    if as_uuid is not None and await repository.select_product_exists(conn, as_uuid):
        return as_uuid
    name = normalise_query(value)
    found = await repository.select_product_uuid(conn, name) if name else None
    if found is None:
        raise _unknown("product", "product")
    return found


class PageTooDeep(Unprocessable):
    code = "page_too_deep"
    default_detail = (
        f"Search shows the first {MAX_RESULT_DEPTH} results (offset + limit at most "
        f"{MAX_RESULT_DEPTH}): narrow the search with more words, a commune or a product"
    )


@dataclass(frozen=True)
class SearchRequest:
    """The query string's values, as sent."""

    q: str | None
    commune: str | None
    product: str | None
    lang: Lang
    limit: int = 20
    offset: int = 0

    def key(self) -> tuple[object, ...]:
        """Identical for requests that must get the same answer (filters not yet resolved)."""
        return (
            normalise_query(self.q),
            _filter_key(self.commune),
            _filter_key(self.product),
            self.lang,
            self.limit,
            self.offset,
        )


def _filter_key(value: str | None) -> tuple[str, str] | None:
    """A filter's part of the cache key. A name that cleans to nothing (`\ufffd`, `!!!`) is
    an unknown filter, never the same key as no filter: it once got that answer from the cache.
    """
    if not value or not value.strip():
        return None
    as_uuid = _as_uuid(value.strip())
    if as_uuid is not None:
        return ("uuid", str(as_uuid))
    return ("name", normalise_query(value))


Resolve = Callable[[Connection, str | None], Awaitable[UUID | None]]


async def _params(conn: Connection, caches: SearchCaches, request: SearchRequest) -> SearchParams:
    async def resolved(
        kind: str,
        value: str | None,
        resolve: Callable[[Connection, str | None], Awaitable[UUID | None]],
    ) -> UUID | None:
        key = _filter_key(value)
        if key is None:
            return None
        # An unknown name raises, and errors are not cached.
        return await caches.filters.get_or_load((kind, key), lambda: resolve(conn, value))

    return SearchParams(
        q=normalise_query(request.q),
        commune=await resolved("commune", request.commune, resolve_commune),
        product=await resolved("product", request.product, resolve_product),
        lang=request.lang,
        limit=request.limit,
        offset=request.offset,
    )


# A cached answer needs no connection: the read transaction starts only on a miss.


async def search_companies(
    database: Database, caches: SearchCaches, recorder: object, request: SearchRequest
) -> SearchPage:
    async def count(
        conn: Connection, params: SearchParams, words: list[str]
    ) -> repository.MatchCounts:
        key = (tuple(words), params.commune, params.product)
        return await caches.counts.get_or_load(
            key, lambda: repository.count_matches(conn, params, words)
        )

    async def correct(conn: Connection, words: list[str]) -> list[str]:
        return await caches.corrections.get_or_load(
            tuple(words), lambda: repository.correct_words(conn, words)
        )

    async def load() -> SearchPage:
        async with database.read_transaction() as conn:
            return await repository.search(
                conn, await _params(conn, caches, request), count, correct
            )

    if request.offset + request.limit > MAX_RESULT_DEPTH:
        raise PageTooDeep()
    started = time.perf_counter()
    key = request.key()
    page = await caches.pages.get_or_load(key, load)
    metrics.search_answered("search", time.perf_counter() - started)
    q_normalised = str(key[0])
    if q_normalised and request.offset == 0:
        filtered = key[1] is not None or key[2] is not None
        analytics.record_search(recorder, q_normalised, page.total, filtered=filtered)
    return page


async def search_facets(database: Database, caches: SearchCaches, request: SearchRequest) -> Facets:
    async def load() -> Facets:
        async with database.read_transaction() as conn:
            return await repository.facets(conn, await _params(conn, caches, request))

    started = time.perf_counter()
    facets = await caches.facets.get_or_load(request.key(), load)
    metrics.search_answered("facets", time.perf_counter() - started)
    return facets


async def suggest(
    database: Database, caches: SearchCaches, q: str | None, lang: Lang
) -> list[Suggestion]:
    prefix = normalise_query(q)
    if not prefix:
        return []

    async def load() -> list[Suggestion]:
        async with database.read_transaction() as conn:
            return await repository.suggest(conn, prefix, lang)

    started = time.perf_counter()
    suggestions = await caches.suggestions.get_or_load((prefix, lang), load)
    metrics.search_answered("suggest", time.perf_counter() - started)
    return suggestions
