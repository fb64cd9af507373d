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
from proveo.companies import repository
from proveo.companies.repository import CompanyValues
from proveo.companies.schemas import (
    CompanyCreate,
    CompanyPrivate,
    CompanyPublic,
    CompanyRecord,
    CompanyUpdate,
    DescriptionSource,
    Lang,
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


class ImageRefused(Unprocessable):
    code = "image_rejected"
    default_detail = "The image was refused by the content check"


class NoChanges(Unprocessable):
    code = "no_changes"
    default_detail = (
        "The form changes nothing: send the fields to change (besides `lang`) or a new image"
    )


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


async def _resolve_catalog(
    conn: Connection, data: CompanyCreate | CompanyUpdate
) -> tuple[UUID | None, UUID | None]:
    """The product and commune the input names (by name or uuid): 422 when unknown."""
    problems: list[FieldProblem] = []
    product_uuid: UUID | None = None
    commune_uuid: UUID | None = None
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
        if await catalog_service.find_commune(conn, data.commune_uuid) is None:
            problems.append(FieldProblem("commune_uuid", "unknown commune", "unknown_commune"))
        commune_uuid = data.commune_uuid
    elif data.commune_name is not None:
        commune = await catalog_service.find_commune_by_name(conn, data.commune_name)
        if commune is None:
            problems.append(FieldProblem("commune_name", "unknown commune", "unknown_commune"))
        else:
            commune_uuid = commune.uuid
    if problems:
        raise invalid_fields(*problems)
    return product_uuid, commune_uuid


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
    if problems:
        raise invalid_fields(*problems)


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


def _shown(record: CompanyRecord) -> dict[str, Any]:
    original = Descriptions.of(record)
    original_text = original.text(original.original_lang)
    return {
        **record.model_dump(exclude={"image_key"}),
        # Until a translation exists, both languages show the original (`_source`: pending).
        "description_es": record.description_es or original_text,
        "description_en": record.description_en or original_text,
        **_image_urls(record.image_key),
    }


def public_view(record: CompanyRecord) -> CompanyPublic:
    return CompanyPublic.model_validate(_shown(record))


def private_view(record: CompanyRecord) -> CompanyPrivate:
    return CompanyPrivate.model_validate(_shown(record))


async def get_company(conn: Connection, company_uuid: UUID) -> CompanyPublic:
    record = await repository.select_live_company_by_uuid(conn, company_uuid)
    if record is None:
        raise CompanyNotFound()
    return public_view(record)


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
    )


async def _refuse_second_company(conn: Connection, owner_id: int) -> None:
    if await repository.select_live_company_exists_for_user(conn, owner_id):
        raise CompanyExists()


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
    product_uuid, commune_uuid = await _resolve_catalog(conn, data)
    assert product_uuid is not None  # _check_references required one
    assert commune_uuid is not None
    logo = image.key if image is not None and not image.held else None
    values = _values(
        data, descriptions, product_uuid=product_uuid, commune_uuid=commune_uuid, image_key=logo
    )
    try:
        company_id = await repository.insert_company(conn, owner_id, values)
    except asyncpg.UniqueViolationError as exc:  # the partial unique index: one live company
        raise CompanyExists() from exc
    if company_id is None:
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
    descriptions = await describe_new(tools.translator, data)
    async with admitted_upload(tools.uploads, f"user:{owner_id}"):
        stored = await store_image(tools.analyser, tools.storage, image, request_id=request_id)
    try:
        async with tools.database.transaction() as conn:
            record = await publish_company_in(conn, owner_id, data, descriptions, stored)
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


def _asks_for_change(patch: CompanyUpdate) -> bool:
    # `lang` is fixed at publication: a form with nothing else is a no-op the client did not mean.
    return any(
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
) -> tuple[CompanyPrivate, list[str]]:
    """Apply `patch` (and a new image) to the company `find` locates; returns it and the
    objects to delete after commit (the replaced logo, images withdrawn from moderation)."""
    if image is None and not _asks_for_change(patch):
        raise NoChanges()
    _check_references(patch, required=False)
    async with tools.database.transaction() as conn:
        current = await find(conn, False)
        if current is None:
            raise CompanyNotFound()
        await _resolve_catalog(conn, patch)
    _, need = edited_descriptions(
        Descriptions.of(current), patch.description_es, patch.description_en
    )
    translated = await translate(tools.translator, need)
    stored = None
    if image is not None:
        async with admitted_upload(tools.uploads, uploader):
            stored = await store_image(tools.analyser, tools.storage, image, request_id=request_id)
    try:
        async with tools.database.transaction() as conn:
            record, replaced = await _write_update(
                conn, find, patch, stored, need, translated, actor
            )
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
    product_uuid, commune_uuid = await _resolve_catalog(conn, patch)
    replaced: list[str] = []
    image_key = locked.image_key
    if stored is not None:
        # A new image retires any earlier one still waiting for a decision.
        for key in await moderation_service.withdraw_pending_images(conn, locked.id):
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
        product_uuid=product_uuid or locked.product_uuid,
        commune_uuid=commune_uuid or locked.commune_uuid,
    )
    if not await repository.update_company(conn, locked.id, values):
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


async def update_own_company(
    tools: CompanyTools,
    owner_id: int,
    patch: CompanyUpdate,
    image: bytes | None,
    *,
    request_id: str | None = None,
) -> tuple[CompanyPrivate, list[str]]:
    async def find(conn: Connection, lock: bool) -> CompanyRecord | None:
        return await repository.select_live_company_of_user(conn, owner_id, lock=lock)

    return await _update(
        tools, find, patch, image, uploader=f"user:{owner_id}", request_id=request_id, actor=None
    )


async def update_company_as_admin(
    tools: CompanyTools,
    actor: admin_service.AdminActor,
    company_uuid: UUID,
    patch: CompanyUpdate,
    image: bytes | None,
) -> tuple[CompanyPrivate, list[str]]:
    """Any live company; audit-logged with before and after in the same transaction."""

    async def find(conn: Connection, lock: bool) -> CompanyRecord | None:
        if lock:
            return await repository.select_live_company_by_uuid_locked(conn, company_uuid)
        return await repository.select_live_company_by_uuid(conn, company_uuid)

    return await _update(
        tools, find, patch, image,
        uploader=f"admin:{actor.uuid}", request_id=actor.request_id, actor=actor,
    )  # fmt: skip


# --- Deleting ----------------------------------------------------------------------------


async def _retire(conn: Connection, company_id: int) -> list[str]:
    """Soft-delete the company; returns the objects (logo, held images) to delete after commit."""
    logo = await repository.update_company_soft_deleted(conn, company_id)
    withdrawn = await moderation_service.withdraw_pending_images(conn, company_id)
    return image_object_names(logo) + [name for key in withdrawn for name in held_object_names(key)]


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
    before: dict[str, Any] = {"status": held.status.value, "logo": company.image_key}
    after: dict[str, Any] = {"status": status.value, "logo": company.image_key}
    if published_key is not None:
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
