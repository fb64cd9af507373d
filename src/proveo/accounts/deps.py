"""Who is asking: the session cookie, checked against the database on every request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from proveo.accounts import service
from proveo.accounts.schemas import SessionUser
from proveo.core.csrf import SAFE_METHODS, SESSION_COOKIE, CsrfFailed, csrf_satisfied
from proveo.core.db import Connection
from proveo.core.deps import AppDatabase, AppSettings, Conn
from proveo.core.errors import NotAuthenticated
from proveo.core.security import SessionClaims, decode_session_token


async def session_claims(request: Request, settings: AppSettings) -> SessionClaims | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    return decode_session_token(settings.secret_key.get_secret_value(), token)


Claims = Annotated[SessionClaims | None, Depends(session_claims)]


def _checked_claims(
    request: Request, claims: SessionClaims | None, settings: AppSettings
) -> SessionClaims:
    if claims is None:
        raise NotAuthenticated()
    # The CSRF middleware already checked this; checking again here ties the token to the very
    # session this route acts for, whatever happens to the middleware stack.
    if request.method not in SAFE_METHODS and not csrf_satisfied(
        settings.secret_key.get_secret_value(), request.headers, request.cookies
    ):
        raise CsrfFailed()
    return claims


async def _session_user(conn: Connection, claims: SessionClaims) -> SessionUser:
    user = await service.authenticate(conn, claims)
    if user is None:
        raise NotAuthenticated("Your session has ended, log in again")
    return user


async def current_user(
    request: Request, conn: Conn, claims: Claims, settings: AppSettings
) -> SessionUser:
    return await _session_user(conn, _checked_claims(request, claims, settings))


async def current_user_brief(
    request: Request, database: AppDatabase, claims: Claims, settings: AppSettings
) -> SessionUser:
    """The same checks in a short transaction of its own, for routes that run bcrypt: no
    pooled connection waits on the hash (the request's `Conn` would be held throughout)."""
    checked = _checked_claims(request, claims, settings)
    async with database.transaction() as conn:
        return await _session_user(conn, checked)


CurrentUser = Annotated[SessionUser, Depends(current_user)]
CurrentUserBrief = Annotated[SessionUser, Depends(current_user_brief)]


async def verified_user(user: CurrentUser) -> SessionUser:
    return service.require_verified(user)


async def admin_user(user: CurrentUser) -> SessionUser:
    return service.require_admin(user)


async def verified_user_brief(user: CurrentUserBrief) -> SessionUser:
    return service.require_verified(user)


async def admin_user_brief(user: CurrentUserBrief) -> SessionUser:
    return service.require_admin(user)


VerifiedUser = Annotated[SessionUser, Depends(verified_user)]
AdminUser = Annotated[SessionUser, Depends(admin_user)]
# For routes that process uploads: no pooled connection is held while the image is analysed.
VerifiedUserBrief = Annotated[SessionUser, Depends(verified_user_brief)]
AdminUserBrief = Annotated[SessionUser, Depends(admin_user_brief)]
