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
from typing import Literal, TypeVar
from uuid import UUID

import asyncpg

from proveo.core.db import PLANNED_READ, Connection, plans_for_parameters, read_block
from proveo.search.schemas import (
    FacetCount,
    Facets,
    PopularProduct,
    RegionCount,
    SearchHit,
    SearchPage,
    SearchParams,
    Suggestion,
)
from proveo.search.synonyms import (
    GROUP_ENTRIES,
    MIN_COMPLETION_PREFIX,
    completions,
    expand,
    grouped,
)

T = TypeVar("T")

# A tier is walked in name order when its matches are dense enough in the name index that the
# walk finds the page within fewer rows than sorting the tier's matches (a GIN bitmap) would
# take: reading `rows / density` names against sorting `size` matches, with a name read
# costing about WALK_ROW_COST matches sorted. At 100,000 companies and a first page (20 rows)
# the line is about 3,000 matches (as measured then); at 1,000,000, about 9,500; never a walk
# of the whole index for a rare word.
WALK_ROW_COST = 4.5
# Without table statistics (a table never analysed): the 100,000-company line.
DENSE_MATCHES = 3000
# The custom plan sees the words: the planner then estimates how common they are, which
# decides between the plans above (a generic plan would guess). The app reads search through
# `Database.read_planned`, whose connections plan that way for the whole session; on another
# connection these functions set it for the transaction they open themselves.

# $1 words; the filters: $2 commune id, $3 product id (any of a company's categories), $4
# region, $5 area (commune ids: Greater Santiago; one lexeme in the tsquery, migration
# 20261207_1600), $6 the region served. Without $6 the place filters ($2, $4, $5) select the
# companies located there; with it, the companies that serve region $6 (`served_regions`) and
# are not located there. A custom plan sees which parameters are null and drops their
# conditions, and sees the ids themselves: looked up inside the statement, they were unknown
# to the planner, which then guessed 2,890 companies in Santiago and 5,000 in Construcción
# (117,000 and 164,000 at 1,000,000) and sorted instead of walking.
# With words, the filters are lexemes of the words' tsquery (`proveo.search_query_in`, migration
# 20261207_1300): the word index intersects the words' matches with the place's and the
# category's by itself (at 1,000,000 companies `contabilidad` in Valparaíso ANDed a bitmap of
# the word's 45,128 entries with the region's 114,278: 43 ms; 8.7 ms now), and the planner's
# statistics on the lexemes tell how common the combination is. Without words, the columns
# (`_FILTERS`) select the rows, walked in name order by their btree indexes.
_MATCH = """s.doc @@ proveo.search_query_in(
    $1::text[], $2::bigint, $3::bigint, $4::text, $5::bigint[], $6::text)"""
_LOCATED = """(
    ($2::bigint IS NULL OR s.commune_id = $2::bigint)
    AND ($4::text IS NULL OR s.region = $4::text)
    AND ($5::bigint[] IS NULL OR s.commune_id = ANY($5::bigint[])))"""
_PLACE = f"""
  AND CASE WHEN $6::text IS NULL THEN {_LOCATED}
           ELSE s.served_regions @> ARRAY[$6::text] AND NOT {_LOCATED} END
"""
_FILTERS = f"""
  AND ($3::bigint IS NULL OR s.product_ids @> ARRAY[$3::bigint]){_PLACE}"""
# The same filters on `company_search_category` (one row per company and category, `s` too),
# for a category: its btree indexes give the category's companies in a place in name order;
# and on `company_search_served` (one row per company, category and region it serves) for the
# companies of a category that serve region $6 from elsewhere.
_CATEGORY_FILTERS = f"""
  AND s.product_id = $3::bigint{_PLACE}"""
_SERVED_FILTERS = f"""
  AND s.product_id = $3::bigint AND s.served_region = $6::text AND NOT {_LOCATED}"""
# The catalogue ids of a search's filters; a uuid no longer in the catalogue is NO_ID, which
# matches no company (never a filter dropped).
SELECT_FILTER_IDS = """
SELECT (SELECT id FROM proveo.commune WHERE uuid = $1::uuid) AS commune,
       (SELECT id FROM proveo.product WHERE uuid = $2::uuid) AS product,
       ARRAY(SELECT id FROM proveo.commune WHERE uuid = ANY($3::uuid[]) ORDER BY id) AS area
"""
NO_ID = -1

# Totals stop at this many matches: a search that matches more is "more than 1,000" (its
# total is a lower bound), as deep as its pages go (`service.MAX_RESULT_DEPTH`). What one
# search request can cost is then bounded whatever the directory's size: a common word at
# 1,000,000 companies matches 400,000 of them, each a tsvector to test.
COUNT_LIMIT = 1_000
# A count also sizes the ranking's tiers (lower bounds: the tiers below one that holds the
# page are not read). A search's count for a page that ends past `SHALLOW_PAGE_END` reads up
# to this many times `COUNT_LIMIT` (its tiers must be counted that far), otherwise
# `COUNT_LIMIT` + 1 (at 1,000,000 companies a category read 10,001 matches in 39 ms, 1,001 in
# 20 ms). Facets are counted on the first `COUNT_LIMIT` + 1 matches too, and scaled past them:
# read on 10,001, facets of a word with a region cost 118 ms of machine time at 1,000,000.
# The first ten pages of 20 are shallow: at 1,000,000 companies `construccion` in the
# Metropolitan region counted 10,001 matches for its sixth page in 1 s under load.
DEEP_SAMPLE = 10
SHALLOW_PAGE_END = 200

# Where in the table the counted matches end, against the table's size: the matches are read
# in the table's order (a sequential or bitmap scan), so the share of the table they span
# estimates the share of all matches they are. Columns `last_block` and `table_blocks`.
_SPAN = """max((m.ctid::text::point)[0])::bigint AS last_block,
       pg_relation_size('proveo.company_search'::regclass)
           / current_setting('block_size')::bigint AS table_blocks,
       (SELECT reltuples FROM pg_class
        WHERE oid = 'proveo.company_search'::regclass)::bigint AS table_rows"""

# The tiers' sizes come with the total at little extra cost (the rows are already read), and
# decide each tier's plan.
# $7 the whole query, $8 how many matches to count at most, $9 how many matches at most are
# few (`FEW_MATCHES`): then `ids` lists them all in the pages' order (tier, name), and a page
# is a slice of them. The tiers are those of `_tiered_page`, each match in its best one.
COUNT_MATCHES = f"""
SELECT count(*) AS total,
       count(*) FILTER (WHERE m.name_key LIKE $7::text || '%') AS in_prefix,
       count(*) FILTER (WHERE m.name_doc @@ proveo.search_query($1::text[])) AS in_name,
       count(*) FILTER (WHERE m.head_doc @@ proveo.search_query($1::text[])) AS in_head,
       CASE WHEN count(*) < $8 AND count(*) <= $9::int THEN array_agg(
           m.company_id ORDER BY
               CASE WHEN m.name_key = $7::text THEN 0
                    WHEN m.name_key LIKE $7::text || '%' THEN 1
                    WHEN m.name_doc @@ proveo.search_query($1::text[]) THEN 2
                    WHEN m.head_doc @@ proveo.search_query($1::text[]) THEN 3
                    ELSE 4 END,
               m.name_key, m.company_id) END AS ids,
       {_SPAN}
FROM (SELECT s.ctid, s.company_id, s.name_key, s.name_doc, s.head_doc
      FROM proveo.company_search s
      WHERE {_MATCH} LIMIT $8) m
"""
# $7 how many to count at most.
COUNT_ALL = f"""
SELECT count(*) AS total, {_SPAN}
FROM (SELECT s.ctid FROM proveo.company_search s
      WHERE $1::text[] IS NOT NULL{_FILTERS} LIMIT $7) m
"""
# The same with a category ($3 not null): no span, the pages of no words have no tiers.
_COUNT_IN = """
SELECT count(*) AS total, NULL::bigint AS last_block, 0 AS table_blocks, 0 AS table_rows
FROM (SELECT 1 FROM {table} s WHERE $1::text[] IS NOT NULL{filters} LIMIT $7) m
"""
COUNT_CATEGORY = _COUNT_IN.format(table="proveo.company_search_category", filters=_CATEGORY_FILTERS)
COUNT_SERVED = _COUNT_IN.format(table="proveo.company_search_served", filters=_SERVED_FILTERS)


def _tier(tier: int, condition: str, *, index_order: bool) -> str:
    # `name_key || ''` hides the index order from the planner: the tier's matches are found
    # through their GIN index and sorted, however common the planner guesses they are. A walk
    # in name order has the filters as columns too, so that it walks the place's own index
    # (region or commune, then name); a sort has them as lexemes only (`_MATCH`), else the
    # planner ANDs the word index's bitmap with the place's (at 1,000,000 companies the
    # Metropolitan region's 443,000 entries, 34 ms).
    if index_order:
        order, filters = "s.name_key, s.company_id", _FILTERS
    else:
        order, filters = "s.name_key || '', s.company_id", ""
    return f"""
    (SELECT s.company_id, {tier} AS tier, s.name_key FROM proveo.company_search s
     WHERE {condition}{filters} ORDER BY {order} LIMIT $7)"""


# $7 offset + limit (each tier's share), $8 offset, $9 limit, $10 lang, $11 the whole query.
_HIT_COLUMNS_IN = """c.uuid, c.name,
       CASE WHEN {lang}::text = 'en' THEN coalesce(c.description_en, c.description_es)
            ELSE coalesce(c.description_es, c.description_en) END AS description,
       CASE WHEN {lang}::text = 'en' THEN p.name_en ELSE p.name_es END AS product_name,
       co.name AS commune_name, c.address, c.phone, c.email, c.image_key, c.slug"""
_HIT_COLUMNS = _HIT_COLUMNS_IN.format(lang="$10")
_HIT_FROM = """FROM ranked r
JOIN proveo.company c ON c.id = r.company_id
JOIN proveo.product p ON p.id = c.product_id
JOIN proveo.commune co ON co.id = c.commune_id"""
_HIT = f"""
SELECT {_HIT_COLUMNS}
{_HIT_FROM}
ORDER BY r.position
"""


# The name tier of a search for one word (with its alternatives and completions: lexemes, no
# prefix) among the companies located in a place or anywhere, without a category: the first
# names of each of its lexemes' ranges of `company_search_name_word` (migration 20261207_1400),
# merged. Names that hold a word often begin with it, so a walk of all names in order read
# every name before the word's place in the alphabet, and a sort read the whole tier (at
# 1,000,000 companies `accounting` and its synonyms: 94 ms walked, 202 sorted, 1 ms now).
_NAME_WORDS_TIER = f"""
    (SELECT w.company_id, 2 AS tier, w.name_key
     FROM (SELECT DISTINCT x.company_id, x.name_key
           FROM unnest(proveo.search_lexemes($1::text[])) AS l(word)
           CROSS JOIN LATERAL (
               SELECT s.company_id, s.name_key FROM proveo.company_search_name_word s
               WHERE s.word = l.word AND {_LOCATED}
               ORDER BY s.name_key, s.company_id LIMIT $7) x) w
     ORDER BY w.name_key, w.company_id LIMIT $7)"""


# The name tier's condition. A name's words are in `doc` too: without filters `_MATCH` adds
# nothing, and (a custom plan folding the nulls away) is left out, else the planner ANDed the
# name index's bitmap with the word index's (`contador providencia` at 1,000,000 companies:
# 303 names, and 6,292 matches anywhere read in 21 ms to intersect them).
_NO_FILTERS = """($2::bigint IS NULL AND $3::bigint IS NULL AND $4::text IS NULL
      AND $5::bigint[] IS NULL AND $6::text IS NULL)"""
_NAME_MATCH = f"s.name_doc @@ proveo.search_query($1::text[]) AND ({_NO_FILTERS} OR {_MATCH})"


def _tiered_page(dense: tuple[bool, bool, bool], last_tier: int, by_name_words: bool) -> str:
    in_name, in_head, anywhere = dense
    name_tier = _NAME_WORDS_TIER if by_name_words else _tier(2, _NAME_MATCH, index_order=in_name)
    tiers = " UNION ALL".join(
        (
            # The name tiers hold matches only: a name that merely starts with the letters of
            # a short last word (`el`, no prefix below three letters) is no match, and the
            # count must hold every company the pages list.
            _tier(0, f"s.name_key = $11::text AND {_MATCH}", index_order=True),
            _tier(1, f"s.name_key LIKE $11::text || '%' AND {_MATCH}", index_order=True),
            name_tier,
            _tier(3, _MATCH.replace("s.doc", "s.head_doc"), index_order=in_head),
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
    FROM best ORDER BY tier, name_key, company_id OFFSET $8 LIMIT $9
)
{_HIT}"""


# A search with few matches (counted exactly) has their ids in the pages' order from its count:
# a page is read by primary key, $1 its slice of the ids, $2 lang (at 1,000,000 companies a
# rare word's page ranked its 1,000 matches again: 5 ms, 0.3 now; a name with common words such
# as `y` or `ltda` read the word index again, 70 ms, before that). A company deleted since the
# count (the count is shared for a second) has no search row and is left out.
FEW_MATCHES = 1000
SELECT_PAGE_FEW = f"""
WITH ranked AS (
    SELECT r.company_id, r.position
    FROM unnest($1::bigint[]) WITH ORDINALITY AS r(company_id, position)
    JOIN proveo.company_search s ON s.company_id = r.company_id
)
SELECT {_HIT_COLUMNS_IN.format(lang="$2")}
{_HIT_FROM}
ORDER BY r.position
"""

# One statement per combination of dense tiers (name, name + catalogue, anywhere), of the last
# tier that can reach the page, and of whether the name tier reads the name words.
SELECT_PAGES = {
    ((in_name, in_head, anywhere), last_tier, by_name_words): _tiered_page(
        (in_name, in_head, anywhere), last_tier, by_name_words
    )
    for in_name in (False, True)
    for in_head in (False, True)
    for anywhere in (False, True)
    for last_tier in (1, 2, 3, 4)
    for by_name_words in (False, True)
}

# No words: the directory in name order (filters only). $7 unused, kept for one signature.
SELECT_PAGE_ALL = f"""
WITH ranked AS (
    SELECT s.company_id,
           row_number() OVER (ORDER BY s.name_key, s.company_id) AS position
    FROM proveo.company_search s
    WHERE $7::int IS NOT NULL AND $11::text IS NOT NULL AND $1::text[] IS NOT NULL{_FILTERS}
    ORDER BY s.name_key, s.company_id OFFSET $8 LIMIT $9
)
{_HIT}"""
_PAGE_IN = f"""
WITH ranked AS (
    SELECT s.company_id,
           row_number() OVER (ORDER BY s.name_key, s.company_id) AS position
    FROM {{table}} s
    WHERE $7::int IS NOT NULL AND $11::text IS NOT NULL AND $1::text[] IS NOT NULL
      {{filters}}
    ORDER BY s.name_key, s.company_id OFFSET $8 LIMIT $9
)
{_HIT}"""
SELECT_PAGE_CATEGORY = _PAGE_IN.format(
    table="proveo.company_search_category", filters=_CATEGORY_FILTERS
)
SELECT_PAGE_SERVED = _PAGE_IN.format(table="proveo.company_search_served", filters=_SERVED_FILTERS)

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
_SIMILAR = "s.name_key % $11::text"
# $12 how many similar names to count and rank at most (`COUNT_LIMIT` + 1): at 1,000,000
# companies `abogado constructora` resembles 38,757 names, and sorting them all took 2 s. One
# statement counts the candidates (`matched`, on every row) and ranks a page of them, so the
# trigram index is read once; a page past them is one row of NULLs with the count.
SELECT_PAGE_SIMILAR = f"""
WITH candidates AS MATERIALIZED (
    SELECT s.company_id, s.name_key FROM proveo.company_search s
    WHERE {_SIMILAR} AND $1::text[] IS NOT NULL AND $7::int IS NOT NULL{_FILTERS}
    LIMIT $12
),
ranked AS (
    SELECT company_id,
           row_number() OVER (ORDER BY similarity(name_key, $11::text) DESC, name_key,
                                       company_id) AS position
    FROM candidates
    ORDER BY similarity(name_key, $11::text) DESC, name_key, company_id
    OFFSET $8 LIMIT $9
)
SELECT m.matched, h.*
FROM (SELECT count(*) AS matched FROM candidates) m
LEFT JOIN LATERAL (SELECT {_HIT_COLUMNS}, r.position {_HIT_FROM}) h ON true
ORDER BY h.position
"""

# $7 lang. Counts per commune, per region and per product (each of a company's categories) of
# the companies the search matches: of its first {limit} matches (`facet_sample()`), which are
# all of them when they are fewer. The matches are grouped by commune and set of categories (a
# few thousand groups at most); communes, regions (a commune's) and products are summed from
# those groups, not from every match. Two more rows, kinds `counted` and `span`, say how many
# matches were counted and where they end in the table (`_SPAN`), to scale the counts.
_FACETS = """
WITH counted AS MATERIALIZED (
    SELECT s.ctid, s.commune_id, s.product_ids FROM proveo.company_search s
    WHERE {match}{filters}
    LIMIT {limit}
),
span AS (SELECT count(*) AS total, {span} FROM counted m),
grouped AS MATERIALIZED (
    SELECT commune_id, product_ids, count(*) AS n FROM counted GROUP BY commune_id, product_ids
),
communes AS (SELECT commune_id, sum(n)::bigint AS n FROM grouped GROUP BY commune_id),
regions AS (
    SELECT co.region, sum(x.n)::bigint AS n
    FROM communes x JOIN proveo.commune co ON co.id = x.commune_id GROUP BY co.region
),
products AS (
    SELECT product_id, sum(n)::bigint AS n
    FROM grouped, unnest(grouped.product_ids) AS product_id
    GROUP BY product_id
)
SELECT 'commune' AS kind, co.uuid, co.name, x.n AS count, proveo.fold(co.name) AS sort_key
FROM communes x JOIN proveo.commune co ON co.id = x.commune_id
UNION ALL
-- A region's sort key is its slug (`metropolitana-de-santiago`).
SELECT 'region', NULL, x.region, x.n, replace(proveo.search_text(x.region), ' ', '-')
FROM regions x
UNION ALL
SELECT 'product', p.uuid, named.name, x.n, proveo.fold(named.name)
FROM products x JOIN proveo.product p ON p.id = x.product_id,
     LATERAL (SELECT CASE WHEN $7::text = 'en' THEN p.name_en ELSE p.name_es END AS name) named
UNION ALL
SELECT 'counted', NULL, NULL, total, NULL FROM span
UNION ALL
SELECT 'span', NULL, NULL, last_block, table_blocks::text FROM span
-- Ties in the order of the catalogue's lists: accents folded, so Ñuñoa sits among the N's.
ORDER BY count DESC, sort_key, uuid
"""
# $8 how many matches to count at most.
SELECT_FACETS = _FACETS.format(match=_MATCH, filters="", limit="$8", span=_SPAN)
SELECT_FACETS_ALL = _FACETS.format(
    match="$1::text[] IS NOT NULL", filters=_FILTERS, limit="$8", span=_SPAN
)
# $8 the whole query: the facets of the similar names that search lists when no word matches;
# $9 how many to count at most.
SELECT_FACETS_SIMILAR = _FACETS.format(
    match="s.name_key % $8::text AND $1::text[] IS NOT NULL",
    filters=_FILTERS,
    limit="$9",
    span=_SPAN,
)

# $1 the normalised prefix, $2 lang, $3 limit, $4 the prefix's synonyms (`synonyms.completions`).
# Catalogue entries whose name (or one of its words) starts with it or holds one of its
# synonyms, and where some company is listed (a suggestion never leads to an empty page), then
# company names that start with it: up to $3 of each, `suggest` picks.
SELECT_SUGGESTIONS = """
WITH products AS (
    SELECT CASE WHEN $2::text = 'en' THEN p.name_en ELSE p.name_es END AS text,
           CASE WHEN $2::text = 'en' THEN p.name_en_key ELSE p.name_es_key END AS key,
           p.uuid, p.id
    FROM proveo.product p
),
-- A word of the name starts with the prefix or with one of its synonyms. The catalogue's
-- names are stored folded (`name_es_key`, `name_en_key`, `name_key`).
word_starts AS (
    SELECT '% ' || word || '%' AS pattern
    FROM unnest(array_prepend($1::text, $4::text[])) AS word
),
catalog AS (
    SELECT text, 'product' AS kind, uuid, 0 AS rank, key FROM products x
    WHERE ' ' || key LIKE ANY (SELECT pattern FROM word_starts)
      -- A company lists it, first, second or third: one probe of the category table.
      AND EXISTS (SELECT 1 FROM proveo.company_search_category k WHERE k.product_id = x.id)
    UNION ALL
    SELECT co.name, 'commune', co.uuid, 1, co.name_key FROM proveo.commune co
    WHERE ' ' || co.name_key LIKE ANY (SELECT pattern FROM word_starts)
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
    (SELECT text, kind, uuid, rank, key FROM catalog ORDER BY rank, key LIMIT $3)
    UNION ALL
    SELECT text, kind, uuid, rank, name_key FROM companies
) AS found
ORDER BY rank, key, uuid
"""


def _hits(rows: Sequence[asyncpg.Record], params: SearchParams) -> list[SearchHit]:
    match = params.scope if params.place_region is not None else None
    hits = []
    for row in rows:
        record = dict(row)
        image_key = record.pop("image_key")
        record["image_url"] = f"/images/{image_key}.webp" if image_key else None
        record["match"] = match
        hits.append(SearchHit.model_validate(record))
    return hits


async def with_filter_ids(conn: Connection, params: SearchParams) -> SearchParams:
    """`params` with its filters' catalogue ids: one lookup per search, none without filters
    or when they are already there."""
    if params.catalogue_ids is not None or (
        params.commune is None and params.product is None and params.area is None
    ):
        return params
    row = await conn.fetchrow(
        SELECT_FILTER_IDS,
        params.commune,
        params.product,
        list(params.area) if params.area is not None else None,
    )
    assert row is not None

    def found(asked: object, id_: int | None) -> int | None:
        return None if asked is None else (NO_ID if id_ is None else id_)

    area = None if params.area is None else (tuple(row["area"]) or (NO_ID,))
    ids = (found(params.commune, row["commune"]), found(params.product, row["product"]), area)
    return params.model_copy(update={"catalogue_ids": ids})


def _filter_args(params: SearchParams) -> tuple[object, ...]:
    """$2 to $6 of every search statement, from `with_filter_ids`' params."""
    commune, product, area = params.catalogue_ids or (None, None, None)
    return (
        commune,
        product,
        params.region,
        list(area) if area is not None else None,
        params.place_region if params.scope == "serves" else None,
    )


def _without_words(params: SearchParams, everything: str, category: str, served: str) -> str:
    """Of a search's statements without words, the one for `with_filter_ids`' params: the
    whole directory's table without a category, else the category's (located companies) or
    the served regions' (those that serve the place's region)."""
    if params.catalogue_ids is None or params.catalogue_ids[1] is None:
        return everything
    if params.scope == "serves" and params.place_region is not None:
        return served
    return category


def _page_args(
    params: SearchParams, words: list[str], query: Sequence[str] | None = None
) -> tuple[object, ...]:
    return (
        list(query) if query is not None else _index_words(words),
        *_filter_args(params),
        params.offset + params.limit,
        params.offset,
        params.limit,
        params.lang,
        " ".join(words),
    )


def count_sample(params: SearchParams) -> int:
    """How many matches a count for `params`' page reads at most: without words there are no
    tiers to size."""
    if not params.words or params.offset + params.limit <= SHALLOW_PAGE_END:
        return COUNT_LIMIT + 1
    return COUNT_LIMIT * DEEP_SAMPLE + 1


def facet_sample() -> int:
    """How many matches facets read at most: exact when they are all, else estimates."""
    return COUNT_LIMIT + 1


def _scale(counted: int, sample: int, last_block: int | None, table_blocks: int) -> float:
    """Estimated matches per counted one, when counting stopped at `sample`: the table's
    blocks over the blocks the counted matches span (at least 1)."""
    if counted < sample or last_block is None:
        return 1.0
    return max(1.0, table_blocks / (last_block + 1))


@dataclass(frozen=True)
class MatchCounts:
    """How many companies a search's words match (within its filters): in all, and in the
    name and in the name, product or commune, whose sizes decide each tier's plan.

    Past `COUNT_LIMIT` matches `exact` is False and `total` is `COUNT_LIMIT` ("more than").
    Counting stops at its sample (`count_sample`): then the tiers' sizes are those among the
    counted matches (lower bounds), and `scale` estimates how many matches each counted one
    stands for."""

    total: int
    in_prefix: int = 0
    in_name: int = 0
    in_head: int = 0
    exact: bool = True
    scale: float = 1.0
    # The search table's rows as the planner's statistics know them (0: unknown).
    table_rows: int = 0
    # Every match's company id in the pages' order, when they are few (`FEW_MATCHES`) and
    # counted exactly.
    ids: tuple[int, ...] | None = None
    # The words as the count's statement took them (`query_words`), for the pages'.
    query: tuple[str, ...] | None = None

    @classmethod
    def counted(
        cls, row: asyncpg.Record, sample: int, query: Sequence[str] | None = None
    ) -> MatchCounts:
        """From a count's row, read with at most `sample` matches: `total` counted, the tiers'
        sizes when it has them, and `_SPAN`'s columns."""
        counted = int(row["total"])
        exact = counted <= COUNT_LIMIT
        return cls(
            total=counted if exact else COUNT_LIMIT,
            in_prefix=row.get("in_prefix", 0),
            in_name=row.get("in_name", 0),
            in_head=row.get("in_head", 0),
            exact=exact,
            scale=_scale(counted, sample, row["last_block"], row["table_blocks"]),
            ids=tuple(row["ids"]) if row.get("ids") is not None else None,
            table_rows=max(0, int(row["table_rows"])),
            query=tuple(query) if query is not None else None,
        )

    def last_tier(self, rows: int) -> int:
        """The lowest tier that can hold one of the first `rows` companies: a tier at least
        that large fills them on its own (with the tiers above it)."""
        for tier, size in ((1, self.in_prefix), (2, self.in_name), (3, self.in_head)):
            if size >= rows:
                return tier
        return 4

    def dense(self, rows: int) -> tuple[bool, bool, bool]:
        """Whether the name tier, the name-and-catalogue tier and all matches hold enough
        companies (estimated, when counting stopped) for their first `rows` to be found by a
        walk of the name index (`WALK_ROW_COST`)."""

        def walkable(size: int) -> bool:
            estimated = size * self.scale
            if self.table_rows <= 0:
                return estimated >= DENSE_MATCHES
            return estimated * estimated >= WALK_ROW_COST * rows * self.table_rows

        return walkable(self.in_name), walkable(self.in_head), walkable(self.total)


# The last word is completed from the vocabulary (`search_term`: every word of the companies'
# texts and of the catalogue, from 3 characters on, never removed) when at most this many
# words begin it: the index then intersects their entries one by one, where a prefix
# (`ltda:*`) collected every entry of every word it begins first (at 1,000,000 companies,
# 300,000 for `ltda`: 60 of a 70 ms search; `construccion` serving a region 67 → 27 ms). The
# completions are the vocabulary's words, and the stems of each (`search_word_query`) match
# the stemmed lexemes of descriptions. A word that begins more, or is all digits (numbers are
# no vocabulary), stays a prefix.
MAX_COMPLETIONS = 32
SELECT_COMPLETIONS = """
SELECT t.term FROM proveo.search_term t
WHERE t.term >= $1::text AND t.term < $1::text || '~' AND t.term LIKE $1::text || '%'
ORDER BY t.term LIMIT $2::int
"""


def _index_words(words: Sequence[str]) -> list[str]:
    """The words with their alternatives, as the companies' search texts hold them: a synonym
    group's entries as the group's lexeme."""
    return grouped(expand(words))


async def query_words(conn: Connection, words: Sequence[str]) -> list[str]:
    """The words as `proveo.search_query` takes them (`synonyms.expand`), the last one completed
    from the vocabulary (`=typed|…|completion|…`) when few words begin it."""
    expanded = _index_words(words)
    if not expanded:
        return expanded
    typed, *others = expanded[-1].split("|")
    if " " in typed or len(typed) < MIN_COMPLETION_PREFIX or typed.isdigit():
        return expanded
    rows = await conn.fetch(SELECT_COMPLETIONS, typed, MAX_COMPLETIONS + 1)
    if len(rows) > MAX_COMPLETIONS:
        return expanded
    known = {typed, *others}.union(*(GROUP_ENTRIES.get(other, ()) for other in others))
    completed = [row["term"] for row in rows if row["term"] not in known]
    expanded[-1] = "|".join(("=" + typed, *others, *completed))
    return expanded


# The planner guesses how many companies a query matches from each word alone, and for several
# words, or a word with synonyms (an OR of up to 8), it guesses far too many (138,778 for the
# 1,110 of `contador plomero` at 1,000,000 companies): it then reads the table in order, to stop
# at 10,001 matches, and reads all of it (2.3 s). Such searches read the word index (a bitmap:
# 138 ms). A single plain word keeps the planner's choice: `servicios` stops early in the
# table's order among its 400,000 matches (37 ms; 289 by the index). So does a single word of a
# synonym group, one lexeme for the planner too (`grouped`): `contabilidad` and `accounting`
# stop early among their 90,000 matches (12 ms; 22 by the index), and with a place the planner
# chose as well as the index in every case measured.
BY_WORD_INDEX = "SET LOCAL enable_seqscan = off"
BY_PLANNER = "SET LOCAL enable_seqscan TO DEFAULT"
# A page among the names that start with the words (`_scope_page`): no bitmaps.
NAMES_WALKED = ("SET LOCAL enable_bitmapscan = off", "SET LOCAL enable_bitmapscan TO DEFAULT")


async def _with_setting(
    conn: Connection, setting: tuple[str, str] | None, read: Callable[[], Awaitable[T]]
) -> T:
    """`read` with a planner setting (the statements that set it and set it back) for the
    read alone; None: as the planner chooses. A planned read's connection is in no block: the
    setting gets one of its own."""
    if setting is None:
        return await read()
    on, off = setting
    if not conn.is_in_transaction():
        async with read_block(conn, on):
            return await read()
    await conn.execute(on)
    result = await read()
    await conn.execute(off)
    return result


def _read_by_word_index(words: Sequence[str]) -> bool:
    expanded = _index_words(words)
    if len(expanded) != 1:
        return len(expanded) > 1
    alternatives = expanded[0].split("|")[1:]
    return bool(alternatives) and not (len(alternatives) == 1 and alternatives[0] in GROUP_ENTRIES)


async def _by_word_index_when_it_pays(
    conn: Connection, words: Sequence[str], read: Callable[[], Awaitable[T]]
) -> T:
    """`read` (a search's or its facets' statements), by the word index for `words` that the
    planner misjudges; the setting is the read's alone."""
    by_index = (BY_WORD_INDEX, BY_PLANNER) if _read_by_word_index(words) else None
    return await _with_setting(conn, by_index, read)


async def count_matches(
    conn: Connection,
    params: SearchParams,
    words: list[str],
    terms: Sequence[str] | None = None,
) -> MatchCounts:
    """The counts for `words` (no words: the whole directory) within `params`' filters and
    scope, of up to `count_sample(params)` matches; the language plays no part. `terms`: the
    words' `query_words`, when the caller has them."""
    params = await with_filter_ids(conn, params)
    sample = count_sample(params)
    if not words:
        query = _without_words(params, COUNT_ALL, COUNT_CATEGORY, COUNT_SERVED)
        row = await conn.fetchrow(query, words, *_filter_args(params), sample)
        assert row is not None
        return MatchCounts.counted(row, sample)
    if terms is None:
        terms = await query_words(conn, words)
    row = await conn.fetchrow(
        COUNT_MATCHES, terms, *_filter_args(params), " ".join(words), sample, FEW_MATCHES
    )
    assert row is not None
    return MatchCounts.counted(row, sample, terms)


CountMatches = Callable[[Connection, SearchParams, list[str]], Awaitable[MatchCounts]]


async def _scope_page(
    conn: Connection, params: SearchParams, words: list[str], counts: MatchCounts
) -> list[SearchHit]:
    """The page `params` asks for, of one scope whose counts are known."""
    if counts.total == 0 or (counts.exact and params.offset >= counts.total):
        return []
    if not words:
        query = _without_words(params, SELECT_PAGE_ALL, SELECT_PAGE_CATEGORY, SELECT_PAGE_SERVED)
        rows = await conn.fetch(query, *_page_args(params, words))
        return _hits(rows, params)
    if counts.ids is not None:
        page = counts.ids[params.offset : params.offset + params.limit]
        return _hits(await conn.fetch(SELECT_PAGE_FEW, list(page), params.lang), params)
    needed = params.offset + params.limit
    last_tier = counts.last_tier(needed)
    query = SELECT_PAGES[counts.dense(needed), last_tier, _by_name_words(params, counts.query)]
    args = _page_args(params, words, counts.query)
    # Names equal to the words or starting with them are walked in name order: the planner
    # ANDed the name index's few rows with the word index's bitmap (`servicios` in Valparaíso
    # at 1,000,000 companies: 29 ms for a page of the names starting with it).
    walked = NAMES_WALKED if last_tier <= 1 else None
    rows = await _with_setting(conn, walked, lambda: conn.fetch(query, *args))
    return _hits(rows, params)


def _by_name_words(params: SearchParams, terms: Sequence[str] | None) -> bool:
    """Whether the name tier reads `company_search_name_word` (`_NAME_WORDS_TIER`): one word
    completed (no prefix, no phrase), its companies located in the place, no category."""
    if terms is None or len(terms) != 1:
        return False
    product = params.catalogue_ids[1] if params.catalogue_ids is not None else None
    (element,) = terms
    return (
        element.startswith("=")
        and " " not in element
        and params.scope == "located"
        and product is None
    )


async def _matches(
    conn: Connection, params: SearchParams, words: list[str], count: CountMatches
) -> SearchPage:
    """A page of the companies `words` match. With a place filter, those located there come
    first, then those located elsewhere that serve the place's region: two statements, each
    the plain search of its scope, so each keeps its index plan."""
    located = params.model_copy(update={"scope": "located"})
    counts = await count(conn, located, words)
    # More companies located there than counting reaches: the pages are all theirs.
    if params.place_region is None or not counts.exact:
        return SearchPage(
            items=await _scope_page(conn, located, words, counts),
            total=counts.total,
            total_exact=counts.exact,
        )
    serves = params.model_copy(update={"scope": "serves"})
    serving = await count(conn, serves, words)
    start, end = params.offset, params.offset + params.limit
    items = await _scope_page(conn, located, words, counts) if start < counts.total else []
    if end > counts.total and serving.total:
        rest = serves.model_copy(
            update={
                "offset": max(0, start - counts.total),
                "limit": end - max(start, counts.total),
            }
        )
        items += await _scope_page(conn, rest, words, serving)
    # Each scope counts up to the limit: together they still stop at it.
    both = counts.total + serving.total
    return SearchPage(
        items=items,
        total=min(both, COUNT_LIMIT),
        total_exact=counts.exact and serving.exact and both <= COUNT_LIMIT,
    )


async def correct_words(conn: Connection, words: list[str]) -> list[str]:
    rows = await conn.fetch(CORRECT_WORDS, words, MAX_CORRECTED_WORD)
    return [row["word"] for row in rows]


CorrectWords = Callable[[Connection, list[str]], Awaitable[list[str]]]


async def _search(
    conn: Connection, params: SearchParams, count: CountMatches, correct: CorrectWords
) -> SearchPage:
    params = await with_filter_ids(conn, params)
    words = params.words
    page = await _matches(conn, params, words, count)
    if page.total or not words:
        return page
    corrected = await correct(conn, words)
    if corrected != words:
        found = await _matches(conn, params, corrected, count)
        if found.total:
            return found.model_copy(update={"match": "corrected", "corrected": " ".join(corrected)})
    whole = " ".join(words)
    if len(whole) > MAX_SIMILAR_QUERY:
        return SearchPage(items=[], total=0)
    # Names similar to the whole query, among the companies located in the place.
    located = params.model_copy(update={"scope": "located"})
    rows = await conn.fetch(SELECT_PAGE_SIMILAR, *_page_args(located, words), COUNT_LIMIT + 1)
    counted = rows[0]["matched"]
    total, exact = min(counted, COUNT_LIMIT), counted <= COUNT_LIMIT
    if total == 0 or params.offset >= total:
        return SearchPage(items=[], total=total, match="similar" if total else "words")
    hits = _hits([row for row in rows if row["uuid"] is not None], located)
    return SearchPage(items=hits, total=total, total_exact=exact, match="similar")


async def search(
    conn: Connection,
    params: SearchParams,
    count: CountMatches = count_matches,
    correct: CorrectWords = correct_words,
) -> SearchPage:
    """One page of companies for `params` and how many match in all; `count` and `correct` may
    answer from a cache. On a connection that is not a planned read's, in a transaction the
    caller opened, it must already plan with the planned-read settings (`core.db.PLANNED_READ`);
    outside one, `search` opens one with them."""
    if not conn.is_in_transaction() and not plans_for_parameters(conn):
        async with read_block(conn, PLANNED_READ):
            return await search(conn, params, count, correct)
    return await _by_word_index_when_it_pays(
        conn, params.words, lambda: _search(conn, params, count, correct)
    )


async def _facet_rows(
    conn: Connection, params: SearchParams
) -> tuple[list[asyncpg.Record], Literal["words", "corrected", "similar"]]:
    params = await with_filter_ids(conn, params)
    words = params.words
    located = params.model_copy(update={"scope": "located"})
    query = SELECT_FACETS if words else SELECT_FACETS_ALL
    filters = _filter_args(located)
    most = facet_sample()

    async def listed(words: list[str]) -> tuple[list[asyncpg.Record], bool]:
        """The facets of `words`, and whether search lists what they match: the companies
        located in the place, else those that serve it (which facets do not count)."""
        query_args = await query_words(conn, words)
        rows = list(await conn.fetch(query, query_args, *filters, params.lang, most))
        if _found(rows) or params.place_region is None:
            return rows, _found(rows)
        serves = located.model_copy(update={"scope": "serves"})
        return rows, (await count_matches(conn, serves, words, query_args)).total > 0

    rows, found = await listed(words)
    if found or not words:
        return rows, "words"
    corrected = await correct_words(conn, words)
    if corrected != words:
        rows, found = await listed(corrected)
        if found:
            return rows, "corrected"
    whole = " ".join(words)
    if len(whole) > MAX_SIMILAR_QUERY:
        return rows, "words"
    # As search does last: the names similar to the whole query.
    similar = await conn.fetch(SELECT_FACETS_SIMILAR, words, *filters, params.lang, whole, most)
    return list(similar), "similar" if _found(similar) else "words"


def _found(rows: Sequence[asyncpg.Record]) -> bool:
    return any(r["kind"] == "commune" for r in rows)


async def _facets(conn: Connection, params: SearchParams) -> Facets:
    rows, match = await _facet_rows(conn, params)
    counted = next((r["count"] for r in rows if r["kind"] == "counted"), 0)
    span = next((r for r in rows if r["kind"] == "span"), None)
    sample = facet_sample()
    scale = (
        _scale(counted, sample, span["count"], int(span["sort_key"]))
        if span is not None and span["sort_key"] is not None
        else 1.0
    )
    exact = counted < sample

    def estimate(count: int) -> int:
        return count if exact else _round_estimate(count * scale)

    def counts(kind: str) -> list[FacetCount]:
        return [
            FacetCount(uuid=r["uuid"], name=r["name"], count=estimate(r["count"]))
            for r in rows
            if r["kind"] == kind
        ]

    regions = [
        RegionCount(slug=r["sort_key"], name=r["name"], count=estimate(r["count"]))
        for r in rows
        if r["kind"] == "region"
    ]
    return Facets(
        total=min(counted, COUNT_LIMIT),
        total_exact=counted <= COUNT_LIMIT,
        counts_exact=exact,
        match=match,
        communes=counts("commune"),
        products=counts("product"),
        regions=regions,
    )


def _round_estimate(value: float) -> int:
    """An estimated count to two significant figures (12,345 -> 12,000), at least 1."""
    if value < 100:
        return max(1, round(value))
    digits = len(str(int(value))) - 2
    return int(round(value, -digits))


async def facets(conn: Connection, params: SearchParams) -> Facets:
    """Per commune, per region and per product, how many companies located in the place the
    search (without paging) matches. In a caller's transaction, as for `search`."""
    if not conn.is_in_transaction() and not plans_for_parameters(conn):
        async with read_block(conn, PLANNED_READ):
            return await facets(conn, params)
    return await _by_word_index_when_it_pays(conn, params.words, lambda: _facets(conn, params))


# Of the suggestions, company names keep at least this many places when there are that many.
COMPANY_PLACES = 3
# Company names are completed from a later word only for prefixes this long: shorter ones begin
# a word of too many names. Nor for legal forms, which end half the names (`Ltda`, `SpA`).
MIN_NAME_WORD_PREFIX = 4
LEGAL_FORMS = ("ltda", "limitada", "spa", "eirl", "sociedad")

# Of the names with a later word starting with the prefix, this many are read and the first in
# name order suggested: a cost that does not grow with the directory. All of them were read and
# sorted: `la ser` (72,000 names at 1,000,000 companies) took 820 ms, `vall` 290 ms.
NAME_WORD_CANDIDATES = 200

# $1 the normalised prefix, $2 how many, $3 how many candidates. Names with a later word starting
# with it (every word of the prefix in the name, the last as a prefix), from the first $3 found.
SELECT_NAME_WORD_SUGGESTIONS = """
SELECT c.name AS text, c.uuid
FROM (SELECT s.company_id, s.name_key FROM proveo.company_search s
      WHERE s.name_doc @@ proveo.search_query(string_to_array($1::text, ' '))
        AND s.name_key NOT LIKE $1::text || '%'
      LIMIT $3) s
JOIN proveo.company c ON c.id = s.company_id
ORDER BY s.name_key, s.company_id
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
        more = await conn.fetch(
            SELECT_NAME_WORD_SUGGESTIONS, q, COMPANY_PLACES - len(companies), NAME_WORD_CANDIDATES
        )
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
# $1 the searched queries (their words as `search_query` takes them, tab-separated), $2 how
# often each was searched, $3 lang, $4 how many. Each category with the searches whose every
# word matches its names, and how many companies list it; only categories with companies.
SELECT_POPULAR = """
WITH products AS MATERIALIZED (
    SELECT p.id, p.uuid, CASE WHEN $3::text = 'en' THEN p.name_en ELSE p.name_es END AS name,
           p.search_doc AS doc
    FROM proveo.product p
),
searched AS (
    SELECT p.id, sum(q.searches) AS searches
    FROM unnest($1::text[], $2::bigint[]) AS q(words, searches)
    JOIN products p ON p.doc @@ proveo.search_query(string_to_array(q.words, E'\t'))
    GROUP BY p.id
),
-- One row per company and category: counted from its index, not from every company's
-- array (61 -> 13 ms at 100,000 companies).
listed AS (
    SELECT product_id AS id, count(*) AS companies
    FROM proveo.company_search_category
    GROUP BY product_id
)
SELECT p.uuid, p.name, coalesce(s.searches, 0) AS searches, l.companies
FROM products p JOIN listed l ON l.id = p.id LEFT JOIN searched s ON s.id = p.id
ORDER BY coalesce(s.searches, 0) DESC, l.companies DESC, p.id
LIMIT $4
"""
# $1 days back (today included), $2 how many: the most searched queries.
SELECT_TOP_QUERIES = """
SELECT query, sum(searches)::bigint AS searches FROM proveo.search_query_stat
WHERE day > (now() AT TIME ZONE 'UTC')::date - $1::int
GROUP BY query ORDER BY searches DESC, query LIMIT $2
"""


async def select_top_queries(conn: Connection, days: int, limit: int) -> list[tuple[str, int]]:
    rows = await conn.fetch(SELECT_TOP_QUERIES, days, limit)
    return [(row["query"], row["searches"]) for row in rows]


async def select_popular_products(
    conn: Connection, queries: Sequence[tuple[list[str], int]], lang: str, limit: int
) -> list[PopularProduct]:
    """Categories by how often they were searched (`queries`: expanded words and counts),
    then by how many companies list them, then in the catalogue's order."""
    rows = await conn.fetch(
        SELECT_POPULAR,
        ["\t".join(words) for words, _ in queries],
        [searches for _, searches in queries],
        lang,
        limit,
    )
    return [PopularProduct.model_validate(dict(row)) for row in rows]


async def select_commune_place(conn: Connection, commune_uuid: UUID) -> tuple[str, str] | None:
    """A commune's name and region."""
    row = await conn.fetchrow(SELECT_COMMUNE_PLACE, commune_uuid)
    return (row["name"], row["region"]) if row else None


async def select_area_communes(conn: Connection, area: str) -> tuple[UUID, ...]:
    """The communes of an area (Greater Santiago), in id order: exactly the set whose lexeme
    its companies' search text has (migration 20261207_1600)."""
    rows = await conn.fetch(SELECT_AREA_COMMUNES, area)
    return tuple(row["uuid"] for row in rows)


SELECT_COMMUNE_PLACE = "SELECT name, region FROM proveo.commune WHERE uuid = $1"
SELECT_AREA_COMMUNES = "SELECT uuid FROM proveo.commune WHERE area = $1 ORDER BY id"
SELECT_COMMUNE_EXISTS = "SELECT EXISTS (SELECT 1 FROM proveo.commune WHERE uuid = $1)"
SELECT_PRODUCT_EXISTS = "SELECT EXISTS (SELECT 1 FROM proveo.product WHERE uuid = $1)"
