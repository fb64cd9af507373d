"""SQL for search, over a plain asyncpg connection (bench/search.py runs these same functions).

Ranking is by tiers, each a small top-N the planner satisfies from an index: 0 the exact name,
1 a name prefix, 2 every word in the name, 3 every word in the name, product or commune,
4 every word anywhere (descriptions included); then the normalised name and the id. A company
appears at its best tier. Taking the first `offset + limit` rows of each tier is enough: any
company above a given one in the merged order is above it in that company's own tier too. And
when one tier alone holds `offset + limit` companies, the tiers below it cannot reach the page
and are not read: for a word most names start with, a page is a short walk of the name index.

The tsquery is built in SQL (`proveo.search_query`) from words the service already reduced to
[a-z0-9], each with its alternatives from the synonym groups (`search/synonyms.py`): user text
is never parsed as tsquery syntax. When nothing matches, misspelt words are
corrected against the vocabulary (`search_term`, trigram similarity) and the search runs again;
then, last, names similar to the whole query are listed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from proveo.core.db import Connection
from proveo.search.schemas import (
    FacetCount,
    Facets,
    SearchHit,
    SearchPage,
    SearchParams,
    Suggestion,
)
from proveo.search.synonyms import completions, expand

# A tier with at least this many companies is dense enough that walking the name index in
# order finds a page of matches within a few hundred rows; below it, sorting the tier's
# matches (a GIN bitmap) is cheaper, and never degenerates into a walk of the whole index.
DENSE_MATCHES = 3000
# The custom plan sees the words: the planner then estimates how common they are, which
# decides between the plans above (a generic plan would guess). The app's pools set it for the
# whole connection (`core.db.SERVER_SETTINGS`), which saves a round trip per search; these
# functions set it for the transaction they open themselves.
SET_CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"

# $1 words, $2 commune uuid, $3 product uuid.
_MATCH = "s.doc @@ proveo.search_query($1::text[])"
_FILTERS = """
  AND ($2::uuid IS NULL OR s.commune_id = (SELECT id FROM proveo.commune WHERE uuid = $2::uuid))
  AND ($3::uuid IS NULL OR s.product_id = (SELECT id FROM proveo.product WHERE uuid = $3::uuid))
"""

# The tiers' sizes come with the total at little extra cost (the rows are already read), and
# decide each tier's plan.
# $4 the whole query.
COUNT_MATCHES = f"""
SELECT count(*) AS total,
       count(*) FILTER (WHERE s.name_key LIKE $4::text || '%') AS in_prefix,
       count(*) FILTER (WHERE s.name_doc @@ proveo.search_query($1::text[])) AS in_name,
       count(*) FILTER (WHERE s.head_doc @@ proveo.search_query($1::text[])) AS in_head
FROM proveo.company_search s WHERE {_MATCH}{_FILTERS}
"""
COUNT_ALL = f"SELECT count(*) FROM proveo.company_search s WHERE $1::text[] IS NOT NULL{_FILTERS}"


def _tier(tier: int, condition: str, *, index_order: bool) -> str:
    # `name_key || ''` hides the index order from the planner: the tier's matches are found
    # through their GIN index and sorted, however common the planner guesses they are.
    order = "s.name_key, s.company_id" if index_order else "s.name_key || '', s.company_id"
    return f"""
    (SELECT s.company_id, {tier} AS tier, s.name_key FROM proveo.company_search s
     WHERE {condition}{_FILTERS} ORDER BY {order} LIMIT $4)"""


# $4 offset + limit (each tier's share), $5 offset, $6 limit, $7 lang, $8 the whole query.
_HIT = """
SELECT c.uuid, c.name,
       CASE WHEN $7::text = 'en' THEN coalesce(c.description_en, c.description_es)
            ELSE coalesce(c.description_es, c.description_en) END AS description,
       CASE WHEN $7::text = 'en' THEN p.name_en ELSE p.name_es END AS product_name,
       co.name AS commune_name, c.address, c.phone, c.email, c.image_key
FROM ranked r
JOIN proveo.company c ON c.id = r.company_id
JOIN proveo.product p ON p.id = c.product_id
JOIN proveo.commune co ON co.id = c.commune_id
ORDER BY r.position
"""


def _tiered_page(dense: tuple[bool, bool, bool], last_tier: int) -> str:
    in_name, in_head, anywhere = dense
    tiers = " UNION ALL".join(
        (
            # The name tiers hold matches only: a name that merely starts with the letters of
            # a short last word (`el`, no prefix below three letters) is no match, and the
            # count must hold every company the pages list.
            _tier(0, f"s.name_key = $8::text AND {_MATCH}", index_order=True),
            _tier(1, f"s.name_key LIKE $8::text || '%' AND {_MATCH}", index_order=True),
            _tier(2, "s.name_doc @@ proveo.search_query($1::text[])", index_order=in_name),
            _tier(3, "s.head_doc @@ proveo.search_query($1::text[])", index_order=in_head),
            _tier(4, _MATCH, index_order=anywhere),
        )[: last_tier + 1]
    )
    return f"""
WITH hits AS ({tiers}
),
best AS (
    SELECT company_id, min(tier) AS tier, name_key FROM hits GROUP BY company_id, name_key
),
ranked AS (
    SELECT company_id, row_number() OVER (ORDER BY tier, name_key, company_id) AS position
    FROM best ORDER BY tier, name_key, company_id OFFSET $5 LIMIT $6
)
{_HIT}"""


# One statement per combination of dense tiers (name, name + catalogue, anywhere) and of the
# last tier that can reach the page.
SELECT_PAGES = {
    ((in_name, in_head, anywhere), last_tier): _tiered_page((in_name, in_head, anywhere), last_tier)
    for in_name in (False, True)
    for in_head in (False, True)
    for anywhere in (False, True)
    for last_tier in (1, 2, 3, 4)
}

# No words: the directory in name order (filters only). $4 unused, kept for one signature.
SELECT_PAGE_ALL = f"""
WITH ranked AS (
    SELECT s.company_id,
           row_number() OVER (ORDER BY s.name_key, s.company_id) AS position
    FROM proveo.company_search s
    WHERE $4::int IS NOT NULL AND $8::text IS NOT NULL AND $1::text[] IS NOT NULL{_FILTERS}
    ORDER BY s.name_key, s.company_id OFFSET $5 LIMIT $6
)
{_HIT}"""

# Each word as it is when it is too short or too long to correct ($2) or the vocabulary knows
# it (the last word: as a prefix of a known word), else the most similar known word, else as it
# is. A long word has many trigrams, each an index lookup: it would cost much and find nothing.
CORRECT_WORDS = """
SELECT CASE WHEN char_length(w.word) NOT BETWEEN 3 AND $2::int THEN w.word ELSE coalesce(
    (SELECT t.term FROM proveo.search_term t
     WHERE t.term = w.word
        OR (w.n = cardinality($1::text[]) AND t.term LIKE w.word || '%')
     LIMIT 1),
    (SELECT t.term FROM proveo.search_term t
     WHERE t.term % w.word
     ORDER BY similarity(t.term, w.word) DESC, t.term LIMIT 1),
    w.word) END AS word
FROM unnest($1::text[]) WITH ORDINALITY AS w(word, n)
ORDER BY w.n
"""
MAX_CORRECTED_WORD = 20

# Names similar to a whole query: only a query as long as a name can be one (names have up to
# 100 characters), and the trigrams of a longer one cost seconds to look up at 100k companies.
MAX_SIMILAR_QUERY = 100
_SIMILAR = "s.name_key % $8::text"
COUNT_SIMILAR = f"""
SELECT count(*) FROM proveo.company_search s
WHERE s.name_key % $4::text AND $1::text[] IS NOT NULL{_FILTERS}
"""
SELECT_PAGE_SIMILAR = f"""
WITH ranked AS (
    SELECT s.company_id,
           row_number() OVER (ORDER BY similarity(s.name_key, $8::text) DESC, s.name_key,
                                       s.company_id) AS position
    FROM proveo.company_search s
    WHERE {_SIMILAR} AND $1::text[] IS NOT NULL AND $4::int IS NOT NULL{_FILTERS}
    ORDER BY similarity(s.name_key, $8::text) DESC, s.name_key, s.company_id
    OFFSET $5 LIMIT $6
)
{_HIT}"""

# $4 lang. Counts per commune and per product of the companies the search matches.
_FACETS = """
WITH matched AS (
    SELECT s.commune_id, s.product_id FROM proveo.company_search s
    WHERE {match}{filters}
),
communes AS (SELECT commune_id, count(*) AS n FROM matched GROUP BY commune_id),
products AS (SELECT product_id, count(*) AS n FROM matched GROUP BY product_id)
SELECT 'commune' AS kind, co.uuid, co.name, x.n AS count, proveo.fold(co.name) AS sort_key
FROM communes x JOIN proveo.commune co ON co.id = x.commune_id
UNION ALL
SELECT 'product', p.uuid, named.name, x.n, proveo.fold(named.name)
FROM products x JOIN proveo.product p ON p.id = x.product_id,
     LATERAL (SELECT CASE WHEN $4::text = 'en' THEN p.name_en ELSE p.name_es END AS name) named
-- Ties in the order of the catalogue's lists: accents folded, so Ñuñoa sits among the N's.
ORDER BY count DESC, sort_key, uuid
"""
SELECT_FACETS = _FACETS.format(match=_MATCH, filters=_FILTERS)
SELECT_FACETS_ALL = _FACETS.format(match="$1::text[] IS NOT NULL", filters=_FILTERS)
# $5 the whole query: the facets of the similar names that search lists when no word matches.
SELECT_FACETS_SIMILAR = _FACETS.format(
    match="s.name_key % $5::text AND $1::text[] IS NOT NULL", filters=_FILTERS
)

# $1 the normalised prefix, $2 lang, $3 limit, $4 the prefix's synonyms (`synonyms.completions`).
# Catalogue entries whose name (or one of its words) starts with it or holds one of its
# synonyms, and where some company is listed (a suggestion never leads to an empty page), then
# company names that start with it: up to $3 of each, `suggest` picks.
SELECT_SUGGESTIONS = """
WITH products AS (
    SELECT CASE WHEN $2::text = 'en' THEN p.name_en ELSE p.name_es END AS text, p.uuid, p.id
    FROM proveo.product p
),
-- A word of the name starts with the prefix or with one of its synonyms.
word_starts AS (
    SELECT '% ' || word || '%' AS pattern
    FROM unnest(array_prepend($1::text, $4::text[])) AS word
),
catalog AS (
    SELECT text, 'product' AS kind, uuid, 0 AS rank FROM products x
    WHERE ' ' || proveo.search_text(text) LIKE ANY (SELECT pattern FROM word_starts)
      AND EXISTS (SELECT 1 FROM proveo.company_search s WHERE s.product_id = x.id)
    UNION ALL
    SELECT co.name, 'commune', co.uuid, 1 FROM proveo.commune co
    WHERE ' ' || proveo.search_text(co.name) LIKE ANY (SELECT pattern FROM word_starts)
      AND EXISTS (SELECT 1 FROM proveo.company_search s WHERE s.commune_id = co.id)
),
companies AS (
    SELECT c.name AS text, 'company' AS kind, c.uuid, 2 AS rank, s.name_key
    FROM proveo.company_search s JOIN proveo.company c ON c.id = s.company_id
    WHERE s.name_key LIKE $1::text || '%'
    ORDER BY s.name_key, s.company_id
    LIMIT $3
)
SELECT text, kind, uuid FROM (
    (SELECT text, kind, uuid, rank, proveo.search_text(text) AS key FROM catalog
     ORDER BY rank, proveo.search_text(text) LIMIT $3)
    UNION ALL
    SELECT text, kind, uuid, rank, name_key FROM companies
) AS found
ORDER BY rank, key, uuid
"""


def _hits(rows: Sequence[asyncpg.Record]) -> list[SearchHit]:
    hits = []
    for row in rows:
        record = dict(row)
        image_key = record.pop("image_key")
        record["image_url"] = f"/images/{image_key}.webp" if image_key else None
        hits.append(SearchHit.model_validate(record))
    return hits


def _page_args(params: SearchParams, words: list[str]) -> tuple[object, ...]:
    return (
        expand(words),
        params.commune,
        params.product,
        params.offset + params.limit,
        params.offset,
        params.limit,
        params.lang,
        " ".join(words),
    )


@dataclass(frozen=True)
class MatchCounts:
    """How many companies a search's words match (within its filters): in all, and in the
    name and in the name, product or commune, whose sizes decide each tier's plan."""

    total: int
    in_prefix: int = 0
    in_name: int = 0
    in_head: int = 0

    def last_tier(self, rows: int) -> int:
        """The lowest tier that can hold one of the first `rows` companies: a tier at least
        that large fills them on its own (with the tiers above it)."""
        for tier, size in ((1, self.in_prefix), (2, self.in_name), (3, self.in_head)):
            if size >= rows:
                return tier
        return 4


async def count_matches(conn: Connection, params: SearchParams, words: list[str]) -> MatchCounts:
    """The counts for `words` (no words: the whole directory) within `params`' filters; the
    page and the language play no part."""
    if not words:
        total: int = await conn.fetchval(COUNT_ALL, words, params.commune, params.product)
        return MatchCounts(total)
    row = await conn.fetchrow(
        COUNT_MATCHES, expand(words), params.commune, params.product, " ".join(words)
    )
    assert row is not None
    return MatchCounts(row["total"], row["in_prefix"], row["in_name"], row["in_head"])


CountMatches = Callable[[Connection, SearchParams, list[str]], Awaitable[MatchCounts]]


async def _matches(
    conn: Connection, params: SearchParams, words: list[str], count: CountMatches
) -> SearchPage:
    counts = await count(conn, params, words)
    if counts.total == 0 or params.offset >= counts.total:
        return SearchPage(items=[], total=counts.total)
    dense = (
        counts.in_name >= DENSE_MATCHES,
        counts.in_head >= DENSE_MATCHES,
        counts.total >= DENSE_MATCHES,
    )
    query = SELECT_PAGES[dense, counts.last_tier(params.offset + params.limit)]
    rows = await conn.fetch(query, *_page_args(params, words))
    return SearchPage(items=_hits(rows), total=counts.total)


async def correct_words(conn: Connection, words: list[str]) -> list[str]:
    rows = await conn.fetch(CORRECT_WORDS, words, MAX_CORRECTED_WORD)
    return [row["word"] for row in rows]


CorrectWords = Callable[[Connection, list[str]], Awaitable[list[str]]]


async def _search(
    conn: Connection, params: SearchParams, count: CountMatches, correct: CorrectWords
) -> SearchPage:
    words = params.words
    if not words:
        counts = await count(conn, params, words)
        if params.offset >= counts.total:
            return SearchPage(items=[], total=counts.total)
        rows = await conn.fetch(SELECT_PAGE_ALL, *_page_args(params, words))
        return SearchPage(items=_hits(rows), total=counts.total)
    page = await _matches(conn, params, words, count)
    if page.total:
        return page
    corrected = await correct(conn, words)
    if corrected != words:
        found = await _matches(conn, params, corrected, count)
        if found.total:
            return found.model_copy(update={"match": "corrected", "corrected": " ".join(corrected)})
    whole = " ".join(words)
    if len(whole) > MAX_SIMILAR_QUERY:
        return SearchPage(items=[], total=0)
    total = await conn.fetchval(COUNT_SIMILAR, words, params.commune, params.product, whole)
    if total == 0 or params.offset >= total:
        return SearchPage(items=[], total=total, match="similar" if total else "words")
    rows = await conn.fetch(SELECT_PAGE_SIMILAR, *_page_args(params, words))
    return SearchPage(items=_hits(rows), total=total, match="similar")


async def search(
    conn: Connection,
    params: SearchParams,
    count: CountMatches = count_matches,
    correct: CorrectWords = correct_words,
) -> SearchPage:
    """One page of companies for `params` and how many match in all; `count` and `correct` may
    answer from a cache. In a transaction the caller opened, the connection must already plan
    with custom plans (`core.db.SERVER_SETTINGS`, as the app's pools do)."""
    if conn.is_in_transaction():
        return await _search(conn, params, count, correct)
    async with conn.transaction(readonly=True):
        await conn.execute(SET_CUSTOM_PLANS)
        return await _search(conn, params, count, correct)


async def _facets(conn: Connection, params: SearchParams) -> Facets:
    words = params.words
    query = SELECT_FACETS if words else SELECT_FACETS_ALL
    rows = await conn.fetch(query, expand(words), params.commune, params.product, params.lang)
    if not rows and words:
        corrected = await correct_words(conn, words)
        if corrected != words:
            rows = await conn.fetch(
                query, expand(corrected), params.commune, params.product, params.lang
            )
    whole = " ".join(words)
    if not rows and words and len(whole) <= MAX_SIMILAR_QUERY:
        # As search does last: the names similar to the whole query.
        rows = await conn.fetch(
            SELECT_FACETS_SIMILAR, words, params.commune, params.product, params.lang, whole
        )
    communes = [
        FacetCount(uuid=r["uuid"], name=r["name"], count=r["count"])
        for r in rows
        if r["kind"] == "commune"
    ]
    products = [
        FacetCount(uuid=r["uuid"], name=r["name"], count=r["count"])
        for r in rows
        if r["kind"] == "product"
    ]
    return Facets(total=sum(f.count for f in communes), communes=communes, products=products)


async def facets(conn: Connection, params: SearchParams) -> Facets:
    """Per commune and per product, how many companies the search (without paging) matches.
    In a caller's transaction, as for `search`."""
    if conn.is_in_transaction():
        return await _facets(conn, params)
    async with conn.transaction(readonly=True):
        await conn.execute(SET_CUSTOM_PLANS)
        return await _facets(conn, params)


# Of the suggestions, company names keep at least this many places when there are that many.
COMPANY_PLACES = 3
# Company names are completed from a later word only for prefixes this long: shorter ones begin
# a word of too many names. Nor for legal forms, which end half the names (`Ltda`, `SpA`).
MIN_NAME_WORD_PREFIX = 4
LEGAL_FORMS = ("ltda", "limitada", "spa", "eirl", "sociedad")

# $1 the normalised prefix, $2 how many. Names with a later word starting with it (every word
# of the prefix in the name, the last as a prefix). `|| ''`: the matches are collected from the
# GIN index and sorted; a walk of the name index would pass every name ordered before them.
SELECT_NAME_WORD_SUGGESTIONS = """
SELECT c.name AS text, c.uuid
FROM proveo.company_search s JOIN proveo.company c ON c.id = s.company_id
WHERE s.name_doc @@ proveo.search_query(string_to_array($1::text, ' '))
  AND s.name_key NOT LIKE $1::text || '%'
ORDER BY s.name_key || '', s.company_id
LIMIT $2
"""


def _completes_words_of_names(q: str) -> bool:
    last = q.rsplit(" ", 1)[-1]
    return len(q) >= MIN_NAME_WORD_PREFIX and not any(form.startswith(last) for form in LEGAL_FORMS)


async def suggest(conn: Connection, q: str, lang: str, limit: int = 8) -> list[Suggestion]:
    """Completions for a normalised prefix: products and communes first, then company names,
    which keep `COMPANY_PLACES` of the `limit` places however many catalogue entries match.
    Names that start with the prefix come first; when they are fewer than `COMPANY_PLACES`,
    names with a later word that starts with it follow (`abog` → Ibáñez & Lagos Abogados)."""
    if not q:
        return []
    rows = await conn.fetch(SELECT_SUGGESTIONS, q, lang, limit, completions(q))
    found = [Suggestion(text=r["text"], kind=r["kind"], uuid=r["uuid"]) for r in rows]
    companies = [s for s in found if s.kind == "company"]
    if len(companies) < COMPANY_PLACES and _completes_words_of_names(q):
        more = await conn.fetch(SELECT_NAME_WORD_SUGGESTIONS, q, COMPANY_PLACES - len(companies))
        companies += [Suggestion(text=r["text"], kind="company", uuid=r["uuid"]) for r in more]
    catalog = [s for s in found if s.kind != "company"]
    catalog = catalog[: limit - min(COMPANY_PLACES, len(companies))]
    return catalog + companies[: limit - len(catalog)]


async def select_commune_uuid(conn: Connection, name: str) -> UUID | None:
    """A commune by name, without accents, case or punctuation."""
    found: UUID | None = await conn.fetchval(SELECT_COMMUNE_UUID, name)
    return found


async def select_product_uuid(conn: Connection, name: str) -> UUID | None:
    """A product by its Spanish or English name, without accents, case or punctuation."""
    found: UUID | None = await conn.fetchval(SELECT_PRODUCT_UUID, name)
    return found


async def select_commune_exists(conn: Connection, commune_uuid: UUID) -> bool:
    return bool(await conn.fetchval(SELECT_COMMUNE_EXISTS, commune_uuid))


async def select_product_exists(conn: Connection, product_uuid: UUID) -> bool:
    return bool(await conn.fetchval(SELECT_PRODUCT_EXISTS, product_uuid))


SELECT_COMMUNE_UUID = """
SELECT uuid FROM proveo.commune WHERE proveo.search_text(name) = proveo.search_text($1::text)
ORDER BY id LIMIT 1
"""
SELECT_PRODUCT_UUID = """
SELECT uuid FROM proveo.product
WHERE proveo.search_text(name_es) = proveo.search_text($1::text)
   OR proveo.search_text(name_en) = proveo.search_text($1::text)
ORDER BY id LIMIT 1
"""
SELECT_COMMUNE_EXISTS = "SELECT EXISTS (SELECT 1 FROM proveo.commune WHERE uuid = $1)"
SELECT_PRODUCT_EXISTS = "SELECT EXISTS (SELECT 1 FROM proveo.product WHERE uuid = $1)"
