"""Migrations are reversible: upgrade -> downgrade -> upgrade on a fresh database."""

from __future__ import annotations

import asyncio

import asyncpg

from proveo.core import migrations
from proveo.core.embedded_pg import EmbeddedPostgres
from tests.fixtures.database import create_database

EXPECTED_TABLES = {
    "admin_audit_log",
    "alembic_version",
    "commune",
    "company",
    "email_verification_token",
    "image_moderation",
    "password_reset_token",
    "product",
    "user_account",
    "user_session",
}
# The search revisions' tables (index, vocabulary, synonym groups, analytics).
SEARCH_TABLES = {
    "company_search", "company_search_category", "company_search_served",
    "company_search_name_word", "search_term", "search_synonym_group", "search_query_stat",
}  # fmt: skip
# Richer profiles: more categories, a gallery, every slug a company had.
PROFILE_TABLES = {"company_product", "company_photo", "company_slug"}
QUOTE_AND_INSIGHT_TABLES = {"quote_request", "quote_recipient", "company_daily_stat"}


async def _company_rules(dsn: str) -> set[str]:
    """The constraints and indexes the company publishing revision adds."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """
            SELECT conname AS name FROM pg_constraint
            WHERE conname LIKE 'ck_company_description_%'
            UNION ALL
            SELECT indexname FROM pg_indexes
            WHERE schemaname = 'proveo' AND indexname = ANY($1::text[])
            """,
            [name for name in COMPANY_RULES if name.startswith("ix_")],
        )
        return {row["name"] for row in rows}
    finally:
        await conn.close()


COMPANY_RULES = {
    "ck_company_description_es_pending",
    "ck_company_description_en_pending",
    "ck_company_description_original",
    "ix_company_pending_translation",
    "ix_company_created",
    "ix_image_moderation_company",
}


async def _tables(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'proveo' ORDER BY 1"
        )
        return {row["tablename"] for row in rows}
    finally:
        await conn.close()


async def _materialized_views(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT matviewname FROM pg_matviews WHERE schemaname = 'proveo'")
        return {row["matviewname"] for row in rows}
    finally:
        await conn.close()


class TestMigrations:
    async def test_upgrade_downgrade_upgrade(self, pg_server: EmbeddedPostgres) -> None:
        await create_database(pg_server.dsn("postgres"), "proveo_migration_roundtrip")
        dsn = pg_server.dsn("proveo_migration_roundtrip")

        await asyncio.to_thread(migrations.upgrade, dsn)
        assert (
            await _tables(dsn)
            == EXPECTED_TABLES | SEARCH_TABLES | PROFILE_TABLES | QUOTE_AND_INSIGHT_TABLES
        )

        assert await _company_rules(dsn) >= COMPANY_RULES
        assert await _materialized_views(dsn) == {"directory_statistics"}

        # Back to the company publishing revision: search's and profiles' additions go.
        await asyncio.to_thread(migrations.downgrade, dsn, "20261125_1600")
        assert await _tables(dsn) == EXPECTED_TABLES
        assert await _materialized_views(dsn) == set()
        assert await _company_rules(dsn) >= COMPANY_RULES

        # One step back removes only what that revision added.
        await asyncio.to_thread(migrations.downgrade, dsn, "-1")
        assert await _tables(dsn) == EXPECTED_TABLES
        assert not COMPANY_RULES & await _company_rules(dsn)
        await asyncio.to_thread(migrations.downgrade, dsn, "-1")
        assert await _tables(dsn) == EXPECTED_TABLES - {"password_reset_token"}

        await asyncio.to_thread(migrations.downgrade, dsn, "base")
        assert await _tables(dsn) == {"alembic_version"}

        await asyncio.to_thread(migrations.upgrade, dsn)
        assert (
            await _tables(dsn)
            == EXPECTED_TABLES | SEARCH_TABLES | PROFILE_TABLES | QUOTE_AND_INSIGHT_TABLES
        )

    async def test_single_head(self) -> None:
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(migrations.alembic_config("postgresql://x@y/z"))
        assert len(script.get_heads()) == 1
