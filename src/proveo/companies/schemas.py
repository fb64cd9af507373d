"""Companies as clients send them (multipart forms) and as the API answers them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import idna
import phonenumbers
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

from proveo.accounts.schemas import Email
from proveo.catalog.data import REGIONS
from proveo.catalog.schemas import ProductPublic
from proveo.core.text import Description, Name, clean_line
from proveo.search.places import resolve_region

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


# --- RUT (Rol Único Tributario) ------------------------------------------------------------

_RUT_SHAPE = re.compile(r"^0*([1-9][0-9]{0,7})-?([0-9K])$")


def rut_check_digit(number: int) -> str:
    """Módulo 11: the digits from the right times 2, 3, 4, 5, 6, 7, 2, 3, ...; 11 minus the
    sum's remainder is the digit, 11 is 0 and 10 is K."""
    total, factor = 0, 2
    while number:
        total += (number % 10) * factor
        number //= 10
        factor = 2 if factor == 7 else factor + 1
    digit = 11 - total % 11
    return {11: "0", 10: "K"}.get(digit, str(digit))


def normalise_rut(value: str) -> str:
    """`12.345.678-5`, `12345678-5`, `123456785` (and a lower-case `k`) as `12345678-5`; a
    wrong check digit or shape is refused (`invalid_rut`)."""
    compact = re.sub(r"[\s.]", "", value).upper()
    match = _RUT_SHAPE.match(compact)
    if match is None:
        raise PydanticCustomError(
            "invalid_rut",
            "must be a RUT: the number and its check digit, such as 12.345.678-5",
        )
    number, digit = match.groups()
    expected = rut_check_digit(int(number))
    if digit != expected:
        raise PydanticCustomError(
            "invalid_rut",
            "the check digit does not match the number: the check digit of {number} is "
            "{expected}, not {digit}",
            {"number": format_rut(f"{number}-0")[:-2], "expected": expected, "digit": digit},
        )
    return f"{number}-{digit}"


def format_rut(rut: str) -> str:
    """A normalised RUT as people write it: `12.345.678-5`."""
    number, digit = rut.split("-")
    return f"{int(number):,}".replace(",", ".") + f"-{digit}"


def format_phone(phone: str) -> str:
    """A stored (E.164) Chilean number as people write it, `+56 9 8231 4576`, as the pages
    show it (js/market/company-view.js has the same); others as they are."""
    m = re.fullmatch(r"\+56(9|2)(\d{4})(\d{4})", phone or "")
    if m:
        return f"+56 {m[1]} {m[2]} {m[3]}"
    m = re.fullmatch(r"\+56(\d{2})(\d{3})(\d{4})", phone or "")
    if m:
        return f"+56 {m[1]} {m[2]} {m[3]}"
    return phone or ""


# --- Website -----------------------------------------------------------------------------

WEBSITE_MAX_LENGTH = 300
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})+$")  # a domain name with a dot


# Accented letters of the languages a Chilean directory meets (NIC Chile's own are á é í ó ú ü ñ):
# any other, a dot below or above included (`bancoestadọ.cl`), is shown in its ASCII form.
_READABLE_LETTERS = frozenset("áéíóúüñàèìòùâêîôûäëïöçãõ")


def _readable_host(ascii_host: str) -> str:
    """The host as it is stored and shown: in its own letters when each is a plain letter or
    one of a few accented ones (`ñandú.cl`), else in its ASCII form (`xn--pple-43d.com`), so
    that a name in another script or in look-alike letters (Cyrillic `аpple.com`) cannot pass
    for a Latin one. Full-width letters and dots are already read as plain ones
    (`ｅｖｉｌ.cl。com`)."""
    try:
        host = idna.decode(ascii_host)
    except (idna.IDNAError, UnicodeError):
        return ascii_host
    if all(char.isascii() or char in _READABLE_LETTERS for char in host):
        return host
    return ascii_host


def normalise_website(value: str) -> str:
    """An http or https address with a host name; `www.empresa.cl` gets `https://`, the host is
    written in lower case and in letters nobody can mistake (`_readable_host`). Any other scheme
    (`javascript:`, `data:`, `ftp:`) is refused (`invalid_website`)."""
    url = value.strip()
    if not _HAS_SCHEME.match(url):
        url = f"https://{url}"
    problem = PydanticCustomError(
        "invalid_website", "must be a web address starting with http:// or https://"
    )
    # Invisible and direction characters (U+200B, U+200D, U+202E…) make an address that reads
    # as another, or one a browser will not open.
    if any(
        char.isspace() or ord(char) < 32 or ord(char) == 127 or unicodedata.category(char) == "Cf"
        for char in url
    ):
        raise problem
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        raise problem from None
    if parts.scheme.lower() not in ("http", "https") or parts.username is not None:
        raise problem
    try:
        # UTS #46 without the transitional mapping, as browsers read a host (`ß` stays `ß`).
        ascii_host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise problem from None
    if not _HOST.match(ascii_host):
        raise problem
    shown_host = _readable_host(ascii_host)
    netloc = shown_host if parts.port is None else f"{shown_host}:{parts.port}"
    url = urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))
    if len(url) > WEBSITE_MAX_LENGTH:
        raise PydanticCustomError(
            "string_too_long", "must be at most {max} characters", {"max": WEBSITE_MAX_LENGTH}
        )
    return url


# --- Year, size, lists -------------------------------------------------------------------

YEAR_FOUNDED_MIN = 1800
SIZE_BANDS = ("1-9", "10-49", "50-199", "200+")
SizeBand = Literal["1-9", "10-49", "50-199", "200+"]
MAX_EXTRA_PRODUCTS = 2
MAX_PHOTOS = 6


def _year_founded(value: int) -> int:
    this_year = datetime.now(UTC).year
    if not YEAR_FOUNDED_MIN <= value <= this_year:
        raise PydanticCustomError(
            "year_out_of_range",
            "must be a year from {low} to {high}",
            {"low": YEAR_FOUNDED_MIN, "high": this_year},
        )
    return value


def _region_words(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    words = re.sub(r"[^a-z0-9]+", " ", plain.replace("'", "")).split()
    if words[:1] == ["region"]:  # "Región de Valparaíso", "Region del Biobio"
        words = words[1:]
        if words[:1] in (["de"], ["del"]):
            words = words[1:]
        if words[:1] in (["la"], ["los"]) and " ".join(words) not in _REGION_WORDS:
            words = words[1:]
    return " ".join(words)


_REGION_WORDS: dict[str, str] = {}
_REGION_WORDS.update({_region_words(region): region for region in REGIONS})


def match_region(value: str) -> str:
    """One of the 16 regions, without accents or case: its name (`valparaiso`), with
    "Región de" (`Región de Valparaíso`), or a word run that names only it (`metropolitana`,
    `santiago`, `ohiggins`, `aysen`). Returned as REGIONS spells it."""
    words = _region_words(value)
    if words in _REGION_WORDS:
        return _REGION_WORDS[words]
    # The names the search's `region` filter takes too (`RM`, `Bío Bío`): one reading of a
    # region everywhere.
    named = resolve_region(value, _region_words)
    if named is not None:
        return named
    found = {
        region
        for name, region in _REGION_WORDS.items()
        if len(words) >= 4 and f" {words} " in f" {name} "
    }
    if len(found) == 1:
        return found.pop()
    raise PydanticCustomError(
        "unknown_region", "must be one of the regions of Chile: {regions}",
        {"regions": "; ".join(REGIONS)},
    )  # fmt: skip


def _drop_blank_items(value: Any) -> Any:
    """A list field sent as one empty part (a form with nothing chosen) is the empty list."""
    if isinstance(value, list):
        return [item for item in value if not (isinstance(item, str) and not item.strip())]
    return value


Website = Annotated[
    str, StringConstraints(min_length=1, max_length=2000), AfterValidator(normalise_website)
]
Rut = Annotated[str, StringConstraints(min_length=1, max_length=20), AfterValidator(normalise_rut)]
YearFounded = Annotated[int, AfterValidator(_year_founded)]
ExtraProducts = Annotated[list[UUID], BeforeValidator(_drop_blank_items)]
ServedRegion = Annotated[
    str, StringConstraints(min_length=1, max_length=100), AfterValidator(match_region)
]
ServedRegions = Annotated[list[ServedRegion], BeforeValidator(_drop_blank_items)]

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
    website: Website | None = None
    rut: Rut | None = None
    year_founded: YearFounded | None = None
    size_band: SizeBand | None = None
    # Up to two categories besides the primary one (a part each, by uuid).
    extra_product_uuids: ExtraProducts | None = None
    # The regions served besides the commune's own (a part each, by name); or all of Chile.
    served_regions: ServedRegions | None = None
    serves_all_chile: bool | None = None


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
    # Sent empty, these are removed (see CompanyPatch); the lists are replaced whole.
    website: Website | None = None
    rut: Rut | None = None
    year_founded: YearFounded | None = None
    size_band: SizeBand | None = None
    extra_product_uuids: ExtraProducts | None = None
    served_regions: ServedRegions | None = None
    serves_all_chile: bool | None = None


# The optional fields an edit removes when they are sent empty.
CLEARABLE_FIELDS = frozenset({"website", "rut", "year_founded", "size_band"})
# Fields sent as one part per item.
LIST_FIELDS = frozenset({"extra_product_uuids", "served_regions"})


@dataclass(frozen=True)
class CompanyPatch:
    """An edit: the fields sent, and the optional ones sent empty (to remove)."""

    fields: CompanyUpdate
    cleared: frozenset[str] = frozenset()


class PhotoRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    uuid: UUID
    image_key: str
    position: int
    pending: bool  # held for an admin's decision: not shown publicly


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
    slug: str
    website: str | None
    rut: str | None
    year_founded: int | None
    size_band: SizeBand | None
    served_regions: list[str]  # as stored: besides the own region, or all 16
    extra_products: list[ProductPublic]
    photos: list[PhotoRecord]
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
    slug: str
    website: str | None
    rut: str | None  # normalised: 12345678-5
    rut_formatted: str | None  # as people write it: 12.345.678-5
    year_founded: int | None
    size_band: SizeBand | None
    # Every region served, the commune's own first, then in REGIONS order (north to south).
    served_regions: list[str]
    serves_all_chile: bool
    extra_products: list[ProductPublic]
    photos: list[CompanyPhoto]
    created_at: datetime
    updated_at: datetime


class CompanyPhoto(BaseModel):
    """A gallery photo. Publicly only approved ones are listed; the owner also sees those held
    for review (`pending_review`, no URLs: held images are not served)."""

    uuid: UUID
    position: int
    image_url: str | None
    thumbnail_url: str | None
    pending_review: bool


class CompanyPrivate(CompanyPublic):
    """What the owner and admins see besides: the owner, a logo awaiting review, deletion."""

    owner_uuid: UUID
    image_pending_review: bool
    deleted_at: datetime | None


class PhotoOrder(BaseModel):
    """`PUT .../photos/order`: every photo of the gallery, once, in the new order."""

    model_config = ConfigDict(extra="forbid")

    photos: list[UUID]


class CompanyDeleted(BaseModel):
    message: str
    uuid: UUID
