from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict


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
