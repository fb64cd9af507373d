from __future__ import annotations

import unicodedata
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints


def _clean(value: str) -> str:
    cleaned = "".join(c for c in value if unicodedata.category(c)[0] != "C").strip()
    if not cleaned:
        raise ValueError("must not be blank")
    return cleaned


CatalogName = Annotated[
    str, StringConstraints(min_length=1, max_length=100), AfterValidator(_clean)
]


class ProductPublic(BaseModel):
    model_config = ConfigDict(frozen=True)

    uuid: UUID
    name_es: str
    name_en: str


class CommunePublic(BaseModel):
    model_config = ConfigDict(frozen=True)

    uuid: UUID
    name: str
    region: str


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_es: CatalogName
    name_en: CatalogName


class CommuneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: CatalogName
    region: CatalogName
