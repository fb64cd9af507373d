"""CSRF protection for every state-changing request, with no exemptions.

1. A cross-origin `Origin` (or `Sec-Fetch-Site: cross-site`) is refused for POST/PUT/PATCH/DELETE.
2. When the request carries a valid session token, `X-CSRF-Token` must equal the `csrf_token`
   cookie and both must equal the HMAC of the session id (double submit, bound to the session).
"""

from __future__ import annotations

from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from proveo.core.errors import error_response
from proveo.core.security import csrf_token_matches, decode_session_token

SESSION_COOKIE = "access_token"
CSRF_COOKIE = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def read_cookies(headers: Headers) -> dict[str, str]:
    cookie = SimpleCookie()
    for raw in headers.getlist("cookie"):
        try:
            cookie.load(raw)
        except CookieError:
            continue
    return {name: morsel.value for name, morsel in cookie.items()}


class CsrfMiddleware:
    def __init__(self, app: ASGIApp, *, secret: str, trusted_origins: Iterable[str]) -> None:
        self.app = app
        self.secret = secret
        self.trusted_origins = frozenset(origin_of(origin) for origin in trusted_origins)

    def _origin_allowed(self, scope: Scope, headers: Headers) -> bool:
        if headers.get("sec-fetch-site") == "cross-site":
            return False
        origin = headers.get("origin")
        if origin is None:
            return True  # not a browser-initiated cross-site request
        origin = origin.lower()
        if origin in self.trusted_origins:
            return True
        host = headers.get("host")
        return host is not None and origin in {
            f"{scheme}://{host.lower()}" for scheme in ("http", "https")
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not self._origin_allowed(scope, headers):
            response = error_response(403, "Cross-origin request refused", "cross_origin_refused")
            await response(scope, receive, send)
            return
        cookies = read_cookies(headers)
        claims = decode_session_token(self.secret, cookies.get(SESSION_COOKIE, ""))
        if claims is not None and not csrf_token_matches(
            self.secret,
            claims.session_id,
            headers.get(CSRF_HEADER, ""),
            cookies.get(CSRF_COOKIE, ""),
        ):
            response = error_response(
                403, "Missing or invalid CSRF token (X-CSRF-Token header)", "csrf_failed"
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
