"""`/companies/search`: keyword search, its facet counts and search-as-you-type suggestions.

Included before the companies router, whose `/companies/{company_uuid}` would take these paths.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import TypeAdapter

from proveo.core.deps import AppDatabase
from proveo.core.openapi import error_responses
from proveo.insights.deps import Audience
from proveo.search import service
from proveo.search.deps import Caches, Recorder
from proveo.search.schemas import Facets, Lang, PopularProduct, SearchHit, Suggestion

router = APIRouter(prefix="/companies/search", tags=["search"])

INVALID = (
    422,
    "Invalid parameters (`validation_error`), including a commune or product that does not exist",
)
DEEP_PAGE = (
    422,
    "Invalid parameters (`validation_error`), including a commune or product that does not "
    "exist; or a page past the first 1000 results (`page_too_deep`: offset + limit at most 1000)",
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
REGION = Annotated[
    str | None,
    Query(
        max_length=100,
        description="One of the 16 regions, by name, short name or slug (accents and case"
        " ignored: `metropolitana`, `valparaiso`, `los-rios`); an unknown one is a 422 that"
        " lists them. A commune or region filter also finds, after the companies located"
        " there, those that serve its region (`match`: `located` or `serves`)",
    ),
]
LANG = Annotated[Lang, Query(description="The language of descriptions and product names")]

# The service's answers are already validated models: written straight to JSON, not validated
# again on the way out (the response models stay in the OpenAPI document).
HITS = TypeAdapter(list[SearchHit])
POPULAR = TypeAdapter(list[PopularProduct])
SUGGESTIONS = TypeAdapter(list[Suggestion])


def _json(body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(body, media_type="application/json", headers=headers)


@router.get(
    "",
    name="companies:search",
    summary="Search companies (the total is in `X-Total-Count`)",
    response_model=list[SearchHit],
    responses={
        200: {
            "headers": {
                "X-Total-Count": {
                    "description": "How many companies match, on every page; counting stops"
                    " after 1,000, as deep as pages go (then `X-Total-Count-Exact` is `false`:"
                    " more match)",
                    "schema": {"type": "integer"},
                },
                "X-Total-Count-Exact": {
                    "description": "`true` when `X-Total-Count` is every match, `false` when"
                    " more than it match",
                    "schema": {"type": "string", "enum": ["true", "false"]},
                },
                "X-Search-Match": {
                    "description": "How they were found: `words` (as given), `corrected` (the"
                    " words as in `X-Search-Corrected`, when the given ones match nothing) or"
                    " `similar` (names similar to the whole query, when nothing else matches)",
                    "schema": {"type": "string", "enum": ["words", "corrected", "similar"]},
                },
                "X-Search-Corrected": {
                    "description": "The corrected query, when `X-Search-Match` is `corrected`",
                    "schema": {"type": "string"},
                },
                "X-Search-Region-Offer": {
                    "description": "A commune with fewer than 3 results: the slug of its"
                    " region, where the same search finds more (facets' `region_offer`)",
                    "schema": {"type": "string"},
                },
            }
        },
        **error_responses(DEEP_PAGE, 503),
    },
)
async def search(
    http: Request,
    database: AppDatabase,
    caches: Caches,
    recorder: Recorder,
    audience: Audience,
    q: Q = None,
    commune: COMMUNE = None,
    product: PRODUCT = None,
    region: REGION = None,
    lang: LANG = "es",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[
        int,
        Query(
            ge=0,
            le=service.MAX_RESULT_DEPTH - 1,
            description="At most 1000 − limit: search pages through the first 1000 results",
        ),
    ] = 0,
) -> Response:
    request = service.SearchRequest(q, commune, product, lang, limit, offset, region)
    searcher = http.client.host if http.client is not None else None
    page = await service.search_companies(
        database, caches, recorder, request, audience=audience, searcher=searcher
    )
    headers = {
        "X-Total-Count": str(page.total),
        "X-Total-Count-Exact": "true" if page.total_exact else "false",
        "X-Search-Match": page.match,
    }
    if page.corrected is not None:
        headers["X-Search-Corrected"] = page.corrected
    if page.region_offer is not None:
        headers["X-Search-Region-Offer"] = page.region_offer
    return _json(HITS.dump_json(page.items), headers)


@router.get(
    "/facets",
    name="companies:search_facets",
    summary="Companies per commune, region and product for a search, and help when it finds"
    " few: the commune's region (`region_offer`), related categories when none",
    response_model=Facets,
    responses=error_responses(INVALID, 503),
)
async def facets(
    database: AppDatabase,
    caches: Caches,
    q: Q = None,
    commune: COMMUNE = None,
    product: PRODUCT = None,
    region: REGION = None,
    lang: LANG = "es",
) -> Response:
    request = service.SearchRequest(q, commune, product, lang, region=region)
    found = await service.search_facets(database, caches, request)
    return _json(found.model_dump_json().encode())


@router.get(
    "/suggest",
    name="companies:search_suggest",
    summary="Up to 8 completions: products, communes and company names",
    response_model=list[Suggestion],
    responses=error_responses((422, "Invalid parameters (`validation_error`)"), 503),
)
async def suggest(
    database: AppDatabase,
    caches: Caches,
    q: Annotated[str | None, Query(max_length=100)] = None,
    lang: LANG = "es",
) -> Response:
    return _json(SUGGESTIONS.dump_json(await service.suggest(database, caches, q, lang)))


@router.get(
    "/popular",
    name="companies:search_popular",
    summary="The categories buyers search most (last 30 days), then those with most companies",
    response_model=list[PopularProduct],
    responses=error_responses((422, "Invalid parameters (`validation_error`)"), 503),
)
async def popular(
    database: AppDatabase,
    caches: Caches,
    lang: LANG = "es",
    limit: Annotated[int, Query(ge=1, le=service.MOST_POPULAR)] = 4,
) -> Response:
    return _json(POPULAR.dump_json(await service.popular_products(database, caches, lang, limit)))
