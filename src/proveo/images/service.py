"""Image objects: reading them for the public, and removing the ones nothing points at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog

from proveo.core.db import Database
from proveo.core.errors import NotFound
from proveo.images import repository
from proveo.images.schemas import OrphanReport
from proveo.integrations.storage import (
    ImageStorage,
    OpenedObject,
    StoredObject,
    held_object_names,
    image_object_names,
    is_public_object_name,
)

log = structlog.get_logger(__name__)


class ImageNotFound(NotFound):
    code = "image_not_found"
    default_detail = "Image not found"


async def stat_image(storage: ImageStorage, name: str) -> StoredObject:
    # An invalid name never reaches the store: no path traversal, no odd keys, and no image
    # held for moderation (those are an admin's to see, through the moderation routes).
    found = await storage.stat(name) if is_public_object_name(name) else None
    if found is None:
        raise ImageNotFound()
    return found


async def open_image(storage: ImageStorage, name: str) -> OpenedObject:
    opened = await storage.open(name) if is_public_object_name(name) else None
    if opened is None:
        raise ImageNotFound()
    return opened


async def cleanup_orphan_images(
    database: Database,
    storage: ImageStorage,
    *,
    min_age_seconds: float = 3600,
    dry_run: bool = False,
) -> OrphanReport:
    """Delete objects no live company or pending moderation points at, older than min_age.

    An upload stores its objects before its row commits: the age floor keeps those. The keys
    are read before the listing, so any object newer than the read is young and kept.
    """
    async with database.transaction() as conn:
        keys = await repository.select_referenced_image_keys(conn)
    referenced = {name for key in keys.logos for name in image_object_names(key)} | {
        name for key in keys.held for name in held_object_names(key)
    }
    cutoff = datetime.now(UTC) - timedelta(seconds=min_age_seconds)
    scanned = kept = too_young = 0
    orphans: list[str] = []
    async for stored in storage.list_objects():
        scanned += 1
        if stored.name in referenced:
            kept += 1
        elif stored.modified_at > cutoff:
            too_young += 1
        else:
            orphans.append(stored.name)
    removed: list[str] = []
    if not dry_run:
        for name in orphans:
            await storage.delete(name)
            removed.append(name)
            log.info("orphan_image_removed", name=name)
    return OrphanReport(
        scanned=scanned,
        referenced=kept,
        too_young=too_young,
        orphans=tuple(orphans),
        removed=tuple(removed),
        dry_run=dry_run,
    )
