"""The acting admin, with the request facts the audit log records."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from proveo.accounts.deps import AdminUser
from proveo.admin.service import AdminActor
from proveo.core.clients import storable_ip


async def admin_actor(request: Request, admin: AdminUser) -> AdminActor:
    return AdminActor(
        uuid=admin.uuid,
        ip=storable_ip(request.client.host if request.client else None),
        request_id=request.state.request_id,
    )


Actor = Annotated[AdminActor, Depends(admin_actor)]
