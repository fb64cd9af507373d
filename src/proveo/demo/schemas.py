"""The data the synthetic generator makes and the bulk repository writes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SyntheticCompany:
    index: int
    owner_uuid: uuid.UUID
    owner_name: str
    owner_email: str
    owner_lang: str
    uuid: uuid.UUID
    name: str
    product: str  # name_es
    commune: str
    description_es: str | None
    description_en: str | None
    original_lang: str
    es_source: str
    en_source: str
    address: str
    phone: str
    email: str
    created_at: datetime
    website: str | None = None
    rut: str | None = None  # normalised, 76123456-K
    year_founded: int | None = None
    size_band: str | None = None
    served_regions: tuple[str, ...] = ()  # besides the commune's own, or all 16
    extra_products: tuple[str, ...] = ()  # name_es, at most two, none the primary
