"""Alembic environment: plain SQL migrations (op.execute) against the schema `proveo`."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import create_engine, pool, text

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "proveo.core.migrations sets sqlalchemy.url"
# proveo.core.migrations collects the steps it applied here, to tell the operator.
applied: list[MigrationInfo] = config.attributes.setdefault("applied", [])


def _record_step(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    applied.append(step)


engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    connection.execute(text("CREATE SCHEMA IF NOT EXISTS proveo"))
    connection.commit()
    context.configure(
        connection=connection,
        target_metadata=None,
        version_table="alembic_version",
        version_table_schema="proveo",
        transaction_per_migration=True,
        on_version_apply=_record_step,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
