from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict

from proveo.core.text import Name


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

    name_es: Name
    name_en: Name


class CommuneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    region: Name
