"""Bulk SQL for synthetic data: COPY in batches instead of one round trip per row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from proveo.core.db import Connection
from proveo.demo.schemas import SyntheticCompany

# Owners are named synthetic-<index>@example.com; the highest index says how far a previous run
# got (retired accounts included: their addresses stay taken).
SELECT_LAST_SYNTHETIC_INDEX = r"""
SELECT coalesce(max(substring(email FROM '^synthetic-(\d+)@example\.com$')::int), 0)
FROM proveo.user_account
WHERE email LIKE 'synthetic-%@example.com'
"""

# Companies are staged first: their owner, product and commune ids come from the database.
CREATE_SYNTHETIC_STAGE = """
CREATE TEMPORARY TABLE IF NOT EXISTS synthetic_company_stage (
    owner_email text NOT NULL,
    uuid uuid NOT NULL,
    name text NOT NULL,
    product text NOT NULL,
    commune text NOT NULL,
    description_es text,
    description_en text,
    description_original_lang text NOT NULL,
    description_es_source text NOT NULL,
    description_en_source text NOT NULL,
    address text NOT NULL,
    phone text NOT NULL,
    email text NOT NULL,
    created_at timestamptz NOT NULL,
    website text,
    rut text,
    year_founded smallint,
    size_band text,
    served_regions text[] NOT NULL
) ON COMMIT DROP
"""

# The categories beyond the primary one, staged by company uuid and product name.
CREATE_SYNTHETIC_PRODUCT_STAGE = """
CREATE TEMPORARY TABLE IF NOT EXISTS synthetic_company_product_stage (
    company_uuid uuid NOT NULL,
    product text NOT NULL
) ON COMMIT DROP
"""

OWNER_COLUMNS = (
    "uuid", "name", "email", "password_hash", "role", "email_verified", "lang", "created_at",
    "updated_at",
)  # fmt: skip
STAGE_COLUMNS = (
    "owner_email", "uuid", "name", "product", "commune", "description_es", "description_en",
    "description_original_lang", "description_es_source", "description_en_source", "address",
    "phone", "email", "created_at", "website", "rut", "year_founded", "size_band", "served_regions",
)  # fmt: skip
PRODUCT_STAGE_COLUMNS = ("company_uuid", "product")

# Slugs are chosen for the whole batch, as the insert trigger would choose them one by one (and
# at a tenth of the cost): the name's, or, for a later company of the same name or one whose
# name's slug is taken, the name's with a piece of the uuid. Left to the trigger (NULL) in the
# unlikely case that one is taken too.
INSERT_STAGED_COMPANIES = """
WITH named AS (
    SELECT s.*, proveo.slugify(s.name) AS base,
           row_number() OVER (PARTITION BY proveo.slugify(s.name)
                              ORDER BY s.created_at, s.uuid) AS nth
    FROM synthetic_company_stage s
),
slugged AS (
    SELECT n.*,
           CASE WHEN n.nth = 1
                     AND NOT EXISTS (SELECT 1 FROM proveo.company c WHERE c.slug = n.base)
                THEN n.base
                WHEN NOT EXISTS (SELECT 1 FROM proveo.company c WHERE c.slug = n.suffixed)
                THEN n.suffixed
           END AS slug
    FROM (SELECT named.*,
                 left(base, 68) || '-' || left(replace(uuid::text, '-', ''), 8) AS suffixed
          FROM named) n
),
added AS (
    INSERT INTO proveo.company (
        uuid, user_id, product_id, commune_id, name, slug, description_es, description_en,
        description_original_lang, description_es_source, description_en_source, address,
        phone, email, created_at, updated_at, website, rut, year_founded, size_band,
        served_regions
    )
    SELECT s.uuid,
           -- Looked up by the email index for each company: as a join, planned in the seed's
           -- transaction, every batch hashed all the owners (230 ms at 300,000).
           (SELECT u.id FROM proveo.user_account u
            WHERE lower(u.email) = lower(s.owner_email) AND u.deleted_at IS NULL),
           p.id, m.id, s.name, s.slug, s.description_es, s.description_en,
           s.description_original_lang, s.description_es_source, s.description_en_source,
           s.address, s.phone, s.email, s.created_at, s.created_at, s.website, s.rut,
           s.year_founded, s.size_band, s.served_regions
    FROM slugged s
    JOIN proveo.product p ON p.name_es = s.product
    JOIN proveo.commune m ON m.name = s.commune
    ORDER BY s.created_at
    RETURNING id
)
SELECT coalesce(array_agg(id), '{}') FROM added
"""

TRUNCATE_SYNTHETIC_STAGE = "TRUNCATE synthetic_company_stage"

INSERT_STAGED_COMPANY_PRODUCTS = """
WITH added AS (
    INSERT INTO proveo.company_product (company_id, product_id)
    SELECT c.id, p.id
    FROM synthetic_company_product_stage s
    JOIN proveo.company c ON c.uuid = s.company_uuid
    JOIN proveo.product p ON p.name_es = s.product
    RETURNING 1
)
SELECT count(*) FROM added
"""

TRUNCATE_SYNTHETIC_PRODUCT_STAGE = "TRUNCATE synthetic_company_product_stage"

# Fresh planner statistics: a bench right after seeding must not plan for empty tables. The
# search index is filled by triggers and planned from its own statistics (how common a word is).
ANALYZE_DIRECTORY = (
    "ANALYZE proveo.user_account, proveo.company, proveo.company_search, proveo.company_product,"
    " proveo.company_search_category, proveo.company_search_served,"
    " proveo.company_search_name_word"
)


# A batch's COPY and INSERT run every row's checks and search-index triggers: on a loaded
# machine that can outlast the pool's per-statement timeout (PROVEO_DB_COMMAND_TIMEOUT).
BULK_TIMEOUT_SECONDS = 600.0


class CatalogueMismatch(Exception):
    """Some staged companies name a product or commune the catalogue no longer has."""


async def _fetchval_planned_now(conn: Connection, query: str) -> Any:
    """A statement without parameters is planned once and its plan kept for the session: the
    first batch's, made for empty tables (a hash of every company to check the slugs against),
    would serve the last, at a million companies. Prepared for each batch, it is planned for
    the tables as they are."""
    statement = await conn.prepare(query)
    return await statement.fetchval(timeout=BULK_TIMEOUT_SECONDS)


async def select_last_synthetic_index(conn: Connection) -> int:
    return int(await conn.fetchval(SELECT_LAST_SYNTHETIC_INDEX))


async def create_synthetic_stage(conn: Connection) -> None:
    await conn.execute(CREATE_SYNTHETIC_STAGE)
    await conn.execute(CREATE_SYNTHETIC_PRODUCT_STAGE)


async def copy_synthetic_owners(
    conn: Connection, companies: Sequence[SyntheticCompany], password_hash: str
) -> None:
    await conn.copy_records_to_table(
        "user_account",
        schema_name="proveo",
        columns=OWNER_COLUMNS,
        timeout=BULK_TIMEOUT_SECONDS,
        records=[
            (c.owner_uuid, c.owner_name, c.owner_email, password_hash, "user", True,
             c.owner_lang, c.created_at, c.created_at)
            for c in companies
        ],
    )  # fmt: skip


async def insert_synthetic_companies(
    conn: Connection, companies: Sequence[SyntheticCompany]
) -> list[int]:
    """Stage and insert one batch and return the companies' ids; every company must find its
    product and commune (and its owner: `user_id` is NOT NULL)."""
    await conn.copy_records_to_table(
        "synthetic_company_stage",
        columns=STAGE_COLUMNS,
        timeout=BULK_TIMEOUT_SECONDS,
        records=[
            (c.owner_email, c.uuid, c.name, c.product, c.commune, c.description_es,
             c.description_en, c.original_lang, c.es_source, c.en_source, c.address, c.phone,
             c.email, c.created_at, c.website, c.rut, c.year_founded, c.size_band,
             list(c.served_regions))
            for c in companies
        ],
    )  # fmt: skip
    ids: list[int] = await _fetchval_planned_now(conn, INSERT_STAGED_COMPANIES)
    await conn.execute(TRUNCATE_SYNTHETIC_STAGE)
    if len(ids) != len(companies):
        raise CatalogueMismatch(
            f"{len(companies) - len(ids)} of {len(companies)} synthetic companies name a product "
            "or commune missing from the catalogue; seed the catalogue first"
        )
    extra = [(c.uuid, product) for c in companies for product in c.extra_products]
    if extra:
        await conn.copy_records_to_table(
            "synthetic_company_product_stage",
            columns=PRODUCT_STAGE_COLUMNS,
            timeout=BULK_TIMEOUT_SECONDS,
            records=extra,
        )
        linked = int(await _fetchval_planned_now(conn, INSERT_STAGED_COMPANY_PRODUCTS))
        await conn.execute(TRUNCATE_SYNTHETIC_PRODUCT_STAGE)
        if linked != len(extra):
            raise CatalogueMismatch(
                f"{len(extra) - linked} extra categories of synthetic companies are missing "
                "from the catalogue; seed the catalogue first"
            )
    return ids


# The search rows are written as the companies and their extra categories are inserted, each
# statement's trigger rewriting its companies' rows: a company with an extra category was
# indexed twice. The seed suspends both triggers in its transaction and indexes each batch once.
SEARCH_INSERT_TRIGGERS = (
    ("company", "tg_company_search_insert"),
    ("company_product", "tg_company_search_products_insert"),
)
REFRESH_COMPANY_SEARCH = "SELECT proveo.refresh_company_search($1::bigint[])"


async def suspend_search_insert_triggers(conn: Connection) -> None:
    for table, trigger in SEARCH_INSERT_TRIGGERS:
        await conn.execute(f"ALTER TABLE proveo.{table} DISABLE TRIGGER {trigger}")


async def resume_search_insert_triggers(conn: Connection) -> None:
    for table, trigger in SEARCH_INSERT_TRIGGERS:
        await conn.execute(f"ALTER TABLE proveo.{table} ENABLE TRIGGER {trigger}")


async def refresh_company_search(conn: Connection, company_ids: Sequence[int]) -> None:
    await conn.execute(REFRESH_COMPANY_SEARCH, list(company_ids), timeout=BULK_TIMEOUT_SECONDS)


# A large seed indexes all its companies at the end, from the views `refresh_company_search`
# reads. The costly part, the lexemes of the companies' texts, goes into a table first:
# `CREATE TABLE AS` may be planned in parallel, an `INSERT` never is (at 1,000,000 companies
# the refresh took 317 s on one core). The id range is the seed's own companies; one that
# another session committed in between already has its row.
PARALLEL_PLANNING = (
    "SET LOCAL parallel_setup_cost = 0",
    "SET LOCAL parallel_tuple_cost = 0",
    "SET LOCAL max_parallel_workers_per_gather = {workers}",
)
BUILD_SEARCH_TEXTS = """
CREATE TEMPORARY TABLE synthetic_search_texts ON COMMIT DROP AS
SELECT * FROM proveo.company_search_text WHERE company_id BETWEEN {first} AND {last}
"""
INSERT_SEARCH_ROWS = """
INSERT INTO proveo.company_search
    (company_id, product_id, commune_id, region, served_regions, product_ids, name_key,
     name_doc, head_doc, doc)
SELECT k.company_id, k.product_id, k.commune_id, k.region, k.served_regions, k.product_ids,
       t.name_key, proveo.search_with_groups(t.name_doc),
       proveo.search_with_groups(t.name_doc || k.catalog_doc),
       proveo.search_with_groups(t.name_doc || k.catalog_doc || t.text_doc)
FROM proveo.company_search_catalog k
JOIN synthetic_search_texts t ON t.company_id = k.company_id
ON CONFLICT (company_id) DO NOTHING
"""
INSERT_CATEGORY_ROWS = """
INSERT INTO proveo.company_search_category
    (company_id, product_id, commune_id, region, name_key, served_regions)
SELECT s.company_id, listed.id, s.commune_id, s.region, s.name_key, s.served_regions
FROM proveo.company_search s, unnest(s.product_ids) AS listed(id)
WHERE s.company_id BETWEEN {first} AND {last}
ON CONFLICT (company_id, product_id) DO NOTHING
"""
INSERT_SERVED_ROWS = """
INSERT INTO proveo.company_search_served
    (company_id, product_id, served_region, commune_id, region, name_key)
SELECT s.company_id, listed.id, served.region, s.commune_id, s.region, s.name_key
FROM proveo.company_search s, unnest(s.product_ids) AS listed(id),
     unnest(s.served_regions) AS served(region)
WHERE s.company_id BETWEEN {first} AND {last}
ON CONFLICT (company_id, product_id, served_region) DO NOTHING
"""
INSERT_NAME_WORD_ROWS = """
INSERT INTO proveo.company_search_name_word (company_id, word, name_key, commune_id, region)
SELECT s.company_id, w.word, s.name_key, s.commune_id, s.region
FROM proveo.company_search s, unnest(tsvector_to_array(s.name_doc)) AS w(word)
WHERE s.company_id BETWEEN {first} AND {last}
ON CONFLICT (company_id, word) DO NOTHING
"""
BUILD_SEARCH_TERMS = """
CREATE TEMPORARY TABLE synthetic_search_terms ON COMMIT DROP AS
SELECT DISTINCT w.term
FROM (SELECT DISTINCT token FROM proveo.company_search_token
      WHERE company_id BETWEEN {first} AND {last}) AS tokens,
     LATERAL proveo.search_terms(tokens.token) AS w(term)
"""
INSERT_SEARCH_TERMS = """
INSERT INTO proveo.search_term (term) SELECT term FROM synthetic_search_terms
ON CONFLICT (term) DO NOTHING
"""
DROP_SEARCH_BUILD = "DROP TABLE synthetic_search_texts, synthetic_search_terms"


async def index_companies_in_parallel(
    conn: Connection, first: int, last: int, workers: int
) -> None:
    """Search rows and vocabulary for the companies with ids first..last, built by up to
    `workers` processes besides this one."""
    for setting in PARALLEL_PLANNING:
        await conn.execute(setting.format(workers=int(workers)))
    bounds = {"first": int(first), "last": int(last)}
    for statement in (BUILD_SEARCH_TEXTS, INSERT_SEARCH_ROWS, INSERT_CATEGORY_ROWS,
                      INSERT_SERVED_ROWS, INSERT_NAME_WORD_ROWS, BUILD_SEARCH_TERMS,
                      INSERT_SEARCH_TERMS,
                      DROP_SEARCH_BUILD):  # fmt: skip
        await conn.execute(statement.format(**bounds), timeout=BULK_TIMEOUT_SECONDS)


# The search tables' indexes but their primary keys (the refresh writes by them): words, names,
# trigrams, categories, regions. For a large seed, dropped and built again at the end, in the
# seed's transaction. Built in one pass they cost a fraction of row-by-row inserts (measured at
# 20,000 companies: 5 of 36 s, and the share grows with the table).
SELECT_SEARCH_SECONDARY_INDEXES = """
SELECT i.indexname, i.indexdef
FROM pg_indexes i
WHERE i.schemaname = 'proveo'
  AND i.tablename IN ('company_search', 'company_search_category', 'company_search_served',
                      'company_search_name_word')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                  WHERE k.conname = i.indexname AND k.connamespace = 'proveo'::regnamespace)
ORDER BY i.indexname
"""
# Index builds are sorted in memory up to this much (per build; the seed runs one at a time).
INDEX_BUILD_MEMORY = "SET LOCAL maintenance_work_mem = '512MB'"


async def drop_search_secondary_indexes(conn: Connection) -> list[str]:
    """Drops the search tables' indexes but their primary keys and returns their definitions."""
    rows = await conn.fetch(SELECT_SEARCH_SECONDARY_INDEXES)
    for row in rows:
        name = row["indexname"].replace('"', '""')
        await conn.execute(f'DROP INDEX proveo."{name}"')
    return [row["indexdef"] for row in rows]


async def create_indexes(conn: Connection, definitions: Sequence[str]) -> None:
    await conn.execute(INDEX_BUILD_MEMORY)
    for definition in definitions:
        await conn.execute(definition, timeout=BULK_TIMEOUT_SECONDS)


async def analyze_directory(conn: Connection) -> None:
    await conn.execute(ANALYZE_DIRECTORY, timeout=BULK_TIMEOUT_SECONDS)
