"""The acting admin, with the request facts the audit log records."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from proveo.accounts.deps import AdminUser, AdminUserBrief, CurrentUser
from proveo.accounts.schemas import SessionUser
from proveo.admin.service import AdminActor
from proveo.core.clients import storable_ip


def _actor(request: Request, user: SessionUser) -> AdminActor:
    return AdminActor(
        uuid=user.uuid,
        ip=storable_ip(request.client.host if request.client else None),
        request_id=request.state.request_id,
    )


async def admin_actor(request: Request, admin: AdminUser) -> AdminActor:
    return _actor(request, admin)


async def user_actor(request: Request, user: CurrentUser) -> AdminActor:
    """Any signed-in user, for routes that audit only what an admin does through them."""
    return _actor(request, user)


async def admin_actor_brief(request: Request, admin: AdminUserBrief) -> AdminActor:
    """The admin, checked in a short transaction of its own (see `current_user_brief`)."""
    return _actor(request, admin)


Actor = Annotated[AdminActor, Depends(admin_actor)]
ActorBrief = Annotated[AdminActor, Depends(admin_actor_brief)]
UserActor = Annotated[AdminActor, Depends(user_actor)]
