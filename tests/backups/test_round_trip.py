"""`proveo backup` then `proveo restore` into an empty database and an empty storage give back
every row of every table and every object's bytes: to a directory from local disk, and to S3
(SeaweedFS) from S3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proveo.backups.schemas import Manifest
from proveo.core import migrations
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.integrations.storage import ImageStorage, LocalImageStorage
from tests.backups.support import (
    database_picture,
    events,
    fetch,
    migrated_database,
    new_database,
    proveo,
    publish_directory,
    s3_env,
    s3_image_storage,
    storage_picture,
    stored_files,
)
from tests.fixtures.servers import SeaweedServer

# Backups on S3 share the images' bucket, under a prefix the image store never lists (its
# names are keys, not paths): SeaweedFS gives every bucket volumes of its own.
S3_BACKUP_PREFIX = "backups/nightly"


@pytest.mark.parametrize("where", ["directory", "s3"])
async def test_a_restore_into_an_empty_installation_gives_back_every_row_and_object(
    where: str, tmp_path: Path, pg_server: EmbeddedPostgres, request: pytest.FixtureRequest
) -> None:
    if where == "s3":
        seaweed: SeaweedServer = request.getfixturevalue("seaweed")
        seaweed.empty_bucket()
        env = s3_env(seaweed)
        target = f"s3://{seaweed.BUCKET}/{S3_BACKUP_PREFIX}"
        source_storage: ImageStorage = s3_image_storage(seaweed)
    else:
        env = {}
        target = str(tmp_path / "backups")
        source_storage = LocalImageStorage(tmp_path / "source" / "images")
    source = await migrated_database(pg_server, "source")
    published = await publish_directory(source, source_storage, tmp_path / "source")
    # As the scheduled job does every minute (a restore refreshes it too).
    await fetch(source, "REFRESH MATERIALIZED VIEW proveo.directory_statistics")
    source_rows = await database_picture(source)
    source_objects = await storage_picture(source_storage)
    # 3 published logos, 1 approved copy, 1 awaiting moderation: two objects each.
    assert len(source_objects) == 2 * published.companies
    assert sum(name.startswith("held/") for name in source_objects) == 2 * published.held

    backup = proveo("backup", "--to", target, data_dir=tmp_path / "source", dsn=source, **env)
    assert backup.returncode == 0, backup.stderr
    location = backup.stdout.strip()
    assert location.startswith(target + "/")
    created = events(backup)["backup_created"]
    assert (created["objects"], created["held_objects"]) == (10, 2)
    assert created["schema_revision"] == ",".join(migrations.head_revisions())

    if where == "s3":  # the same bucket, emptied of images: the backup stays under its prefix
        for name in source_objects:
            await source_storage.delete(name)
        assert await source_storage.list_names() == []
    target_dsn = await new_database(pg_server, "restored")
    restore = proveo(
        "restore", "--from", location, data_dir=tmp_path / "restored", dsn=target_dsn, **env
    )
    assert restore.returncode == 0, restore.stderr
    restored = events(restore)["backup_restored"]
    assert restored["migrations"] == []
    assert restored["refreshed_views"] == ["directory_statistics"]

    assert await database_picture(target_dsn) == source_rows
    target_storage = (
        s3_image_storage(request.getfixturevalue("seaweed"))
        if where == "s3"
        else LocalImageStorage(tmp_path / "restored" / "images")
    )
    try:
        assert await storage_picture(target_storage) == source_objects
    finally:
        await target_storage.close()
        await source_storage.close()


async def test_the_manifest_lists_each_file_with_its_size_and_checksum(
    tmp_path: Path, pg_server: EmbeddedPostgres
) -> None:
    source = await migrated_database(pg_server, "manifest")
    storage = LocalImageStorage(tmp_path / "data" / "images")
    await storage.put("a" * 32 + ".webp", b"public", "image/webp")
    await storage.put("held/" + "b" * 32 + "_thumb.webp", b"held!", "image/webp")

    backup = proveo("backup", "--to", str(tmp_path / "b"), data_dir=tmp_path / "data", dsn=source)
    assert backup.returncode == 0, backup.stderr
    folder = Path(backup.stdout.strip())
    manifest = Manifest.model_validate(json.loads((folder / "manifest.json").read_bytes()))
    assert manifest.name == folder.name
    assert manifest.format_version == 1
    assert manifest.postgres.server_version_num >= 150000
    assert manifest.database.size == (folder / "database.dump").stat().st_size
    assert [(entry.path, entry.size) for entry in manifest.objects] == [
        ("objects/" + "a" * 32 + ".webp", 6),
        ("objects/held/" + "b" * 32 + "_thumb.webp", 5),
    ]
    assert (folder / "objects/held" / ("b" * 32 + "_thumb.webp")).read_bytes() == b"held!"
    assert manifest.counts.rows["commune"] == 346
    assert (manifest.counts.objects, manifest.counts.held_objects) == (2, 1)
    assert stored_files(folder.parent) == [  # nothing else, no leftovers
        f"{folder.name}/database.dump",
        f"{folder.name}/manifest.json",
        f"{folder.name}/objects/{'a' * 32}.webp",
        f"{folder.name}/objects/held/{'b' * 32}_thumb.webp",
    ]
