"""structlog configuration: JSON lines, a correlation id bound to every line of a request."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import structlog

_SECRET_KEYS = frozenset({"password", "secret", "token", "authorization", "cookie", "csrf_token"})


# Which of `proveo serve`'s worker processes this is (PROVEO_WORKERS above 1), else None.
_worker: int | None = None


def set_worker(index: int) -> None:
    """Every line this process writes from now on names its worker."""
    global _worker
    _worker = index


def _add_worker(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    if _worker is not None:
        event.setdefault("worker", _worker)
    return event


def _redact_secrets(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in list(event):
        if any(secret in key.lower() for secret in _SECRET_KEYS):
            event[key] = "[redacted]"
    return event


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time of the record, not at configuration."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def configure_logging(log_format: str = "json", level: str = "INFO") -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_worker,
        _redact_secrets,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = _CurrentStderrHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    global _access_log
    _access_log = AccessLog(handler, json_lines=log_format == "json")
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)


ACCESS_LOGGER = "proveo.access"


class AccessLog:
    """The one line per request, rendered in one step.

    Through structlog's processor chain and the logging module it cost about a fifth of a
    trivial request. This writes the same fields (the `request` event of `proveo.access`, with
    the request id, level and UTC timestamp) in the same format as every other line, through the
    same handler's stream and lock, and honours the level set for `proveo.access`. None of its
    fields is a secret; the caller redacts secrets from the path.
    """

    def __init__(self, handler: logging.StreamHandler[Any], *, json_lines: bool) -> None:
        self._handler = handler
        self._json_lines = json_lines
        self._logger = logging.getLogger(ACCESS_LOGGER)

    def write(
        self, *, method: str, path: str, status: int, duration_ms: float, request_id: str
    ) -> None:
        if not self._logger.isEnabledFor(logging.INFO):
            return
        timestamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        if self._json_lines:
            fields: dict[str, object] = {
                "method": method, "path": path, "status": status,
                "duration_ms": duration_ms, "event": "request", "request_id": request_id,
                "level": "info", "logger": ACCESS_LOGGER, "timestamp": timestamp,
            }  # fmt: skip
            if _worker is not None:
                fields["worker"] = _worker
            line = json.dumps(fields, ensure_ascii=False)
        else:
            worker = "" if _worker is None else f" worker={_worker}"
            line = (
                f"{timestamp} [info     ] request                        [{ACCESS_LOGGER}] "
                f"duration_ms={duration_ms} method={method} path={path} "
                f"request_id={request_id} status={status}{worker}"
            )
        self._handler.acquire()
        try:
            stream = self._handler.stream
            stream.write(line + "\n")
            stream.flush()
        finally:
            self._handler.release()


# JSON lines on stderr, as configure_logging's defaults, until it runs.
_access_log = AccessLog(_CurrentStderrHandler(), json_lines=True)


def access_log() -> AccessLog:
    """The access log of the latest `configure_logging`."""
    return _access_log
