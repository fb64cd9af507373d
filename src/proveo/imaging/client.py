"""How the API reaches the image pipeline: in process, or the image service over HTTP."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx
import structlog

from proveo.config import ImageServiceSettings, Settings
from proveo.core.errors import AppError
from proveo.imaging.errors import (
    ImagesBusy,
    ImageServiceUnavailable,
    ImageTooComplex,
    ImageTooLarge,
    UnsupportedImage,
)
from proveo.imaging.pool import Pipeline
from proveo.imaging.processing import MAX_BYTES, TOO_MANY_BYTES
from proveo.imaging.schemas import WIRE_MEDIA_TYPE, AnalysedImage, from_wire

log = structlog.get_logger(__name__)

ANALYSE_PATH = "/v1/analyse"
# Refusing to connect is immediate; an address that does not answer at all fails in this time.
CONNECT_TIMEOUT = 1.0
# The service's refusals that are answers about the image (or a busy but working service),
# passed through as they are: none of them counts against the circuit breaker.
_IMAGE_ERRORS: dict[tuple[int, str], type[AppError]] = {
    (error.status_code, error.code): error
    for error in (ImageTooLarge, UnsupportedImage, ImageTooComplex, ImagesBusy)
}


class ImageAnalyser(Protocol):
    async def analyse(self, data: bytes, *, request_id: str | None = None) -> AnalysedImage:
        """Validate, re-encode and score. Raises ImageTooLarge, UnsupportedImage or
        ImageServiceUnavailable."""
        ...

    async def close(self) -> None: ...


class InProcessImageAnalyser:
    """The pipeline in worker processes of this process's own (see `imaging/pool.py`)."""

    def __init__(self, workers: int = 0, *, processes: int = 1, **budget: Any) -> None:
        self.pipeline = Pipeline(workers, processes=processes, **budget)

    async def analyse(self, data: bytes, *, request_id: str | None = None) -> AnalysedImage:
        return await self.pipeline.analyse(data)

    async def close(self) -> None:
        await self.pipeline.close()


class CircuitBreaker:
    """Closed while the service answers. After `failures_to_open` failures in a row it opens
    for `open_seconds`: calls fail at once instead of each waiting for a dead service. Then one
    trial call goes through (half-open); its outcome closes or reopens the circuit."""

    def __init__(
        self,
        *,
        failures_to_open: int,
        open_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures_to_open = failures_to_open
        self.open_seconds = open_seconds
        self._clock = clock
        self._failures = 0
        self._open_until = 0.0
        self._trial_in_flight = False

    @property
    def is_open(self) -> bool:
        return self._failures >= self.failures_to_open

    def retry_after(self) -> float:
        """Seconds until a call may go through (0: now)."""
        if not self.is_open:
            return 0.0
        if self._trial_in_flight:
            return self.open_seconds
        return max(0.0, self._open_until - self._clock())

    def allow(self) -> bool:
        if not self.is_open:
            return True
        if self._trial_in_flight or self._clock() < self._open_until:
            return False
        self._trial_in_flight = True
        return True

    def succeeded(self) -> None:
        if self.is_open:
            log.info("image_service_circuit_closed")
        self._failures = 0
        self._trial_in_flight = False

    def failed(self) -> None:
        self._failures += 1
        self._trial_in_flight = False
        if self.is_open:
            if self._failures == self.failures_to_open:
                log.warning("image_service_circuit_opened", open_seconds=self.open_seconds)
            self._open_until = self._clock() + self.open_seconds

    def abandoned(self) -> None:
        """The call ended without an outcome (the caller went away): free the trial slot."""
        self._trial_in_flight = False


class HttpImageAnalyser:
    """The image service (`proveo image-service`) over HTTP, behind a circuit breaker."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        failures_to_open: int = 3,
        open_seconds: float = 5.0,
    ) -> None:
        self.breaker = CircuitBreaker(failures_to_open=failures_to_open, open_seconds=open_seconds)
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout)),
        )

    async def analyse(self, data: bytes, *, request_id: str | None = None) -> AnalysedImage:
        if len(data) > MAX_BYTES:
            # The service would refuse it: no need to send 5 MB to hear so.
            raise ImageTooLarge(TOO_MANY_BYTES)
        if not self.breaker.allow():
            raise _unavailable(self.breaker.retry_after())
        try:
            result = await self._call(data, request_id or _current_request_id())
        except ImageServiceUnavailable:
            self.breaker.failed()
            raise
        except AppError:  # an answer about the image, or a busy service: it is alive
            self.breaker.succeeded()
            raise
        except BaseException:
            self.breaker.abandoned()
            raise
        self.breaker.succeeded()
        return result

    async def _call(self, data: bytes, request_id: str | None) -> AnalysedImage:
        headers = {"Content-Type": WIRE_MEDIA_TYPE}
        if request_id:
            headers["X-Request-ID"] = request_id
        try:
            response = await self._client.post(ANALYSE_PATH, content=data, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("image_service_unreachable", error_type=type(exc).__name__)
            raise _unavailable() from exc
        if response.status_code == 200:
            try:
                return from_wire(response.content, response.headers)
            except ValueError as exc:
                log.error("image_service_bad_answer", problem=str(exc))
                raise _unavailable() from exc
        error = _image_error(response)
        if error is not None:
            raise error
        log.warning("image_service_failed", status=response.status_code)
        raise _unavailable()

    async def close(self) -> None:
        await self._client.aclose()


def _image_error(response: httpx.Response) -> AppError | None:
    try:
        body = response.json()
        error_class = _IMAGE_ERRORS[(response.status_code, body["code"])]
    except (ValueError, KeyError, TypeError):
        return None
    retry_after = response.headers.get("retry-after", "")
    headers = {"Retry-After": retry_after} if retry_after.isdigit() else None
    detail = body.get("detail")
    return error_class(detail if isinstance(detail, str) else None, headers=headers)


def _unavailable(retry_after: float = 0.0) -> ImageServiceUnavailable:
    return ImageServiceUnavailable(headers={"Retry-After": str(max(1, math.ceil(retry_after)))})


def _current_request_id() -> str | None:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    return request_id if isinstance(request_id, str) else None


def build_image_analyser(settings: Settings) -> ImageAnalyser:
    if settings.image_service_url:
        return HttpImageAnalyser(
            settings.image_service_url,
            timeout=settings.image_service_timeout,
            failures_to_open=settings.image_service_failures_to_open,
            open_seconds=settings.image_service_open_seconds,
        )
    return InProcessImageAnalyser(
        settings.image_workers, processes=settings.workers, **pipeline_budget(settings)
    )


def pipeline_budget(settings: ImageServiceSettings) -> dict[str, Any]:
    """The Pipeline's per-image budget and queue, from the settings."""
    return {
        "cpu_seconds": settings.image_cpu_seconds,
        "wall_seconds": settings.image_wall_seconds,
        "queue_limit": settings.image_queue or None,
    }
