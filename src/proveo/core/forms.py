"""Routes that take a form: only for a signed-in user, and the body must be one, a whole one, a
bounded one, and UTF-8 text.

FastAPI parses a route's form before it solves the route's dependencies, authentication
included: a stranger's body was read in full, on the event loop, before the 401 (two million
`a=&` fields held every other request for 2-3 s). `FormRoute` first checks what needs no
database: the session cookie's signature and expiry, and the CSRF token bound to it (the
dependencies still check the session against the database, as on every route). A stranger
gets 401 `not_authenticated`, a missing token 403 `csrf_failed`, and the body is never read.

Starlette reads any other body (JSON, text, none) as an empty form, and python-multipart
stops quietly at the end of a truncated multipart body. Either way the route saw "no fields":
an edit answered 200 having changed nothing, and a publish a misleading "field required".
`FormRoute` checks the raw body before the form is parsed, for the routes whose body is a form.

The check is bounded by the limits, whatever the body holds, and so is Starlette's parse of a
body that passes it: at most 1000 fields or parts (Starlette's own caps), 8 headers a part, no
run of 16 blanks in a part's head (python-multipart steps over those a byte at a time), each
a 400 `malformed_form` naming the limit at the first excess; and an urlencoded form (which
carries no file) of at most 256 KiB, or a 413. A body over 64 KiB is checked in a worker
thread, off the event loop.

Starlette also decodes a text part that is not valid in the body's charset as Latin-1 rather
than refusing it (`Caf\\xe9` was stored as "Café", a lone surrogate as "í\\xa0"), and reads
raw non-ASCII bytes of an urlencoded body as Latin-1 too; so the raw text is checked here, where
the bytes are still there to check. The only charsets taken are UTF-8 and its ASCII subset:
`charset=rot13` (or base64, zlib: codecs, but no text encodings) answered 500.
"""

from __future__ import annotations

import asyncio
import codecs
import re
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl

from fastapi import params
from fastapi.routing import APIRoute
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.responses import Response

from proveo.config import Settings
from proveo.core.csrf import SAFE_METHODS, SESSION_COOKIE, CsrfFailed, csrf_satisfied
from proveo.core.errors import (
    BadRequest,
    NotAuthenticated,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from proveo.core.security import decode_session_token

MULTIPART = b"multipart/form-data"
URLENCODED = b"application/x-www-form-urlencoded"

MAX_FIELDS = 1000
"""Fields of an urlencoded form, parts of a multipart one: Starlette's `max_fields`."""
MAX_PART_HEADERS = 8
"""Headers of one multipart part (a browser sends two): python-multipart's own default."""
MAX_URLENCODED_BYTES = 256 * 1024
"""An urlencoded form carries no file (the company form, every character a percent-encoded
emoji, is about 35 KiB). Decoding 6 MB of `%41` held Starlette's parse, on the event loop, for
0.4-0.7 s."""
MAX_HEAD_BLANKS = 16
"""A run of spaces or tabs this long in a part's head (its delimiter line and headers)."""
OFF_LOOP_BYTES = 64 * 1024
"""A body larger than this is checked in a worker thread."""
TEXT_CHARSETS = frozenset({"utf-8", "ascii"})
"""The charsets a form may declare, as `codecs` names them (`utf8`, `us-ascii` are aliases)."""


class NotAForm(UnsupportedMediaType):
    default_detail = (
        "Send the form as multipart/form-data (application/x-www-form-urlencoded also works "
        "when there is no file)"
    )


class MalformedForm(BadRequest):
    code = "malformed_form"
    default_detail = "The multipart form is malformed or incomplete"


class UrlencodedTooLarge(PayloadTooLarge):
    default_detail = (
        f"An application/x-www-form-urlencoded form is limited to {MAX_URLENCODED_BYTES // 1024} "
        "KiB: send a larger one as multipart/form-data"
    )


_BLANK_RUN = re.compile(rb"[ \t]{%d}" % MAX_HEAD_BLANKS)


class _TextParts:
    """The raw name of every part of a multipart body, and the raw value of its text parts.
    Raises MalformedForm at the first header of a part over the limit."""

    def __init__(self) -> None:
        self.names: list[bytes] = []
        self.texts: list[tuple[bytes, bytes]] = []
        self._headers = 0
        self._header = b""
        self._value = b""
        self._disposition = b""
        self._name: bytes | None = None
        self._is_file = False
        self._data = bytearray()

    def on_part_begin(self) -> None:
        self._headers = 0
        self._disposition = b""
        self._data = bytearray()

    def on_header_begin(self) -> None:
        self._headers += 1
        if self._headers > MAX_PART_HEADERS:
            raise MalformedForm(f"A part of the form has more than {MAX_PART_HEADERS} headers")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        if self._header.lower() == b"content-disposition":
            self._disposition = self._value
        self._header = self._value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._name = options.get(b"name")  # None: starlette refuses the part as malformed
        self._is_file = b"filename" in options
        if self._name is not None:
            self.names.append(self._name)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._is_file:  # a file's bytes are the image pipeline's to judge
            self._data += data[start:end]

    def on_part_end(self) -> None:
        if self._name is not None and not self._is_file:
            self.texts.append((self._name, bytes(self._data)))


def _not_text(charset: str, name: bytes) -> MalformedForm:
    shown = name.decode(charset, errors="replace")
    return MalformedForm(f"The form field {shown!r} is not valid {charset} text")


def _check_part_heads(body: bytes, boundary: bytes) -> None:
    """Count the parts, and look for long runs of blanks in their heads, with C-speed searches
    before any parser runs: python-multipart steps over the blanks after a delimiter (transport
    padding) and before a header's value one byte at a time, and 6 MB of them held Starlette's
    parse, on the event loop, for about 2 s."""
    delimiter = b"--" + boundary
    position = body.find(delimiter)
    parts = 0
    while position != -1:
        head = position + len(delimiter)
        if body.startswith(b"--", head):
            return  # the close delimiter: what follows is the epilogue
        parts += 1
        if parts > MAX_FIELDS:
            raise MalformedForm(f"The form has more than {MAX_FIELDS} parts")
        head_end = body.find(b"\r\n\r\n", head)
        if head_end == -1:
            head_end = len(body)  # cut short: the parser says so
        if _BLANK_RUN.search(body, head, head_end):
            raise MalformedForm(
                f"A part of the form has {MAX_HEAD_BLANKS} or more spaces in a row in its "
                "delimiter line or headers"
            )
        position = body.find(b"\r\n" + delimiter, head_end)
        if position != -1:
            position += 2


def _check_multipart_text(body: bytes, boundary: bytes, charset: str) -> None:
    parts = _TextParts()
    try:
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": parts.on_part_begin,
                "on_header_begin": parts.on_header_begin,
                "on_header_field": parts.on_header_field,
                "on_header_value": parts.on_header_value,
                "on_header_end": parts.on_header_end,
                "on_headers_finished": parts.on_headers_finished,
                "on_part_data": parts.on_part_data,
                "on_part_end": parts.on_part_end,
            },
            # The parser's own cap is a backstop: ours, one lower, answers first, by name.
            max_header_count=MAX_PART_HEADERS + 1,
        )
        parser.write(body)
        parser.finalize()
    except FormParserError as exc:  # a boundary too long, a header too large, bad syntax
        raise MalformedForm() from exc
    for name in parts.names:
        try:
            name.decode(charset)
        except UnicodeDecodeError:
            raise _not_text(charset, name) from None
    for name, value in parts.texts:
        try:
            value.decode(charset)
        except UnicodeDecodeError:
            raise _not_text(charset, name) from None


def _check_urlencoded_text(body: bytes) -> None:
    # Split no further than one piece past the limit. Empty pieces (`a=1&&b=2`) are no fields,
    # but a long run of `&` is refused too: python-multipart steps over it a byte at a time.
    pieces = body.split(b"&", MAX_FIELDS + 1)
    fields = [piece for piece in pieces if piece]
    if len(pieces) > MAX_FIELDS + 1 or len(fields) > MAX_FIELDS:
        raise MalformedForm(f"The form has more than {MAX_FIELDS} fields")
    if len(body) > MAX_URLENCODED_BYTES:
        raise UrlencodedTooLarge()
    # Browsers percent-encode every non-ASCII byte, as UTF-8; a raw one would be read as Latin-1.
    try:
        parse_qsl(b"&".join(fields).decode("ascii"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise MalformedForm(
            "The form is not valid text: percent-encode it as UTF-8 (as browsers do)"
        ) from None


def _charset(options: dict[bytes, bytes]) -> str:
    """The body's charset as starlette reads it (UTF-8 unless declared); anything but UTF-8 or
    ASCII is refused, rather than read as Latin-1 or handed to a codec that is no text
    encoding at all (rot13, base64, zlib)."""
    declared = options.get(b"charset")
    if declared is None:
        return "utf-8"
    name = declared.decode("latin-1")
    try:
        charset = codecs.lookup(name).name
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        charset = None
    if charset not in TEXT_CHARSETS:
        raise MalformedForm(
            f"The form's charset {name[:64]!r} is not accepted: send the form as UTF-8"
        )
    return charset


def check_form_body(content_type: str | None, body: bytes) -> None:
    """Raise NotAForm (415), UrlencodedTooLarge (413) or MalformedForm (400) unless `body` is a
    complete form, within the limits, whose text is valid UTF-8 (or ASCII, if it says so)."""
    media_type, options = parse_options_header(content_type or "")
    if media_type == URLENCODED:
        _charset(options)  # Starlette reads it as UTF-8 whatever it declares
        _check_urlencoded_text(body)
        return
    if media_type != MULTIPART:
        raise NotAForm()
    charset = _charset(options)
    boundary = options.get(b"boundary")
    if not boundary:
        raise MalformedForm("The multipart form has no boundary")
    # RFC 2046 §5.1.1: the body ends with the close delimiter (then, at most, an epilogue).
    # The boundary never occurs inside a part, so a body without it was cut short.
    close = b"--" + boundary + b"--"
    if not (body.startswith(close) or b"\r\n" + close in body):
        raise MalformedForm("The multipart form is incomplete: its closing boundary is missing")
    _check_part_heads(body, boundary)
    _check_multipart_text(body, boundary, charset)


def check_signed_session(request: Request) -> None:
    """NotAuthenticated (401) unless the session cookie is signed and unexpired, CsrfFailed
    (403) unless a write carries the CSRF token bound to it: what the session dependencies
    check first, without the database."""
    settings: Settings = request.app.state.settings
    secret = settings.secret_key.get_secret_value()
    cookies = request.cookies
    if decode_session_token(secret, cookies.get(SESSION_COOKIE, "")) is None:
        raise NotAuthenticated()
    if request.method not in SAFE_METHODS and not csrf_satisfied(secret, request.headers, cookies):
        raise CsrfFailed()


def _takes_a_form(route: APIRoute) -> bool:
    return route.body_field is not None and isinstance(route.body_field.field_info, params.Form)


class FormRoute(APIRoute):
    """An APIRoute whose form routes act for a signed-in user only, and refuse a body that is
    not a complete form within the limits. Routes without a form are left as they are."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not _takes_a_form(self):
            return handler

        async def checked(request: Request) -> Response:
            check_signed_session(request)  # before a byte of the body is looked at
            content_type = request.headers.get("content-type")
            # Read once; the form parser then reads the same bytes from memory.
            body = await request.body()
            if len(body) > OFF_LOOP_BYTES:
                await asyncio.to_thread(check_form_body, content_type, body)
            else:
                check_form_body(content_type, body)
            return await handler(request)

        return checked
