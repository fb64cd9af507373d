"""What the images domain hands back (no HTTP bodies: images travel as bytes)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OrphanReport:
    """One pass of the orphan cleanup.

    `orphans` are the unreferenced objects old enough to go; `removed` those actually deleted
    (none in a dry run).
    """

    scanned: int
    referenced: int
    too_young: int
    orphans: tuple[str, ...]
    removed: tuple[str, ...]
    dry_run: bool
