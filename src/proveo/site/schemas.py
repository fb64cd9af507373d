"""What the public pages read: slug targets, landing places, listed companies, sitemap pieces."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

Lang = Literal["es", "en"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class SlugTarget(_Frozen):
    """The live company a slug (current or former) names, and its current slug."""

    uuid: UUID
    slug: str


class Category(_Frozen):
    id: int
    uuid: UUID
    name_es: str
    name_en: str
    slug_es: str
    slug_en: str

    def name(self, lang: Lang) -> str:
        return self.name_en if lang == "en" else self.name_es

    def slug(self, lang: Lang) -> str:
        return self.slug_en if lang == "en" else self.slug_es


class Place(_Frozen):
    """A region (`region-<slug>`) or a commune (`<slug>`) a landing page narrows to."""

    kind: Literal["region", "commune"]
    slug: str
    name: str
    region: str
    commune_id: int | None = None


class ListedCompany(_Frozen):
    uuid: UUID
    slug: str
    name: str
    description: str
    commune_name: str
    commune_region: str
    product_name_es: str
    product_name_en: str
    image_key: str | None
    updated_at: datetime
    serves: bool = False  # located elsewhere, serving the page's place


class CompanyList(_Frozen):
    items: list[ListedCompany]
    total: int


class NearbyPlace(_Frozen):
    slug: str
    name: str
    count: int


class SitemapEntry(_Frozen):
    """One page in both languages: its Spanish and English paths and when it last changed."""

    path_es: str
    path_en: str
    lastmod: datetime | None


class SitemapChunk(_Frozen):
    """A `companies-N.xml` chunk: the first company id it holds and its newest change."""

    number: int
    first_id: int
    lastmod: datetime | None
