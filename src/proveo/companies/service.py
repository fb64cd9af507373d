"""Company rules: one live company per user, logos screened before anything is stored,
descriptions that remember where each language came from, and no orphaned objects.

Writes that carry an image take the Database rather than a connection: the image is analysed
and stored with no pooled connection held, then written in one short transaction. An image
stored for a write that fails is deleted again; an image a committed write replaced is returned
to the router, which deletes it once the response (after the commit) is on its way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from pydantic_core import PydanticCustomError

from proveo.accounts import service as accounts_service
from proveo.admin import service as admin_service
from proveo.catalog import service as catalog_service
from proveo.catalog.data import REGIONS
from proveo.companies import repository
from proveo.companies.repository import CompanyValues
from proveo.companies.schemas import (
    MAX_EXTRA_PRODUCTS,
    MAX_PHOTOS,
    CompanyCreate,
    CompanyPhoto,
    CompanyPrivate,
    CompanyPublic,
    CompanyRecord,
    CompanyUpdate,
    DescriptionSource,
    Lang,
    format_rut,
)
from proveo.core import metrics
from proveo.core.db import Connection, Database
from proveo.core.deps import delete_objects
from proveo.core.errors import AppError, Conflict, NotFound, TooManyRequests, Unprocessable
from proveo.core.inflight import InFlight
from proveo.core.ratelimit import LimitKind, RateLimiter
from proveo.core.text import clean_text
from proveo.imaging.client import ImageAnalyser
from proveo.imaging.errors import ImageTooLarge
from proveo.imaging.processing import TOO_MANY_BYTES
from proveo.integrations import storage as storage_names
from proveo.integrations.storage import ImageStorage, new_image_key
from proveo.integrations.translation import TranslationFailed, Translator
from proveo.moderation import service as moderation_service
from proveo.moderation.schemas import ModerationDecision, ModerationStatus

log = structlog.get_logger(__name__)

# Open-NSFW score thresholds (SPEC §4): at or above REJECT the upload is refused and nothing is
# stored; from HOLD up the company is published without it and an admin decides.
NSFW_REJECT_AT = 0.8
NSFW_HOLD_AT = 0.2
MAX_IMAGE_BYTES = 5 * 1024 * 1024
DESCRIPTION_MAX_LENGTH = 1000


class CompanyNotFound(NotFound):
    code = "company_not_found"
    default_detail = "Company not found"


class CompanyExists(Conflict):
    code = "company_exists"
    default_detail = "You already have a company: edit it instead"


class RutTaken(Conflict):
    code = "rut_taken"
    default_detail = "Another company on Proveo already has this RUT"


class NameBusy(Conflict):
    code = "company_name_busy"
    default_detail = (
        "Another company with the same name was saved at the same moment: send the form again"
    )


class SlugClash(NameBusy):
    """The trigger gave a concurrent write's slug: the write is tried once more."""


class GalleryFull(Conflict):
    code = "gallery_full"
    default_detail = f"The gallery already has {MAX_PHOTOS} photos: remove one first"


class PhotoNotFound(NotFound):
    code = "photo_not_found"
    default_detail = "No such photo in this gallery"


class ImageRefused(Unprocessable):
    code = "image_rejected"
    default_detail = "The image was refused by the content check"


class NoChanges(Unprocessable):
    code = "no_changes"
    default_detail = (
        "The form changes nothing: send the fields to change (besides `lang`) or a new image"
    )


# Unique constraints a company write may hit, by name.
_ONE_LIVE_COMPANY = "uq_company_user_live"
_RUT_LIVE = "uq_company_rut_live"
_SLUGS = frozenset({"uq_company_slug", "pk_company_slug"})


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str
    type: str


def invalid_fields(*problems: FieldProblem) -> Unprocessable:
    """A 422 shaped like the request validation's own (`validation_error`, a field list)."""
    return Unprocessable(
        [{"loc": ["body", p.field], "msg": p.message, "type": p.type} for p in problems]
    )


# --- Tools -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompanyTools:
    """What a company write with an image needs besides its input (the app's shared resources)."""

    database: Database
    storage: ImageStorage
    analyser: ImageAnalyser
    translator: Translator
    uploads: UploadLimits


@dataclass(frozen=True)
class UploadLimits:
    """Each account's share of the image pipeline: `at_once` uploads in progress, `per_hour`
    analysed in any hour. One account flooding uploads then holds at most `at_once` slots, and
    everyone else's logos go through the others."""

    in_flight: InFlight
    limiter: RateLimiter
    at_once: int = 1
    per_hour: int = 30


class UploadInProgress(TooManyRequests):
    code = "upload_in_progress"
    default_detail = "Your previous image is still being processed: wait for it, then send again"


class TooManyUploads(TooManyRequests):
    code = "too_many_uploads"
    default_detail = "Too many images sent in the last hour: try again later"


# Seconds a refused upload is told to wait while another of the account's is processed.
UPLOAD_RETRY_SECONDS = 5


@asynccontextmanager
async def admitted_upload(limits: UploadLimits, uploader: str) -> AsyncIterator[None]:
    """Run the block as one of `uploader`'s uploads, or raise UploadInProgress or
    TooManyUploads (429 with Retry-After)."""
    async with limits.in_flight.hold(f"upload:{uploader}", limits.at_once) as admitted:
        if not admitted:
            raise UploadInProgress(headers={"Retry-After": str(UPLOAD_RETRY_SECONDS)})
        hourly = await limits.limiter.hit(
            f"uploads:{uploader}", limit=limits.per_hour, window=3600, kind=LimitKind.ACCOUNTS
        )
        if not hourly.allowed:
            raise TooManyUploads(headers={"Retry-After": str(hourly.retry_after)})
        yield


# --- Images ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredImage:
    """An upload that passed the checks and is in storage (as `{key}.webp` and its thumbnail).

    `held`: its score asks for an admin's decision, so it is not the logo yet, and it is
    stored under the held prefix, which /images does not serve.
    """

    key: str
    nsfw_score: float
    held: bool

    @property
    def object_names(self) -> list[str]:
        return held_object_names(self.key) if self.held else image_object_names(self.key)


def image_object_names(image_key: str | None) -> list[str]:
    return [] if image_key is None else list(storage_names.image_object_names(image_key))


def held_object_names(image_key: str) -> list[str]:
    return list(storage_names.held_object_names(image_key))


async def store_image(
    analyser: ImageAnalyser, storage: ImageStorage, data: bytes, *, request_id: str | None = None
) -> StoredImage:
    """Validate, re-encode and score the upload, then store it under a new random key.

    Raises ImageTooLarge (413), UnsupportedImage (415), ImageRefused (422 `image_rejected`,
    nothing stored), ImageServiceUnavailable or StorageUnavailable (503).
    """
    try:
        if len(data) > MAX_IMAGE_BYTES:
            raise ImageTooLarge(TOO_MANY_BYTES)
        analysed = await analyser.analyse(data, request_id=request_id)
    except AppError as refused:
        metrics.image_refused(refused.code)
        raise
    if analysed.nsfw_score >= NSFW_REJECT_AT:
        metrics.image_decided("rejected")
        log.info("image_rejected", nsfw_score=round(analysed.nsfw_score, 3))
        raise ImageRefused()
    stored = StoredImage(
        key=new_image_key(),
        nsfw_score=analysed.nsfw_score,
        held=analysed.nsfw_score >= NSFW_HOLD_AT,
    )
    metrics.image_decided("held" if stored.held else "accepted")
    full, thumb = stored.object_names
    written: list[str] = []
    try:
        for name, body in ((full, analysed.full), (thumb, analysed.thumbnail)):
            await storage.put(name, body, "image/webp")
            written.append(name)
    except BaseException:
        await _discard(storage, written)
        raise
    return stored


async def _discard(storage: ImageStorage, names: list[str]) -> None:
    # Shielded: a cancelled request (the client went away) still removes what it stored.
    if names:
        await asyncio.shield(delete_objects(storage, names))


# --- Descriptions ------------------------------------------------------------------------


def _other(lang: Lang) -> Lang:
    return "en" if lang == "es" else "es"


@dataclass(frozen=True)
class Descriptions:
    """Both descriptions and their provenance. A `pending` one has no text yet."""

    original_lang: Lang
    es: str | None
    en: str | None
    es_source: DescriptionSource
    en_source: DescriptionSource

    def text(self, lang: Lang) -> str | None:
        return self.es if lang == "es" else self.en

    def source(self, lang: Lang) -> DescriptionSource:
        return self.es_source if lang == "es" else self.en_source

    def with_text(self, lang: Lang, text: str | None, source: DescriptionSource) -> Descriptions:
        if lang == "es":
            return dataclasses.replace(self, es=text, es_source=source)
        return dataclasses.replace(self, en=text, en_source=source)

    @classmethod
    def of(cls, record: CompanyRecord) -> Descriptions:
        return cls(
            original_lang=record.description_original_lang,
            es=record.description_es,
            en=record.description_en,
            es_source=record.description_es_source,
            en_source=record.description_en_source,
        )


@dataclass(frozen=True)
class TranslationNeed:
    text: str
    source: Lang
    target: Lang


def new_descriptions(
    es: str | None, en: str | None, lang: Lang
) -> tuple[Descriptions, TranslationNeed | None]:
    """With both, `lang` is the original and the other is the owner's own ('human'); with one,
    it is the original and the other waits for a machine translation."""
    if es is None and en is None:
        raise invalid_fields(
            *(
                FieldProblem(f"description_{side}", "give at least one description", "missing")
                for side in ("es", "en")
            )
        )
    if es is not None and en is not None:
        other = _other(lang)
        texts = {"es": es, "en": en}
        descriptions = Descriptions(lang, es, en, "original", "original").with_text(
            other, texts[other], "human"
        )
        return descriptions, None
    original: Lang = "es" if es is not None else "en"
    text = es if es is not None else en
    assert text is not None
    pending = Descriptions(original, es, en, "original", "original").with_text(
        _other(original), None, "pending"
    )
    return pending, TranslationNeed(text, original, _other(original))


def edited_descriptions(
    current: Descriptions, es: str | None, en: str | None
) -> tuple[Descriptions, TranslationNeed | None]:
    """Text in the other language is the owner's own ('human'), and is never overwritten by a
    machine. A changed original makes a machine (or pending) translation stale: it is redone."""
    given: dict[Lang, str | None] = {"es": es, "en": en}
    original = current.original_lang
    other = _other(original)
    result = current
    if given[other] is not None:
        result = result.with_text(other, given[other], "human")
    new_original = given[original]
    if new_original is None or new_original == current.text(original):
        return result, None
    result = result.with_text(original, new_original, "original")
    if result.source(other) in ("machine", "pending"):
        result = result.with_text(other, None, "pending")
        return result, TranslationNeed(new_original, original, other)
    return result, None


# Where a cut translation may end: after a word, before the spaces, dots, dashes and separators
# that followed it (a cut "works, and" ends "works…", never "works,…", "works -…" or "works.…").
_TRAILING_JOINERS = re.compile(r"[\s.,;:…\-\u2013\u2014(\[{«“‘\"'/]+$")
_LAST_SPACE = re.compile(r"\s(?=\S*$)")
ELLIPSIS = "…"


def fit_translation(translated: str) -> str | None:
    """Provider output cleaned like owner text, and cut to the column's limit at a word.

    A cut text ends with a whole word and one ellipsis, and is itself valid owner text (the
    same cleaning leaves it unchanged), so the row it goes into always passes the field's rules.
    """
    try:
        text = clean_text(translated)
    except PydanticCustomError:  # blank, or bidirectional controls
        return None
    if len(text) <= DESCRIPTION_MAX_LENGTH:
        return text
    room = DESCRIPTION_MAX_LENGTH - len(ELLIPSIS)
    cut = text[:room]
    if not text[room].isspace():  # the limit fell inside a word: drop that word
        space = _LAST_SPACE.search(cut)
        if space is not None:
            cut = cut[: space.start()]
    cut = _TRAILING_JOINERS.sub("", cut)
    if not _has_word(cut):  # one word longer than the limit: nowhere else to cut
        cut = text[:room]
    return cut + ELLIPSIS


def _has_word(text: str) -> bool:
    return any(char.isalnum() for char in text)


async def translate(translator: Translator, need: TranslationNeed | None) -> str | None:
    """The translation, or None: no provider, or it failed (the text stays 'pending' and the
    retry job tries again later)."""
    if need is None or not translator.enabled:
        return None
    try:
        translated = await translator.translate(need.text, source=need.source, target=need.target)
    except TranslationFailed as exc:
        log.warning("translation_failed", provider=translator.name, error=str(exc))
        return None
    return fit_translation(translated)


def with_translation(
    descriptions: Descriptions, need: TranslationNeed | None, translated: str | None
) -> Descriptions:
    if need is None or translated is None:
        return descriptions
    return descriptions.with_text(need.target, translated, "machine")


async def describe_new(translator: Translator, data: CompanyCreate) -> Descriptions:
    descriptions, need = new_descriptions(data.description_es, data.description_en, data.lang)
    return with_translation(descriptions, need, await translate(translator, need))


async def retry_pending_translations(
    database: Database, translator: Translator, *, limit: int = 50
) -> int:
    """Translate descriptions left 'pending' (provider down, or none configured then).

    Returns how many were translated. The pending rows are read in one short transaction and
    the provider is called with no connection held (it may take its whole timeout, per row);
    each translation is then written in a short transaction of its own, and only if the
    original is still the text that was translated: an edit made meanwhile wins. Stops at the
    first failure: a provider that is down now would fail the rest too, and the next run tries
    again.
    """
    if not translator.enabled:
        return 0
    async with database.transaction() as conn:
        pending_rows = await repository.select_pending_translations(conn, limit)
    done = 0
    for pending in pending_rows:
        need = TranslationNeed(
            pending.original_text, pending.original_lang, _other(pending.original_lang)
        )
        try:
            raw = await translator.translate(need.text, source=need.source, target=need.target)
        except TranslationFailed as exc:
            log.warning("translation_retry_failed", provider=translator.name, error=str(exc))
            break
        text = fit_translation(raw)
        if text is None:
            continue
        async with database.transaction() as conn:
            if await repository.update_pending_translation(
                conn, pending.company_id, target=need.target, text=text, original_text=need.text
            ):
                done += 1
    if done:
        log.info("pending_translations_done", count=done)
    return done


# --- Catalogue references ----------------------------------------------------------------


@dataclass(frozen=True)
class CatalogChoice:
    """The primary product and the commune an input names (None: not named), the commune's
    region, and the extra categories (None: not sent)."""

    product_uuid: UUID | None
    commune_uuid: UUID | None
    commune_region: str | None
    extra_product_uuids: list[UUID] | None


async def _resolve_catalog(conn: Connection, data: CompanyCreate | CompanyUpdate) -> CatalogChoice:
    """The products and commune the input names (by name or uuid): 422 when unknown."""
    problems: list[FieldProblem] = []
    product_uuid: UUID | None = None
    commune_uuid: UUID | None = None
    commune_region: str | None = None
    if data.product_uuid is not None:
        if await catalog_service.find_product(conn, data.product_uuid) is None:
            problems.append(FieldProblem("product_uuid", "unknown product", "unknown_product"))
        product_uuid = data.product_uuid
    elif data.product_name is not None:
        product = await catalog_service.find_product_by_name(conn, data.product_name)
        if product is None:
            problems.append(FieldProblem("product_name", "unknown product", "unknown_product"))
        else:
            product_uuid = product.uuid
    if data.commune_uuid is not None:
        found = await catalog_service.find_commune(conn, data.commune_uuid)
        if found is None:
            problems.append(FieldProblem("commune_uuid", "unknown commune", "unknown_commune"))
        else:
            commune_region = found.region
        commune_uuid = data.commune_uuid
    elif data.commune_name is not None:
        commune = await catalog_service.find_commune_by_name(conn, data.commune_name)
        if commune is None:
            problems.append(FieldProblem("commune_name", "unknown commune", "unknown_commune"))
        else:
            commune_uuid = commune.uuid
            commune_region = commune.region
    extras = data.extra_product_uuids
    for extra in extras or ():
        if await catalog_service.find_product(conn, extra) is None:
            problems.append(
                FieldProblem("extra_product_uuids", f"unknown product {extra}", "unknown_product")
            )
    if extras is not None and product_uuid is not None and product_uuid in extras:
        problems.append(
            FieldProblem(
                "extra_product_uuids",
                "the primary category is already one of the company's: choose others",
                "duplicate_category",
            )
        )
    if problems:
        raise invalid_fields(*problems)
    return CatalogChoice(product_uuid, commune_uuid, commune_region, extras)


def _check_references(data: CompanyCreate | CompanyUpdate, *, required: bool) -> None:
    """Name a product and a commune once each: by name or by uuid, not both."""
    problems: list[FieldProblem] = []
    for kind in ("product", "commune"):
        by_name = getattr(data, f"{kind}_name") is not None
        by_uuid = getattr(data, f"{kind}_uuid") is not None
        if by_name and by_uuid:
            problems.append(
                FieldProblem(f"{kind}_uuid", f"give {kind}_name or {kind}_uuid, not both",
                             "conflicting_fields")
            )  # fmt: skip
        elif required and not (by_name or by_uuid):
            problems.append(
                FieldProblem(f"{kind}_name", f"give {kind}_name or {kind}_uuid", "missing")
            )
    problems += _profile_problems(data)
    if problems:
        raise invalid_fields(*problems)


def _profile_problems(data: CompanyCreate | CompanyUpdate) -> list[FieldProblem]:
    """The rules on the new profile fields that need no database."""
    problems: list[FieldProblem] = []
    extras = data.extra_product_uuids
    if extras is not None and len(extras) > MAX_EXTRA_PRODUCTS:
        problems.append(
            FieldProblem(
                "extra_product_uuids",
                f"at most {MAX_EXTRA_PRODUCTS} categories besides the primary one "
                f"({MAX_EXTRA_PRODUCTS + 1} in all)",
                "too_many_categories",
            )
        )
    elif extras is not None and len(set(extras)) != len(extras):
        problems.append(
            FieldProblem("extra_product_uuids", "a category is listed twice", "duplicate_category")
        )
    if data.serves_all_chile and data.served_regions:
        problems.append(
            FieldProblem(
                "served_regions",
                "give served_regions or serves_all_chile=true, not both",
                "conflicting_fields",
            )
        )
    return problems


def served_regions_to_store(
    own_region: str,
    requested: list[str] | None,
    all_chile: bool | None,
    current: list[str] | None,
) -> list[str]:
    """What `company.served_regions` holds: all 16 regions for the whole country, otherwise
    the regions served besides the commune's own, north to south. `current` is what is
    stored (None when publishing); a request that names nothing keeps it."""
    if all_chile:
        return list(REGIONS)
    if requested is None:
        if current is None or (all_chile is False and set(current) == set(REGIONS)):
            requested = []
        elif set(current) == set(REGIONS):
            return list(REGIONS)
        else:
            requested = current
    chosen = set(requested) - {own_region}
    if len(chosen) == len(REGIONS) - 1:  # every other region too: the whole country
        return list(REGIONS)
    return [region for region in REGIONS if region in chosen]


def served_regions_shown(own_region: str, stored: list[str]) -> list[str]:
    """Every region served: the commune's own first, then the others north to south."""
    return [own_region] + [
        region for region in REGIONS if region in stored and region != own_region
    ]


def _unknown_reference() -> Unprocessable:
    # The product or commune was deleted between the look-up and the write.
    return invalid_fields(
        FieldProblem("product_uuid", "unknown product or commune", "unknown_reference")
    )


# --- Reading -----------------------------------------------------------------------------


def _image_urls(image_key: str | None) -> dict[str, str | None]:
    if image_key is None:
        return {"image_url": None, "thumbnail_url": None}
    return {
        "image_url": f"/images/{image_key}.webp",
        "thumbnail_url": f"/images/{image_key}_thumb.webp",
    }


def _photos(record: CompanyRecord, *, with_pending: bool) -> list[CompanyPhoto]:
    return [
        CompanyPhoto(
            uuid=photo.uuid,
            position=photo.position,
            pending_review=photo.pending,
            **_image_urls(None if photo.pending else photo.image_key),
        )
        for photo in record.photos
        if with_pending or not photo.pending
    ]


def _shown(record: CompanyRecord, *, private: bool) -> dict[str, Any]:
    original = Descriptions.of(record)
    original_text = original.text(original.original_lang)
    return {
        **record.model_dump(exclude={"image_key", "photos", "served_regions"}),
        # Until a translation exists, both languages show the original (`_source`: pending).
        "description_es": record.description_es or original_text,
        "description_en": record.description_en or original_text,
        **_image_urls(record.image_key),
        "rut_formatted": format_rut(record.rut) if record.rut else None,
        "served_regions": served_regions_shown(record.commune_region, record.served_regions),
        "serves_all_chile": set(record.served_regions) >= set(REGIONS),
        # Held photos are not public: like a held logo, they wait for an admin.
        "photos": _photos(record, with_pending=private),
    }


def public_view(record: CompanyRecord) -> CompanyPublic:
    return CompanyPublic.model_validate(_shown(record, private=False))


def private_view(record: CompanyRecord) -> CompanyPrivate:
    return CompanyPrivate.model_validate(_shown(record, private=True))


async def get_company(conn: Connection, company_uuid: UUID) -> CompanyPublic:
    record = await repository.select_live_company_by_uuid(conn, company_uuid)
    if record is None:
        raise CompanyNotFound()
    return public_view(record)


async def get_company_with_owner(
    conn: Connection, company_uuid: UUID
) -> tuple[CompanyPublic, UUID]:
    """The public profile and its owner's uuid (which the profile does not show)."""
    record = await repository.select_live_company_by_uuid(conn, company_uuid)
    if record is None:
        raise CompanyNotFound()
    return public_view(record), record.owner_uuid


async def get_company_owner(conn: Connection, company_uuid: UUID) -> UUID:
    """The owner's uuid of a live company; `CompanyNotFound` for an unknown or deleted one."""
    owner = await repository.select_live_company_owner(conn, company_uuid)
    if owner is None:
        raise CompanyNotFound()
    return owner


async def get_own_company(conn: Connection, owner_id: int) -> CompanyPrivate:
    record = await repository.select_live_company_of_user(conn, owner_id)
    if record is None:
        raise CompanyNotFound("You have no company yet")
    return private_view(record)


async def list_companies(
    conn: Connection, *, q: str | None, limit: int, offset: int
) -> tuple[list[CompanyPrivate], int]:
    """Newest first, soft-deleted ones included (admins)."""
    records, total = await repository.select_companies_page(conn, q=q, limit=limit, offset=offset)
    return [private_view(record) for record in records], total


# --- Publishing --------------------------------------------------------------------------


def _values(
    data: CompanyCreate,
    descriptions: Descriptions,
    *,
    product_uuid: UUID,
    commune_uuid: UUID,
    commune_region: str,
    image_key: str | None,
) -> CompanyValues:
    return CompanyValues(
        name=data.name,
        description_es=descriptions.es,
        description_en=descriptions.en,
        original_lang=descriptions.original_lang,
        description_es_source=descriptions.es_source,
        description_en_source=descriptions.en_source,
        address=data.address,
        phone=data.phone,
        email=data.email,
        image_key=image_key,
        product_uuid=product_uuid,
        commune_uuid=commune_uuid,
        website=data.website,
        rut=data.rut,
        year_founded=data.year_founded,
        size_band=data.size_band,
        served_regions=served_regions_to_store(
            commune_region, data.served_regions, data.serves_all_chile, None
        ),
    )


async def _refuse_second_company(conn: Connection, owner_id: int) -> None:
    if await repository.select_live_company_exists_for_user(conn, owner_id):
        raise CompanyExists()


async def _refuse_taken_rut(conn: Connection, rut: str | None, company_id: int | None) -> None:
    if rut is not None and await repository.select_rut_taken(conn, rut, other_than=company_id):
        raise RutTaken()


_Write = Callable[[], Awaitable[Any]]


async def _write_company(write: _Write) -> Any:
    """Insert or update the company row, turning unique violations into their answers."""
    try:
        return await write()
    except asyncpg.UniqueViolationError as exc:
        constraint = exc.constraint_name
        if constraint == _RUT_LIVE:
            raise RutTaken() from exc
        if constraint in _SLUGS:
            raise SlugClash() from exc
        if constraint == _ONE_LIVE_COMPANY or constraint is None:
            raise CompanyExists() from exc
        raise


async def _retry_slug_clash(transaction: _Write) -> Any:
    """Two companies of the same name saved at the same moment can both be given the same slug
    by the trigger, and the second write fails on the unique index: its whole transaction is
    tried once more, and then sees the first's slug. A second clash is a 409, never a 500."""
    try:
        return await transaction()
    except SlugClash:
        log.info("company_slug_retry")
    try:
        return await transaction()
    except SlugClash as again:
        raise NameBusy() from again


async def publish_company_in(
    conn: Connection,
    owner_id: int,
    data: CompanyCreate,
    descriptions: Descriptions,
    image: StoredImage | None,
) -> CompanyRecord:
    """Write the company in the caller's transaction (the image is already stored).

    The owner's row is locked first: two publishes of one user, or a publish racing the
    account's deletion, run one after the other, and the second sees what the first did.
    """
    _check_references(data, required=True)
    await accounts_service.lock_live_account(conn, owner_id)
    await _refuse_second_company(conn, owner_id)
    choice = await _resolve_catalog(conn, data)
    assert choice.product_uuid is not None  # _check_references required one
    assert choice.commune_uuid is not None
    assert choice.commune_region is not None
    await _refuse_taken_rut(conn, data.rut, None)
    logo = image.key if image is not None and not image.held else None
    values = _values(
        data, descriptions, product_uuid=choice.product_uuid, commune_uuid=choice.commune_uuid,
        commune_region=choice.commune_region, image_key=logo,
    )  # fmt: skip
    company_id = await _write_company(lambda: repository.insert_company(conn, owner_id, values))
    if company_id is None:
        raise _unknown_reference()
    extras = choice.extra_product_uuids
    if extras and not await repository.insert_extra_products(conn, company_id, extras):
        raise _unknown_reference()
    if image is not None and image.held:
        await moderation_service.hold_image(
            conn, company_id=company_id, image_key=image.key, score=image.nsfw_score
        )
    record = await repository.select_company_by_id(conn, company_id)
    assert record is not None
    log.info("company_published", company_uuid=str(record.uuid), image_held=logo is None)
    return record


async def publish_company(
    tools: CompanyTools,
    owner_id: int,
    data: CompanyCreate,
    image: bytes,
    *,
    request_id: str | None = None,
) -> CompanyPrivate:
    # Cheap refusals first, before any image work or translation is spent on the request.
    _check_references(data, required=True)
    async with tools.database.transaction() as conn:
        await _refuse_second_company(conn, owner_id)
        await _resolve_catalog(conn, data)
        await _refuse_taken_rut(conn, data.rut, None)
    descriptions = await describe_new(tools.translator, data)
    async with admitted_upload(tools.uploads, f"user:{owner_id}"):
        stored = await store_image(tools.analyser, tools.storage, image, request_id=request_id)

    async def write() -> CompanyRecord:
        async with tools.database.transaction() as conn:
            return await publish_company_in(conn, owner_id, data, descriptions, stored)

    try:
        record: CompanyRecord = await _retry_slug_clash(write)
    except BaseException:
        await _discard(tools.storage, stored.object_names)
        raise
    return private_view(record)


# --- Editing -----------------------------------------------------------------------------

FindCompany = Callable[[Connection, bool], Awaitable[CompanyRecord | None]]


def _audit_view(record: CompanyRecord) -> dict[str, Any]:
    return record.model_dump(
        mode="json",
        exclude={"id", "user_id", "image_pending_review", "created_at", "updated_at"},
    )


def _asks_for_change(patch: CompanyUpdate, cleared: frozenset[str]) -> bool:
    # `lang` is fixed at publication: a form with nothing else is a no-op the client did not mean.
    return bool(cleared) or any(
        getattr(patch, name) is not None for name in CompanyUpdate.model_fields if name != "lang"
    )


async def _update(
    tools: CompanyTools,
    find: FindCompany,
    patch: CompanyUpdate,
    image: bytes | None,
    *,
    uploader: str,
    request_id: str | None,
    actor: admin_service.AdminActor | None,
    cleared: frozenset[str] = frozenset(),
) -> tuple[CompanyPrivate, list[str]]:
    """Apply `patch` (and a new image) to the company `find` locates; returns it and the
    objects to delete after commit (the replaced logo, images withdrawn from moderation).
    `cleared`: optional fields sent empty, which are removed."""
    if image is None and not _asks_for_change(patch, cleared):
        raise NoChanges()
    _check_references(patch, required=False)
    async with tools.database.transaction() as conn:
        current = await find(conn, False)
        if current is None:
            raise CompanyNotFound()
        await _resolve_catalog(conn, patch)
        await _refuse_taken_rut(conn, patch.rut, current.id)
    _, need = edited_descriptions(
        Descriptions.of(current), patch.description_es, patch.description_en
    )
    translated = await translate(tools.translator, need)
    stored = None
    if image is not None:
        async with admitted_upload(tools.uploads, uploader):
            stored = await store_image(tools.analyser, tools.storage, image, request_id=request_id)

    async def write() -> tuple[CompanyRecord, list[str]]:
        async with tools.database.transaction() as conn:
            return await _write_update(conn, find, patch, stored, need, translated, actor, cleared)

    try:
        record, replaced = await _retry_slug_clash(write)
    except BaseException:
        if stored is not None:
            await _discard(tools.storage, stored.object_names)
        raise
    return private_view(record), replaced


async def _write_update(
    conn: Connection,
    find: FindCompany,
    patch: CompanyUpdate,
    stored: StoredImage | None,
    translated_need: TranslationNeed | None,
    translated: str | None,
    actor: admin_service.AdminActor | None,
    cleared: frozenset[str] = frozenset(),
) -> tuple[CompanyRecord, list[str]]:
    locked = await find(conn, True)
    if locked is None:  # deleted since we looked
        raise CompanyNotFound()
    # Decided again on the locked row: the translation made outside the transaction is used
    # only if it is still the one needed (another edit may have landed meanwhile).
    descriptions, need = edited_descriptions(
        Descriptions.of(locked), patch.description_es, patch.description_en
    )
    descriptions = with_translation(
        descriptions, need, translated if need == translated_need else None
    )
    choice = await _resolve_catalog(conn, patch)
    await _refuse_taken_rut(conn, patch.rut, locked.id)
    replaced: list[str] = []
    image_key = locked.image_key
    if stored is not None:
        # A new image retires any earlier logo still waiting for a decision (not the photos).
        photo_keys = [photo.image_key for photo in locked.photos]
        for key in await moderation_service.withdraw_pending_images(
            conn, locked.id, keep=photo_keys
        ):
            replaced += held_object_names(key)
        if stored.held:
            # The current logo stays until an admin approves the new image.
            await moderation_service.hold_image(
                conn, company_id=locked.id, image_key=stored.key, score=stored.nsfw_score
            )
        else:
            replaced += image_object_names(locked.image_key)
            image_key = stored.key
    values = CompanyValues(
        name=patch.name if patch.name is not None else locked.name,
        description_es=descriptions.es,
        description_en=descriptions.en,
        original_lang=descriptions.original_lang,
        description_es_source=descriptions.es_source,
        description_en_source=descriptions.en_source,
        address=patch.address if patch.address is not None else locked.address,
        phone=patch.phone if patch.phone is not None else locked.phone,
        email=patch.email if patch.email is not None else locked.email,
        image_key=image_key,
        product_uuid=choice.product_uuid or locked.product_uuid,
        commune_uuid=choice.commune_uuid or locked.commune_uuid,
        website=_kept(patch.website, locked.website, "website", cleared),
        rut=_kept(patch.rut, locked.rut, "rut", cleared),
        year_founded=_kept(patch.year_founded, locked.year_founded, "year_founded", cleared),
        size_band=_kept(patch.size_band, locked.size_band, "size_band", cleared),
        served_regions=served_regions_to_store(
            choice.commune_region or locked.commune_region,
            patch.served_regions,
            patch.serves_all_chile,
            locked.served_regions,
        ),
    )
    updated = await _write_company(lambda: repository.update_company(conn, locked.id, values))
    if not updated:
        raise _unknown_reference()
    primary = values.product_uuid
    extras = choice.extra_product_uuids
    if extras is None:  # not sent: unchanged, less one that has become the primary
        current_extras = [product.uuid for product in locked.extra_products]
        extras = [uuid for uuid in current_extras if uuid != primary]
        if len(extras) == len(current_extras):
            extras = None  # nothing to write
    elif primary in extras:
        raise invalid_fields(
            FieldProblem(
                "extra_product_uuids",
                "the primary category is already one of the company's: choose others",
                "duplicate_category",
            )
        )
    if extras is not None:
        await repository.delete_extra_products(conn, locked.id)
        if extras and not await repository.insert_extra_products(conn, locked.id, extras):
            raise _unknown_reference()
    record = await repository.select_company_by_id(conn, locked.id)
    assert record is not None
    before, after = _audit_view(locked), _audit_view(record)
    # A field sent with the value it had is no action to audit; a new image is one even when it
    # is held for review and so leaves the company as it was.
    if actor is not None and (before != after or stored is not None):
        await admin_service.record_admin_action(
            conn, actor, action="company.update", target_type="company",
            target_uuid=record.uuid, before=before, after=after,
        )  # fmt: skip
    return record, replaced


def _kept(sent: Any, current: Any, name: str, cleared: frozenset[str]) -> Any:
    if name in cleared:
        return None
    return sent if sent is not None else current


def own_company_finder(owner_id: int) -> FindCompany:
    async def find(conn: Connection, lock: bool) -> CompanyRecord | None:
        return await repository.select_live_company_of_user(conn, owner_id, lock=lock)

    return find


def company_finder(company_uuid: UUID) -> FindCompany:
    async def find(conn: Connection, lock: bool) -> CompanyRecord | None:
        if lock:
            return await repository.select_live_company_by_uuid_locked(conn, company_uuid)
        return await repository.select_live_company_by_uuid(conn, company_uuid)

    return find


async def update_own_company(
    tools: CompanyTools,
    owner_id: int,
    patch: CompanyUpdate,
    image: bytes | None,
    *,
    request_id: str | None = None,
    cleared: frozenset[str] = frozenset(),
) -> tuple[CompanyPrivate, list[str]]:
    return await _update(
        tools, own_company_finder(owner_id), patch, image,
        uploader=f"user:{owner_id}", request_id=request_id, actor=None, cleared=cleared,
    )  # fmt: skip


async def update_company_as_admin(
    tools: CompanyTools,
    actor: admin_service.AdminActor,
    company_uuid: UUID,
    patch: CompanyUpdate,
    image: bytes | None,
    *,
    cleared: frozenset[str] = frozenset(),
) -> tuple[CompanyPrivate, list[str]]:
    """Any live company; audit-logged with before and after in the same transaction."""
    return await _update(
        tools, company_finder(company_uuid), patch, image,
        uploader=f"admin:{actor.uuid}", request_id=actor.request_id, actor=actor, cleared=cleared,
    )  # fmt: skip


# --- Gallery -----------------------------------------------------------------------------


async def _audit_change(
    conn: Connection,
    actor: admin_service.AdminActor | None,
    before: CompanyRecord,
    after: CompanyRecord,
) -> None:
    if actor is not None:
        await admin_service.record_admin_action(
            conn, actor, action="company.update", target_type="company",
            target_uuid=after.uuid, before=_audit_view(before), after=_audit_view(after),
        )  # fmt: skip


async def add_photo(
    tools: CompanyTools,
    find: FindCompany,
    image: bytes,
    *,
    uploader: str,
    request_id: str | None = None,
    actor: admin_service.AdminActor | None = None,
) -> CompanyPrivate:
    """Add a photo at the end of the gallery: the logo's pipeline, limits and screening. A
    photo scored for review is kept out of the public profile until an admin approves it."""
    async with tools.database.transaction() as conn:
        current = await find(conn, False)
        if current is None:
            raise CompanyNotFound()
        if len(current.photos) >= MAX_PHOTOS:
            raise GalleryFull()
    async with admitted_upload(tools.uploads, uploader):
        stored = await store_image(tools.analyser, tools.storage, image, request_id=request_id)
    try:
        async with tools.database.transaction() as conn:
            locked = await find(conn, True)
            if locked is None:
                raise CompanyNotFound()
            if await repository.count_photos(conn, locked.id) >= MAX_PHOTOS:
                raise GalleryFull()
            await repository.insert_photo(conn, locked.id, stored.key)
            if stored.held:
                await moderation_service.hold_image(
                    conn, company_id=locked.id, image_key=stored.key, score=stored.nsfw_score
                )
            record = await repository.select_company_by_id(conn, locked.id)
            assert record is not None
            await _audit_change(conn, actor, locked, record)
    except BaseException:
        await _discard(tools.storage, stored.object_names)
        raise
    log.info("company_photo_added", company_uuid=str(record.uuid), held=stored.held)
    return private_view(record)


async def add_photo_in(conn: Connection, company_id: int, stored: StoredImage) -> None:
    """A stored photo at the end of a company's gallery, inside the caller's transaction (the
    demo seed's); held for review like an upload when its score says so."""
    if await repository.count_photos(conn, company_id) >= MAX_PHOTOS:
        raise GalleryFull()
    await repository.insert_photo(conn, company_id, stored.key)
    if stored.held:
        await moderation_service.hold_image(
            conn, company_id=company_id, image_key=stored.key, score=stored.nsfw_score
        )


async def remove_photo(
    conn: Connection,
    find: FindCompany,
    photo_uuid: UUID,
    *,
    actor: admin_service.AdminActor | None = None,
) -> tuple[CompanyPrivate, list[str]]:
    """Remove a photo (the others close ranks); returns the company and the objects to delete
    after commit. A photo still held for review is withdrawn from the queue."""
    locked = await find(conn, True)
    if locked is None:
        raise CompanyNotFound()
    image_key = await repository.delete_photo(conn, locked.id, photo_uuid)
    if image_key is None:
        raise PhotoNotFound()
    if await moderation_service.withdraw_pending_image(conn, locked.id, image_key):
        objects = held_object_names(image_key)
    else:
        objects = image_object_names(image_key)
    record = await repository.select_company_by_id(conn, locked.id)
    assert record is not None
    await _audit_change(conn, actor, locked, record)
    return private_view(record), objects


async def reorder_photos(
    conn: Connection,
    find: FindCompany,
    order: list[UUID],
    *,
    actor: admin_service.AdminActor | None = None,
) -> CompanyPrivate:
    """Put the gallery in the order given: every photo of it, each once."""
    locked = await find(conn, True)
    if locked is None:
        raise CompanyNotFound()
    current = {photo.uuid for photo in locked.photos}
    if len(order) != len(set(order)) or set(order) != current:
        raise invalid_fields(
            FieldProblem("photos", "list every photo of the gallery once, in the new order",
                         "photo_order")
        )  # fmt: skip
    await repository.update_photo_positions(conn, locked.id, order)
    record = await repository.select_company_by_id(conn, locked.id)
    assert record is not None
    await _audit_change(conn, actor, locked, record)
    return private_view(record)


# --- Deleting ----------------------------------------------------------------------------


async def _retire(conn: Connection, company_id: int) -> list[str]:
    """Soft-delete the company; returns the objects (logo, held images) to delete after commit."""
    logo = await repository.update_company_soft_deleted(conn, company_id)
    withdrawn = await moderation_service.withdraw_pending_images(conn, company_id)
    # The gallery goes with the company: held photos were just withdrawn, the others are public.
    photos = await repository.delete_photos_of_company(conn, company_id)
    return (
        image_object_names(logo)
        + [name for key in withdrawn for name in held_object_names(key)]
        + [name for key in photos if key not in withdrawn for name in image_object_names(key)]
    )


async def delete_own_company(conn: Connection, owner_id: int) -> tuple[UUID, list[str]]:
    record = await repository.select_live_company_of_user(conn, owner_id, lock=True)
    if record is None:
        raise CompanyNotFound("You have no company")
    objects = await _retire(conn, record.id)
    log.info("company_deleted", company_uuid=str(record.uuid))
    return record.uuid, objects


async def delete_company_as_admin(
    conn: Connection, actor: admin_service.AdminActor, company_uuid: UUID
) -> list[str]:
    record = await repository.select_live_company_by_uuid_locked(conn, company_uuid)
    if record is None:
        raise CompanyNotFound()
    objects = await _retire(conn, record.id)
    after = await repository.select_company_by_id(conn, record.id)
    assert after is not None
    await admin_service.record_admin_action(
        conn, actor, action="company.delete", target_type="company", target_uuid=company_uuid,
        before=_audit_view(record), after=_audit_view(after),
    )  # fmt: skip
    return objects


async def retire_company_of_user(conn: Connection, user_id: int) -> list[str]:
    """Soft-delete the user's live company (its logo and any image awaiting moderation);
    returns the object names to delete after commit."""
    company_id = await repository.select_live_company_id_of_user_locked(conn, user_id)
    if company_id is None:
        return []
    return await _retire(conn, company_id)


# --- Moderation decisions ----------------------------------------------------------------


class HeldImageMissing(Conflict):
    code = "held_image_missing"
    default_detail = "The held image is no longer in storage: reject it instead"


async def _decide(
    conn: Connection,
    actor: admin_service.AdminActor,
    moderation_uuid: UUID,
    status: ModerationStatus,
    *,
    published_key: str | None = None,
) -> tuple[ModerationDecision, list[str]]:
    """Record the decision; an approval makes `published_key` (the held image's public copy)
    the logo. Returns the objects to delete after commit: the old logo, or the held image."""
    peek = await moderation_service.find_held_image(conn, moderation_uuid)
    # The company's row first, then the moderation row: the order owner edits take them in.
    company = await repository.select_live_company_by_id_locked(conn, peek.company_id)
    held = await moderation_service.take_pending(conn, moderation_uuid)
    if company is None:  # a company that went away withdrew its images with it
        raise moderation_service.AlreadyDecided()
    await moderation_service.record_decision(conn, held, status, actor.uuid)
    is_photo = await repository.select_photo_exists_for_image_key(conn, company.id, held.image_key)
    before: dict[str, Any] = {"status": held.status.value, "logo": company.image_key}
    after: dict[str, Any] = {"status": status.value, "logo": company.image_key}
    if is_photo:
        # A gallery photo: approved, it shows under its public key; rejected, it goes.
        before["photo"] = held.image_key
        if published_key is not None:
            await repository.update_photo_image_key(conn, company.id, held.image_key, published_key)
        else:
            await repository.delete_photo_by_image_key(conn, company.id, held.image_key)
        after["photo"] = published_key
        objects = held_object_names(held.image_key)
    elif published_key is not None:
        await repository.update_company_image_key(conn, company.id, published_key)
        after["logo"] = published_key
        objects = image_object_names(company.image_key) + held_object_names(held.image_key)
    else:
        objects = held_object_names(held.image_key)
    verb = "approve" if status is ModerationStatus.APPROVED else "reject"
    await admin_service.record_admin_action(
        conn, actor, action=f"moderation.{verb}", target_type="image_moderation",
        target_uuid=held.uuid,
        before={**before, "company_uuid": str(company.uuid), "nsfw_score": held.nsfw_score},
        after=after,
    )  # fmt: skip
    decision = ModerationDecision(uuid=held.uuid, status=status, company_uuid=company.uuid)
    return decision, objects


async def _publish_copy(storage: ImageStorage, held_key: str) -> str:
    """Copy a held image (and its thumbnail) to a new public key; returns the key."""
    public_key = new_image_key()
    written: list[str] = []
    try:
        for source, target in zip(
            held_object_names(held_key), image_object_names(public_key), strict=True
        ):
            if not await storage.copy(source, target):
                raise HeldImageMissing()
            written.append(target)
    except BaseException:
        await _discard(storage, written)
        raise
    return public_key


async def approve_held_image(
    database: Database,
    storage: ImageStorage,
    actor: admin_service.AdminActor,
    moderation_uuid: UUID,
) -> tuple[ModerationDecision, list[str]]:
    """The held image becomes the company's logo under a new public key.

    The copy is made with no connection held, then the decision and the new logo are written
    in one short transaction; if that fails (decided meanwhile, company deleted), the copy is
    deleted again. The held objects and the old logo are returned, to delete after commit.
    A fresh key per approval: two admins approving at once never share (or delete) a copy.
    """
    async with database.transaction() as conn:
        held = await moderation_service.take_pending(conn, moderation_uuid)  # 404, 409 first
    public_key = await _publish_copy(storage, held.image_key)
    try:
        async with database.transaction() as conn:
            return await _decide(
                conn, actor, moderation_uuid, ModerationStatus.APPROVED, published_key=public_key
            )
    except BaseException:
        await _discard(storage, image_object_names(public_key))
        raise


async def reject_held_image(
    conn: Connection, actor: admin_service.AdminActor, moderation_uuid: UUID
) -> tuple[ModerationDecision, list[str]]:
    """The held image is deleted after commit; the company keeps what it had."""
    return await _decide(conn, actor, moderation_uuid, ModerationStatus.REJECTED)
