"""Who is asking: the session cookie, checked against the database on every request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from proveo.accounts import service
from proveo.accounts.schemas import SessionUser
from proveo.core.csrf import SESSION_COOKIE
from proveo.core.deps import AppSettings, Conn
from proveo.core.errors import NotAuthenticated
from proveo.core.security import SessionClaims, decode_session_token


def session_claims(request: Request, settings: AppSettings) -> SessionClaims | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    return decode_session_token(settings.secret_key.get_secret_value(), token)


Claims = Annotated[SessionClaims | None, Depends(session_claims)]


async def current_user(conn: Conn, claims: Claims) -> SessionUser:
    if claims is None:
        raise NotAuthenticated()
    user = await service.authenticate(conn, claims)
    if user is None:
        raise NotAuthenticated("Your session has ended, log in again")
    return user


CurrentUser = Annotated[SessionUser, Depends(current_user)]


def verified_user(user: CurrentUser) -> SessionUser:
    return service.require_verified(user)


def admin_user(user: CurrentUser) -> SessionUser:
    return service.require_admin(user)


VerifiedUser = Annotated[SessionUser, Depends(verified_user)]
AdminUser = Annotated[SessionUser, Depends(admin_user)]
