"""Search rules: query normalisation, filter resolution, a short-lived result cache."""

from __future__ import annotations

import asyncio
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar
from uuid import UUID

from proveo.catalog.data import GREATER_SANTIAGO_AREA, REGION_METROPOLITANA, REGIONS
from proveo.core import metrics
from proveo.core.db import Connection, Database
from proveo.core.errors import Unprocessable
from proveo.insights import service as insights_service
from proveo.search import analytics, places, repository
from proveo.search.schemas import (
    FacetCount,
    Facets,
    Lang,
    Place,
    PopularProduct,
    RegionOffer,
    SearchPage,
    SearchParams,
    Suggestion,
)
from proveo.search.synonyms import expand

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

    def put(self, key: Hashable, value: T, ttl: float | None = None) -> None:
        ttl = self.ttl if ttl is None else ttl
        if ttl <= 0:
            return
        self._entries[key] = (time.monotonic() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def get_or_load(
        self,
        key: Hashable,
        load: Callable[[], Awaitable[T]],
        ttl: Callable[[T], float | None] = lambda value: None,
    ) -> T:
        """`ttl`: how long to keep what was loaded (None: the cache's TTL)."""
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
            self.put(key, value, ttl(value))
            return value
        finally:
            del self._loading[key]

    def clear(self) -> None:
        self._entries.clear()


# Counts and facets of more than `repository.COUNT_LIMIT` matches are estimates: a total that
# says "more than 1,000", tier sizes that only choose plans, facets scaled from a sample of
# 1,001 matches. A company published, edited or deleted moves them by less than their own
# error, so they need not follow it within the 2 s that exact answers keep (the pages listed
# with them are read again after the pages' own TTL). They are kept 30 times longer, because
# they are the dear ones: at 1,000,000 companies the facets of a common word in a region cost
# 10 ms of the database's time on average, and 200 requests a second of them would need both
# cores.
ESTIMATES_TTL_FACTOR = 30


@dataclass
class SearchCaches:
    pages: ResultCache[SearchPage]
    counts: ResultCache[repository.MatchCounts]
    corrections: ResultCache[list[str]]
    filters: ResultCache[UUID | None]
    facets: ResultCache[Facets]
    suggestions: ResultCache[list[Suggestion]]
    # A commune's name and region, the communes of an area: the catalogue's, cached as filters.
    places: ResultCache[Any]
    # The popular categories change slowly: a minute.
    popular: ResultCache[list[PopularProduct]]
    # How long counts and facets that are estimates are kept (`ESTIMATES_TTL_FACTOR`).
    estimates_ttl: float = 30.0

    def keep(self, exact: bool) -> float | None:
        """How long to keep an answer: an estimate `estimates_ttl`, else the cache's TTL."""
        return None if exact else self.estimates_ttl

    @classmethod
    def create(cls, ttl: float = 1.0) -> SearchCaches:
        return cls(
            pages=ResultCache(ttl),
            counts=ResultCache(ttl),
            corrections=ResultCache(ttl),
            filters=ResultCache(ttl),
            facets=ResultCache(ttl),
            suggestions=ResultCache(ttl),
            places=ResultCache(ttl),
            popular=ResultCache(ttl * 60),
            estimates_ttl=ttl * ESTIMATES_TTL_FACTOR,
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


def resolve_region(value: str | None) -> str | None:
    """One of the 16 regions, by its name, a short name or its slug (accents and case
    ignored): `metropolitana`, `Región de Valparaíso`, `los-rios`."""
    if not value or not value.strip():
        return None
    found = places.resolve_region(value, normalise_query)
    if found is None:
        regions = ", ".join(places.region_slug(region, normalise_query) for region in REGIONS)
        raise Unprocessable(
            [
                {
                    "loc": ["query", "region"],
                    "msg": f"unknown region; one of: {regions}",
                    "type": "unknown_region",
                }
            ]
        )
    return found


# A commune filter with fewer results than this offers the same search in its region.
FEW_RESULTS = 3


@dataclass(frozen=True)
class SearchRequest:
    """The query string's values, as sent."""

    q: str | None
    commune: str | None
    product: str | None
    lang: Lang
    limit: int = 20
    offset: int = 0
    region: str | None = None

    def key(self) -> tuple[object, ...]:
        """Identical for requests that must get the same answer (filters not yet resolved)."""
        return (
            normalise_query(self.q),
            _filter_key(self.commune),
            _filter_key(self.product),
            self.lang,
            self.limit,
            self.offset,
            _filter_key(self.region),
        )

    @property
    def filtered(self) -> bool:
        return any(_filter_key(v) is not None for v in (self.commune, self.product, self.region))


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


@dataclass(frozen=True)
class Resolved:
    """A request's search, and where it looks: the place filter (given, or read from the
    words) and a commune named among the words (which may be offered its region)."""

    params: SearchParams
    place: Place | None = None
    # The commune (name, region) whose region is offered when it has few results, and the
    # words of the offered search (the query without the commune's name).
    offer: tuple[str, str, str] | None = None


async def resolve_request(
    conn: Connection, caches: SearchCaches, request: SearchRequest
) -> Resolved:
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

    q = normalise_query(request.q)
    commune = await resolved("commune", request.commune, resolve_commune)
    product = await resolved("product", request.product, resolve_product)
    region = resolve_region(request.region)
    in_words: places.QueryPlaces | None = None
    if (commune is not None or region is not None) and q:
        # The filter says where: a place among the words (`contador gran santiago`, then the
        # region picked among the facets) is not also a word that nothing matches.
        in_words = places.read_places(q.split(), normalise_query)
        q = " ".join(in_words.words)
    area: tuple[UUID, ...] | None = None
    place: Place | None = None
    place_region: str | None = None
    offer: tuple[str, str, str] | None = None
    if commune is not None:
        name, commune_region = await caches.places.get_or_load(
            ("commune", commune), lambda: _commune_place(conn, commune)
        )
        place = Place(kind="commune", name=name)
        place_region = commune_region
        if region is None:
            offer = (name, commune_region, q)
    if region is not None:
        if place_region is not None and place_region != region:
            # Located in the commune and in another region: nothing is both, and the serving
            # companies would be those of the region, labelled as serving it.
            raise Unprocessable(
                [
                    {
                        "loc": ["query", "commune"],
                        "msg": f"{place.name if place else 'the commune'} is not in {region}",
                        "type": "commune_not_in_region",
                    }
                ]
            )
        place = Place(kind="region", name=region, slug=places.region_slug(region, normalise_query))
        place_region = region
    if commune is None and region is None and q:
        read = places.read_places(q.split(), normalise_query)
        if read.region is not None:
            region = place_region = read.region
            slug = places.region_slug(region, normalise_query)
            place = Place(kind="region", name=region, slug=slug, from_query=True)
        elif read.greater_santiago:
            area = await caches.places.get_or_load(
                ("area", "greater-santiago"),
                lambda: repository.select_area_communes(conn, GREATER_SANTIAGO_AREA),
            )
            place_region = REGION_METROPOLITANA
            place = Place(kind="greater_santiago", name="Gran Santiago", from_query=True)
        elif read.commune is not None:
            commune_region = places.commune_region(read.commune, normalise_query)
            if commune_region is not None:
                words = places.without_communes(read.words, normalise_query)
                offer = (read.commune, commune_region, " ".join(words))
        # Without the places it read as filters, and "santiago centro" as "santiago".
        q = " ".join(read.words)
    if place is not None and in_words is not None:
        # Another place typed while a filter holds (found by adversaries: the words' place went
        # unsaid): the filter wins, and the answer names the other one to offer it.
        if in_words.region is not None and in_words.region != place_region:
            update = {"words_place_kind": "region", "words_place_name": in_words.region}
            place = place.model_copy(update=update)
        elif in_words.greater_santiago and place_region != REGION_METROPOLITANA:
            update = {"words_place_kind": "greater_santiago", "words_place_name": "Gran Santiago"}
            place = place.model_copy(update=update)
    params = SearchParams(
        q=q,
        commune=commune,
        product=product,
        region=region,
        area=area,
        place_region=place_region,
        lang=request.lang,
        limit=request.limit,
        offset=request.offset,
    )
    return Resolved(params, place, offer)


async def _commune_place(conn: Connection, commune: UUID) -> tuple[str, str]:
    found = await repository.select_commune_place(conn, commune)
    if found is None:
        raise _unknown("commune", "commune")
    return found


# A cached answer needs no connection: the read transaction starts only on a miss.


def _counter(caches: SearchCaches) -> repository.CountMatches:
    """Counts from the cache, for one request."""
    completed: dict[tuple[str, ...], list[str]] = {}

    async def count(
        conn: Connection, params: SearchParams, words: list[str]
    ) -> repository.MatchCounts:
        key = (
            tuple(words),
            params.commune,
            params.product,
            params.region,
            params.area,
            params.place_region if params.scope == "serves" else None,
            repository.count_sample(params),
        )

        async def completions() -> list[str]:
            # Looked up once for the request's counts (a place's two scopes); not cached
            # longer, so that a word just published completes within the 2 s rule.
            if (terms := completed.get(tuple(words))) is None:
                terms = completed[tuple(words)] = await repository.query_words(conn, words)
            return terms

        async def load() -> repository.MatchCounts:
            return await repository.count_matches(conn, params, words, await completions())

        counts = await caches.counts.get_or_load(
            key, load, lambda counts: caches.keep(counts.exact)
        )
        if not counts.exact and words:
            # An estimate outlives the completions it was counted with: the pages read with
            # this request's.
            counts = replace(counts, query=tuple(await completions()))
        return counts

    return count


async def _corrected(conn: Connection, caches: SearchCaches, words: list[str]) -> list[str]:
    return await caches.corrections.get_or_load(
        tuple(words), lambda: repository.correct_words(conn, words)
    )


async def _offer(
    conn: Connection, caches: SearchCaches, resolved: Resolved, total: int
) -> RegionOffer | None:
    """The same search in the region of the commune it names, when that finds more: counted
    as search would count it (located and serving, the corrected words when the words as
    typed match nothing), up to `repository.COUNT_LIMIT`."""
    if resolved.offer is None or total >= FEW_RESULTS:
        return None
    commune, region, q = resolved.offer
    params = resolved.params.model_copy(
        update={"q": q, "commune": None, "region": region, "area": None, "place_region": region}
    )
    count = _counter(caches)

    async def in_region(words: list[str]) -> tuple[int, bool]:
        both = [
            await count(conn, params.model_copy(update={"scope": scope}), words)
            for scope in ("located", "serves")
        ]
        found = sum(counts.total for counts in both)
        exact = all(counts.exact for counts in both) and found <= repository.COUNT_LIMIT
        return min(found, repository.COUNT_LIMIT), exact

    words = params.words
    found, exact = await in_region(words)
    if found == 0 and words:
        corrected = await _corrected(conn, caches, words)
        if corrected != words:
            found, exact = await in_region(corrected)
    if found <= total:
        return None
    slug = places.region_slug(region, normalise_query)
    return RegionOffer(slug=slug, name=region, count=found, count_exact=exact, commune=commune, q=q)


async def search_companies(
    database: Database,
    caches: SearchCaches,
    recorder: object,
    request: SearchRequest,
    *,
    audience: insights_service.Visitor | None = None,
    searcher: str | None = None,
) -> SearchPage:
    """A page of results. Every page, cached or not, counts an impression for each company on
    it (unless a bot asked); the first page of a query also counts the search."""

    async def correct(conn: Connection, words: list[str]) -> list[str]:
        return await _corrected(conn, caches, words)

    async def read(conn: Connection) -> SearchPage:
        resolved = await resolve_request(conn, caches, request)
        page = await repository.search(conn, resolved.params, _counter(caches), correct)
        # Names similar to the query are no match of its words: the region may have them.
        found = 0 if page.match == "similar" else page.total
        if resolved.offer is not None and found < FEW_RESULTS:
            offer = await _offer(conn, caches, resolved, found)
            if offer is not None:
                page = page.model_copy(update={"region_offer": offer.slug})
        return page

    async def load() -> SearchPage:
        return await database.read_planned(read)

    if request.offset + request.limit > MAX_RESULT_DEPTH:
        raise PageTooDeep()
    started = time.perf_counter()
    key = request.key()
    page = await caches.pages.get_or_load(key, load)
    metrics.search_answered("search", time.perf_counter() - started)
    q_normalised = str(key[0])
    if q_normalised and request.offset == 0 and not (audience is not None and audience.bot):
        analytics.record_search(
            recorder, q_normalised, page.total, filtered=request.filtered, searcher=searcher
        )
    insights_service.record_impressions(recorder, audience, [hit.uuid for hit in page.items])
    return page


# Related categories offered when a search finds nothing.
RELATED_PRODUCTS = 5


async def search_facets(database: Database, caches: SearchCaches, request: SearchRequest) -> Facets:
    async def read(conn: Connection) -> Facets:
        resolved = await resolve_request(conn, caches, request)
        params = resolved.params
        found = await repository.facets(conn, params)
        update: dict[str, object] = {"place": resolved.place}
        if resolved.offer is not None or found.total == 0:
            # The facets counted the companies located there; those that serve the place
            # matter only when they are few (a region offer, or related categories for none).
            total = found.total
            if total < FEW_RESULTS and params.place_region:
                serving = params.model_copy(update={"scope": "serves"})
                words = params.words
                if found.match == "corrected":  # what search lists: the corrected words'
                    words = await _corrected(conn, caches, words)
                total += (await _counter(caches)(conn, serving, words)).total
            if resolved.offer is not None:
                found_words = 0 if found.match == "similar" else total
                update["region_offer"] = await _offer(conn, caches, resolved, found_words)
            if total == 0:
                related, with_query = await _related(conn, caches, params)
                update["related_products"] = related
                update["related_with_query"] = with_query
        return found.model_copy(update=update)

    async def load() -> Facets:
        return await database.read_planned(read)

    started = time.perf_counter()
    facets = await caches.facets.get_or_load(
        request.key(),
        load,
        lambda facets: caches.keep(facets.counts_exact),
    )
    metrics.search_answered("facets", time.perf_counter() - started)
    return facets


async def _related(
    conn: Connection, caches: SearchCaches, params: SearchParams
) -> tuple[list[FacetCount], bool]:
    """Categories where the same words find companies (anywhere, in any category), and True;
    when they find none, the popular categories, and False. A commune among the words is a
    place, not a word a category must match (found by the newcomer: `contador providencia`
    offered the popular categories, not Servicios contables)."""
    words = places.without_communes(params.words, normalise_query)
    if words and (params.product or params.place_region or len(words) < len(params.words)):
        unfiltered = SearchParams(q=" ".join(words), lang=params.lang)
        found = await repository.facets(conn, unfiltered)
        related = [p for p in found.products if p.uuid != params.product]
        if related:
            return related[:RELATED_PRODUCTS], True
    popular = await _popular(conn, caches, params.lang, RELATED_PRODUCTS + 1)
    return [
        FacetCount(uuid=p.uuid, name=p.name, count=p.companies)
        for p in popular
        if p.uuid != params.product
    ][:RELATED_PRODUCTS], False


# Popular categories: the most searched over these days, read from these many top queries.
POPULAR_DAYS = 30
POPULAR_QUERIES = 500
# The most popular categories anyone may ask for; read once per language and cached, whatever
# `limit` asks (each limit its own read let anyone make 24 reads a minute per worker).
MOST_POPULAR = 12


async def _read_popular(conn: Connection, lang: Lang) -> list[PopularProduct]:
    top = await repository.select_top_queries(conn, POPULAR_DAYS, POPULAR_QUERIES)
    queries = []
    for query, searches in top:
        # The category words only: places are not categories.
        read = places.read_places(query.split(), normalise_query)
        words = places.without_communes(read.words, normalise_query)
        if words:
            queries.append((expand(words), searches))
    return await repository.select_popular_products(conn, queries, lang, MOST_POPULAR)


async def _popular(
    conn: Connection, caches: SearchCaches, lang: Lang, limit: int
) -> list[PopularProduct]:
    popular = await caches.popular.get_or_load(lang, lambda: _read_popular(conn, lang))
    return popular[:limit]


async def popular_products(
    database: Database, caches: SearchCaches, lang: Lang, limit: int
) -> list[PopularProduct]:
    """The categories buyers search most (search statistics of the last 30 days), then those
    with most companies, then in the catalogue's order; only categories with companies."""

    async def load() -> list[PopularProduct]:
        return await database.read_planned(_read_popular, lang)

    return (await caches.popular.get_or_load(lang, load))[:limit]


async def suggest(
    database: Database, caches: SearchCaches, q: str | None, lang: Lang
) -> list[Suggestion]:
    prefix = normalise_query(q)
    if not prefix:
        return []

    async def load() -> list[Suggestion]:
        return await database.read_planned(repository.suggest, prefix, lang)

    started = time.perf_counter()
    suggestions = await caches.suggestions.get_or_load((prefix, lang), load)
    metrics.search_answered("suggest", time.perf_counter() - started)
    return suggestions
