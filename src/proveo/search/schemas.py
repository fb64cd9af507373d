"""Search requests as the repository takes them, and the results the API answers with."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Lang = Literal["es", "en"]


class SearchParams(BaseModel):
    """A search, already resolved: `q` normalised (search/service.py `normalise_query`), the
    filters as catalogue uuids."""

    model_config = ConfigDict(frozen=True)

    q: str = ""
    commune: UUID | None = None
    product: UUID | None = None
    # A region (its catalogue name), and an area: a set of communes (Greater Santiago).
    region: str | None = None
    area: tuple[UUID, ...] | None = None
    # The region of the place filter (commune, region or area): the companies that serve it
    # are listed after those located there. None without a place filter.
    place_region: str | None = None
    # Which of the two a statement reads: `located` in the place, or `serves` it (elsewhere).
    scope: Literal["located", "serves"] = "located"
    lang: Lang = "es"
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0)
    # The filters' catalogue ids (commune, product, area), looked up once per search by the
    # repository (`search.repository.with_filter_ids`); None until then.
    catalogue_ids: tuple[int | None, int | None, tuple[int, ...] | None] | None = None

    @property
    def words(self) -> list[str]:
        return self.q.split()


class SearchHit(BaseModel):
    uuid: UUID
    # The company page's address: /empresas/{slug}, /en/companies/{slug}. Optional only so that
    # pages cached before slugs existed still read.
    slug: str | None = None
    name: str
    description: str
    product_name: str
    commune_name: str
    address: str
    phone: str
    email: str
    image_url: str | None
    # With a commune or region filter: located there, or located elsewhere and serving it.
    match: Literal["located", "serves"] | None = None


class SearchPage(BaseModel):
    """`match` says how the items were found: by the words as given, by the `corrected` words
    (the given ones matched nothing), or as names `similar` to the whole query."""

    items: list[SearchHit]
    # False: counting stopped at `total` (1,000): more companies match ("más de 1.000").
    total: int
    total_exact: bool = True
    match: Literal["words", "corrected", "similar"] = "words"
    corrected: str | None = None
    # Few results for a commune: the same search in its region (the region's name).
    region_offer: str | None = None


class FacetCount(BaseModel):
    uuid: UUID
    name: str
    count: int


class RegionCount(BaseModel):
    slug: str
    name: str
    count: int


class Place(BaseModel):
    """The place a search is filtered by: a filter it was given, or place words of its query
    (`from_query`: a region or Greater Santiago that were taken out of the words)."""

    kind: Literal["commune", "region", "greater_santiago"]
    name: str
    slug: str | None = None
    from_query: bool = False
    # A filter given, and another place named among the words (a region, or Greater Santiago
    # outside the filter's region): the filter is searched, and the words' place is offered
    # (the same search without the filter).
    words_place_kind: Literal["region", "greater_santiago"] | None = None
    words_place_name: str | None = None


class RegionOffer(BaseModel):
    """The same search in the commune's region, when the commune has few results."""

    slug: str
    name: str
    # Up to 1,000, as a search's total; `count_exact` False: more than that.
    count: int
    count_exact: bool = True
    # The commune with few results.
    commune: str
    # The words of the offered search: the query without the commune's name.
    q: str


class Facets(BaseModel):
    # As a search page's: `total_exact` False means more than `total` (1,000) match. The
    # counts below are exact as far as the total is, then estimates (`counts_exact` False),
    # from the first 1,001 matches, scaled.
    total: int
    total_exact: bool = True
    counts_exact: bool = True
    # As a search page's `match`: "similar" when the counts are of the names similar to the
    # whole query (its words found nothing).
    match: Literal["words", "corrected", "similar"] = "words"
    communes: list[FacetCount]
    products: list[FacetCount]
    regions: list[RegionCount] = []
    place: Place | None = None
    region_offer: RegionOffer | None = None
    # With no results: categories where the same words do find companies (else the popular).
    related_products: list[FacetCount] = []
    # True: the related categories are where the same words find companies (search them with
    # the words); False: the popular categories (search them without).
    related_with_query: bool = False


class PopularProduct(BaseModel):
    uuid: UUID
    name: str
    searches: int
    companies: int


class Suggestion(BaseModel):
    text: str
    kind: Literal["company", "product", "commune"]
    uuid: UUID
