from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from proveo.catalog.data import REGIONS, fold
from proveo.core.text import CatalogName

_REGIONS_BY_FOLD = {fold(region): region for region in REGIONS}


def _known_region(value: str) -> str:
    """One of the 16 regions, matched ignoring accents and case, stored as spelled in REGIONS."""
    region = _REGIONS_BY_FOLD.get(fold(value))
    if region is None:
        raise PydanticCustomError(
            "unknown_region", "must be one of the regions of Chile: {regions}",
            {"regions": "; ".join(REGIONS)},
        )  # fmt: skip
    return region


Region = Annotated[CatalogName, AfterValidator(_known_region)]


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
    region: Region
