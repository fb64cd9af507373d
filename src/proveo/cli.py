"""`proveo serve | migrate | seed | create-admin`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import getpass
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import structlog
from pydantic import ValidationError

from proveo.config import Settings
from proveo.core import migrations
from proveo.core.embedded_pg import EmbeddedPostgres

log = structlog.get_logger("proveo.cli")

EMBEDDED_DATABASE = "proveo"


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
                f"another `proveo serve` (pid {handle.read().strip() or '?'}) uses {data_dir}"
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield


@contextmanager
def _signals_blocked() -> Iterator[None]:
    """Shutdown work that a second Ctrl-C must not cut short (stopping the database)."""
    stops = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


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
    server = EmbeddedPostgres(settings.pg_dir)
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
                with _signals_blocked():
                    server.stop()


async def _seed(settings: Settings, *, demo: bool) -> None:
    from proveo.app import build_database
    from proveo.catalog import service as catalog_service
    from proveo.demo.seed import seed_demo_data
    from proveo.integrations.storage import build_storage

    database = build_database(settings)
    await database.open()
    try:
        async with database.transaction() as conn:
            products, communes = await catalog_service.seed_catalog(conn)
            log.info("catalog_seeded", new_products=products, new_communes=communes)
            if demo:
                result = await seed_demo_data(
                    conn, build_storage(settings), bcrypt_rounds=settings.bcrypt_rounds
                )
                if not result.created:
                    log.info("demo_data_already_present")
    finally:
        await database.close()


async def _create_admin(settings: Settings, name: str, email: str, password: str) -> None:
    from proveo.accounts import service as accounts_service
    from proveo.app import build_database

    database = build_database(settings)
    await database.open()
    try:
        async with database.transaction() as conn:
            user, created = await accounts_service.ensure_admin(
                conn, name=name, email=email, password=password,
                bcrypt_rounds=settings.bcrypt_rounds,
            )  # fmt: skip
    finally:
        await database.close()
    print(f"admin {'created' if created else 'updated'}: {user.email} ({user.uuid})")


def _banner(settings: Settings) -> str:
    url = f"http://{settings.host}:{settings.port}/"
    lines = [
        "",
        f"  Proveo is running at {url}",
        f"  API docs: {url}docs",
    ]
    if settings.seed_demo:
        lines += [
            "  Demo admin: admin_test@mail.com / password",
            "  Demo users: testuser01@proveo.com … testuser16@proveo.com / TestPass123!",
        ]
    if settings.email_backend == "console":
        lines.append(f"  Emails are written to {settings.outbox_dir}")
    return "\n".join([*lines, "  Press Ctrl-C to stop.", ""])


class _StopRequested(Exception):
    pass


def _raise_stop(signum: int, _frame: object) -> None:
    raise _StopRequested(signal.Signals(signum).name)


def cmd_serve(settings: Settings) -> int:
    # uvicorn re-raises SIGINT/SIGTERM after its graceful shutdown; turning them into an
    # exception lets the embedded PostgreSQL be stopped on the way out instead of orphaned.
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        _serve(settings)
    except _StopRequested as stop:
        log.info("proveo_stopped_by_signal", signal=str(stop))
    except DataDirInUse as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _serve(settings: Settings) -> None:
    import uvicorn

    from proveo.app import create_app

    with database_settings(settings, owner=True) as ready:
        migrations.upgrade(ready.database_url)
        asyncio.run(_seed(ready, demo=ready.seed_demo))
        print(_banner(ready), flush=True)
        uvicorn.run(
            create_app(ready),
            host=ready.host,
            port=ready.port,
            log_config=None,
            access_log=False,
            proxy_headers=True,
            forwarded_allow_ips=",".join(ready.trusted_proxies),
        )


def cmd_migrate(settings: Settings, revision: str) -> int:
    with database_settings(settings) as ready:
        migrations.upgrade(ready.database_url, revision)
    return 0


def cmd_seed(settings: Settings, demo: bool) -> int:
    with database_settings(settings) as ready:
        migrations.upgrade(ready.database_url)
        asyncio.run(_seed(ready, demo=demo))
    return 0


def cmd_create_admin(settings: Settings, email: str, name: str, password: str | None) -> int:
    if password is None:
        password = os.environ.get("PROVEO_ADMIN_PASSWORD") or None
    if password is None:
        if not sys.stdin.isatty():
            print(
                "error: give --password, PROVEO_ADMIN_PASSWORD, or run interactively",
                file=sys.stderr,
            )
            return 2
        password = getpass.getpass("Admin password: ")
        if password != getpass.getpass("Repeat password: "):
            print("error: passwords differ", file=sys.stderr)
            return 2
    if len(password) < 8:
        print("error: the password needs at least 8 characters", file=sys.stderr)
        return 2
    with database_settings(settings) as ready:
        migrations.upgrade(ready.database_url)
        asyncio.run(_create_admin(ready, name, email, password))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="proveo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="start the database if embedded, migrate, seed, serve")
    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("revision", nargs="?", default="head")
    seed = commands.add_parser("seed", help="insert the catalogue (and demo data with --demo)")
    seed.add_argument("--demo", action="store_true", help="also the demo users and companies")
    admin = commands.add_parser("create-admin", help="create or promote an admin account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Administrator")
    admin.add_argument("--password", help="prompted for when omitted")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"error: invalid configuration:\n{exc}", file=sys.stderr)
        return 2
    from proveo.core.logging import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    if args.command == "serve":
        return cmd_serve(settings)
    if args.command == "migrate":
        return cmd_migrate(settings, args.revision)
    if args.command == "seed":
        if args.demo and settings.is_production:
            print("error: demo data is refused in production", file=sys.stderr)
            return 2
        return cmd_seed(settings, args.demo)
    return cmd_create_admin(settings, args.email, args.name, args.password)


if __name__ == "__main__":
    sys.exit(main())
