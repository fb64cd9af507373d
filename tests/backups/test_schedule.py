"""Scheduled backups: the job exists only when PROVEO_BACKUP_TO is set, takes a backup when the
newest there is old enough (read from the target, so a restart changes nothing), keeps the newest
PROVEO_BACKUP_KEEP, and tells the metrics hook when the newest backup was taken."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from proveo.backups import service as backups_service
from proveo.backups.locations import BackupLocation, DirectoryLocation, S3Location
from proveo.config import Settings
from proveo.core import metrics
from proveo.core.db import Database
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.integrations.storage import LocalImageStorage
from proveo.integrations.translation import NoTranslator
from proveo.jobs.registry import BACKUP_CHECK_SECONDS, JobContext, PythonJob, build_registry
from proveo.jobs.service import run_job_now
from tests.backups.support import migrated_database, stored_files
from tests.fixtures.servers import SeaweedServer

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
async def source(pg_server: EmbeddedPostgres) -> str:
    return await migrated_database(pg_server, "scheduled")


@pytest.fixture
def hook_calls(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """What the metrics hook receives."""
    calls: list[float] = []
    monkeypatch.setattr(metrics, "record_backup_success", calls.append)
    return calls


@pytest.fixture(params=["directory", "s3"])
async def location(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, BackupLocation]]:
    """Where backups go, as PROVEO_BACKUP_TO names it, and the location it opens."""
    if request.param == "directory":
        yield str(tmp_path / "backups"), DirectoryLocation(tmp_path / "backups")
        return
    seaweed: SeaweedServer = request.getfixturevalue("seaweed")
    seaweed.empty_bucket()
    settings = _settings(tmp_path, "", seaweed=seaweed)
    opened = S3Location(seaweed.BUCKET, "proveo/daily", settings)
    yield f"s3://{seaweed.BUCKET}/proveo/daily", opened
    await opened.close()


def _settings(
    tmp_path: Path, dsn: str, *, seaweed: SeaweedServer | None = None, **overrides: object
) -> Settings:
    s3 = (
        {
            "s3_endpoint_url": seaweed.endpoint_url,
            "s3_access_key": seaweed.ACCESS_KEY,
            "s3_secret_key": seaweed.SECRET_KEY,
        }
        if seaweed
        else {}
    )
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        database_url=dsn,
        **s3,
        **overrides,
    )


def _leave_unfinished(backups: BackupLocation, name: str, request: pytest.FixtureRequest) -> None:
    """An object written and no manifest: a backup interrupted (or still being written)."""
    if isinstance(backups, DirectoryLocation):
        partial = backups.root / f".{name}.partial" / "objects"
        partial.mkdir(parents=True)
        (partial / ("x" * 32 + ".webp")).write_bytes(b"x")
        return
    assert isinstance(backups, S3Location)
    seaweed: SeaweedServer = request.getfixturevalue("seaweed")
    client = seaweed._client()
    try:
        client.put_object(
            Bucket=backups.bucket, Key=backups.key(name, "objects/" + "x" * 32 + ".webp"), Body=b"x"
        )
    finally:
        client.close()


class TestRetention:
    async def test_keeps_the_newest_and_removes_older_and_unfinished_ones_only(
        self,
        tmp_path: Path,
        source: str,
        location: tuple[str, BackupLocation],
        request: pytest.FixtureRequest,
    ) -> None:
        _, backups = location
        storage = LocalImageStorage(tmp_path / "data" / "images")
        for hours in range(4):
            await backups_service.create_backup(
                source, storage, backups, storage_backend="local", now=T0 + timedelta(hours=hours)
            )
        # What an interrupted backup leaves (files, no manifest), older than the newest complete
        # one; and one in progress, newer.
        for name in ("20261201T033000Z", "20261201T080000Z"):
            _leave_unfinished(backups, name, request)
        if isinstance(backups, DirectoryLocation):
            (backups.root / "README").write_text("not a backup: never touched")

        assert await backups_service.prune_backups(backups, keep=2) == [
            "20261201T030000Z",
            "20261201T040000Z",
        ]
        assert await backups.list_backups() == ["20261201T050000Z", "20261201T060000Z"]
        assert await backups.list_unfinished() == ["20261201T080000Z"]
        if isinstance(backups, DirectoryLocation):
            assert [name for name in stored_files(backups.root) if "/" not in name] == ["README"]


class TestScheduledJob:
    def test_is_registered_only_when_a_target_is_set(self, tmp_path: Path) -> None:
        names = {job.name for job in build_registry().jobs}
        assert "back-up" not in names
        assert "back-up" not in {job.name for job in build_registry(_settings(tmp_path, "")).jobs}
        configured = build_registry(_settings(tmp_path, "", backup_to=str(tmp_path)))
        [job] = [job for job in configured.python_jobs if job.name == "back-up"]
        assert job.interval_seconds == BACKUP_CHECK_SECONDS

    async def test_backs_up_when_due_keeps_the_newest_and_tells_the_metrics_hook(
        self,
        tmp_path: Path,
        source: str,
        location: tuple[str, BackupLocation],
        hook_calls: list[float],
        request: pytest.FixtureRequest,
    ) -> None:
        target, backups = location
        seaweed = request.getfixturevalue("seaweed") if target.startswith("s3://") else None
        settings = _settings(tmp_path, source, seaweed=seaweed, backup_to=target, backup_keep=2)
        storage = LocalImageStorage(settings.images_dir)
        await storage.put("l" * 32 + ".webp", b"logo", "image/webp")

        async def check(at: datetime) -> str:
            return await backups_service.back_up_when_due(
                settings, storage, check_seconds=BACKUP_CHECK_SECONDS, now=at
            )

        assert (await check(T0)).startswith(f"backed up to {target}/20261201T030000Z")
        # Later the same day, or after a restart: the target says it is not due yet.
        assert (await check(T0 + timedelta(hours=23))).startswith(
            "not due: the newest backup, 20261201T030000Z, is 23.0 hours old"
        )
        # Due within one check of the interval, so that backups do not drift later each day.
        assert (await check(T0 + timedelta(hours=24, seconds=-60))).startswith("backed up")
        assert (await check(T0 + timedelta(hours=48))).startswith("backed up")
        assert await backups.list_backups() == ["20261202T025900Z", "20261203T030000Z"]
        taken = [T0, T0, T0 + timedelta(hours=24, seconds=-60), T0 + timedelta(hours=48)]
        assert hook_calls == [moment.timestamp() for moment in taken]

    async def test_a_backup_dated_in_the_future_neither_stops_backups_nor_takes_a_place(
        self, tmp_path: Path, source: str, hook_calls: list[float]
    ) -> None:
        """Found by an adversary: a backup named 2099 was "the newest", so no backup was ever
        due again and the backup-age alert could not fire."""
        target = tmp_path / "backups"
        settings = _settings(tmp_path, source, backup_to=str(target), backup_keep=1)
        storage = LocalImageStorage(settings.images_dir)
        backups = DirectoryLocation(target)
        await backups_service.create_backup(
            source,
            storage,
            backups,
            storage_backend="local",
            now=datetime(2099, 12, 31, tzinfo=UTC),
        )
        for hours in (0, 24):
            done = await backups_service.back_up_when_due(
                settings,
                storage,
                check_seconds=BACKUP_CHECK_SECONDS,
                now=T0 + timedelta(hours=hours),
            )
            assert done.startswith("backed up"), done
        # The newest real one is kept (keep=1), the one from the future is left alone.
        assert await backups.list_backups() == ["20261202T030000Z", "20991231T000000Z"]
        assert hook_calls == [T0.timestamp(), (T0 + timedelta(hours=24)).timestamp()]

    async def test_runs_from_the_registry_like_any_job(
        self, tmp_path: Path, source: str, hook_calls: list[float]
    ) -> None:
        settings = _settings(tmp_path, source, backup_to=str(tmp_path / "backups"))
        [job] = [job for job in build_registry(settings).python_jobs if job.name == "back-up"]
        assert isinstance(job, PythonJob)
        database = Database(source, min_size=0, max_size=2)
        await database.open()
        try:
            context = JobContext(
                database=database,
                storage=LocalImageStorage(settings.images_dir),
                translator=NoTranslator(),
                settings=settings,
            )
            run = await run_job_now(job, context)
        finally:
            await database.close()
        assert str(run.result).startswith(f"backed up to {tmp_path / 'backups'}/")
        [name] = await DirectoryLocation(tmp_path / "backups").list_backups()
        assert hook_calls == [
            datetime.strptime(name, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
        ]

    def test_the_hook_sets_the_backup_age_gauge(self) -> None:
        try:
            backups_service.record_backup_success(T0)
            assert (
                metrics.REGISTRY.get_sample_value("proveo_backup_last_success_timestamp_seconds")
                == T0.timestamp()
            )
        finally:
            metrics.set_backup_last_success(0.0)  # as a new process has it
