from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from proveo.core.db import Connection
from proveo.images.service import cleanup_orphan_images
from proveo.integrations.storage import (
    ImageStorage,
    LocalImageStorage,
    held_object_names,
    image_object_names,
    new_image_key,
)
from tests.factories import create_user
from tests.fixtures.database import PinnedDatabase


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> ImageStorage:
    if request.param == "local":
        return LocalImageStorage(tmp_path / "images")
    s3: ImageStorage = request.getfixturevalue("s3_storage")
    return s3


async def _company(conn: Connection, image_key: str | None, *, deleted: bool = False) -> int:
    """A bare company row (one live company per user: each gets its own user)."""
    user = await create_user(conn)
    company_id: int = await conn.fetchval(
        """
        INSERT INTO proveo.company (
            user_id, product_id, commune_id, name, description_es,
            description_original_lang, description_es_source, description_en_source,
            address, phone, email, image_key, deleted_at
        )
        SELECT $1, (SELECT id FROM proveo.product LIMIT 1), (SELECT id FROM proveo.commune LIMIT 1),
               'Empresa', 'Descripción', 'es', 'original', 'pending',
               'Calle 1', '+56912345678', 'empresa@proveo.cl', $2,
               CASE WHEN $3 THEN now() END
        RETURNING id
        """,
        user.id,
        image_key,
        deleted,
    )
    return company_id


async def _moderation(conn: Connection, company_id: int, image_key: str, status: str) -> None:
    await conn.execute(
        "INSERT INTO proveo.image_moderation (company_id, image_key, nsfw_score, status) "
        "VALUES ($1, $2, 0.5, $3)",
        company_id,
        image_key,
        status,
    )


async def _store(storage: ImageStorage, key: str, *, held: bool = False) -> list[str]:
    names = list(held_object_names(key) if held else image_object_names(key))
    for name in names:
        await storage.put(name, b"webp", "image/webp")
    return names


class TestCleanupOrphanImages:
    async def test_removes_only_what_no_live_company_or_pending_logo_points_at(
        self, conn: Connection, storage: ImageStorage
    ) -> None:
        live, pending, deleted, rejected, stray = (new_image_key() for _ in range(5))
        company = await _company(conn, live)
        await _moderation(conn, company, pending, "pending")
        await _moderation(conn, company, rejected, "rejected")
        await _company(conn, deleted, deleted=True)
        await _company(conn, None)
        kept = await _store(storage, live) + await _store(storage, pending, held=True)
        gone = [
            *await _store(storage, deleted),
            *await _store(storage, rejected, held=True),
            *await _store(storage, stray),
            # A held image's key under the public names (an approval's copy whose write
            # failed) is not what the pending row refers to.
            *await _store(storage, pending),
        ]

        report = await cleanup_orphan_images(PinnedDatabase(conn), storage, min_age_seconds=0)

        assert sorted(report.removed) == sorted(report.orphans) == sorted(gone)
        assert (report.scanned, report.referenced, report.too_young) == (12, 4, 0)
        assert not report.dry_run
        assert await storage.list_names() == sorted(kept)

    async def test_a_pending_logo_of_a_deleted_company_is_an_orphan(
        self, conn: Connection, storage: ImageStorage
    ) -> None:
        key = new_image_key()
        company = await _company(conn, None, deleted=True)
        await _moderation(conn, company, key, "pending")
        names = await _store(storage, key, held=True)
        report = await cleanup_orphan_images(PinnedDatabase(conn), storage, min_age_seconds=0)
        assert sorted(report.removed) == sorted(names)

    async def test_young_objects_are_kept_so_an_upload_before_its_commit_survives(
        self, conn: Connection, storage: ImageStorage
    ) -> None:
        names = await _store(storage, new_image_key())  # stored, its row not written yet
        report = await cleanup_orphan_images(PinnedDatabase(conn), storage)
        assert (report.orphans, report.removed, report.too_young) == ((), (), 2)
        assert await storage.list_names() == sorted(names)

    async def test_dry_run_reports_and_removes_nothing(
        self, conn: Connection, storage: ImageStorage
    ) -> None:
        names = await _store(storage, new_image_key())
        report = await cleanup_orphan_images(
            PinnedDatabase(conn), storage, min_age_seconds=0, dry_run=True
        )
        assert sorted(report.orphans) == sorted(names)
        assert (report.removed, report.dry_run) == ((), True)
        assert await storage.list_names() == sorted(names)

    async def test_age_is_the_object_modification_time(
        self, conn: Connection, tmp_path: Path
    ) -> None:
        storage = LocalImageStorage(tmp_path / "images")
        old, young = await _store(storage, new_image_key()), await _store(storage, new_image_key())
        two_hours_ago = time.time() - 7200
        for name in old:
            os.utime(storage.root / name, (two_hours_ago, two_hours_ago))
        report = await cleanup_orphan_images(PinnedDatabase(conn), storage, min_age_seconds=3600)
        assert sorted(report.removed) == sorted(old)
        assert await storage.list_names() == sorted(young)
