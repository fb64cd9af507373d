"""`/companies/search`: keyword search, its facet counts and search-as-you-type suggestions.

Included before the companies router, whose `/companies/{company_uuid}` would take these paths.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from proveo.core.deps import AppDatabase
from proveo.core.openapi import error_responses
from proveo.search import service
from proveo.search.deps import Caches, Recorder
from proveo.search.schemas import Facets, Lang, SearchHit, Suggestion

router = APIRouter(prefix="/companies/search", tags=["search"])

INVALID = (
    422,
    "Invalid parameters (`validation_error`), including a commune or product that does not exist",
)
Q = Annotated[
    str | None,
    Query(
        max_length=1000,
        description="Keywords, in Spanish or English; accents, case and punctuation are ignored",
    ),
]
COMMUNE = Annotated[str | None, Query(max_length=100, description="A commune's uuid or name")]
PRODUCT = Annotated[
    str | None, Query(max_length=100, description="A product's uuid or name (Spanish or English)")
]
LANG = Annotated[Lang, Query(description="The language of descriptions and product names")]


@router.get(
    "",
    name="companies:search",
    summary="Search companies (the total is in `X-Total-Count`)",
    responses=error_responses(INVALID, 503),
)
async def search(
    database: AppDatabase,
    caches: Caches,
    recorder: Recorder,
    response: Response,
    q: Q = None,
    commune: COMMUNE = None,
    product: PRODUCT = None,
    lang: LANG = "es",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[SearchHit]:
    request = service.SearchRequest(q, commune, product, lang, limit, offset)
    page = await service.search_companies(database, caches, recorder, request)
    response.headers["X-Total-Count"] = str(page.total)
    return page.items


@router.get(
    "/facets",
    name="companies:search_facets",
    summary="Companies per commune and per product for a search",
    responses=error_responses(INVALID, 503),
)
async def facets(
    database: AppDatabase,
    caches: Caches,
    q: Q = None,
    commune: COMMUNE = None,
    product: PRODUCT = None,
    lang: LANG = "es",
) -> Facets:
    request = service.SearchRequest(q, commune, product, lang)
    return await service.search_facets(database, caches, request)


@router.get(
    "/suggest",
    name="companies:search_suggest",
    summary="Up to 8 completions: products, communes and company names",
    responses=error_responses((422, "Invalid parameters (`validation_error`)"), 503),
)
async def suggest(
    database: AppDatabase,
    caches: Caches,
    q: Annotated[str | None, Query(max_length=100)] = None,
    lang: LANG = "es",
) -> list[Suggestion]:
    return await service.suggest(database, caches, q, lang)
