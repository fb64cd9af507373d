"""What the embedded PostgreSQL changes on the machine is said, never silent."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import structlog

from proveo.core import embedded_pg
from proveo.core.embedded_pg import _open_path_for


class TestOpenPathFor:
    def test_each_directory_made_traversable_is_logged_once(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        closed = tmp_path / "closed"
        (closed / "inner").mkdir(parents=True)
        closed.chmod(0o700)
        (closed / "inner").chmod(0o750)
        # The module's logger is cached on first use; a fresh one sees the capture.
        monkeypatch.setattr(embedded_pg, "log", structlog.get_logger("embedded-pg-test"))
        with structlog.testing.capture_logs() as logs:
            _open_path_for(closed / "inner" / "pg")
        opened = {
            entry["path"]: entry["mode"]
            for entry in logs
            if entry["event"] == "embedded_postgres_opened_directory"
        }
        assert opened[str(closed)] == "700 -> 701"
        assert opened[str(closed / "inner")] == "750 -> 751"
        # Traversal only: nobody else may list the directory.
        assert stat.S_IMODE(closed.stat().st_mode) == 0o701

        with structlog.testing.capture_logs() as again:
            _open_path_for(closed / "inner" / "pg")
        assert [e for e in again if e["event"] == "embedded_postgres_opened_directory"] == []
