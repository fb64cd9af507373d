"""The AppError tree and the one renderer of every error response.

Every error leaves the API as `{"detail": ..., "code": ...}`; a client can never provoke a 500.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import asyncpg
import structlog
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

log = structlog.get_logger(__name__)


class AppError(Exception):
    """An expected failure. Subclasses fix the HTTP status and the stable machine code."""

    status_code: ClassVar[int] = status.HTTP_400_BAD_REQUEST
    code: ClassVar[str] = "bad_request"
    default_detail: ClassVar[str] = "Bad request"

    def __init__(self, detail: Any = None, *, headers: dict[str, str] | None = None) -> None:
        self.detail = detail if detail is not None else self.default_detail
        self.headers = headers
        super().__init__(str(self.detail))


class BadRequest(AppError):
    pass


class NotAuthenticated(AppError):
    status_code = status.HTTP_401_UNAUTHORIZED
    code = "not_authenticated"
    default_detail = "Authentication required"


class Forbidden(AppError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "forbidden"
    default_detail = "You are not allowed to do this"


class NotFound(AppError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    default_detail = "Not found"


class Conflict(AppError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"
    default_detail = "Conflict"


class PayloadTooLarge(AppError):
    status_code = status.HTTP_413_CONTENT_TOO_LARGE
    code = "payload_too_large"
    default_detail = "Request body too large"


class UnsupportedMediaType(AppError):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    code = "unsupported_media_type"
    default_detail = "Unsupported media type"


class Unprocessable(AppError):
    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    code = "validation_error"
    default_detail = "Invalid input"


class TooManyRequests(AppError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "rate_limited"
    default_detail = "Too many requests, slow down"


class ServiceUnavailable(AppError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "service_unavailable"
    default_detail = "Service temporarily unavailable"


_STARLETTE_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_response(
    status_code: int, detail: Any, code: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status_code, headers=headers)


# A body with thousands of unknown keys has thousands of errors: an answer of megabytes,
# serialised on the event loop (found by a review: 480,000 errors, 43 MB, 18 s).
MAX_FIELD_ERRORS = 20


def _field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Keep what a client can act on: where, what, and a message, for the first
    MAX_FIELD_ERRORS problems. Never echo huge inputs back."""
    fields: list[dict[str, Any]] = []
    for error in errors[:MAX_FIELD_ERRORS]:
        fields.append(
            {
                "loc": [str(part) for part in error.get("loc", ())],
                "msg": str(error.get("msg", "Invalid value")),
                "type": str(error.get("type", "value_error")),
            }
        )
    if len(errors) > MAX_FIELD_ERRORS:
        fields.append(
            {
                "loc": [],
                "msg": f"and {len(errors) - MAX_FIELD_ERRORS} more problems",
                "type": "too_many_errors",
            }
        )
    return fields


async def _handle_app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return error_response(exc.status_code, exc.detail, exc.code, exc.headers)


async def _handle_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        return error_response(400, MALFORMED_JSON_DETAIL, "malformed_json")
    return error_response(422, _field_errors(errors), "validation_error")


MALFORMED_JSON_DETAIL = "Request body is not valid JSON"


def _is_undecodable_json(exc: StarletteHTTPException) -> bool:
    # FastAPI turns what `json.loads` raises besides JSONDecodeError into a bare 400: invalid
    # UTF-8 (UnicodeDecodeError, a ValueError) and nesting too deep to parse (RecursionError).
    return exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError)


async def _handle_http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if _is_undecodable_json(exc):
        return error_response(400, MALFORMED_JSON_DETAIL, "malformed_json")
    if exc.status_code == 400 and isinstance(exc.__context__, MultiPartException):
        # Starlette's form parser caps each text part at 1 MB (and counts parts): a part over
        # the cap is a body too large, like any other; the rest is a malformed form.
        if "maximum size" in str(exc.detail):
            return error_response(413, exc.detail, "payload_too_large")
        return error_response(400, exc.detail, "malformed_form")
    code = _STARLETTE_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, exc.detail, code, dict(exc.headers or {}))


async def _handle_unstorable_text(_: Request, exc: Exception) -> JSONResponse:
    # Only client text can carry characters PostgreSQL refuses (NUL above all): our own never does.
    return error_response(
        400, "The request contains characters that cannot be stored (such as NUL)",
        "invalid_characters",
    )  # fmt: skip


async def _handle_lost_database(_: Request, exc: Exception) -> JSONResponse:
    # The connection died or timed out in the middle of a statement: the transaction is gone
    # with it (nothing was half-written), and trying again shortly is the right advice.
    log.warning("database_lost_mid_request", error_type=type(exc).__name__)
    return error_response(
        503, "The database is temporarily unavailable", "database_unavailable",
        {"Retry-After": "1"},
    )  # fmt: skip


async def _handle_transaction_conflict(_: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL chose this transaction as the victim of a deadlock or a serialization
    # conflict with a concurrent request: it was rolled back whole, so the same request can
    # simply be sent again. Code paths that can meet each other lock in one order; this is the
    # net under the ones nobody has thought of yet.
    log.warning("transaction_conflict", error_type=type(exc).__name__)
    return error_response(
        503, "A concurrent request changed the same data; nothing was saved, try again",
        "transaction_conflict", {"Retry-After": "1"},
    )  # fmt: skip


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return error_response(500, "Internal server error", "internal_error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _handle_app_error)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    app.add_exception_handler(asyncpg.CharacterNotInRepertoireError, _handle_unstorable_text)
    app.add_exception_handler(asyncpg.UntranslatableCharacterError, _handle_unstorable_text)
    app.add_exception_handler(asyncpg.DeadlockDetectedError, _handle_transaction_conflict)
    app.add_exception_handler(asyncpg.SerializationError, _handle_transaction_conflict)
    for lost in (
        OSError,
        TimeoutError,
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.QueryCanceledError,
        asyncpg.AdminShutdownError,
        asyncpg.CannotConnectNowError,
        # A connection its server ended while it sat idle, noticed at the next statement as
        # another operation in progress (seen when a backend was terminated mid-request).
        asyncpg.InternalClientError,
    ):
        app.add_exception_handler(lost, _handle_lost_database)
    app.add_exception_handler(Exception, _handle_unexpected)
