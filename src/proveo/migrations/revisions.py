"""A statement an earlier migration defined, for a later one to build on or to restore in its
downgrade: read from that revision's module, not restated."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
