"""What the backup tests share: databases of their own on the session's server (a backup needs
committed rows), a directory published through the real API, and exact pictures of a database
and of a storage to compare after a round trip."""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx

from proveo.accounts.schemas import Role
from proveo.app import create_app
from proveo.catalog import service as catalog_service
from proveo.config import Settings
from proveo.core import migrations
from proveo.core.cache import Cache
from proveo.core.db import Database
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.integrations.storage import ImageStorage
from tests.companies.support import FakeTranslator, ScoredAnalyser, jpeg, publish
from tests.conftest import build_s3_storage
from tests.factories import create_user, log_in
from tests.fixtures.database import create_database
from tests.fixtures.servers import SeaweedServer, free_port, proveo_command, proveo_env

MODERATION_URL = "/api/v1/admin/moderation"


async def new_database(server: EmbeddedPostgres, label: str) -> str:
    """An empty database of its own on the session's server (no schema at all)."""
    name = f"proveo_{label}_{uuid4().hex[:8]}"
    await create_database(server.dsn("postgres"), name)
    return server.dsn(name)


async def migrated_database(server: EmbeddedPostgres, label: str, revision: str = "head") -> str:
    """A new database at `revision`, with the catalogue (as `proveo seed` leaves it)."""
    dsn = await new_database(server, label)
    await asyncio.to_thread(migrations.upgrade, dsn, revision)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET search_path TO proveo, public")
        await catalog_service.seed_catalog(conn)
    finally:
        await conn.close()
    return dsn


def app_settings(data_dir: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        database_url="postgresql://unused-in-tests",
        bcrypt_rounds=4,
        log_format="console",
        log_level="WARNING",
        scheduler_enabled=False,
        rate_limit_enabled=False,
        login_attempts_per_ip_per_minute=1000,
    )


@dataclass(frozen=True)
class Published:
    companies: int
    held: int  # logos awaiting moderation
    approved: int  # held, then approved by an admin (a copy under a new public key)


async def publish_directory(dsn: str, storage: ImageStorage, data_dir: Path) -> Published:
    """Companies published through `POST /companies` (checks, image pipeline, NSFW thresholds),
    every third one with a logo scored for moderation; an admin then approves one of those."""
    database = Database(dsn, min_size=1, max_size=4)
    await database.open()
    analyser = ScoredAnalyser(score=0.0)
    app = create_app(
        app_settings(data_dir),
        database=database,
        cache=Cache(None),
        storage=storage,
        image_analyser=analyser,
        translator=FakeTranslator("off"),
    )
    companies, held = 5, [1, 4]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            for index in range(companies):
                async with database.transaction() as conn:
                    user = await create_user(conn, email=f"owner{index}@proveo.cl")
                analyser.score = 0.5 if index in held else 0.0
                response = await publish(
                    http,
                    await log_in(http, user),
                    image=jpeg(colour=("teal", "navy", "olive", "maroon", "gold")[index]),
                    name=f"Servicios Número {index}",
                    email=f"contacto{index}@proveo.cl",
                )
                assert response.status_code == 201, response.text
                http.cookies.clear()
            async with database.transaction() as conn:
                admin = await create_user(conn, email="admin@proveo.cl", role=Role.ADMIN)
            session = await log_in(http, admin)
            queue = (await http.get(MODERATION_URL)).json()
            assert len(queue) == len(held)
            approved = await http.post(
                f"{MODERATION_URL}/{queue[0]['uuid']}/approve", headers=session.headers
            )
            assert approved.status_code == 200, approved.text
    finally:
        await database.close()
    return Published(companies=companies, held=len(held) - 1, approved=1)


async def database_picture(dsn: str) -> dict[str, object]:
    """Every row of every table of the schema (as JSON, sorted), the identity sequences' last
    values, and the materialized view's rows without their refresh time."""
    conn = await asyncpg.connect(dsn)
    try:
        tables = [
            row["tablename"]
            for row in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'proveo' ORDER BY 1"
            )
        ]
        picture: dict[str, object] = {}
        for table in tables:
            # The name comes from pg_tables.
            query = f'SELECT to_jsonb(t)::text AS row FROM proveo."{table}" t'  # noqa: S608
            rows = await conn.fetch(query)
            picture[table] = sorted(row["row"] for row in rows)
        picture["sequences"] = {
            row["sequencename"]: row["last_value"]
            for row in await conn.fetch(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'proveo'"
            )
        }
        picture["directory_statistics"] = sorted(
            row["row"]
            for row in await conn.fetch(
                "SELECT (to_jsonb(d) - 'refreshed_at')::text AS row "
                "FROM proveo.directory_statistics d"
            )
        )
        return picture
    finally:
        await conn.close()


async def storage_picture(storage: ImageStorage) -> dict[str, bytes]:
    """Every object's bytes, by name."""
    picture = {}
    for name in await storage.list_names():
        data = await storage.get(name)
        assert data is not None
        picture[name] = data
    return picture


async def fetch(dsn: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def s3_env(seaweed: SeaweedServer) -> dict[str, str]:
    return {
        "PROVEO_STORAGE": "s3",
        "PROVEO_S3_ENDPOINT_URL": seaweed.endpoint_url,
        "PROVEO_S3_BUCKET": seaweed.BUCKET,
        "PROVEO_S3_ACCESS_KEY": seaweed.ACCESS_KEY,
        "PROVEO_S3_SECRET_KEY": seaweed.SECRET_KEY,
    }


def proveo(
    *args: str, data_dir: Path, dsn: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """The real `proveo` command, piped (JSON log lines on stderr)."""
    environment = proveo_env(
        data_dir, free_port(), PROVEO_SEED_DEMO="false", PROVEO_LOG_FORMAT="json", **env
    )
    if dsn is not None:
        environment["PROVEO_DATABASE_URL"] = dsn
    return subprocess.run(
        proveo_command(*args), env=environment, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def events(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    """The command's log lines by event (the last of each)."""
    found = {}
    for line in result.stderr.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            found[str(entry["event"])] = entry
    return found


def stored_files(root: Path) -> list[str]:
    """The files under `root`, relative to it (none when it does not exist)."""
    if not root.exists():
        return []
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def s3_image_storage(seaweed: SeaweedServer) -> ImageStorage:
    return build_s3_storage(seaweed)
