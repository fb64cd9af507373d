"""`make help` is the first thing a newcomer runs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent


def test_make_help_lines_up_every_description() -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=ROOT, capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    rows = []
    for line in result.stdout.splitlines():
        row = re.fullmatch(r"  make (\S+) +(\S.*)", line)
        assert row, f"not a target line: {line!r}"
        rows.append(row)
    assert {row[1] for row in rows} >= {"help", "run", "test", "system-deps"}
    assert len({row.start(2) for row in rows}) == 1, result.stdout


def test_the_uv_bootstrap_pins_a_range_the_suite_runs_with() -> None:
    """An unpinned `pip install uv` could fetch a uv that cannot read the committed lock."""
    makefile = (ROOT / "Makefile").read_text()
    [requirement] = re.findall(r"^UV_REQUIREMENT := uv(\S+)$", makefile, re.MULTILINE)
    assert "'$(UV_REQUIREMENT)'" in makefile
    allowed = SpecifierSet(requirement)
    assert any(spec.operator == "<" for spec in allowed), "an upper bound: lock formats change"
    uv = shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    version = subprocess.run(
        [uv, "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout.split()[1]
    assert version in allowed, f"this suite runs on uv {version}, outside {requirement}"
