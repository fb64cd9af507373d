from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel


class AuditEntry(BaseModel):
    uuid: UUID
    actor_uuid: UUID
    action: str
    target_type: str
    target_uuid: UUID | None
    changes: dict[str, Any]
    ip: str | None
    request_id: str | None
    created_at: datetime
    # Names a reader knows: the acting account's (NULL for the command line), and the target's
    # now (NULL once it is gone; `target_name_en` only for products, which have two).
    actor_email: str | None = None
    actor_name: str | None = None
    target_name: str | None = None
    target_name_en: str | None = None


class AuditActor(BaseModel):
    """An account that appears in the audit log as the one who acted."""

    uuid: UUID
    email: str
    name: str
    deleted: bool


class SearchCount(BaseModel):
    """One normalised query's searches on one UTC day (search analytics, no one's identity)."""

    day: date
    query: str
    searches: int
    zero_results: int


class QueryCount(BaseModel):
    query: str
    count: int


class SearchStats(BaseModel):
    top_queries: list[QueryCount]
    zero_result_queries: list[QueryCount]
