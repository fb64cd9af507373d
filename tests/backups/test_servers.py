"""The servers a backup comes from and goes to: the embedded PostgreSQL 18 of a data directory
(as `make run` uses), and Debian's PostgreSQL 15 with pg_cron, whose schema stays out."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from proveo.backups.pgtools import find_tools
from proveo.backups.service import APP_EXTENSIONS
from proveo.core.embedded_pg import EmbeddedPostgres
from tests.backups.support import database_picture, events, fetch, proveo
from tests.fixtures.database import create_database
from tests.fixtures.servers import PG_CRON_DATABASE, PgCronServer


def test_backup_without_a_target_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = proveo("backup", data_dir=tmp_path / "data")
    assert result.returncode == 2
    assert result.stderr == (
        "error: say where: --to DIR or --to s3://BUCKET/PREFIX, or set PROVEO_BACKUP_TO\n"
    )
    assert not (tmp_path / "data" / "pg").exists()


def test_the_embedded_database_of_a_data_directory_is_backed_up_and_restored(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    seeded = proveo("seed", data_dir=first)
    assert seeded.returncode == 0, seeded.stderr
    (first / "images").mkdir(exist_ok=True)
    (first / "images" / ("e" * 32 + ".webp")).write_bytes(b"embedded")

    backup = proveo("backup", "--to", str(tmp_path / "backups"), data_dir=first)
    assert backup.returncode == 0, backup.stderr
    restore = proveo("restore", "--from", backup.stdout.strip(), data_dir=second)
    assert restore.returncode == 0, restore.stderr
    assert events(restore)["backup_restored"]["objects"] == 1
    assert (second / "images" / ("e" * 32 + ".webp")).read_bytes() == b"embedded"
    # Each command stopped the embedded server it started.
    for data_dir in (first, second):
        assert not EmbeddedPostgres(data_dir / "pg").is_running()
    server = EmbeddedPostgres(second / "pg")
    server.start()
    try:
        rows = subprocess.run(
            [
                str(find_tools(18).bin_dir / "psql"), "-XAt", "-d", server.dsn("proveo"),
                "-c", "SELECT count(*) FROM proveo.commune",
            ],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        server.stop()
    assert rows.strip() == "346"


def _table_of_contents(dump: Path) -> str:
    return subprocess.run(
        [find_tools(15).path("pg_restore"), "--list", str(dump)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


@pytest.mark.slow
async def test_postgresql_15_with_pg_cron_is_backed_up_without_cron_and_restored(
    tmp_path: Path, pg_cron_server: PgCronServer
) -> None:
    await create_database(pg_cron_server.dsn("postgres"), PG_CRON_DATABASE)
    source = pg_cron_server.dsn()
    seeded = proveo("seed", data_dir=tmp_path / "data", dsn=source)
    assert seeded.returncode == 0, seeded.stderr
    assert len(await fetch(source, "SELECT 1 FROM cron.job WHERE jobname LIKE 'proveo.%'")) > 0
    extensions = {row["extname"] for row in await fetch(source, "SELECT extname FROM pg_extension")}
    # What a backup carries besides the schema: every extension but PostgreSQL's and pg_cron.
    assert extensions - {"plpgsql", "pg_cron"} == set(APP_EXTENSIONS)
    await fetch(
        source,
        "INSERT INTO proveo.user_account (name, email, password_hash) "
        "VALUES ('Quince', 'quince@proveo.cl', 'x')",
    )

    backup = proveo("backup", "--to", str(tmp_path / "b"), data_dir=tmp_path / "data", dsn=source)
    assert backup.returncode == 0, backup.stderr
    folder = Path(backup.stdout.strip())
    contents = _table_of_contents(folder / "database.dump")
    assert "cron" not in contents
    assert "EXTENSION - pg_trgm" in contents
    assert "EXTENSION - unaccent" in contents

    await create_database(pg_cron_server.dsn("postgres"), "proveo_restored")
    target = pg_cron_server.dsn("proveo_restored")
    restore = proveo("restore", "--from", str(folder), data_dir=tmp_path / "t", dsn=target)
    assert restore.returncode == 0, restore.stderr
    await fetch(source, "REFRESH MATERIALIZED VIEW proveo.directory_statistics")
    assert await database_picture(target) == await database_picture(source)
    # The restored database is not the one pg_cron serves: the app scheduler runs its SQL jobs.
    assert "pg_cron_not_used" in events(restore)
