from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class Liveness(BaseModel):
    status: Literal["ok"]
    version: str


class Readiness(BaseModel):
    """What anyone may know: the service can reach its primary database."""

    status: Literal["ok"]


class ReadinessDetails(BaseModel):
    """For admins: pool statistics and the last replica error name internal hosts."""

    status: Literal["ok", "degraded", "unavailable"]
    primary: dict[str, Any]
    replica: dict[str, Any]
    redis: dict[str, Any]
