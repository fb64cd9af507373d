"""The suite's own arrangements, which its servers depend on."""

from __future__ import annotations

import getpass
import tempfile
from pathlib import Path


def test_temporary_directories_are_out_of_reach_of_other_pytest_sessions(tmp_path: Path) -> None:
    """Servers under tmp_path run as another user; a new session would make this root 0700."""
    shared_root = Path(tempfile.gettempdir()).resolve() / f"pytest-of-{getpass.getuser()}"
    assert shared_root not in tmp_path.resolve().parents
