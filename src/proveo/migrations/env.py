"""Alembic environment: plain SQL migrations (op.execute) against the schema `proveo`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "proveo.core.migrations sets sqlalchemy.url"

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
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
