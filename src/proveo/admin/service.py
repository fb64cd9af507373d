"""Admin audit trail: every admin write records who did what, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from proveo.admin import repository
from proveo.admin.schemas import AuditActor, AuditEntry, SearchCount, SearchStats
from proveo.core.db import Connection


@dataclass(frozen=True)
class AdminActor:
    """Who acts, and from where: taken from the request by the router.

    `label` names an actor that is not a user account; the entry's `changes.actor` carries it.
    """

    uuid: UUID
    ip: str | None
    request_id: str | None
    label: str | None = None


# The operator at the command line (`proveo create-admin`). actor_uuid is NOT NULL and not a
# foreign key, so it holds the nil UUID, which no account has, and `changes.actor` says "cli".
CLI_ACTOR = AdminActor(uuid=UUID(int=0), ip=None, request_id=None, label="cli")


async def record_admin_action(
    conn: Connection,
    actor: AdminActor,
    *,
    action: str,
    target_type: str,
    target_uuid: UUID | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    changes: dict[str, Any] = {"before": before, "after": after}
    if actor.label is not None:
        changes["actor"] = actor.label
    await repository.insert_audit_entry(
        conn,
        actor_uuid=actor.uuid,
        action=action,
        target_type=target_type,
        target_uuid=target_uuid,
        changes=changes,
        ip=actor.ip,
        request_id=actor.request_id,
    )


async def list_audit_entries(
    conn: Connection,
    *,
    limit: int,
    offset: int,
    actor: UUID | None,
    action: str | None,
    actor_email: str | None = None,
) -> tuple[list[AuditEntry], int]:
    """One page, newest first, and the total count for X-Total-Count.

    `actor_email` picks the actor by address, as login matches it (case aside); an address no
    actor has gives an empty page.
    """
    return await repository.select_audit_page(
        conn, limit=limit, offset=offset, actor=actor, action=action,
        actor_email=actor_email.strip() if actor_email else None,
    )  # fmt: skip


# How many suggestions the actor filter shows.
AUDIT_ACTORS_LIMIT = 20


async def list_audit_actors(conn: Connection, q: str | None) -> list[AuditActor]:
    """The accounts that acted, those whose email contains `q`, for the filter's suggestions."""
    return await repository.select_audit_actors(
        conn, q=q.strip() or None if q else None, limit=AUDIT_ACTORS_LIMIT
    )


# How many queries each list of the search statistics shows.
SEARCH_STATS_LIMIT = 20


async def add_search_counts(conn: Connection, counts: list[SearchCount]) -> None:
    """Add a batch of search counts (the search recorder's flush)."""
    await repository.upsert_search_counts(conn, counts)


async def search_statistics(conn: Connection, days: int) -> SearchStats:
    """The most searched queries, and the most searched ones that found nothing, over the last
    `days` UTC days (today included)."""
    return SearchStats(
        top_queries=await repository.select_top_queries(conn, days, SEARCH_STATS_LIMIT),
        zero_result_queries=await repository.select_zero_result_queries(
            conn, days, SEARCH_STATS_LIMIT
        ),
    )
