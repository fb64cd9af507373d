from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
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
    # What a waiting image is for: the logo, or a gallery photo (null once decided).
    kind: Literal["logo", "photo"] | None
    image_key: str = Field(exclude=True)
    decided_by_uuid: UUID | None
    decided_at: datetime | None
    created_at: datetime

    # A held image is not public: admins see it through these routes while it awaits a
    # decision. Once decided it is gone from there (published under a new key, or deleted).
    @computed_field  # type: ignore[prop-decorator]
    @property
    def image_url(self) -> str | None:
        return self._held_url("image")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def thumbnail_url(self) -> str | None:
        return self._held_url("thumbnail")

    def _held_url(self, kind: str) -> str | None:
        if self.status is not ModerationStatus.PENDING:
            return None
        return f"/api/v1/admin/moderation/{self.uuid}/{kind}"


class ModerationDecision(BaseModel):
    uuid: UUID
    status: ModerationStatus
    company_uuid: UUID
