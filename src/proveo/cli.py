"""Proveo's command line: serve the app (and the image service), migrate and seed the database,
create an admin, clean up stored images, run a scheduled job now, back up and restore."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import gc
import getpass
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

import asyncpg
import sqlalchemy.exc
import structlog
from pydantic import ValidationError

from proveo.config import ImageServiceSettings, Settings, settings_problems
from proveo.core import metrics, migrations
from proveo.core.db import POOLS_PER_SERVER, DatabaseUnavailable
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.core.logging import set_worker
from proveo.core.workers import WorkerExited, run_workers

if TYPE_CHECKING:
    import uvicorn
    from prometheus_client import CollectorRegistry
    from starlette.types import ASGIApp

    from proveo.accounts.lifecycle import AdminAccount
    from proveo.accounts.schemas import AdminAccountRequest
    from proveo.backups.schemas import BackupResult, RestoreResult
    from proveo.core.db import Connection
    from proveo.demo.seed import DemoSeedResult
    from proveo.demo.synthetic import SyntheticSeedResult
    from proveo.images.schemas import OrphanReport
    from proveo.jobs.registry import Job
    from proveo.jobs.schemas import JobRun

log = structlog.get_logger("proveo.cli")

T = TypeVar("T")


class CommandFailed(Exception):
    """A refusal the operator can act on: printed as `error: ...` lines, exit code 2."""

    def __init__(self, *lines: str) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


class Report:
    """What a command did: a short sentence for a person at a terminal, a log line otherwise."""

    def __init__(self, *, human: bool) -> None:
        self.human = human

    def done(self, sentence: str, event: str, **fields: object) -> None:
        if self.human:
            print(sentence, file=sys.stderr)
        else:
            log.info(event, **fields)

    def warn(self, sentence: str, event: str, **fields: object) -> None:
        if self.human:
            print(f"note: {sentence}", file=sys.stderr)
        else:
            log.warning(event, **fields)


EMBEDDED_DATABASE = "proveo"
EMBEDDED_SPARE_CONNECTIONS = 20


def embedded_max_connections(settings: Settings) -> int:
    """Every worker process has its own pools: the embedded server holds them all, with room
    for the other commands and psql beside them (never below PostgreSQL's default of 100)."""
    pooled = settings.workers * POOLS_PER_SERVER * settings.db_pool_max
    return max(100, pooled + EMBEDDED_SPARE_CONNECTIONS)


MIB = 1024 * 1024
EMBEDDED_SHARED_BUFFERS_MIB = (128, 4096)  # PostgreSQL's default, and a ceiling


def embedded_memory_settings(memory_bytes: int) -> dict[str, str]:
    """A quarter of the machine's memory for PostgreSQL's buffers (the usual rule; untouched
    pages cost nothing) and half of it declared as the cache plans may count on. With the
    default 128 MB, a search over 1,000,000 companies (4.6 GB) read every page through the
    kernel: Santiago + Construcción was 4.6 requests a second under 8 concurrent, 13.2 with
    4 GB (docs/search-at-scale.md)."""
    low, high = EMBEDDED_SHARED_BUFFERS_MIB
    shared_buffers = min(max(memory_bytes // 4 // MIB, low), high)
    cache = max(memory_bytes // 2 // MIB, shared_buffers)
    return {"shared_buffers": f"{shared_buffers}MB", "effective_cache_size": f"{cache}MB"}


def _physical_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


# What an unreachable or refusing database raises, through Alembic (SQLAlchemy + psycopg) or
# asyncpg: reported as one line, not as a traceback.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    DatabaseUnavailable,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


def database_problem(settings: Settings, exc: BaseException) -> str:
    """One line naming the database by host, port and name; never the password."""
    root = getattr(exc, "orig", None) or exc.__cause__ or exc
    reason = next(iter(str(root).strip().splitlines()), "") or type(root).__name__
    if not settings.database_url:
        return f"the embedded database failed: {reason}"
    parts = urlsplit(settings.database_url)
    if parts.password:
        reason = reason.replace(parts.password, "***")
    where = f"{parts.hostname or 'the local socket'}:{parts.port or 5432}{parts.path}"
    return (
        f"PROVEO_DATABASE_URL: cannot use the database at {where} ({reason}); "
        "check that it runs and accepts this user"
    )


async def _create_database_if_missing(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


class DataDirInUse(Exception):
    """Another `proveo serve` owns this data directory's embedded server."""


@contextmanager
def _serve_lock(data_dir: Path) -> Iterator[None]:
    """One `proveo serve` per data directory: the OS drops the lock if the process dies."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "serve.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.seek(0)
            raise DataDirInUse(
                f"another `proveo serve` (pid {handle.read().strip() or '?'}) uses {data_dir}; "
                "stop it, or set PROVEO_DATA_DIR to another directory for a second server"
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield


# SIGHUP: the terminal went away (window closed, SSH dropped). It stops `serve` like the
# others; its default action would kill the process and orphan the embedded PostgreSQL.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """Shutdown work that a second Ctrl-C must not cut short (stopping the database).

    Ignored, not blocked: a mask holds for the thread that sets it only, and the process's other
    threads took the signal, whose Python handler then interrupted `pg_ctl stop` in the main
    thread (found by the newcomer: Ctrl-C on `make run`, passed on again by `uv run`, left the
    database running)."""
    previous = {stop: signal.signal(stop, signal.SIG_IGN) for stop in STOP_SIGNALS}
    try:
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


@contextmanager
def database_settings(settings: Settings, *, owner: bool = False) -> Iterator[Settings]:
    """Settings with a reachable DATABASE_URL: the configured one, or the embedded server's.

    `owner` (serve): take the data directory's lock, adopt a server a crash left running, and
    always stop it on exit. Other commands use a running server as they find it and stop only
    one they started themselves.
    """
    if settings.database_url:
        yield settings
        return
    server = EmbeddedPostgres(
        settings.pg_dir,
        settings={
            "max_connections": str(embedded_max_connections(settings)),
            **embedded_memory_settings(_physical_memory_bytes()),
        },
    )
    with contextlib.ExitStack() as stack:
        if owner:
            stack.enter_context(_serve_lock(settings.data_dir.resolve()))
        stops_on_exit = owner or not server.is_running()
        try:
            server.start()
            asyncio.run(_create_database_if_missing(server.dsn("postgres"), EMBEDDED_DATABASE))
            yield settings.model_copy(update={"database_url": server.dsn(EMBEDDED_DATABASE)})
        finally:
            if stops_on_exit:
                with _signals_ignored():
                    server.stop()


@dataclass(frozen=True)
class SeedResult:
    new_products: int
    new_communes: int
    demo: DemoSeedResult | None
    synthetic: SyntheticSeedResult | None = None


async def _seed(
    settings: Settings, *, demo: bool, synthetic: int = 0, synthetic_seed: int = 1
) -> SeedResult:
    from proveo.catalog import service as catalog_service
    from proveo.core.security import hash_password_sync
    from proveo.demo.seed import seed_demo_data
    from proveo.demo.synthetic import SYNTHETIC_PASSWORD, seed_synthetic
    from proveo.imaging.client import build_image_analyser
    from proveo.integrations.storage import build_storage

    storage = build_storage(settings)
    # One bcrypt for every synthetic owner, made before the transaction opens.
    synthetic_hash = (
        await asyncio.to_thread(hash_password_sync, SYNTHETIC_PASSWORD, settings.bcrypt_rounds)
        if synthetic
        else ""
    )

    async def seed(conn: Connection) -> SeedResult:
        products, communes = await catalog_service.seed_catalog(conn)
        demo_result = None
        if demo:
            analyser = build_image_analyser(settings)
            try:
                demo_result = await seed_demo_data(
                    conn, storage, analyser, bcrypt_rounds=settings.bcrypt_rounds
                )
            finally:
                await analyser.close()
        synthetic_result = (
            await seed_synthetic(conn, synthetic, seed=synthetic_seed, password_hash=synthetic_hash)
            if synthetic
            else None
        )
        return SeedResult(
            new_products=products,
            new_communes=communes,
            demo=demo_result,
            synthetic=synthetic_result,
        )

    try:
        return await _in_transaction(settings, seed)
    finally:
        await storage.close()


def _report_seed(report: Report, result: SeedResult) -> None:
    if result.new_products or result.new_communes:
        report.done(
            f"Seeded the catalogue: {result.new_products} products and "
            f"{result.new_communes} communes.",
            "catalog_seeded",
            new_products=result.new_products,
            new_communes=result.new_communes,
        )
    else:
        report.done("The catalogue is already there; nothing added.", "catalog_already_present")
    if result.synthetic is not None:
        report.done(
            f"Seeded {result.synthetic.added} synthetic companies and their owners in "
            f"{result.synthetic.seconds:.1f} s ({result.synthetic.total} synthetic in all).",
            "synthetic_data_seeded",
            added=result.synthetic.added,
            total=result.synthetic.total,
            seconds=round(result.synthetic.seconds, 2),
        )
    if result.demo is None:
        return
    if result.demo.created:
        report.done(
            f"Seeded the demo data: {result.demo.users} users and "
            f"{result.demo.companies} companies.",
            "demo_data_seeded",
            users=result.demo.users,
            companies=result.demo.companies,
        )
    else:
        report.done("The demo data was seeded before; nothing added.", "demo_data_already_present")


def _migrate(report: Report, dsn: str, revision: str = "head", *, asked: bool = False) -> None:
    """`asked`: migrating is the command itself, so "nothing to apply" is worth saying."""
    applied = migrations.upgrade(dsn, revision)
    for step in applied:
        report.done(
            f"Applied migration {step.revision}: {step.title.rstrip('.')}.",
            "migration_applied",
            revision=step.revision,
        )
    if asked and not applied:
        report.done(
            "The database schema is up to date; no migration to apply.", "migrations_up_to_date"
        )
    if revision == "head":  # the jobs' SQL is written for the latest schema
        _set_up_pg_cron(report, dsn)


def _prepare_schema(report: Report, settings: Settings) -> None:
    """Development migrates; production only checks, so that a cron entry never migrates.

    In production the schema is the deployment's step (`proveo migrate`, or `proveo serve`),
    along with pg_cron's set-up: a maintenance command must not run either behind its back.
    """
    if not settings.is_production:
        _migrate(report, settings.database_url)
        return
    state = migrations.schema_state(settings.database_url)
    if state.at_head:
        return
    found = (
        f"at revision {', '.join(state.current)}" if state.current else "without Proveo's schema"
    )
    raise CommandFailed(
        f"the database is {found}, and this version needs {', '.join(state.head)}: "
        "run `proveo migrate` first"
    )


def _set_up_pg_cron(report: Report, dsn: str) -> None:
    """SQL jobs go to pg_cron where it can run them; otherwise the app scheduler keeps them."""
    from proveo.jobs.registry import build_registry
    from proveo.jobs.service import set_up_pg_cron

    setup = asyncio.run(set_up_pg_cron(dsn, build_registry().sql_jobs))
    if not setup.in_pg_cron:
        if setup.available:
            report.warn(
                f"{setup.reason}; the app scheduler runs the SQL jobs instead.",
                "pg_cron_not_used",
                reason=setup.reason,
            )
        else:  # the embedded server: the usual case, worth a log line, not a sentence
            log.info("sql_jobs_in_app_scheduler", reason=setup.reason)
        return
    if setup.scheduled or setup.unscheduled:
        report.done(
            f"pg_cron runs the SQL jobs: scheduled {', '.join(setup.scheduled) or 'none'}; "
            f"unscheduled {', '.join(setup.unscheduled) or 'none'}.",
            "pg_cron_jobs_scheduled",
            scheduled=setup.scheduled,
            unscheduled=setup.unscheduled,
        )
    else:
        log.info("pg_cron_jobs_unchanged", jobs=setup.unchanged)


async def _in_transaction(settings: Settings, work: Callable[[Connection], Awaitable[T]]) -> T:
    from proveo.app import build_database

    database = build_database(settings)
    await database.open()
    try:
        async with database.transaction() as conn:
            return await work(conn)
    finally:
        await database.close()


async def _create_admin(
    settings: Settings, request: AdminAccountRequest, *, reset_password: bool
) -> AdminAccount:
    from proveo.accounts import lifecycle
    from proveo.admin.service import CLI_ACTOR
    from proveo.integrations.storage import build_storage

    account = await _in_transaction(
        settings,
        lambda conn: lifecycle.ensure_admin(
            conn, request, reset_password=reset_password,
            bcrypt_rounds=settings.bcrypt_rounds, actor=CLI_ACTOR,
        ),
    )  # fmt: skip
    storage = build_storage(settings)
    try:
        for name in account.orphaned_objects:
            await storage.delete(name)
    finally:
        await storage.close()
    return account


async def _cleanup_images(settings: Settings, *, min_age: float, dry_run: bool) -> OrphanReport:
    from proveo.app import build_database
    from proveo.images.service import cleanup_orphan_images
    from proveo.integrations.storage import build_storage

    database = build_database(settings)
    storage = build_storage(settings)
    await database.open()
    try:
        return await cleanup_orphan_images(
            database, storage, min_age_seconds=min_age, dry_run=dry_run
        )
    finally:
        await storage.close()
        await database.close()


def _report_cleanup(report: Report, result: OrphanReport, min_age_minutes: int) -> None:
    verb = "Would remove" if result.dry_run else "Removed"
    names = result.orphans if result.dry_run else result.removed
    if report.human:
        for name in names:
            print(f"{verb.lower()} {name}", file=sys.stderr)
    young = (
        f"; {result.too_young} younger than {min_age_minutes} minutes kept"
        if result.too_young
        else ""
    )
    report.done(
        f"{verb} {len(names)} orphan image objects of {result.scanned} stored "
        f"({result.referenced} in use{young}).",
        "orphan_images_cleaned",
        dry_run=result.dry_run,
        scanned=result.scanned,
        referenced=result.referenced,
        too_young=result.too_young,
        removed=len(result.removed),
        # Removals are logged one by one by the service; a dry run lists what it would do.
        **({"orphans": list(result.orphans)} if result.dry_run else {}),
    )


def _banner(settings: Settings) -> str:
    url = f"http://{settings.host}:{settings.port}/"
    workers = f" ({settings.workers} worker processes)" if settings.workers > 1 else ""
    lines = ["", f"  Proveo is running at {url}{workers}"]
    if settings.serves_docs:
        lines.append(f"  API docs: {url}docs")
    if settings.seed_demo:
        lines += [
            "  Demo admin: admin_test@mail.com / password",
            "  Demo users: testuser01@proveo.com … testuser16@proveo.com / TestPass123!",
        ]
    if settings.email_backend == "console":
        lines.append(f"  Emails are written to {settings.outbox_dir}")
    return "\n".join([*lines, "  Press Ctrl-C to stop.", ""])


class _StopRequested(BaseException):
    """A stop signal, raised by its handler: a BaseException, so that no `except Exception`
    on the way (a retry loop, a cleanup) takes it for an error and carries on."""


def _raise_stop(signum: int, _frame: object) -> None:
    # Once: the stop is under way, and a second signal raised on the way out (Ctrl-C passed on
    # again by `uv run`) could cut short the cleanup that stops the database.
    for stop in STOP_SIGNALS:
        signal.signal(stop, signal.SIG_IGN)
    raise _StopRequested(signal.Signals(signum).name)


def _bind_listener(
    host: str, port: int, variables: tuple[str, str] = ("PROVEO_HOST", "PROVEO_PORT")
) -> socket.socket:
    """Bind the server's socket before anything starts, so a busy port fails first and fast.

    uvicorn listens on this very socket: nothing can take the port between check and serve.
    `variables` name the settings of host and port, for the error messages.
    """
    host_variable, port_variable = variables
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        listener = socket.socket(family, kind, proto)
    except OSError as exc:
        raise CommandFailed(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
            f"set {host_variable} to an address of this machine"
        ) from exc
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError as exc:
        listener.close()
        raise CommandFailed(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
            f"set {port_variable} to a free port (or {host_variable} to another address)"
        ) from exc
    return listener


def _announcing_server(config: uvicorn.Config, banner: str) -> uvicorn.Server:
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        """Prints the banner once the socket listens, not when the process starts."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and banner:
                print(banner, flush=True)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn shuts down gracefully on SIGINT and SIGTERM only; SIGHUP joins them. It is
            # restored before uvicorn re-raises the captured signal, which then stops `serve`.
            with super().capture_signals():
                previous = signal.signal(signal.SIGHUP, self.handle_exit)
                try:
                    yield
                finally:
                    signal.signal(signal.SIGHUP, previous)

    return AnnouncingServer(config)


@contextmanager
def _metrics_endpoint(
    host: str, port: int, port_variable: str, registry: CollectorRegistry | None = None
) -> Iterator[metrics.Endpoint | None]:
    """The metrics' own address, bound at once like the server's; None when the port is 0."""
    if not port:
        yield None
        return
    try:
        endpoint = metrics.Endpoint(host, port, registry)
    except OSError as exc:
        raise CommandFailed(
            f"cannot serve the metrics on {host}:{port} ({exc.strerror or exc}); set "
            f"{port_variable} to a free port (or 0 to turn the metrics endpoint off)"
        ) from exc
    try:
        yield endpoint
    finally:
        endpoint.close()


def cmd_serve(settings: Settings) -> int:
    listener = _bind_listener(settings.host, settings.port)
    # uvicorn re-raises the stop signals after its graceful shutdown; turning them into an
    # exception lets the embedded PostgreSQL be stopped on the way out instead of orphaned.
    for stop in STOP_SIGNALS:
        signal.signal(stop, _raise_stop)
    with listener, contextlib.ExitStack() as stack:
        registry = None  # this process's own, for one worker
        if settings.workers > 1 and settings.metrics_port:
            # Before anything records (the seed does): the workers' values go to files that
            # the parent sums for each scrape.
            registry = stack.enter_context(metrics.multiprocess_registry())
        endpoint = stack.enter_context(
            _metrics_endpoint(
                settings.metrics_host, settings.metrics_port, "PROVEO_METRICS_PORT", registry
            )
        )
        try:
            _serve(settings, listener, endpoint)
        except _StopRequested as stop:
            log.info("proveo_stopped_by_signal", signal=str(stop))
        except DataDirInUse as exc:
            raise CommandFailed(str(exc)) from exc
    return 0


async def check_s3_bucket(settings: Settings) -> None:
    """With STORAGE=s3, the bucket must exist: created when PROVEO_S3_CREATE_BUCKET allows
    (by default in development), else `serve` stops with one line. A store that does not answer
    is only logged: the API keeps serving without images until it does."""
    from proveo.integrations.storage import (
        BucketMissing,
        S3ImageStorage,
        StorageUnavailable,
        build_storage,
    )

    if settings.storage != "s3":
        return
    storage = build_storage(settings)
    assert isinstance(storage, S3ImageStorage)
    try:
        await storage.ensure_bucket(create=settings.creates_s3_bucket)
    except BucketMissing as exc:
        raise CommandFailed(
            f"PROVEO_S3_BUCKET: the bucket {settings.s3_bucket!r} does not exist at "
            f"{settings.s3_endpoint_url or 'AWS S3'}; create it, or set "
            "PROVEO_S3_CREATE_BUCKET=true for `proveo serve` to create it"
        ) from exc
    except StorageUnavailable:
        log.warning("s3_bucket_unchecked", bucket=settings.s3_bucket)
    finally:
        await storage.close()


def _serve(settings: Settings, listener: socket.socket, endpoint: metrics.Endpoint | None) -> None:
    report = Report(human=False)
    # Before the database: a misnamed bucket is refused at once, not after the migrations.
    asyncio.run(check_s3_bucket(settings))
    with database_settings(settings, owner=True) as ready:
        _migrate(report, ready.database_url)
        if ready.is_production:
            _refuse_demo_accounts(ready)
        _report_seed(report, asyncio.run(_seed(ready, demo=ready.seed_demo)))
        banner = _banner(ready)
        if ready.workers == 1:
            if endpoint is not None:
                endpoint.start()
            _serve_app(ready, listener, banner)
            return

        def serve_one(index: int) -> None:
            set_worker(index)
            if endpoint is not None:
                endpoint.forget()  # the parent serves the metrics of all the workers
            # The first worker to listen announces; the others share its socket.
            _serve_app(ready, listener, banner if index == 0 else "")

        try:
            run_workers(
                ready.workers,
                serve_one,
                STOP_SIGNALS,
                listener,
                forked=endpoint.start if endpoint is not None else lambda: None,
                reaped=metrics.process_exited,
            )
        except WorkerExited as exc:
            raise CommandFailed(f"{exc}; the other workers were stopped") from exc


def _refuse_demo_accounts(settings: Settings) -> None:
    """Production serves no database holding the demo accounts, whose passwords are public
    (found by an adversary: a copy of `make run`'s database, or a restore of its backup, let
    anyone sign in as its admin)."""
    from proveo.demo.seed import demo_accounts_left

    found = asyncio.run(_in_transaction(settings, demo_accounts_left))
    if found:
        raise CommandFailed(
            f"the database holds demo or synthetic accounts ({found[0]}, ...), whose passwords "
            "are public: production does not serve them; use a database without the demo data"
        )


def _serve_app(settings: Settings, listener: socket.socket, banner: str) -> None:
    """This process's app on `listener`, until a stop signal."""
    from proveo.app import create_app

    config = uvicorn_config(create_app(settings), settings)
    _freeze_what_lives_forever()
    _announcing_server(config, banner).run(sockets=[listener])


def _freeze_what_lives_forever() -> None:
    """The modules, the app and its routes live as long as the server: out of the collector's
    sight, a full collection no longer walks them. Without it, one request in a few thousand
    waited for such a walk (the search bench's p95 of a company's page went from 177 to 70 ms).
    """
    gc.collect()
    gc.freeze()


def cmd_image_service(settings: ImageServiceSettings) -> int:
    import uvicorn

    from proveo.imaging.app import create_image_service_app

    listener = _bind_listener(
        settings.image_service_host,
        settings.image_service_port,
        ("PROVEO_IMAGE_SERVICE_HOST", "PROVEO_IMAGE_SERVICE_PORT"),
    )
    with (
        listener,
        _metrics_endpoint(
            settings.metrics_host,
            settings.image_service_metrics_port,
            "PROVEO_IMAGE_SERVICE_METRICS_PORT",
        ) as endpoint,
    ):
        config = uvicorn.Config(
            create_image_service_app(settings), log_config=None, access_log=False
        )
        if endpoint is not None:
            endpoint.start()
        # uvicorn stops gracefully on SIGINT/SIGTERM: there is nothing else to clean up here.
        uvicorn.Server(config).run(sockets=[listener])
    return 0


def uvicorn_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """How `proveo serve` runs uvicorn (the tests serve the app the same way)."""
    import uvicorn

    return uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=",".join(settings.trusted_proxies),
        # An idle keep-alive connection is closed after this many seconds. uvicorn has no
        # timeout for a request's headers or body: the app times out bodies itself
        # (RequestBodyMiddleware), and headers that never end hold only a socket.
        timeout_keep_alive=5,
        # No `limit_concurrency`: past it uvicorn answers 503 to everyone, the switch one
        # client could flip. Capacity is the load shedder's, per client the concurrency cap's.
        limit_concurrency=None,
    )


def cmd_migrate(settings: Settings, report: Report, revision: str) -> int:
    with database_settings(settings) as ready:
        _migrate(report, ready.database_url, revision, asked=True)
    return 0


def cmd_seed(
    settings: Settings, report: Report, demo: bool, synthetic: int = 0, synthetic_seed: int = 1
) -> int:
    if demo and settings.is_production:
        raise CommandFailed("demo data is refused in production")
    from proveo.demo.repository import CatalogueMismatch

    if synthetic and settings.is_production:
        raise CommandFailed("synthetic data is refused in production (its password is public)")
    with database_settings(settings) as ready:
        _prepare_schema(report, ready)
        try:
            result = asyncio.run(
                _seed(ready, demo=demo, synthetic=synthetic, synthetic_seed=synthetic_seed)
            )
        except CatalogueMismatch as exc:
            raise CommandFailed(str(exc)) from exc
        _report_seed(report, result)
    return 0


def cmd_cleanup_images(
    settings: Settings, report: Report, *, dry_run: bool, min_age_minutes: int
) -> int:
    from proveo.integrations.storage import StorageUnavailable

    with database_settings(settings) as ready:
        _prepare_schema(report, ready)
        try:
            result = asyncio.run(
                _cleanup_images(ready, min_age=min_age_minutes * 60, dry_run=dry_run)
            )
        except StorageUnavailable as exc:
            raise CommandFailed(
                f"the image storage ({ready.storage}) does not answer; try again when it does"
            ) from exc
    _report_cleanup(report, result, min_age_minutes)
    return 0


async def _run_job(settings: Settings, job: Job) -> JobRun:
    from proveo.app import build_database
    from proveo.integrations.storage import build_storage
    from proveo.integrations.translation import build_translator
    from proveo.jobs.registry import JobContext
    from proveo.jobs.service import run_job_now

    database = build_database(settings)
    storage = build_storage(settings)
    translator = build_translator(settings)
    await database.open()
    try:
        context = JobContext(
            database=database, storage=storage, translator=translator, settings=settings
        )
        return await run_job_now(job, context)
    finally:
        await translator.close()
        await storage.close()
        await database.close()


def _job_result(job: Job, result: object) -> str:
    from proveo.images.schemas import OrphanReport
    from proveo.jobs.registry import SqlJob

    if isinstance(job, SqlJob):
        return "1 row deleted" if result == 1 else f"{result} rows deleted"
    if isinstance(result, OrphanReport):
        return (
            f"{len(result.removed)} orphan image objects removed of {result.scanned} stored "
            f"({result.referenced} in use, {result.too_young} too young to remove)"
        )
    if isinstance(result, str):
        return result
    return f"it returned {result}"


def cmd_run_job(settings: Settings, report: Report, name: str) -> int:
    from proveo.jobs.registry import build_registry
    from proveo.jobs.schemas import JobOutcome

    jobs = {job.name: job for job in build_registry(settings).jobs}
    job = jobs.get(name)
    if job is None:
        raise CommandFailed(f"there is no job {name!r}; the jobs are: {', '.join(jobs)}")
    with database_settings(settings) as ready:
        _prepare_schema(report, ready)
        try:
            run = asyncio.run(_run_job(ready, job))
        except DATABASE_ERRORS:
            raise
        except Exception as exc:
            if not report.human:  # the traceback belongs in the logs, not on a terminal
                log.exception("job_failed", job=name)
            raise CommandFailed(f"the job {name} failed: {type(exc).__name__}: {exc}") from exc
    if run.outcome is JobOutcome.LOCKED:
        raise CommandFailed(
            f"the job {name} is running elsewhere right now (a scheduler holds its lock); "
            "nothing was done, try again when it finishes"
        )
    result = run.result
    report.done(
        f"Ran the job {name} in {run.duration_ms:.0f} ms: {_job_result(job, result)}.",
        "job_finished",
        job=name,
        result=result if isinstance(result, int | str | float | bool) else repr(result),
        duration_ms=run.duration_ms,
    )
    return 0


def _size(count: int) -> str:
    """1234567 -> 1.2 MB (decimal units, as `ls -h --si` and S3 consoles show them)."""
    if count < 1000:
        return f"{count} bytes"
    return f"{count / 1000:.1f} KB" if count < 1_000_000 else f"{count / 1_000_000:.1f} MB"


async def _backup(
    settings: Settings, target: str, keep: int | None
) -> tuple[BackupResult, list[str]]:
    from proveo.backups import service as backups_service
    from proveo.integrations.storage import build_storage

    storage = build_storage(settings)
    try:
        return await backups_service.back_up_to(target, settings, storage, keep=keep)
    finally:
        await storage.close()


def cmd_backup(settings: Settings, report: Report, *, to: str | None, keep: int | None) -> int:
    from proveo.backups.errors import BackupError
    from proveo.integrations.storage import StorageUnavailable

    target = to or settings.backup_to
    if not target:
        raise CommandFailed(
            "say where: --to DIR or --to s3://BUCKET/PREFIX, or set PROVEO_BACKUP_TO"
        )
    with database_settings(settings) as ready:
        try:
            result, removed = asyncio.run(_backup(ready, target, keep))
        except BackupError as exc:
            raise CommandFailed(str(exc)) from exc
        except StorageUnavailable as exc:
            raise CommandFailed(
                f"the image storage ({ready.storage}) does not answer; try again when it does"
            ) from exc
    counts = result.manifest.counts
    report.done(
        f"Backed up the database ({_size(counts.database_bytes)}, schema revision "
        f"{result.manifest.schema_revision}) and {counts.objects} image objects "
        f"({_size(counts.object_bytes)}; {counts.held_objects} held for moderation) to "
        f"{result.location} in {result.seconds:.1f} s.",
        "backup_created",
        location=result.location,
        schema_revision=result.manifest.schema_revision,
        objects=counts.objects,
        held_objects=counts.held_objects,
        object_bytes=counts.object_bytes,
        database_bytes=counts.database_bytes,
        seconds=round(result.seconds, 2),
    )
    if keep is not None:
        report.done(
            f"Removed {len(removed)} older backups there, keeping the newest {keep}.",
            "backups_pruned",
            removed=removed,
            keep=keep,
        )
    print(result.location)  # the one line on stdout: where the backup is, for scripts
    return 0


async def _restore(settings: Settings, source: str, *, force: bool) -> RestoreResult:
    from proveo.backups import service as backups_service
    from proveo.integrations.storage import build_storage

    storage = build_storage(settings)
    try:
        return await backups_service.restore_from(source, settings, storage, force=force)
    finally:
        await storage.close()


def cmd_restore(settings: Settings, report: Report, *, source: str, force: bool) -> int:
    from proveo.backups.errors import BackupError
    from proveo.integrations.storage import StorageUnavailable

    # A new installation's bucket: created where `serve` would create it, else one line.
    asyncio.run(check_s3_bucket(settings))
    with database_settings(settings) as ready:
        try:
            result = asyncio.run(_restore(ready, source, force=force))
        except BackupError as exc:
            raise CommandFailed(str(exc)) from exc
        except StorageUnavailable as exc:
            raise CommandFailed(
                f"the image storage ({ready.storage}) does not answer; try again when it does"
            ) from exc
        for step in result.migrations:
            report.done(
                f"Applied migration {step.revision}: {step.title.rstrip('.')}.",
                "migration_applied",
                revision=step.revision,
            )
        _set_up_pg_cron(report, ready.database_url)
    manifest = result.manifest
    rows = manifest.counts.rows
    report.done(
        f"Restored the backup {manifest.name} (taken {manifest.created_at:%Y-%m-%d %H:%M} UTC) "
        f"from {result.location}: {rows.get('user_account', 0)} accounts, "
        f"{rows.get('company', 0)} companies and {manifest.counts.objects} image objects, "
        f"in {result.seconds:.1f} s.",
        "backup_restored",
        location=result.location,
        backup_revision=manifest.schema_revision,
        migrations=[step.revision for step in result.migrations],
        refreshed_views=result.refreshed_views,
        objects=manifest.counts.objects,
        replaced_data=result.replaced_data,
        seconds=round(result.seconds, 2),
    )
    return 0


def _admin_request(name: str, email: str, password: str | None) -> AdminAccountRequest:
    """The signup rules (address, name, password policy), one error line per problem."""
    from proveo.accounts.schemas import AdminAccountRequest

    try:
        return AdminAccountRequest(name=name, email=email, password=password)
    except ValidationError as exc:
        lines = []
        for problem in exc.errors(include_input=False, include_url=False):
            field = ".".join(str(part) for part in problem["loc"][:1])
            reason = problem.get("ctx", {}).get("error") or problem["msg"]
            lines.append(f"{field}: {reason}")
        raise CommandFailed(*lines) from exc


# Where an admin password can come from, for every refusal that lacks one.
SOURCES_HINT = "give --password or PROVEO_ADMIN_PASSWORD, or run it at a terminal to be asked"


def _refuse_without_password_source(
    settings: Settings, email: str, *, reset_password: bool
) -> None:
    """Refuse before starting anything when no password can come and one is surely needed.

    Without a terminal and without a password, the command can only promote a verified
    account, and only the database knows whether there is one. These two cases are decided
    without it.
    """
    if reset_password:
        raise CommandFailed(f"--reset-password needs the new password: {SOURCES_HINT}")
    if not settings.database_url and not EmbeddedPostgres(settings.pg_dir).initialized:
        raise CommandFailed(
            f"a new admin account for {email} needs a password (there is no database yet, so "
            f"no account to promote): {SOURCES_HINT}"
        )


def _prompt_password(email: str) -> str:
    if not sys.stdin.isatty():
        raise CommandFailed(
            f"{email} has no verified account to promote, and a new admin account needs a "
            f"password: {SOURCES_HINT}"
        )
    try:
        password = getpass.getpass("Admin password: ")
        repeated = getpass.getpass("Repeat password: ")
    except EOFError:
        print(file=sys.stderr)  # getpass leaves the cursor after its prompt
        raise CommandFailed("no password given (end of input)") from None
    except KeyboardInterrupt:
        print(file=sys.stderr)
        raise
    if password != repeated:
        raise CommandFailed("passwords differ")
    return password


def cmd_create_admin(
    settings: Settings,
    report: Report,
    *,
    email: str,
    name: str,
    password: str | None,
    reset_password: bool,
) -> int:
    from proveo.accounts import lifecycle
    from proveo.core.errors import AppError

    given = password or os.environ.get("PROVEO_ADMIN_PASSWORD") or None
    request = _admin_request(name, email, given)
    if given is None and not sys.stdin.isatty():
        _refuse_without_password_source(settings, request.email, reset_password=reset_password)
    with database_settings(settings) as ready:
        _prepare_schema(report, ready)
        needed = asyncio.run(
            _in_transaction(
                ready,
                lambda conn: lifecycle.admin_password_needed(
                    conn, request.email, reset_password=reset_password
                ),
            )
        )
        if needed and request.password is None:
            request = _admin_request(name, email, _prompt_password(request.email))
        elif not needed and request.password is not None:
            report.warn(
                f"the password given is not used: {request.email} is a verified account and "
                "keeps its password (add --reset-password to replace it).",
                "admin_password_not_used",
            )
            request = request.model_copy(update={"password": None})
        try:
            account = asyncio.run(_create_admin(ready, request, reset_password=reset_password))
        except AppError as exc:
            raise CommandFailed(str(exc.detail)) from exc
    _report_admin(report, account)
    return 0


def _report_admin(report: Report, account: AdminAccount) -> None:
    from proveo.accounts.lifecycle import AdminOutcome

    user = account.user
    password = "was replaced" if account.password_replaced else "is unchanged"
    sentences = {
        AdminOutcome.CREATED: f"Created the admin account {user.email} ({user.uuid}).",
        AdminOutcome.REPLACED_UNVERIFIED: (
            f"{user.email} had an unverified account, which could have been anyone's: retired "
            f"it and created a new admin account ({user.uuid})."
        ),
        AdminOutcome.PROMOTED: (
            f"Promoted {user.email} ({user.uuid}) to admin and ended their sessions; "
            f"their password {password}."
        ),
        AdminOutcome.ALREADY_ADMIN: (
            f"Replaced the password of the admin {user.email} and ended their sessions."
            if account.password_replaced
            else f"{user.email} is already an admin; nothing changed."
        ),
    }
    report.done(
        sentences[account.outcome],
        "admin_account_ready",
        outcome=account.outcome.value,
        user_uuid=str(user.uuid),
        rekeyed=account.password_replaced,  # a field named "password…" would be redacted
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="proveo",
        description=__doc__,
        epilog="Settings: PROVEO_* environment variables and .env (docs/configuration.md).",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="one of the commands below"
    )
    commands.add_parser(
        "serve", help="start the embedded database if needed, migrate, seed, and serve"
    )
    commands.add_parser(
        "image-service",
        help="serve the image service (validate, re-encode, NSFW score) on its own port",
        description=(
            "Serve POST /v1/analyse and GET /health on PROVEO_IMAGE_SERVICE_HOST:"
            "PROVEO_IMAGE_SERVICE_PORT (default 127.0.0.1:8001). Needs no database."
        ),
    )
    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.add_argument(
        "revision", nargs="?", default="head", help="the revision to reach (default: head)"
    )
    seed = commands.add_parser(
        "seed", help="insert the catalogue (and demo or synthetic data, not in production)"
    )
    seed.add_argument(
        "--demo", action="store_true", help="also the demo users and companies (not in production)"
    )
    seed.add_argument(
        "--synthetic",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help=(
            "also make synthetic companies 1 to N exist, each with a verified owner "
            "synthetic-0000001@example.com and on (for benchmarks; not in production)"
        ),
    )
    seed.add_argument(
        "--seed",
        type=_non_negative_int,
        default=1,
        metavar="S",
        dest="synthetic_seed",
        help="the synthetic data set: the same S gives the same companies (default: %(default)s)",
    )
    admin = commands.add_parser(
        "create-admin",
        help="create an admin account, or promote a verified one",
        description=(
            "Create an admin account, or promote the verified account of that address. An "
            "unverified account at that address is retired and replaced. Every change ends the "
            "account's sessions and is written to the audit log (actor cli)."
        ),
    )
    admin.add_argument("--email", required=True, help="the admin's email address")
    admin.add_argument(
        "--name",
        default="Administrator",
        help="display name of a new account (default: %(default)s)",
    )
    admin.add_argument(
        "--password",
        help="the password of a new account (else PROVEO_ADMIN_PASSWORD, else a prompt)",
    )
    admin.add_argument(
        "--reset-password",
        action="store_true",
        help="replace the password of an existing verified account (kept otherwise)",
    )
    cleanup = commands.add_parser(
        "cleanup-images",
        help="remove stored images that no company or pending moderation uses",
        description=(
            "Remove image objects that no live company and no logo awaiting moderation points "
            "at. Objects younger than the minimum age are kept: an upload stores its images "
            "before its database row is committed."
        ),
    )
    cleanup.add_argument(
        "--dry-run", action="store_true", help="list what would be removed, remove nothing"
    )
    cleanup.add_argument(
        "--min-age-minutes",
        type=_non_negative_int,
        default=60,
        metavar="N",
        help="keep objects younger than N minutes (default: %(default)s)",
    )
    run_job = commands.add_parser(
        "run-job",
        help="run one scheduled job now, once",
        description=(
            "Run one scheduled job now, under the same lock as the app's scheduler: if a "
            "scheduler is running it at this moment, nothing is done. SQL jobs run here even "
            "where pg_cron schedules them."
        ),
    )
    run_job.add_argument(
        "name", help="the job, such as purge-expired-sessions (a wrong name lists them all)"
    )
    backup = commands.add_parser(
        "backup",
        help="back up the database and every image object",
        description=(
            "Write a backup (the database in pg_dump's custom format, every image object, and "
            "a manifest of their SHA-256 checksums) into a directory of its own, named by the "
            "time, under the target. Prints where it is."
        ),
    )
    backup.add_argument(
        "--to",
        metavar="DIR|s3://BUCKET/PREFIX",
        help="where to put it (default: PROVEO_BACKUP_TO)",
    )
    backup.add_argument(
        "--keep",
        type=_non_negative_int,
        metavar="N",
        help="then remove all but the newest N backups there (default: remove none)",
    )
    restore = commands.add_parser(
        "restore",
        help="restore a backup into an empty database and image storage",
        description=(
            "Check every file of the backup against its manifest, upload the image objects, "
            "load the database in one transaction, then migrate it forward to this version's "
            "schema. A database with accounts or companies, or a storage with objects, is "
            "refused unless --force is given."
        ),
    )
    restore.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="DIR|s3://BUCKET/PREFIX/NAME",
        help="the backup: its directory, or its S3 prefix",
    )
    restore.add_argument(
        "--force",
        action="store_true",
        help="replace the accounts, companies and objects the target already holds",
    )
    return parser


# Whole numbers on the command line are at most this: a count past it is a typo, and a huge
# one made `seed --synthetic` fail with Python's own OverflowError.
MAX_COMMAND_NUMBER = 100_000_000


def _non_negative_int(value: str) -> int:
    # ASCII digits only: `str.isdigit` also takes `²` and `١`.
    if not (value.isascii() and value.isdigit()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 0 or more")
    digits = value.lstrip("0")
    if len(digits) > len(str(MAX_COMMAND_NUMBER)) or int(value) > MAX_COMMAND_NUMBER:
        raise argparse.ArgumentTypeError(f"{value} is more than {MAX_COMMAND_NUMBER:,}")
    return int(value)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The image service reads only its own settings, so production checks only those; every
    # other command is the API or uses its database and storage, and reads all of them.
    settings_class = ImageServiceSettings if args.command == "image-service" else Settings
    try:
        settings = settings_class()
    except ValidationError as exc:
        for line in settings_problems(exc):
            print(f"error: {line}", file=sys.stderr)
        return 2
    from proveo.core.logging import configure_logging

    # A person at a terminal reads sentences; serve, pipes and log collectors get log lines.
    human = args.command not in {"serve", "image-service"} and sys.stderr.isatty()
    if human:
        configure_logging("console", "WARNING")
    else:
        configure_logging(settings.log_format, settings.log_level)
    report = Report(human=human)
    try:
        if isinstance(settings, Settings):
            return _api_command(args, settings, report)
        return cmd_image_service(settings)
    except CommandFailed as exc:
        for line in exc.lines:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # What was started (the embedded database) is stopped on the way here.
        print("error: interrupted", file=sys.stderr)
        return 130


def _api_command(args: argparse.Namespace, settings: Settings, report: Report) -> int:
    """Every command but the image service: each may reach the database, whose failures are
    one line."""
    try:
        if args.command == "serve":
            return cmd_serve(settings)
        if args.command == "migrate":
            return cmd_migrate(settings, report, args.revision)
        if args.command == "seed":
            return cmd_seed(settings, report, args.demo, args.synthetic, args.synthetic_seed)
        if args.command == "run-job":
            return cmd_run_job(settings, report, args.name)
        if args.command == "backup":
            return cmd_backup(settings, report, to=args.to, keep=args.keep)
        if args.command == "restore":
            return cmd_restore(settings, report, source=args.source, force=args.force)
        if args.command == "cleanup-images":
            return cmd_cleanup_images(
                settings, report, dry_run=args.dry_run, min_age_minutes=args.min_age_minutes
            )
        return cmd_create_admin(
            settings, report, email=args.email, name=args.name, password=args.password,
            reset_password=args.reset_password,
        )  # fmt: skip
    except DATABASE_ERRORS as exc:
        print(f"error: {database_problem(settings, exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
