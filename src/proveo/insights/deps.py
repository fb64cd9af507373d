"""Who is asking, as far as counting needs it, and the app's recorder."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from proveo.accounts.deps import Claims
from proveo.core.clients import request_subject
from proveo.core.middleware import HEAD_REQUEST
from proveo.insights.service import Visitor, is_bot


def _robot(request: Request) -> bool:
    return is_bot(request.headers.get("user-agent"))


async def visitor(request: Request, claims: Claims) -> Visitor:
    """The session is read from its cookie's signature alone (no database round trip), and only
    when the cookie is there."""
    return Visitor(
        bot=_robot(request),
        user_uuid=claims.user_uuid if claims is not None else None,
        head=bool(request.scope.get(HEAD_REQUEST)),
        client=request_subject(request),
    )


def audience_of(request: Request) -> Visitor:
    """A page of results' reader: only whether it is a bot matters (no session is read)."""
    return Visitor(bot=_robot(request), client=request_subject(request))


async def audience(request: Request) -> Visitor:
    return audience_of(request)


async def recorder_holder(request: Request) -> object:
    """What the service records into: the app's state (it holds `insights_recorder`)."""
    return request.app.state


CurrentVisitor = Annotated[Visitor, Depends(visitor)]
Audience = Annotated[Visitor, Depends(audience)]
Recorder = Annotated[object, Depends(recorder_holder)]
