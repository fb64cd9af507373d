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
    lang: Lang = "es"
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0)

    @property
    def words(self) -> list[str]:
        return self.q.split()


class SearchHit(BaseModel):
    uuid: UUID
    name: str
    description: str
    product_name: str
    commune_name: str
    address: str
    phone: str
    email: str
    image_url: str | None


class SearchPage(BaseModel):
    """`match` says how the items were found: by the words as given, by the `corrected` words
    (the given ones matched nothing), or as names `similar` to the whole query."""

    items: list[SearchHit]
    total: int
    match: Literal["words", "corrected", "similar"] = "words"
    corrected: str | None = None


class FacetCount(BaseModel):
    uuid: UUID
    name: str
    count: int


class Facets(BaseModel):
    total: int
    communes: list[FacetCount]
    products: list[FacetCount]


class Suggestion(BaseModel):
    text: str
    kind: Literal["company", "product", "commune"]
    uuid: UUID
