from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, computed_field


class ModerationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # replaced by the owner, or its company went away, before a decision


class HeldImage(BaseModel):
    """A moderation row as the services use it (never sent to clients as is)."""

    model_config = ConfigDict(frozen=True)

    id: int
    uuid: UUID
    company_id: int
    image_key: str
    nsfw_score: float
    status: ModerationStatus


class ModerationEntry(BaseModel):
    """One image in the queue, with what an admin needs to decide."""

    uuid: UUID
    status: ModerationStatus
    nsfw_score: float
    company_uuid: UUID
    company_name: str
    company_deleted: bool
    image_key: str = Field(exclude=True)
    decided_by_uuid: UUID | None
    decided_at: datetime | None
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def image_url(self) -> str:
        return f"/images/{self.image_key}.webp"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def thumbnail_url(self) -> str:
        return f"/images/{self.image_key}_thumb.webp"


class ModerationDecision(BaseModel):
    uuid: UUID
    status: ModerationStatus
    company_uuid: UUID
