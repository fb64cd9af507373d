"""What each of `proveo serve`'s worker processes takes of the machine (PROVEO_WORKERS).

The forking itself is exercised on real processes in tests/test_cli.py (TestServe)."""

from __future__ import annotations

import os

import pytest

from proveo.cli import embedded_max_connections, embedded_memory_settings
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
        # Two pools a worker: search's planned reads and everything else.
        assert embedded_max_connections(_settings()) == 100
        assert embedded_max_connections(_settings(workers=32)) == 32 * 2 * 10 + 20
        assert embedded_max_connections(_settings(workers=4, db_pool_max=40)) == 340

    def test_gives_a_quarter_of_the_memory_to_buffers_within_bounds(self) -> None:
        gib = 1024**3
        assert embedded_memory_settings(24 * gib) == {
            "shared_buffers": "4096MB",
            "effective_cache_size": "12288MB",
        }
        assert embedded_memory_settings(4 * gib)["shared_buffers"] == "1024MB"
        assert embedded_memory_settings(gib // 4) == {
            "shared_buffers": "128MB",
            "effective_cache_size": "128MB",
        }
