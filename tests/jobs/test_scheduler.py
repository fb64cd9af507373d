"""The app scheduler: one runner per job across replicas (advisory locks), clean start and stop."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import structlog.testing

from proveo.app import create_app
from proveo.config import Settings
from proveo.core.cache import Cache
from proveo.core.db import Database
from proveo.integrations.storage import LocalImageStorage
from proveo.integrations.translation import NoTranslator
from proveo.jobs import repository as jobs_repository
from proveo.jobs.registry import JobContext, JobRegistry, PythonJob, SqlJob, build_registry
from proveo.jobs.scheduler import JobScheduler
from proveo.jobs.schemas import JobOutcome
from proveo.jobs.service import run_job


@pytest.fixture
async def replicas(database_dsn: str) -> AsyncIterator[Callable[[], Database]]:
    """Each call: the Database of another backend replica on the same PostgreSQL."""
    opened: list[Database] = []

    def replica() -> Database:
        database = Database(database_dsn, min_size=0, max_size=4)
        opened.append(database)
        return database

    yield replica
    for database in opened:
        await database.close()


def context(database: Database, settings: Settings) -> JobContext:
    return JobContext(
        database=database,
        storage=LocalImageStorage(settings.images_dir),
        translator=NoTranslator(),
        settings=settings,
    )


async def contexts(
    replicas: Callable[[], Database], settings: Settings, count: int
) -> list[JobContext]:
    result = []
    for _ in range(count):
        database = replicas()
        await database.open()
        result.append(context(database, settings))
    return result


class TestAdvisoryLock:
    async def test_a_second_replica_skips_a_job_the_first_is_running(
        self, replicas: Callable[[], Database], settings: Settings
    ) -> None:
        first, second = await contexts(replicas, settings, 2)
        started, release = asyncio.Event(), asyncio.Event()
        runs: list[str] = []

        async def work(ctx: JobContext) -> None:
            runs.append("run")
            started.set()
            await release.wait()

        job = PythonJob("exclusive-work", 60, work)
        running = asyncio.create_task(run_job(job, first))
        await asyncio.wait_for(started.wait(), 5)

        assert await run_job(job, second) is JobOutcome.LOCKED
        assert runs == ["run"]

        release.set()
        assert await running is JobOutcome.RAN
        # Released: the other replica gets it now.
        release.clear()
        release.set()
        assert await run_job(job, second) is JobOutcome.RAN
        assert runs == ["run", "run"]

    async def test_a_lock_that_cannot_be_released_goes_with_its_connection(
        self,
        replicas: Callable[[], Database],
        settings: Settings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # Pools keep their connections' sessions (no reset on release): a session lock left on
        # one would block the job on every replica for as long as the connection lives.
        first, second = await contexts(replicas, settings, 2)

        async def quick(_: JobContext) -> int:
            return 1

        async def refuse(*_: object) -> None:
            raise RuntimeError("the unlock failed")

        job = PythonJob("unlock-fails", 60, quick)
        with monkeypatch.context() as patched:
            patched.setattr(jobs_repository, "release_job_lock", refuse)
            assert await run_job(job, first) is not JobOutcome.LOCKED
        assert await run_job(job, second) is JobOutcome.RAN
        assert await run_job(job, first) is JobOutcome.RAN

    async def test_different_jobs_do_not_block_each_other(
        self, replicas: Callable[[], Database], settings: Settings
    ) -> None:
        [ctx] = await contexts(replicas, settings, 1)
        release = asyncio.Event()

        async def hold(_: JobContext) -> None:
            await release.wait()

        async def quick(_: JobContext) -> int:
            return 1

        held = asyncio.create_task(run_job(PythonJob("held-job", 60, hold), ctx))
        await asyncio.sleep(0.1)
        assert await run_job(PythonJob("other-job", 60, quick), ctx) is JobOutcome.RAN
        release.set()
        assert await held is JobOutcome.RAN

    async def test_two_schedulers_never_run_one_job_at_once(
        self, replicas: Callable[[], Database], settings: Settings
    ) -> None:
        spans: list[tuple[float, float]] = []

        async def slow(_: JobContext) -> None:
            begin = time.monotonic()
            await asyncio.sleep(0.25)
            spans.append((begin, time.monotonic()))

        registry = JobRegistry([PythonJob("slow-job", 0.1, slow)])
        schedulers = [JobScheduler(registry, ctx) for ctx in await contexts(replicas, settings, 2)]
        with structlog.testing.capture_logs() as logs:
            for scheduler in schedulers:
                scheduler.start()
            await asyncio.sleep(1.5)
            for scheduler in schedulers:
                await scheduler.stop()

        assert len(spans) >= 3
        spans.sort()
        for (_, end), (begin, _) in itertools.pairwise(spans):
            assert begin >= end, "two runs of one job overlapped"
        assert any(entry["event"] == "job_skipped_locked" for entry in logs)

    async def test_a_failing_job_is_logged_and_frees_its_lock(
        self, replicas: Callable[[], Database], settings: Settings
    ) -> None:
        [ctx] = await contexts(replicas, settings, 1)

        async def broken(_: JobContext) -> None:
            raise RuntimeError("boom")

        with structlog.testing.capture_logs() as logs:
            assert await run_job(PythonJob("broken-job", 60, broken), ctx) is JobOutcome.FAILED
        assert [entry["event"] for entry in logs] == ["job_failed"]

        async def fixed(_: JobContext) -> str:
            return "ok"

        assert await run_job(PythonJob("broken-job", 60, fixed), ctx) is JobOutcome.RAN


class TestSqlJobsInTheApp:
    async def test_runs_a_sql_job_when_pg_cron_does_not_own_it(
        self, replicas: Callable[[], Database], settings: Settings
    ) -> None:
        [ctx] = await contexts(replicas, settings, 1)
        job = SqlJob("answer", "* * * * *", "SELECT 42", "a harmless count")
        with structlog.testing.capture_logs() as logs:
            assert await run_job(job, ctx) is JobOutcome.RAN
        [finished] = [entry for entry in logs if entry["event"] == "job_finished"]
        assert finished["result"] == 42


class TestLifecycle:
    async def test_the_app_lifespan_starts_and_stops_the_scheduler(
        self, settings: Settings, database: Database, cache: Cache, tmp_path: Path
    ) -> None:
        calls: list[float] = []
        ticked_twice = asyncio.Event()

        async def tick(ctx: JobContext) -> None:
            assert ctx.database is database
            calls.append(time.monotonic())
            if len(calls) >= 2:
                ticked_twice.set()

        registry = JobRegistry([PythonJob("tick", 0.05, tick)])
        app = create_app(
            settings.model_copy(update={"scheduler_enabled": True}),
            database=database,
            cache=cache,
            storage=LocalImageStorage(tmp_path / "images"),
            job_registry=registry,
        )
        async with app.router.lifespan_context(app):
            scheduler = app.state.scheduler
            assert isinstance(scheduler, JobScheduler)
            assert scheduler.running
            await asyncio.wait_for(ticked_twice.wait(), 5)
        assert not scheduler.running
        seen = len(calls)
        await asyncio.sleep(0.2)
        assert len(calls) == seen

    async def test_the_scheduler_is_off_when_disabled(
        self, settings: Settings, database: Database, cache: Cache, tmp_path: Path
    ) -> None:
        app = create_app(
            settings, database=database, cache=cache, storage=LocalImageStorage(tmp_path)
        )
        async with app.router.lifespan_context(app):
            assert app.state.scheduler is None

    async def test_stop_waits_for_a_running_job_then_cancels_it_and_frees_the_lock(
        self, replicas: Callable[[], Database], settings: Settings
    ) -> None:
        first, second = await contexts(replicas, settings, 2)
        started = asyncio.Event()
        finished: list[str] = []

        async def endless(_: JobContext) -> None:
            started.set()
            await asyncio.sleep(60)
            finished.append("never")

        job = PythonJob("endless-job", 0.05, endless)
        scheduler = JobScheduler(JobRegistry([job]), first, stop_grace_seconds=0.3)
        scheduler.start()
        await asyncio.wait_for(started.wait(), 5)
        begun = time.monotonic()
        await scheduler.stop()
        assert 0.25 <= time.monotonic() - begun < 2
        assert not scheduler.running
        assert finished == []

        async def quick(_: JobContext) -> None:
            return None

        assert await run_job(PythonJob("endless-job", 60, quick), second) is JobOutcome.RAN

    async def test_a_job_that_ends_within_the_grace_period_finishes(
        self, replicas: Callable[[], Database], settings: Settings
    ) -> None:
        [ctx] = await contexts(replicas, settings, 1)
        started = asyncio.Event()
        finished: list[str] = []

        async def brief(_: JobContext) -> None:
            started.set()
            await asyncio.sleep(0.2)
            finished.append("done")

        scheduler = JobScheduler(JobRegistry([PythonJob("brief-job", 0.05, brief)]), ctx)
        scheduler.start()
        await asyncio.wait_for(started.wait(), 5)
        await scheduler.stop()
        assert finished == ["done"]


class TestRegistry:
    def test_lists_the_sql_jobs_and_takes_python_jobs(self) -> None:
        registry = build_registry()
        assert [job.name for job in registry.sql_jobs] == [
            "purge-expired-sessions", "purge-expired-tokens", "purge-unverified-accounts",
            "refresh-directory-statistics", "purge-old-search-stats", "expire-quote-requests",
            "purge-unconfirmed-quote-requests", "erase-quote-contacts",
        ]  # fmt: skip

        assert [job.name for job in registry.python_jobs] == [
            "retry-translations", "clean-up-orphan-images",
        ]  # fmt: skip

        async def work(_: JobContext) -> None:
            return None

        job = registry.register_python_job("another-job", 300, work)
        assert registry.python_jobs[-1] == job

    @pytest.mark.parametrize(
        ("job", "complaint"),
        [
            (PythonJob("Bad Name", 60, lambda _: asyncio.sleep(0)), "lowercase"),
            (PythonJob("no-interval", 0, lambda _: asyncio.sleep(0)), "positive"),
            (SqlJob("weekday", "0 3 * * 1", "SELECT 1", "x"), "weekday"),
            (SqlJob("six-fields", "0 0 3 * * *", "SELECT 1", "x"), "five cron fields"),
            (SqlJob("unreadable", "61 * * * *", "SELECT 1", "x"), "maximum value"),
            (SqlJob("purge-expired-sessions", "* * * * *", "SELECT 1", "x"), "already"),
        ],
    )
    def test_refuses(self, job: PythonJob | SqlJob, complaint: str) -> None:
        registry = build_registry()
        with pytest.raises(ValueError, match=complaint):
            registry._add(job)
