"""Suite-wide fixtures: real PostgreSQL, real Redis, the app over HTTP (ASGI transport)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import structlog.testing
from fastapi import FastAPI

from proveo.app import create_app
from proveo.catalog import service as catalog_service
from proveo.config import Settings
from proveo.core import migrations
from proveo.core.cache import Cache
from proveo.core.db import Connection, Database
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.integrations.storage import LocalImageStorage, S3ImageStorage
from tests.companies.support import ScoredAnalyser, close_shared_pipeline
from tests.fixtures.database import PinnedDatabase, create_database
from tests.fixtures.servers import (
    PgCronServer,
    RedisServer,
    SeaweedServer,
    running_pg_cron,
    running_redis,
    running_seaweed,
)

PG_ROOT_ENV = "PROVEO_TEST_PG_ROOT"


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def _interrupt_on_sigterm(signum: int, frame: object) -> None:
    # A CI timeout sends SIGTERM: make it unwind like Ctrl-C, so every server gets stopped.
    raise KeyboardInterrupt


_basetemp_key = pytest.StashKey[Path]()


def _use_a_basetemp_of_its_own(config: pytest.Config) -> None:
    """Put the session's temporary directories in a fresh directory, unless --basetemp says where.

    The embedded PostgreSQL servers that tests start under `tmp_path` run as an unprivileged
    user, which must traverse every parent of their data directory. pytest makes
    /tmp/pytest-of-<user> private (0700) whenever a session starts there, so another session
    starting beside this one (a second worktree, a rerun) cut the running servers off from
    their files: they crashed at their next checkpoint and `proveo serve` exited with 1.
    """
    if config.option.basetemp is not None:
        return
    basetemp = Path(tempfile.mkdtemp(prefix="proveo-pytest-"))
    config.option.basetemp = str(basetemp)
    config.stash[_basetemp_key] = basetemp


@pytest.hookimpl(tryfirst=True)  # before pytest's own configure reads --basetemp
def pytest_configure(config: pytest.Config) -> None:
    """Start the session's PostgreSQL once, in the controller; xdist workers inherit its address."""
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    if not _is_controller(config):
        return
    _use_a_basetemp_of_its_own(config)
    if PG_ROOT_ENV in os.environ:
        return
    root = Path(tempfile.mkdtemp(prefix="proveo-test-pg-"))
    server = EmbeddedPostgres(
        root,
        settings={
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
        },
    )
    server.start()
    os.environ[PG_ROOT_ENV] = str(root)
    config.stash[_server_key] = server


_server_key = pytest.StashKey[EmbeddedPostgres]()


def _destroy_session_server(config: pytest.Config) -> None:
    server = config.stash.get(_server_key, None)
    if server is not None:
        del config.stash[_server_key]
        # Its "stopped" log line would land in the middle of pytest's report.
        with structlog.testing.capture_logs():
            server.destroy()
        os.environ.pop(PG_ROOT_ENV, None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the server before pytest prints its summary: the summary stays the last line."""
    _destroy_session_server(session.config)
    basetemp = session.config.stash.get(_basetemp_key, None)
    if basetemp is not None and exitstatus == pytest.ExitCode.OK:
        # Kept after a failure, for the servers' logs; a green run leaves nothing behind.
        shutil.rmtree(basetemp, ignore_errors=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    # A session that never reached its end (an error at startup) still stops its server.
    _destroy_session_server(config)


FIGURE = "figure"
"""A user property a test records (`record_property(FIGURE, line)`) to have its measured figure
printed at the end of the run, however the run is split across xdist workers."""

_figures: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _figures.extend(str(value) for name, value in report.user_properties if name == FIGURE)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _figures and _is_controller(terminalreporter.config):
        terminalreporter.section("figures measured by the tests")
        for line in sorted(_figures):
            terminalreporter.write_line(line)


def worker_id(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else "main"


@pytest.fixture(scope="session", autouse=True)
async def image_pipeline_stopped_at_exit() -> AsyncIterator[None]:
    """The image workers the apps of this session shared stop with the session."""
    yield
    await close_shared_pipeline()


@pytest.fixture(scope="session")
def pg_server() -> EmbeddedPostgres:
    return EmbeddedPostgres(Path(os.environ[PG_ROOT_ENV]))


@pytest.fixture(scope="session")
async def database_dsn(pg_server: EmbeddedPostgres, request: pytest.FixtureRequest) -> str:
    """This worker's database: migrated and given the catalogue once."""
    name = f"proveo_test_{worker_id(request.config)}"
    await create_database(pg_server.dsn("postgres"), name)
    dsn = pg_server.dsn(name)
    await asyncio.to_thread(migrations.upgrade, dsn)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET search_path TO proveo, public")
        await catalog_service.seed_catalog(conn)
    finally:
        await conn.close()
    return dsn


@pytest.fixture(scope="session")
async def database(database_dsn: str) -> AsyncIterator[Database]:
    """A real pooled Database on the worker's database (commits are real: clean up after)."""
    db = Database(database_dsn, min_size=1, max_size=8)
    await db.open()
    yield db
    await db.close()


@pytest.fixture
async def conn(database: Database) -> AsyncIterator[Connection]:
    """The test's connection, inside a transaction rolled back at the end."""
    async with database.primary.acquire() as connection:
        tx = connection.transaction()
        await tx.start()
        try:
            yield connection
        finally:
            await tx.rollback()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def pg_cron_server() -> Iterator[PgCronServer]:
    """Debian PostgreSQL 15 with pg_cron, started when a test first asks for it (~1 s)."""
    with running_pg_cron(Path(tempfile.mkdtemp(prefix="proveo-pg-cron-"))) as server:
        yield server


@pytest.fixture
async def cache(redis_server: RedisServer) -> AsyncIterator[Cache]:
    cache = Cache.from_url(redis_server.url)
    assert cache.redis is not None
    await cache.redis.flushdb()
    yield cache
    await cache.close()


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """One SeaweedFS per worker, started by the first test that needs S3 (about 5 s)."""
    with running_seaweed(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


def build_s3_storage(server: SeaweedServer, *, timeout: float = 2.0) -> S3ImageStorage:
    return S3ImageStorage(
        endpoint_url=server.endpoint_url,
        bucket=server.BUCKET,
        access_key=server.ACCESS_KEY,
        secret_key=server.SECRET_KEY,
        region="us-east-1",
        timeout=timeout,
    )


@pytest.fixture
async def s3_storage(seaweed: SeaweedServer) -> AsyncIterator[S3ImageStorage]:
    """S3 storage on the worker's bucket, emptied first: a listing sees this test's objects."""
    await asyncio.to_thread(seaweed.empty_bucket)
    storage = build_s3_storage(seaweed)
    yield storage
    await storage.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        database_url="postgresql://unused-in-tests",
        bcrypt_rounds=4,
        log_format="console",
        log_level="WARNING",
        scheduler_enabled=False,
    )


@pytest.fixture
def app(settings: Settings, conn: Connection, cache: Cache) -> FastAPI:
    return create_app(
        settings,
        database=PinnedDatabase(conn),
        cache=cache,
        storage=LocalImageStorage(settings.images_dir),
        image_analyser=ScoredAnalyser(),
    )


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        yield http
