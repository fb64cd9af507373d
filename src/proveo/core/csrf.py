"""CSRF protection for every state-changing request.

1. A cross-origin `Origin` (or `Sec-Fetch-Site: cross-site`) is refused for POST/PUT/PATCH/DELETE,
   without exception.
2. When the request carries a valid session token, `X-CSRF-Token` must equal the `csrf_token`
   cookie and both must equal the HMAC of the session id (double submit, bound to the session).
   The one exemption from this second rule is `token_exempt`: POSTs to paths that change no
   user's state and act for no session, and whose callers cannot set a header (the contact
   click beacon, `navigator.sendBeacon`). It is given as exact path patterns, POST only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from proveo.core.errors import Forbidden, error_response
from proveo.core.security import csrf_token_matches, decode_session_token

SESSION_COOKIE = "access_token"
CSRF_COOKIE = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def read_cookies(headers: Headers) -> dict[str, str]:
    # Exactly the parser behind `request.cookies`: the session this middleware sees must be the
    # session the routes authenticate, whatever odd cookies the browser also sends.
    cookies: dict[str, str] = {}
    for header in headers.getlist("cookie"):
        cookies.update(cookie_parser(header))
    return cookies


def csrf_satisfied(secret: str, headers: Headers, cookies: dict[str, str]) -> bool:
    """True unless the request carries a valid session without the matching CSRF token."""
    claims = decode_session_token(secret, cookies.get(SESSION_COOKIE, ""))
    if claims is None:
        return True
    return csrf_token_matches(
        secret, claims.session_id, headers.get(CSRF_HEADER, ""), cookies.get(CSRF_COOKIE, "")
    )


class CsrfMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        secret: str,
        trusted_origins: Iterable[str],
        same_host_schemes: tuple[str, ...] = ("http", "https"),
        token_exempt: Iterable[re.Pattern[str]] = (),
    ) -> None:
        self.app = app
        # POST paths (whole-path patterns) that need no CSRF token; the origin check stays.
        self.token_exempt = tuple(token_exempt)
        self.secret = secret
        self.trusted_origins = frozenset(origin_of(origin) for origin in trusted_origins)
        # An Origin naming the Host the request came to is same-origin; production only
        # accepts it over https.
        self.same_host_schemes = same_host_schemes

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
            f"{scheme}://{host.lower()}" for scheme in self.same_host_schemes
        }

    def _token_exempt(self, scope: Scope) -> bool:
        return scope["method"] == "POST" and any(
            pattern.fullmatch(scope["path"]) for pattern in self.token_exempt
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not self._origin_allowed(scope, headers):
            response = error_response(403, "Cross-origin request refused", "cross_origin_refused")
            await response(scope, receive, send)
            return
        if not self._token_exempt(scope) and not csrf_satisfied(
            self.secret, headers, read_cookies(headers)
        ):
            response = error_response(
                403, "Missing or invalid CSRF token (X-CSRF-Token header)", "csrf_failed"
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    default_detail = "Missing or invalid CSRF token (X-CSRF-Token header)"
