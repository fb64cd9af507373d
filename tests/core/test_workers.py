"""What each of `proveo serve`'s worker processes takes of the machine (PROVEO_WORKERS).

The forking itself is exercised on real processes in tests/test_cli.py (TestServe)."""

from __future__ import annotations

import os

import pytest

from proveo.cli import embedded_max_connections
from proveo.config import Settings
from proveo.core.security import default_hashing_threads
from proveo.imaging.pool import Pipeline


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


class TestDefaultsShareTheCores:
    @pytest.fixture(autouse=True)
    def eight_cores(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(os, "cpu_count", lambda: 8)

    def test_password_hashing_keeps_a_core_free_across_workers(self) -> None:
        assert default_hashing_threads() == 7
        assert default_hashing_threads(processes=2) == 3
        assert default_hashing_threads(processes=16) == 1

    def test_image_analysis_takes_a_core_per_slot_across_workers(self) -> None:
        assert Pipeline().workers == 8
        assert Pipeline(processes=2).workers == 4
        assert Pipeline(processes=16).workers == 1
        assert Pipeline(3, processes=2).workers == 3  # a setting is taken as it is


class TestEmbeddedDatabase:
    def test_holds_every_workers_pool(self) -> None:
        """Found in review: 32 workers × a pool of 10 needed 320 of the server's 100."""
        assert embedded_max_connections(_settings()) == 100
        assert embedded_max_connections(_settings(workers=32)) == 32 * 10 + 20
        assert embedded_max_connections(_settings(workers=4, db_pool_max=40)) == 180
