"""`make help` is the first thing a newcomer runs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

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
