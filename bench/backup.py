"""Backup and restore wall times, for the demo data and for 100,000 synthetic companies.

    .venv/bin/python bench/backup.py          (make bench runs it with the others)

1. The demo data as `make run` seeds it (`proveo seed --demo`: 16 companies with logos through
   the image pipeline, an admin) in a temporary data directory.
2. 100,000 synthetic companies (`proveo seed --synthetic 100000 --seed 1`), shared with
   bench/search.py under `.proveo-bench/` (seeded once, about a minute, then reused).

For each: `proveo backup --to DIR`, then `proveo restore --from DIR/<backup>` into a new empty
embedded database and an empty image directory. Both servers are started beforehand and left
running, as `proveo serve` would have them, so the times are the commands' own: the wall time of
the process (Python's start included) and the seconds the command reports for its work.

BENCH_COMPANIES changes the synthetic size (100000).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _harness import ROOT  # noqa: F401 - puts the repository on sys.path
from tests.fixtures.servers import free_port, proveo_command, proveo_env

from proveo.core.embedded_pg import EmbeddedPostgres
from search import COMPANIES, seeded_data_dir


@dataclass
class Run:
    wall: float  # the process, start to exit
    work: float  # what the command reports (database, objects, checks)
    event: dict[str, object]


def proveo(data_dir: Path, *args: str) -> Run:
    env = proveo_env(data_dir, free_port(), PROVEO_SEED_DEMO="false", PROVEO_LOG_FORMAT="json")
    started = time.monotonic()
    result = subprocess.run(
        proveo_command(*args), env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"proveo {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    last = next(e for e in reversed(events) if e["event"] in {"backup_created", "backup_restored"})
    return Run(wall=wall, work=float(last["seconds"]), event=last)


def round_trip(label: str, slug: str, source: Path, workdir: Path) -> None:
    # A plain name: the server's socket directory is in a comma-separated setting.
    target = workdir / f"{slug}-restored"
    source_server = EmbeddedPostgres(source / "pg")
    target_server = EmbeddedPostgres(target / "pg")
    source_server.start()
    target_server.start()  # a new, empty cluster: the restore creates the database
    try:
        backup = proveo(source, "backup", "--to", str(workdir / f"{slug}-backups"))
        location = str(backup.event["location"])
        restore = proveo(target, "restore", "--from", location)
    finally:
        source_server.stop()
        target_server.stop()
    objects = backup.event["objects"]
    dump_mb = int(str(backup.event["database_bytes"])) / 1e6
    images_mb = int(str(backup.event["object_bytes"])) / 1e6
    print(
        f"{label:<22} dump {dump_mb:7.1f} MB, {objects:>3} objects ({images_mb:.1f} MB)   "
        f"backup {backup.work:6.1f} s ({backup.wall:5.1f} s wall)   "
        f"restore {restore.work:6.1f} s ({restore.wall:5.1f} s wall)"
    )


def main() -> None:
    print("load average before: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="proveo-bench-backup-") as tmp:
        workdir = Path(tmp)
        demo = workdir / "demo"
        seeded = subprocess.run(
            proveo_command("seed", "--demo"),
            env=proveo_env(demo, free_port(), PROVEO_LOG_FORMAT="json"),
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if seeded.returncode != 0:
            raise RuntimeError(f"seeding the demo failed:\n{seeded.stderr[-3000:]}")
        round_trip("demo data", "demo", demo, workdir)
        shutil.rmtree(demo / "pg", ignore_errors=True)

        synthetic, seconds = seeded_data_dir()
        note = f"seeded in {seconds:.0f} s" if seconds is not None else f"reused {synthetic}"
        print(f"({COMPANIES:,} synthetic companies: {note})")
        round_trip(f"{COMPANIES:,} synthetic", "synthetic", synthetic, workdir)
    print("load average after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
