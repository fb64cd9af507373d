"""SQL for backups: the dump's snapshot and what it holds, a target's emptiness, the refresh after
a restore. Table and view names come from the catalogue and are quoted by PostgreSQL (`%I`)."""

from __future__ import annotations

from dataclasses import dataclass

from proveo.core.db import Connection

APP_SCHEMA = "proveo"

SELECT_SERVER_VERSION = """
SELECT current_setting('server_version') AS version,
       current_setting('server_version_num')::int AS version_num
"""

# The snapshot pg_dump then reads (`--snapshot`): the manifest's counts and revision are the
# dump's own, even while the app writes.
EXPORT_SNAPSHOT = "SELECT pg_export_snapshot()"

SELECT_SCHEMA_REVISIONS = """
SELECT version_num FROM proveo.alembic_version ORDER BY version_num
"""

SELECT_HAS_SCHEMA = "SELECT to_regclass('proveo.alembic_version') IS NOT NULL"

# The statement that counts the rows of every table of the schema, exactly, in one round trip
# (built by PostgreSQL from its catalogue, names quoted by `format`).
SELECT_ROW_COUNT_STATEMENT = """
SELECT string_agg(
    format('SELECT %L AS name, count(*) AS row_count FROM %I.%I', c.relname, n.nspname, c.relname),
    ' UNION ALL ' ORDER BY c.relname
)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'proveo' AND c.relkind IN ('r', 'p')
"""

SELECT_HAS_ACCOUNT_TABLES = """
SELECT to_regclass('proveo.user_account') IS NOT NULL AND to_regclass('proveo.company') IS NOT NULL
"""

# What makes a database worth refusing to overwrite: accounts or companies. The catalogue alone
# is what `proveo serve` or `seed` inserts on a new database, and only an account could have
# changed it.
SELECT_ACCOUNTS_AND_COMPANIES = """
SELECT (SELECT count(*) FROM proveo.user_account) AS accounts,
       (SELECT count(*) FROM proveo.company) AS companies
"""

SELECT_REFRESH_STATEMENTS = """
SELECT matviewname AS name, format('REFRESH MATERIALIZED VIEW %I.%I', schemaname, matviewname)
FROM pg_matviews WHERE schemaname = 'proveo' ORDER BY matviewname
"""

SELECT_ANALYZE_STATEMENT = """
SELECT 'ANALYZE ' || string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY c.relname)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'proveo' AND c.relkind IN ('r', 'p', 'm')
"""


@dataclass(frozen=True, slots=True)
class ServerVersion:
    version: str
    version_num: int

    @property
    def major(self) -> int:
        return self.version_num // 10000


@dataclass(frozen=True, slots=True)
class Occupancy:
    accounts: int
    companies: int

    @property
    def empty(self) -> bool:
        return not (self.accounts or self.companies)


async def select_server_version(conn: Connection) -> ServerVersion:
    row = await conn.fetchrow(SELECT_SERVER_VERSION)
    assert row is not None
    return ServerVersion(version=row["version"], version_num=row["version_num"])


async def export_snapshot(conn: Connection) -> str:
    snapshot: str = await conn.fetchval(EXPORT_SNAPSHOT)
    return snapshot


async def select_has_schema(conn: Connection) -> bool:
    return bool(await conn.fetchval(SELECT_HAS_SCHEMA))


async def select_schema_revisions(conn: Connection) -> list[str]:
    return [row["version_num"] for row in await conn.fetch(SELECT_SCHEMA_REVISIONS)]


async def select_row_counts(conn: Connection) -> dict[str, int]:
    statement = await conn.fetchval(SELECT_ROW_COUNT_STATEMENT)
    if not statement:
        return {}
    return {row["name"]: row["row_count"] for row in await conn.fetch(statement)}


async def select_occupancy(conn: Connection) -> Occupancy:
    if not await conn.fetchval(SELECT_HAS_ACCOUNT_TABLES):
        return Occupancy(accounts=0, companies=0)
    row = await conn.fetchrow(SELECT_ACCOUNTS_AND_COMPANIES)
    assert row is not None
    return Occupancy(accounts=row["accounts"], companies=row["companies"])


async def refresh_materialized_views(conn: Connection) -> list[str]:
    """Every materialized view of the schema, refreshed; returns their names."""
    refreshed = []
    for name, statement in await conn.fetch(SELECT_REFRESH_STATEMENTS):
        await conn.execute(statement)
        refreshed.append(name)
    return refreshed


async def analyze_schema(conn: Connection) -> None:
    """Planner statistics for every table and view: a restore leaves none."""
    statement = await conn.fetchval(SELECT_ANALYZE_STATEMENT)
    if statement:
        await conn.execute(statement)
