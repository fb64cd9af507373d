"""Search analytics: a placeholder until s-ops' recorder lands (it replaces this file)."""

from __future__ import annotations


def record_search(recorder: object, q_normalised: str, total: int) -> None:
    """Record one search (normalised text and result count); this stub records nothing."""
