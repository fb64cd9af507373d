"""Run Alembic programmatically; the scripts live in the package so every install carries them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationInfo
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def sqlalchemy_url(dsn: str) -> str:
    """postgresql://… (asyncpg/libpq style) -> postgresql+psycopg://… for Alembic's engine."""
    parts = urlsplit(dsn)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"not a PostgreSQL URL: scheme {parts.scheme!r}")
    return urlunsplit(parts._replace(scheme="postgresql+psycopg"))


def alembic_config(dsn: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "file_template", "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    # Percent signs in URLs (encoded socket paths) must survive ConfigParser interpolation.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(dsn).replace("%", "%%"))
    return config


@dataclass(frozen=True)
class AppliedMigration:
    revision: str
    title: str  # the first paragraph of the migration's docstring


def upgrade(dsn: str, revision: str = "head") -> list[AppliedMigration]:
    """Upgrade to `revision`; returns the migrations applied now (none when up to date)."""
    config = alembic_config(dsn)
    command.upgrade(config, revision)
    steps: list[MigrationInfo] = config.attributes.get("applied", [])
    scripts = ScriptDirectory.from_config(config)
    applied = []
    for step in steps:
        script = scripts.get_revision(step.up_revision_id) if step.up_revision_id else None
        if script is not None:
            applied.append(AppliedMigration(revision=script.revision, title=script.doc))
    return applied


@dataclass(frozen=True)
class SchemaState:
    current: tuple[str, ...]  # the database's revisions (none before the first migration)
    head: tuple[str, ...]  # what this code's migrations lead to

    @property
    def at_head(self) -> bool:
        return set(self.current) == set(self.head)


def schema_state(dsn: str) -> SchemaState:
    """Where the database's schema stands against this code's migrations; changes nothing."""
    engine = create_engine(sqlalchemy_url(dsn), poolclass=NullPool)
    try:
        # Read directly: Alembic's MigrationContext logs two INFO lines that say nothing here.
        with engine.connect() as connection:
            current: tuple[str, ...] = ()
            if inspect(connection).has_table("alembic_version", schema="proveo"):
                rows = connection.execute(text("SELECT version_num FROM proveo.alembic_version"))
                current = tuple(rows.scalars())
    finally:
        engine.dispose()
    return SchemaState(current=tuple(sorted(current)), head=head_revisions())


def head_revisions() -> tuple[str, ...]:
    """The revisions this code's migrations end at (one, unless branches were left unmerged)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return tuple(sorted(ScriptDirectory.from_config(config).get_heads()))


def known_revisions() -> set[str]:
    """Every revision this code's migrations define (a backup's must be one of them)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def downgrade(dsn: str, revision: str) -> None:
    command.downgrade(alembic_config(dsn), revision)
