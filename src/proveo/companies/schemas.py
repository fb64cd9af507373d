"""Companies as clients send them (multipart forms) and as the API answers them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

from proveo.accounts.schemas import Email
from proveo.core.text import Description, Name, clean_line

Lang = Literal["es", "en"]
DescriptionSource = Literal["original", "machine", "human", "pending"]

PHONE_REGION = "CL"  # numbers written without a country code are Chilean


def normalise_phone(value: str) -> str:
    """Any number `phonenumbers` finds valid, Chilean by default, as E.164 (`+56912345678`).

    A number with an extension (`ext 12`, `;ext=12`, `x12`, `#12`, `anexo 12`, `,12`) is refused:
    E.164 has no place for it, and storing the number without it would silently lose it."""
    try:
        number = phonenumbers.parse(value, PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise PydanticCustomError("invalid_phone", "must be a valid phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise PydanticCustomError("invalid_phone", "must be a valid phone number")
    if number.extension:
        raise PydanticCustomError(
            "phone_extension",
            "must be a phone number without an extension: give a direct number",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


Address = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(clean_line)
]
Phone = Annotated[
    str,
    StringConstraints(min_length=1, max_length=40),
    AfterValidator(clean_line),
    AfterValidator(normalise_phone),
]


class CompanyCreate(BaseModel):
    """`POST /companies` (multipart, with the `image` file). Name either the commune or its
    uuid, and likewise the product; give at least one description."""

    name: Name
    commune_name: Name | None = None
    commune_uuid: UUID | None = None
    product_name: Name | None = None
    product_uuid: UUID | None = None
    address: Address
    phone: Phone
    email: Email
    description_es: Description | None = None
    description_en: Description | None = None
    lang: Lang  # the language the owner writes in: with both descriptions, the original


class CompanyUpdate(BaseModel):
    """`PATCH` (multipart): only the fields sent change; a new `image` replaces the logo."""

    name: Name | None = None
    commune_name: Name | None = None
    commune_uuid: UUID | None = None
    product_name: Name | None = None
    product_uuid: UUID | None = None
    address: Address | None = None
    phone: Phone | None = None
    email: Email | None = None
    description_es: Description | None = None
    description_en: Description | None = None
    # Accepted so that a form sent for publishing can be sent again, and checked like there; the
    # original language is fixed at publication, so it changes nothing.
    lang: Lang | None = None


class CompanyRecord(BaseModel):
    """A company row with its catalogue names, as the repository returns it."""

    model_config = ConfigDict(frozen=True)

    id: int
    uuid: UUID
    user_id: int
    owner_uuid: UUID
    name: str
    description_es: str | None
    description_en: str | None
    description_original_lang: Lang
    description_es_source: DescriptionSource
    description_en_source: DescriptionSource
    address: str
    phone: str
    email: str
    image_key: str | None
    product_uuid: UUID
    product_name_es: str
    product_name_en: str
    commune_uuid: UUID
    commune_name: str
    commune_region: str
    image_pending_review: bool
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class CompanyPublic(BaseModel):
    """A company as anyone sees it. A description still `pending` translation shows the
    original text (its `_source` says so)."""

    uuid: UUID
    name: str
    description_es: str
    description_en: str
    description_original_lang: Lang
    description_es_source: DescriptionSource
    description_en_source: DescriptionSource
    product_uuid: UUID
    product_name_es: str
    product_name_en: str
    commune_uuid: UUID
    commune_name: str
    commune_region: str
    address: str
    phone: str
    email: str
    image_url: str | None
    thumbnail_url: str | None
    created_at: datetime
    updated_at: datetime


class CompanyPrivate(CompanyPublic):
    """What the owner and admins see besides: the owner, a logo awaiting review, deletion."""

    owner_uuid: UUID
    image_pending_review: bool
    deleted_at: datetime | None


class CompanyDeleted(BaseModel):
    message: str
    uuid: UUID
