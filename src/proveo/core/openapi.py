"""The OpenAPI document: every error an operation can answer, and how a session authenticates.

Two sources of errors, so that neither routes nor the document drift from what the server does:

- A route declares its own errors in its decorator: `responses=error_responses(403, 404, 503)`
  (roles, unknown uuids, conflicts, the database).
- `install_openapi` adds what the middleware, the request parsing and the session dependency
  answer for any operation of a given shape: 403 for writes (cross-origin, CSRF), 408 and 413
  for a body and 400 `malformed_json` for a JSON one, 422 for any input, 429 where the rate
  limits apply, 503 `overloaded` wherever load shedding applies (all but liveness), and 401
  where the route needs a session. Those routes also get the `access_token` cookie (and,
  for writes, the `X-CSRF-Token` header) as their security requirement.

All of them use the one `ErrorResponse` schema, `{detail, code}`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterator, Mapping
from enum import Enum
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel

from proveo.core.csrf import SAFE_METHODS, SESSION_COOKIE


class FieldError(BaseModel):
    loc: list[str]
    msg: str
    type: str


class ErrorResponse(BaseModel):
    """Every error: a message (or, for 422, the invalid fields) and a stable machine code."""

    detail: str | list[FieldError]
    code: str


ERROR_DESCRIPTIONS: Mapping[int, str] = {
    400: "Bad request (`invalid_characters`: text PostgreSQL cannot store, such as NUL)",
    401: "No session, or it has ended (`not_authenticated`)",
    403: "Not allowed (`forbidden`)",
    404: "Not found (`not_found`)",
    408: "The request body did not arrive in time (`request_timeout`)",
    409: "Conflict with the current state (`conflict`)",
    413: "Request body too large (`payload_too_large`)",
    415: "Unsupported media type (`unsupported_media_type`)",
    422: "Invalid input (`validation_error`); `detail` lists the fields",
    429: "Too many requests (`rate_limited`); wait `Retry-After` seconds",
    503: "The database is unavailable or busy (`database_unavailable`, `database_busy`); "
    "retry after `Retry-After` seconds",
}
ADMIN_REQUIRED = (403, "The session is not an administrator's (`admin_required`)")
HASHING_BUSY = (
    503,
    "Too many passwords being hashed at once (`busy`), or the database is unavailable or busy "
    "(`database_unavailable`, `database_busy`); retry after `Retry-After` seconds",
)

SESSION_SCHEME = "sessionCookie"
CSRF_SCHEME = "csrfHeader"
SECURITY_SCHEMES: dict[str, Any] = {
    SESSION_SCHEME: {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The session cookie `POST /api/v1/users/login` sets (HttpOnly); the "
        "browser sends it.",
    },
    CSRF_SCHEME: {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
        "description": "The `csrf_token` of the login answer (also the `csrf_token` cookie), "
        "required on every POST, PUT, PATCH and DELETE of a logged-in user.",
    },
}

_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
_WRITE_FORBIDDEN = (
    "Cross-origin write (`cross_origin_refused`), or a logged-in request without the session's "
    "`X-CSRF-Token` (`csrf_failed`)"
)
_MALFORMED_JSON = "The body is not valid JSON (`malformed_json`)"


def error_responses(*errors: int | tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route decorator: the errors this operation itself can answer.

    Give a status for its standard description, or `(status, description)` to name the
    operation's own codes: `error_responses(401, (404, "No such user (`user_not_found`)"))`.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        status, description = error if isinstance(error, tuple) else (error, None)
        responses[status] = {
            "model": ErrorResponse,
            "description": description or ERROR_DESCRIPTIONS[status],
        }
    return responses


def _add_error(
    responses: dict[str, Any], status: int, description: str, *, merge: bool = False
) -> None:
    """Document `status` unless the route did; with `merge`, add this cause to the route's."""
    existing = responses.get(str(status))
    if existing is None:
        responses[str(status)] = {
            "description": description,
            "content": {"application/json": {"schema": _ERROR_REF}},
        }
    elif merge and description not in existing["description"]:
        existing["description"] = f"{existing['description']}; or: {description}"


def _has_json_body(operation: Mapping[str, Any]) -> bool:
    content = operation.get("requestBody", {}).get("content", {})
    return any(media.endswith("json") for media in content)


class Session(Enum):
    REQUIRED = "required"
    OPTIONAL = "optional"  # acts on the session when there is one (logout)


_OVERLOADED = "The server is saturated (`overloaded`); retry after `Retry-After` seconds"


def _document_operation(
    method: str,
    operation: dict[str, Any],
    *,
    rate_limited: bool,
    sheddable: bool,
    session: Session | None,
) -> None:
    write = method.upper() not in SAFE_METHODS
    responses: dict[str, Any] = operation.setdefault("responses", {})
    validation = responses.get("422")
    if validation is not None:
        # FastAPI's own HTTPValidationError shape is not what our renderer sends.
        validation["content"] = {"application/json": {"schema": _ERROR_REF}}
        validation["description"] = ERROR_DESCRIPTIONS[422]
    if write:
        _add_error(responses, 403, _WRITE_FORBIDDEN, merge=True)
    if "requestBody" in operation:
        _add_error(responses, 408, ERROR_DESCRIPTIONS[408])
        _add_error(responses, 413, ERROR_DESCRIPTIONS[413])
        if _has_json_body(operation):
            _add_error(responses, 400, _MALFORMED_JSON, merge=True)
    if rate_limited:
        _add_error(responses, 429, ERROR_DESCRIPTIONS[429])
    if sheddable:
        _add_error(responses, 503, _OVERLOADED, merge=True)
    if session is None:
        return
    requirement: dict[str, list[str]] = {SESSION_SCHEME: []}
    if write:
        requirement[CSRF_SCHEME] = []
    if session is Session.REQUIRED:
        _add_error(responses, 401, ERROR_DESCRIPTIONS[401])
        operation["security"] = [requirement]
    else:
        operation["security"] = [{}, requirement]


def document_errors(
    schema: dict[str, Any],
    *,
    rate_limited: Callable[[str], bool],
    sheddable: Callable[[str], bool],
    sessions: Mapping[tuple[str, str], Session],
) -> None:
    """Complete `schema` in place (see the module's docstring).

    `sessions` maps `(path, method)`, as in the schema, to what the operation does with the
    session; operations it leaves out never read one.
    """
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["FieldError"] = FieldError.model_json_schema()
    schemas["ErrorResponse"] = ErrorResponse.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    schemas["ErrorResponse"].pop("$defs", None)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            _document_operation(
                method,
                operation,
                rate_limited=rate_limited(path),
                sheddable=sheddable(path),
                session=sessions.get((path, method)),
            )


def operation_id(route: APIRoute) -> str:
    """`users:signup` becomes `users_signup`: stable names for generated clients."""
    return route.name.replace(":", "_")


def api_routes(app: FastAPI) -> Iterator[RouteContext]:
    """Every API route with its full path (routers are included lazily, so not `app.routes`)."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _sessions(
    app: FastAPI, requires: Collection[Callable[..., Any]], reads: Callable[..., Any]
) -> dict[tuple[str, str], Session]:
    sessions: dict[tuple[str, str], Session] = {}
    for route in api_routes(app):
        calls = set(_calls(route.dependant))
        session = (
            Session.REQUIRED
            if calls & set(requires)
            else Session.OPTIONAL
            if reads in calls
            else None
        )
        if session is not None:
            for method in route.methods or ():
                sessions[(str(route.path_format), method.lower())] = session
    return sessions


def install_openapi(
    app: FastAPI,
    *,
    rate_limited: Callable[[str], bool],
    sheddable: Callable[[str], bool],
    requires_session: Collection[Callable[..., Any]],
    reads_session: Callable[..., Any],
) -> None:
    """Serve the completed document. A route needs a session when one of `requires_session` is among
    its dependencies, and acts on one if any when only `reads_session` is."""
    generate = app.openapi
    # FastAPI's document (regenerated when routes change) and our completed copy of it.
    cached: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        source = generate()
        if not cached or cached[0] is not source:
            schema = copy.deepcopy(source)
            document_errors(
                schema,
                rate_limited=rate_limited,
                sheddable=sheddable,
                sessions=_sessions(app, requires_session, reads_session),
            )
            cached[:] = [source, schema]
        return cached[1]

    app.openapi = openapi  # type: ignore[method-assign]
