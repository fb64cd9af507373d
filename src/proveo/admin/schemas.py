from __future__ import annotations

from datetime import datetime
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
