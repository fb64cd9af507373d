"""A light, steady, mixed load through nginx, recording every request.

`Load` offers requests at a fixed rate (open loop: a slow answer never slows the offer down, as
real visitors do not wait for each other) from many loopback addresses, so that neither nginx's
nor the app's per-address budgets see one client. Each request is recorded as a `Sample`: when it
started, its kind, its status (0 when no answer came), the error code of its body, and its
latency. The writes it makes are remembered, so that a scenario can check afterwards that every
write answered 2xx is in the database.

Kinds: reads `search`, `company` (a profile, read from the replica), `catalog` (communes and
products), `logo` (an image under /images); writes `login` (a session row), `edit` (an admin's
edit of a company's address, audit-logged under its request id) and `upload` (an owner's new
logo: the image service, then S3, then the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
from PIL import Image

from proveo.core.security import decode_session_token
from proveo.demo.seed import DEMO_ADMIN_EMAIL, DEMO_USER_PASSWORD
from proveo.demo.seed import demo_user_email as owner_email
from tests.faults.topology import (
    EDITED_OWNERS,
    LOGIN_OWNERS,
    UPLOAD_PROBE_OWNER,
    UPLOADING_OWNERS,
    Topology,
    no_cookies,
)

READS = ("search", "company", "catalog", "logo")
# Requests per second offered, and the share of each kind.
RATE = 15.0
MIX = {"search": 4, "company": 4, "catalog": 2, "logo": 3, "login": 1, "edit": 1}
UPLOAD_MIX = {**MIX, "upload": 1}
# Long enough that a hung request shows as one (the bar is 10 s), never cut short by us.
REQUEST_TIMEOUT = 30.0
MAX_IN_FLIGHT = 200
SEARCH_WORDS = (
    "constructora", "contadores", "software", "transporte", "limpieza", "seguridad",
    "abogados", "diseño", "climatización", "electricidad", "imprenta", "eventos",
)  # fmt: skip

Send = Callable[..., Awaitable[httpx.Response]]

_address_numbers = itertools.count(1)


def fresh_address() -> str:
    """A loopback address no request of this process came from (127.0.1.1 and on): its budgets,
    in nginx and in the app, start full."""
    number = next(_address_numbers)
    assert number < 254 * 200, "out of fresh loopback addresses"
    return f"127.0.{1 + number // 254}.{1 + number % 254}"


def client_for(base_url: str, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(
        base_url=base_url, transport=transport, timeout=REQUEST_TIMEOUT, cookies=no_cookies()
    )


def logo_bytes(seed: int) -> bytes:
    """A small PNG of coloured bars, different for every seed (a logo the NSFW model passes)."""
    rng = random.Random(seed)
    image = Image.new("RGB", (320, 240), (20, 60, 160))
    for x in range(0, 320, 40):
        colour = (rng.randrange(0, 80), rng.randrange(80, 200), rng.randrange(120, 255))
        image.paste(colour, (x, rng.randrange(0, 120), x + 30, 240))
    output = io.BytesIO()
    image.save(output, "PNG")
    return output.getvalue()


@dataclass(frozen=True)
class Sample:
    kind: str
    started: float  # time.monotonic()
    latency: float
    status: int  # 0: no answer (connection refused or reset, timeout)
    code: str | None  # the error body's `code`, or the transport error's class
    probe: bool = False

    @property
    def ended(self) -> float:
        return self.started + self.latency

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def server_error(self) -> bool:
        return self.status >= 500


@dataclass
class Writes:
    """What the database must hold afterwards: every write that was answered 2xx."""

    sessions: set[UUID] = field(default_factory=set)
    edits: set[str] = field(default_factory=set)  # request ids of admin edits
    # Each uploading account's latest logo answered 2xx, and whether a later attempt of the
    # account got no answer at all (then it may have been saved too, or not).
    last_upload: dict[str, str] = field(default_factory=dict)
    unanswered_after_upload: set[str] = field(default_factory=set)


class Load:
    """Offer `rate` requests a second of the kinds in `mix` until the block ends."""

    def __init__(
        self, topology: Topology, *, rate: float = RATE, mix: dict[str, int] | None = None
    ) -> None:
        self.topology = topology
        self.rate = rate
        self.mix = dict(mix or MIX)
        self.samples: list[Sample] = []
        self.writes = Writes()
        self._rng = random.Random(1)
        self._run = uuid.uuid4().hex[:8]
        self._sequence = itertools.count(1)
        self._clients = [client_for(topology.url, f"127.0.0.{n}") for n in range(20, 60)]
        self._idle_uploaders = [owner_email(n) for n in UPLOADING_OWNERS]
        self._in_flight: set[asyncio.Task[Sample]] = set()
        self._driver: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        companies = topology.companies
        uploaded = {owner_email(n) for n in (*UPLOADING_OWNERS, UPLOAD_PROBE_OWNER)}
        self._profiles = [company.uuid for company in companies]
        self._logos = [
            name
            for company in companies
            if company.owner not in uploaded and company.image_key
            for name in (f"{company.image_key}.webp", f"{company.image_key}_thumb.webp")
        ]
        self._edited = [company.uuid for company in topology.companies_of(EDITED_OWNERS)]
        self._logins = [owner_email(n) for n in LOGIN_OWNERS]

    async def __aenter__(self) -> Load:
        self._driver = asyncio.create_task(self._offer())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._driver is not None:
            await self._driver
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        for client in self._clients:
            await client.aclose()

    # --- offering -----------------------------------------------------------------------------

    async def _offer(self) -> None:
        kinds = list(self.mix)
        weights = [self.mix[kind] for kind in kinds]
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while not self._stopping.is_set():
            kind = self._rng.choices(kinds, weights)[0]
            if len(self._in_flight) < MAX_IN_FLIGHT and (kind != "upload" or self._idle_uploaders):
                if kind == "upload":  # an account is taken now, before another task could
                    email = self._rng.choice(self._idle_uploaders)
                    task = asyncio.create_task(self.upload_as(email))
                else:
                    task = asyncio.create_task(self.request(kind))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
            next_at += interval
            now = time.monotonic()
            if next_at < now - 1.0:  # a stalled loop does not make up for lost time in a burst
                next_at = now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), max(0.0, next_at - now))

    def _client(self) -> httpx.AsyncClient:
        return self._rng.choice(self._clients)

    # --- one request ---------------------------------------------------------------------------

    async def request(self, kind: str, *, probe: bool = False) -> Sample:
        """One request of `kind`, recorded; uploads here are the probe owner's."""
        if kind == "upload":
            return await self._upload(owner_email(UPLOAD_PROBE_OWNER), probe=probe)
        client = self._client()
        if kind == "search":
            word = self._rng.choice(SEARCH_WORDS)
            return await self._send(kind, probe, client.get, "/api/v1/companies/search",
                                    params={"q": word, "lang": "es"})  # fmt: skip
        if kind == "company":
            company = self._rng.choice(self._profiles)
            return await self._send(kind, probe, client.get, f"/api/v1/companies/{company}")
        if kind == "catalog":
            path = self._rng.choice(("/api/v1/communes/", "/api/v1/products/"))
            return await self._send(kind, probe, client.get, path)
        if kind == "logo":
            name = self._rng.choice(self._logos)
            return await self._send(kind, probe, client.get, f"/images/{name}")
        if kind == "login":
            return await self._login(client, probe)
        if kind == "edit":
            return await self._edit(client, probe)
        raise ValueError(f"unknown kind {kind!r}")

    async def view_every_logo(self) -> None:
        """Each logo the load reads, fetched once through nginx (not sampled): visitors have seen
        them before the fault, so nginx holds a copy of each."""
        async with client_for(self.topology.url, fresh_address()) as client:
            for name in self._logos:
                response = await client.get(f"/images/{name}")
                assert response.status_code == 200, (name, response.status_code)

    async def request_from(self, address: str) -> Sample:
        """A catalogue read from `address`, through a client of its own (a probe)."""
        async with client_for(self.topology.url, address) as client:
            return await self._send("catalog", True, client.get, "/api/v1/communes/")

    def upload_as(self, email: str) -> Coroutine[Any, Any, Sample]:
        """An upload by `email`, an idle uploading owner: taken at once, idle again after."""
        self._idle_uploaders.remove(email)
        return self._upload_then_release(email)

    async def _upload_then_release(self, email: str) -> Sample:
        try:
            return await self._upload(email, probe=False)
        finally:
            self._idle_uploaders.append(email)

    async def _send(self, kind: str, probe: bool, method: Send, url: str, **kwargs: Any) -> Sample:
        sample, _ = await self._timed(kind, probe, method, url, **kwargs)
        return sample

    async def _timed(
        self, kind: str, probe: bool, method: Send, url: str, **kwargs: Any
    ) -> tuple[Sample, httpx.Response | None]:
        started = time.monotonic()
        response: httpx.Response | None = None
        try:
            response = await method(url, **kwargs)
        except httpx.HTTPError as exc:
            status, code = 0, type(exc).__name__
        else:
            status, code = response.status_code, _error_code(response)
        sample = Sample(kind, started, time.monotonic() - started, status, code, probe)
        self.samples.append(sample)
        return sample, response

    async def _login(self, client: httpx.AsyncClient, probe: bool) -> Sample:
        email = self._rng.choice(self._logins)
        sample, response = await self._timed(
            "login", probe, client.post, "/api/v1/users/login",
            json={"email": email, "password": DEMO_USER_PASSWORD},
        )  # fmt: skip
        if sample.ok and response is not None:
            claims = decode_session_token(
                self.topology.secret_key, response.cookies["access_token"]
            )
            assert claims is not None
            self.writes.sessions.add(claims.session_id)
        return sample

    async def _edit(self, client: httpx.AsyncClient, probe: bool) -> Sample:
        number = next(self._sequence)
        request_id = f"faults-edit-{self._run}-{number}"
        company = self._rng.choice(self._edited)
        admin = self.topology.sessions[DEMO_ADMIN_EMAIL]
        sample, _ = await self._timed(
            "edit", probe, client.patch, f"/api/v1/companies/admin/companies/{company}",
            # A new value each time: an edit that changes nothing writes no audit row.
            files={"address": (None, f"Calle de las Fallas {self._run}-{number}")},
            headers={**admin.headers, "X-Request-ID": request_id},
        )  # fmt: skip
        if sample.ok:
            self.writes.edits.add(request_id)
        return sample

    async def _upload(self, email: str, *, probe: bool) -> Sample:
        number = next(self._sequence)
        session = self.topology.sessions[email]
        sample, response = await self._timed(
            "upload", probe, self._client().patch, "/api/v1/companies/user/my-company",
            files={"image": (f"logo-{number}.png", logo_bytes(number), "image/png")},
            headers=session.headers,
        )  # fmt: skip
        if sample.ok and response is not None:
            image_url = response.json()["image_url"]
            self.writes.last_upload[email] = image_url.rsplit("/", 1)[1].removesuffix(".webp")
            self.writes.unanswered_after_upload.discard(email)
        elif sample.status == 0:
            self.writes.unanswered_after_upload.add(email)
        return sample

    # --- reading the record --------------------------------------------------------------------

    def between(self, start: float, end: float | None = None) -> list[Sample]:
        """The samples that started in [start, end)."""
        return [s for s in self.samples if s.started >= start and (end is None or s.started < end)]

    async def wait_for_samples(self, count: int, since: float, within: float = 30.0) -> None:
        """Until `count` requests started after `since` have been answered (or not)."""
        deadline = time.monotonic() + within
        while len([s for s in self.samples if s.started >= since]) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"fewer than {count} requests answered in {within} s")
            await asyncio.sleep(0.05)

    async def probe_until_ok(self, kind: str, *, within: float, interval: float = 0.2) -> Sample:
        """Send `kind` one after the other until one is answered 2xx; that one is returned."""
        deadline = time.monotonic() + within
        while True:
            sample = await self.request(kind, probe=True)
            if sample.ok:
                return sample
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {kind} answered 2xx within {within} s: last {sample}")
            await asyncio.sleep(interval)


def _error_code(response: httpx.Response) -> str | None:
    if response.is_success:
        return None
    with contextlib.suppress(ValueError, AttributeError):
        code = response.json().get("code")
        return str(code) if code is not None else None
    return None
