"""Routes that take a form: the body must be one, and a whole one.

Starlette reads any other body (JSON, text, none) as an empty form, and python-multipart
stops quietly at the end of a truncated multipart body. Either way the route saw "no fields":
an edit answered 200 having changed nothing, and a publish a misleading "field required".
`FormRoute` checks the raw body before the form is parsed, for the routes whose body is a form.

Starlette also decodes a text part that is not valid in the body's charset as Latin-1 rather
than refusing it (`Caf\\xe9` was stored as "Café", a lone surrogate as "í\\xa0"), and reads
raw non-ASCII bytes of an urlencoded body as Latin-1 too; so the raw text is checked here, where
the bytes are still there to check.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl

from fastapi import params
from fastapi.routing import APIRoute
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.responses import Response

from proveo.core.errors import BadRequest, UnsupportedMediaType

MULTIPART = b"multipart/form-data"
URLENCODED = b"application/x-www-form-urlencoded"


class NotAForm(UnsupportedMediaType):
    default_detail = (
        "Send the form as multipart/form-data (application/x-www-form-urlencoded also works "
        "when there is no file)"
    )


class MalformedForm(BadRequest):
    code = "malformed_form"
    default_detail = "The multipart form is malformed or incomplete"


class _TextParts:
    """The raw name of every part of a multipart body, and the raw value of its text parts."""

    def __init__(self) -> None:
        self.names: list[bytes] = []
        self.texts: list[tuple[bytes, bytes]] = []
        self._header = b""
        self._value = b""
        self._disposition = b""
        self._name: bytes | None = None
        self._is_file = False
        self._data = bytearray()

    def on_part_begin(self) -> None:
        self._disposition = b""
        self._data = bytearray()

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


def _check_multipart_text(body: bytes, boundary: bytes, charset: str) -> None:
    parts = _TextParts()
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": parts.on_part_begin,
            "on_header_field": parts.on_header_field,
            "on_header_value": parts.on_header_value,
            "on_header_end": parts.on_header_end,
            "on_headers_finished": parts.on_headers_finished,
            "on_part_data": parts.on_part_data,
            "on_part_end": parts.on_part_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except FormParserError as exc:
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
    # Browsers percent-encode every non-ASCII byte, as UTF-8; a raw one would be read as Latin-1.
    try:
        parse_qsl(body.decode("ascii"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise MalformedForm(
            "The form is not valid text: percent-encode it as UTF-8 (as browsers do)"
        ) from None


def _charset(options: dict[bytes, bytes]) -> str:
    """The body's charset as starlette reads it (UTF-8 unless declared); an unknown one is
    refused rather than read as Latin-1."""
    declared = options.get(b"charset", b"utf-8").decode("latin-1")
    try:
        return codecs.lookup(declared).name
    except LookupError:
        raise MalformedForm(f"Unknown charset {declared!r}: send the form as UTF-8") from None


def check_form_body(content_type: str | None, body: bytes) -> None:
    """Raise NotAForm (415) or MalformedForm (400) unless `body` is a complete form whose text
    is valid in its charset."""
    media_type, options = parse_options_header(content_type or "")
    if media_type == URLENCODED:
        _check_urlencoded_text(body)
        return
    if media_type != MULTIPART:
        raise NotAForm()
    boundary = options.get(b"boundary")
    if not boundary:
        raise MalformedForm("The multipart form has no boundary")
    # RFC 2046 §5.1.1: the body ends with the close delimiter (then, at most, an epilogue).
    # The boundary never occurs inside a part, so a body without it was cut short.
    close = b"--" + boundary + b"--"
    if not (body.startswith(close) or b"\r\n" + close in body):
        raise MalformedForm("The multipart form is incomplete: its closing boundary is missing")
    _check_multipart_text(body, boundary, _charset(options))


def _takes_a_form(route: APIRoute) -> bool:
    return route.body_field is not None and isinstance(route.body_field.field_info, params.Form)


class FormRoute(APIRoute):
    """An APIRoute that refuses, for form routes only, a body that is not a complete form."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not _takes_a_form(self):
            return handler

        async def checked(request: Request) -> Response:
            # Read once; the form parser then reads the same bytes from memory.
            check_form_body(request.headers.get("content-type"), await request.body())
            return await handler(request)

        return checked
