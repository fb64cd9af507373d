"""What migrations share: a statement an earlier migration defined, for a later one to build on
or to restore in its downgrade (read from that revision's module, not restated), and the
rewrite of every search row."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import op

VERSIONS = Path(__file__).with_name("versions")


def statement(filename: str, name: str) -> str:
    """The SQL the revision in `versions/filename` holds as `name`."""
    spec = importlib.util.spec_from_file_location(filename, VERSIONS / filename)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sql = getattr(module, name)
    assert isinstance(sql, str), (filename, name)
    return sql


# The search table's word indexes, dropped while every row is written again and built after in
# one pass: updated row by row, they took most of the rewrite.
WORD_INDEXES = (
    ("ix_company_search_doc", "doc"),
    ("ix_company_search_head_doc", "head_doc"),
)


def rewrite_search_rows(update: str) -> None:
    """Run `update`, a statement that writes the search rows, without the word indexes."""
    for name, _ in WORD_INDEXES:
        op.execute(f"DROP INDEX proveo.{name}")
    op.execute(update)
    op.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for name, column in WORD_INDEXES:
        op.execute(f"CREATE INDEX {name} ON proveo.company_search USING gin ({column})")
    op.execute("ANALYZE proveo.company_search")
