"""What `proveo restore` refuses, before it changes anything, and what it does after loading a
backup (migrating an older schema forward)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from proveo.backups import service as backups_service
from proveo.backups.errors import BackupError
from proveo.backups.locations import DirectoryLocation
from proveo.config import Settings
from proveo.core import migrations
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.integrations.storage import LocalImageStorage
from tests.backups.support import (
    database_picture,
    events,
    fetch,
    migrated_database,
    new_database,
    proveo,
    stored_files,
)

PUBLIC = "p" * 32 + ".webp"
HELD = "held/" + "h" * 32 + ".webp"


async def _source(tmp_path: Path, pg_server: EmbeddedPostgres, revision: str = "head") -> str:
    """A database at `revision` with an account, and two objects in `tmp_path/source`."""
    dsn = await migrated_database(pg_server, "rules", revision)
    await fetch(
        dsn,
        "INSERT INTO proveo.user_account (name, email, password_hash, email_verified) "
        "VALUES ('Ana', 'ana@proveo.cl', 'x', true)",
    )
    await fetch(dsn, "REFRESH MATERIALIZED VIEW proveo.directory_statistics")  # as the job does
    storage = LocalImageStorage(tmp_path / "source" / "images")
    await storage.put(PUBLIC, b"a public logo", "image/webp")
    await storage.put(HELD, b"a held logo", "image/webp")
    return dsn


async def _backup(tmp_path: Path, dsn: str) -> Path:
    """A backup of `dsn` and `tmp_path/source`, taken in process (`proveo backup` itself is
    tested in test_round_trip)."""
    result = await backups_service.create_backup(
        dsn,
        LocalImageStorage(tmp_path / "source" / "images"),
        DirectoryLocation(tmp_path / "b"),
        storage_backend="local",
    )
    return Path(result.location)


async def _restore(source: Path, dsn: str, data_dir: Path, *, force: bool = False) -> None:
    """What `proveo restore` runs, in process (its errors are the command's lines)."""
    settings = Settings(_env_file=None, data_dir=data_dir, database_url=dsn)  # type: ignore[call-arg]
    await backups_service.restore_from(
        str(source), settings, LocalImageStorage(settings.images_dir), force=force
    )


async def _untouched(dsn: str, images: Path) -> None:
    """No schema was created and no object uploaded."""
    assert await fetch(dsn, "SELECT 1 FROM pg_namespace WHERE nspname = 'proveo'") == []
    assert stored_files(images) == []


class TestRefusals:
    async def test_a_target_with_accounts_or_objects_is_refused_then_replaced_with_force(
        self, tmp_path: Path, pg_server: EmbeddedPostgres
    ) -> None:
        source = await _source(tmp_path, pg_server)
        backup = await _backup(tmp_path, source)
        target = await migrated_database(pg_server, "occupied")
        await fetch(
            target,
            "INSERT INTO proveo.user_account (name, email, password_hash) "
            "VALUES ('Otro', 'otro@proveo.cl', 'x'), ('Más', 'mas@proveo.cl', 'x')",
        )
        stray = "s" * 32 + ".webp"
        await LocalImageStorage(tmp_path / "target" / "images").put(stray, b"x", "image/webp")

        refused = proveo("restore", "--from", str(backup), data_dir=tmp_path / "target", dsn=target)
        assert refused.returncode == 2
        assert refused.stderr.splitlines()[-1] == (
            "error: the target is not empty: the database holds 2 accounts and 0 companies; "
            f"the image storage holds objects (such as {stray}). Restoring would replace them: "
            "add --force to do so"
        )
        assert len(await fetch(target, "SELECT 1 FROM proveo.user_account")) == 2
        assert stored_files(tmp_path / "target" / "images") == [stray]

        forced = proveo(
            "restore", "--from", str(backup), "--force", data_dir=tmp_path / "target", dsn=target
        )
        assert forced.returncode == 0, forced.stderr
        assert events(forced)["backup_restored"]["replaced_data"] is True
        assert await database_picture(target) == await database_picture(source)
        restored = LocalImageStorage(tmp_path / "target" / "images")
        assert await restored.get(HELD) == b"a held logo"
        # Objects the backup does not have are orphans now: cleanup-images removes them.
        assert await restored.list_names() == sorted([HELD, PUBLIC, stray])

    async def test_a_migrated_database_with_only_the_catalogue_counts_as_empty(
        self, tmp_path: Path, pg_server: EmbeddedPostgres
    ) -> None:
        backup = await _backup(tmp_path, await _source(tmp_path, pg_server))
        target = await migrated_database(pg_server, "catalogue_only")
        await _restore(backup, target, tmp_path / "target")
        [(email,)] = await fetch(target, "SELECT email FROM proveo.user_account")
        assert email == "ana@proveo.cl"


class TestDamagedBackups:
    @pytest.mark.parametrize("damaged", ["database.dump", f"objects/{HELD}"])
    async def test_a_flipped_byte_is_found_before_anything_changes(
        self, tmp_path: Path, pg_server: EmbeddedPostgres, damaged: str
    ) -> None:
        backup = await _backup(tmp_path, await _source(tmp_path, pg_server))
        path = backup / damaged
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        target = await new_database(pg_server, "damaged")

        with pytest.raises(BackupError) as refused:
            await _restore(backup, target, tmp_path / "target")
        message = str(refused.value)
        assert message.startswith(f"the backup at {backup} is damaged: {damaged} has ")
        assert message.endswith("; nothing was changed")
        await _untouched(target, tmp_path / "target" / "images")

    async def test_a_missing_object_is_named(
        self, tmp_path: Path, pg_server: EmbeddedPostgres
    ) -> None:
        backup = await _backup(tmp_path, await _source(tmp_path, pg_server))
        (backup / "objects" / PUBLIC).unlink()
        target = await new_database(pg_server, "missing")
        result = proveo("restore", "--from", str(backup), data_dir=tmp_path / "target", dsn=target)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert result.stderr.splitlines()[-1] == (
            f"error: the backup at {backup} is damaged: objects/{PUBLIC} is missing; "
            "nothing was changed"
        )
        await _untouched(target, tmp_path / "target" / "images")

    async def test_no_backup_a_broken_manifest_and_a_folder_of_backups_say_what_is_wrong(
        self, tmp_path: Path, pg_server: EmbeddedPostgres
    ) -> None:
        backup = await _backup(tmp_path, await _source(tmp_path, pg_server))
        target = await new_database(pg_server, "nothing")

        async def refusal(source: Path) -> str:
            with pytest.raises(BackupError) as refused:
                await _restore(source, target, tmp_path / "t")
            return str(refused.value)

        assert await refusal(tmp_path / "nowhere") == (
            f"there is no backup at {tmp_path / 'nowhere'} (it has no manifest.json)"
        )
        assert await refusal(backup.parent) == (
            f"{backup.parent} holds 1 backup, not one backup: name one, such as "
            f"{backup} (the newest)"
        )
        broken = tmp_path / "broken"
        shutil.copytree(backup, broken)
        (broken / "manifest.json").write_text('{"format": "proveo-backup", "name": ')
        assert await refusal(broken) == (
            f"the backup at {broken} is damaged: manifest.json is not JSON"
        )
        manifest = json.loads((backup / "manifest.json").read_text())
        manifest["objects"][0]["path"] = "objects/../../../etc/passwd"
        (broken / "manifest.json").write_text(json.dumps(manifest))
        assert (await refusal(broken)).startswith(f"the backup at {broken} is damaged: ")
        manifest["objects"][0]["path"] = f"objects/{HELD}"
        manifest["schema_revision"] = "20991231_2359"
        (broken / "manifest.json").write_text(json.dumps(manifest))
        assert await refusal(broken) == (
            f"the backup at {broken} is at schema revision 20991231_2359, which this "
            "version of Proveo does not know (it comes from a newer one): restore it with that "
            "version or a later one"
        )
        await _untouched(target, tmp_path / "t" / "images")


async def test_a_backup_of_an_older_schema_is_migrated_forward(
    tmp_path: Path, pg_server: EmbeddedPostgres
) -> None:
    [head] = migrations.head_revisions()
    source = await _source(tmp_path, pg_server, "head")
    await asyncio.to_thread(migrations.downgrade, source, "-1")
    [(older,)] = await fetch(source, "SELECT version_num FROM proveo.alembic_version")
    assert older != head
    backup = await _backup(tmp_path, source)
    assert json.loads((backup / "manifest.json").read_text())["schema_revision"] == older

    target = await new_database(pg_server, "forward")
    result = proveo("restore", "--from", str(backup), data_dir=tmp_path / "target", dsn=target)
    assert result.returncode == 0, result.stderr
    assert events(result)["migration_applied"]["revision"] == head
    assert events(result)["backup_restored"]["migrations"] == [head]
    assert await fetch(target, "SELECT version_num FROM proveo.alembic_version") == [(head,)]
    # The head revision's function is there, and the account came through.
    assert await fetch(target, "SELECT proveo.search_stop_word('de')") == [(True,)]
    assert await fetch(target, "SELECT email FROM proveo.user_account") == [("ana@proveo.cl",)]
