"""Pure ASGI middleware: correlation ids with the access log, security headers, request bodies,
HEAD for every GET, and trailing-slash redirects for reads only."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from urllib.parse import urlsplit

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proveo.core.errors import error_response
from proveo.core.logging import access_log

DOCS_PATHS = frozenset({"/docs", "/redoc"})
# Swagger UI and ReDoc (served by us, started without inline scripts) set inline styles, and
# ReDoc runs its search in a worker made from a blob.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            # Only ids that are safe to copy into logs and other services' headers.
            return candidate if _VALID_REQUEST_ID.match(candidate) else None
    return None


# Single-use secrets travel in these paths; logs must not keep a usable copy.
_SECRET_PATH = re.compile(r"(/users/verify-email/)[^/]+")


def _loggable_path(path: str) -> str:
    return _SECRET_PATH.sub(r"\1[redacted]", path)


class RequestContextMiddleware:
    """Binds a correlation id to every log line of the request and echoes it as X-Request-ID."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        request_id_header = (b"x-request-id", request_id.encode("latin-1"))
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *(h for h in message.get("headers", ()) if h[0].lower() != b"x-request-id"),
                    request_id_header,
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log().write(
                method=scope["method"],
                path=_loggable_path(scope["path"]),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                request_id=request_id,
            )
            structlog.contextvars.clear_contextvars()


def _raw(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


class SecurityHeadersMiddleware:
    """Headers every response carries. The CSP forbids inline scripts: the front end has none."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers: list[tuple[str, str]] = [
            (
                "Content-Security-Policy",
                "default-src 'self'; script-src 'self'; style-src 'self'; "
                "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
                "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
            ),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "strict-origin-when-cross-origin"),
            ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
        ]
        if hsts:
            self.headers.append(
                ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
            )
        # Only the two documentation pages (no user content) get the policy for inline styles.
        self.docs_headers = [
            (name, DOCS_CSP if name == "Content-Security-Policy" else value)
            for name, value in self.headers
        ]
        self.raw_headers = _raw(self.headers)
        self.raw_docs_headers = _raw(self.docs_headers)
        # API answers are private (the user's account, admin lists, the audit log) unless a
        # route says otherwise, as the catalogue lists and images do with their own header:
        # no browser or shared cache may keep one by default.
        self.raw_api_headers = [*self.raw_headers, *_raw([("Cache-Control", "no-store")])]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        path = scope["path"]
        if path in DOCS_PATHS:
            chosen = self.raw_docs_headers
        elif path == "/api" or path.startswith("/api/"):
            chosen = self.raw_api_headers
        else:
            chosen = self.raw_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(pair for pair in chosen if pair[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _declares_body(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


# Every JSON body the API takes (logins, sign-ups, catalogue entries) is under 2 KB. Parsing
# megabytes of JSON, and validating thousands of unknown keys, runs on the event loop: a
# review stalled every request for 17 s with one 5.6 MB login.
MAX_JSON_BYTES = 64 * 1024


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"content-type":
            media_type = value.split(b";", 1)[0].strip().lower()
            return media_type == b"application/json" or media_type.endswith(b"+json")
    return False


class RequestBodyMiddleware:
    """Reads each request's whole body before the app sees the request.

    A body over `max_bytes` (a JSON body over `max_json_bytes`) is a 413, by Content-Length
    before reading or while it streams; a
    body that has not fully arrived `timeout` seconds after the headers is a 408
    `request_timeout`. Both close the connection. The app inside (load shedding, rate limits,
    the routes) then gets the body from memory at once, so a client that announces a body and
    sends it slowly, or never, holds only its own socket, for at most `timeout` seconds: never
    a load-shedding slot or a database connection. (uvicorn itself never times out a body.)
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, timeout: float, max_json_bytes: int = MAX_JSON_BYTES
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_json_bytes = max_json_bytes
        self.timeout = timeout
        self.too_large = f"Request body exceeds {max_bytes} bytes"
        self.json_too_large = f"A JSON request body is limited to {max_json_bytes} bytes"
        self.too_slow = f"The request body did not arrive within {timeout:g} seconds"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _declares_body(scope["headers"]):
            await self.app(scope, receive, send)
            return
        # A JSON body over its own limit is still read (and dropped) up to the general one, then
        # refused: a proxy that is still sending it would otherwise see the connection reset
        # and answer 502 instead of this 413.
        json_limit = self.max_json_bytes if _is_json(scope["headers"]) else self.max_bytes
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(413, self.too_large, "payload_too_large", scope, receive, send)
                return
        chunks: list[bytes] = []
        received = 0
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return  # nobody is left to answer
                    chunk = message.get("body", b"")
                    received += len(chunk)
                    if received > self.max_bytes:
                        await self._refuse(
                            413, self.too_large, "payload_too_large", scope, receive, send
                        )
                        return
                    if received <= json_limit:
                        chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            await self._refuse(408, self.too_slow, "request_timeout", scope, receive, send)
            return
        if received > json_limit:
            response = error_response(413, self.json_too_large, "payload_too_large")
            await response(scope, receive, send)
            return
        body = b"".join(chunks)
        replayed = False

        async def buffered_receive() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # only a disconnect can come now
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, buffered_receive, send)

    @staticmethod
    async def _refuse(
        status: int, detail: str, code: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        # The rest of the body is never read: the connection cannot carry another request.
        response = error_response(status, detail, code, {"Connection": "close"})
        await response(scope, receive, send)


# Set (True) in the scope of a HEAD request that runs as a GET: a route can tell (a HEAD is
# not a profile view).
HEAD_REQUEST = "proveo.head"


class HeadAsGetMiddleware:
    """HEAD answers what GET would, without the body (RFC 9110 §9.3.2).

    FastAPI's routes take only the methods they declare, so HEAD on an API read was a 405 while
    the static pages answered it. The route runs as GET (with `HEAD_REQUEST` in its scope); its
    headers, Content-Length included, go out unchanged and its body is dropped.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        as_get = {**scope, "method": "GET", HEAD_REQUEST: True}
        try:
            await self.app(as_get, receive, send_without_body)
        finally:
            # What routing found, for the middleware outside (the metrics' route label).
            for key in ("route", "endpoint"):
                if key in as_get:
                    scope[key] = as_get[key]


class SlashRedirectMiddleware:
    """Keeps Starlette's trailing-slash redirect to reads, and relative.

    Starlette answers `/api/v1/health` with a 307 to `/api/v1/health/` for every method, and
    builds the absolute Location from the Host header, so `Host: evil.example` redirects there.
    A GET or HEAD gets a relative Location; any other method gets the 404 an unknown route gets.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        replaced = False

        async def guarded_send(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the redirect's own (empty) body: the 404 was sent instead
            if message["type"] == "http.response.start" and message["status"] in (307, 308):
                target = _slash_redirect_target(path, message["headers"])
                if target is not None:
                    # `/%2Fevil.example%2F..%2Flogin` decodes to a path beginning `//`: as a
                    # Location that is another host (protocol-relative), and `\` is read as `/`.
                    if scope["method"] not in ("GET", "HEAD") or _leaves_this_host(target):
                        replaced = True
                        await error_response(404, "Not Found", "not_found")(scope, receive, send)
                        return
                    query = scope.get("query_string", b"")
                    location = target + ("?" + query.decode("latin-1") if query else "")
                    message["headers"] = [
                        (name, location.encode("latin-1") if name == b"location" else value)
                        for name, value in message["headers"]
                    ]
            await send(message)

        await self.app(scope, receive, guarded_send)


def _leaves_this_host(target: str) -> bool:
    return target.startswith("//") or "\\" in target


def _slash_redirect_target(path: str, headers: list[tuple[bytes, bytes]]) -> str | None:
    """The path a trailing-slash redirect points to, or None for any other redirect."""
    for name, value in headers:
        if name == b"location":
            target = urlsplit(value.decode("latin-1")).path
            slash_variants = (path + "/", path.removesuffix("/"))
            return target if target != path and target in slash_variants else None
    return None
