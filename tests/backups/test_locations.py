"""Where backups live: S3 takes a large dump in parts and gives it back whole; a directory never
shows a backup that is half written or half removed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from proveo.backups.locations import DirectoryLocation, S3Location
from proveo.config import Settings
from tests.backups.support import stored_files
from tests.fixtures.servers import SeaweedServer


async def test_s3_uploads_a_large_dump_in_parts_and_stages_it_back_whole(
    tmp_path: Path, seaweed: SeaweedServer
) -> None:
    seaweed.empty_bucket()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        s3_endpoint_url=seaweed.endpoint_url,
        s3_access_key=seaweed.ACCESS_KEY,
        s3_secret_key=seaweed.SECRET_KEY,
    )
    location = S3Location(seaweed.BUCKET, "parts", settings, part_size=5 * 1024 * 1024)
    dump = os.urandom(12 * 1024 * 1024 + 7)
    try:
        writer = await location.begin("20261201T030000Z")
        writer.dump_path.write_bytes(dump)
        await writer.put("objects/" + "o" * 32 + ".webp", b"object")
        await writer.commit(b"{}")
        assert await location.list_backups() == ["20261201T030000Z"]
        staged = await location.stage(
            "20261201T030000Z", ["database.dump", "objects/" + "o" * 32 + ".webp"], tmp_path
        )
        assert (staged / "database.dump").read_bytes() == dump
        assert stored_files(staged) == ["database.dump", "objects/" + "o" * 32 + ".webp"]
        assert await location.read("20261201T030000Z", "manifest.json") == b"{}"
    finally:
        await location.close()


async def test_a_directory_lists_only_complete_backups(tmp_path: Path) -> None:
    location = DirectoryLocation(tmp_path / "backups")
    writer = await location.begin("20261201T030000Z")
    writer.dump_path.write_bytes(b"dump")
    await writer.put("objects/held/" + "h" * 32 + ".webp", b"held")
    assert await location.list_backups() == []
    assert await location.list_unfinished() == ["20261201T030000Z"]
    await writer.commit(b"{}")
    assert await location.list_backups() == ["20261201T030000Z"]
    assert stat.S_IMODE((tmp_path / "backups" / "20261201T030000Z").stat().st_mode) == 0o700
    assert stored_files(tmp_path / "backups") == [
        "20261201T030000Z/database.dump",
        "20261201T030000Z/manifest.json",
        "20261201T030000Z/objects/held/" + "h" * 32 + ".webp",
    ]
    await location.delete("20261201T030000Z")
    assert await location.list_backups() == []
    assert stored_files(tmp_path / "backups") == []
