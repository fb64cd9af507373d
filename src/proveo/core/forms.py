"""Routes that take a form: the body must be one, and a whole one.

Starlette reads any other body (JSON, text, none) as an empty form, and python-multipart
stops quietly at the end of a truncated multipart body. Either way the route saw "no fields":
an edit answered 200 having changed nothing, and a publish a misleading "field required".
`FormRoute` checks the raw body before the form is parsed, for the routes whose body is a form.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import params
from fastapi.routing import APIRoute
from python_multipart.multipart import parse_options_header
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


def check_form_body(content_type: str | None, body: bytes) -> None:
    """Raise NotAForm (415) or MalformedForm (400) unless `body` is a complete form."""
    media_type, options = parse_options_header(content_type or "")
    if media_type == URLENCODED:
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
