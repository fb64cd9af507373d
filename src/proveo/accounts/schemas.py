from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class UserRecord(BaseModel):
    """A row of user_account as the services see it (never sent to clients as is)."""

    id: int
    uuid: UUID
    name: str
    email: str
    password_hash: str
    role: Role
    email_verified: bool
    lang: str
    created_at: datetime
    deleted_at: datetime | None


class UserPublic(BaseModel):
    uuid: UUID
    name: str
    email: str
    role: Role
    email_verified: bool
    created_at: datetime
