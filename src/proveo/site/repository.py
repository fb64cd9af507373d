"""SQL for the public pages: slugs, landing pages, sitemap chunks. Read-only."""

from __future__ import annotations

from uuid import UUID

from proveo.core.db import Connection
from proveo.site.schemas import (
    Category,
    CompanyList,
    ListedCompany,
    NearbyPlace,
    Place,
    SitemapChunk,
    SitemapEntry,
    SlugTarget,
)

SELECT_SLUG_TARGET = """
SELECT c.uuid, c.slug
FROM proveo.company_slug s
JOIN proveo.company c ON c.id = s.company_id
WHERE s.slug = $1 AND c.deleted_at IS NULL
"""

SELECT_SLUG_OF_COMPANY = """
SELECT c.uuid, c.slug FROM proveo.company c WHERE c.uuid = $1 AND c.deleted_at IS NULL
"""

_CATEGORY = """
SELECT p.id, p.uuid, p.name_es, p.name_en,
       proveo.slugify(p.name_es) AS slug_es, proveo.slugify(p.name_en) AS slug_en
FROM proveo.product p
"""
# A category answers at its Spanish slug and its English one.
SELECT_CATEGORY_BY_SLUG = (
    _CATEGORY
    + "WHERE proveo.slugify(p.name_es) = $1 OR proveo.slugify(p.name_en) = $1\n"
    + "ORDER BY proveo.slugify(p.name_es) = $1 DESC, p.id LIMIT 1"
)
SELECT_CATEGORY_BY_UUID = _CATEGORY + "WHERE p.uuid = $1"

SELECT_COMMUNE_BY_SLUG = """
SELECT 'commune' AS kind, proveo.slugify(co.name) AS slug, co.name, co.region,
       co.id AS commune_id
FROM proveo.commune co
WHERE proveo.slugify(co.name) = $1
ORDER BY co.id
LIMIT 1
"""

SELECT_REGION_BY_SLUG = """
SELECT DISTINCT 'region' AS kind, 'region-' || proveo.slugify(co.region) AS slug,
       co.region AS name, co.region
FROM proveo.commune co
WHERE 'region-' || proveo.slugify(co.region) = $1
LIMIT 1
"""

# Companies of a category (primary or one of the extra ones) located in a commune, a region or
# anywhere ($2, $3), or, with $4, located elsewhere and serving region $4 (as search reads a
# place: the commune's region, or the region itself).
_LOCATED = "(($2::bigint IS NULL OR c.commune_id = $2) AND ($3::text IS NULL OR co.region = $3))"
_IN_CATEGORY = f"""
FROM proveo.company c
JOIN proveo.commune co ON co.id = c.commune_id
JOIN proveo.product p ON p.id = c.product_id
WHERE c.deleted_at IS NULL
  AND (c.product_id = $1 OR EXISTS (
        SELECT 1 FROM proveo.company_product cp
        WHERE cp.company_id = c.id AND cp.product_id = $1))
  AND ({_LOCATED} OR ($4::text IS NOT NULL AND c.served_regions @> ARRAY[$4::text]))
"""

SELECT_COMPANIES_IN_CATEGORY = (
    f"""
SELECT c.uuid, c.slug, c.name,
       CASE WHEN $5 = 'en'
            THEN coalesce(c.description_en, c.description_es, '')
            ELSE coalesce(c.description_es, c.description_en, '') END AS description,
       co.name AS commune_name, co.region AS commune_region,
       p.name_es AS product_name_es, p.name_en AS product_name_en,
       c.image_key, c.updated_at, NOT {_LOCATED} AS serves
"""
    + _IN_CATEGORY
    + f"ORDER BY {_LOCATED} DESC, c.name, c.id LIMIT $6 OFFSET $7"
)

COUNT_COMPANIES_IN_CATEGORY = "SELECT count(*)" + _IN_CATEGORY

# Where else this category has companies: regions (anywhere) or communes (within a region).
SELECT_REGIONS_OF_CATEGORY = (
    "SELECT 'region-' || proveo.slugify(co.region) AS slug, co.region AS name, count(*) AS count"
    + _IN_CATEGORY
    + "GROUP BY co.region ORDER BY count(*) DESC, co.region LIMIT $5"
)
SELECT_COMMUNES_OF_CATEGORY = (
    "SELECT proveo.slugify(co.name) AS slug, co.name, count(*) AS count"
    + _IN_CATEGORY
    + "GROUP BY co.name ORDER BY count(*) DESC, co.name LIMIT $5"
)

# Sitemap chunks: one pass over the live companies in id order, cut every $1 rows. The chunk's
# own rows are then read by keyset (id >= first_id) through the primary key.
SELECT_COMPANY_CHUNKS = """
SELECT ((n - 1) / $1)::int + 1 AS number, min(id) AS first_id, max(updated_at) AS lastmod
FROM (
    SELECT id, updated_at, row_number() OVER (ORDER BY id) AS n
    FROM proveo.company WHERE deleted_at IS NULL
) numbered
GROUP BY 1
ORDER BY 1
"""

SELECT_COMPANY_SLUGS_FROM = """
SELECT slug, updated_at FROM proveo.company
WHERE deleted_at IS NULL AND id >= $1
ORDER BY id
LIMIT $2
"""

# Every landing page that lists at least one company: a category alone, with a region, with a
# commune; the newest change among its companies. The companies are first reduced to one row per
# (category, commune) pair, and each name is made a slug once (MATERIALIZED: an inlined CTE
# would run slugify again for every row it joins, the costly part).
SELECT_LANDINGS = """
WITH listed AS (
    SELECT c.product_id, c.commune_id, c.updated_at
    FROM proveo.company c WHERE c.deleted_at IS NULL
    UNION ALL
    SELECT cp.product_id, c.commune_id, c.updated_at
    FROM proveo.company_product cp JOIN proveo.company c ON c.id = cp.company_id
    WHERE c.deleted_at IS NULL
),
pairs AS (
    SELECT product_id, commune_id, max(updated_at) AS lastmod
    FROM listed GROUP BY product_id, commune_id
),
products AS MATERIALIZED (
    SELECT id, proveo.slugify(name_es) AS slug_es, proveo.slugify(name_en) AS slug_en
    FROM proveo.product WHERE id IN (SELECT product_id FROM pairs)
),
communes AS MATERIALIZED (
    SELECT id, proveo.slugify(name) AS slug, region
    FROM proveo.commune WHERE id IN (SELECT commune_id FROM pairs)
),
regions AS MATERIALIZED (
    SELECT region, 'region-' || proveo.slugify(region) AS slug
    FROM (SELECT DISTINCT region FROM communes) r
),
grouped AS (
    SELECT pairs.product_id, co.region, pairs.commune_id, max(pairs.lastmod) AS lastmod,
           GROUPING(co.region) AS no_region, GROUPING(pairs.commune_id) AS no_commune
    FROM pairs JOIN communes co ON co.id = pairs.commune_id
    GROUP BY GROUPING SETS ((pairs.product_id), (pairs.product_id, co.region),
                            (pairs.product_id, co.region, pairs.commune_id))
)
SELECT p.slug_es, p.slug_en,
       CASE WHEN g.no_commune = 0 THEN co.slug WHEN g.no_region = 0 THEN r.slug END AS place,
       g.lastmod
FROM grouped g
JOIN products p ON p.id = g.product_id
LEFT JOIN communes co ON g.no_commune = 0 AND co.id = g.commune_id
LEFT JOIN regions r ON g.no_region = 0 AND r.region = g.region
ORDER BY 1, 3 NULLS FIRST
"""


async def select_slug_target(conn: Connection, slug: str) -> SlugTarget | None:
    row = await conn.fetchrow(SELECT_SLUG_TARGET, slug)
    return SlugTarget.model_validate(dict(row)) if row else None


async def select_slug_of_company(conn: Connection, company_uuid: UUID) -> SlugTarget | None:
    row = await conn.fetchrow(SELECT_SLUG_OF_COMPANY, company_uuid)
    return SlugTarget.model_validate(dict(row)) if row else None


async def select_category_by_slug(conn: Connection, slug: str) -> Category | None:
    row = await conn.fetchrow(SELECT_CATEGORY_BY_SLUG, slug)
    return Category.model_validate(dict(row)) if row else None


async def select_category_by_uuid(conn: Connection, category_uuid: UUID) -> Category | None:
    row = await conn.fetchrow(SELECT_CATEGORY_BY_UUID, category_uuid)
    return Category.model_validate(dict(row)) if row else None


async def select_place_by_slug(conn: Connection, slug: str) -> Place | None:
    query = SELECT_REGION_BY_SLUG if slug.startswith("region-") else SELECT_COMMUNE_BY_SLUG
    row = await conn.fetchrow(query, slug)
    return Place.model_validate(dict(row)) if row else None


def _where(
    category: Category, place: Place | None
) -> tuple[int, int | None, str | None, str | None]:
    if place is None:
        return category.id, None, None, None
    if place.kind == "commune":
        return category.id, place.commune_id, None, place.region
    return category.id, None, place.region, place.region


async def select_companies_in_category(
    conn: Connection, category: Category, place: Place | None, *, lang: str, limit: int, offset: int
) -> CompanyList:
    where = _where(category, place)
    total = await conn.fetchval(COUNT_COMPANIES_IN_CATEGORY, *where)
    rows = await conn.fetch(SELECT_COMPANIES_IN_CATEGORY, *where, lang, limit, offset)
    return CompanyList(
        items=[ListedCompany.model_validate(dict(row)) for row in rows], total=int(total or 0)
    )


async def select_places_of_category(
    conn: Connection, category: Category, place: Place | None, *, limit: int
) -> list[NearbyPlace]:
    """Regions with companies of the category (Chile-wide page), or its communes (a region's)."""
    if place is None:
        rows = await conn.fetch(SELECT_REGIONS_OF_CATEGORY, category.id, None, None, None, limit)
    else:
        rows = await conn.fetch(
            SELECT_COMMUNES_OF_CATEGORY, category.id, None, place.region, None, limit
        )
    return [NearbyPlace.model_validate(dict(row)) for row in rows]


async def select_company_chunks(conn: Connection, size: int) -> list[SitemapChunk]:
    rows = await conn.fetch(SELECT_COMPANY_CHUNKS, size)
    return [SitemapChunk.model_validate(dict(row)) for row in rows]


async def select_company_slugs_from(
    conn: Connection, first_id: int, limit: int
) -> list[tuple[str, object]]:
    rows = await conn.fetch(SELECT_COMPANY_SLUGS_FROM, first_id, limit)
    return [(row["slug"], row["updated_at"]) for row in rows]


async def select_landings(conn: Connection) -> list[SitemapEntry]:
    rows = await conn.fetch(SELECT_LANDINGS)
    entries = []
    for row in rows:
        place = f"/{row['place']}" if row["place"] else ""
        entries.append(
            SitemapEntry(
                path_es=f"/proveedores/{row['slug_es']}{place}",
                path_en=f"/en/providers/{row['slug_en']}{place}",
                lastmod=row["lastmod"],
            )
        )
    return entries
